/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Stapling in the module (contract.md 8.1, 8.6): mod_ssl primes each
 * certificate through ssl_ocsp_prime_hook and asks for the response in
 * every handshake through ssl_ocsp_get_resp_hook; the "_md_ocsp_" watchdog
 * keeps the responses fresh in the background; server-status shows them.
 */
#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_optional_hooks.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_ssl.h>
#include <ap_release.h>
#include <mod_status.h>

#include "md.h"
#include "md_crypto.h"
#include "md_event.h"
#include "md_ocsp.h"
#include "md_status.h"
#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_init.h"
#include "mod_md_live.h"
#include "mod_md_ocsp.h"
#include "mod_md_watchdog.h"

APLOG_USE_MODULE(md);

#define MD_OCSP_WATCHDOG_NAME   "_md_ocsp_"

/* Whether stapling applies to s (contract.md 8.6), and under which name
 * its certificates are filed (NULL: "other"). */
static int staple_here(server_rec *s, const char **pname)
{
    md_srv_conf_t *sc = md_config_get(s);
    md_t *md = md_mod_server_md(s);

    *pname = md ? md->name : NULL;
    if (md && md->stapling > 0) return 1;
    return md_config_geti(sc, MD_CONFIG_STAPLING)
           && md_config_geti(sc, MD_CONFIG_STAPLE_OTHERS);
}

/* The registry of this generation, created on first use (mod_ssl primes
 * during its post_config, which runs after the module's set-up). */
static md_ocsp_reg_t *ocsp_reg_get(server_rec *s)
{
    md_mod_conf_t *mc = md_config_get_mod(s);
    md_mod_rt_t *rt = md_mod_rt_get();
    apr_status_t rv;

    if (mc->ocsp || !rt || !rt->store) return mc->ocsp;
    rv = md_ocsp_reg_make(&mc->ocsp, rt->p, rt->store, mc->ocsp_renew_window,
                          AP_SERVER_BASEVERSION, mc->proxy_url, mc->retry_delay);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10196) "setup ocsp registry");
        mc->ocsp = NULL;
        return NULL;
    }
    md_ocsp_reg_set_ca_file(mc->ocsp, mc->ca_certs);
    md_ocsp_reg_set_events(mc->ocsp, md_mod_events_make(rt, rt->p));
    md_ocsp_reg_set_dry_run(mc->ocsp, rt->dry_run);
    return mc->ocsp;
}

/* --- mod_ssl hooks ------------------------------------------------------------------ */

static int ocsp_prime_hook(server_rec *s, apr_pool_t *p, const char *id, apr_size_t id_len,
                           const char *pem)
{
    apr_array_header_t *chain;
    const char *name;
    apr_status_t rv;

    if (!staple_here(s, &name) || !ocsp_reg_get(s)) return DECLINED;
    chain = apr_array_make(p, 5, sizeof(md_cert_t *));
    rv = md_chain_read_pem(chain, p, pem, pem ? strlen(pem) : 0);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10268) "init stapling for: %s, "
                     "unable to parse PEM data", name ? name : s->server_hostname);
        return DECLINED;
    }
    if (chain->nelts < 2) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10269) "init stapling for: %s, "
                     "need at least 2 certificates in PEM data",
                     name ? name : s->server_hostname);
        return DECLINED;
    }
    rv = md_ocsp_prime(md_config_get_mod(s)->ocsp, id, id_len,
                       APR_ARRAY_IDX(chain, 0, md_cert_t *),
                       APR_ARRAY_IDX(chain, 1, md_cert_t *), name, apr_time_now(), p);
    ap_log_error(APLOG_MARK, APLOG_TRACE2, rv, s, "init stapling for: %s",
                 name ? name : s->server_hostname);
    return (APR_SUCCESS == rv) ? OK : DECLINED;
}

static int ocsp_get_resp_hook(server_rec *s, conn_rec *c, const char *id, apr_size_t id_len,
                              ap_ssl_ocsp_copy_resp *cb, void *userdata)
{
    md_ocsp_reg_t *reg = md_config_get_mod(s)->ocsp;
    const char *name;

    if (!reg || !staple_here(s, &name)) return DECLINED;
    (void)name;
    if (APR_SUCCESS != md_ocsp_get_status(cb, userdata, reg, id, id_len, apr_time_now(),
                                           c->pool)) {
        return DECLINED;
    }
    return OK;
}

