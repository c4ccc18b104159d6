/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Jobs: job.json in and out (member order of contract.md 2.3), the job
 * log, the run bracket (starting/progress/finished/renewal-error entries,
 * throttled saves), the error back-off of contract.md 9 and the
 * notification entry point that records what the event layer did.
 */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_crypto.h"
#include "md_event.h"
#include "md_job.h"
#include "md_json.h"
#include "md_log.h"
#include "md_result.h"
#include "md_store.h"
#include "md_util.h"

#define DEF_MIN_DELAY   apr_time_from_sec(5)

/* --- clock -------------------------------------------------------------------- */

apr_time_t md_job_now(const md_job_t *job)
{
    return job->now_cb ? job->now_cb(job->clock_baton) : apr_time_now();
}

static unsigned int job_random(md_job_t *job)
{
    unsigned char c = 128;

    if (job->rand_cb) return job->rand_cb(job->clock_baton) & 0xff;
    if (APR_SUCCESS != md_rand_bytes(&c, sizeof(c), job->p)) {
        c = 128;
    }
    return c;
}

void md_job_set_clock(md_job_t *job, md_job_now_cb *now_cb, md_job_rand_cb *rand_cb,
                      void *baton)
{
    job->now_cb = now_cb;
    job->rand_cb = rand_cb;
    job->clock_baton = baton;
}

/* --- creation, JSON ------------------------------------------------------------ */

md_job_t *md_job_make(apr_pool_t *p, md_store_t *store, md_store_group_t group,
                      const char *name, apr_interval_time_t min_delay)
{
    md_job_t *job = apr_pcalloc(p, sizeof(*job));

    job->p = p;
    job->store = store;
    job->group = group;
    job->mdomain = apr_pstrdup(p, name);
    job->min_delay = (min_delay > 0) ? min_delay : DEF_MIN_DELAY;
    return job;
}

md_json_t *md_job_to_json(const md_job_t *job, int with_log, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(job->mdomain, json, MD_KEY_NAME, NULL);
    md_json_setb(job->finished, json, MD_KEY_FINISHED, NULL);
    md_json_setb(job->notified, json, MD_KEY_NOTIFIED, NULL);
    md_json_setb(job->notified_renewed, json, MD_KEY_NOTIFIED_RENEWED, NULL);
    if (job->next_run > 0) {
        md_json_set_time(job->next_run, json, MD_KEY_NEXT_RUN, NULL);
    }
    if (job->last_run > 0) {
        md_json_set_time(job->last_run, json, MD_KEY_LAST_RUN, NULL);
    }
    if (job->valid_from > 0) {
        md_json_set_time(job->valid_from, json, MD_KEY_VALID_FROM, NULL);
    }
    md_json_setl(job->error_runs, json, MD_KEY_ERRORS, NULL);
    if (job->last) {
        md_json_setj(md_result_to_json(job->last, p), json, MD_KEY_LAST, NULL);
    }
    if (with_log && job->log) {
        md_json_setj(md_json_clone(p, job->log), json, MD_KEY_LOG, NULL);
    }
    return json;
}

void md_job_from_json(md_job_t *job, const md_json_t *json, apr_pool_t *p)
{
    md_json_t *jlast, *jlog;

    job->finished = md_json_getb(json, MD_KEY_FINISHED, NULL);
    job->notified = md_json_getb(json, MD_KEY_NOTIFIED, NULL);
    job->notified_renewed = md_json_getb(json, MD_KEY_NOTIFIED_RENEWED, NULL);
    job->next_run = md_json_get_time(json, MD_KEY_NEXT_RUN, NULL);
    job->last_run = md_json_get_time(json, MD_KEY_LAST_RUN, NULL);
    job->valid_from = md_json_get_time(json, MD_KEY_VALID_FROM, NULL);
    job->error_runs = (int)md_json_getl(json, MD_KEY_ERRORS, NULL);
    if (job->error_runs < 0) {
        job->error_runs = 0;
    }
    job->last = NULL;
    jlast = md_json_getcj(p, json, MD_KEY_LAST, NULL);
    if (jlast && MD_JSON_TYPE_OBJECT == md_json_type(jlast)) {
        job->last = md_result_from_json(jlast, job->p);
    }
    job->log = NULL;
    jlog = md_json_getcj(p, json, MD_KEY_LOG, NULL);
    if (jlog && md_json_is(MD_JSON_TYPE_ARRAY, jlog, MD_KEY_ENTRIES, NULL)) {
        job->log = md_json_clone(job->p, jlog);
    }
}

