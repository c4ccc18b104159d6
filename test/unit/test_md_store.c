/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_store.c over the file backend md_store_fs*.c:
 * md_store.json creation, reading and migration (fixture data/store_v1),
 * modes, atomic and exclusive saves, key encryption per group, archive
 * numbering on moves, purge, iteration, name checks and the global lock.
 */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <apr_strings.h>
#include <apr_file_info.h>

#include "md.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_util.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_unit.h"

/* --- helpers ---------------------------------------------------------------------- */

static md_store_t *open_store(const char *dir)
{
    md_store_t *store;

    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, md_test_pool, dir));
    ck_assert_ptr_nonnull(store);
    return store;
}

static const char *path_of(const char *dir, const char *rel)
{
    return md_util_path_join(md_test_pool, dir, rel, NULL);
}

static apr_fileperms_t mode_of(const char *path)
{
    struct stat st;

    ck_assert_msg(0 == lstat(path, &st), "missing: %s", path);
    return (apr_fileperms_t)(st.st_mode & 07777);
}

static const char *read_file(const char *path)
{
    const char *data;
    apr_size_t len;

    ck_assert_msg(APR_SUCCESS == md_util_fread_all(&data, &len, path, 1024 * 1024,
                                                   md_test_pool), "read %s", path);
    return data;
}

static void write_file(const char *path, const char *text)
{
    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(path, MD_FPROT_F_UONLY, md_test_pool, text));
}

/* The raw store key of the md_store.json in dir. */
static md_data_t store_key(const char *dir)
{
    md_json_t *json;
    md_data_t key;

    ck_assert_int_eq(APR_SUCCESS, md_json_readf(&json, md_test_pool,
                                                path_of(dir, MD_FN_STORE_JSON)));
    ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(
        &key, md_json_gets(json, MD_KEY_KEY, NULL), md_test_pool));
    return key;
}

static int copy_entry_cb(void *baton, apr_pool_t *p, const char *dir,
                         const char *name, apr_filetype_e ftype);

static void copy_tree(const char *from, const char *to)
{
    ck_assert_int_eq(APR_SUCCESS, md_util_mkdir(to, MD_FPROT_D_UALL_WREAD, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_util_dir_do(copy_entry_cb, (void *)to, md_test_pool,
                                                 from, NULL));
}

static int copy_entry_cb(void *baton, apr_pool_t *p, const char *dir,
                         const char *name, apr_filetype_e ftype)
{
    const char *to = md_util_path_join(p, baton, name, NULL);
    const char *from = md_util_path_join(p, dir, name, NULL);

    if (APR_DIR == ftype) {
        copy_tree(from, to);
    }
    else {
        ck_assert_int_eq(APR_SUCCESS, apr_file_copy(from, to, MD_FPROT_F_UONLY, p));
    }
    return 1;
}

/* Captures log lines of level ERR and more important. */
static char captured[8192];

static int capture_level_cb(void *baton, md_log_level_t level)
{
    (void)baton;
    return level <= MD_LOG_INFO;
}

static void capture_print_cb(const char *file, int line, md_log_level_t level,
                             apr_status_t rv, void *baton, apr_pool_t *p,
                             const char *fmt, va_list ap)
{
    char buf[2048];
    size_t len = strlen(captured);

    (void)file; (void)line; (void)level; (void)rv; (void)baton; (void)p;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    snprintf(captured + len, sizeof(captured) - len, "%s\n", buf);
}

static void capture_start(void)
{
    captured[0] = '\0';
    md_log_set(capture_level_cb, capture_print_cb, NULL);
}

static void capture_stop(void)
{
    md_log_set(NULL, NULL, NULL);
}

static md_pkey_t *test_key(void)
{
    md_pkey_spec_t spec;
    md_pkey_t *pkey;

    memset(&spec, 0, sizeof(spec));
    spec.type = MD_PKEY_TYPE_EC;
    spec.curve = "P-256";
    ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&pkey, md_test_pool, &spec));
    return pkey;
}

/* --- opening ------------------------------------------------------------------------ */

START_TEST(test_open_creates)
{
    const char *dir = path_of(md_test_mkdtemp(md_test_pool), "a/md");
    const char *fname = path_of(dir, MD_FN_STORE_JSON);
    md_json_t *json;
    md_data_t key;
    const char *text;

    capture_start();
    open_store(dir);
    capture_stop();
    ck_assert_ptr_nonnull(strstr(captured, "store directory does not exist, creating "));
    ck_assert_uint_eq(0755, mode_of(dir));
    ck_assert_uint_eq(0600, mode_of(fname));
    text = read_file(fname);
    ck_assert_ptr_nonnull(strstr(text, "\"store\": {\n    \"version\": 3.0\n  },\n"
                                       "  \"key\": \""));
    ck_assert_int_eq(APR_SUCCESS, md_json_readf(&json, md_test_pool, fname));
    ck_assert(md_json_is(MD_JSON_TYPE_REAL, json, MD_KEY_STORE, MD_KEY_VERSION, NULL));
    ck_assert_uint_eq(64, strlen(md_json_gets(json, MD_KEY_KEY, NULL)));
    ck_assert(md_util_is_base64url(md_json_gets(json, MD_KEY_KEY, NULL)));
    ck_assert(!strchr(md_json_gets(json, MD_KEY_KEY, NULL), '='));
    key = store_key(dir);
    ck_assert_uint_eq(MD_STORE_KEY_LEN, key.len);
}
END_TEST

START_TEST(test_reopen_same_key)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = path_of(dir, MD_FN_STORE_JSON);
    md_store_t *s1, *s2;
    md_pkey_t *pkey;
    const char *before;

    s1 = open_store(dir);
    before = read_file(fname);
    ck_assert_int_eq(APR_SUCCESS, md_store_save(s1, md_test_pool, MD_SG_STAGING, "x.org",
                                                MD_FN_PRIVKEY, MD_SV_PKEY, test_key(), 0));
    s2 = open_store(dir);
    ck_assert_str_eq(before, read_file(fname));
    ck_assert_int_eq(APR_SUCCESS, md_store_load(s2, MD_SG_STAGING, "x.org", MD_FN_PRIVKEY,
                                                MD_SV_PKEY, (void **)&pkey, md_test_pool));
    ck_assert(md_pkey_is_ec(pkey));
}
END_TEST

static const struct {
    const char *content;
    const char *log;
} bad_store_files[] = {
    { "{ \"store\": { \"version\": 3.0 }, ", "failed to load JSON file" },
    { "{ \"store\": { \"version\": 4.0 }, \"key\": "
      "\"LTHKeMIVsQn8fcipQ0MKO6GAWSnFipAxA0XEc2bkJUZx_vTa4M8tsOrvrNQtXwsz\" }",
      "version too new: 4.000000" },
    { "{ \"store\": { \"version\": 3.0 } }", "missing key: key" },
    { "{ \"store\": { \"version\": 3.0 }, \"key\": \"LTHKeMIVsQn8fcipQ0MKO6GAWSnF\" }",
      "key length unexpected: 21" },
};

