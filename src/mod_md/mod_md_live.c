/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * MDActivation live: the certificate callback, the per-process copy of
 * each MD's live set and the shared generation counters.
 *
 * The parent makes the counters (anonymous shared memory, one per MD, 0 at
 * each start) when mod_ssl initialises the first virtual host, and puts
 * the callback on the TLS contexts of the MDs that started with their
 * certificates. The watchdog publishes a renewed set to live/NAME and
 * increments the MD's counter. A process that sees a counter different
 * from the one it loaded at loads live/NAME (checking it again, as a set
 * must never be served unchecked), once, under a lock; handshakes only
 * read a pointer. Sets are never freed while the process lives: they are
 * few and small (one per renewal), and a handshake may still use one.
 */
#include <stdio.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_optional_hooks.h>
#include <mod_ssl.h>
#include <openssl/ssl.h>

#include "md.h"
#include "md_crypto.h"
#include "md_job.h"
#include "md_live.h"
#include "md_log.h"
#include "md_ocsp.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_store.h"
#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_init.h"
#include "mod_md_live.h"

APLOG_USE_MODULE(md);

/* mod_ssl's hook for each TLS context it made (mod_ssl_openssl.h, which
 * Debian's apache2-dev does not ship). */
APR_DECLARE_EXTERNAL_HOOK(ssl, SSL, int, init_server,
                          (server_rec *s, apr_pool_t *p, int is_proxy, SSL_CTX *ctx))

#define ACME_TLS_1          "acme-tls/1"

typedef struct {
    const md_t *md;
    apr_size_t idx;                 /* its counter */
    int hooked;                     /* a TLS context serves it */
    int told;                       /* "not hooked" was logged */
    apr_thread_mutex_t *mutex;      /* loading a set in this process */
    volatile apr_uint32_t loaded;   /* counter value of set (or of a failed load) */
    void *volatile set;             /* md_live_set_t*, NULL: what mod_ssl has */
} live_md;

typedef struct {
    md_mod_rt_t *rt;
    apr_hash_t *by_name;            /* md name -> live_md* */
    volatile apr_uint32_t *gens;    /* shared, one per live_md */
} live_state;

static live_state *state;

static apr_status_t state_reset(void *data)
{
    if (state == data) {
        state = NULL;
    }
    return APR_SUCCESS;
}

/* The live MDs of the current generation, made at the first call. */
static live_state *state_get(apr_pool_t *pconf, server_rec *s)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    live_state *st;
    live_md *lm;
    apr_shm_t *shm;
    apr_status_t rv;
    md_t *md;
    int i, n = 0;

    if (state && state->rt == rt) return state;
    if (!rt || !rt->mds) return NULL;
    st = apr_pcalloc(pconf, sizeof(*st));
    st->rt = rt;
    st->by_name = apr_hash_make(pconf);
    for (i = 0; i < rt->mds->nelts; ++i) {
        md = APR_ARRAY_IDX(rt->mds, i, md_t *);
        if (!md->activation_live) {
            continue;
        }
        lm = apr_pcalloc(pconf, sizeof(*lm));
        lm->md = md;
        lm->idx = (apr_size_t)n++;
        if (APR_SUCCESS != apr_thread_mutex_create(&lm->mutex, APR_THREAD_MUTEX_DEFAULT,
                                                   pconf)) {
            continue;
        }
        apr_hash_set(st->by_name, md->name, APR_HASH_KEY_STRING, lm);
    }
    if (n > 0) {
        rv = apr_shm_create(&shm, sizeof(apr_uint32_t) * (apr_size_t)n, NULL, pconf);
        if (APR_SUCCESS != rv) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10711)
                         "MDActivation live: no shared memory, renewed certificates "
                         "are activated at the next restart");
            apr_hash_clear(st->by_name);
        }
        else {
            st->gens = apr_shm_baseaddr_get(shm);
            memset((void *)st->gens, 0, sizeof(apr_uint32_t) * (apr_size_t)n);
        }
    }
    apr_pool_cleanup_register(pconf, st, state_reset, apr_pool_cleanup_null);
    state = st;
    return st;
}

static live_md *live_get(const md_t *md)
{
    return (state && md) ? apr_hash_get(state->by_name, md->name, APR_HASH_KEY_STRING)
                         : NULL;
}