int md_job_staged_results_exist(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    const char *chain;
    int i;

    /* an MD that gets no certificates by renewal (static files, manual):
     * its job is about warnings and stands (as the original shows it) */
    if (MD_RENEW_ALWAYS != md->renew_mode
        && (MD_RENEW_AUTO != md->renew_mode
            || (md->cert_files && md->cert_files->nelts > 0))) {
        return 1;
    }
    if (!md_store_exists(store, MD_SG_STAGING, md->name, MD_FN_MD, p)) return 0;
    if (!md_store_exists(store, MD_SG_DOMAINS, md->name, NULL, p)) return 1;
    for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
        chain = md_pkey_spec_filename(md_pkeys_spec_get(md->pks, i), MD_FN_PUBCERT, p);
        if (!md_store_exists(store, MD_SG_STAGING, md->name, chain, p)) return 0;
    }
    return 1;
}

apr_status_t md_job_load(md_job_t *job)
{
    md_json_t *json;
    apr_pool_t *ptemp;
    apr_status_t rv;

    if (!job->store) return APR_EINVAL;
    rv = apr_pool_create(&ptemp, job->p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_store_load_json(job->store, job->group, job->mdomain, MD_FN_JOB, &json, ptemp);
    if (APR_SUCCESS != rv) goto leave;
    md_job_from_json(job, json, ptemp);
    job->dirty = 0;
leave:
    apr_pool_destroy(ptemp);
    return rv;
}

apr_status_t md_job_save(md_job_t *job, apr_pool_t *p)
{
    apr_status_t rv;

    if (!job->store) return APR_EINVAL;
    rv = md_store_save_json(job->store, p, job->group, job->mdomain, MD_FN_JOB,
                            md_job_to_json(job, 1, p), 0);
    if (APR_SUCCESS == rv) {
        job->dirty = 0;
        job->progress_unsaved = 0;
        job->last_save = md_job_now(job);
    }
    return rv;
}

/* --- the log ------------------------------------------------------------------------ */

void md_job_log_append(md_job_t *job, const char *type, const char *status,
                       const char *detail)
{
    md_json_t *entry;
    apr_pool_t *ptemp;

    /* the entry is built in a scratch pool; the log array keeps a reference,
     * so a long-lived job does not grow its pool with every entry */
    if (APR_SUCCESS != apr_pool_create(&ptemp, job->p)) return;
    if (!job->log) {
        job->log = md_json_create(job->p);
    }
    entry = md_json_create(ptemp);
    md_json_set_time(md_job_now(job), entry, MD_KEY_WHEN, NULL);
    md_json_sets(type, entry, MD_KEY_TYPE, NULL);
    if (status) {
        md_json_sets(status, entry, MD_KEY_STATUS, NULL);
    }
    if (detail) {
        md_json_sets(detail, entry, MD_KEY_DETAIL, NULL);
    }
    md_json_insertj(entry, 0, job->log, MD_KEY_ENTRIES, NULL);
    md_json_limita(MD_JOB_LOG_MAX, job->log, MD_KEY_ENTRIES, NULL);
    apr_pool_destroy(ptemp);
    job->dirty = 1;
}

typedef struct {
    const char *type;
    apr_time_t when;
} log_find_ctx;

static int find_latest(void *baton, apr_size_t index, md_json_t *entry)
{
    log_find_ctx *ctx = baton;
    const char *type = md_json_gets(entry, MD_KEY_TYPE, NULL);

    (void)index;
    if (type && !strcmp(ctx->type, type)) {
        ctx->when = md_json_get_time(entry, MD_KEY_WHEN, NULL);
        return 0;
    }
    return 1;
}

apr_time_t md_job_log_get_time_of_latest(const md_job_t *job, const char *type)
{
    log_find_ctx ctx;
    md_json_t *entries;
    apr_pool_t *ptemp;

    ctx.type = type;
    ctx.when = 0;
    if (!job->log || !type) return 0;
    if (APR_SUCCESS != apr_pool_create(&ptemp, job->p)) return 0;
    entries = md_json_getcj(ptemp, job->log, MD_KEY_ENTRIES, NULL);
    if (entries) {
        /* iterate on a wrapper in ptemp so element wrappers go there */
        md_json_itera(find_latest, &ctx, entries, NULL);
    }
    apr_pool_destroy(ptemp);
    return ctx.when;
}

/* --- runs ------------------------------------------------------------------------------ */

const char *md_job_progress_text(const md_result_t *result, apr_pool_t *p)
{
    const char *msg = "", *sep = "";

    if (!result->activity && !result->detail && !result->problem) return NULL;
    if (result->activity) {
        msg = result->activity;
        sep = ": ";
    }
    if (result->detail) {
        msg = apr_pstrcat(p, msg, sep, result->detail, NULL);
        sep = ", ";
    }
    if (result->problem) {
        msg = apr_pstrcat(p, msg, sep, "problem: ", result->problem, NULL);
    }
    return msg;
}

static int str_differs(const char *s1, const char *s2)
{
    if (!s1 || !s2) return s1 != s2;
    return strcmp(s1, s2) != 0;
}

static int result_differs(const md_result_t *r1, const md_result_t *r2)
{
    if (!r1) return 1;
    return r1->status != r2->status
        || str_differs(r1->activity, r2->activity)
        || str_differs(r1->detail, r2->detail)
        || str_differs(r1->problem, r2->problem);
}

static void save_throttled(md_job_t *job)
{
    apr_pool_t *ptemp;
    apr_status_t rv;

    if (!job->store) return;
    if (md_job_now(job) - job->last_save < MD_JOB_SAVE_INTERVAL) {
        /* saved by a later change or poll round (md_result_touch): else
         * md-status shows an old activity for as long as a poll lasts */
        job->progress_unsaved = 1;
        return;
    }
    job->progress_unsaved = 0;
    if (APR_SUCCESS != apr_pool_create(&ptemp, job->p)) return;
    rv = md_job_save(job, ptemp);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, ptemp, "AH10953: %s: saving job progress",
                      job->mdomain);
    }
    apr_pool_destroy(ptemp);
}

