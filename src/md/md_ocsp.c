/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * OCSP stapling: OCSP requests and response verification (OpenSSL stays in
 * this file and the crypto files), the ocsp-<id>.json documents, the
 * thread-safe registry of stapled certificates and the refresh run that
 * the watchdog calls. See md_ocsp.h.
 */
#include <assert.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "md.h"
#include "md_crypto.h"
#include "md_crypto_int.h"
#include "md_event.h"
#include "md_http.h"
#include "md_job.h"
#include "md_json.h"
#include "md_log.h"
#include "md_ocsp.h"
#include "md_result.h"
#include "md_status.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"

#define MD_OCSP_ID_FILE_PREFIX  "ocsp-"
#define MD_OCSP_MAX_WAIT        apr_time_from_sec(MD_SECS_PER_DAY)
#define MD_OCSP_NONCE_LEN       16

/* --- status names -------------------------------------------------------------- */

const char *md_ocsp_cert_stat_name(md_ocsp_cert_stat_t stat)
{
    switch (stat) {
        case MD_OCSP_CERT_ST_GOOD: return "good";
        case MD_OCSP_CERT_ST_REVOKED: return "revoked";
        default: return "unknown";
    }
}

md_ocsp_cert_stat_t md_ocsp_cert_stat_value(const char *name)
{
    if (name && !strcasecmp("good", name)) return MD_OCSP_CERT_ST_GOOD;
    if (name && !strcasecmp("revoked", name)) return MD_OCSP_CERT_ST_REVOKED;
    return MD_OCSP_CERT_ST_UNKNOWN;
}

/* --- requests and responses (OpenSSL) ------------------------------------------ */

apr_status_t md_ocsp_request_make(md_data_t *req_der, const md_cert_t *cert,
                                  const md_cert_t *issuer, apr_pool_t *p)
{
    OCSP_REQUEST *req = NULL;
    OCSP_CERTID *certid = NULL;
    unsigned char *der = NULL;
    int len = 0;
    apr_status_t rv = APR_EINVAL;

    req_der->data = NULL;
    req_der->len = 0;
    certid = OCSP_cert_to_id(NULL, md_cert_get_x509(cert), md_cert_get_x509(issuer));
    if (!certid) goto leave;
    req = OCSP_REQUEST_new();
    if (!req || !OCSP_request_add0_id(req, certid)) goto leave;
    certid = NULL;                  /* now owned by req */
    if (!OCSP_request_add1_nonce(req, NULL, MD_OCSP_NONCE_LEN)) goto leave;
    len = i2d_OCSP_REQUEST(req, &der);
    if (len <= 0) goto leave;
    req_der->data = apr_pmemdup(p, der, (apr_size_t)len);
    req_der->len = (apr_size_t)len;
    rv = APR_SUCCESS;
leave:
    if (APR_SUCCESS != rv) {
        rv = md_crypt_error(p, MD_LOG_ERR, rv, "OCSP request make");
    }
    OPENSSL_free(der);
    OCSP_CERTID_free(certid);
    OCSP_REQUEST_free(req);
    return rv;
}

/* The signature check: signed by the issuer itself, or by a responder
 * certificate the issuer signed (with the OCSP signing purpose), with the
 * certificates' validity judged at now (not at OpenSSL's clock). */
static int basic_verifies(OCSP_BASICRESP *basic, X509 *issuer, apr_time_t now)
{
    X509_STORE *store = X509_STORE_new();
    X509_VERIFY_PARAM *param = X509_VERIFY_PARAM_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int ok = 0;

    if (!store || !untrusted || !param) goto leave;
    if (!X509_STORE_add_cert(store, issuer) || !sk_X509_push(untrusted, issuer)) goto leave;
    /* the issuer is the anchor, even when it is an intermediate CA */
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(param, (time_t)apr_time_sec(now));
    if (!X509_STORE_set1_param(store, param)) goto leave;
    ok = (OCSP_basic_verify(basic, untrusted, store, 0) > 0);
leave:
    sk_X509_free(untrusted);
    X509_VERIFY_PARAM_free(param);
    X509_STORE_free(store);
    return ok;
}

static const char *check_validity(md_ocsp_answer_t *answer, ASN1_GENERALIZEDTIME *thisupd,
                                  ASN1_GENERALIZEDTIME *nextupd, apr_time_t now)
{
    answer->valid.start = md_asn1_time_get(thisupd);
    if (!answer->valid.start) return "response has no valid thisUpdate";
    answer->valid.end = nextupd ? md_asn1_time_get(nextupd)
                                : answer->valid.start + MD_OCSP_DEF_VALIDITY;
    if (answer->valid.end <= answer->valid.start) return "response has no valid nextUpdate";
    if (answer->valid.start > now + MD_OCSP_LEEWAY) return "response is not yet valid";
    if (answer->valid.end <= now) return "response has expired";
    return NULL;
}

