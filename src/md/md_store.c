/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The public store functions: each dispatches to the store's backend
 * (md_store_backend.h) and counts changes; the host's settings; typed
 * conveniences on top (md.json as md_t, JSON values, the private key and
 * certificate chain of a key spec under the file names of contract.md 1.3).
 */
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "md.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_util.h"
#include "md_store.h"
#include "md_store_backend.h"

static const char *group_names[MD_SG_COUNT] = {
    "",
    "accounts",
    "challenges",
    "domains",
    "staging",
    "archive",
    "tmp",
    "ocsp",
    "live",
};

/* --- groups ------------------------------------------------------------------------ */

const char *md_store_group_name(md_store_group_t group)
{
    if ((int)group < 0 || group >= MD_SG_COUNT) return NULL;
    return group_names[group];
}

/* --- the store object and the host's settings -------------------------------------- */

md_store_t *md_store_make(apr_pool_t *p, const md_store_ops_t *ops, void *data)
{
    md_store_t *store = apr_pcalloc(p, sizeof(*store));

    store->ops = ops;
    store->data = data;
    store->p = p;
    store->reader_gid = (apr_gid_t)-1;
    return store;
}

void md_store_set_dir_cb(md_store_t *store, md_store_dir_cb *cb, void *baton)
{
    store->dir_cb = cb;
    store->dir_cb_baton = baton;
}

void md_store_set_reader_group(md_store_t *store, apr_gid_t gid)
{
    store->reader_gid = gid;
}

void md_store_defer_sync(md_store_t *store, int defer)
{
    store->sync_deferred = defer;
}

int md_store_json_has_secret(const md_json_t *json)
{
    const char *hmac = md_json_gets(json, MD_KEY_EAB, MD_KEY_HMAC, NULL);

    return (hmac && *hmac) || md_util_has_credentials(md_json_gets(json, MD_KEY_PROXY_URL,
                                                                   NULL));
}

void md_store_set_change_counter(md_store_t *store, apr_uint32_t *counter)
{
    store->changes = counter;
}

int md_store_get_change_count(md_store_t *store, apr_uint32_t *pcount)
{
    *pcount = store->changes ? apr_atomic_read32(store->changes) : 0;
    return store->changes != NULL;
}

/* Counts a change (also an attempted one: a reader only looks again). */
static apr_status_t changed(md_store_t *store, apr_status_t rv)
{
    if (store->changes) {
        apr_atomic_inc32(store->changes);
    }
    return rv;
}

/* --- dispatch to the backend --------------------------------------------------------- */

apr_status_t md_store_load(md_store_t *store, md_store_group_t group, const char *name,
                           const char *aspect, md_store_vtype_t vtype, void **pvalue,
                           apr_pool_t *p)
{
    return store->ops->load(store, group, name, aspect, vtype, pvalue, p);
}

apr_status_t md_store_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                           const char *name, const char *aspect,
                           md_store_vtype_t vtype, void *value, int create)
{
    return changed(store, store->ops->save(store, p, group, name, aspect, vtype, value,
                                           create));
}

apr_status_t md_store_remove(md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, apr_pool_t *p, int force)
{
    return changed(store, store->ops->remove(store, group, name, aspect, p, force));
}

int md_store_exists(md_store_t *store, md_store_group_t group, const char *name,
                    const char *aspect, apr_pool_t *p)
{
    return store->ops->exists(store, group, name, aspect, p);
}

apr_time_t md_store_get_modified(md_store_t *store, md_store_group_t group,
                                 const char *name, const char *aspect, apr_pool_t *p)
{
    return store->ops->get_modified(store, group, name, aspect, p);
}

apr_status_t md_store_purge(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                            const char *name)
{
    return changed(store, store->ops->purge(store, p, group, name));
}

apr_status_t md_store_move(md_store_t *store, apr_pool_t *p, md_store_group_t from,
                           md_store_group_t to, const char *name, int archive)
{
    return changed(store, store->ops->move(store, p, from, to, name, archive));
}

apr_status_t md_store_rename(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                             const char *from, const char *to)
{
    return changed(store, store->ops->rename(store, p, group, from, to));
}

apr_status_t md_store_make_dir(md_store_t *store, md_store_group_t group,
                               const char *name, apr_pool_t *p)
{
    return store->ops->make_dir ? store->ops->make_dir(store, group, name, p)
                                : APR_SUCCESS;
}

apr_status_t md_store_sync(md_store_t *store)
{
    return store->ops->sync ? store->ops->sync(store) : APR_SUCCESS;
}

apr_status_t md_store_sync_dir(md_store_t *store, md_store_group_t group,
                               const char *name, apr_pool_t *p)
{
    return store->ops->sync_dir ? store->ops->sync_dir(store, group, name, p)
                                : APR_SUCCESS;
}

apr_status_t md_store_lock_global(md_store_t *store, apr_pool_t *p,
                                  apr_time_t max_wait)
{
    return store->ops->lock_global(store, p, max_wait);
}

