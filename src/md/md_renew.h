/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The renewal scheduler: decides for each watched MD whether a renewal,
 * a "renewed" notification or an expiry warning is due, runs the due
 * renewals concurrently (a bounded number at a time) and tells when it
 * wants to run next. The module's watchdog, a2md and the unit tests all
 * drive renewals through md_renew_run().
 */
#ifndef md_renew_h
#define md_renew_h

#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_job.h"

struct md_reg_t;
struct md_store_t;
struct md_job_t;
struct md_result_t;
struct md_event_t;
struct md_ocsp_reg_t;
struct md_crl_reg_t;
struct md_json_t;

/* staging/NAME/renew-request: left by "a2md renew" for a running server.
 * The next run treats the MD as due (also before its renew window and
 * ahead of a back-off) and removes the file when it ends; a finished staged
 * set that waits for activation already fulfils it. */
#define MD_FN_RENEW_REQUEST     "renew-request"

typedef struct md_renew_opts_t md_renew_opts_t;

/* A drive's answer when another node of a cluster renews the MD (or the
 * cluster store cannot say who does, MDStoreDB): no error is counted, the
 * run looks again after the retry delay. */
#define MD_RENEW_ELSEWHERE      (APR_OS_START_USERERR + 1)

/* One renewal of md into staging (the ACME drive). It reports progress
 * and the outcome in result; job is the MD's staging job (for events). */
typedef apr_status_t md_renew_drive_fn(const md_renew_opts_t *opts, md_t *md,
                                       struct md_job_t *job,
                                       struct md_result_t *result, apr_pool_t *p);

struct md_renew_opts_t {
    struct md_reg_t *reg;
    struct md_store_t *store;
    const struct md_event_t *events;    /* MDMessageCmd/MDNotifyCmd, may be NULL */
    struct md_ocsp_reg_t *ocsp;         /* stapling (revoked -> renew), may be NULL */
    struct md_crl_reg_t *crl;           /* MDCRLCheck (revoked -> renew), may be NULL */
    md_renew_drive_fn *drive;           /* the renewal itself */
    void *drive_baton;                  /* for the drive (e.g. ACME settings) */
    apr_interval_time_t retry_delay;    /* MDRetryDelay */
    int retry_failover;                 /* MDRetryFailover: errors before the next CA */
    apr_interval_time_t activation_delay; /* MDActivationDelay */
    apr_interval_time_t check_interval; /* MDCheckInterval (jittered +-50%) */
    int max_parallel;                   /* concurrent renewals, >= 1 */
    int store_locks;                    /* MDStoreLocks: lock each MD while driving */
    struct md_renew_memo_t *memo;       /* jobs that could not be saved, may be NULL */
    const struct md_ari_conn_t *ari_conn; /* ARI (RFC 9773) requests, NULL: no ARI */
    apr_uint64_t *lock_failures;        /* counts MDs locked elsewhere, may be NULL */
    /* MDActivation live (md_live.h), NULL: activation at restarts only.
     * Called for an MD with activation_live whose staged set is complete
     * and usable: APR_SUCCESS when it serves live (now or already), an
     * APR_EINVAL result when the set failed its checks (the scheduler
     * drops it and counts an error: the renewal runs again after the
     * back-off), other failures are tried again at the next run. */
    apr_status_t (*go_live)(const md_renew_opts_t *opts, const md_t *md,
                            struct md_job_t *job, struct md_result_t *result,
                            apr_pool_t *p);
    /* The clock of the jobs during a run (a renewal takes time: a certificate
     * issued in it is judged at the time it arrives), NULL: the system clock.
     * The run's own decisions are made at the `now` given to md_renew_run. */
    md_job_now_cb *now_cb;
    void *clock_baton;
};

/* What the scheduler remembers of jobs whose job.json could not be written
 * (full disk, read-only staging): their state in memory, so that the
 * back-off keeps growing and the last error stays known. Thread-safe. */
typedef struct md_renew_memo_t md_renew_memo_t;

/* A memo living in p (the watchdog's configuration pool). */
apr_status_t md_renew_memo_create(md_renew_memo_t **pmemo, apr_pool_t *p);

/* Makes the memo visible to other processes forked after this call: the
 * jobs of the MDs named in mds (md_t*) are also kept, without their log, in
 * anonymous shared memory, so that md-status served by any child shows them.
 * Call in the parent before the children start. */
apr_status_t md_renew_memo_share(md_renew_memo_t *memo, apr_array_header_t *mds,
                                 apr_pool_t *p);
/* A number that changes whenever the shared job of name changes (0 when
 * not shared), for caches of status documents. */
apr_uint32_t md_renew_memo_version(md_renew_memo_t *memo, const char *name);

/* The remembered job.json of the MD (a copy in p), NULL when its last save
 * worked. */
struct md_json_t *md_renew_memo_get(md_renew_memo_t *memo, const char *name,
                                    apr_pool_t *p);

/* 1 if the scheduler looks after md at all: not in error state, and
 * renew mode auto only when used by a vhost (used = 1). */
int md_renew_is_watched(const md_t *md, int used);

/* Runs what is due for each MD of mds (md_t*, watched ones) at now:
 * renewals (in parallel), pending "renewed" notifications, "expiring"
 * warnings. Sets *pnext_run to when it should run again (never later than
 * now + check_interval with jitter). Thread-safe for different mds lists;
 * blocks until the renewals of this run are done. */
apr_status_t md_renew_run(const md_renew_opts_t *opts, apr_array_header_t *mds,
                          apr_time_t now, apr_time_t *pnext_run, apr_pool_t *p);

/* The CA url to use for an attempt after error_runs consecutive errors:
 * starting with md's effective CA (else its first), the next configured
 * one after every retry_failover errors, round-robin. NULL without urls. */
const char *md_renew_ca_url(const md_t *md, int error_runs, int retry_failover);

/* The check interval jittered by +-50% (jitter 0..255, 128 = none). */
apr_interval_time_t md_renew_jittered(apr_interval_time_t interval, unsigned int jitter);

#endif /* md_renew_h */
