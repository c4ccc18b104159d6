/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The state of a background job (the renewal of one MD in staging/NAME, the
 * OCSP updates of one MD in ocsp/NAME) as job.json keeps it (contract.md
 * 2.3): flags, run times, error count with back-off, the last result and a
 * log of at most 128 entries, newest first. A job is driven by one thread.
 */
#ifndef md_job_h
#define md_job_h

#include <apr_pools.h>
#include <apr_time.h>

#include "md_store.h"

struct md_json_t;
struct md_result_t;
struct md_event_t;

/* At most this many log entries are kept (newest first). */
#define MD_JOB_LOG_MAX          128
/* During a run, progress saves are at least this far apart. */
#define MD_JOB_SAVE_INTERVAL    apr_time_from_msec(500)
/* Upper bound of the error back-off, and the delay for bad-input problems. */
#define MD_JOB_MAX_DELAY        apr_time_from_sec(24 * 60 * 60)

/* job.json keys (contract.md 2.3) */
#define MD_KEY_FINISHED         "finished"
#define MD_KEY_NOTIFIED         "notified"
#define MD_KEY_NOTIFIED_RENEWED "notified-renewed"
#define MD_KEY_NEXT_RUN         "next-run"
#define MD_KEY_LAST_RUN         "last-run"
#define MD_KEY_VALID_FROM       "valid-from"
#define MD_KEY_ERRORS           "errors"
#define MD_KEY_LAST             "last"
#define MD_KEY_LOG              "log"
#define MD_KEY_ENTRIES          "entries"
#define MD_KEY_WHEN             "when"
#define MD_KEY_STATUS           "status"
#define MD_KEY_DETAIL           "detail"
#define MD_KEY_PROBLEM          "problem"

/* Log entry types */
#define MD_JOB_LOG_STARTING     "starting"
#define MD_JOB_LOG_PROGRESS     "progress"
#define MD_JOB_LOG_FINISHED     "finished"
#define MD_JOB_LOG_RENEWAL_ERR  "renewal-error"
#define MD_JOB_LOG_OCSP_ERR     "ocsp-error"
#define MD_JOB_LOG_MESSAGE_ERR  "message-error"
#define MD_JOB_LOG_NOTIFY_ERR   "notify-error"

/* The clock and the random source of a job, replaceable for tests.
 * md_job_now_cb returns the current time; md_job_rand_cb a value 0..255. */
typedef apr_time_t md_job_now_cb(void *baton);
typedef unsigned int md_job_rand_cb(void *baton);

typedef struct md_job_t md_job_t;
struct md_job_t {
    apr_pool_t *p;
    md_store_group_t group;         /* MD_SG_STAGING or MD_SG_OCSP */
    const char *mdomain;            /* MD name, or "other" for OCSP */
    md_store_t *store;              /* NULL: never saved */
    int finished;                   /* last run completed successfully */
    int notified;                   /* a checked notification succeeded */
    int notified_renewed;           /* "renewed" was delivered */
    apr_time_t next_run;            /* 0: as soon as the scheduler likes */
    apr_time_t last_run;            /* start of the last run, 0 never */
    apr_time_t valid_from;          /* staged certificates usable from */
    int error_runs;                 /* consecutive failed runs */
    struct md_result_t *last;       /* result of the last run, NULL none */
    struct md_json_t *log;          /* {"entries": [...]}, NULL none */
    apr_interval_time_t min_delay;  /* MDRetryDelay, first back-off step */
    const struct md_event_t *events; /* commands/subscribers, NULL default */
    int dirty;                      /* changed since loaded/saved */
    int progress_unsaved;           /* a progress save was throttled */
    apr_time_t last_save;
    struct md_result_t *observed;   /* result of the current run */
    md_job_now_cb *now_cb;
    md_job_rand_cb *rand_cb;
    void *clock_baton;
};

/**
 * A job for the MD name in the store group, with nothing loaded yet
 * (not finished, no errors, no log). min_delay is the first back-off step
 * (MDRetryDelay); <= 0 gives 5 seconds. store may be NULL (a job that is
 * never saved). The job lives in p; it is not thread-safe: one thread
 * drives it.
 */
md_job_t *md_job_make(apr_pool_t *p, md_store_t *store, md_store_group_t group,
                      const char *name, apr_interval_time_t min_delay);

/** Replace the clock/random source (tests); NULL callbacks restore the
 * defaults (apr_time_now, md_rand_bytes). */
void md_job_set_clock(md_job_t *job, md_job_now_cb *now_cb, md_job_rand_cb *rand_cb,
                      void *baton);

/** The job's idea of the current time. */
apr_time_t md_job_now(const md_job_t *job);

/**
 * job.json form of the job, members in the order of contract.md 2.3.
 * Without with_log the "log" member is left out (md-status all-MDs form).
 * The JSON is allocated in p and shares nothing with the job.
 */
struct md_json_t *md_job_to_json(const md_job_t *job, int with_log, apr_pool_t *p);

