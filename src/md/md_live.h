/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Live activation (MDActivation live): a renewed set goes from staging/NAME
 * to live/NAME once it passed the checks below; every process of the
 * running server then loads it from there (checking it again) and serves
 * it on new connections, without a restart. The next start of the server
 * promotes it to domains/NAME as any staged set (docs/live.md).
 *
 * live/NAME holds md.json, the account files of a newly registered account
 * (if staging had them) and per key spec the encrypted private key and the
 * chain, written as live/NAME~ and renamed, so a reader never sees half a
 * set.
 */
#ifndef md_live_h
#define md_live_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"

struct md_store_t;

/* md-status: "activation": "live" on an MD, "live": true on its renewal
 * when the staged set serves live. */
#define MD_KEY_ACTIVATION       "activation"
#define MD_KEY_LIVE             "live"

typedef struct md_live_set_t md_live_set_t;

/**
 * The checks a set must pass before it is served: for every key spec of
 * md a key (md_pkey_t*, in pkeys) and a chain (apr_array_header_t* of
 * md_cert_t*, in chains, in md's spec order) whose leaf matches the key,
 * covers all of md's domains, is valid at now and, when the chain has a
 * second certificate, is signed by it. On failure *perr says which check
 * failed, for which spec (allocated in p).
 */
apr_status_t md_live_check(const md_t *md, apr_array_header_t *pkeys,
                           apr_array_header_t *chains, apr_time_t now,
                           const char **perr, apr_pool_t *p);

/**
 * Publishes the complete staged set of md (staging/NAME) as live/NAME after
 * md_live_check at now. APR_EEXIST when live/NAME already holds these
 * certificates; APR_ENOENT when staging has no complete set; APR_EINVAL
 * with *perr when a check failed (nothing is published).
 */
apr_status_t md_live_publish(struct md_store_t *store, const md_t *md, apr_time_t now,
                             const char **perr, apr_pool_t *p);

/**
 * 1 when live/NAME holds the certificates that staging/NAME holds (the
 * staged renewal has gone live), 0 otherwise.
 */
int md_live_is_staged(struct md_store_t *store, const md_t *md, apr_pool_t *p);

/**
 * Loads live/NAME for serving: the checks of md_live_check at now, then the
 * OpenSSL objects per key spec. APR_ENOENT when there is no live set.
 * The set lives in p.
 */
apr_status_t md_live_load(md_live_set_t **pset, struct md_store_t *store, const md_t *md,
                          apr_time_t now, const char **perr, apr_pool_t *p);

/* The chains of the set (apr_array_header_t* of md_cert_t*, spec order). */
apr_array_header_t *md_live_chains(const md_live_set_t *set);

/* The serial number of the set's first leaf (hex), for logs and status. */
const char *md_live_serial(const md_live_set_t *set, apr_pool_t *p);

/**
 * Puts the set's certificates, keys and chains on the TLS connection ssl
 * (an OpenSSL SSL*), replacing what its context had. Thread-safe: the set
 * is only read. 1 on success.
 */
int md_live_apply(const md_live_set_t *set, void *ssl);

/**
 * At the server's start, before staged sets are activated: a live set
 * that staging does not hold any more (a later renewal has begun there)
 * and that is newer than domains/NAME goes back to staging as a finished
 * set, so the activation promotes it; then live/NAME is removed. 1 when
 * it restaged a set.
 */
int md_live_restage(struct md_store_t *store, const md_t *md, apr_time_t now,
                    apr_pool_t *p);

#endif /* md_live_h */