/* --- loading a set in this process ---------------------------------------------------- */

/* With stapling on for the MD, the set's certificates are registered with
 * the stapler under mod_ssl's id for them (the SHA-1 of the DER), so that
 * handshakes with them get the responses the OCSP watchdog fetches. */
static void live_staple(live_md *lm, const md_live_set_t *set, apr_pool_t *p)
{
    md_ocsp_reg_t *reg = md_config_get_mod(state->rt->base_server)->ocsp;
    apr_array_header_t *chains = md_live_chains(set), *chain;
    unsigned char id[20];
    const char *hex;
    apr_size_t k;
    int i;

    if (!reg || lm->md->stapling <= 0) return;
    for (i = 0; i < chains->nelts; ++i) {
        chain = APR_ARRAY_IDX(chains, i, apr_array_header_t *);
        if (chain->nelts < 2 || APR_SUCCESS != md_cert_to_sha1_hex(
                &hex, APR_ARRAY_IDX(chain, 0, md_cert_t *), p)) {
            continue;
        }
        for (k = 0; k < sizeof(id); ++k) {
            unsigned int byte;

            sscanf(hex + 2 * k, "%2x", &byte);
            id[k] = (unsigned char)byte;
        }
        md_ocsp_prime(reg, (const char *)id, sizeof(id), APR_ARRAY_IDX(chain, 0, md_cert_t *),
                      APR_ARRAY_IDX(chain, 1, md_cert_t *), lm->md->name, apr_time_now(), p);
    }
}

/* Loads live/NAME for lm as generation gen (lm's mutex held). */
static void live_load(live_md *lm, apr_uint32_t gen)
{
    md_mod_rt_t *rt = state->rt;
    md_live_set_t *set;
    const char *err = NULL;
    apr_pool_t *p;
    apr_status_t rv;

    if (APR_SUCCESS != apr_pool_create_unmanaged_ex(&p, NULL, NULL)) return;
    rv = md_live_load(&set, rt->store, lm->md, apr_time_now(), &err, p);
    if (APR_SUCCESS == rv) {
        md_reg_use_chains(rt->reg, lm->md, md_live_chains(set));
        live_staple(lm, set, p);
        apr_atomic_xchgptr((volatile void **)&lm->set, set);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, rt->base_server, APLOGNO(10712)
                     "%s: serving the live certificate (serial %s) on new "
                     "connections", lm->md->name, md_live_serial(set, p));
    }
    else {
        /* the previous set (or mod_ssl's) stays: never an unchecked one */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, rt->base_server, APLOGNO(10713)
                     "%s: the live certificate set is not served: %s",
                     lm->md->name, err ? err : "it cannot be loaded");
        apr_pool_destroy(p);
    }
    apr_atomic_set32(&lm->loaded, gen);
}

/* The set lm serves now, loading a newer one first (see the file comment). */
static const md_live_set_t *live_current(live_md *lm)
{
    apr_uint32_t gen = apr_atomic_read32(&state->gens[lm->idx]);

    if (0 != gen && gen != apr_atomic_read32(&lm->loaded)) {
        apr_thread_mutex_lock(lm->mutex);
        if (gen != apr_atomic_read32(&lm->loaded)) {
            live_load(lm, gen);
        }
        apr_thread_mutex_unlock(lm->mutex);
    }
    return apr_atomic_casptr((volatile void **)&lm->set, NULL, NULL);
}

void md_live_refresh(const md_t *md)
{
    live_md *lm = live_get(md);

    if (lm && state->gens) {
        live_current(lm);
    }
}

void md_live_refresh_all(void)
{
    apr_hash_index_t *hi;

    if (!state || !state->gens) return;
    for (hi = apr_hash_first(NULL, state->by_name); hi; hi = apr_hash_next(hi)) {
        live_current(apr_hash_this_val(hi));
    }
}

int md_live_is_serving(const md_t *md)
{
    live_md *lm = live_get(md);

    return lm && state->gens && apr_atomic_read32(&state->gens[lm->idx]) > 0;
}

/* --- handshakes --------------------------------------------------------------------- */

/* OpenSSL's certificate callback: after SNI chose the virtual host's
 * context, before the certificate is sent. */