static md_ocsp_cert_stat_t stat_of(int status)
{
    switch (status) {
        case V_OCSP_CERTSTATUS_GOOD: return MD_OCSP_CERT_ST_GOOD;
        case V_OCSP_CERTSTATUS_REVOKED: return MD_OCSP_CERT_ST_REVOKED;
        default: return MD_OCSP_CERT_ST_UNKNOWN;
    }
}

/* Checks the request's nonce, if the response has one. */
static const char *check_nonce(OCSP_BASICRESP *basic, const md_data_t *req_der)
{
    const unsigned char *bytes = (const unsigned char *)req_der->data;
    OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &bytes, (long)req_der->len);
    const char *err = NULL;
    int n;

    if (!req) return "request cannot be parsed";
    /* 1: equal, 2: none at all, -1: only in the request (the responder
     * may omit it), 3: only in the response, 0: different */
    n = OCSP_check_nonce(req, basic);
    if (0 == n) {
        err = "response nonce does not match the request";
    }
    OCSP_REQUEST_free(req);
    return err;
}

apr_status_t md_ocsp_check_response(md_ocsp_answer_t *answer, const char **perr,
                                    const md_data_t *der, const md_cert_t *cert,
                                    const md_cert_t *issuer, const md_data_t *req_der,
                                    apr_time_t now, apr_pool_t *p)
{
    const unsigned char *bytes;
    OCSP_RESPONSE *resp = NULL;
    OCSP_BASICRESP *basic = NULL;
    OCSP_CERTID *certid = NULL;
    ASN1_GENERALIZEDTIME *revtime, *thisupd, *nextupd;
    const char *err = NULL;
    int n, status, reason;

    memset(answer, 0, sizeof(*answer));
    if (!der || !der->data || der->len == 0) {
        err = "response is empty";
        goto leave;
    }
    if (der->len > MD_OCSP_MAX_RESPONSE) {
        err = apr_psprintf(p, "response is too large (%lu bytes)", (unsigned long)der->len);
        goto leave;
    }
    bytes = (const unsigned char *)der->data;
    resp = d2i_OCSP_RESPONSE(NULL, &bytes, (long)der->len);
    if (!resp || bytes != (const unsigned char *)der->data + der->len) {
        err = "response is not a DER encoded OCSP response";
        goto leave;
    }
    n = OCSP_response_status(resp);
    if (OCSP_RESPONSE_STATUS_SUCCESSFUL != n) {
        err = apr_psprintf(p, "responder answered '%s'", OCSP_response_status_str(n));
        goto leave;
    }
    basic = OCSP_response_get1_basic(resp);
    if (!basic) {
        err = "response has no basic OCSP response";
        goto leave;
    }
    if (!basic_verifies(basic, md_cert_get_x509(issuer), now)) {
        err = "response signature does not verify for the certificate's issuer";
        goto leave;
    }
    if (req_der && (err = check_nonce(basic, req_der))) goto leave;
    certid = OCSP_cert_to_id(NULL, md_cert_get_x509(cert), md_cert_get_x509(issuer));
    if (!certid || !OCSP_resp_find_status(basic, certid, &status, &reason, &revtime,
                                          &thisupd, &nextupd)) {
        err = "response does not contain the certificate's status";
        goto leave;
    }
    if ((err = check_validity(answer, thisupd, nextupd, now))) goto leave;
    answer->stat = stat_of(status);
leave:
    ERR_clear_error();
    OCSP_CERTID_free(certid);
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(resp);
    if (perr) {
        *perr = err;
    }
    return err ? APR_EINVAL : APR_SUCCESS;
}

/* --- pure helpers ------------------------------------------------------------- */

apr_time_t md_ocsp_renew_at(const md_timeperiod_t *valid, const md_timeslice_t *window)
{
    md_timeperiod_t renewal = md_timeperiod_slice_before_end(valid, window);

    return renewal.start;
}

apr_interval_time_t md_ocsp_recheck_interval(apr_interval_time_t remaining)
{
    if (remaining >= apr_time_from_sec(MD_SECS_PER_DAY)) {
        return apr_time_from_sec(MD_SECS_PER_HOUR);
    }
    if (remaining >= apr_time_from_sec(60)) return apr_time_from_sec(60);
    return apr_time_from_sec(1);
}

md_json_t *md_ocsp_resp_to_json(const md_data_t *der, const md_ocsp_answer_t *answer,
                                apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(md_util_base64url_encode(der->data, der->len, p), json,
                 MD_KEY_RESPONSE, NULL);
    md_json_sets(md_ocsp_cert_stat_name(answer->stat), json, MD_KEY_STATUS, NULL);
    md_json_set_time(answer->valid.start, json, MD_KEY_VALID, MD_KEY_FROM, NULL);
    md_json_set_time(answer->valid.end, json, MD_KEY_VALID, MD_KEY_UNTIL, NULL);
    return json;
}