/**
 * Set the job's state from job.json. Missing members read as unset; the name
 * is kept. Never fails on odd content. Values are copied into job->p; p is
 * for temporary allocations.
 */
void md_job_from_json(md_job_t *job, const struct md_json_t *json, apr_pool_t *p);

/**
 * Load <group>/<name>/job.json into the job.
 * @return APR_SUCCESS, APR_ENOENT when there is none (job unchanged),
 *         APR_EINVAL without a store, else the store's error
 */
apr_status_t md_job_load(md_job_t *job);

/**
 * 0 when a staging job of md that claims success ("finished") must count
 * as absent because staging does not hold its results (as the original):
 * md renews (renew mode always, or auto without static files) and
 * staging/NAME/md.json is missing, or domains/NAME exists and staging
 * lacks the chain of one of md's key types. 1 otherwise.
 */
int md_job_staged_results_exist(md_store_t *store, const md_t *md, apr_pool_t *p);

/**
 * Save the job to <group>/<name>/job.json (with its log) and clear dirty.
 * @return APR_SUCCESS, APR_EINVAL without a store, else the store's error
 */
apr_status_t md_job_save(md_job_t *job, apr_pool_t *p);

/**
 * Prepend a log entry {"when", "type", "status"?, "detail"?} (when = now) and
 * drop entries beyond MD_JOB_LOG_MAX. status and detail may be NULL.
 */
void md_job_log_append(md_job_t *job, const char *type, const char *status,
                       const char *detail);

/** Time of the newest log entry of the type, 0 if there is none. */
apr_time_t md_job_log_get_time_of_latest(const md_job_t *job, const char *type);

/**
 * The "progress" entry text for a result: the present parts in the order
 * activity, detail, "problem: <problem>", activity and detail joined by
 * ": ", the problem following a detail with ", " or a lone activity with
 * ": ". NULL when none of the three is set.
 */
const char *md_job_progress_text(const struct md_result_t *result, apr_pool_t *p);

/**
 * Start a run: last-run = now, a "starting" entry, and from now on each
 * change of result (activity/detail/problem/status) is copied to job->last
 * and logged as "progress"; the job is then saved when the last save is at
 * least MD_JOB_SAVE_INTERVAL ago (if it has a store). result must live until
 * md_job_end_run.
 */
void md_job_start_run(md_job_t *job, struct md_result_t *result);

/**
 * End a run with its result (copied to job->last). Success: finished,
 * valid-from = result's ready_at, errors = 0, next-run cleared, a "finished"
 * entry. Failure: not finished, errors + 1, next-run = now + back-off
 * (md_job_delay_on_errors with a random jitter), a "renewal-error" entry
 * ("ocsp-error" for OCSP jobs) with the problem and detail. Does not save.
 */
void md_job_end_run(md_job_t *job, struct md_result_t *result);
/* End a run that did not happen after all (another cluster node renews the
 * MD): result is no longer observed; errors, back-off and job->last stay. */
void md_job_end_unrun(md_job_t *job, struct md_result_t *result);

/**
 * Back-off after err_count consecutive errors (pure): min_delay *
 * 2^(err_count-1), at most MD_JOB_MAX_DELAY; MD_JOB_MAX_DELAY directly when
 * problem is an ACME problem type that indicates bad input (contract.md 9).
 * The delay is then jittered by -50%..+50% with jitter (0..255, 128 = none):
 * delay + delay * (jitter - 128) / 256. 0 for err_count <= 0 and no
 * bad-input problem.
 */
apr_interval_time_t md_job_delay_on_errors(int err_count, const char *problem,
                                           apr_interval_time_t min_delay,
                                           unsigned int jitter);

/** 1 if the ACME problem type (any urn prefix) indicates bad input. */
int md_job_problem_is_input_related(const char *problem);

/**
 * Count a failure outside of a run (e.g. a failed notification): errors + 1
 * and next-run = now + back-off for problem.
 */
void md_job_retry_later(md_job_t *job, const char *problem);

/**
 * Send the notification reason for this job's MD through the event layer
 * (md_event_raise with job->events) and record the outcome:
 * - success (also: rate limited, no command): "renewed", "expiring" and
 *   "challenge-setup:*" set notified; "renewed" also notified-renewed;
 * - failure of "renewing" (veto), "renewed", "expiring" and
 *   "challenge-setup:*": errors + 1 and a back-off next-run
 *   (md_job_retry_later);
 * - "installed", "errored", "ocsp-*" never fail (their outcome is logged).
 * A failing command is described in result (problem AH10108/AH10109), and
 * result then becomes the job's last, also for "errored" (as the original);
 * on success result is not touched, except that a checked notification
 * clears its problem. result may be NULL (job->last stays then).
 * @return APR_SUCCESS, APR_EAGAIN when "renewing" was vetoed, else the
 *         failure status
 */
apr_status_t md_job_notify(md_job_t *job, const char *reason,
                           struct md_result_t *result);

#endif /* md_job_h */
