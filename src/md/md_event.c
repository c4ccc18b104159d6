/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The event runner: per-reason rate limits and failure handling, the
 * MDNotifyCmd / MDMessageCmd executions with their argv, result texts and
 * job log entries (contract.md 4.2 - 4.4), and the subscriber list.
 */
#include <string.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "md.h"
#include "md_event.h"
#include "md_job.h"
#include "md_log.h"
#include "md_result.h"
#include "md_util.h"

#define HOUR    apr_time_from_sec(60 * 60)
#define DAY     apr_time_from_sec(24 * 60 * 60)

typedef struct {
    md_event_cb *cb;
    void *baton;
} subscriber_t;

struct md_event_t {
    apr_pool_t *p;
    const char *message_cmd;
    const char *notify_cmd;
    apr_array_header_t *subscribers;    /* subscriber_t */
    const char *store_dir;              /* NULL: not known */
    apr_hash_t *mds;                    /* name -> const md_t*, NULL: none */
};

/* Set once at start-up by the host. */
static const md_event_t *default_events;

typedef struct {
    const char *reason;
    int is_prefix;                      /* reason is a prefix of the event */
    apr_interval_time_t limit;
    md_event_kind_t kind;
} reason_info_t;

static const reason_info_t reason_infos[] = {
    { "renewing",           0, HOUR, MD_EVENT_VETO },
    { "renewed",            0, DAY,  MD_EVENT_CHECKED },
    { "installed",          0, DAY,  MD_EVENT_FIRE_AND_FORGET },
    { "live",               0, 0,    MD_EVENT_FIRE_AND_FORGET },
    { "expiring",           0, DAY,  MD_EVENT_CHECKED },
    { "errored",            0, HOUR, MD_EVENT_FIRE_AND_FORGET },
    { "ocsp-renewed",       0, DAY,  MD_EVENT_FIRE_AND_FORGET },
    { "ocsp-errored",       0, HOUR, MD_EVENT_FIRE_AND_FORGET },
    { "revoked",            0, DAY,  MD_EVENT_FIRE_AND_FORGET },
    { "challenge-setup:",   1, 0,    MD_EVENT_CHECKED },
};

static const reason_info_t *reason_info_get(const char *reason)
{
    const reason_info_t *info;
    apr_size_t i;

    if (!reason) return NULL;
    for (i = 0; i < MD_ARRAY_LEN(reason_infos); ++i) {
        info = &reason_infos[i];
        if (info->is_prefix ? !strncmp(info->reason, reason, strlen(info->reason))
                            : !strcmp(info->reason, reason)) {
            return info;
        }
    }
    return NULL;
}

/* --- configuration ------------------------------------------------------------------ */

md_event_t *md_event_make(apr_pool_t *p, const char *message_cmd, const char *notify_cmd)
{
    md_event_t *events = apr_pcalloc(p, sizeof(*events));

    events->p = p;
    events->message_cmd = (message_cmd && *message_cmd) ? apr_pstrdup(p, message_cmd)
                                                        : NULL;
    events->notify_cmd = (notify_cmd && *notify_cmd) ? apr_pstrdup(p, notify_cmd) : NULL;
    events->subscribers = apr_array_make(p, 4, sizeof(subscriber_t));
    return events;
}

void md_event_subscribe(md_event_t *events, md_event_cb *cb, void *baton)
{
    subscriber_t *sub = apr_array_push(events->subscribers);

    sub->cb = cb;
    sub->baton = baton;
}

void md_event_set_env_context(md_event_t *events, const char *store_dir,
                              const apr_array_header_t *mds)
{
    const md_t *md;
    int i;

    events->store_dir = store_dir ? apr_pstrdup(events->p, store_dir) : NULL;
    events->mds = apr_hash_make(events->p);
    for (i = 0; mds && i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, const md_t *);
        apr_hash_set(events->mds, md->name, APR_HASH_KEY_STRING, md);
    }
}

void md_event_set_default(const md_event_t *events)
{
    default_events = events;
}

const md_event_t *md_event_get_default(void)
{
    return default_events;
}

md_event_kind_t md_event_kind(const char *reason)
{
    const reason_info_t *info = reason_info_get(reason);

    return info ? info->kind : MD_EVENT_FIRE_AND_FORGET;
}

apr_interval_time_t md_event_rate_limit(const char *reason)
{
    const reason_info_t *info = reason_info_get(reason);

    return info ? info->limit : 0;
}

int md_event_is_rate_limited(const md_job_t *job, const char *reason, apr_time_t now)
{
    apr_interval_time_t limit = md_event_rate_limit(reason);
    apr_time_t last;
    char type[256];

    if (!job || limit <= 0) return 0;
    apr_snprintf(type, sizeof(type), "message-%s", reason);
    last = md_job_log_get_time_of_latest(job, type);
    return last > 0 && last + limit > now;
}

/* --- environment of the commands ---------------------------------------------------- */

static void env_add(apr_array_header_t *env, const char *name, const char *value)
{
    APR_ARRAY_PUSH(env, const char *) = apr_pstrcat(env->pool, name, "=", value, NULL);
}