apr_status_t md_ocsp_resp_from_json(md_data_t *der, const md_json_t *json, apr_pool_t *p)
{
    const char *s = md_json_gets(json, MD_KEY_RESPONSE, NULL);
    apr_status_t rv;

    der->data = NULL;
    der->len = 0;
    if (!s || !*s) return APR_ENOENT;
    if (strlen(s) > (MD_OCSP_MAX_RESPONSE / 3 + 1) * 4) return APR_EINVAL;
    rv = md_util_base64url_decode(der, s, p);
    if (APR_SUCCESS == rv && der->len > MD_OCSP_MAX_RESPONSE) {
        rv = APR_EINVAL;
    }
    return rv;
}

/* --- the registry --------------------------------------------------------------- */

/* One stapled certificate. The response part is guarded by the registry
 * mutex; the rest is fixed after priming. */
typedef struct {
    const char *hexid;              /* SHA-1 of the certificate DER, hex */
    const char *md_name;            /* MD name or "other" */
    const char *file_name;          /* ocsp-<hexid>.json */
    const char *url;                /* OCSP responder */
    const char *sha256_fp;
    md_cert_t *cert;
    md_cert_t *issuer;
    /* the response */
    unsigned char *der;             /* malloc'ed, NULL: none */
    apr_size_t der_len;
    md_ocsp_answer_t answer;
    apr_time_t resp_mtime;          /* of the file last looked at, 0 none */
    apr_time_t last_check;          /* when the store was last consulted */
    apr_uint32_t seen_changes;      /* the store's change count then */
    int changes_counted;            /* 0: the store does not count them */
    apr_time_t next_fetch;          /* after a refresh: not before this */
} ocsp_status;

struct md_ocsp_reg_t {
    apr_pool_t *p;
    md_store_t *store;
    const md_timeslice_t *renew_window;
    const char *user_agent;
    const char *proxy_url;
    const char *ca_file;
    apr_interval_time_t min_delay;
    const md_event_t *events;
    apr_hash_t *by_hexid;           /* hexid -> ocsp_status* */
    apr_hash_t *by_ext_id;          /* caller's id bytes -> ocsp_status* */
    apr_hash_t *no_url;             /* caller's id bytes -> "" (MD certificate
                                     * without responder: nothing to staple) */
    int dry_run;                    /* the check pass of a start: say nothing */
    apr_array_header_t *ordered;    /* ocsp_status*, in order of priming */
    apr_thread_mutex_t *mutex;
};

