/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Status interfaces: the md-status handler, /.httpd/certificate-status and
 * the server-status section. Each MD's documents are built once and kept
 * in a per-process cache; an entry is rebuilt when its staging job changed
 * on disk or its renew time passed, so requests copy text instead of
 * re-reading the store.
 */
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_optional_hooks.h>
#include <mod_status.h>

#include "md.h"
#include "md_ari.h"
#include "md_job.h"
#include "md_json.h"
#include "md_result.h"
#include "md_ocsp.h"
#include "md_reg.h"
#include "md_status.h"
#include "md_store.h"
#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_db.h"
#include "mod_md_drive.h"
#include "mod_md_init.h"
#include "mod_md_live.h"
#include "mod_md_status.h"

APLOG_USE_MODULE(md);

#define MD_STATUS_HANDLER       "md-status"
#define MD_CERT_STATUS_PATH     "/.httpd/certificate-status"

/* --- the cache ---------------------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;                  /* own pool, replaced with the entry */
    md_status_entry_t *entry;
    apr_time_t job_mtime;           /* of staging/NAME/job.json when built */
    apr_uint32_t memo_version;      /* of the unsaved job when built */
    int volatile_input;             /* built from state not on disk: rebuild */
} cache_slot;

/* How long the files of all MDs are not looked at again when no process
 * changed anything through the store (others: a2md, a server sharing it). */
#define CACHE_LOOK_INTERVAL     apr_time_from_sec(1)

typedef struct {
    md_mod_rt_t *rt;                /* the generation the cache belongs to */
    apr_pool_t *p;                  /* own, unmanaged: slots and the hash */
    apr_thread_mutex_t *mutex;
    apr_hash_t *slots;              /* md name -> cache_slot* */
    apr_time_t looked_at;           /* when the files of all MDs were checked */
    apr_uint32_t looked_changes;    /* the store's change counter then */
} status_cache;

/* Made in child_init, before any request thread runs: request threads only
 * read the pointer, and all the cache allocates comes from its own pool
 * under its mutex (rt->p is the configuration pool, not to be allocated
 * from by several threads). */
static status_cache *cache;

static apr_status_t cache_cleanup(void *data)
{
    status_cache *c = data;
    apr_hash_index_t *hi;
    cache_slot *slot;

    for (hi = apr_hash_first(NULL, c->slots); hi; hi = apr_hash_next(hi)) {
        slot = apr_hash_this_val(hi);
        if (slot->p) {
            apr_pool_destroy(slot->p);
        }
    }
    if (cache == c) {
        cache = NULL;
    }
    apr_pool_destroy(c->p);
    return APR_SUCCESS;
}

static void md_status_child_init(apr_pool_t *pchild, server_rec *s)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    apr_pool_t *p;
    status_cache *c;

    (void)s;
    cache = NULL;
    if (!rt || APR_SUCCESS != apr_pool_create_unmanaged_ex(&p, NULL, NULL)) return;
    c = apr_pcalloc(p, sizeof(*c));
    c->p = p;
    c->rt = rt;
    c->slots = apr_hash_make(p);
    if (APR_SUCCESS != apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p)) {
        apr_pool_destroy(p);
        return;
    }
    apr_pool_cleanup_register(pchild, c, cache_cleanup, apr_pool_cleanup_null);
    cache = c;
}

/* The cache of the current generation (NULL: none, the request fails). */
static status_cache *cache_get(md_mod_rt_t *rt)
{
    status_cache *c = cache;

    return (c && c->rt == rt) ? c : NULL;
}

/* What start-up found wrong in the store (rt->store_notices): the job's
 * last result when it has no error of its own, else subproblems of it. */
static void add_store_notices(md_job_t *job, const apr_array_header_t *notices,
                              apr_pool_t *p)
{
    const md_result_t *notice;
    md_json_t *sub;
    int i;

    for (i = 0; i < notices->nelts; ++i) {
        notice = APR_ARRAY_IDX(notices, i, const md_result_t *);
        if (!job->last || APR_SUCCESS == job->last->status) {
            job->last = md_result_make(p, notice->status);
            md_result_dup(job->last, notice);
            continue;
        }
        if (!job->last->subproblems) {
            job->last->subproblems = md_json_create_array(p);
        }
        sub = md_json_create(p);
        md_json_sets(notice->problem, sub, "type", NULL);
        md_json_sets(notice->detail, sub, MD_KEY_DETAIL, NULL);
        md_json_addj(sub, job->last->subproblems, NULL);
    }
}

/* What md-status must show although job.json does not say it: a renewal
 * job this process' watchdog could not save, the store being unusable or
 * repaired at start-up. 1 if the input was changed (the entry must then
 * not be cached). */
