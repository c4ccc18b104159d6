/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * One ACME renewal of a managed domain into staging/NAME: CA session,
 * account selection or registration, one order per key spec (resumed from
 * order.json), challenges, finalization and the certificate chains. The
 * progress is reported through the result's activity texts (2.3).
 */
#ifndef md_acme_drive_h
#define md_acme_drive_h

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_result.h"
#include "md_store.h"
#include "md_acme_authz.h"

/* How a renewal runs; initialise with md_acme_drive_opts_init. All
 * pointers are borrowed for the duration of the call. */
typedef struct md_acme_drive_opts_t {
    /* Challenge types that may be used, in preference order, when the MD
     * configures none (md->ca_challenges). The host computes them from
     * reachability (http-01 needs port 80, tls-alpn-01 port 443 with
     * acme-tls/1, dns-01 a command). NULL: http-01, tls-alpn-01, and dns-01
     * when a command is configured. Empty: none is usable, the renewal
     * fails at once with no_challenges as its detail. */
    apr_array_header_t *challenge_types;
    const char *no_challenges;      /* why none is usable (see above) */
    const char *dns01_cmd;          /* global MDChallengeDns01 (md's own wins) */
    int dns01_version;              /* MDChallengeDns01Version, 1 or 2 */
    const char *ca_file;            /* MDCACertificateFile when md->ca_certs is unset */
    const char *proxy_url;          /* MDHttpProxy when md->proxy_url is unset */
    const char *proxy_ca_file;      /* when md->proxy_ca_certs is unset */
    apr_interval_time_t activation_delay; /* MDActivationDelay, see contract.md 9 */
    apr_time_t current_until;       /* end of the validity of md's complete, current
                                     * certificates as the host knows them; 0: read
                                     * domains/ (not readable for a child as User) */
    apr_hash_t *ari_cert_ids;       /* spec name -> ARI id of md's current certificate
                                     * (md_ari_cert_ids) for newOrder's "replaces";
                                     * NULL: read domains/ */
    int reset;                      /* purge staging/NAME first */
    /* The clock the renewal judges certificates by (validity of staged
     * sets, when the new set may be used), NULL: the system clock. The
     * scheduler passes its job's clock. */
    apr_time_t (*now_cb)(void *baton);
    void *clock_baton;
    apr_interval_time_t authz_timeout; /* waiting for validations (default 3 min) */
    apr_interval_time_t order_timeout; /* waiting for the order states (3 min) */
    /* The accounts found or registered by renewals of this process (see
     * md_acme_acct_cache_create), NULL for none. With a cache, renewals
     * running in parallel share one account per CA and EAB: the first one
     * finds or registers it, the others take it without asking the CA. */
    struct md_acme_acct_cache_t *acct_cache;
    md_acme_challenge_setup_cb *on_challenge_setup; /* may be NULL */
    void *on_challenge_setup_baton;
} md_acme_drive_opts_t;

/* A per-process cache of usable accounts (thread-safe), living in p. */
typedef struct md_acme_acct_cache_t md_acme_acct_cache_t;
apr_status_t md_acme_acct_cache_create(md_acme_acct_cache_t **pcache, apr_pool_t *p);

/* Defaults: no explicit types, dns-01 version 1, timeouts 3 minutes. */
void md_acme_drive_opts_init(md_acme_drive_opts_t *opts);

/**
 * Renews the certificates of md into staging/<md->name>:
 *   staging/NAME/md.json (ca.url = the CA used, ca.account when the account
 *   is stored in accounts/), account.json + account.pem (only when a new
 *   account was registered), privkey[.<spec>].pem (encrypted) and
 *   pubcert[.<spec>].pem per key spec, order.json while an order is
 *   active (after the chain of a key spec was retrieved, the order is
 *   purged and its challenges torn down, see md_acme_order_purge; an order
 *   of a failed run stays for the next run and for activation).
 * Resumes an order found in staging/NAME/order.json and skips key specs
 * whose staged key and chain are complete. Sets result->ready_at (the
 * "valid-from" of the staged set) and the success detail
 * "The certificate for the managed domain has been renewed successfully ...".
 * On failure the result carries status, problem and detail (2.3/5); nothing
 * outside staging/NAME and challenges/ is touched.
 *
 * Re-entrant: no global state; every call has its own HTTP session and
 * scratch pool, so different MDs may be renewed concurrently in separate
 * threads (never the same MD twice at once). Blocks for the network and
 * polling (bounded by the timeouts of opts).
 *
 * @return APR_SUCCESS, or the status of the failing step
 */
apr_status_t md_acme_drive_renew(md_store_t *store, const md_t *md,
                                 const md_acme_drive_opts_t *opts,
                                 md_result_t *result, apr_pool_t *p);

/**
 * Copies a newly registered account from staging/<md->name> into accounts/
 * (activation step 2 of contract.md 1.9): re-uses the id in md->ca_account
 * if that account has the same url, else an existing account with the same
 * CA url and account url, else a new id. Sets md->ca_account (allocated in
 * p). The staged files stay until the caller purges staging/<md->name>, so
 * a retry after a failed activation finds the same id. APR_ENOENT when
 * nothing is staged.
 */
apr_status_t md_acme_drive_activate_account(md_store_t *store, md_t *md,
                                            apr_pool_t *p);

#endif /* md_acme_drive_h */