START_TEST(test_open_corrupt)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = path_of(dir, MD_FN_STORE_JSON);
    md_store_t *store = NULL;

    write_file(fname, bad_store_files[_i].content);
    capture_start();
    ck_assert_int_eq(APR_EINVAL, md_store_fs_open(&store, md_test_pool, dir));
    capture_stop();
    ck_assert_ptr_null(store);
    ck_assert_str_eq(bad_store_files[_i].content, read_file(fname));
    ck_assert_msg(strstr(captured, bad_store_files[_i].log), "log: %s", captured);
    ck_assert_ptr_nonnull(strstr(captured, "The central store file md/md_store.json "
                                 "seems to exist, but its content are not readable"));
    ck_assert_ptr_nonnull(strstr(captured, "init fs store at "));
}
END_TEST

START_TEST(test_migrate_v1)
{
    const char *dir = path_of(md_test_mkdtemp(md_test_pool), "md");
    const char *dom = path_of(dir, "domains/v1.example.org");
    const char *arch = path_of(dir, "archive/v1.example.org.1");
    apr_array_header_t *chain, *cert, *ca;
    md_json_t *json;
    md_store_t *store;
    md_pkey_t *pkey;
    const char *keep;

    copy_tree(MD_TEST_DATA "/store_v1", dir);
    /* an existing privkey.pem is never overwritten by a legacy pkey.pem */
    keep = read_file(path_of(dir, "staging/v1.example.org/pkey.pem"));
    write_file(path_of(dir, "staging/v1.example.org/privkey.pem"), keep);
    write_file(path_of(dir, "staging/v1.example.org/pkey.pem"), "other");

    capture_start();
    store = open_store(dir);
    capture_stop();
    ck_assert_ptr_nonnull(strstr(captured, "migrated store"));
    ck_assert_int_eq(APR_SUCCESS, md_json_readf(&json, md_test_pool,
                                                path_of(dir, MD_FN_STORE_JSON)));
    ck_assert(!md_json_has_key(json, MD_KEY_VERSION, NULL));
    ck_assert(md_json_is(MD_JSON_TYPE_REAL, json, MD_KEY_STORE, MD_KEY_VERSION, NULL));
    ck_assert(3.0 == md_json_getn(json, MD_KEY_STORE, MD_KEY_VERSION, NULL));
    ck_assert_uint_eq(0600, mode_of(path_of(dir, MD_FN_STORE_JSON)));

    ck_assert(md_util_is_file(path_of(dom, "privkey.pem"), md_test_pool));
    ck_assert(!md_util_is_file(path_of(dom, "pkey.pem"), md_test_pool));
    ck_assert(md_util_is_file(path_of(arch, "privkey.pem"), md_test_pool));
    ck_assert(md_util_is_file(path_of(dir, "accounts/ACME-localhost-0000/privkey.pem"),
                              md_test_pool));
    ck_assert_str_eq(keep, read_file(path_of(dir, "staging/v1.example.org/privkey.pem")));
    ck_assert_str_eq("other", read_file(path_of(dir, "staging/v1.example.org/pkey.pem")));

    /* pubcert.pem = cert.pem + chain.pem, the legacy files stay */
    ck_assert_uint_eq(0600, mode_of(path_of(dom, "pubcert.pem")));
    ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&chain, md_test_pool,
                                                 path_of(dom, "pubcert.pem")));
    ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&cert, md_test_pool,
                                                 path_of(dom, "cert.pem")));
    ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&ca, md_test_pool,
                                                 path_of(dom, "chain.pem")));
    ck_assert_int_eq(2, chain->nelts);
    ck_assert(md_util_is_file(path_of(dom, "chain.pem"), md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_load(store, MD_SG_ARCHIVE, "v1.example.org.1",
                                                MD_FN_PUBCERT, MD_SV_CHAIN,
                                                (void **)&chain, md_test_pool));
    ck_assert_int_eq(1, chain->nelts);
    ck_assert_int_eq(APR_SUCCESS, md_store_load(store, MD_SG_DOMAINS, "v1.example.org",
                                                MD_FN_PRIVKEY, MD_SV_PKEY,
                                                (void **)&pkey, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_cert_check_pkey(APR_ARRAY_IDX(cert, 0, md_cert_t *),
                                                     pkey));
    /* second open: nothing to migrate */
    capture_start();
    open_store(dir);
    capture_stop();
    ck_assert_ptr_null(strstr(captured, "migrated store"));
}
END_TEST

START_TEST(test_migrate_v2)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = path_of(dir, MD_FN_STORE_JSON);
    md_json_t *json;

    write_file(fname, "{\"version\": \"2.0.10\", \"store\": {\"version\": 2}, \"key\": "
               "\"LTHKeMIVsQn8fcipQ0MKO6GAWSnFipAxA0XEc2bkJUZx_vTa4M8tsOrvrNQtXwsz\"}");
    open_store(dir);
    ck_assert_str_eq("{\n  \"store\": {\n    \"version\": 3.0\n  },\n  \"key\": "
                     "\"LTHKeMIVsQn8fcipQ0MKO6GAWSnFipAxA0XEc2bkJUZx_vTa4M8tsOrvrNQtXwsz\"\n}",
                     read_file(fname));
    ck_assert_int_eq(APR_SUCCESS, md_json_readf(&json, md_test_pool, fname));
}
END_TEST

/* --- values, modes ------------------------------------------------------------------- */

static const struct {
    md_store_group_t group;
    const char *gname;
    apr_fileperms_t dperms;
    apr_fileperms_t fperms;
} group_modes[] = {
    { MD_SG_ACCOUNTS,   "accounts",   0755, 0644 },
    { MD_SG_CHALLENGES, "challenges", 0755, 0644 },
    { MD_SG_DOMAINS,    "domains",    0700, 0600 },
    { MD_SG_STAGING,    "staging",    0755, 0644 },
    { MD_SG_ARCHIVE,    "archive",    0700, 0600 },
    { MD_SG_TMP,        "tmp",        0700, 0600 },
    { MD_SG_OCSP,       "ocsp",       0755, 0644 },
};

START_TEST(test_modes)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    const char *gdir = path_of(dir, group_modes[_i].gname);
    md_json_t *json = md_json_create(md_test_pool), *loaded;
    mode_t old_mask = umask(0077);

    ck_assert_str_eq(group_modes[_i].gname, md_store_group_name(group_modes[_i].group));
    md_json_sets("v", json, "k", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool,
                                                     group_modes[_i].group, "n.org",
                                                     MD_FN_MD, json, 0));
    ck_assert_uint_eq(group_modes[_i].dperms, mode_of(gdir));
    ck_assert_uint_eq(group_modes[_i].dperms, mode_of(path_of(gdir, "n.org")));
    ck_assert_uint_eq(group_modes[_i].fperms, mode_of(path_of(gdir, "n.org/md.json")));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool,
                                                group_modes[_i].group, "n.org",
                                                "t.txt", MD_SV_TEXT, "abc", 0));
    ck_assert_uint_eq(group_modes[_i].fperms, mode_of(path_of(gdir, "n.org/t.txt")));
    /* modes are re-applied on use */
    chmod(path_of(gdir, "n.org"), 0777);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool,
                                                     group_modes[_i].group, "n.org",
                                                     MD_FN_MD, json, 0));
    ck_assert_uint_eq(group_modes[_i].dperms, mode_of(path_of(gdir, "n.org")));
    umask(old_mask);
    ck_assert_int_eq(APR_SUCCESS, md_store_load_json(store, group_modes[_i].group, "n.org",
                                                     MD_FN_MD, &loaded, md_test_pool));
    ck_assert(md_json_equal(json, loaded));
}
END_TEST