static void on_result_change(md_result_t *result, void *baton)
{
    md_job_t *job = baton;
    const char *text;
    apr_time_t since;
    int new_activity;

    if (!result_differs(job->last, result)) {
        if (job->progress_unsaved) {
            save_throttled(job);
        }
        return;
    }
    new_activity = !job->last || str_differs(job->last->activity, result->activity);
    since = job->last ? job->last->activity_since : 0;
    if (!job->last) {
        job->last = md_result_make(job->p, APR_SUCCESS);
    }
    md_result_assign(job->last, result);
    /* md-status shows since when the renewal does what it does */
    job->last->activity_since = new_activity ? md_job_now(job) : since;
    job->dirty = 1;
    text = md_job_progress_text(result, result->p);
    if (text) {
        md_job_log_append(job, MD_JOB_LOG_PROGRESS, NULL, text);
        save_throttled(job);
    }
}

void md_job_start_run(md_job_t *job, md_result_t *result)
{
    job->last_run = md_job_now(job);
    job->observed = result;
    md_result_on_change(result, on_result_change, job);
    md_job_log_append(job, MD_JOB_LOG_STARTING, NULL, NULL);
    job->dirty = 1;
}

void md_job_retry_later(md_job_t *job, const char *problem)
{
    apr_interval_time_t delay;

    ++job->error_runs;
    delay = md_job_delay_on_errors(job->error_runs, problem, job->min_delay,
                                   job_random(job));
    job->next_run = md_job_now(job) + delay;
    job->dirty = 1;
}

void md_job_end_unrun(md_job_t *job, md_result_t *result)
{
    if (job->observed == result) {
        md_result_on_change(result, NULL, NULL);
        job->observed = NULL;
    }
}

void md_job_end_run(md_job_t *job, md_result_t *result)
{
    if (job->observed == result) {
        md_result_on_change(result, NULL, NULL);
        job->observed = NULL;
    }
    if (!job->last) {
        job->last = md_result_make(job->p, APR_SUCCESS);
    }
    md_result_assign(job->last, result);
    if (APR_SUCCESS == result->status) {
        job->finished = 1;
        job->valid_from = result->ready_at;
        job->error_runs = 0;
        job->next_run = 0;
        md_job_log_append(job, MD_JOB_LOG_FINISHED, NULL, NULL);
    }
    else {
        job->finished = 0;
        md_job_retry_later(job, result->problem);
        md_job_log_append(job, (MD_SG_OCSP == job->group) ? MD_JOB_LOG_OCSP_ERR
                                                          : MD_JOB_LOG_RENEWAL_ERR,
                          result->problem, result->detail);
    }
    job->dirty = 1;
}

