/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The renewal watchdog: a mod_watchdog task ("_md_renew_") in one child
 * process that calls the core scheduler (md_renew_run) for the watched MDs
 * and sleeps until the time it returns (mod_md_watchdog.c reschedules it).
 * Renewals never run during start-up.
 */
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "md.h"
#include "md_acme_drive.h"
#include "md_ari.h"
#include "md_event.h"
#include "md_job.h"
#include "md_json.h"
#include "md_log.h"
#include "md_reg.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_time.h"
#include "md_util.h"
#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_live.h"
#include "mod_md_metrics.h"
#include "mod_md_drive.h"
#include "mod_md_init.h"
#include "mod_md_watchdog.h"
#include "mod_md_db.h"

APLOG_USE_MODULE(md);

#define MD_RENEW_WATCHDOG_NAME  "_md_renew_"
#define MD_MAX_PARALLEL_RENEWALS 8

static md_renew_memo_t *unsaved_jobs;     /* of the current generation */

typedef struct {
    apr_pool_t *p;
    server_rec *s;
    md_renew_opts_t opts;
    apr_array_header_t *mds;        /* watched md_t* */
    apr_interval_time_t initial_delay;
    apr_time_t next_run;
    int started;
    const char *probe_dir;          /* set: the store was not usable at start-up,
                                     * renewals wait until this dir is writable */
} md_drive_ctx;

/* How often a store that could not be written at start-up is looked at. */
#define STORE_PROBE_INTERVAL    apr_time_from_sec(10)

/* 1 if the child can write the store's staging/ again (a read-only mount
 * made writable, a full disk with room again). */
static int store_writable(const md_drive_ctx *dctx, apr_pool_t *ptemp)
{
    const char *path = apr_psprintf(ptemp, "%s/.probe-%" APR_PID_T_FMT, dctx->probe_dir,
                                    getpid());
    apr_status_t rv = md_util_fwrite(path, MD_FPROT_F_UONLY, "probe", 0, ptemp);

    apr_file_remove(path, ptemp);
    return APR_SUCCESS == rv;
}

md_json_t *md_drive_unsaved_job(const char *name, apr_pool_t *p)
{
    return unsaved_jobs ? md_renew_memo_get(unsaved_jobs, name, p) : NULL;
}

apr_uint32_t md_drive_unsaved_version(const char *name)
{
    return unsaved_jobs ? md_renew_memo_version(unsaved_jobs, name) : 0;
}

static apr_status_t memo_reset(void *data)
{
    if (unsaved_jobs == data) {
        unsaved_jobs = NULL;
    }
    return APR_SUCCESS;
}

/* The watchdog thread starts or stops. */
static void renew_state(void *baton, int starting)
{
    md_drive_ctx *dctx = baton;

    if (starting) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, dctx->s, APLOGNO(10054)
                     "md watchdog start, auto drive %d mds", dctx->mds->nelts);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, dctx->s, APLOGNO(10058)
                     "md watchdog stopping");
    }
}

/* One turn: the initial delay, a look at a store not yet writable, or a
 * renewal run (mod_md_watchdog.h). */
static apr_status_t renew_run(void *baton, apr_interval_time_t *pwait, apr_pool_t *ptemp)
{
    md_drive_ctx *dctx = baton;
    apr_time_t publish_at;
    apr_status_t rv;

    if (!dctx->started && dctx->initial_delay > 0) {
        dctx->started = 1;
        *pwait = dctx->initial_delay;
        return APR_EAGAIN;
    }
    dctx->started = 1;
    if (dctx->probe_dir) {
        *pwait = STORE_PROBE_INTERVAL;
        if (!store_writable(dctx, ptemp)) return APR_EAGAIN;
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, dctx->s, APLOGNO(10750)
                     "the store can be written again (%s): renewals resume; a "
                     "graceful restart activates what they stage",
                     dctx->probe_dir);
        dctx->probe_dir = NULL;
        /* md-status of this process no longer reports it */
        md_mod_rt_get()->store_error = NULL;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, dctx->s, APLOGNO(10055)
                 "md watchdog run, auto drive %d mds", dctx->mds->nelts);
    dctx->opts.lock_failures = md_metrics_lock_failures();
    md_live_refresh_all();
    rv = md_renew_run(&dctx->opts, dctx->mds, apr_time_now(), &dctx->next_run, ptemp);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, dctx->s, APLOGNO(10603)
                     "processing %s: %s", "all", "renewal run failed");
    }
    publish_at = md_db_publish_pending(&dctx->opts, dctx->mds, ptemp);
    if (publish_at > 0 && (!dctx->next_run || publish_at < dctx->next_run)) {
        dctx->next_run = publish_at;
    }
    *pwait = dctx->next_run - apr_time_now();
    return APR_SUCCESS;
}