/* --- the watchdog -------------------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    server_rec *s;
    md_ocsp_reg_t *reg;
} ocsp_wd_ctx;

/* The watchdog thread starts or stops. */
static void ocsp_wd_state(void *baton, int starting)
{
    ocsp_wd_ctx *octx = baton;

    if (starting) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, octx->s, APLOGNO(10197)
                     "md ocsp watchdog start, ocsp stapling %d certificates",
                     md_ocsp_count(octx->reg));
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, octx->s, APLOGNO(10200)
                     "md ocsp watchdog stopping");
    }
}

/* One run: renews the responses that are due (mod_md_watchdog.h). */
static apr_status_t ocsp_wd_run(void *baton, apr_interval_time_t *pwait, apr_pool_t *ptemp)
{
    ocsp_wd_ctx *octx = baton;
    apr_time_t next_run = 0;

    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, octx->s, APLOGNO(10198)
                 "md ocsp watchdog run, ocsp stapling %d certificates",
                 md_ocsp_count(octx->reg));
    /* certificates gone live (MDActivation live) are stapled too */
    md_live_refresh_all();
    md_ocsp_renew(octx->reg, apr_time_now(), ptemp, &next_run);
    *pwait = next_run - apr_time_now();
    return APR_SUCCESS;
}

static const md_watchdog_task_def_t ocsp_task = {
    MD_OCSP_WATCHDOG_NAME, APLOGNO(10199) "md ocsp watchdog next run in ", ocsp_wd_run,
    ocsp_wd_state,
};

static int md_ocsp_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    md_mod_conf_t *mc = md_config_get_mod(s);
    md_watchdog_task_t *task;
    ocsp_wd_ctx *octx;
    apr_status_t rv;

    (void)plog; (void)ptemp;
    if (!rt || rt->dry_run || !mc->ocsp || md_ocsp_count(mc->ocsp) == 0) return OK;
    if (!md_watchdog_available()) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, APLOGNO(10201)
                     "mod_watchdog is required for OCSP stapling");
        return !OK;
    }
    octx = apr_pcalloc(pconf, sizeof(*octx));
    rv = apr_pool_create(&octx->p, pconf);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10205)
                     "md_ocsp_watchdog: create pool");
        return !OK;
    }
    apr_pool_tag(octx->p, "md_ocsp_watchdog");
    octx->s = s;
    octx->reg = mc->ocsp;
    rv = md_watchdog_task_create(&task, &ocsp_task, octx, s, octx->p);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, APLOGNO(10202)
                     "create md ocsp watchdog(%s)", MD_OCSP_WATCHDOG_NAME);
        return !OK;
    }
    rv = md_watchdog_task_start(task);
    ap_log_error(APLOG_MARK, rv ? APLOG_CRIT : APLOG_DEBUG, rv, s, APLOGNO(10203)
                 "register md ocsp watchdog(%s)", MD_OCSP_WATCHDOG_NAME);
    return (APR_SUCCESS == rv) ? OK : !OK;
}

/* --- server-status ------------------------------------------------------------------- */

static int md_ocsp_server_status(request_rec *r, int flags)
{
    md_srv_conf_t *sc = md_config_get(r->server);
    md_ocsp_reg_t *reg = sc->mc->ocsp;
    md_status_text_opts_t opts;
    apr_array_header_t *staplings;
    const char *text;

    if (!reg || md_ocsp_count(reg) == 0 || !md_config_geti(sc, MD_CONFIG_SERVER_STATUS)) {
        return DECLINED;
    }
    memset(&opts, 0, sizeof(opts));
    opts.now = apr_time_now();
    opts.html = !(flags & AP_STATUS_SHORT);
    if (APR_SUCCESS != md_ocsp_get_staplings(&staplings, reg, opts.now, r->pool)) {
        return DECLINED;
    }
    text = md_status_ocsp_server_text(staplings, &opts, r->pool);
    if (text && *text) {
        ap_rputs(text, r);
    }
    return OK;
}

void md_ocsp_register_hooks(apr_pool_t *pool)
{
    static const char *const mod_ssl[] = { "mod_ssl.c", NULL };
    static const char *const mod_wd[] = { "mod_watchdog.c", NULL };

    (void)pool;
    ap_hook_post_config(md_ocsp_post_config, mod_ssl, mod_wd, APR_HOOK_MIDDLE);
    ap_hook_ssl_ocsp_prime_hook(ocsp_prime_hook, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_ocsp_get_resp_hook(ocsp_get_resp_hook, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, md_ocsp_server_status, NULL, NULL, APR_HOOK_MIDDLE);
}
