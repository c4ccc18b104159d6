/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * An ACME (RFC 8555) session with one CA: the directory, nonces, signed
 * POST and POST-as-GET requests, problem documents mapped to APR statuses
 * and to the result, and polling with Retry-After. Accounts, orders and
 * authorizations build on it (md_acme_acct/order/authz.h).
 */
#ifndef md_acme_h
#define md_acme_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_crypto.h"
#include "md_http.h"
#include "md_result.h"

struct md_json_t;
struct md_acme_acct_t;

typedef struct md_acme_t md_acme_t;

/* The session. Members are read-only for callers; one session per thread
 * (not thread-safe). */
struct md_acme_t {
    apr_pool_t *p;
    const char *url;                /* the directory URL */
    const char *sname;              /* short CA name for account ids (2.2) */
    const char *user_agent;
    const char *proxy_url;
    const char *ca_file;            /* trust anchors for the CA's TLS */
    const char *proxy_ca_file;
    md_http_t *http;

    /* from the directory (md_acme_setup) */
    struct {
        const char *new_nonce;
        const char *new_account;
        const char *new_order;
        const char *revoke_cert;
        const char *key_change;
        const char *renewal_info;
    } api;
    const char *tos;                /* meta.termsOfService, NULL if none */
    const char *website;            /* meta.website */
    int eab_required;               /* meta.externalAccountRequired */
    struct md_json_t *profiles;     /* meta.profiles object, NULL if none */
    struct md_json_t *directory;

    const char *nonce;              /* next Replay-Nonce to use */
    int max_nonce_retries;          /* badNonce retries per request (1) */

    struct md_acme_acct_t *acct;    /* the account requests are signed for */
    md_pkey_t *acct_key;
};

/* Process setup: the User-Agent is "<base_product> mod_md/<MOD_MD_VERSION>"
 * (module: "Apache/<httpd version>", a2md: "apachemd/<MOD_MD_VERSION>").
 * Installs the default HTTP transport unless one was installed before.
 * Not thread-safe; call once at process start. */
apr_status_t md_acme_init(apr_pool_t *p, const char *base_product);

/* The User-Agent set by md_acme_init. */
const char *md_acme_user_agent(void);

/* A session for the CA directory url in pool p (nothing is sent yet).
 * proxy_url and ca_file may be NULL. APR_EINVAL for a url that is not an
 * absolute http(s) URI. */
apr_status_t md_acme_create(md_acme_t **pacme, apr_pool_t *p, const char *url,
                            const char *proxy_url, const char *ca_file);
void md_acme_set_proxy_ca_file(md_acme_t *acme, const char *proxy_ca_file);

/* Fetches the directory. On failure the result gets the texts of
 * contract.md 2.3/5 ("Unsuccessful in contacting ACME server at <url>.
 * ...", the 503 text, or a problem from the CA). */
apr_status_t md_acme_setup(md_acme_t *acme, md_result_t *result);

/* Use the account (and its key) to sign requests ("kid" = account url). */
void md_acme_set_acct(md_acme_t *acme, struct md_acme_acct_t *acct, md_pkey_t *key);

/* A signed POST to url. payload NULL is a POST-as-GET (empty payload).
 * use_jwk puts the account key's JWK into the header (newAccount) instead
 * of the account url. Gets a nonce first when none is at hand and retries
 * once on badNonce.
 * Success (2xx): *presp is the response, *pjson its body when it is JSON
 * (else NULL); both may be passed as NULL.
 * Failure: problem documents are logged ("acme problem %s: %s" WARNING,
 * badNonce at DEBUG as "acme reports %s: %s") and put into result (when
 * not NULL) with their APR status (md_acme_problem_status); a 4xx/5xx
 * without problem logs "acme problem unknown: http status %d". The failing
 * response is still given in *presp (when the CA answered). */
apr_status_t md_acme_post(md_http_response_t **presp, struct md_json_t **pjson,
                          md_acme_t *acme, const char *url,
                          const struct md_json_t *payload, int use_jwk,
                          md_result_t *result, apr_pool_t *p);

/* An unsigned GET (the directory, ARI renewalInfo). Same handling of
 * answers as md_acme_post. */
apr_status_t md_acme_get(md_http_response_t **presp, struct md_json_t **pjson,
                         md_acme_t *acme, const char *url,
                         md_result_t *result, apr_pool_t *p);