static const md_watchdog_task_def_t renew_task = {
    MD_RENEW_WATCHDOG_NAME, APLOGNO(10107) "next run in ", renew_run, renew_state,
};

/* What the ACME drive gets from the configuration: global settings and
 * the usable challenge types per MD. */
typedef struct {
    md_acme_drive_opts_t acme;
    apr_hash_t *challenge_types;    /* md name -> apr_array_header_t* */
    apr_hash_t *no_challenges;      /* md name -> why none is usable */
} md_drive_settings;

/* "challenge-setup:<type>:<domain>" before the CA validates. */
static int on_challenge_setup(void *baton, const char *md_name, const char *type,
                              const char *domain, apr_pool_t *p)
{
    md_job_t *job = baton;
    const char *reason = apr_psprintf(p, "challenge-setup:%s:%s", type, domain);

    md_db_challenge_setup(domain, p);
    if (APR_SUCCESS != md_job_notify(job, reason, NULL)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "%s: event '%s' failed. aborting "
                      "challenge setup", domain, reason);
        return 1;
    }
    (void)md_name;
    return 0;
}

/* The renewal judges time by its job's clock. */
static apr_time_t job_clock(void *baton)
{
    return md_job_now(baton);
}

static apr_status_t drive_acme(const md_renew_opts_t *opts, md_t *md, md_job_t *job,
                               md_result_t *result, apr_pool_t *p)
{
    const md_drive_settings *ds = opts->drive_baton;
    md_acme_drive_opts_t aopts = ds->acme;
    apr_time_t from, start;
    apr_status_t rv;

    /* the registry holds the current certificates, loaded by the parent */
    if (MD_S_COMPLETE == md->state) {
        md_reg_valid_period(&from, &aopts.current_until, opts->reg, md, p);
    }
    aopts.challenge_types = apr_hash_get(ds->challenge_types, md->name,
                                         APR_HASH_KEY_STRING);
    aopts.no_challenges = apr_hash_get(ds->no_challenges, md->name, APR_HASH_KEY_STRING);
    /* "replaces": the parent loaded the certificates, the child cannot read them */
    aopts.ari_cert_ids = md_ari_cert_ids(opts->reg, md, p);
    aopts.on_challenge_setup = on_challenge_setup;
    aopts.on_challenge_setup_baton = job;
    aopts.now_cb = job_clock;
    aopts.clock_baton = job;
    start = apr_time_now();
    rv = md_acme_drive_renew(opts->store, md, &aopts, result, p);
    md_metrics_order_done(APR_SUCCESS == rv, apr_time_now() - start);
    return rv;
}

/* Challenge types md can use when it configures none, in the order
 * tls-alpn-01, http-01, dns-01 (contract.md 7.1, user guide). */
static apr_array_header_t *usable_challenges(md_mod_rt_t *rt, const md_t *md,
                                             const char *dns01_cmd, apr_pool_t *p)
{
    apr_array_header_t *types = apr_array_make(p, 3, sizeof(const char *));

    if (rt->https_reachable && md->acme_tls_1_domains->nelts > 0) {
        APR_ARRAY_PUSH(types, const char *) = MD_AUTHZ_TYPE_TLSALPN01;
    }
    if (rt->http_reachable) {
        APR_ARRAY_PUSH(types, const char *) = MD_AUTHZ_TYPE_HTTP01;
    }
    if (md->dns01_cmd || dns01_cmd) {
        APR_ARRAY_PUSH(types, const char *) = MD_AUTHZ_TYPE_DNS01;
    }
    return types;
}

