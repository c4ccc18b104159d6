/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Revocation without OCSP: the CRLs that managed certificates name in their
 * CRL distribution points, fetched by the renewal watchdog, verified with
 * the issuer, kept (the last good one) in ocsp/<name>/crl-<id>.json, and
 * asked whether a certificate is revoked.
 */
#ifndef md_crl_h
#define md_crl_h

#include <apr_tables.h>
#include <apr_time.h>

struct md_cert_t;
struct md_json_t;
struct md_store_t;

/* Largest CRL accepted (DER or PEM). */
#define MD_CRL_MAX_SIZE         (4 * 1024 * 1024)

/* MDCRLCheck */
#define MD_CRL_CHECK_OFF        0
#define MD_CRL_CHECK_ON         1
#define MD_CRL_CHECK_AUTO       2   /* certificates without an OCSP URL */

/* What a CRL says about one certificate. */
typedef struct md_crl_verdict_t {
    int revoked;
    apr_time_t revoked_at;          /* 0 when not revoked */
    apr_time_t this_update;
    apr_time_t next_update;         /* 0 when the CRL has none */
} md_crl_verdict_t;

/* The http(s) URIs of cert's CRL distribution points (const char*), an
 * empty array when it has none. */
apr_array_header_t *md_crl_urls(const struct md_cert_t *cert, apr_pool_t *p);

/* Judges the CRL in data (DER or PEM) for cert, issued by issuer, at now.
 * APR_SUCCESS with *v filled; APR_EINVAL with *pdetail saying why when it
 * is too large, cannot be parsed, is not the issuer's (name or signature),
 * is not yet valid (thisUpdate more than 5 minutes ahead) or is outdated
 * (nextUpdate passed). Pure. */
apr_status_t md_crl_judge(md_crl_verdict_t *v, const char **pdetail, const char *data,
                          apr_size_t len, const struct md_cert_t *cert,
                          const struct md_cert_t *issuer, apr_time_t now, apr_pool_t *p);

/* --- the registry of one server generation ---------------------------------------- */

typedef struct md_crl_reg_t md_crl_reg_t;

/* A registry in p (which it outlives not), fetching with the user agent,
 * proxy and CA file given (both may be NULL). */
apr_status_t md_crl_reg_create(md_crl_reg_t **preg, apr_pool_t *p, struct md_store_t *store,
                               const char *user_agent, const char *proxy_url,
                               const char *ca_file);

/* Start-up (parent, not thread-safe): watch cert of MD md_name, issued by
 * issuer (copies of both are kept). APR_ENOENT when it names no http(s)
 * CRL distribution point. */
apr_status_t md_crl_reg_add(md_crl_reg_t *reg, const char *md_name,
                            const struct md_cert_t *cert, const struct md_cert_t *issuer,
                            apr_pool_t *p);

int md_crl_reg_count(md_crl_reg_t *reg);

/* The renewal watchdog (one thread): loads the stored CRLs once, fetches
 * those that are missing, outdated or older than a day (nextUpdate
 * honoured, failed fetches again after an hour, the last good CRL kept),
 * judges each certificate and saves the state. A newly seen revocation is
 * logged (AH10743, ERR). *pnext: when the next fetch is due. */
apr_status_t md_crl_update(md_crl_reg_t *reg, apr_time_t now, apr_time_t *pnext,
                           apr_pool_t *p);

/* 1 if a good CRL lists a certificate of md_name as revoked. reg may be
 * NULL. Read-only: safe from several threads, not during md_crl_update. */
int md_crl_is_revoked(md_crl_reg_t *reg, const char *md_name);

/* The stored state of cert of md_name (ocsp/<md_name>/crl-<sha1>.json) as
 * md-status shows it: {"url", "status": "good"|"revoked", "this-update",
 * "next-update", "revoked-at", "checked", "error"}; NULL when there is
 * none. Any process. */
struct md_json_t *md_crl_status_json(struct md_store_t *store, const char *md_name,
                                     const struct md_cert_t *cert, apr_pool_t *p);

#endif /* md_crl_h */