/* --- back-off ----------------------------------------------------------------------- */

/* ACME problem types whose cause is our input: retrying soon will not help
 * (contract.md 9). */
static const char *const input_problems[] = {
    "agreementRequired", "badCSR", "badSignatureAlgorithm",
    "externalAccountRequired", "invalidContact", "unsupportedContact",
    "malformed", "rejectedIdentifier", "unsupportedIdentifier",
    "userActionRequired", "badRevocationReason",
};

int md_job_problem_is_input_related(const char *problem)
{
    const char *name;
    apr_size_t i;

    if (!problem) return 0;
    if (!strncmp(problem, "urn:ietf:params:acme:error:", 27)) {
        name = problem + 27;
    }
    else if (!strncmp(problem, "urn:acme:error:", 15)) {
        name = problem + 15;
    }
    else return 0;
    for (i = 0; i < MD_ARRAY_LEN(input_problems); ++i) {
        if (!strcmp(name, input_problems[i])) return 1;
    }
    return 0;
}

apr_interval_time_t md_job_delay_on_errors(int err_count, const char *problem,
                                           apr_interval_time_t min_delay,
                                           unsigned int jitter)
{
    apr_interval_time_t delay = 0;
    int i;

    if (md_job_problem_is_input_related(problem)) {
        delay = MD_JOB_MAX_DELAY;
    }
    else if (err_count > 0) {
        delay = (min_delay > 0) ? min_delay : DEF_MIN_DELAY;
        for (i = 1; i < err_count && delay < MD_JOB_MAX_DELAY; ++i) delay *= 2;
        if (delay > MD_JOB_MAX_DELAY) {
            delay = MD_JOB_MAX_DELAY;
        }
    }
    if (delay > 0) {
        jitter &= 0xff;
        delay += (delay * ((apr_interval_time_t)jitter - 128)) / 256;
    }
    return delay;
}

/* --- notifications -------------------------------------------------------------------- */

apr_status_t md_job_notify(md_job_t *job, const char *reason, md_result_t *result)
{
    const md_event_t *events = job->events ? job->events : md_event_get_default();
    md_event_kind_t kind = md_event_kind(reason);
    md_result_t *cmd;
    apr_pool_t *ptemp;
    const char *problem;
    apr_status_t rv;

    rv = apr_pool_create(&ptemp, job->p);
    if (APR_SUCCESS != rv) return rv;
    /* the event works on a copy whose status says whether a command failed
     * (also for fire-and-forget events, which always return success) */
    cmd = md_result_md_make(ptemp, job->mdomain);
    if (result) {
        md_result_assign(cmd, result);
    }
    /* a checked notification's outcome replaces the run's ("renewed"
     * leaves {status, valid-from}) */
    if (MD_EVENT_CHECKED == kind) {
        md_result_set(cmd, APR_SUCCESS, NULL);
    }
    else {
        cmd->status = APR_SUCCESS;
    }
    rv = md_event_raise(events, reason, job->mdomain, job, cmd, ptemp);
    if (result && (MD_EVENT_CHECKED == kind || APR_SUCCESS != cmd->status)) {
        /* as the original: a failing command's problem replaces the job's
         * last result, also that of the renewal an "errored" reports */
        md_result_assign(result, cmd);
        if (!job->last) {
            job->last = md_result_make(job->p, APR_SUCCESS);
        }
        md_result_assign(job->last, result);
    }
    problem = cmd->problem ? apr_pstrdup(job->p, cmd->problem) : NULL;
    apr_pool_destroy(ptemp);
    job->dirty = 1;
    if (APR_SUCCESS == rv) {
        if (MD_EVENT_CHECKED == kind) {
            job->notified = 1;
            if (!strcmp("renewed", reason)) {
                job->notified_renewed = 1;
            }
        }
    }
    else if (MD_EVENT_FIRE_AND_FORGET != kind) {
        /* a failed notification is an error of the job of its own: a veto
         * of "renewing" (unlike the original, which waits for the next
         * check interval), a failed "renewed"/"expiring", and a failed
         * "challenge-setup:*" on top of the run's own error */
        md_job_retry_later(job, problem);
    }
    return rv;
}