void md_store_unlock_global(md_store_t *store, apr_pool_t *p)
{
    store->ops->unlock_global(store, p);
}

struct md_store_lock_t {
    md_store_t *store;
    void *backend_lock;
};

apr_status_t md_store_lock_name(md_store_lock_t **plock, md_store_t *store,
                                md_store_group_t group, const char *name,
                                apr_pool_t *p)
{
    md_store_lock_t *lock = NULL;
    void *backend_lock = NULL;
    apr_status_t rv;

    rv = store->ops->lock_name(&backend_lock, store, group, name, p);
    if (APR_SUCCESS == rv) {
        lock = apr_palloc(p, sizeof(*lock));
        lock->store = store;
        lock->backend_lock = backend_lock;
    }
    *plock = lock;
    return rv;
}

void md_store_unlock_name(md_store_lock_t *lock)
{
    if (!lock || !lock->backend_lock) return;
    lock->store->ops->unlock_name(lock->store, lock->backend_lock);
    lock->backend_lock = NULL;
}

/* --- iterating, on the backend's lists ----------------------------------------------- */

typedef struct {
    md_store_t *store;
    md_store_group_t group;
    const char *aspect;
    md_store_vtype_t vtype;
    md_store_inspect_cb *inspect;
    void *baton;
    const char *name;
    int stopped;
} iter_ctx;

static int iter_aspect_cb(void *baton, const char *aspect, apr_pool_t *p)
{
    iter_ctx *ctx = baton;
    apr_pool_t *ptemp;
    void *value;

    if (APR_SUCCESS != apr_pool_create(&ptemp, p)) return 0;
    if (APR_SUCCESS == md_store_load(ctx->store, ctx->group, ctx->name, aspect,
                                     ctx->vtype, &value, ptemp)) {
        ctx->stopped = !ctx->inspect(ctx->baton, ctx->name, aspect, ctx->vtype,
                                     value, ptemp);
    }
    apr_pool_destroy(ptemp);
    return !ctx->stopped;
}

static int iter_name_cb(void *baton, const char *name, apr_pool_t *p)
{
    iter_ctx *ctx = baton;

    ctx->name = name;
    ctx->store->ops->list_aspects(ctx->store, p, ctx->group, name, ctx->aspect,
                                  iter_aspect_cb, ctx);
    return !ctx->stopped;
}

apr_status_t md_store_iter(md_store_inspect_cb *cb, void *baton, md_store_t *store,
                           apr_pool_t *p, md_store_group_t group, const char *pattern,
                           const char *aspect, md_store_vtype_t vtype)
{
    iter_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.store = store;
    ctx.group = group;
    ctx.aspect = aspect;
    ctx.vtype = vtype;
    ctx.inspect = cb;
    ctx.baton = baton;
    return store->ops->list_names(store, p, group, pattern, iter_name_cb, &ctx);
}

apr_status_t md_store_iter_names(md_store_names_cb *cb, void *baton, md_store_t *store,
                                 apr_pool_t *p, md_store_group_t group,
                                 const char *pattern)
{
    return store->ops->list_names(store, p, group, pattern, cb, baton);
}

apr_status_t md_store_iter_aspects(md_store_names_cb *cb, void *baton, md_store_t *store,
                                   apr_pool_t *p, md_store_group_t group,
                                   const char *name, const char *pattern)
{
    return store->ops->list_aspects(store, p, group, name, pattern, cb, baton);
}

/* --- removing what is old ------------------------------------------------------------- */

typedef struct {
    md_store_t *store;
    md_store_group_t group;
    apr_time_t modified;
    const char *aspect_pattern;
    const char *name;
    apr_status_t rv;
} rm_old_ctx;

static int rm_old_aspect_cb(void *baton, const char *aspect, apr_pool_t *p)
{
    rm_old_ctx *ctx = baton;
    md_store_t *store = ctx->store;
    apr_time_t mtime;
    apr_status_t rv;

    mtime = store->ops->get_modified(store, ctx->group, ctx->name, aspect, p);
    if (!mtime || mtime >= ctx->modified) return 1;
    rv = store->ops->remove(store, ctx->group, ctx->name, aspect, p, 1);
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "AH10966: store: removed old %s/%s",
                  md_store_location(store, ctx->group, ctx->name, p), aspect);
    if (APR_SUCCESS != rv) {
        ctx->rv = rv;
    }
    return 1;
}

static int rm_old_name_cb(void *baton, const char *name, apr_pool_t *p)
{
    rm_old_ctx *ctx = baton;

    ctx->name = name;
    ctx->store->ops->list_aspects(ctx->store, p, ctx->group, name, ctx->aspect_pattern,
                                  rm_old_aspect_cb, ctx);
    return 1;
}