START_TEST(test_save_load)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    md_json_t *json = md_json_create(md_test_pool), *loaded;
    const char *text;
    void *value;

    md_json_setb(1, json, "proto", "http", NULL);
    ck_assert_int_eq(APR_ENOENT, md_store_load_json(store, MD_SG_NONE, NULL,
                                                    MD_FN_HTTPD_JSON, &loaded, md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_NONE, NULL, MD_FN_HTTPD_JSON, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_NONE, NULL,
                                                     MD_FN_HTTPD_JSON, json, 0));
    ck_assert(md_store_exists(store, MD_SG_NONE, NULL, MD_FN_HTTPD_JSON, md_test_pool));
    ck_assert_uint_eq(0600, mode_of(path_of(dir, MD_FN_HTTPD_JSON)));
    ck_assert_str_eq("{\n  \"proto\": {\n    \"http\": true\n  }\n}",
                     read_file(path_of(dir, MD_FN_HTTPD_JSON)));
    ck_assert_int_eq(APR_SUCCESS, md_store_load_json(store, MD_SG_NONE, NULL,
                                                     MD_FN_HTTPD_JSON, &loaded, md_test_pool));
    ck_assert(md_json_getb(loaded, "proto", "http", NULL));
    ck_assert(md_store_get_modified(store, MD_SG_NONE, NULL, MD_FN_HTTPD_JSON,
                                    md_test_pool) > 0);

    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_CHALLENGES,
                                                "a.org", MD_FN_HTTP01, MD_SV_TEXT,
                                                "tok.thumb", 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_load(store, MD_SG_CHALLENGES, "a.org",
                                                MD_FN_HTTP01, MD_SV_TEXT, &value,
                                                md_test_pool));
    ck_assert_str_eq("tok.thumb", (const char *)value);
    text = read_file(path_of(dir, "challenges/a.org/acme-http-01.txt"));
    ck_assert_str_eq("tok.thumb", text);
    ck_assert(!md_util_is_file(path_of(dir, "challenges/a.org/acme-http-01.txt.tmp"),
                               md_test_pool));

    /* remove */
    ck_assert_int_eq(APR_SUCCESS, md_store_remove(store, MD_SG_CHALLENGES, "a.org",
                                                  MD_FN_HTTP01, md_test_pool, 0));
    ck_assert_int_eq(APR_ENOENT, md_store_remove(store, MD_SG_CHALLENGES, "a.org",
                                                 MD_FN_HTTP01, md_test_pool, 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_remove(store, MD_SG_CHALLENGES, "a.org",
                                                  MD_FN_HTTP01, md_test_pool, 1));
    ck_assert_int_eq(APR_SUCCESS, md_store_remove(store, MD_SG_CHALLENGES, "nope",
                                                  MD_FN_HTTP01, md_test_pool, 1));
}
END_TEST

START_TEST(test_child_links_refused)
{
    /* a link the child put into staging/ is not followed by the store (the
     * parent would read what it points to); in domains/ (root's) it is */
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *outside = path_of(dir, "outside.json");
    md_store_t *store = open_store(dir);
    md_json_t *json = md_json_create(md_test_pool), *loaded;

    md_json_sets("secret", json, "name", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_json_fcreatex(json, md_test_pool, MD_JSON_FMT_INDENT,
                                                   outside, MD_FPROT_F_UONLY));
    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_STAGING, "x.org",
                                                    md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_DOMAINS, "x.org",
                                                    md_test_pool));
    ck_assert_int_eq(0, symlink(outside, path_of(dir, "staging/x.org/job.json")));
    ck_assert_int_eq(0, symlink(outside, path_of(dir, "domains/x.org/job.json")));
    capture_start();
    ck_assert_int_eq(APR_FROM_OS_ERROR(ELOOP),
                     md_store_load_json(store, MD_SG_STAGING, "x.org", "job.json",
                                        &loaded, md_test_pool));
    capture_stop();
    ck_assert_msg(strstr(captured, "AH10692: ") && strstr(captured, "staging/x.org/job.json"),
                  "log: %s", captured);
    ck_assert_int_eq(APR_SUCCESS, md_store_load_json(store, MD_SG_DOMAINS, "x.org",
                                                     "job.json", &loaded, md_test_pool));
    ck_assert_str_eq("secret", md_json_gets(loaded, "name", NULL));

    /* staging/y.org a link to a directory elsewhere: no save into it, no
     * chmod of it (mk_dir made it 0755) */
    ck_assert_int_eq(0, mkdir(path_of(dir, "elsewhere"), 0700));
    ck_assert_int_eq(0, symlink(path_of(dir, "elsewhere"), path_of(dir, "staging/y.org")));
    ck_assert_int_ne(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_STAGING,
                                                     "y.org", "job.json", json, 0));
    ck_assert_int_eq(0700, mode_of(path_of(dir, "elsewhere")));
    ck_assert_int_eq(-1, access(path_of(dir, "elsewhere/job.json"), F_OK));
}
END_TEST

START_TEST(test_deferred_sync)
{
    /* deferred saves write the same files (temp + rename), synced later */
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    md_json_t *json = md_json_create(md_test_pool), *loaded;

    md_store_defer_sync(store, 1);
    md_json_sets("a", json, "name", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_DOMAINS,
                                                     "d.org", "md.json", json, 1));
    ck_assert(APR_STATUS_IS_EEXIST(md_store_save_json(store, md_test_pool, MD_SG_DOMAINS,
                                                      "d.org", "md.json", json, 1)));
    md_json_sets("b", json, "name", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_DOMAINS,
                                                     "d.org", "md.json", json, 0));
    ck_assert_int_eq(-1, access(path_of(dir, "domains/d.org/md.json.tmp"), F_OK));
    ck_assert_int_eq(APR_SUCCESS, md_store_sync(store));
    ck_assert_int_eq(APR_SUCCESS, md_store_sync_dir(store, MD_SG_DOMAINS, "d.org",
                                                    md_test_pool));
    md_store_defer_sync(store, 0);
    ck_assert_int_eq(APR_SUCCESS, md_store_load_json(store, MD_SG_DOMAINS, "d.org",
                                                     "md.json", &loaded, md_test_pool));
    ck_assert_str_eq("b", md_json_gets(loaded, "name", NULL));
    ck_assert_int_eq(0600, mode_of(path_of(dir, "domains/d.org/md.json")));
}
END_TEST