static int override_job(md_mod_rt_t *rt, md_status_input_t *in, apr_pool_t *p)
{
    md_json_t *unsaved = md_drive_unsaved_job(in->md->name, p);
    md_job_t *job;

    if (!unsaved && !rt->store_error && !rt->store_notices) return 0;
    job = md_job_make(p, NULL, MD_SG_STAGING, in->md->name, 0);
    if (unsaved) {
        md_job_from_json(job, unsaved, p);
    }
    else if (in->job) {
        md_job_from_json(job, md_job_to_json(in->job, 1, p), p);
    }
    if (rt->store_error) {
        job->last = md_result_make(p, APR_EACCES);
        md_result_set(job->last, APR_EACCES, apr_pstrcat(p, rt->store_error,
                      ": no renewals until it is repaired and the server restarted",
                      NULL));
    }
    if (rt->store_notices) {
        add_store_notices(job, rt->store_notices, p);
    }
    in->job = job;
    return 1;
}

static apr_uint32_t store_changes(status_cache *c)
{
    return c->rt->store_changes ? apr_atomic_read32(c->rt->store_changes) : 0;
}

/* 0 when the files of all MDs were checked less than a moment ago and no
 * process of the server changed the store since (call with the mutex). */
static int cache_must_look(status_cache *c, apr_time_t now, apr_uint32_t changes)
{
    return !c->rt->store_changes || !c->looked_at || changes != c->looked_changes
           || now < c->looked_at || now - c->looked_at >= CACHE_LOOK_INTERVAL;
}

/* The current entry of md; call with the cache mutex held. look: check
 * md's files for changes (else only the clock and unsaved jobs). */
static md_status_entry_t *cache_entry(status_cache *c, const md_t *md, apr_time_t now,
                                      int look, apr_pool_t *ptemp)
{
    cache_slot *slot = apr_hash_get(c->slots, md->name, APR_HASH_KEY_STRING);
    apr_uint32_t memo_version = md_drive_unsaved_version(md->name);
    md_status_input_t *in;
    apr_time_t job_mtime, expires;
    apr_pool_t *p;

    /* a set gone live changes this process' view of the certificates */
    md_live_refresh(md);
    if (!look && slot && slot->entry && !slot->volatile_input
        && slot->memo_version == memo_version) {
        expires = md_status_entry_expires(slot->entry);
        if (!expires || expires > now) return slot->entry;
    }
    job_mtime = c->rt->store ? md_store_get_modified(c->rt->store, MD_SG_STAGING, md->name,
                                                     MD_FN_JOB, ptemp) : 0;
    /* new renewal information (ARI) changes "ari" and "renew-at" */
    if (md->ari_renewals && c->rt->store) {
        job_mtime += md_store_get_modified(c->rt->store, MD_SG_STAGING, md->name, MD_FN_ARI,
                                           ptemp);
    }
    /* a refreshed OCSP response changes the MD's "ocsp" members (stapling) */
    if (md->stapling > 0 && c->rt->store) {
        job_mtime += md_store_get_modified(c->rt->store, MD_SG_OCSP, md->name, MD_FN_JOB, ptemp);
    }
    if (slot && slot->entry && slot->job_mtime == job_mtime && !slot->volatile_input
        && slot->memo_version == memo_version) {
        expires = md_status_entry_expires(slot->entry);
        if (!expires || expires > now) return slot->entry;
    }
    if (!slot) {
        slot = apr_pcalloc(c->p, sizeof(*slot));
        apr_hash_set(c->slots, apr_pstrdup(c->p, md->name), APR_HASH_KEY_STRING, slot);
    }
    if (APR_SUCCESS != apr_pool_create_unmanaged_ex(&p, NULL, NULL)) return slot->entry;
    if (APR_SUCCESS == md_status_input_load(&in, c->rt->reg, md, now, p)) {
        md_ocsp_status_fill(md_config_get_mod(c->rt->base_server)->ocsp, in, now, p);
        slot->volatile_input = override_job(c->rt, in, p);
    }
    else {
        in = NULL;
    }
    if (!in || APR_SUCCESS != md_status_entry_make(&slot->entry, in, now, p)) {
        apr_pool_destroy(p);
        return slot->entry;
    }
    if (slot->p) {
        apr_pool_destroy(slot->p);
    }
    slot->p = p;
    slot->job_mtime = job_mtime;
    slot->memo_version = memo_version;
    return slot->entry;
}

/* The current entries of all MDs; call with the cache mutex held. */
static apr_array_header_t *cache_entries(status_cache *c, apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *mds = c->rt->mds;
    apr_array_header_t *entries = apr_array_make(p, mds->nelts, sizeof(md_status_entry_t *));
    apr_uint32_t changes = store_changes(c);
    md_status_entry_t *entry;
    int i, look = cache_must_look(c, now, changes);

    for (i = 0; i < mds->nelts; ++i) {
        entry = cache_entry(c, APR_ARRAY_IDX(mds, i, md_t *), now, look, p);
        if (entry) {
            APR_ARRAY_PUSH(entries, md_status_entry_t *) = entry;
        }
    }
    if (look) {
        c->looked_at = now;
        c->looked_changes = changes;
    }
    return entries;
}

/* --- md-status ---------------------------------------------------------------------- */

static int send_json_text(request_rec *r, const char *text)
{
    apr_size_t len = strlen(text);

    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
    }
    return OK;
}

