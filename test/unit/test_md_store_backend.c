/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for the store's dispatch (md_store.c over md_store_backend.h)
 * without the file backend: a small in-memory backend that counts its
 * calls takes JSON and text values, lists, moves and locks; the public
 * md_store_* functions and typed conveniences must reach it, and the
 * local-only operations must say APR_ENOTIMPL.
 */
#include <string.h>
#include <stdlib.h>
#include <apr_fnmatch.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_reg.h"
#include "md_store.h"
#include "md_store_backend.h"
#include "md_store_fs.h"
#include "md_unit.h"

/* --- an in-memory backend ----------------------------------------------------------- */

typedef struct {
    md_store_vtype_t vtype;
    const char *text;           /* JSON serialized, text as it is */
    apr_time_t mtime;
} mem_value_t;

typedef struct {
    apr_pool_t *p;
    apr_hash_t *values;         /* "<group>/<name>/<aspect>" -> mem_value_t */
    int loads, saves, lists;    /* calls, to see the dispatch */
    int global_locked, name_locks;
} mem_store_t;

#define MEM(store) ((mem_store_t *)(store)->data)

static const char *mem_key(md_store_group_t group, const char *name, const char *aspect,
                           apr_pool_t *p)
{
    return apr_psprintf(p, "%d/%s/%s", (int)group, name ? name : "", aspect ? aspect : "");
}

/* Splits a key of group into name and aspect; 0 for another group. */
static int mem_split(const char *key, md_store_group_t group, const char **pname,
                     const char **paspect, apr_pool_t *p)
{
    const char *prefix = apr_psprintf(p, "%d/", (int)group);
    const char *rest, *slash;

    if (strncmp(key, prefix, strlen(prefix))) return 0;
    rest = key + strlen(prefix);
    slash = strchr(rest, '/');
    if (!slash) return 0;
    *pname = apr_pstrndup(p, rest, (apr_size_t)(slash - rest));
    *paspect = slash + 1;
    return 1;
}

static apr_status_t mem_load(md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, md_store_vtype_t vtype, void **pvalue,
                             apr_pool_t *p)
{
    mem_value_t *v = apr_hash_get(MEM(store)->values, mem_key(group, name, aspect, p),
                                  APR_HASH_KEY_STRING);
    md_json_t *json;
    apr_status_t rv = APR_SUCCESS;

    ++MEM(store)->loads;
    if (pvalue) {
        *pvalue = NULL;
    }
    if (!v) return APR_ENOENT;
    if (v->vtype != vtype) return APR_EINVAL;
    if (MD_SV_JSON == vtype) {
        rv = md_json_readd(&json, p, v->text, strlen(v->text));
        if (APR_SUCCESS == rv && pvalue) {
            *pvalue = json;
        }
    }
    else if (pvalue) {
        *pvalue = apr_pstrdup(p, v->text);
    }
    return rv;
}

static apr_status_t mem_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                             const char *name, const char *aspect,
                             md_store_vtype_t vtype, void *value, int create)
{
    mem_store_t *mem = MEM(store);
    const char *key = mem_key(group, name, aspect, mem->p);
    mem_value_t *v;

    ++mem->saves;
    (void)p;
    if (MD_SV_JSON != vtype && MD_SV_TEXT != vtype) return APR_ENOTIMPL;
    if (create && apr_hash_get(mem->values, key, APR_HASH_KEY_STRING)) return APR_EEXIST;
    v = apr_pcalloc(mem->p, sizeof(*v));
    v->vtype = vtype;
    v->text = (MD_SV_JSON == vtype) ? md_json_writep(value, mem->p, MD_JSON_FMT_COMPACT)
                                    : apr_pstrdup(mem->p, value);
    v->mtime = apr_time_now();
    apr_hash_set(mem->values, key, APR_HASH_KEY_STRING, v);
    return APR_SUCCESS;
}

static apr_status_t mem_remove(md_store_t *store, md_store_group_t group, const char *name,
                               const char *aspect, apr_pool_t *p, int force)
{
    const char *key = mem_key(group, name, aspect, p);

    if (!apr_hash_get(MEM(store)->values, key, APR_HASH_KEY_STRING)) {
        return force ? APR_SUCCESS : APR_ENOENT;
    }
    apr_hash_set(MEM(store)->values, key, APR_HASH_KEY_STRING, NULL);
    return APR_SUCCESS;
}