START_TEST(test_create_exclusive)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    md_json_t *json = md_json_create(md_test_pool);
    md_pkey_t *pkey = test_key();
    apr_array_header_t *chain = apr_array_make(md_test_pool, 1, sizeof(md_cert_t *));
    apr_array_header_t *domains = apr_array_make(md_test_pool, 1, sizeof(const char *));
    md_cert_t *cert;

    APR_ARRAY_PUSH(domains, const char *) = "a.org";
    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "a.org", domains, pkey,
                                                        apr_time_from_sec(3600),
                                                        md_test_pool));
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;

    md_json_sets("1", json, "v", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_ACCOUNTS,
                                                     "ACME-x-0000", MD_FN_ACCOUNT, json, 1));
    md_json_sets("2", json, "v", NULL);
    ck_assert_int_eq(APR_EEXIST, md_store_save_json(store, md_test_pool, MD_SG_ACCOUNTS,
                                                    "ACME-x-0000", MD_FN_ACCOUNT, json, 1));
    ck_assert_ptr_nonnull(strstr(read_file(path_of(dir, "accounts/ACME-x-0000/account.json")),
                                 "\"1\""));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_TMP, "a.org",
                                                "t.txt", MD_SV_TEXT, "x", 1));
    ck_assert_int_eq(APR_EEXIST, md_store_save(store, md_test_pool, MD_SG_TMP, "a.org",
                                               "t.txt", MD_SV_TEXT, "y", 1));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_TMP, "a.org",
                                                MD_FN_PRIVKEY, MD_SV_PKEY, pkey, 1));
    ck_assert_int_eq(APR_EEXIST, md_store_save(store, md_test_pool, MD_SG_TMP, "a.org",
                                               MD_FN_PRIVKEY, MD_SV_PKEY, pkey, 1));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_TMP, "a.org",
                                                MD_FN_PUBCERT, MD_SV_CHAIN, chain, 1));
    ck_assert_int_eq(APR_EEXIST, md_store_save(store, md_test_pool, MD_SG_TMP, "a.org",
                                               MD_FN_PUBCERT, MD_SV_CHAIN, chain, 1));
    ck_assert_uint_eq(0600, mode_of(path_of(dir, "tmp/a.org/pubcert.pem")));
    /* replace works */
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_TMP, "a.org",
                                                MD_FN_PUBCERT, MD_SV_CHAIN, chain, 0));
    chain = NULL;
    ck_assert_int_eq(APR_SUCCESS, md_store_load(store, MD_SG_TMP, "a.org", MD_FN_PUBCERT,
                                                MD_SV_CHAIN, (void **)&chain, md_test_pool));
    ck_assert_int_eq(1, chain->nelts);
}
END_TEST

START_TEST(test_key_encryption)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    md_pkey_t *pkey = test_key(), *loaded;
    md_data_t key = store_key(dir);
    const char *fname, *pem;
    const char *pem_orig;

    ck_assert_int_eq(APR_SUCCESS, md_pkey_to_pem(&pem_orig, pkey, md_test_pool, NULL, 0));
    /* staging: encrypted with the 48 raw key bytes, group mode 0644 */
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_STAGING, "a.org",
                                                MD_FN_PRIVKEY, MD_SV_PKEY, pkey, 0));
    fname = path_of(dir, "staging/a.org/privkey.pem");
    ck_assert_uint_eq(0644, mode_of(fname));
    ck_assert_ptr_nonnull(strstr(read_file(fname),
                                 "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    ck_assert_int_ne(APR_SUCCESS, md_pkey_fload(&loaded, md_test_pool, NULL, 0, fname));
    ck_assert_int_eq(APR_SUCCESS, md_pkey_fload(&loaded, md_test_pool, key.data, key.len,
                                                fname));
    ck_assert_int_eq(APR_SUCCESS, md_pkey_to_pem(&pem, loaded, md_test_pool, NULL, 0));
    ck_assert_str_eq(pem_orig, pem);
    ck_assert_int_eq(APR_SUCCESS, md_store_load(store, MD_SG_STAGING, "a.org",
                                                MD_FN_PRIVKEY, MD_SV_PKEY,
                                                (void **)&loaded, md_test_pool));
    /* accounts: encrypted as well */
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_ACCOUNTS,
                                                "ACME-a-0000", MD_FN_ACCT_KEY, MD_SV_PKEY,
                                                pkey, 0));
    fname = path_of(dir, "accounts/ACME-a-0000/account.pem");
    ck_assert_uint_eq(0644, mode_of(fname));
    ck_assert_ptr_nonnull(strstr(read_file(fname), "BEGIN ENCRYPTED PRIVATE KEY"));
    /* domains, challenges, tmp: plain and always 0600 */
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_DOMAINS, "a.org",
                                                MD_FN_PRIVKEY, MD_SV_PKEY, pkey, 0));
    fname = path_of(dir, "domains/a.org/privkey.pem");
    ck_assert_uint_eq(0600, mode_of(fname));
    ck_assert_str_eq(pem_orig, read_file(fname));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_CHALLENGES,
                                                "a.org", MD_FN_TLSALPN01_PKEY, MD_SV_PKEY,
                                                pkey, 0));
    fname = path_of(dir, "challenges/a.org/acme-tls-alpn-01-privkey.pem");
    ck_assert_uint_eq(0600, mode_of(fname));
    ck_assert_str_eq(pem_orig, read_file(fname));
    ck_assert_int_eq(APR_SUCCESS, md_store_load(store, MD_SG_CHALLENGES, "a.org",
                                                MD_FN_TLSALPN01_PKEY, MD_SV_PKEY,
                                                (void **)&loaded, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_TMP, "a.org",
                                                MD_FN_PRIVKEY, MD_SV_PKEY, pkey, 0));
    ck_assert_str_eq(pem_orig, read_file(path_of(dir, "tmp/a.org/privkey.pem")));
}
END_TEST

/* --- names ------------------------------------------------------------------------ */

static const char *bad_names[] = { "", ".", "..", "../x", "a/b", "/etc", "x/" };

START_TEST(test_bad_names)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    md_json_t *json = md_json_create(md_test_pool);
    const char *bad = bad_names[_i], *fname;

    ck_assert_int_eq(APR_EINVAL, md_store_save_json(store, md_test_pool, MD_SG_DOMAINS,
                                                    bad, MD_FN_MD, json, 0));
    ck_assert_int_eq(APR_EINVAL, md_store_save_json(store, md_test_pool, MD_SG_DOMAINS,
                                                    "a.org", bad, json, 0));
    ck_assert_int_eq(APR_EINVAL, md_store_load_json(store, MD_SG_DOMAINS, bad, MD_FN_MD,
                                                    &json, md_test_pool));
    ck_assert_int_eq(APR_EINVAL, md_store_get_fname(&fname, store, MD_SG_DOMAINS, bad,
                                                    MD_FN_MD, md_test_pool));
    ck_assert_ptr_null(md_store_get_dir(store, MD_SG_DOMAINS, bad, md_test_pool));
    ck_assert_int_eq(APR_EINVAL, md_store_purge(store, md_test_pool, MD_SG_DOMAINS, bad));
    ck_assert_int_eq(APR_EINVAL, md_store_move(store, md_test_pool, MD_SG_TMP,
                                               MD_SG_DOMAINS, bad, 1));
    ck_assert_int_eq(APR_EINVAL, md_store_rename(store, md_test_pool, MD_SG_DOMAINS,
                                                 "a.org", bad));
    ck_assert_int_eq(APR_EINVAL, md_store_remove(store, MD_SG_DOMAINS, "a.org", bad,
                                                 md_test_pool, 1));
    ck_assert_int_eq(APR_EINVAL, md_store_make_dir(store, MD_SG_DOMAINS, bad,
                                                   md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_DOMAINS, bad, NULL, md_test_pool));
    /* the store itself is intact */
    ck_assert(md_util_is_file(path_of(dir, MD_FN_STORE_JSON), md_test_pool));
}
END_TEST