/* The body as a certificate chain (application/pem-certificate-chain):
 * POST-as-GET of url, certificates appended to chain (md_cert_t*). */
apr_status_t md_acme_get_chain(apr_array_header_t *chain, md_acme_t *acme,
                               const char *url, md_result_t *result, apr_pool_t *p);

/* --- revocation (RFC 8555 7.6) -------------------------------------------------------- */

/* The CRL reason code (RFC 5280 5.3.1) of a name as a2md takes it:
 * unspecified 0, keyCompromise 1, affiliationChanged 3, superseded 4,
 * cessationOfOperation 5 (case-insensitive); -1 for anything else. */
int md_acme_revoke_reason(const char *name);

/* Revokes cert at the CA's revokeCert. reason < 0 sends no reason. With
 * cert_key (the certificate's own private key) the request is signed with
 * it and carries its JWK; without, it is signed by the session's account
 * (kid). APR_ENOTIMPL when the directory has no revokeCert; CA problems as
 * md_acme_post (e.g. alreadyRevoked, unauthorized). */
apr_status_t md_acme_revoke(md_acme_t *acme, const md_cert_t *cert, int reason,
                            md_pkey_t *cert_key, md_result_t *result, apr_pool_t *p);

/* --- problems ------------------------------------------------------------------ */

/* The APR status for an ACME problem type (with or without the
 * "urn:ietf:params:" prefix): e.g. badNonce APR_EAGAIN, malformed
 * APR_EINVAL, unauthorized APR_EACCES, unknown types APR_EGENERAL. */
apr_status_t md_acme_problem_status(const char *type);

/* 1 if the problem is caused by our input (retrying the same request makes
 * no sense: badCSR, malformed, rejectedIdentifier, ...; contract.md 9). */
int md_acme_problem_is_input_related(const char *type);

/* 1 if the problem type equals name after the "urn:ietf:params:acme:error:"
 * prefix, e.g. md_acme_problem_is(t, "badNonce"). */
int md_acme_problem_is(const char *type, const char *name);

/* 1 if a CA's answer to a CSR with the TLS Feature extension says it
 * refuses that extension: a badCSR (or malformed) problem whose detail
 * names Must-Staple, the TLS feature or its OID (CAs that stopped OCSP
 * reject it so since 2025). */
int md_acme_problem_rejects_must_staple(const char *type, const char *detail);

/* --- ACME Renewal Information (RFC 9773) ---------------------------------------------- */

typedef struct md_acme_ari_t {
    apr_time_t start;               /* suggestedWindow.start */
    apr_time_t end;                 /* suggestedWindow.end */
    const char *explanation_url;    /* explanationURL, or NULL */
    apr_interval_time_t retry_after; /* when to ask again (Retry-After), 0 unknown */
} md_acme_ari_t;

/* An RFC 3339 timestamp ("2026-11-30T11:54:24Z", fractions and offsets
 * allowed); 0 when not parseable. */
apr_time_t md_acme_parse_rfc3339(const char *s);

/* The renewalInfo object (pure): APR_EINVAL without a valid window
 * (start before end). */
apr_status_t md_acme_ari_parse(md_acme_ari_t *ari, const struct md_json_t *json,
                               apr_pool_t *p);

/* GET <renewalInfo>/<cert_id> (md_cert_get_ari_cert_id). APR_ENOTIMPL when
 * the CA's directory has no renewalInfo (call md_acme_setup first). */
apr_status_t md_acme_ari_get(md_acme_ari_t **pari, md_acme_t *acme, const char *cert_id,
                             md_result_t *result, apr_pool_t *p);

/* --- polling --------------------------------------------------------------------- */

/* One poll step: APR_SUCCESS when done, APR_EAGAIN to poll again (after
 * *pdelay if the callback sets it > 0, e.g. from Retry-After), any other
 * status aborts. */
typedef apr_status_t md_acme_poll_cb(void *baton, int attempt,
                                     apr_interval_time_t *pdelay);

/* Calls cb until it stops returning APR_EAGAIN or timeout passed
 * (APR_TIMEUP). Between calls it sleeps the callback's delay, else an
 * increasing backoff from 250 ms to 5 s, never beyond the timeout. */
apr_status_t md_acme_poll(md_acme_poll_cb *cb, void *baton,
                          apr_interval_time_t timeout);

#endif /* md_acme_h */