/* "_<SPEC>": the key spec's name in upper case, other than letters and
 * digits as '_' ("_RSA", "_P256", "_SECP384R1"). */
static const char *env_spec_suffix(const md_pkey_spec_t *spec, apr_pool_t *p)
{
    char *s = apr_pstrcat(p, "_", md_pkey_spec_name(spec), NULL), *c;

    for (c = s + 1; *c; ++c) {
        *c = apr_isalnum(*c) ? (char)apr_toupper(*c) : '_';
    }
    return s;
}

/* MD_<what>_FILE and MD_<what>_FILE_<SPEC> for the files named by fname_of
 * in dir, for each key spec of md (the first spec also without suffix). */
static void env_add_files(apr_array_header_t *env, const md_t *md, const char *dir,
                          const char *var,
                          const char *(*fname_of)(const md_pkey_spec_t *, apr_pool_t *))
{
    apr_pool_t *p = env->pool;
    const md_pkey_spec_t *spec;
    const char *path;
    int i;

    for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        path = apr_pstrcat(p, dir, "/", fname_of(spec, p), NULL);
        if (0 == i) {
            env_add(env, var, path);
        }
        env_add(env, apr_pstrcat(p, var, env_spec_suffix(spec, p), NULL), path);
    }
}

const char *const *md_event_env(const md_event_t *events, const char *reason,
                                const char *mdomain, apr_pool_t *p)
{
    apr_array_header_t *env = apr_array_make(p, 16, sizeof(const char *));
    const md_t *md = NULL;
    const char *dir;

    env_add(env, "MD_NAME", mdomain ? mdomain : "");
    env_add(env, "MD_EVENT", reason ? reason : "");
    if (events && events->mds && mdomain) {
        md = apr_hash_get(events->mds, mdomain, APR_HASH_KEY_STRING);
    }
    if (events && events->store_dir) {
        env_add(env, "MD_STORE_DIR", events->store_dir);
    }
    if (md) {
        env_add(env, "MD_DOMAINS", apr_array_pstrcat(p, md->domains, ' '));
    }
    if (md && md->cert_files && md->cert_files->nelts > 0) {
        /* static certificates: the configured files are the live ones */
        env_add(env, "MD_CERT_FILE", APR_ARRAY_IDX(md->cert_files, 0, const char *));
        if (md->pkey_files && md->pkey_files->nelts > 0) {
            env_add(env, "MD_KEY_FILE", APR_ARRAY_IDX(md->pkey_files, 0, const char *));
        }
    }
    else if (md && events->store_dir) {
        dir = apr_pstrcat(p, events->store_dir, "/domains/", md->name, NULL);
        env_add_files(env, md, dir, "MD_CERT_FILE", md_chain_filename);
        env_add_files(env, md, dir, "MD_KEY_FILE", md_pkey_filename);
        /* keys in staging/ and live/ are encrypted with the store's key: no
         * use to a script, so only the certificates are named */
        if (reason && !strcmp("renewed", reason)) {
            dir = apr_pstrcat(p, events->store_dir, "/staging/", md->name, NULL);
            env_add(env, "MD_STAGING_DIR", dir);
            env_add_files(env, md, dir, "MD_STAGED_CERT_FILE", md_chain_filename);
        }
        else if (reason && !strcmp("live", reason)) {
            dir = apr_pstrcat(p, events->store_dir, "/live/", md->name, NULL);
            env_add(env, "MD_LIVE_DIR", dir);
            env_add_files(env, md, dir, "MD_LIVE_CERT_FILE", md_chain_filename);
        }
    }
    APR_ARRAY_PUSH(env, const char *) = NULL;
    return (const char *const *)env->elts;
}

/* --- commands ------------------------------------------------------------------------ */

apr_status_t md_event_message_argv(const char ***pargv, const char *cmdline,
                                   const char *reason, const char *mdomain,
                                   apr_pool_t *p)
{
    *pargv = NULL;
    if (!cmdline || !*cmdline) return APR_EINVAL;
    return md_util_cmd_argv(pargv, p, cmdline, reason, mdomain, NULL);
}

apr_status_t md_event_notify_argv(const char ***pargv, const char *cmdline,
                                  const char *mdomain, apr_pool_t *p)
{
    *pargv = NULL;
    if (!cmdline || !*cmdline) return APR_EINVAL;
    return md_util_cmd_argv(pargv, p, cmdline, mdomain, NULL);
}

/* Runs argv; *pexit_code is the exit code. A program that cannot be
 * started counts as one whose exec failed in the child (exit code 255, as
 * the original reports it). Exit codes above 127 and deaths by a signal
 * (-1) are APR_EINCOMPLETE, other non-zero exits APR_EGENERAL: the
 * statuses job.json shows with the original. */