/* The MD the last path segment names (MD name, then a domain in an MD). */
static md_t *md_from_path(const char *uri)
{
    const char *name = uri ? strrchr(uri, '/') : NULL;
    md_t *md;

    if (!name || !*++name) return NULL;
    md = md_mod_md_by_name(name);
    return md ? md : md_mod_md_for_host(name);
}

static int md_status_handler(request_rec *r)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    apr_array_header_t *entries;
    md_status_entry_t *entry;
    status_cache *c;
    const char *text;
    apr_time_t now = apr_time_now();
    md_t *md;

    if (!r->handler || strcmp(MD_STATUS_HANDLER, r->handler)) return DECLINED;
    if (M_GET != r->method_number) return HTTP_NOT_IMPLEMENTED;
    if (!rt || !rt->reg || !(c = cache_get(rt))) return HTTP_SERVICE_UNAVAILABLE;

    md = md_from_path(r->uri);
    apr_thread_mutex_lock(c->mutex);
    if (md) {
        entry = cache_entry(c, md, now, 1, r->pool);
        text = entry ? md_status_entry_md_text(entry, now, r->pool) : NULL;
    }
    else {
        entries = cache_entries(c, now, r->pool);
        text = md_db_status_add(md_status_mds_text(entries, MOD_MD_VERSION, now,
                                                   r->pool), r->pool);
    }
    apr_thread_mutex_unlock(c->mutex);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10204) "loading md status for %s",
                      md ? md->name : "all");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_json_text(r, text);
}

const char *md_status_render_mds(md_status_render_fn *fn, void *baton, apr_pool_t *p)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    apr_array_header_t *entries, *mds;
    apr_time_t now = apr_time_now();
    status_cache *c;
    const char *text;
    int i;

    if (!rt || !rt->reg || !(c = cache_get(rt))) return NULL;
    apr_thread_mutex_lock(c->mutex);
    entries = cache_entries(c, now, p);
    mds = apr_array_make(p, entries->nelts, sizeof(const md_json_t *));
    for (i = 0; i < entries->nelts; ++i) {
        APR_ARRAY_PUSH(mds, const md_json_t *) =
            md_status_entry_json(APR_ARRAY_IDX(entries, i, md_status_entry_t *));
    }
    text = fn(baton, mds, now, p);
    apr_thread_mutex_unlock(c->mutex);
    return text;
}

/* --- /.httpd/certificate-status -------------------------------------------------------- */

static int md_cert_status(request_rec *r)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    md_status_entry_t *entry;
    status_cache *c;
    const char *text = NULL;
    md_t *md;

    if (!rt || !rt->reg || !r->parsed_uri.path
        || strcmp(MD_CERT_STATUS_PATH, r->parsed_uri.path)
        || !md_config_geti(md_config_get(r->server), MD_CONFIG_CERT_STATUS)
        || !r->hostname || !(md = md_mod_md_for_host(r->hostname))) {
        return DECLINED;
    }
    if (M_GET != r->method_number) return HTTP_NOT_IMPLEMENTED;
    if (!(c = cache_get(rt))) return HTTP_INTERNAL_SERVER_ERROR;
    apr_thread_mutex_lock(c->mutex);
    entry = cache_entry(c, md, apr_time_now(), 1, r->pool);
    if (entry) {
        text = apr_pstrdup(r->pool, md_status_entry_cert_status_text(entry));
    }
    apr_thread_mutex_unlock(c->mutex);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10204) "loading md status for %s",
                      md->name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    r->status = HTTP_OK;
    send_json_text(r, text);
    ap_finalize_request_protocol(r);
    return DONE;
}

/* --- server-status ------------------------------------------------------------------ */

static int md_server_status(request_rec *r, int flags)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    md_status_text_opts_t opts;
    apr_array_header_t *entries;
    status_cache *c;
    md_srv_conf_t *sc = md_config_get(r->server);
    const char *text;

    if (!rt || !rt->reg || rt->mds->nelts == 0
        || !md_config_geti(sc, MD_CONFIG_SERVER_STATUS) || !(c = cache_get(rt))) {
        return DECLINED;
    }
    memset(&opts, 0, sizeof(opts));
    opts.now = apr_time_now();
    opts.html = !(flags & AP_STATUS_SHORT);
    opts.cert_check_name = md_config_gets(sc, MD_CONFIG_CERT_CHECK_NAME);
    opts.cert_check_url = md_config_gets(sc, MD_CONFIG_CERT_CHECK_URL);
    /* rendered under the lock: entries keep their rows' static parts */
    apr_thread_mutex_lock(c->mutex);
    entries = cache_entries(c, opts.now, r->pool);
    text = md_status_entries_server_text(entries, &opts, r->pool);
    apr_thread_mutex_unlock(c->mutex);
    if (text && *text) {
        ap_rputs(text, r);
    }
    return OK;
}

void md_status_register_hooks(apr_pool_t *pool)
{
    static const char *const mod_ssl[] = { "mod_ssl.c", NULL };

    (void)pool;
    ap_hook_child_init(md_status_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(md_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(md_cert_status, NULL, mod_ssl, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, md_server_status, NULL, NULL, APR_HOOK_MIDDLE);
}