static int mem_exists(md_store_t *store, md_store_group_t group, const char *name,
                      const char *aspect, apr_pool_t *p)
{
    return NULL != apr_hash_get(MEM(store)->values, mem_key(group, name, aspect, p),
                                APR_HASH_KEY_STRING);
}

static apr_time_t mem_get_modified(md_store_t *store, md_store_group_t group,
                                   const char *name, const char *aspect, apr_pool_t *p)
{
    mem_value_t *v = apr_hash_get(MEM(store)->values, mem_key(group, name, aspect, p),
                                  APR_HASH_KEY_STRING);

    return v ? v->mtime : 0;
}

/* Moves the values of from/name to to/to_name (to_name NULL: drops them).
 * The keys are collected first: the hash is not changed while iterated. */
static int mem_relocate(mem_store_t *mem, md_store_group_t from, const char *name,
                        md_store_group_t to, const char *to_name, apr_pool_t *p)
{
    apr_array_header_t *keys = apr_array_make(p, 4, sizeof(const char *));
    apr_hash_index_t *hi;
    const char *key, *n, *aspect;
    void *value;
    int i;

    for (hi = apr_hash_first(p, mem->values); hi; hi = apr_hash_next(hi)) {
        key = apr_hash_this_key(hi);
        if (mem_split(key, from, &n, &aspect, p) && !strcmp(n, name)) {
            APR_ARRAY_PUSH(keys, const char *) = key;
        }
    }
    for (i = 0; i < keys->nelts; ++i) {
        key = APR_ARRAY_IDX(keys, i, const char *);
        value = apr_hash_get(mem->values, key, APR_HASH_KEY_STRING);
        mem_split(key, from, &n, &aspect, p);
        apr_hash_set(mem->values, key, APR_HASH_KEY_STRING, NULL);
        if (to_name) {
            apr_hash_set(mem->values, mem_key(to, to_name, aspect, mem->p),
                         APR_HASH_KEY_STRING, value);
        }
    }
    return keys->nelts;
}

static apr_status_t mem_purge(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                              const char *name)
{
    mem_relocate(MEM(store), group, name, group, NULL, p);
    return APR_SUCCESS;
}

static apr_status_t mem_move(md_store_t *store, apr_pool_t *p, md_store_group_t from,
                             md_store_group_t to, const char *name, int archive)
{
    (void)archive;
    mem_relocate(MEM(store), to, name, to, NULL, p);
    return mem_relocate(MEM(store), from, name, to, name, p) ? APR_SUCCESS : APR_ENOENT;
}