START_TEST(test_fnames)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    const char *fname;

    ck_assert_str_eq(dir, md_store_base_dir(store));
    ck_assert_int_eq(APR_SUCCESS, md_store_get_fname(&fname, store, MD_SG_DOMAINS, "a.org",
                                                     MD_FN_PUBCERT, md_test_pool));
    ck_assert_str_eq(path_of(dir, "domains/a.org/pubcert.pem"), fname);
    ck_assert_int_eq(APR_SUCCESS, md_store_get_fname(&fname, store, MD_SG_NONE, NULL,
                                                     MD_FN_HTTPD_JSON, md_test_pool));
    ck_assert_str_eq(path_of(dir, "httpd.json"), fname);
    ck_assert_str_eq(path_of(dir, "ocsp"), md_store_get_dir(store, MD_SG_OCSP, NULL,
                                                            md_test_pool));
    ck_assert_str_eq(path_of(dir, "ocsp/other"), md_store_get_dir(store, MD_SG_OCSP,
                                                                  "other", md_test_pool));
    ck_assert_int_eq(APR_EINVAL, md_store_get_fname(&fname, store, MD_SG_COUNT, "a",
                                                    MD_FN_MD, md_test_pool));
    ck_assert_ptr_null(md_store_group_name(MD_SG_COUNT));
    ck_assert_str_eq("", md_store_group_name(MD_SG_NONE));
}
END_TEST

/* --- directories and callbacks ---------------------------------------------------------- */

typedef struct {
    int count;
    char paths[1024];
} dir_cb_log;

static apr_status_t record_dir_cb(void *baton, apr_pool_t *p, md_store_group_t group,
                                  const char *path)
{
    dir_cb_log *log = baton;
    size_t len = strlen(log->paths);

    (void)p;
    ++log->count;
    snprintf(log->paths + len, sizeof(log->paths) - len, "%s:%s;",
             md_store_group_name(group), strrchr(path, '/') + 1);
    return APR_SUCCESS;
}

START_TEST(test_dir_cb)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    dir_cb_log log;

    memset(&log, 0, sizeof(log));
    md_store_set_dir_cb(store, record_dir_cb, &log);
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_STAGING, "a.org",
                                                "x.txt", MD_SV_TEXT, "x", 0));
    ck_assert_str_eq("staging:staging;staging:a.org;", log.paths);
    /* existing dirs: no calls on save */
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_STAGING, "a.org",
                                                "y.txt", MD_SV_TEXT, "y", 0));
    ck_assert_int_eq(2, log.count);
    /* make_dir always reports the target */
    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_STAGING, NULL,
                                                    md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_OCSP, "other",
                                                    md_test_pool));
    ck_assert_str_eq("staging:staging;staging:a.org;staging:staging;"
                     "ocsp:ocsp;ocsp:other;", log.paths);
    ck_assert_uint_eq(0755, mode_of(path_of(dir, "ocsp/other")));
    ck_assert_uint_eq(0755, mode_of(path_of(dir, "staging")));
    /* start-up group check: 0750 when created, mode kept until used */
    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_ACCOUNTS, NULL,
                                                    md_test_pool));
    ck_assert_uint_eq(0750, mode_of(path_of(dir, "accounts")));
    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_ACCOUNTS, NULL,
                                                    md_test_pool));
    ck_assert_uint_eq(0750, mode_of(path_of(dir, "accounts")));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_ACCOUNTS,
                                                "ACME-a-0000", "x.txt", MD_SV_TEXT, "x", 0));
    ck_assert_uint_eq(0755, mode_of(path_of(dir, "accounts")));
    ck_assert_int_eq(8, log.count);
}
END_TEST

/* --- move, rename, purge --------------------------------------------------------------- */

static void put_marker(md_store_t *store, md_store_group_t group, const char *name,
                       const char *text)
{
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, group, name,
                                                "marker.txt", MD_SV_TEXT, (void *)text, 0));
}

static const char *get_marker(md_store_t *store, md_store_group_t group, const char *name)
{
    void *text;

    if (APR_SUCCESS != md_store_load(store, group, name, "marker.txt", MD_SV_TEXT, &text,
                                     md_test_pool)) {
        return NULL;
    }
    return text;
}

START_TEST(test_move_archive)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);

    ck_assert_int_eq(APR_ENOENT, md_store_move(store, md_test_pool, MD_SG_TMP,
                                               MD_SG_DOMAINS, "a.org", 1));
    put_marker(store, MD_SG_TMP, "a.org", "1");
    ck_assert_int_eq(APR_SUCCESS, md_store_move(store, md_test_pool, MD_SG_TMP,
                                                MD_SG_DOMAINS, "a.org", 1));
    ck_assert_str_eq("1", get_marker(store, MD_SG_DOMAINS, "a.org"));
    ck_assert(!md_store_exists(store, MD_SG_TMP, "a.org", NULL, md_test_pool));
    ck_assert(!md_util_is_dir(path_of(dir, "archive"), md_test_pool));

    put_marker(store, MD_SG_TMP, "a.org", "2");
    ck_assert_int_eq(APR_SUCCESS, md_store_move(store, md_test_pool, MD_SG_TMP,
                                                MD_SG_DOMAINS, "a.org", 1));
    ck_assert_str_eq("2", get_marker(store, MD_SG_DOMAINS, "a.org"));
    ck_assert_str_eq("1", get_marker(store, MD_SG_ARCHIVE, "a.org.1"));
    ck_assert_uint_eq(0700, mode_of(path_of(dir, "archive")));
    ck_assert_uint_eq(0700, mode_of(path_of(dir, "archive/a.org.1")));
    ck_assert_uint_eq(0600, mode_of(path_of(dir, "archive/a.org.1/marker.txt")));

    /* lowest free number */
    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_ARCHIVE, "a.org.2",
                                                    md_test_pool));
    put_marker(store, MD_SG_TMP, "a.org", "3");
    ck_assert_int_eq(APR_SUCCESS, md_store_move(store, md_test_pool, MD_SG_TMP,
                                                MD_SG_DOMAINS, "a.org", 1));
    ck_assert_str_eq("2", get_marker(store, MD_SG_ARCHIVE, "a.org.3"));
    ck_assert_str_eq("3", get_marker(store, MD_SG_DOMAINS, "a.org"));

    /* without archive: replaced */
    put_marker(store, MD_SG_TMP, "a.org", "4");
    ck_assert_int_eq(APR_SUCCESS, md_store_move(store, md_test_pool, MD_SG_TMP,
                                                MD_SG_DOMAINS, "a.org", 0));
    ck_assert_str_eq("4", get_marker(store, MD_SG_DOMAINS, "a.org"));
    ck_assert(!md_store_exists(store, MD_SG_ARCHIVE, "a.org.4", NULL, md_test_pool));
}
END_TEST