/* Why md cannot use any challenge type (as the original words it). */
static const char *no_challenges_why(md_mod_rt_t *rt, const md_t *md,
                                     const char *dns01_cmd, apr_pool_t *p)
{
    return apr_pstrcat(p, "None of the ACME challenge methods configured for this "
                       "domain are suitable.",
                       rt->http_reachable ? "" : " The http: challenge 'http-01' is "
                       "disabled because the server seems not reachable on public port 80.",
                       !rt->https_reachable ? " The https: challenge 'tls-alpn-01' is "
                       "disabled because the server seems not reachable on public port 443."
                       : (md->acme_tls_1_domains->nelts == 0 ? " The https: challenge "
                          "'tls-alpn-01' is disabled because the Protocols configuration "
                          "does not include the 'acme-tls/1' protocol." : ""),
                       (md->dns01_cmd || dns01_cmd) ? "" : " The DNS challenge 'dns-01' "
                       "is disabled because the directive 'MDChallengeDns01' is not "
                       "configured.", NULL);
}

static md_drive_settings *drive_settings(md_mod_rt_t *rt, md_mod_conf_t *mc,
                                         apr_array_header_t *mds, server_rec *s,
                                         apr_pool_t *p)
{
    md_drive_settings *ds = apr_pcalloc(p, sizeof(*ds));
    apr_array_header_t *types;
    const char *why;
    md_t *md;
    int i;

    md_acme_drive_opts_init(&ds->acme);
    md_acme_acct_cache_create(&ds->acme.acct_cache, p);
    ds->acme.dns01_cmd = mc->dns01_cmd;
    ds->acme.dns01_version = mc->dns01_version;
    ds->acme.ca_file = mc->ca_certs;
    ds->acme.proxy_url = mc->proxy_url;
    ds->acme.proxy_ca_file = mc->proxy_ca_certs;
    ds->acme.activation_delay = mc->activation_delay;
    ds->challenge_types = apr_hash_make(p);
    ds->no_challenges = apr_hash_make(p);
    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, md_t *);
        if (md->ca_challenges && md->ca_challenges->nelts > 0) {
            continue;
        }
        types = usable_challenges(rt, md, mc->dns01_cmd, p);
        apr_hash_set(ds->challenge_types, md->name, APR_HASH_KEY_STRING, types);
        if (types->nelts > 0) {
            continue;
        }
        /* each renewal fails with this (AH10056), as the original's */
        why = no_challenges_why(rt, md, mc->dns01_cmd, p);
        apr_hash_set(ds->no_challenges, md->name, APR_HASH_KEY_STRING, why);
        if (!md->cert_files || md->cert_files->nelts == 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10173) "md[%s]: %s",
                         md->name, why);
        }
    }
    return ds;
}

/* How ARI requests reach the CAs (as renewals do). */
static const md_ari_conn_t *ari_conn(md_mod_conf_t *mc, apr_pool_t *p)
{
    md_ari_conn_t *conn = apr_pcalloc(p, sizeof(*conn));

    conn->ca_file = mc->ca_certs;
    conn->proxy_url = mc->proxy_url;
    conn->proxy_ca_file = mc->proxy_ca_certs;
    return conn;
}

/* The MDs the watchdog looks after (AH10074/AH10075). */
static apr_array_header_t *watched_mds(md_mod_rt_t *rt, apr_pool_t *p)
{
    apr_array_header_t *mds = apr_array_make(p, rt->mds->nelts, sizeof(md_t *));
    apr_hash_t *used = apr_hash_make(p);
    apr_hash_index_t *hi;
    apr_array_header_t *smds;
    md_t *md;
    int i;

    for (hi = apr_hash_first(p, rt->server_mds); hi; hi = apr_hash_next(hi)) {
        smds = apr_hash_this_val(hi);
        for (i = 0; i < smds->nelts; ++i) {
            md = APR_ARRAY_IDX(smds, i, md_t *);
            apr_hash_set(used, md->name, APR_HASH_KEY_STRING, md);
        }
    }
    for (i = 0; i < rt->mds->nelts; ++i) {
        md = APR_ARRAY_IDX(rt->mds, i, md_t *);
        md->watched = md_renew_is_watched(md, apr_hash_get(used, md->name,
                                                           APR_HASH_KEY_STRING) != NULL);
        if (md->watched) {
            APR_ARRAY_PUSH(mds, md_t *) = md;
        }
    }
    return mds;
}

