/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The start-up's sync with the store (under the global lock with
 * MDStoreLocks) and the activation of what staging/ holds for each MD,
 * under the MD's lock, with the "installed" event.
 */
#include <httpd.h>
#include <http_log.h>

#include "md.h"
#include "md_job.h"
#include "md_json.h"
#include "md_live.h"
#include "md_reg.h"
#include "md_store.h"
#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_init.h"
#include "mod_md_init_int.h"

APLOG_USE_MODULE(md);

/* Staged certificates became active: tell MDMessageCmd ("installed", run
 * as the parent's user). The job with its log entry lands in tmp/NAME. */
static void md_init_installed(md_mod_rt_t *rt, md_t *md, md_json_t *json, apr_pool_t *p)
{
    md_mod_conf_t *mc = md_config_get_mod(rt->base_server);
    md_job_t *job;

    job = md_job_make(p, rt->store, MD_SG_TMP, md->name, mc->retry_delay);
    if (json) {
        md_job_from_json(job, json, p);
    }
    job->events = md_mod_events_make(rt, p);
    md_job_notify(job, "installed", NULL);
    md_job_save(job, p);
}

/* Activates what staging/ holds for md, under the MD's lock: a renewal
 * that the old generation's watchdog is still running on this MD writes
 * there (md_renew.c holds the lock meanwhile, with or without
 * MDStoreLocks). The start never waits for it: the staged set stays for
 * the next restart. Without staging/NAME and live/NAME there is nothing to
 * activate and no lock is taken (no lock file where the original has
 * none); a renewal that starts right then cannot stage a complete set
 * before this is done. */
static void activate_md(md_mod_rt_t *rt, md_t *md, server_rec *s, apr_pool_t *p)
{
    md_reg_lock_t *lock = NULL;
    md_json_t *job;
    apr_status_t rv = APR_SUCCESS;

    if (md_store_exists(rt->store, MD_SG_STAGING, md->name, NULL, p)
        || md_store_exists(rt->store, MD_SG_LIVE, md->name, NULL, p)) {
        rv = md_reg_lock_md(&lock, rt->reg, md->name, p);
    }
    if (APR_STATUS_IS_EAGAIN(rv)) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APLOGNO(10875)
                     "%s: a renewal is running on it, what it stages is activated at "
                     "the next restart", md->name);
        return;
    }
    if (APR_SUCCESS != rv) {
        /* e.g. a link that User put there: never followed, activate anyway */
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, APLOGNO(10876)
                     "%s: the MD's lock in staging/ cannot be taken, activating "
                     "without it", md->name);
    }
    md_reg_purge_errored_staging(rt->reg, md, p);
    /* MDActivation live: a set that served live is made permanent */
    md_live_restage(rt->store, md, apr_time_now(), p);
    if (APR_SUCCESS == md_reg_activate_staging(rt->reg, md, apr_time_now(), &job, p)) {
        md_init_installed(rt, md, job, p);
    }
    md_reg_unlock_md(lock);
}

/* Sync with the store and activate staged sets, under the global lock
 * when MDStoreLocks is on. */
static apr_status_t sync_mds(md_mod_rt_t *rt, const init_settings *set, server_rec *s,
                             apr_pool_t *p)
{
    apr_pool_t *ptemp;
    apr_status_t rv;
    int i, locked = 0;
    md_t *md;

    if (set->store_locks) {
        rv = md_store_lock_global(rt->store, p, set->lock_wait);
        if (APR_SUCCESS != rv) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10398)
                         "unable to obtain global registry lock, renewed certificates "
                         "may remain inactive on this httpd instance!");
            return APR_SUCCESS;
        }
        locked = 1;
    }
    rv = md_reg_sync_start(rt->reg, rt->mds, p);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10073)
                     "syncing %d mds to registry", rt->mds->nelts);
        goto leave;
    }
    apr_pool_create(&ptemp, p);
    for (i = 0; i < rt->mds->nelts; ++i) {
        md = APR_ARRAY_IDX(rt->mds, i, md_t *);
        apr_pool_clear(ptemp);
        activate_md(rt, md, s, ptemp);
        rv = md_reg_sync_finish(rt->reg, md, ptemp);
        if (APR_SUCCESS != rv) goto leave;
    }
    md_reg_purge_stale_challenges(rt->reg, rt->mds, p);
    md_reg_set_aside_broken_accounts(rt->reg, p);
    if (set->ocsp_keep > 0) {
        md_store_remove_not_modified_since(rt->store, p, apr_time_now() - set->ocsp_keep,
                                           MD_SG_OCSP, "*", "ocsp*.json");
    }
leave:
    if (locked) {
        md_store_unlock_global(rt->store, p);
    }
    return rv;
}

/* The store's JSON and chains of every MD are read here (megabytes with
 * thousands of MDs): in pools of an allocator of their own, handed back to
 * malloc before mod_ssl loads its certificates, so that the parent's peak
 * memory does not hold both. */
apr_status_t sync_store(md_mod_rt_t *rt, const init_settings *set, server_rec *s,
                        apr_pool_t *ptemp)
{
    apr_allocator_t *allocator;
    apr_pool_t *work;
    apr_status_t rv;

    rv = apr_allocator_create(&allocator);
    if (APR_SUCCESS != rv) return rv;
    rv = apr_pool_create_ex(&work, ptemp, NULL, allocator);
    if (APR_SUCCESS != rv) {
        apr_allocator_destroy(allocator);
        return rv;
    }
    apr_allocator_owner_set(allocator, work);
    rv = sync_mds(rt, set, s, work);
    apr_pool_destroy(work);
    return rv;
}