START_TEST(test_move_archive_full)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    int n;

    for (n = 1; n <= 999; ++n) {
        ck_assert_int_eq(APR_SUCCESS, md_util_mkdir(
            path_of(dir, apr_psprintf(md_test_pool, "archive/b.org.%d", n)), MD_FPROT_D_UONLY,
            md_test_pool));
    }
    put_marker(store, MD_SG_DOMAINS, "b.org", "old");
    put_marker(store, MD_SG_TMP, "b.org", "new");
    capture_start();
    ck_assert_int_ne(APR_SUCCESS, md_store_move(store, md_test_pool, MD_SG_TMP,
                                                MD_SG_DOMAINS, "b.org", 1));
    capture_stop();
    ck_assert_ptr_nonnull(strstr(captured, "ran out of numbers less than 1000 while "
                                 "looking for an available one in "));
    ck_assert_ptr_nonnull(strstr(captured, "archive/b.org to archive the data from "));
    ck_assert_ptr_nonnull(strstr(captured, "tmp/b.org. Either something is generally "
                                 "wrong or you need to clean up some of those "
                                 "directories."));
    ck_assert_str_eq("old", get_marker(store, MD_SG_DOMAINS, "b.org"));
    ck_assert_str_eq("new", get_marker(store, MD_SG_TMP, "b.org"));
}
END_TEST

START_TEST(test_rename_purge)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);

    put_marker(store, MD_SG_DOMAINS, "old.org", "o");
    put_marker(store, MD_SG_DOMAINS, "taken.org", "t");
    ck_assert_int_eq(APR_EEXIST, md_store_rename(store, md_test_pool, MD_SG_DOMAINS,
                                                 "old.org", "taken.org"));
    ck_assert_int_eq(APR_ENOENT, md_store_rename(store, md_test_pool, MD_SG_DOMAINS,
                                                 "none.org", "new.org"));
    ck_assert_int_eq(APR_SUCCESS, md_store_rename(store, md_test_pool, MD_SG_DOMAINS,
                                                  "old.org", "new.org"));
    ck_assert_str_eq("o", get_marker(store, MD_SG_DOMAINS, "new.org"));
    ck_assert_str_eq("t", get_marker(store, MD_SG_DOMAINS, "taken.org"));

    ck_assert_int_eq(APR_SUCCESS, md_store_purge(store, md_test_pool, MD_SG_DOMAINS,
                                                 "new.org"));
    ck_assert(!md_store_exists(store, MD_SG_DOMAINS, "new.org", NULL, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_DOMAINS, "taken.org", NULL, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_purge(store, md_test_pool, MD_SG_DOMAINS,
                                                 "new.org"));
    ck_assert_int_eq(APR_EINVAL, md_store_purge(store, md_test_pool, MD_SG_DOMAINS, NULL));
    ck_assert(md_util_is_dir(path_of(dir, "domains"), md_test_pool));
}
END_TEST

/* --- iteration ------------------------------------------------------------------------- */

static int collect_cb(void *baton, const char *name, const char *aspect,
                      md_store_vtype_t vtype, void *value, apr_pool_t *ptemp)
{
    apr_array_header_t *seen = baton;

    (void)vtype; (void)ptemp;
    APR_ARRAY_PUSH(seen, const char *) = apr_psprintf(seen->pool, "%s/%s=%s", name,
                                                      aspect, md_json_gets(value, "n",
                                                                           NULL));
    return 1;
}

static int stop_cb(void *baton, const char *name, const char *aspect,
                   md_store_vtype_t vtype, void *value, apr_pool_t *ptemp)
{
    (void)name; (void)aspect; (void)vtype; (void)value; (void)ptemp;
    ++*(int *)baton;
    return 0;
}

static int names_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    apr_array_header_t *seen = baton;

    (void)ptemp;
    APR_ARRAY_PUSH(seen, const char *) = apr_pstrdup(seen->pool, name);
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *sorted(apr_array_header_t *a)
{
    qsort(a->elts, (size_t)a->nelts, sizeof(const char *), cmp_str);
    return md_array_str_join(a, ",", md_test_pool);
}

START_TEST(test_iter)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    apr_array_header_t *seen = apr_array_make(md_test_pool, 5, sizeof(const char *));
    const char *names[] = { "a.org", "b.org", "c.net" };
    md_json_t *json;
    int i, count = 0;

    ck_assert_int_eq(APR_SUCCESS, md_store_iter(collect_cb, seen, store, md_test_pool,
                                                MD_SG_DOMAINS, "*", MD_FN_MD,
                                                MD_SV_JSON));
    ck_assert_int_eq(0, seen->nelts);
    for (i = 0; i < 3; ++i) {
        json = md_json_create(md_test_pool);
        md_json_sets(names[i], json, "n", NULL);
        ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_DOMAINS,
                                                         names[i], MD_FN_MD, json, 0));
    }
    md_store_save_json(store, md_test_pool, MD_SG_DOMAINS, "a.org", MD_FN_JOB, json, 0);
    write_file(path_of(dir, "domains/stray-file"), "x");
    write_file(path_of(dir, "domains/b.org/broken.json"), "{");
    ck_assert_int_eq(APR_SUCCESS, md_store_iter(collect_cb, seen, store, md_test_pool,
                                                MD_SG_DOMAINS, "*", MD_FN_MD,
                                                MD_SV_JSON));
    ck_assert_str_eq("a.org/md.json=a.org,b.org/md.json=b.org,c.net/md.json=c.net",
                     sorted(seen));
    apr_array_clear(seen);
    ck_assert_int_eq(APR_SUCCESS, md_store_iter(collect_cb, seen, store, md_test_pool,
                                                MD_SG_DOMAINS, "*.org", "*.json",
                                                MD_SV_JSON));
    ck_assert_str_eq("a.org/job.json=c.net,a.org/md.json=a.org,b.org/md.json=b.org",
                     sorted(seen));
    ck_assert_int_eq(APR_SUCCESS, md_store_iter(stop_cb, &count, store, md_test_pool,
                                                MD_SG_DOMAINS, "*", MD_FN_MD,
                                                MD_SV_JSON));
    ck_assert_int_eq(1, count);

    apr_array_clear(seen);
    ck_assert_int_eq(APR_SUCCESS, md_store_iter_names(names_cb, seen, store, md_test_pool,
                                                      MD_SG_DOMAINS, "*"));
    ck_assert_str_eq("a.org,b.org,c.net", sorted(seen));
    apr_array_clear(seen);
    ck_assert_int_eq(APR_SUCCESS, md_store_iter_names(names_cb, seen, store, md_test_pool,
                                                      MD_SG_DOMAINS, "c*"));
    ck_assert_str_eq("c.net", sorted(seen));
    apr_array_clear(seen);
    ck_assert_int_eq(APR_SUCCESS, md_store_iter_names(names_cb, seen, store, md_test_pool,
                                                      MD_SG_STAGING, "*"));
    ck_assert_int_eq(0, seen->nelts);
}
END_TEST

