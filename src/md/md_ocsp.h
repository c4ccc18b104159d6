/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * OCSP stapling (contract.md 2.6, 8.6): a registry of the certificates
 * to staple, their responses kept in memory and in the store under
 * ocsp/<name>/, the background refresh of responses (request building,
 * HTTP POST, verification) and what the status pages show. Handshakes only
 * read what is there; they never wait for a responder.
 */
#ifndef md_ocsp_h
#define md_ocsp_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_time.h"
#include "md_util.h"

struct md_cert_t;
struct md_store_t;
struct md_event_t;
struct md_status_input_t;

/* The store name for certificates that belong to no MD (MDStapleOthers). */
#define MD_OCSP_OTHER           "other"
/* Responses larger than this are rejected unread. */
#define MD_OCSP_MAX_RESPONSE    (64 * 1024)
/* Without nextUpdate a response is taken to be valid this long. */
#define MD_OCSP_DEF_VALIDITY    apr_time_from_sec(12 * 60 * 60)
/* Tolerated clock difference for thisUpdate in the future. */
#define MD_OCSP_LEEWAY          apr_time_from_sec(5 * 60)
/* Responses and requests running at the same time. */
#define MD_OCSP_MAX_PARALLEL    6
/* A successfully refreshed response is not fetched again sooner. */
#define MD_OCSP_MIN_REFRESH     apr_time_from_sec(10)

#define MD_KEY_RESPONSE         "response"

typedef enum {
    MD_OCSP_CERT_ST_UNKNOWN,
    MD_OCSP_CERT_ST_GOOD,
    MD_OCSP_CERT_ST_REVOKED,
} md_ocsp_cert_stat_t;

/** "good", "revoked", "unknown". */
const char *md_ocsp_cert_stat_name(md_ocsp_cert_stat_t stat);
/** The value of a name (case-insensitive); anything else is UNKNOWN. */
md_ocsp_cert_stat_t md_ocsp_cert_stat_value(const char *name);

/* --- pure parts ------------------------------------------------------------------ */

/* What a verified response says about one certificate. */
typedef struct md_ocsp_answer_t {
    md_ocsp_cert_stat_t stat;
    md_timeperiod_t valid;          /* thisUpdate .. nextUpdate (or + 12 h) */
} md_ocsp_answer_t;

/**
 * The DER OCSP request for cert (issued by issuer) with a random nonce,
 * allocated in p.
 * @return APR_SUCCESS, APR_EINVAL when OpenSSL cannot build it
 */
apr_status_t md_ocsp_request_make(md_data_t *req_der, const struct md_cert_t *cert,
                                  const struct md_cert_t *issuer, apr_pool_t *p);

/**
 * Check a DER OCSP response for cert at time now and tell what it says.
 * It must be at most MD_OCSP_MAX_RESPONSE bytes, parse completely, be
 * "successful", be signed by issuer or by a responder certificate that
 * issuer delegated OCSP signing to, name the certificate's id, have a
 * thisUpdate not later than now + MD_OCSP_LEEWAY and a nextUpdate (or
 * thisUpdate + 12 h) after now. With req_der (the request it answers), a
 * nonce in the response must equal the request's (responders may omit it).
 * On failure *perr (may be NULL) explains in a short text allocated in p.
 * @return APR_SUCCESS, APR_EINVAL for a bad or stale response
 */
apr_status_t md_ocsp_check_response(md_ocsp_answer_t *answer, const char **perr,
                                    const md_data_t *der, const struct md_cert_t *cert,
                                    const struct md_cert_t *issuer,
                                    const md_data_t *req_der, apr_time_t now,
                                    apr_pool_t *p);

/**
 * When a response valid for the period is to be refreshed: when less than
 * window (a percentage of the period, or an absolute length) is left.
 */
apr_time_t md_ocsp_renew_at(const md_timeperiod_t *valid, const md_timeslice_t *window);

/**
 * How often a handshake thread looks into the store for a newer response
 * once the current one is due for refresh, given how long it remains
 * valid: hourly with a day or more left, every minute with a minute or
 * more left, else every second.
 */
apr_interval_time_t md_ocsp_recheck_interval(apr_interval_time_t remaining);

/**
 * The ocsp-<id>.json document: response (base64url DER), status, valid.
 */
struct md_json_t *md_ocsp_resp_to_json(const md_data_t *der, const md_ocsp_answer_t *answer,
                                       apr_pool_t *p);
/**
 * The DER response of an ocsp-<id>.json document (in p).
 * @return APR_SUCCESS, APR_ENOENT without "response", APR_EINVAL when it
 *         is not base64url or too large
 */
apr_status_t md_ocsp_resp_from_json(md_data_t *der, const struct md_json_t *json,
                                    apr_pool_t *p);

/* --- the registry ------------------------------------------------------------------ */

/*
 * The stapling registry of one server generation. Certificates are added
 * at start-up (md_ocsp_prime, single-threaded); afterwards the registry is
 * thread-safe: the watchdog refreshes responses while connection threads
 * read them. Each process has its own copy (after fork); they meet in the
 * store, where every refreshed response is saved and from where readers
 * pick it up.
 */