static apr_status_t reg_cleanup(void *data)
{
    md_ocsp_reg_t *reg = data;
    ocsp_status *ostat;
    int i;

    for (i = 0; i < reg->ordered->nelts; ++i) {
        ostat = APR_ARRAY_IDX(reg->ordered, i, ocsp_status *);
        free(ostat->der);
        ostat->der = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t md_ocsp_reg_make(md_ocsp_reg_t **preg, apr_pool_t *p, md_store_t *store,
                              const md_timeslice_t *renew_window, const char *user_agent,
                              const char *proxy_url, apr_interval_time_t min_delay)
{
    md_ocsp_reg_t *reg = apr_pcalloc(p, sizeof(*reg));
    apr_status_t rv;

    reg->p = p;
    reg->store = store;
    reg->renew_window = renew_window;
    reg->user_agent = apr_pstrdup(p, user_agent);
    reg->proxy_url = proxy_url ? apr_pstrdup(p, proxy_url) : NULL;
    reg->min_delay = min_delay;
    reg->by_hexid = apr_hash_make(p);
    reg->by_ext_id = apr_hash_make(p);
    reg->no_url = apr_hash_make(p);
    reg->ordered = apr_array_make(p, 10, sizeof(ocsp_status *));
    rv = apr_thread_mutex_create(&reg->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (APR_SUCCESS == rv) {
        apr_pool_cleanup_register(p, reg, reg_cleanup, apr_pool_cleanup_null);
    }
    *preg = (APR_SUCCESS == rv) ? reg : NULL;
    return rv;
}

void md_ocsp_reg_set_ca_file(md_ocsp_reg_t *reg, const char *ca_file)
{
    reg->ca_file = ca_file ? apr_pstrdup(reg->p, ca_file) : NULL;
}

void md_ocsp_reg_set_events(md_ocsp_reg_t *reg, const md_event_t *events)
{
    reg->events = events;
}

void md_ocsp_reg_set_dry_run(md_ocsp_reg_t *reg, int dry_run)
{
    reg->dry_run = dry_run;
}

int md_ocsp_count(md_ocsp_reg_t *reg)
{
    int n;

    apr_thread_mutex_lock(reg->mutex);
    n = reg->ordered->nelts;
    apr_thread_mutex_unlock(reg->mutex);
    return n;
}

/* Replace the response (mutex held). */
static void ostat_set_response(ocsp_status *ostat, const md_data_t *der,
                               const md_ocsp_answer_t *answer)
{
    unsigned char *copy = der ? malloc(der->len) : NULL;

    if (der && !copy) return;
    if (copy) {
        memcpy(copy, der->data, der->len);
    }
    free(ostat->der);
    ostat->der = copy;
    ostat->der_len = copy ? der->len : 0;
    if (answer) {
        ostat->answer = *answer;
    }
    else {
        memset(&ostat->answer, 0, sizeof(ostat->answer));
    }
}

/* Look for a newer response file and take it if it verifies (mutex
 * held). A file that does not verify or is stale is not used, and not
 * read again until it changes. */
static void ostat_refresh(md_ocsp_reg_t *reg, ocsp_status *ostat, apr_time_t now,
                          apr_pool_t *p)
{
    md_ocsp_answer_t answer;
    apr_time_t mtime;
    md_json_t *json;
    md_data_t der;
    const char *err = NULL;
    apr_status_t rv;

    ostat->last_check = now;
    /* the count before the look: a save after it moves the count again */
    ostat->changes_counted = md_store_get_change_count(reg->store, &ostat->seen_changes);
    mtime = md_store_get_modified(reg->store, MD_SG_OCSP, ostat->md_name,
                                  ostat->file_name, p);
    if (!mtime || mtime == ostat->resp_mtime) return;
    ostat->resp_mtime = mtime;
    rv = md_store_load_json(reg->store, MD_SG_OCSP, ostat->md_name, ostat->file_name,
                            &json, p);
    if (APR_SUCCESS == rv) {
        rv = md_ocsp_resp_from_json(&der, json, p);
    }
    if (APR_SUCCESS == rv) {
        rv = md_ocsp_check_response(&answer, &err, &der, ostat->cert, ostat->issuer,
                                    NULL, now, p);
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "AH10959: md[%s]: not using stored OCSP "
                      "response %s: %s", ostat->md_name, ostat->file_name,
                      err ? err : "cannot be read");
        return;
    }
    ostat_set_response(ostat, &der, &answer);
}

/* 1 if the response is there and not stale at now (mutex held). */
static int ostat_usable(const ocsp_status *ostat, apr_time_t now)
{
    return ostat->der && now < ostat->answer.valid.end;
}

static apr_time_t ostat_renew_at(md_ocsp_reg_t *reg, const ocsp_status *ostat)
{
    apr_time_t at;

    if (!ostat->der) return 0;
    at = md_ocsp_renew_at(&ostat->answer.valid, reg->renew_window);
    return (at < ostat->next_fetch) ? ostat->next_fetch : at;
}

static ocsp_status *ostat_make(md_ocsp_reg_t *reg, const char *hexid,
                               const md_cert_t *cert, const md_cert_t *issuer,
                               const char *md_name, const char *url, apr_pool_t *p)
{
    ocsp_status *ostat = apr_pcalloc(reg->p, sizeof(*ostat));
    X509 *x;

    ostat->hexid = apr_pstrdup(reg->p, hexid);
    ostat->md_name = apr_pstrdup(reg->p, md_name);
    ostat->file_name = apr_pstrcat(reg->p, MD_OCSP_ID_FILE_PREFIX, hexid, ".json", NULL);
    ostat->url = apr_pstrdup(reg->p, url);
    /* the registry keeps its own references */
    x = md_cert_get_x509(cert);
    X509_up_ref(x);
    ostat->cert = md_cert_wrap(reg->p, x);
    x = md_cert_get_x509(issuer);
    X509_up_ref(x);
    ostat->issuer = md_cert_wrap(reg->p, x);
    if (APR_SUCCESS != md_cert_to_sha256_fingerprint(&ostat->sha256_fp, cert, reg->p)) {
        ostat->sha256_fp = NULL;
    }
    (void)p;
    return ostat;
}

/* A certificate of an MD that names no OCSP responder (its CA runs none):
 * claimed, so that mod_ssl's own stapling does not log errors for it, and
 * never fetched or retried. Said once per certificate (INFO). */
static apr_status_t prime_without_url(md_ocsp_reg_t *reg, const char *ext_id,
                                      apr_size_t ext_id_len, const md_cert_t *cert,
                                      const char *md_name, apr_pool_t *p)
{
    /* mod_ssl's id is a digest of the certificate: primed for several
     * hosts, it is said once */
    if (apr_hash_get(reg->no_url, ext_id, (apr_ssize_t)ext_id_len)) return APR_SUCCESS;
    if (!reg->dry_run) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "AH10742: md[%s]: certificate "
                      "with serial %s has no OCSP responder URL, not stapling it",
                      md_name, md_cert_get_serial_number(cert, p));
    }
    apr_hash_set(reg->no_url, apr_pmemdup(reg->p, ext_id, ext_id_len),
                 (apr_ssize_t)ext_id_len, "");
    return APR_SUCCESS;
}

