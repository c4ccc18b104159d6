/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The status documents: certificate descriptions (contract.md 2.7), the
 * md-status JSON (3.1), /.httpd/certificate-status (3.2) and the
 * server-status lines and HTML (3.3). Builders are pure: they take loaded
 * facts and `now`. Each MD's documents are built once into a cacheable
 * md_status_entry_t; full documents are assembled from entries cheaply.
 */
#ifndef md_status_h
#define md_status_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"

struct md_cert_t;
struct md_job_t;
struct md_json_t;
struct md_reg_t;

#define MD_KEY_MDS                  "managed-domains"
#define MD_KEY_ISSUER_NAME          "issuer-name"
#define MD_KEY_ISSUER_URI           "issuer-uri"
#define MD_KEY_SERIAL               "serial"
#define MD_KEY_SHA256_FINGERPRINT   "sha256-fingerprint"
#define MD_KEY_ARI_CERT_ID          "ari-cert-id"
#define MD_KEY_OCSP                 "ocsp"
#define MD_KEY_ERROR                "error"
#define MD_KEY_DOMAIN               "domain"
#define MD_KEY_ID                   "id"
#define MD_KEY_SCTS                 "scts"
#define MD_KEY_LOGID                "logid"
#define MD_KEY_SIGNED               "signed"
#define MD_KEY_SIGNATURE            "signature"
#define MD_KEY_SIGNATURE_TYPE       "signature-type"

/* --- certificate facts ------------------------------------------------------------- */

/* What the status documents tell about one certificate. Computing it needs
 * the parsed certificate (and hashing), so it is done once per certificate. */
typedef struct md_cert_facts_t {
    const char *issuer_name;        /* "/CN=...", NULL if unknown */
    const char *issuer_uri;         /* AIA CA Issuers URI, NULL if none */
    apr_time_t valid_from;          /* notBefore */
    apr_time_t valid_until;         /* notAfter */
    const char *serial;             /* upper-case hex */
    const char *sha256_fingerprint; /* lower-case hex over the DER */
    const char *ari_cert_id;        /* NULL without authority key id */
    apr_array_header_t *scts;       /* md_sct_t* embedded CT timestamps, may be empty */
} md_cert_facts_t;

/**
 * The facts of cert, allocated in p.
 * @return APR_SUCCESS, or the error of computing the fingerprint
 */
apr_status_t md_cert_facts_get(md_cert_facts_t **pfacts, const struct md_cert_t *cert,
                               apr_pool_t *p);

/**
 * The description object of contract.md 2.7 without "ocsp": with full
 * (md-status): issuer-name?, issuer-uri?, valid, serial, sha256-fingerprint,
 * ari-cert-id?; without (certificate-status slots): valid, serial,
 * sha256-fingerprint.
 */
struct md_json_t *md_cert_facts_to_json(const md_cert_facts_t *facts, int full,
                                        apr_pool_t *p);

/* --- the input of an MD's status ----------------------------------------------------- */

/* One certificate slot: a key spec of the MD or one of its static files. */
typedef struct md_status_slot_t {
    const char *name;               /* "rsa", "secp384r1", or "0", "1", ... */
    const md_cert_facts_t *cert;    /* NULL when there is no usable certificate */
    apr_status_t rv;                /* APR_SUCCESS, APR_ENOENT (missing), else
                                     * unusable (renew-at cannot be computed) */
    /* OCSP stapling of the certificate (md-status "ocsp" member), only when
     * ocsp_status is set: */
    const char *ocsp_status;        /* "good", "revoked", "unknown" or NULL */
    apr_time_t ocsp_valid_from;     /* 0 when unknown */
    apr_time_t ocsp_valid_until;
    const struct md_job_t *ocsp_job; /* NULL: no "renewal" member */
    struct md_json_t *crl;          /* MDCRLCheck state (md-status "crl"), or NULL */
} md_status_slot_t;