static apr_status_t mem_rename(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                               const char *from, const char *to)
{
    return mem_relocate(MEM(store), group, from, group, to, p) ? APR_SUCCESS
                                                               : APR_ENOENT;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of group (name NULL) or the aspects of group/name, sorted,
 * each once, given to cb. */
static apr_status_t mem_list(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                             const char *name, const char *pattern,
                             md_store_names_cb *cb, void *baton)
{
    apr_array_header_t *found = apr_array_make(p, 4, sizeof(const char *));
    apr_hash_index_t *hi;
    const char *n, *aspect, *item;
    int i;

    ++MEM(store)->lists;
    for (hi = apr_hash_first(p, MEM(store)->values); hi; hi = apr_hash_next(hi)) {
        if (!mem_split(apr_hash_this_key(hi), group, &n, &aspect, p)) {
            continue;
        }
        if (name && strcmp(name, n)) {
            continue;
        }
        item = name ? aspect : n;
        if (pattern && APR_SUCCESS != apr_fnmatch(pattern, item, 0)) {
            continue;
        }
        if (md_array_str_index(found, item, 0, 1) < 0) {
            APR_ARRAY_PUSH(found, const char *) = item;
        }
    }
    qsort(found->elts, (size_t)found->nelts, sizeof(const char *), cmp_str);
    for (i = 0; i < found->nelts; ++i) {
        if (!cb(baton, APR_ARRAY_IDX(found, i, const char *), p)) {
            break;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t mem_list_names(md_store_t *store, apr_pool_t *p,
                                   md_store_group_t group, const char *pattern,
                                   md_store_names_cb *cb, void *baton)
{
    return mem_list(store, p, group, NULL, pattern, cb, baton);
}

static apr_status_t mem_list_aspects(md_store_t *store, apr_pool_t *p,
                                     md_store_group_t group, const char *name,
                                     const char *pattern, md_store_names_cb *cb,
                                     void *baton)
{
    return mem_list(store, p, group, name, pattern, cb, baton);
}

static apr_status_t mem_lock_global(md_store_t *store, apr_pool_t *p, apr_time_t max_wait)
{
    (void)p; (void)max_wait;
    if (MEM(store)->global_locked) return APR_EEXIST;
    MEM(store)->global_locked = 1;
    return APR_SUCCESS;
}

static void mem_unlock_global(md_store_t *store, apr_pool_t *p)
{
    (void)p;
    MEM(store)->global_locked = 0;
}

static apr_status_t mem_lock_name(void **plock, md_store_t *store, md_store_group_t group,
                                  const char *name, apr_pool_t *p)
{
    (void)group;
    ++MEM(store)->name_locks;
    *plock = apr_pstrdup(p, name);
    return APR_SUCCESS;
}

static void mem_unlock_name(md_store_t *store, void *lock)
{
    (void)lock;
    --MEM(store)->name_locks;
}

/* Only what a backend must have: every optional operation is left out. */
static const md_store_ops_t mem_ops = {
    "mem",
    mem_load, mem_save, mem_remove, mem_exists, mem_get_modified,
    mem_purge, mem_move, mem_rename,
    mem_list_names, mem_list_aspects,
    mem_lock_global, mem_unlock_global, mem_lock_name, mem_unlock_name,
    NULL, NULL, NULL,
    NULL, NULL, NULL,
};

static md_store_t *mem_store_make(void)
{
    mem_store_t *mem = apr_pcalloc(md_test_pool, sizeof(*mem));

    mem->p = md_test_pool;
    mem->values = apr_hash_make(md_test_pool);
    return md_store_make(md_test_pool, &mem_ops, mem);
}

/* --- tests ------------------------------------------------------------------------ */

static int collect_cb(void *baton, const char *name, const char *aspect,
                      md_store_vtype_t vtype, void *value, apr_pool_t *ptemp)
{
    apr_array_header_t *seen = baton;

    ck_assert_int_eq(MD_SV_JSON, vtype);
    APR_ARRAY_PUSH(seen, const char *) = apr_psprintf(
        seen->pool, "%s/%s=%s", name, aspect,
        md_json_writep(value, ptemp, MD_JSON_FMT_COMPACT));
    return 1;
}

static int count_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    (void)name; (void)ptemp;
    ++*(int *)baton;
    return 1;
}

START_TEST(test_dispatch_values)
{
    md_store_t *store = mem_store_make();
    apr_uint32_t changes = 0, count;
    md_json_t *json = md_json_create(md_test_pool), *loaded;
    apr_array_header_t *domains = apr_array_make(md_test_pool, 1, sizeof(const char *));
    md_t *md, *md2;

    md_store_set_change_counter(store, &changes);
    md_json_sets("v1", json, "k", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_STAGING,
                                                     "a.org", "job.json", json, 0));
    ck_assert_int_eq(1, MEM(store)->saves);
    ck_assert_int_eq(APR_EEXIST, md_store_save_json(store, md_test_pool, MD_SG_STAGING,
                                                    "a.org", "job.json", json, 1));
    ck_assert_int_eq(APR_SUCCESS, md_store_load_json(store, MD_SG_STAGING, "a.org",
                                                     "job.json", &loaded, md_test_pool));
    ck_assert_int_eq(1, MEM(store)->loads);
    ck_assert_str_eq("v1", md_json_gets(loaded, "k", NULL));
    ck_assert(md_store_exists(store, MD_SG_STAGING, "a.org", "job.json", md_test_pool));
    ck_assert(md_store_get_modified(store, MD_SG_STAGING, "a.org", "job.json",
                                    md_test_pool) > 0);
    ck_assert_int_eq(APR_ENOENT, md_store_load_json(store, MD_SG_DOMAINS, "a.org",
                                                    "job.json", &loaded, md_test_pool));

    /* the typed conveniences of md_store.c run on it too */
    APR_ARRAY_PUSH(domains, const char *) = "b.org";
    md = md_create(md_test_pool, domains);
    ck_assert_int_eq(APR_SUCCESS, md_store_md_save(store, md_test_pool, MD_SG_STAGING,
                                                   md, 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_md_load(store, MD_SG_STAGING, "b.org", &md2,
                                                   md_test_pool));
    ck_assert_str_eq("b.org", md2->name);

    /* every change counts, whichever backend made it */
    ck_assert(md_store_get_change_count(store, &count));
    ck_assert_uint_eq(3, count);
    ck_assert_int_eq(APR_SUCCESS, md_store_move(store, md_test_pool, MD_SG_STAGING,
                                                MD_SG_DOMAINS, "b.org", 1));
    ck_assert(!md_store_exists(store, MD_SG_STAGING, "b.org", MD_FN_MD, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_md_load(store, MD_SG_DOMAINS, "b.org", &md2,
                                                   md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_rename(store, md_test_pool, MD_SG_DOMAINS,
                                                  "b.org", "c.org"));
    ck_assert_int_eq(APR_SUCCESS, md_store_md_remove(store, md_test_pool, MD_SG_DOMAINS,
                                                     "c.org", 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_purge(store, md_test_pool, MD_SG_STAGING,
                                                 "a.org"));
    ck_assert(!md_store_exists(store, MD_SG_STAGING, "a.org", "job.json", md_test_pool));
    /* removing what is old is md_store.c's, on lists, times and removals */
    md_store_save(store, md_test_pool, MD_SG_OCSP, "d.org", "old.txt", MD_SV_TEXT, "x", 0);
    md_store_save(store, md_test_pool, MD_SG_OCSP, "d.org", "old.json", MD_SV_TEXT, "x", 0);
    ck_assert_int_eq(APR_SUCCESS, md_store_remove_not_modified_since(
        store, md_test_pool, apr_time_now() + apr_time_from_sec(1), MD_SG_OCSP, "d.*",
        "*.txt"));
    ck_assert(!md_store_exists(store, MD_SG_OCSP, "d.org", "old.txt", md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_OCSP, "d.org", "old.json", md_test_pool));
    md_store_get_change_count(store, &count);
    ck_assert_uint_eq(10, count);
}
END_TEST

START_TEST(test_dispatch_iter_locks)
{
    md_store_t *store = mem_store_make();
    apr_array_header_t *seen = apr_array_make(md_test_pool, 4, sizeof(const char *));
    md_json_t *json = md_json_create(md_test_pool);
    md_store_lock_t *lock;
    int n = 0;

    md_json_setl(1, json, "n", NULL);
    md_store_save_json(store, md_test_pool, MD_SG_STAGING, "a.org", "job.json", json, 0);
    md_store_save_json(store, md_test_pool, MD_SG_STAGING, "a.org", "x.json", json, 0);
    md_store_save_json(store, md_test_pool, MD_SG_STAGING, "b.org", "job.json", json, 0);
    md_store_save(store, md_test_pool, MD_SG_STAGING, "b.org", "t.txt", MD_SV_TEXT,
                  "text", 0);
    md_store_save_json(store, md_test_pool, MD_SG_DOMAINS, "c.org", "job.json", json, 0);

    /* md_store_iter is md_store.c's, on the backend's two lists */
    ck_assert_int_eq(APR_SUCCESS, md_store_iter(collect_cb, seen, store, md_test_pool,
                                                MD_SG_STAGING, "*", "job.json",
                                                MD_SV_JSON));
    ck_assert_int_eq(2, seen->nelts);
    ck_assert_str_eq("a.org/job.json={\"n\":1}", APR_ARRAY_IDX(seen, 0, const char *));
    ck_assert_str_eq("b.org/job.json={\"n\":1}", APR_ARRAY_IDX(seen, 1, const char *));
    ck_assert_int_eq(APR_SUCCESS, md_store_iter_names(count_cb, &n, store, md_test_pool,
                                                      MD_SG_STAGING, NULL));
    ck_assert_int_eq(2, n);
    n = 0;
    ck_assert_int_eq(APR_SUCCESS, md_store_iter_aspects(count_cb, &n, store,
                                                        md_test_pool, MD_SG_STAGING,
                                                        "b.org", NULL));
    ck_assert_int_eq(2, n);

    ck_assert_int_eq(APR_SUCCESS, md_store_lock_global(store, md_test_pool, 0));
    ck_assert_int_eq(APR_EEXIST, md_store_lock_global(store, md_test_pool, 0));
    md_store_unlock_global(store, md_test_pool);
    ck_assert_int_eq(0, MEM(store)->global_locked);
    ck_assert_int_eq(APR_SUCCESS, md_store_lock_name(&lock, store, MD_SG_STAGING,
                                                     "a.org", md_test_pool));
    ck_assert_ptr_nonnull(lock);
    ck_assert_int_eq(1, MEM(store)->name_locks);
    md_store_unlock_name(lock);
    md_store_unlock_name(lock);
    ck_assert_int_eq(0, MEM(store)->name_locks);
}
END_TEST

START_TEST(test_local_only)
{
    md_store_t *store = mem_store_make();
    const char *fname = "x";
    const md_pubcert_t *pc;
    apr_array_header_t *domains = apr_array_make(md_test_pool, 1, sizeof(const char *));
    md_reg_t *reg;
    apr_file_t *f = NULL;
    long pid = 1;
    int running = 1;

    ck_assert_int_eq(APR_ENOTIMPL, md_store_get_fname(&fname, store, MD_SG_DOMAINS,
                                                      "a.org", "pubcert.pem",
                                                      md_test_pool));
    ck_assert_ptr_null(fname);
    ck_assert_ptr_null(md_store_get_dir(store, MD_SG_DOMAINS, "a.org", md_test_pool));
    ck_assert_ptr_null(md_store_base_dir(store));
    ck_assert_str_eq("mem:staging/a.org", md_store_location(store, MD_SG_STAGING, "a.org",
                                                            md_test_pool));
    ck_assert_str_eq("mem:accounts", md_store_location(store, MD_SG_ACCOUNTS, NULL,
                                                       md_test_pool));
    ck_assert_int_eq(APR_ENOTIMPL, md_store_server_mark(&f, store, md_test_pool));
    ck_assert_int_eq(APR_ENOTIMPL, md_store_server_running(&running, &pid, store,
                                                           md_test_pool));
    ck_assert_int_eq(0, running);
    ck_assert_int_eq(0, pid);
    /* durability and directories: nothing to do, nothing fails */
    md_store_defer_sync(store, 1);
    ck_assert_int_eq(APR_SUCCESS, md_store_sync(store));
    ck_assert_int_eq(APR_SUCCESS, md_store_sync_dir(store, MD_SG_DOMAINS, "a.org",
                                                    md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_DOMAINS, "a.org",
                                                    md_test_pool));
    ck_assert(!md_store_fs_is_readonly(store));
    md_store_fs_set_group_dir(store, MD_SG_CHALLENGES, "/nowhere");

    /* mod_ssl wants files: the registry says there are none, and why */
    ck_assert_int_eq(APR_SUCCESS, md_reg_create(&reg, md_test_pool, store));
    APR_ARRAY_PUSH(domains, const char *) = "a.org";
    ck_assert_int_eq(APR_ENOTIMPL, md_reg_get_pubcert(&pc, reg,
                                                      md_create(md_test_pool, domains),
                                                      0, md_test_pool));
    ck_assert_str_eq("the store keeps no certificate files", pc->error);
}
END_TEST

TCase *md_test_store_backend_tcase(void)
{
    TCase *tc = tcase_create("backend");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_dispatch_values);
    tcase_add_test(tc, test_dispatch_iter_locks);
    tcase_add_test(tc, test_local_only);
    return tc;
}