apr_status_t md_ocsp_prime(md_ocsp_reg_t *reg, const char *ext_id, apr_size_t ext_id_len,
                           const md_cert_t *cert, const md_cert_t *issuer,
                           const char *md_name, apr_time_t now, apr_pool_t *p)
{
    ocsp_status *ostat;
    const char *hexid, *url;
    apr_status_t rv;

    if (!ext_id || ext_id_len == 0 || !cert || !issuer) return APR_EINVAL;
    if (!md_name) {
        md_name = MD_OCSP_OTHER;
    }
    rv = md_cert_to_sha1_hex(&hexid, cert, p);
    if (APR_SUCCESS != rv) return rv;
    url = md_cert_get_ocsp_url(cert, p);
    if (!url && !strcmp(MD_OCSP_OTHER, md_name)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "md[%s]: certificate with serial "
                      "%s has no OCSP responder URL", md_name,
                      md_cert_get_serial_number(cert, p));
        return APR_ENOENT;
    }
    /* also while serving (a certificate gone live): handshakes look up ids,
     * the watchdog walks the list, all under the mutex */
    apr_thread_mutex_lock(reg->mutex);
    if (!url) {
        rv = prime_without_url(reg, ext_id, ext_id_len, cert, md_name, p);
        apr_thread_mutex_unlock(reg->mutex);
        return rv;
    }
    ostat = apr_hash_get(reg->by_hexid, hexid, APR_HASH_KEY_STRING);
    if (!ostat) {
        ostat = ostat_make(reg, hexid, cert, issuer, md_name, url, p);
        apr_hash_set(reg->by_hexid, ostat->hexid, APR_HASH_KEY_STRING, ostat);
        APR_ARRAY_PUSH(reg->ordered, ocsp_status *) = ostat;
        ostat_refresh(reg, ostat, now, p);
    }
    if (!apr_hash_get(reg->by_ext_id, ext_id, (apr_ssize_t)ext_id_len)) {
        apr_hash_set(reg->by_ext_id, apr_pmemdup(reg->p, ext_id, ext_id_len),
                     (apr_ssize_t)ext_id_len, ostat);
    }
    apr_thread_mutex_unlock(reg->mutex);
    md_log_perror(MD_LOG_MARK, MD_LOG_TRACE2, 0, p, "md[%s]: stapling certificate %s, "
                  "responder %s", ostat->md_name, ostat->hexid, ostat->url);
    return APR_SUCCESS;
}

/* 1 if anything changed in the store (through any process of the server:
 * the count lives in shared memory) since ostat last looked into it. A
 * response that the watchdog saved is then stapled by every process from
 * its next handshake on (mutex held). */
static int store_moved(md_ocsp_reg_t *reg, const ocsp_status *ostat)
{
    apr_uint32_t count;

    if (!md_store_get_change_count(reg->store, &count)) return 0;
    return !ostat->changes_counted || count != ostat->seen_changes;
}

/* The primed certificates as they are now (a copy in p: priming may go on
 * while the caller walks it). */
static apr_array_header_t *ordered_copy(md_ocsp_reg_t *reg, apr_pool_t *p)
{
    apr_array_header_t *copy;

    apr_thread_mutex_lock(reg->mutex);
    copy = apr_array_copy(p, reg->ordered);
    apr_thread_mutex_unlock(reg->mutex);
    return copy;
}

apr_status_t md_ocsp_get_status(md_ocsp_copy_der *cb, void *baton, md_ocsp_reg_t *reg,
                                const char *ext_id, apr_size_t ext_id_len, apr_time_t now,
                                apr_pool_t *p)
{
    ocsp_status *ostat;
    apr_time_t renew_at;
    apr_interval_time_t pause;
    int quiet;

    apr_thread_mutex_lock(reg->mutex);
    ostat = apr_hash_get(reg->by_ext_id, ext_id, (apr_ssize_t)ext_id_len);
    if (!ostat) {
        quiet = (NULL != apr_hash_get(reg->no_url, ext_id, (apr_ssize_t)ext_id_len));
        apr_thread_mutex_unlock(reg->mutex);
        if (!quiet) return APR_ENOENT;
        cb(NULL, 0, baton);         /* nothing to staple, quietly */
        return APR_SUCCESS;
    }
    if (!ostat->der) {
        pause = apr_time_from_sec(1);
    }
    else {
        renew_at = md_ocsp_renew_at(&ostat->answer.valid, reg->renew_window);
        pause = (now < renew_at) ? -1
                : md_ocsp_recheck_interval(ostat->answer.valid.end - now);
    }
    if ((pause >= 0 && now - ostat->last_check >= pause) || store_moved(reg, ostat)) {
        ostat_refresh(reg, ostat, now, p);
    }
    if (ostat_usable(ostat, now)) {
        cb(ostat->der, ostat->der_len, baton);
    }
    else {
        cb(NULL, 0, baton);
    }
    apr_thread_mutex_unlock(reg->mutex);
    return APR_SUCCESS;
}

