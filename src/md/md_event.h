/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Events about a managed domain ("renewing", "renewed", "installed", ...)
 * and what they trigger (contract.md 4): the MDNotifyCmd / MDMessageCmd
 * commands with their rate limits (read from the job log), the per-reason
 * handling of failures, and a list of subscribers that observe every event.
 */
#ifndef md_event_h
#define md_event_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

struct md_job_t;
struct md_result_t;

/* Problem ids the module puts into a result when a command fails. */
#define MD_EVENT_PROBLEM_NOTIFY   "urn:org:apache:httpd:log:AH10108:"
#define MD_EVENT_PROBLEM_MESSAGE  "urn:org:apache:httpd:log:AH10109:"

/* What a failing command means for the event's reason. */
typedef enum {
    MD_EVENT_FIRE_AND_FORGET,   /* installed, errored, ocsp-*: only logged */
    MD_EVENT_VETO,              /* renewing: a failure stops the renewal */
    MD_EVENT_CHECKED,           /* renewed, expiring, challenge-setup:*:
                                 * delivery counts, failure is retried */
} md_event_kind_t;

/**
 * An observer of events, called after the commands ran (or were skipped).
 * rv is the outcome as md_event_raise returns it; rate_limited is 1 when
 * nothing was run because of the rate limit. Must not block for long.
 */
typedef void md_event_cb(const char *reason, const char *mdomain, apr_status_t rv,
                         int rate_limited, void *baton, apr_pool_t *p);

typedef struct md_event_t md_event_t;

/**
 * Event configuration: the commands (module-wide MDMessageCmd and
 * MDNotifyCmd values, NULL = none) and the subscribers. Built once at
 * start-up; read-only afterwards, then safe to share between threads.
 */
md_event_t *md_event_make(apr_pool_t *p, const char *message_cmd, const char *notify_cmd);

/**
 * What the commands' environment describes (docs/events.md): the store's
 * directory (absolute) and the MDs (md_t*) by name. At start-up only; the
 * MDs must live as long as events.
 */
void md_event_set_env_context(md_event_t *events, const char *store_dir,
                              const apr_array_header_t *mds);

/**
 * The variables MDMessageCmd and MDNotifyCmd get for reason and mdomain
 * (docs/events.md): MD_NAME, MD_EVENT, MD_STORE_DIR and, for an MD the
 * context knows, MD_DOMAINS, MD_CERT_FILE, MD_KEY_FILE (and per key spec
 * MD_CERT_FILE_<SPEC>, MD_KEY_FILE_<SPEC>); for "renewed" also
 * MD_STAGING_DIR and MD_STAGED_CERT_FILE[_<SPEC>], for "live" (MDActivation
 * live) MD_LIVE_DIR and MD_LIVE_CERT_FILE[_<SPEC>]. Paths only, never file
 * contents. A NULL-terminated array of "NAME=VALUE" strings in p.
 */
const char *const *md_event_env(const md_event_t *events, const char *reason,
                                const char *mdomain, apr_pool_t *p);

/** Add an observer (at start-up only). */
void md_event_subscribe(md_event_t *events, md_event_cb *cb, void *baton);

/**
 * The process-wide default used by jobs without own configuration. Set once
 * by the host at start-up (not thread-safe); NULL resets it (tests).
 */
void md_event_set_default(const md_event_t *events);
const md_event_t *md_event_get_default(void);

/** How failures of the reason are handled. */
md_event_kind_t md_event_kind(const char *reason);

/** The minimum time between two commands for the reason (contract.md
 * 4.2), 0 when the reason is not limited. */
apr_interval_time_t md_event_rate_limit(const char *reason);

/**
 * 1 if the reason is to be skipped because job's log has a
 * "message-<reason>" entry younger than the reason's limit at now.
 */
int md_event_is_rate_limited(const struct md_job_t *job, const char *reason,
                             apr_time_t now);

/**
 * The argv of a command: cmdline split like apr_tokenize_to_argv, then the
 * extra arguments (NULL terminated); NULL-terminated array in p.
 * MDMessageCmd: (cmd, reason, mdomain); MDNotifyCmd: (cmd, mdomain).
 * @return APR_SUCCESS, APR_EINVAL for an empty command
 */
apr_status_t md_event_message_argv(const char ***pargv, const char *cmdline,
                                   const char *reason, const char *mdomain,
                                   apr_pool_t *p);
apr_status_t md_event_notify_argv(const char ***pargv, const char *cmdline,
                                  const char *mdomain, apr_pool_t *p);

/**
 * Raise the event reason for mdomain (job may be NULL, then nothing is rate
 * limited or logged to a job; mdomain NULL means job->mdomain):
 * 1. rate limit (contract.md 4.3): skipped, DEBUG AH10267, counts as
 *    delivered (no log entry is added);
 * 2. for "renewed": MDNotifyCmd <cmd> <mdomain>; on failure: result gets
 *    problem AH10108 and "MDNotifyCmd <cmd> failed with exit code <n>.",
 *    ERR result log, a "notify-error" job entry, MDMessageCmd is not run;
 *    then NOTICE AH10059;
 * 3. MDMessageCmd <cmd> <reason> <mdomain>; on failure: problem AH10109,
 *    "MDMessageCmd <cmd> failed with exit code <n>.", ERR result log, a
 *    "message-error" entry with the reason as status;
 * 4. success: a "message-<reason>" entry;
 * 5. the subscribers are called.
 * A program that cannot be started fails as one that exits with 255.
 * result is only written on failure (its status becomes the failure's:
 * APR_EGENERAL for exit codes 1-127, APR_EINCOMPLETE above and for a
 * signal, as the original).
 * @return APR_SUCCESS when delivered or the reason is fire-and-forget;
 *         APR_EAGAIN when "renewing" failed: a veto (ERR AH10060); else
 *         the failure
 */
apr_status_t md_event_raise(const md_event_t *events, const char *reason,
                            const char *mdomain, struct md_job_t *job,
                            struct md_result_t *result, apr_pool_t *p);

#endif /* md_event_h */