apr_status_t md_store_remove_not_modified_since(md_store_t *store, apr_pool_t *p,
                                                apr_time_t modified,
                                                md_store_group_t group,
                                                const char *name_pattern,
                                                const char *aspect_pattern)
{
    rm_old_ctx ctx;
    apr_status_t rv;

    memset(&ctx, 0, sizeof(ctx));
    ctx.store = store;
    ctx.group = group;
    ctx.modified = modified;
    ctx.aspect_pattern = aspect_pattern;
    rv = store->ops->list_names(store, p, group, name_pattern, rm_old_name_cb, &ctx);
    return changed(store, (APR_SUCCESS == rv) ? ctx.rv : rv);
}

/* --- local-only: files of the store --------------------------------------------------- */

apr_status_t md_store_get_fname(const char **pfname, md_store_t *store,
                                md_store_group_t group, const char *name,
                                const char *aspect, apr_pool_t *p)
{
    *pfname = NULL;
    if (!store->ops->get_fname) return APR_ENOTIMPL;
    return store->ops->get_fname(pfname, store, group, name, aspect, p);
}

const char *md_store_get_dir(md_store_t *store, md_store_group_t group,
                             const char *name, apr_pool_t *p)
{
    const char *dir;

    return (APR_SUCCESS == md_store_get_fname(&dir, store, group, name, NULL, p))
           ? dir : NULL;
}

const char *md_store_base_dir(md_store_t *store)
{
    return md_store_get_dir(store, MD_SG_NONE, NULL, store->p);
}

const char *md_store_location(md_store_t *store, md_store_group_t group,
                              const char *name, apr_pool_t *p)
{
    const char *dir = md_store_get_dir(store, group, name, p);
    const char *gname = md_store_group_name(group);

    if (dir) return dir;
    return apr_pstrcat(p, store->ops->name, ":", gname ? gname : "?",
                       name ? "/" : "", name ? name : "", NULL);
}

apr_status_t md_store_server_mark(apr_file_t **pfile, md_store_t *store, apr_pool_t *p)
{
    if (!store->ops->server_mark) return APR_ENOTIMPL;
    return store->ops->server_mark(pfile, store, p);
}

apr_status_t md_store_server_running(int *prunning, long *ppid, md_store_t *store,
                                     apr_pool_t *p)
{
    *prunning = 0;
    *ppid = 0;
    if (!store->ops->server_running) return APR_ENOTIMPL;
    return store->ops->server_running(prunning, ppid, store, p);
}

/* --- typed conveniences ------------------------------------------------------------ */

apr_status_t md_store_load_json(md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect,
                                md_json_t **pjson, apr_pool_t *p)
{
    return md_store_load(store, group, name, aspect, MD_SV_JSON, (void **)pjson, p);
}

apr_status_t md_store_save_json(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, const char *aspect,
                                md_json_t *json, int create)
{
    return md_store_save(store, p, group, name, aspect, MD_SV_JSON, json, create);
}

apr_status_t md_store_md_load(md_store_t *store, md_store_group_t group,
                              const char *name, md_t **pmd, apr_pool_t *p)
{
    md_json_t *json;
    md_t *md = NULL;
    apr_status_t rv;

    rv = md_store_load_json(store, group, name, MD_FN_MD, &json, p);
    if (APR_SUCCESS != rv) goto leave;
    md = md_from_json(json, p);
    if (!md) {
        rv = APR_EINVAL;
    }
leave:
    *pmd = (APR_SUCCESS == rv) ? md : NULL;
    return rv;
}

apr_status_t md_store_md_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                              const md_t *md, int create)
{
    md_json_t *json;

    if (!md || !md->name) return APR_EINVAL;
    json = md_to_json(md, p);
    if (!json) return APR_EINVAL;
    return md_store_save_json(store, p, group, md->name, MD_FN_MD, json, create);
}

apr_status_t md_store_md_remove(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, int force)
{
    return md_store_remove(store, group, name, MD_FN_MD, p, force);
}

apr_status_t md_store_pkey_load(md_store_t *store, md_store_group_t group,
                                const char *name, const md_pkey_spec_t *spec,
                                md_pkey_t **ppkey, apr_pool_t *p)
{
    return md_store_load(store, group, name, md_pkey_filename(spec, p), MD_SV_PKEY,
                         (void **)ppkey, p);
}

apr_status_t md_store_pkey_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, const md_pkey_spec_t *spec,
                                md_pkey_t *pkey, int create)
{
    return md_store_save(store, p, group, name, md_pkey_filename(spec, p), MD_SV_PKEY,
                         pkey, create);
}

apr_status_t md_store_chain_load(md_store_t *store, md_store_group_t group,
                                 const char *name, const md_pkey_spec_t *spec,
                                 apr_array_header_t **pchain, apr_pool_t *p)
{
    return md_store_load(store, group, name, md_chain_filename(spec, p), MD_SV_CHAIN,
                         (void **)pchain, p);
}

apr_status_t md_store_chain_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                 const char *name, const md_pkey_spec_t *spec,
                                 apr_array_header_t *chain, int create)
{
    return md_store_save(store, p, group, name, md_chain_filename(spec, p), MD_SV_CHAIN,
                         chain, create);
}