int md_ocsp_is_revoked(md_ocsp_reg_t *reg, const char *md_name, apr_time_t now,
                       apr_pool_t *p)
{
    ocsp_status *ostat;
    int i, revoked = 0;

    if (!reg || !md_name) return 0;
    apr_thread_mutex_lock(reg->mutex);
    for (i = 0; i < reg->ordered->nelts && !revoked; ++i) {
        ostat = APR_ARRAY_IDX(reg->ordered, i, ocsp_status *);
        if (strcmp(md_name, ostat->md_name)) {
            continue;
        }
        ostat_refresh(reg, ostat, now, p);
        revoked = ostat_usable(ostat, now)
                  && MD_OCSP_CERT_ST_REVOKED == ostat->answer.stat;
    }
    apr_thread_mutex_unlock(reg->mutex);
    if (revoked) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10500: md(%s): need to renew, "
                      "OCSP reports revoked certificate(s)", md_name);
    }
    return revoked;
}

/* --- refreshing responses ---------------------------------------------------------- */

/* One refresh of one certificate in a renew run. */
typedef struct {
    md_ocsp_reg_t *reg;
    ocsp_status *ostat;
    md_job_t *job;
    md_result_t *result;
    md_data_t req_der;
    apr_pool_t *p;
    apr_time_t now;                 /* the run's time: responses are judged at it */
    int sent;                       /* handed to the HTTP layer */
    int answered;                   /* its response was processed */
} ocsp_update;

typedef struct {
    apr_array_header_t *updates;    /* ocsp_update* */
    int next;
} update_list;

/* Process the responder's answer (HTTP status, verification, save). */
static apr_status_t update_on_response(const md_http_response_t *resp, void *baton)
{
    ocsp_update *u = baton;
    ocsp_status *ostat = u->ostat;
    md_ocsp_answer_t answer;
    const char *err = NULL;
    apr_time_t now = u->now;
    apr_status_t rv;

    u->answered = 1;
    md_result_activity_printf(u->result, "status of certid %s, reading response",
                              ostat->hexid);
    if (200 != resp->status) {
        md_result_printf(u->result, APR_EGENERAL, "OCSP responder %s answered with HTTP "
                         "status %d", ostat->url, resp->status);
        return APR_SUCCESS;
    }
    rv = md_ocsp_check_response(&answer, &err, &resp->body, ostat->cert, ostat->issuer,
                                &u->req_der, now, u->p);
    if (APR_SUCCESS != rv) {
        md_result_printf(u->result, rv, "invalid OCSP response from %s: %s", ostat->url, err);
        return APR_SUCCESS;
    }
    if (MD_OCSP_CERT_ST_UNKNOWN == answer.stat) {
        md_result_printf(u->result, APR_ENOENT, "OCSP responder %s reports the certificate "
                         "status as unknown", ostat->url);
        return APR_SUCCESS;
    }
    rv = md_store_save_json(u->reg->store, u->p, MD_SG_OCSP, ostat->md_name,
                            ostat->file_name,
                            md_ocsp_resp_to_json(&resp->body, &answer, u->p), 0);
    if (APR_SUCCESS != rv) {
        md_result_printf(u->result, rv, "saving OCSP response for certid %s", ostat->hexid);
        return APR_SUCCESS;
    }
    apr_thread_mutex_lock(u->reg->mutex);
    ostat_set_response(ostat, &resp->body, &answer);
    ostat->resp_mtime = md_store_get_modified(u->reg->store, MD_SG_OCSP, ostat->md_name,
                                              ostat->file_name, u->p);
    ostat->last_check = now;
    ostat->next_fetch = now + MD_OCSP_MIN_REFRESH;
    apr_thread_mutex_unlock(u->reg->mutex);
    md_result_printf(u->result, APR_SUCCESS, "certificate status is %s, status valid %s",
                     MD_OCSP_CERT_ST_GOOD == answer.stat ? "GOOD" : "REVOKED",
                     md_timeperiod_print(u->p, &answer.valid));
    return APR_SUCCESS;
}

static apr_status_t update_request(md_http_request_t **preq, ocsp_update *u,
                                   md_http_t *http)
{
    md_http_request_t *req = NULL;
    apr_status_t rv;

    md_result_activity_printf(u->result, "status of certid %s, contacting %s",
                              u->ostat->hexid, u->ostat->url);
    rv = md_ocsp_request_make(&u->req_der, u->ostat->cert, u->ostat->issuer, u->p);
    if (APR_SUCCESS != rv) {
        md_result_printf(u->result, rv, "creating OCSP request for certid %s",
                         u->ostat->hexid);
        goto leave;
    }
    rv = md_http_request_create(&req, http, "POST", u->ostat->url, NULL, u->p);
    if (APR_SUCCESS != rv) {
        md_result_printf(u->result, rv, "creating HTTP request to %s", u->ostat->url);
        goto leave;
    }
    md_http_request_set_body(req, "application/ocsp-request", u->req_der.data,
                             u->req_der.len);
    req->resp_limit = MD_OCSP_MAX_RESPONSE;
    md_http_request_set_on_response(req, update_on_response, u);
leave:
    *preq = (APR_SUCCESS == rv) ? req : NULL;
    return rv;
}