static int md_post_config_after_ssl(apr_pool_t *pconf, apr_pool_t *plog,
                                    apr_pool_t *ptemp, server_rec *s)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    md_srv_conf_t *sc = md_config_get(s);
    md_mod_conf_t *mc = sc->mc;
    md_watchdog_task_t *task;
    md_drive_ctx *dctx;
    apr_status_t rv;

    (void)plog;
    /* after the activations and mod_ssl's fallbacks */
    if (rt && !rt->store_error) {
        md_init_store_group(rt, s, ptemp);
    }
    if (rt && rt->reg) {
        rv = md_reg_sync(rt->reg);
        if (APR_SUCCESS != rv) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, APLOGNO(10694)
                         "syncing the store's start-up writes to disk failed");
        }
    }
    if (!rt || !rt->reg || rt->dry_run) return OK;
    if (rt->store_error && (!rt->store || md_store_fs_is_readonly(rt->store))) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10631)
                     "no certificate renewals: %s", rt->store_error);
        return OK;
    }
    dctx = apr_pcalloc(pconf, sizeof(*dctx));
    if (rt->store_error) {
        /* opened, but not writable (a read-only mount, a full disk): the
         * watchdog looks again and renews once it can */
        dctx->probe_dir = md_store_get_dir(rt->store, MD_SG_STAGING, NULL, pconf);
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10751)
                     "no certificate renewals: %s; looking at %s again every %s",
                     rt->store_error, dctx->probe_dir,
                     md_duration_print(ptemp, STORE_PROBE_INTERVAL));
    }
    dctx->p = pconf;
    dctx->s = s;
    dctx->mds = watched_mds(rt, pconf);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10074)
                 "%d out of %d mds need watching", dctx->mds->nelts, rt->mds->nelts);
    if (dctx->mds->nelts == 0) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10075) "no mds to supervise");
        return OK;
    }
    if (!md_watchdog_available()) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APLOGNO(10061) "mod_watchdog is required");
        return !OK;
    }
    dctx->opts.reg = rt->reg;
    dctx->opts.store = rt->store;
    dctx->opts.events = md_mod_events_make(rt, pconf);
    md_event_set_default(dctx->opts.events);
    dctx->opts.ocsp = mc->ocsp;
    dctx->opts.crl = mc->crl;
    dctx->opts.drive = drive_acme;
    dctx->opts.go_live = md_live_go;
    dctx->opts.drive_baton = drive_settings(rt, mc, dctx->mds, s, pconf);
    dctx->opts.retry_delay = mc->retry_delay;
    dctx->opts.retry_failover = mc->retry_failover;
    dctx->opts.activation_delay = mc->activation_delay;
    dctx->opts.check_interval = mc->check_interval;
    dctx->opts.max_parallel = MD_MAX_PARALLEL_RENEWALS;
    dctx->opts.store_locks = mc->use_store_locks;
    dctx->opts.ari_conn = ari_conn(mc, pconf);
    if (APR_SUCCESS == md_renew_memo_create(&dctx->opts.memo, pconf)) {
        /* in shared memory too: md-status of every child shows such jobs */
        md_renew_memo_share(dctx->opts.memo, dctx->mds, pconf);
        unsaved_jobs = dctx->opts.memo;
        apr_pool_cleanup_register(pconf, unsaved_jobs, memo_reset, apr_pool_cleanup_null);
    }
    md_db_drive_wrap(&dctx->opts, pconf);
    dctx->initial_delay = mc->initial_delay;
    rv = md_watchdog_task_create(&task, &renew_task, dctx, s, pconf);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APLOGNO(10066)
                     "create md renew watchdog(%s)", MD_RENEW_WATCHDOG_NAME);
        return !OK;
    }
    rv = md_watchdog_task_start(task);
    ap_log_error(APLOG_MARK, rv ? APLOG_CRIT : APLOG_DEBUG, rv, s, APLOGNO(10067)
                 "register md renew watchdog(%s)", MD_RENEW_WATCHDOG_NAME);
    return (APR_SUCCESS == rv) ? OK : !OK;
}

void md_drive_register_hooks(apr_pool_t *pool)
{
    static const char *const mod_ssl[] = { "mod_ssl.c", NULL };
    static const char *const mod_wd[] = { "mod_watchdog.c", NULL };

    (void)pool;
    ap_hook_post_config(md_post_config_after_ssl, mod_ssl, mod_wd, APR_HOOK_MIDDLE);
}