static apr_status_t run_argv(int *pexit_code, const char **argv, const char *const *env,
                             apr_pool_t *p)
{
    apr_status_t rv;

    rv = md_util_exec(p, argv[0], argv, env, pexit_code);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "AH10951: unable to run %s", argv[0]);
        *pexit_code = 255;
    }
    if (0 == *pexit_code) return APR_SUCCESS;
    return (*pexit_code > 127 || *pexit_code < 0) ? APR_EINCOMPLETE : APR_EGENERAL;
}

static apr_status_t run_notify_cmd(const md_event_t *events, const char *mdomain,
                                   md_job_t *job, md_result_t *result, apr_pool_t *p)
{
    const char **argv;
    int exit_code = -1;
    apr_status_t rv;

    rv = md_event_notify_argv(&argv, events->notify_cmd, mdomain, p);
    if (APR_SUCCESS == rv) {
        rv = run_argv(&exit_code, argv, md_event_env(events, "renewed", mdomain, p), p);
    }
    if (APR_SUCCESS != rv) {
        md_result_problem_printf(result, rv, MD_EVENT_PROBLEM_NOTIFY,
                                 "MDNotifyCmd %s failed with exit code %d.",
                                 events->notify_cmd, exit_code);
        md_result_log(result, MD_LOG_ERR);
        if (job) {
            md_job_log_append(job, MD_JOB_LOG_NOTIFY_ERR, result->problem, result->detail);
        }
    }
    return rv;
}

static apr_status_t run_message_cmd(const md_event_t *events, const char *reason,
                                    const char *mdomain, md_job_t *job,
                                    md_result_t *result, apr_pool_t *p)
{
    const char **argv;
    int exit_code = -1;
    apr_status_t rv;

    rv = md_event_message_argv(&argv, events->message_cmd, reason, mdomain, p);
    if (APR_SUCCESS == rv) {
        rv = run_argv(&exit_code, argv, md_event_env(events, reason, mdomain, p), p);
    }
    if (APR_SUCCESS != rv) {
        md_result_problem_printf(result, rv, MD_EVENT_PROBLEM_MESSAGE,
                                 "MDMessageCmd %s failed with exit code %d.",
                                 events->message_cmd, exit_code);
        md_result_log(result, MD_LOG_ERR);
        if (job) {
            md_job_log_append(job, MD_JOB_LOG_MESSAGE_ERR, reason, result->detail);
        }
    }
    return rv;
}

/* --- raising ------------------------------------------------------------------------- */

static apr_status_t apply_kind(const char *reason, const char *mdomain, apr_status_t rv,
                               apr_pool_t *p)
{
    if (APR_SUCCESS == rv) return rv;
    switch (md_event_kind(reason)) {
        case MD_EVENT_FIRE_AND_FORGET:
            return APR_SUCCESS;
        case MD_EVENT_VETO:
            /* also a command that cannot run says no (as the original);
             * error level: no certificate comes until the admin acts */
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, 0, p,
                          "AH10060: %s: event-handler for '%s' returned %d, "
                          "preventing renewal to proceed.", mdomain, reason, rv);
            return APR_EAGAIN;
        default:
            return rv;
    }
}

static void call_subscribers(const md_event_t *events, const char *reason,
                             const char *mdomain, apr_status_t rv, int rate_limited,
                             apr_pool_t *p)
{
    const subscriber_t *sub;
    int i;

    for (i = 0; events && i < events->subscribers->nelts; ++i) {
        sub = &APR_ARRAY_IDX(events->subscribers, i, subscriber_t);
        sub->cb(reason, mdomain, rv, rate_limited, sub->baton, p);
    }
}

apr_status_t md_event_raise(const md_event_t *events, const char *reason,
                            const char *mdomain, md_job_t *job,
                            md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    int rate_limited = 0;

    if (!mdomain) {
        mdomain = job ? job->mdomain : "";
    }
    if (!result) {
        result = md_result_md_make(p, mdomain);
    }
    if (!result->md_name) {
        result->md_name = apr_pstrdup(result->p, mdomain);
    }

    if (job && md_event_is_rate_limited(job, reason, md_job_now(job))) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p,
                      "AH10267: %s: rate limiting notification about '%s'",
                      mdomain, reason);
        rate_limited = 1;
        goto leave;
    }
    if (!strcmp("renewed", reason)) {
        if (events && events->notify_cmd) {
            rv = run_notify_cmd(events, mdomain, job, result, p);
            if (APR_SUCCESS != rv) goto leave;
        }
        md_log_perror(MD_LOG_MARK, MD_LOG_NOTICE, 0, p,
                      "AH10059: The Managed Domain %s has been setup and changes "
                      "will be activated on next (graceful) server restart.", mdomain);
    }
    if (events && events->message_cmd) {
        rv = run_message_cmd(events, reason, mdomain, job, result, p);
        if (APR_SUCCESS != rv) goto leave;
    }
    if (job) {
        md_job_log_append(job, apr_pstrcat(p, "message-", reason, NULL), NULL, NULL);
    }
leave:
    rv = apply_kind(reason, mdomain, rv, p);
    call_subscribers(events, reason, mdomain, rv, rate_limited, p);
    return rv;
}