/* The HTTP layer asks for the next request to run. */
static apr_status_t next_request(md_http_request_t **preq, void *baton, md_http_t *http,
                                 int in_flight)
{
    update_list *list = baton;
    ocsp_update *u;

    *preq = NULL;
    (void)in_flight;
    while (list->next < list->updates->nelts) {
        u = APR_ARRAY_IDX(list->updates, list->next++, ocsp_update *);
        if (APR_SUCCESS == update_request(preq, u, http)) {
            u->sent = 1;
            return APR_SUCCESS;
        }
    }
    return APR_ENOENT;
}

/* Requests that got no answer in the parallel run (a transport error):
 * once more alone, which also tells what failed. */
static void update_retry_alone(ocsp_update *u, md_http_t *http)
{
    md_http_request_t *req;
    md_http_response_t *resp;
    apr_status_t rv;

    if (!u->sent || u->answered) return;
    if (APR_SUCCESS != update_request(&req, u, http)) return;
    rv = md_http_perform(req, &resp);
    if (APR_SUCCESS == rv) {
        update_on_response(resp, u);
        return;
    }
    md_result_printf(u->result, rv, "unable to contact OCSP responder at %s",
                     u->ostat->url);
}

/* Record the outcome in the job, tell the events, save the job. */
static apr_time_t update_finish(ocsp_update *u)
{
    int ok = (APR_SUCCESS == u->result->status);
    apr_time_t next;

    md_job_end_run(u->job, u->result);
    if (!ok) {
        md_result_log(u->result, MD_LOG_WARNING);
    }
    /* fire and forget: the run's result stays the job's last result */
    md_job_notify(u->job, ok ? "ocsp-renewed" : "ocsp-errored", NULL);
    md_job_save(u->job, u->p);
    apr_thread_mutex_lock(u->reg->mutex);
    next = ok ? ostat_renew_at(u->reg, u->ostat) : u->job->next_run;
    apr_thread_mutex_unlock(u->reg->mutex);
    return next;
}

/* An update for ostat when it is due at now, else NULL and *pnext is
 * lowered to when it will be. */
static ocsp_update *update_if_due(md_ocsp_reg_t *reg, ocsp_status *ostat, apr_time_t now,
                                  apr_time_t *pnext, apr_pool_t *p)
{
    ocsp_update *u;
    md_job_t *job;
    apr_time_t due;

    apr_thread_mutex_lock(reg->mutex);
    ostat_refresh(reg, ostat, now, p);
    due = ostat_usable(ostat, now) ? ostat_renew_at(reg, ostat) : 0;
    apr_thread_mutex_unlock(reg->mutex);
    if (due > now) {
        if (due < *pnext) {
            *pnext = due;
        }
        return NULL;
    }
    job = md_job_make(p, reg->store, MD_SG_OCSP, ostat->md_name, reg->min_delay);
    job->events = reg->events;
    md_job_load(job);
    if (job->next_run > now) {
        if (job->next_run < *pnext) {
            *pnext = job->next_run;
        }
        return NULL;
    }
    u = apr_pcalloc(p, sizeof(*u));
    u->reg = reg;
    u->ostat = ostat;
    u->job = job;
    u->p = p;
    u->now = now;
    u->result = md_result_md_make(p, ostat->md_name);
    return u;
}

static apr_status_t http_session(md_http_t **phttp, md_ocsp_reg_t *reg, apr_pool_t *p)
{
    apr_status_t rv = md_http_create(phttp, p, reg->user_agent, reg->proxy_url);

    if (APR_SUCCESS != rv) return rv;
    if (reg->ca_file) {
        md_http_set_ca_file(*phttp, reg->ca_file);
    }
    md_http_set_response_limit(*phttp, MD_OCSP_MAX_RESPONSE);
    md_http_set_connect_timeout_default(*phttp, apr_time_from_sec(5));
    md_http_set_timeout_default(*phttp, apr_time_from_sec(30));
    md_http_set_stalling_default(*phttp, 1, apr_time_from_sec(10));
    return APR_SUCCESS;
}