/* Everything an MD's status documents show, as loaded by the host. */
typedef struct md_status_input_t {
    const md_t *md;                 /* the configured MD */
    apr_array_header_t *slots;      /* md_status_slot_t*, active certificates */
    const struct md_job_t *job;     /* staging job, NULL when there is none */
    apr_array_header_t *staged;     /* md_status_slot_t*, staged certificates */
    int renewal_due;                /* renewal is due (reg, ARI, OCSP) */
    const struct md_ari_t *ari;     /* ARI advice for the current certificates
                                     * (md_ari_current), NULL when none */
    int watched;                    /* supervised by the renewal watchdog */
    int staged_live;                /* the staged set serves live (md_live.h) */
    apr_status_t error;             /* APR_SUCCESS, else an "error" member */
} md_status_input_t;

/**
 * Load the status input of md: active slots through the registry
 * (md_reg_get_pubcert), the staging job and staged chains from the
 * registry's store, renewal_due = md_reg_should_renew(now), watched =
 * md->watched. Failures to load a part are recorded in the slots (rv) or
 * in error; the function itself only fails for lack of memory.
 * OCSP members are left unset (the stapling code adds them).
 */
apr_status_t md_status_input_load(md_status_input_t **pin, struct md_reg_t *reg,
                                  const md_t *md, apr_time_t now, apr_pool_t *p);

/**
 * When renewal of the MD is due, as md-status shows it (contract.md 3.1,
 * 7.2): now when the state is incomplete or a certificate is missing,
 * otherwise the earliest start of the renew window over the present
 * certificates; 0 when it cannot be computed (an unusable certificate, no
 * certificate at all). *pis_now is set to 1 when the result is "now".
 */
apr_time_t md_status_renew_at(const md_status_input_t *in, apr_time_t now, int *pis_now);

/* --- JSON documents ------------------------------------------------------------------ */

/**
 * The md-status "cert" object of the slots: one member per slot with a
 * certificate (full 2.7 object, with "ocsp" when the slot has OCSP data,
 * its "renewal" with or without log), then "valid" = the intersection of
 * their validity (absent when there is none). "{}" when empty.
 */
struct md_json_t *md_status_certs_json(const apr_array_header_t *slots, int with_log,
                                       apr_pool_t *p);

/**
 * The md-status <md> object (contract.md 3.1): md.json members (eab.hmac
 * shown as "***"), cert, renew-at, stapling, watched, renew, renewal (staging
 * job + staged cert), error. with_log: include job logs (single-MD form).
 */
struct md_json_t *md_status_md_json(const md_status_input_t *in, int with_log,
                                    apr_time_t now, apr_pool_t *p);

/**
 * The /.httpd/certificate-status document (contract.md 3.2): valid?, one
 * member per key spec name of the MD (also for static files, which then
 * stay "{}"), renewal? {"cert": staged cert object, "scts": [...] only when
 * the staged certificates carry CT timestamps: {logid, signed, signature,
 * signature-type} each}.
 */
struct md_json_t *md_status_cert_status_json(const md_status_input_t *in, apr_pool_t *p);

/**
 * The all-MDs document {"version": version, "managed-domains": [...]} of the
 * given <md> objects (md_json_t*), sorted by name (byte order). The objects
 * are referenced, not copied.
 */
struct md_json_t *md_status_mds_json(const apr_array_header_t *mds, const char *version,
                                     apr_pool_t *p);

/* --- cached entries -------------------------------------------------------------------- */

/*
 * A cache entry holds an MD's documents built once, serialised. It is
 * immutable after md_status_entry_make and may be read by many threads at
 * once. The host rebuilds it when the MD's state changes (a job ran,
 * certificates were activated, files changed) or after
 * md_status_entry_expires(). Requests then only copy text: the time
 * dependent "renew-at" of incomplete MDs is patched in at output time.
 */
typedef struct md_status_entry_t md_status_entry_t;

/**
 * Build all documents of an MD at time now into a new entry in p (which
 * must outlive the entry's readers).
 */
apr_status_t md_status_entry_make(md_status_entry_t **pentry, const md_status_input_t *in,
                                  apr_time_t now, apr_pool_t *p);

/** The MD name of the entry. */
const char *md_status_entry_name(const md_status_entry_t *entry);

/**
 * The time from which the entry no longer reflects the state even if
 * nothing changed (renewal becomes due at renew-at); 0 = never.
 */
apr_time_t md_status_entry_expires(const md_status_entry_t *entry);