typedef struct md_ocsp_reg_t md_ocsp_reg_t;

/**
 * A registry in p (which must outlive it) on store. renew_window is
 * MDStaplingRenewWindow, user_agent the HTTP User-Agent ("Apache/x.y.z"),
 * proxy_url may be NULL, min_delay the first error back-off step
 * (MDRetryDelay).
 * @return APR_SUCCESS, or the error creating the mutex
 */
apr_status_t md_ocsp_reg_make(md_ocsp_reg_t **preg, apr_pool_t *p, struct md_store_t *store,
                              const md_timeslice_t *renew_window, const char *user_agent,
                              const char *proxy_url, apr_interval_time_t min_delay);

/** Trust anchors for https responders (NULL: the system's). Start-up only. */
void md_ocsp_reg_set_ca_file(md_ocsp_reg_t *reg, const char *ca_file);
/** Event configuration for ocsp-renewed / ocsp-errored (NULL: the default).
 * Start-up only. */
void md_ocsp_reg_set_events(md_ocsp_reg_t *reg, const struct md_event_t *events);
/* In the check pass of a start (the configuration is read twice), priming
 * logs nothing, so that a start says each thing once. Start-up only. */
void md_ocsp_reg_set_dry_run(md_ocsp_reg_t *reg, int dry_run);

/**
 * Register cert (issued by issuer) for stapling under the caller's opaque
 * id ext_id, filed under md_name (NULL: "other"). The same certificate may
 * be primed under several ids. A stored response is loaded (and judged at
 * now). Thread-safe: also for certificates that go live while the server
 * runs (MDActivation live). The certificates are referenced by the
 * registry: they must live as long as it.
 * @return APR_SUCCESS (also for a certificate of an MD without OCSP
 *         responder URL: claimed, nothing is fetched or stapled, one INFO
 *         line AH10742), APR_ENOENT when another certificate has no
 *         responder URL (DEBUG log), APR_EINVAL for bad input
 */
apr_status_t md_ocsp_prime(md_ocsp_reg_t *reg, const char *ext_id, apr_size_t ext_id_len,
                           const struct md_cert_t *cert, const struct md_cert_t *issuer,
                           const char *md_name, apr_time_t now, apr_pool_t *p);

/* Receives the DER response, or (NULL, 0) when none is available. The data
 * is only valid during the call. */
typedef void md_ocsp_copy_der(const unsigned char *der, apr_size_t der_len, void *baton);

/**
 * Hand the current response of the certificate primed as ext_id to cb, or
 * (NULL, 0) when there is none or it is stale at now. Never contacts a responder;
 * the store is consulted whenever its change count (md_store_get_change_count)
 * moved since the last look, and once the response is due for refresh now
 * and then (md_ocsp_recheck_interval; every second while there is none).
 * Thread-safe.
 * @return APR_SUCCESS (cb was called), APR_ENOENT for an unknown id
 */
apr_status_t md_ocsp_get_status(md_ocsp_copy_der *cb, void *baton, md_ocsp_reg_t *reg,
                                const char *ext_id, apr_size_t ext_id_len, apr_time_t now,
                                apr_pool_t *p);

/** Number of stapled certificates. */
int md_ocsp_count(md_ocsp_reg_t *reg);

/**
 * Refresh what is due at now: responses that are missing or inside their renew
 * window, unless their job's back-off says later. Requests run in
 * parallel (at most MD_OCSP_MAX_PARALLEL); every outcome goes to the job
 * (ocsp/<name>/job.json) and the events ocsp-renewed / ocsp-errored; good
 * and revoked answers are saved to ocsp/<name>/ocsp-<id>.json. Sets
 * *pnext_run to when something is due next (at most a day ahead).
 * Thread-safe, meant for one watchdog thread.
 * @return APR_SUCCESS (failures of single certificates are in their jobs)
 */
apr_status_t md_ocsp_renew(md_ocsp_reg_t *reg, apr_time_t now, apr_pool_t *p,
                           apr_time_t *pnext_run);

/**
 * 1 if a current (at now) response for a certificate filed under md_name says
 * "revoked" (the store is consulted for newer responses); then DEBUG
 * AH10500 is logged. 0 for a NULL registry. Thread-safe.
 */
int md_ocsp_is_revoked(md_ocsp_reg_t *reg, const char *md_name, apr_time_t now,
                       apr_pool_t *p);

/**
 * The stapling objects of all certificates (md_json_t*, see
 * md_status_stapling_json), with the OCSP jobs (without logs), for
 * server-status. Thread-safe.
 */
apr_status_t md_ocsp_get_staplings(apr_array_header_t **pstaplings, md_ocsp_reg_t *reg,
                                   apr_time_t now, apr_pool_t *p);

/**
 * Fill the OCSP members of the active slots of an MD's status input (when
 * the MD has stapling on and the slot's certificate is stapled): status,
 * validity and the OCSP job, as known at now; a revoked one makes
 * renewal_due. reg may be NULL (nothing is filled). Thread-safe.
 */
void md_ocsp_status_fill(md_ocsp_reg_t *reg, struct md_status_input_t *in, apr_time_t now,
                         apr_pool_t *p);

#endif /* md_ocsp_h */