START_TEST(test_remove_old)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    apr_time_t now = apr_time_now();
    const char *old_fn = path_of(dir, "ocsp/a.org/ocsp-01.json");

    put_marker(store, MD_SG_OCSP, "a.org", "m");
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_OCSP, "a.org",
                                                "ocsp-01.json", MD_SV_TEXT, "{}", 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_OCSP, "a.org",
                                                "ocsp-02.json", MD_SV_TEXT, "{}", 0));
    /* every mtime is set: the files' times are an input, as the clock is */
    ck_assert_int_eq(APR_SUCCESS, apr_file_mtime_set(old_fn, now - apr_time_from_sec(8 * 86400),
                                                     md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, apr_file_mtime_set(path_of(dir, "ocsp/a.org/ocsp-02.json"),
                                                     now - apr_time_from_sec(86400),
                                                     md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, apr_file_mtime_set(path_of(dir, "ocsp/a.org/marker.txt"),
                                                     now - apr_time_from_sec(8 * 86400),
                                                     md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_remove_not_modified_since(
        store, md_test_pool, now - apr_time_from_sec(7 * 86400), MD_SG_OCSP, "*",
        "ocsp*.json"));
    ck_assert(!md_util_is_file(old_fn, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_OCSP, "a.org", "ocsp-02.json", md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_OCSP, "a.org", "marker.txt", md_test_pool));
}
END_TEST

/* --- typed conveniences -------------------------------------------------------------------- */

START_TEST(test_md_and_keys)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    apr_array_header_t *domains = apr_array_make(md_test_pool, 2, sizeof(const char *));
    apr_array_header_t *chain, *loaded_chain;
    md_pkey_spec_t spec;
    md_pkey_t *pkey = test_key(), *loaded;
    md_cert_t *cert;
    md_t *md, *md2;

    APR_ARRAY_PUSH(domains, const char *) = "a.org";
    APR_ARRAY_PUSH(domains, const char *) = "www.a.org";
    md = md_create(md_test_pool, domains);
    ck_assert_int_eq(APR_SUCCESS, md_store_md_save(store, md_test_pool, MD_SG_DOMAINS,
                                                   md, 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_md_load(store, MD_SG_DOMAINS, "a.org", &md2,
                                                   md_test_pool));
    ck_assert_str_eq("a.org", md2->name);
    ck_assert_int_eq(2, md2->domains->nelts);
    ck_assert_int_eq(APR_ENOENT, md_store_md_load(store, MD_SG_STAGING, "a.org", &md2,
                                                  md_test_pool));
    ck_assert_ptr_null(md2);

    memset(&spec, 0, sizeof(spec));
    spec.type = MD_PKEY_TYPE_EC;
    spec.curve = "P-256";
    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "a.org", domains, pkey,
                                                        apr_time_from_sec(3600),
                                                        md_test_pool));
    chain = apr_array_make(md_test_pool, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    ck_assert_int_eq(APR_SUCCESS, md_store_pkey_save(store, md_test_pool, MD_SG_STAGING,
                                                     "a.org", &spec, pkey, 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_chain_save(store, md_test_pool, MD_SG_STAGING,
                                                      "a.org", &spec, chain, 0));
    ck_assert(md_util_is_file(path_of(dir, "staging/a.org/privkey.p-256.pem"),
                              md_test_pool));
    ck_assert_uint_eq(0644, mode_of(path_of(dir, "staging/a.org/pubcert.p-256.pem")));
    ck_assert_int_eq(APR_SUCCESS, md_store_pkey_load(store, MD_SG_STAGING, "a.org", &spec,
                                                     &loaded, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_chain_load(store, MD_SG_STAGING, "a.org", &spec,
                                                      &loaded_chain, md_test_pool));
    ck_assert_int_eq(1, loaded_chain->nelts);
    ck_assert_int_eq(APR_SUCCESS, md_cert_check_pkey(
        APR_ARRAY_IDX(loaded_chain, 0, md_cert_t *), loaded));

    ck_assert_int_eq(APR_SUCCESS, md_store_md_remove(store, md_test_pool, MD_SG_DOMAINS,
                                                     "a.org", 0));
    ck_assert_int_eq(APR_ENOENT, md_store_md_remove(store, md_test_pool, MD_SG_DOMAINS,
                                                    "a.org", 0));
}
END_TEST

/* In a forked child: tells the parent CODE, then waits for its go-ahead. */
static int child_tell_and_wait(int to_parent, int from_parent, char code)
{
    char go;

    if (1 != write(to_parent, &code, 1) || 1 != read(from_parent, &go, 1)) {
        return -1;
    }
    return 0;
}

/* --- per-name locks, read-only stores ------------------------------------------------- */

START_TEST(test_lock_name)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    md_store_lock_t *lock;
    int to_parent[2], to_child[2];
    char c = 0;
    pid_t pid;
    int status;

    ck_assert_int_eq(APR_EINVAL, md_store_lock_name(&lock, store, MD_SG_STAGING, "../x",
                                                    md_test_pool));
    ck_assert_ptr_null(lock);
    ck_assert_int_eq(0, pipe(to_parent));
    ck_assert_int_eq(0, pipe(to_child));
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (0 == pid) {
        apr_pool_t *p;
        md_store_t *s2;
        md_store_lock_t *l2;

        apr_pool_create(&p, NULL);
        if (APR_SUCCESS != md_store_fs_open(&s2, p, dir)
            || APR_SUCCESS != md_store_lock_name(&l2, s2, MD_SG_STAGING, "a.org", p)) {
            _exit(1);
        }
        if (0 != child_tell_and_wait(to_parent[1], to_child[0], 'L')) {
            _exit(2);
        }
        _exit(0);       /* no unlock: ending the process releases it */
    }
    close(to_parent[1]);
    ck_assert_int_eq(1, read(to_parent[0], &c, 1));
    ck_assert_int_eq('L', c);
    ck_assert_uint_eq(0640, mode_of(path_of(dir, "staging/a.org.lock")));
    ck_assert_int_eq(APR_EAGAIN, md_store_lock_name(&lock, store, MD_SG_STAGING, "a.org",
                                                    md_test_pool));
    ck_assert_ptr_null(lock);
    /* other names are not affected */
    ck_assert_int_eq(APR_SUCCESS, md_store_lock_name(&lock, store, MD_SG_STAGING, "b.org",
                                                     md_test_pool));
    md_store_unlock_name(lock);
    ck_assert_int_eq(1, write(to_child[1], "g", 1));
    ck_assert_int_eq(pid, waitpid(pid, &status, 0));
    ck_assert_int_eq(0, status);
    ck_assert_int_eq(APR_SUCCESS, md_store_lock_name(&lock, store, MD_SG_STAGING, "a.org",
                                                     md_test_pool));
    md_store_unlock_name(lock);
    md_store_unlock_name(NULL);
    close(to_parent[0]);
    close(to_child[0]);
    close(to_child[1]);
}
END_TEST

START_TEST(test_readonly)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir), *ro;
    md_json_t *json = md_json_create(md_test_pool), *loaded;
    md_store_lock_t *lock;

    md_json_sets("v", json, "k", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_DOMAINS,
                                                     "a.org", "x.json", json, 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open_readonly(&ro, md_test_pool, dir));
    ck_assert_int_eq(APR_SUCCESS, md_store_load_json(ro, MD_SG_DOMAINS, "a.org", "x.json",
                                                     &loaded, md_test_pool));
    ck_assert_str_eq("v", md_json_gets(loaded, "k", NULL));
    ck_assert_int_eq(APR_EACCES, md_store_save_json(ro, md_test_pool, MD_SG_DOMAINS,
                                                    "a.org", "y.json", json, 0));
    ck_assert_int_eq(APR_EACCES, md_store_purge(ro, md_test_pool, MD_SG_DOMAINS, "a.org"));
    ck_assert_int_eq(APR_EACCES, md_store_make_dir(ro, MD_SG_STAGING, "a.org",
                                                   md_test_pool));
    ck_assert_int_eq(APR_EACCES, md_store_lock_name(&lock, ro, MD_SG_STAGING, "a.org",
                                                    md_test_pool));
    ck_assert(md_store_exists(ro, MD_SG_DOMAINS, "a.org", "x.json", md_test_pool));
}
END_TEST