/**
 * The <md> object without logs, as built (renew-at of incomplete MDs is the
 * build time). Shared and read-only: read it only with getters that
 * allocate in the caller's pool (md_json_getcj(p, json, NULL) gives a
 * wrapper to iterate on).
 */
const struct md_json_t *md_status_entry_json(const md_status_entry_t *entry);

/**
 * The single-MD md-status document (with logs), pretty, renew-at patched to
 * now where it means "now". Allocated in p.
 */
const char *md_status_entry_md_text(const md_status_entry_t *entry, apr_time_t now,
                                    apr_pool_t *p);

/** The /.httpd/certificate-status document text (not time dependent). */
const char *md_status_entry_cert_status_text(const md_status_entry_t *entry);

/**
 * The all-MDs md-status document text from entries (md_status_entry_t*, any
 * order; sorted by name here), byte-identical to serialising
 * md_status_mds_json of their objects, with renew-at patched to now.
 */
const char *md_status_mds_text(const apr_array_header_t *entries, const char *version,
                               apr_time_t now, apr_pool_t *p);

/* --- server-status texts ---------------------------------------------------------------- */

typedef struct md_status_text_opts_t {
    apr_time_t now;
    int html;                       /* 0: "?auto" lines, 1: HTML table */
    const char *cert_check_name;    /* MDCertificateCheck, NULL: no CheckAt */
    const char *cert_check_url;
} md_status_text_opts_t;

/**
 * The "Managed Certificates" part of server-status (contract.md 3.3) from
 * <md> objects (md_json_t*, without logs; sorted by name here). ?auto: the
 * counters, then the lines of each MD; HTML: the table, "" without MDs.
 * The objects are only read; all allocation is in p.
 */
const char *md_status_mds_server_text(const apr_array_header_t *mds,
                                      const md_status_text_opts_t *opts, apr_pool_t *p);

/**
 * The same text from entries (md_status_entry_t*, any order): each entry
 * keeps the part of its row that does not move with the clock, so only
 * the activity is rendered per call. Fills the entries' caches: callers
 * serialise calls on shared entries. All else is allocated in p.
 */
const char *md_status_entries_server_text(apr_array_header_t *entries,
                                          const md_status_text_opts_t *opts, apr_pool_t *p);

/* One stapled certificate as the stapling code knows it. */
typedef struct md_status_stapling_t {
    const char *domain;             /* MD name, or "other" */
    const char *id;                 /* lower-case hex SHA-1 of the certificate */
    const char *status;             /* "good", "revoked", "unknown" */
    const char *cert_fingerprint;   /* lower-case hex SHA-256, NULL unknown */
    const char *url;                /* OCSP responder, NULL unknown */
    apr_time_t valid_from;          /* response validity, 0 unknown */
    apr_time_t valid_until;
    apr_time_t renew_at;            /* when the response is refreshed, 0 unknown */
    const struct md_job_t *job;     /* the OCSP job, NULL none */
} md_status_stapling_t;

/**
 * The stapling object md_status_ocsp_server_text reads: domain, id, status,
 * cert.sha256-fingerprint, url, valid, renew-at, renewal (the OCSP job,
 * with or without its log).
 */
struct md_json_t *md_status_stapling_json(const md_status_stapling_t *st, int with_log,
                                          apr_pool_t *p);

/**
 * The "Managed Staplings" part from stapling objects (md_json_t* with
 * domain, id, status, cert.sha256-fingerprint, url, valid, renew-at,
 * renewal; sorted by domain, then id, here). ?auto: counters and lines,
 * HTML: the table, "" without staplings.
 */
const char *md_status_ocsp_server_text(const apr_array_header_t *staplings,
                                       const md_status_text_opts_t *opts, apr_pool_t *p);

/**
 * The md-status status text of an MD: "good", "expired", "incomplete[:
 * descr]", "error", "missing information", "unknown".
 */
const char *md_status_state_text(const struct md_json_t *mdj, apr_time_t now,
                                 apr_pool_t *p);

/**
 * Display name of a CA url: the known name (LetsEncrypt, LetsEncrypt-Test,
 * Buypass, Buypass-Test; matched case-insensitively) or the url's host.
 */
const char *md_status_ca_name(const char *url, apr_pool_t *p);

#endif /* md_status_h */