static int live_cert_cb(SSL *ssl, void *arg)
{
    live_md *lm = arg;
    const md_live_set_t *set;
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;

    /* a tls-alpn-01 challenge is answered with its own certificate */
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    if (alpn_len == sizeof(ACME_TLS_1) - 1 && !memcmp(alpn, ACME_TLS_1, alpn_len)) {
        return 1;
    }
    if (!state || !state->gens) return 1;
    set = live_current(lm);
    if (set && !md_live_apply(set, ssl)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, state->rt->base_server, APLOGNO(10714)
                     "%s: the live certificate could not be set on a connection",
                     lm->md->name);
    }
    return 1;
}

static int live_init_server(server_rec *s, apr_pool_t *p, int is_proxy, SSL_CTX *ctx)
{
    live_state *st;
    live_md *lm;
    md_t *md;

    if (is_proxy || !ctx || !(md = md_mod_server_md(s)) || !md->activation_live) {
        return DECLINED;
    }
    if (!(st = state_get(p, s)) || !st->gens || !(lm = live_get(md))) return DECLINED;
    if (MD_S_COMPLETE != md->state) {
        /* mod_ssl answers 503 for a host that started with a fallback
         * certificate until it is restarted: live changes nothing there */
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10900) "%s: started without "
                     "its certificates, the first one is activated at a restart", md->name);
        return DECLINED;
    }
    SSL_CTX_set_cert_cb(ctx, live_cert_cb, lm);
    lm->hooked = 1;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10901) "%s: MDActivation live for %s",
                 md->name, s->server_hostname);
    return DECLINED;
}

/* --- the watchdog ------------------------------------------------------------------- */

apr_status_t md_live_go(const md_renew_opts_t *opts, const md_t *md, md_job_t *job,
                        md_result_t *result, apr_pool_t *p)
{
    live_md *lm = live_get(md);
    const char *err = NULL;
    apr_status_t rv;

    if (!lm || !state->gens) return APR_SUCCESS;
    if (!lm->hooked) {
        if (!lm->told) {
            lm->told = 1;
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, state->rt->base_server, APLOGNO(10715)
                         "%s: no TLS host of this MD started with its certificates: the "
                         "renewed ones are activated at the next (graceful) restart",
                         md->name);
        }
        return APR_SUCCESS;
    }
    rv = md_live_publish(opts->store, md, md_job_now(job), &err, p);
    if (APR_STATUS_IS_EEXIST(rv)) {
        md_live_refresh(md);
        return APR_SUCCESS;
    }
    if (APR_STATUS_IS_EINVAL(rv)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, state->rt->base_server, APLOGNO(10716)
                     "%s: the renewed certificates do not go live: %s", md->name, err);
        md_result_problem_printf(result, APR_EINVAL, "urn:org:apache:httpd:mod_md:"
                                 "live-check-failed", "the renewed certificates do not go "
                                 "live: %s", err);
        return rv;
    }
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, state->rt->base_server, APLOGNO(10717)
                     "%s: the renewed certificates could not go live yet: %s", md->name,
                     err ? err : "error");
        return rv;
    }
    /* this process first: its stapler fetches the new certificate's OCSP
     * response (if any) before the others serve it */
    apr_thread_mutex_lock(lm->mutex);
    live_load(lm, apr_atomic_read32(&state->gens[lm->idx]) + 1);
    apr_thread_mutex_unlock(lm->mutex);
    if (md->stapling > 0 && md_config_get_mod(state->rt->base_server)->ocsp) {
        apr_time_t next;

        md_ocsp_renew(md_config_get_mod(state->rt->base_server)->ocsp, apr_time_now(), p,
                      &next);
    }
    apr_atomic_inc32(&state->gens[lm->idx]);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, state->rt->base_server, APLOGNO(10718)
                 "%s: the renewed certificates are live: new connections get them in "
                 "all processes; the next restart makes them permanent", md->name);
    md_job_notify(job, "live", NULL);
    return APR_SUCCESS;
}

void md_live_register_hooks(apr_pool_t *pool)
{
    (void)pool;
    APR_OPTIONAL_HOOK(ssl, init_server, live_init_server, NULL, NULL, APR_HOOK_MIDDLE);
}