/* --- the global lock ---------------------------------------------------------------------- */

START_TEST(test_lock)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    int to_child[2], to_parent[2];
    apr_time_t start;
    char c = 0;
    pid_t pid;
    int status;

    ck_assert_int_eq(0, pipe(to_child));
    ck_assert_int_eq(0, pipe(to_parent));
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (0 == pid) {
        apr_pool_t *p;
        md_store_t *s2;

        apr_pool_create(&p, NULL);
        if (APR_SUCCESS != md_store_fs_open(&s2, p, dir)
            || APR_SUCCESS != md_store_lock_global(s2, p, 0)) {
            _exit(1);
        }
        if (0 != child_tell_and_wait(to_parent[1], to_child[0], 'L')) {
            _exit(2);
        }
        md_store_unlock_global(s2, p);
        c = 'U';
        if (1 != write(to_parent[1], &c, 1)) {
            _exit(3);
        }
        _exit(0);
    }
    ck_assert_int_eq(1, read(to_parent[0], &c, 1));
    ck_assert_int_eq('L', c);
    ck_assert_uint_eq(0640, mode_of(path_of(dir, MD_FN_STORE_LOCK)));
    start = apr_time_now();
    ck_assert_int_ne(APR_SUCCESS, md_store_lock_global(store, md_test_pool,
                                                       apr_time_from_msec(350)));
    ck_assert(apr_time_now() - start >= apr_time_from_msec(300));
    ck_assert_int_eq(1, write(to_child[1], "g", 1));
    ck_assert_int_eq(1, read(to_parent[0], &c, 1));
    ck_assert_int_eq('U', c);
    ck_assert_int_eq(APR_SUCCESS, md_store_lock_global(store, md_test_pool,
                                                       apr_time_from_sec(1)));
    ck_assert_int_eq(APR_EEXIST, md_store_lock_global(store, md_test_pool, 0));
    md_store_unlock_global(store, md_test_pool);
    ck_assert_int_eq(pid, waitpid(pid, &status, 0));
    ck_assert(WIFEXITED(status) && 0 == WEXITSTATUS(status));
}
END_TEST

/* The server's mark: another process holding it is seen (with its pid),
 * and it goes with the process that held it; marking again after the store
 * was opened anew (md_store.json read and closed) keeps it. */
START_TEST(test_server_mark)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_store_t *store = open_store(dir);
    int to_child[2], to_parent[2], running;
    apr_file_t *mark = NULL;
    long holder;
    char c = 0;
    pid_t pid;
    int status;

    ck_assert_int_eq(APR_SUCCESS, md_store_server_running(&running, &holder, store,
                                                          md_test_pool));
    ck_assert_int_eq(0, running);
    ck_assert_int_eq(0, pipe(to_child));
    ck_assert_int_eq(0, pipe(to_parent));
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (0 == pid) {
        apr_pool_t *p;
        md_store_t *s2;
        apr_file_t *f = NULL;

        apr_pool_create(&p, NULL);
        if (APR_SUCCESS != md_store_fs_open(&s2, p, dir)
            || APR_SUCCESS != md_store_server_mark(&f, s2, p)
            || APR_SUCCESS != md_store_fs_open(&s2, p, dir)
            || APR_SUCCESS != md_store_server_mark(&f, s2, p)) {
            _exit(1);
        }
        if (0 != child_tell_and_wait(to_parent[1], to_child[0], 'M')) {
            _exit(2);
        }
        _exit(0);
    }
    ck_assert_int_eq(1, read(to_parent[0], &c, 1));
    ck_assert_int_eq('M', c);
    ck_assert_int_eq(APR_SUCCESS, md_store_server_running(&running, &holder, store,
                                                          md_test_pool));
    ck_assert_int_eq(1, running);
    ck_assert_int_eq(pid, holder);
    /* a shared lock: a second server on the store marks it too */
    ck_assert_int_eq(APR_SUCCESS, md_store_server_mark(&mark, store, md_test_pool));
    ck_assert_int_eq(1, write(to_child[1], "x", 1));
    ck_assert_int_eq(pid, waitpid(pid, &status, 0));
    ck_assert(WIFEXITED(status) && 0 == WEXITSTATUS(status));
    apr_file_close(mark);
    ck_assert_int_eq(APR_SUCCESS, md_store_server_running(&running, &holder, store,
                                                          md_test_pool));
    ck_assert_int_eq(0, running);
    /* no md_store.json: nobody */
    ck_assert_int_eq(APR_SUCCESS, apr_file_remove(path_of(dir, "md_store.json"),
                                                  md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_server_running(&running, &holder, store,
                                                          md_test_pool));
    ck_assert_int_eq(0, running);
}
END_TEST

Suite *md_test_store_suite(void)
{
    Suite *s = suite_create("md_store");
    TCase *tc;

    tc = tcase_create("open");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_open_creates);
    tcase_add_test(tc, test_reopen_same_key);
    tcase_add_loop_test(tc, test_open_corrupt, 0,
                        (int)(MD_ARRAY_LEN(bad_store_files)));
    tcase_add_test(tc, test_migrate_v1);
    tcase_add_test(tc, test_migrate_v2);
    suite_add_tcase(s, tc);

    tc = tcase_create("values");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, test_modes, 0,
                        (int)(MD_ARRAY_LEN(group_modes)));
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_child_links_refused);
    tcase_add_test(tc, test_deferred_sync);
    tcase_add_test(tc, test_create_exclusive);
    tcase_add_test(tc, test_key_encryption);
    tcase_add_loop_test(tc, test_bad_names, 0,
                        (int)(MD_ARRAY_LEN(bad_names)));
    tcase_add_test(tc, test_fnames);
    tcase_add_test(tc, test_md_and_keys);
    suite_add_tcase(s, tc);

    tc = tcase_create("dirs");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_dir_cb);
    tcase_add_test(tc, test_move_archive);
    tcase_add_test(tc, test_move_archive_full);
    tcase_add_test(tc, test_rename_purge);
    tcase_add_test(tc, test_iter);
    tcase_add_test(tc, test_remove_old);
    tcase_add_test(tc, test_lock);
    tcase_add_test(tc, test_server_mark);
    tcase_add_test(tc, test_lock_name);
    tcase_add_test(tc, test_readonly);
    suite_add_tcase(s, tc);

    suite_add_tcase(s, md_test_store_backend_tcase());
    return s;
}