apr_status_t md_ocsp_renew(md_ocsp_reg_t *reg, apr_time_t now, apr_pool_t *p,
                           apr_time_t *pnext_run)
{
    apr_time_t next = now + MD_OCSP_MAX_WAIT, at;
    update_list list;
    apr_array_header_t *ordered;
    md_http_t *http = NULL;
    ocsp_update *u;
    apr_pool_t *ptemp;
    apr_status_t rv;
    int i;

    rv = apr_pool_create(&ptemp, p);
    if (APR_SUCCESS != rv) goto leave;
    ordered = ordered_copy(reg, ptemp);
    list.updates = apr_array_make(ptemp, ordered->nelts, sizeof(ocsp_update *));
    list.next = 0;
    for (i = 0; i < ordered->nelts; ++i) {
        u = update_if_due(reg, APR_ARRAY_IDX(ordered, i, ocsp_status *), now,
                          &next, ptemp);
        if (u) {
            APR_ARRAY_PUSH(list.updates, ocsp_update *) = u;
        }
    }
    if (list.updates->nelts == 0) goto leave;
    rv = http_session(&http, reg, ptemp);
    if (APR_SUCCESS != rv) goto leave;
    for (i = 0; i < list.updates->nelts; ++i) {
        u = APR_ARRAY_IDX(list.updates, i, ocsp_update *);
        md_job_start_run(u->job, u->result);
    }
    md_http_multi_perform(http, next_request, &list);
    for (i = 0; i < list.updates->nelts; ++i) {
        u = APR_ARRAY_IDX(list.updates, i, ocsp_update *);
        update_retry_alone(u, http);
        at = update_finish(u);
        if (at > 0 && at < next) {
            next = at;
        }
    }
leave:
    if (ptemp) {
        apr_pool_destroy(ptemp);
    }
    *pnext_run = (next > now) ? next : now;
    return rv;
}

/* --- status ------------------------------------------------------------------------ */

/* The OCSP job of a name as stored, NULL when there is none. */
static md_job_t *job_load(md_ocsp_reg_t *reg, const char *md_name, apr_pool_t *p)
{
    md_job_t *job = md_job_make(p, reg->store, MD_SG_OCSP, md_name, reg->min_delay);

    return (APR_SUCCESS == md_job_load(job)) ? job : NULL;
}

/* A copy of ostat's status for readers (refreshed from the store). */
static void ostat_snapshot(md_status_stapling_t *st, md_ocsp_reg_t *reg,
                           ocsp_status *ostat, apr_time_t now, apr_pool_t *p)
{
    memset(st, 0, sizeof(*st));
    st->domain = ostat->md_name;
    st->id = ostat->hexid;
    st->cert_fingerprint = ostat->sha256_fp;
    st->url = ostat->url;
    apr_thread_mutex_lock(reg->mutex);
    ostat_refresh(reg, ostat, now, p);
    if (ostat->der) {
        st->status = md_ocsp_cert_stat_name(ostat->answer.stat);
        st->valid_from = ostat->answer.valid.start;
        st->valid_until = ostat->answer.valid.end;
        st->renew_at = md_ocsp_renew_at(&ostat->answer.valid, reg->renew_window);
    }
    else {
        st->status = md_ocsp_cert_stat_name(MD_OCSP_CERT_ST_UNKNOWN);
    }
    apr_thread_mutex_unlock(reg->mutex);
}

apr_status_t md_ocsp_get_staplings(apr_array_header_t **pstaplings, md_ocsp_reg_t *reg,
                                   apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *staplings, *ordered = ordered_copy(reg, p);
    md_status_stapling_t st;
    ocsp_status *ostat;
    int i;

    staplings = apr_array_make(p, ordered->nelts, sizeof(md_json_t *));
    for (i = 0; i < ordered->nelts; ++i) {
        ostat = APR_ARRAY_IDX(ordered, i, ocsp_status *);
        ostat_snapshot(&st, reg, ostat, now, p);
        st.job = job_load(reg, ostat->md_name, p);
        APR_ARRAY_PUSH(staplings, md_json_t *) = md_status_stapling_json(&st, 0, p);
    }
    *pstaplings = staplings;
    return APR_SUCCESS;
}

void md_ocsp_status_fill(md_ocsp_reg_t *reg, md_status_input_t *in, apr_time_t now,
                         apr_pool_t *p)
{
    apr_array_header_t *ordered;
    md_status_stapling_t st;
    md_status_slot_t *slot;
    ocsp_status *ostat;
    int i, j;

    if (!reg || !in || !in->md || in->md->stapling <= 0 || !in->slots) return;
    ordered = ordered_copy(reg, p);
    for (i = 0; i < in->slots->nelts; ++i) {
        slot = APR_ARRAY_IDX(in->slots, i, md_status_slot_t *);
        if (!slot->cert || !slot->cert->sha256_fingerprint) {
            continue;
        }
        for (j = 0; j < ordered->nelts; ++j) {
            ostat = APR_ARRAY_IDX(ordered, j, ocsp_status *);
            if (!ostat->sha256_fp || strcmp(ostat->sha256_fp, slot->cert->sha256_fingerprint)
                || strcmp(ostat->md_name, in->md->name)) {
                continue;
            }
            ostat_snapshot(&st, reg, ostat, now, p);
            slot->ocsp_status = st.status;
            slot->ocsp_valid_from = st.valid_from;
            slot->ocsp_valid_until = st.valid_until;
            slot->ocsp_job = job_load(reg, ostat->md_name, p);
            if (st.status && !strcmp("revoked", st.status)) {
                in->renewal_due = 1;
            }
            break;
        }
    }
}
