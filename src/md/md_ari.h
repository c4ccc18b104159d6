/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * ACME Renewal Information (RFC 9773) per managed domain: the suggested
 * window of each current certificate as its CA last said it, the renewal
 * time drawn inside the window and when to ask again, kept in
 * staging/NAME/ari.json (writable for the child, survives restarts; see
 * docs/renewal.md). The network part is md_acme_ari_get (md_acme.h).
 */
#ifndef md_ari_h
#define md_ari_h

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"

struct md_acme_ari_t;
struct md_json_t;
struct md_reg_t;
struct md_store_t;

#define MD_FN_ARI               "ari.json"

#define MD_KEY_ARI              "ari"
#define MD_KEY_WINDOW           "window"
#define MD_KEY_START            "start"
#define MD_KEY_END              "end"
#define MD_KEY_EXPLANATION      "explanation"
#define MD_KEY_NEXT_POLL        "next-poll"

/* Polling bounds (RFC 9773 4.3.1): Retry-After below a minute counts as a
 * minute, above a day as a day; without Retry-After ask again in 6 hours,
 * after a failed request in an hour. */
#define MD_ARI_POLL_MIN         apr_time_from_sec(60)
#define MD_ARI_POLL_MAX         apr_time_from_sec(24 * 60 * 60)
#define MD_ARI_POLL_DEFAULT     apr_time_from_sec(6 * 60 * 60)
#define MD_ARI_POLL_ERROR       apr_time_from_sec(60 * 60)

/* What is known about one certificate. */
typedef struct md_ari_t {
    const char *cert_id;            /* md_cert_get_ari_cert_id of the certificate */
    apr_time_t start;               /* suggested window, 0/0 when none is known */
    apr_time_t end;
    const char *explanation;        /* explanationURL of the CA, or NULL */
    apr_time_t renew_at;            /* drawn inside [start, end], 0 without window */
    apr_time_t next_poll;           /* ask the CA again from then on */
} md_ari_t;

/* How to reach the CA (the MD's own settings win, as for renewals). */
typedef struct md_ari_conn_t {
    const char *ca_file;            /* MDCACertificateFile */
    const char *proxy_url;          /* MDHttpProxy */
    const char *proxy_ca_file;      /* MDHttpProxyCACertificateFile */
} md_ari_conn_t;

/**
 * A time drawn uniformly inside [start, end) from rnd, in whole seconds
 * after start: never before start, before end when the window is longer
 * than a second. Pure.
 */
apr_time_t md_ari_pick(apr_time_t start, apr_time_t end, apr_uint64_t rnd);

/**
 * When to ask again after an answer at now with the given Retry-After
 * (0: none), bounded as MD_ARI_POLL_*. Pure.
 */
apr_time_t md_ari_poll_at(apr_time_t now, apr_interval_time_t retry_after);

/**
 * Merges a fetched renewalInfo into ari (pure): window, explanation and
 * the next poll are taken over; the renewal time stays when the window is
 * the same (to the second) and is drawn anew from rnd otherwise.
 */
void md_ari_update(md_ari_t *ari, const struct md_acme_ari_t *fetched, apr_time_t now,
                   apr_uint64_t rnd);

/* JSON form of one entry ("id", "window": {"start", "end"}, "explanation",
 * "renew-at", "next-poll"; times RFC 822) and back (NULL without "id"). */
struct md_json_t *md_ari_to_json(const md_ari_t *ari, apr_pool_t *p);
md_ari_t *md_ari_from_json(const struct md_json_t *json, apr_pool_t *p);

/**
 * The entries of staging/<name>/ari.json (md_ari_t*), an empty array when
 * the file is absent or unreadable. Never fails.
 */
apr_array_header_t *md_ari_load(struct md_store_t *store, const char *name,
                                apr_pool_t *p);

/** Writes the entries (md_ari_t*) to staging/<name>/ari.json. */
apr_status_t md_ari_save(struct md_store_t *store, const char *name,
                         const apr_array_header_t *aris, apr_pool_t *p);

/* The entry for cert_id in aris, NULL if none. */
md_ari_t *md_ari_find(const apr_array_header_t *aris, const char *cert_id);

/**
 * The ARI ids of md's current certificates as the registry holds them
 * (loaded by the parent; usable in the child that cannot read domains/):
 * spec name ("rsa", curve) -> id. Certificates without authority key id
 * are left out.
 */
apr_hash_t *md_ari_cert_ids(struct md_reg_t *reg, const md_t *md, apr_pool_t *p);

/**
 * The stored entry with the earliest renewal time among md's current
 * certificates (the registry's), or NULL (ARI off for md, nothing known).
 * For status pages; reads only.
 */
const md_ari_t *md_ari_current(struct md_reg_t *reg, const md_t *md, apr_pool_t *p);

/**
 * The watchdog's ARI step for md, whose configured renewal is not due yet.
 * With ARI on for md (md->ari_renewals), asks md's CA (md->ca_effective)
 * for the renewalInfo of each current certificate whose next poll time
 * has come, stores the result and logs AH10513-AH10518 (contract.md 5).
 * A CA without renewalInfo is no error (nothing is stored).
 * @param prenew_at   the earliest ARI renewal time, 0 when there is none
 * @param pnext_poll  the earliest time to ask again, 0 when there is none
 * @return APR_SUCCESS, or the status of a failed request (already logged)
 */
apr_status_t md_ari_check(apr_time_t *prenew_at, apr_time_t *pnext_poll,
                          struct md_reg_t *reg, const md_t *md,
                          const md_ari_conn_t *conn, apr_time_t now, apr_pool_t *p);

#endif /* md_ari_h */
