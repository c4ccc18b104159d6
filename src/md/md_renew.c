/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The renewal scheduler: per MD it loads the staging job, decides what is
 * due (renewal, "renewed" notification, "expiring" warning), runs due
 * renewals on a bounded number of threads, each in its own pool, and
 * computes the next run.
 */
#include <stdlib.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_hash.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>

#include "md.h"
#include "md_ari.h"
#include "md_crl.h"
#include "md_event.h"
#include "md_job.h"
#include "md_live.h"
#include "md_json.h"
#include "md_log.h"
#include "md_reg.h"
#include "md_ocsp.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"

typedef struct {
    const md_renew_opts_t *opts;
    md_t *md;
    apr_time_t now;
    apr_time_t next_run;        /* 0: nothing special, use the interval */
} renew_task;

/* Jobs that could not be saved: name -> malloc'ed job.json text. */
/* A job for other processes: written by the watchdog child only, read by
 * any child; seq is odd while a write is in progress. */
#define MEMO_SLOT_TEXT  (8 * 1024 - 8)

typedef struct {
    _Atomic uint32_t seq;
    _Atomic uint32_t len;           /* 0: nothing to show */
    char text[MEMO_SLOT_TEXT];
} memo_slot;

struct md_renew_memo_t {
    apr_thread_mutex_t *mutex;
    apr_hash_t *jobs;               /* name -> malloc'ed JSON text, this process */
    apr_hash_t *index;              /* name -> memo_slot* in shared memory */
};

typedef struct {
    apr_array_header_t *tasks;  /* renew_task */
    apr_thread_mutex_t *mutex;
    int next;
} task_queue;

int md_renew_is_watched(const md_t *md, int used)
{
    if (MD_S_ERROR == md->state) return 0;
    if (MD_RENEW_AUTO == md->renew_mode && !used) return 0;
    return 1;
}

apr_interval_time_t md_renew_jittered(apr_interval_time_t interval, unsigned int jitter)
{
    return interval + (interval * ((apr_interval_time_t)jitter - 128)) / 256;
}

static unsigned int random_byte(void)
{
    unsigned char b = 128;

    apr_generate_random_bytes(&b, 1);
    return b;
}

const char *md_renew_ca_url(const md_t *md, int error_runs, int retry_failover)
{
    int n = md->ca_urls ? md->ca_urls->nelts : 0, base;

    if (n <= 0) return md->ca_effective;
    base = md->ca_effective ? md_array_str_index(md->ca_urls, md->ca_effective, 0, 1) : 0;
    if (base < 0) {
        base = 0;
    }
    if (retry_failover <= 0) {
        retry_failover = 1;
    }
    return APR_ARRAY_IDX(md->ca_urls, (base + error_runs / retry_failover) % n,
                         const char *);
}

/* md as this attempt drives it: with failover, the CA after the errors so
 * far; a staging area made for another CA is reset first. */
static md_t *md_for_attempt(renew_task *t, md_job_t *job, apr_pool_t *p)
{
    const char *url = md_renew_ca_url(t->md, job->error_runs, t->opts->retry_failover);
    md_t *md = t->md, *staged;

    if (!url) return md;
    if (!md->ca_effective || strcmp(url, md->ca_effective)) {
        md = md_copy(p, t->md);
        md->ca_effective = url;
    }
    if (APR_SUCCESS == md_store_md_load(t->opts->store, MD_SG_STAGING, md->name, &staged, p)
        && staged->ca_effective && strcmp(staged->ca_effective, url)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "AH10964: %s: using CA %s after %d errors, "
                      "resetting staging", md->name, url, job->error_runs);
        md_store_purge(t->opts->store, p, MD_SG_STAGING, md->name);
    }
    return md;
}

/* --- jobs that cannot be saved ------------------------------------------------------ */

static apr_status_t memo_cleanup(void *data)
{
    md_renew_memo_t *memo = data;
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, memo->jobs); hi; hi = apr_hash_next(hi)) {
        free(apr_hash_this_val(hi));
    }
    apr_hash_clear(memo->jobs);
    return APR_SUCCESS;
}

apr_status_t md_renew_memo_create(md_renew_memo_t **pmemo, apr_pool_t *p)
{
    md_renew_memo_t *memo = apr_pcalloc(p, sizeof(*memo));
    apr_status_t rv;

    rv = apr_thread_mutex_create(&memo->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (APR_SUCCESS == rv) {
        memo->jobs = apr_hash_make(p);
        apr_pool_cleanup_register(p, memo, memo_cleanup, apr_pool_cleanup_null);
    }
    *pmemo = (APR_SUCCESS == rv) ? memo : NULL;
    return rv;
}

apr_status_t md_renew_memo_share(md_renew_memo_t *memo, apr_array_header_t *mds,
                                 apr_pool_t *p)
{
    apr_shm_t *shm;
    memo_slot *slots;
    apr_status_t rv;
    int i;

    if (!memo || mds->nelts <= 0) return APR_SUCCESS;
    rv = apr_shm_create(&shm, sizeof(memo_slot) * (apr_size_t)mds->nelts, NULL, p);
    if (APR_SUCCESS != rv) return rv;
    /* new shared memory is zero-filled (empty slots): not touched here, so
     * that a slot costs a page of memory only once a job was put in it */
    slots = apr_shm_baseaddr_get(shm);
    memo->index = apr_hash_make(p);
    for (i = 0; i < mds->nelts; ++i) {
        apr_hash_set(memo->index, APR_ARRAY_IDX(mds, i, md_t *)->name,
                     APR_HASH_KEY_STRING, &slots[i]);
    }
    return APR_SUCCESS;
}

apr_uint32_t md_renew_memo_version(md_renew_memo_t *memo, const char *name)
{
    memo_slot *slot;

    if (!memo || !memo->index) return 0;
    slot = apr_hash_get(memo->index, name, APR_HASH_KEY_STRING);
    return slot ? atomic_load_explicit(&slot->seq, memory_order_acquire) : 0;
}

/* A sequence lock: the (single) writer makes seq odd, writes, makes it
 * even again; a reader copies the text and keeps the copy only when seq was
 * even and unchanged around it. The fences order the text against seq on
 * weakly ordered CPUs: release after the first and before the second
 * increment, acquire after the first load and before the second. */
static void slot_write(memo_slot *slot, const char *text)
{
    apr_size_t len = text ? strlen(text) : 0;
    uint32_t seq = atomic_load_explicit(&slot->seq, memory_order_relaxed);

    if (len >= MEMO_SLOT_TEXT) len = 0;     /* too large: show nothing */
    atomic_store_explicit(&slot->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    if (len) {
        memcpy(slot->text, text, len);
    }
    atomic_store_explicit(&slot->len, (uint32_t)len, memory_order_relaxed);
    atomic_store_explicit(&slot->seq, seq + 2, memory_order_release);
}

static const char *slot_read(memo_slot *slot, apr_pool_t *p)
{
    uint32_t seq, len;
    char *text;
    int tries;

    for (tries = 0; tries < 100; ++tries) {
        seq = atomic_load_explicit(&slot->seq, memory_order_acquire);
        if (seq & 1) {
            continue;
        }
        len = atomic_load_explicit(&slot->len, memory_order_relaxed);
        if (!len || len >= MEMO_SLOT_TEXT) return NULL;
        text = apr_pstrmemdup(p, slot->text, len);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&slot->seq, memory_order_relaxed) == seq) return text;
    }
    return NULL;
}

/* Remembers the job's JSON (text NULL: forgets it), brief (without log)
 * also for other processes. Names are MD names of the configuration, which
 * outlive the memo. */
static void memo_set(md_renew_memo_t *memo, const char *name, const char *text,
                     const char *brief)
{
    memo_slot *slot;
    char *old, *copy = NULL;

    if (!memo) return;
    slot = memo->index ? apr_hash_get(memo->index, name, APR_HASH_KEY_STRING) : NULL;
    if (text && !(copy = strdup(text))) return;
    apr_thread_mutex_lock(memo->mutex);
    /* under the mutex: one writer per slot, as the sequence lock needs */
    if (slot) {
        slot_write(slot, text ? brief : NULL);
    }
    old = apr_hash_get(memo->jobs, name, APR_HASH_KEY_STRING);
    apr_hash_set(memo->jobs, name, APR_HASH_KEY_STRING, copy);
    apr_thread_mutex_unlock(memo->mutex);
    free(old);
}

md_json_t *md_renew_memo_get(md_renew_memo_t *memo, const char *name, apr_pool_t *p)
{
    md_json_t *json = NULL;
    const char *text;

    memo_slot *slot;

    if (!memo) return NULL;
    apr_thread_mutex_lock(memo->mutex);
    text = apr_hash_get(memo->jobs, name, APR_HASH_KEY_STRING);
    if (text) {
        text = apr_pstrdup(p, text);
    }
    apr_thread_mutex_unlock(memo->mutex);
    if (!text && memo->index
        && (slot = apr_hash_get(memo->index, name, APR_HASH_KEY_STRING))) {
        text = slot_read(slot, p);
    }
    if (text && APR_SUCCESS != md_json_readd(&json, p, text, strlen(text))) {
        json = NULL;
    }
    return json;
}

/* Loads the staging job; a newer state that could not be saved wins. */
static void job_load(renew_task *t, md_job_t *job, apr_pool_t *p)
{
    md_json_t *json = md_renew_memo_get(t->opts->memo, t->md->name, p);

    md_job_load(job);
    if (json && md_json_get_time(json, MD_KEY_LAST_RUN, NULL) >= job->last_run) {
        md_job_from_json(job, json, p);
    }
}

/* Saves the job. When that fails the state stays in memory (the back-off
 * keeps growing, no storm of retries) and the error log says what the job
 * would have recorded: what failed and when the next try is. */
static void job_save(renew_task *t, md_job_t *job, apr_pool_t *p)
{
    apr_status_t rv = md_job_save(job, p);
    md_json_t *json;

    if (APR_SUCCESS == rv) {
        memo_set(t->opts->memo, t->md->name, NULL, NULL);
        return;
    }
    json = md_job_to_json(job, 1, p);
    if (job->last && !job->last->md_name) {
        job->last->md_name = t->md->name;
    }
    memo_set(t->opts->memo, t->md->name, md_json_writep(json, p, MD_JSON_FMT_COMPACT),
             md_json_writep(md_job_to_json(job, 0, p), p, MD_JSON_FMT_COMPACT));
    md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10902: %s: unable to save the renewal job "
                  "in %s, keeping it in memory. Last: %s%s%s", t->md->name,
                  md_store_location(t->opts->store, MD_SG_STAGING, t->md->name, p),
                  job->last ? md_result_log_text(job->last, p) : "nothing ran",
                  job->next_run ? ", next run: " : "",
                  job->next_run ? md_duration_print(p, job->next_run - t->now) : "");
}

/* Only these MDs get new certificates; others are watched for warnings. */
static int may_renew(const md_t *md)
{
    if (MD_RENEW_ALWAYS == md->renew_mode) return 1;
    if (MD_RENEW_AUTO != md->renew_mode) return 0;
    return !md->cert_files || md->cert_files->nelts == 0;
}

static void next_run_min(renew_task *t, apr_time_t at)
{
    if (at > 0 && (!t->next_run || at < t->next_run)) {
        t->next_run = at;
    }
}

/* MDActivation live: the staged set goes live; one that fails its checks
 * is dropped and counts as a failed renewal. */
static void go_live(renew_task *t, md_job_t *job, apr_pool_t *p)
{
    const md_renew_opts_t *opts = t->opts;
    md_result_t *result = md_result_md_make(p, t->md->name);
    apr_status_t rv;

    if (!t->md->activation_live || !opts->go_live) return;
    rv = opts->go_live(opts, t->md, job, result, p);
    if (APR_SUCCESS == rv) {
        job_save(t, job, p);
        return;
    }
    if (!APR_STATUS_IS_EINVAL(rv)) {
        next_run_min(t, t->now + md_renew_jittered(opts->retry_delay, random_byte()));
        return;
    }
    md_store_purge(opts->store, p, MD_SG_STAGING, t->md->name);
    job->notified = job->notified_renewed = 0;
    job->valid_from = 0;
    /* the outcome of the renewal that made the set, logged as its error */
    md_job_end_run(job, result);
    t->next_run = job->next_run;
    job_save(t, job, p);
}

/* A renewal finished earlier: tell "renewed" once the activation delay
 * has passed (and go live then, with MDActivation live). */
static void notify_staged(renew_task *t, md_job_t *job, md_result_t *result,
                          apr_pool_t *p)
{
    /* the job's clock, not the run's start: a certificate issued during
     * this run is valid from a later second, and 'renewed' belongs to it */
    if (job->valid_from > md_job_now(job)) {
        if (!job->notified_renewed) {
            t->next_run = job->valid_from;
        }
        return;
    }
    if (!job->notified_renewed) {
        if (APR_SUCCESS != md_job_notify(job, "renewed", result)) {
            t->next_run = job->next_run;
        }
        job_save(t, job, p);
    }
    go_live(t, job, p);
}

static void run_renewal(renew_task *t, md_job_t *job, md_result_t *result, apr_pool_t *p)
{
    const md_renew_opts_t *opts = t->opts;
    apr_status_t rv;

    rv = md_job_notify(job, "renewing", result);
    if (APR_SUCCESS != rv) {
        /* MDMessageCmd said no or could not run: the job counts the error
         * and backs off (md_job_notify) */
        t->next_run = job->next_run;
        job_save(t, job, p);
        return;
    }
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10052: md(%s): state=%d, driving",
                  t->md->name, t->md->state);
    md_result_reset(result);
    md_job_start_run(job, result);
    rv = opts->drive(opts, md_for_attempt(t, job, p), job, result, p);
    if (MD_RENEW_ELSEWHERE == rv) {
        md_job_end_unrun(job, result);
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10840: %s: %s", t->md->name,
                      result->detail ? result->detail : "renewed by another node");
        next_run_min(t, t->now + md_renew_jittered(opts->retry_delay, random_byte()));
        return;
    }
    if (APR_SUCCESS == rv && opts->activation_delay > 0 && !result->ready_at) {
        md_result_delay_set(result, t->now + opts->activation_delay);
    }
    md_job_end_run(job, result);
    if (APR_SUCCESS == rv) {
        notify_staged(t, job, result, p);
    }
    else {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, result->status, p,
                      "AH10056: processing %s: %s", t->md->name,
                      result->detail ? result->detail : "failed");
        md_result_log(result, MD_LOG_DEBUG);
        md_job_notify(job, "errored", result);
        t->next_run = job->next_run;
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p,
                      "AH10057: %s: encountered error for the %d. time, next run in %s",
                      t->md->name, job->error_runs,
                      md_duration_print(p, job->next_run - t->now));
    }
    /* notify_staged may have saved it already: a second, identical write
     * would only show job.json.tmp to a reader of staging/ */
    if (job->dirty) {
        job_save(t, job, p);
    }
}

/* ARI (RFC 9773): 1 when the CA advises to renew now; otherwise the run
 * comes back when it advises to or when to ask again. */
static int ari_due(renew_task *t, apr_pool_t *p)
{
    apr_time_t renew_at, next_poll;

    if (!t->opts->ari_conn || !t->opts->reg) return 0;
    md_ari_check(&renew_at, &next_poll, t->opts->reg, t->md, t->opts->ari_conn,
                 t->now, p);
    if (renew_at > 0 && renew_at <= t->now) return 1;
    next_run_min(t, renew_at);
    next_run_min(t, next_poll);
    return 0;
}

/* The next run comes no later than the MD's next due time, not only after
 * the check interval: a 6-day certificate renewing at day 3 must not wait
 * for a 12-hour interval (and a shorter MDCheckInterval is not needed). */
static void plan_next(renew_task *t, apr_pool_t *p)
{
    apr_time_t at;

    if (!t->opts->reg) return;
    at = may_renew(t->md) ? md_reg_renew_at(t->opts->reg, t->md, t->now, p)
                          : md_reg_warn_at(t->opts->reg, t->md, p);
    if (at > t->now) {
        next_run_min(t, at);
    }
}

/* The MD is driven by one process at a time: the activation at a restart
 * (md_reg_lock_md) waits for a renewal of the old generation, and with
 * MDStoreLocks a server sharing the store too. 1 if this process may go on
 * (with *plock held, or unlocked when the lock file is not usable), 0 if
 * another process holds it (try again soon). */
static int lock_md(renew_task *t, md_store_lock_t **plock, apr_pool_t *p)
{
    const md_renew_opts_t *opts = t->opts;
    apr_interval_time_t wait;
    apr_status_t rv;

    *plock = NULL;
    rv = md_store_lock_name(plock, opts->store, MD_SG_STAGING, t->md->name, p);
    if (APR_SUCCESS == rv) return 1;
    if (APR_STATUS_IS_EAGAIN(rv)) {
        if (opts->store_locks && opts->lock_failures) {
            apr_atomic_inc64(opts->lock_failures);
        }
        wait = md_renew_jittered(opts->retry_delay > apr_time_from_sec(1)
                                 ? opts->retry_delay : apr_time_from_sec(1), random_byte());
        t->next_run = t->now + wait;
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "AH10903: %s: locked by another "
                      "process (an activation, or a server sharing the store), looking "
                      "again in %s", t->md->name, md_duration_print(p, wait));
        return 0;
    }
    md_log_perror(MD_LOG_MARK, opts->store_locks ? MD_LOG_WARNING : MD_LOG_DEBUG, rv, p,
                  "AH10904: %s: unable to lock the MD in the store, going on without",
                  t->md->name);
    return 1;
}

/* 1 if an operator asked for a renewal (a2md renew on a running server).
 * The request stays until the run ends (drop_renew_request): a renewal cut
 * short by a restart is asked for again by the next generation. MDs with
 * static certificate files have nothing to renew: their requests go. */
static int renew_requested(renew_task *t, apr_pool_t *p)
{
    md_store_t *store = t->opts->store;
    const char *name = t->md->name;

    if (!md_store_exists(store, MD_SG_STAGING, name, MD_FN_RENEW_REQUEST, p)) return 0;
    if (t->md->cert_files && t->md->cert_files->nelts > 0) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, 0, p, "AH10722: %s: renewal "
                      "requested, but its certificate comes from MDCertificateFile, "
                      "request dropped", name);
        md_store_remove(store, MD_SG_STAGING, name, MD_FN_RENEW_REQUEST, p, 1);
        return 0;
    }
    md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "AH10723: %s: renewal requested "
                  "(a2md renew), renewing now", name);
    return 1;
}

/* The run for a request ended (renewed, failed, or a staged set already
 * waits): from now on the MD's own schedule and back-off apply. */
static void drop_renew_request(renew_task *t, apr_pool_t *p)
{
    apr_status_t rv;

    rv = md_store_remove(t->opts->store, MD_SG_STAGING, t->md->name,
                         MD_FN_RENEW_REQUEST, p, 1);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10721: %s: unable to remove "
                      "the renewal request %s, it is taken again at the next run",
                      t->md->name, MD_FN_RENEW_REQUEST);
    }
}

static md_job_t *job_make(renew_task *t, apr_pool_t *p)
{
    const md_renew_opts_t *opts = t->opts;
    md_job_t *job;

    job = md_job_make(p, opts->store, MD_SG_STAGING, t->md->name, opts->retry_delay);
    job->events = opts->events;
    if (opts->now_cb) {
        md_job_set_clock(job, opts->now_cb, NULL, opts->clock_baton);
    }
    return job;
}

/* A finished job means a renewal waits for activation only when a set is
 * staged: an 'expiring' run ends finished as well (as the original's job),
 * and must not hold back the renewal due after it (a warn window longer
 * than the renew window, e.g. an absolute one on short-lived certificates). */
static int renewal_staged(renew_task *t, apr_pool_t *p)
{
    return md_store_exists(t->opts->store, MD_SG_STAGING, t->md->name, MD_FN_MD, p);
}

static void process(renew_task *t, apr_pool_t *p)
{
    const md_renew_opts_t *opts = t->opts;
    md_result_t *result = md_result_md_make(p, t->md->name);
    md_store_lock_t *lock = NULL;
    md_job_t *job;
    int requested, crl_revoked;

    /* with MDStoreLocks the MD is one server's from the start; else only
     * what writes staging/ takes the lock, below (no lock files where
     * nothing is renewed, as the original's store) */
    if (opts->store_locks && !lock_md(t, &lock, p)) return;
    job = job_make(t, p);
    job_load(t, job, p);
    if (job->finished && !md_job_staged_results_exist(opts->store, t->md, p)) {
        /* success without results in staging: as if there was no job, the
         * MD renews normally (as the original) */
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10682: %s: the staged job "
                      "claims success, but staging lacks its results; ignoring it",
                      t->md->name);
        job = job_make(t, p);
    }
    requested = renew_requested(t, p);
    if (job->next_run > t->now && !requested) {
        t->next_run = job->next_run;
        goto leave;
    }
    crl_revoked = md_crl_is_revoked(opts->crl, t->md->name);
    if (crl_revoked && !md_event_is_rate_limited(job, "revoked", t->now)) {
        if (!lock && !lock_md(t, &lock, p)) return;
        /* fire and forget, once a day: the renewal (if any) follows */
        md_job_notify(job, "revoked", NULL);
        job_save(t, job, p);
    }
    if (requested || (may_renew(t->md)
                      && (md_reg_should_renew(opts->reg, t->md, t->now, p)
                          || md_ocsp_is_revoked(opts->ocsp, t->md->name, t->now, p)
                          || crl_revoked || ari_due(t, p)))) {
        if (!lock && !lock_md(t, &lock, p)) return;
        if (job->finished && t->md->activation_live
            && md_live_is_staged(opts->store, t->md, p)) {
            /* it serves already and is due again: a new renewal replaces
             * staging (live/NAME keeps serving meanwhile) */
            md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10965: %s: the live certificate is "
                          "due for renewal", t->md->name);
            md_store_purge(opts->store, p, MD_SG_STAGING, t->md->name);
            run_renewal(t, job_make(t, p), result, p);
        }
        else if (job->finished && renewal_staged(t, p)) {
            notify_staged(t, job, result, p);
        }
        else {
            md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10512: md(%s): need to "
                          "renew now", t->md->name);
            run_renewal(t, job, result, p);
        }
    }
    else if (md_reg_should_warn(opts->reg, t->md, t->now, p)
             && (!may_renew(t->md) || !job->finished)
             && !md_event_is_rate_limited(job, "expiring", t->now)) {
        if (!lock && !lock_md(t, &lock, p)) return;
        /* a run of its own, so status shows it finished (as the original) */
        md_job_start_run(job, result);
        if (APR_SUCCESS == md_job_notify(job, "expiring", result)) {
            md_result_set(result, APR_SUCCESS, NULL);
        }
        md_job_end_run(job, result);
        job_save(t, job, p);
    }
    plan_next(t, p);
leave:
    if (requested) {
        drop_renew_request(t, p);
    }
    md_store_unlock_name(lock);
}

static void *APR_THREAD_FUNC worker(apr_thread_t *thread, void *data)
{
    task_queue *q = data;
    renew_task *t;
    apr_pool_t *p;

    for (;;) {
        apr_thread_mutex_lock(q->mutex);
        t = (q->next < q->tasks->nelts) ? &APR_ARRAY_IDX(q->tasks, q->next++, renew_task)
                                        : NULL;
        apr_thread_mutex_unlock(q->mutex);
        if (!t) {
            break;
        }
        /* a pool of its own: nothing here shares an allocator across threads */
        if (APR_SUCCESS != apr_pool_create_unmanaged_ex(&p, NULL, NULL)) {
            break;
        }
        process(t, p);
        apr_pool_destroy(p);
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

apr_status_t md_renew_run(const md_renew_opts_t *opts, apr_array_header_t *mds,
                          apr_time_t now, apr_time_t *pnext_run, apr_pool_t *p)
{
    apr_time_t next_run = now + md_renew_jittered(opts->check_interval, random_byte());
    apr_time_t crl_next = 0;
    apr_thread_t **threads;
    task_queue q;
    apr_status_t rv, trv;
    renew_task *t;
    int i, nthreads;

    /* CRLs first, on this thread: the tasks only read the verdicts */
    if (md_crl_reg_count(opts->crl) > 0) {
        md_crl_update(opts->crl, now, &crl_next, p);
        if (crl_next > now && crl_next < next_run) {
            next_run = crl_next;
        }
    }
    q.tasks = apr_array_make(p, mds->nelts, sizeof(renew_task));
    q.next = 0;
    for (i = 0; i < mds->nelts; ++i) {
        t = apr_array_push(q.tasks);
        t->opts = opts;
        t->md = APR_ARRAY_IDX(mds, i, md_t *);
        t->now = now;
        t->next_run = 0;
    }
    rv = apr_thread_mutex_create(&q.mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (APR_SUCCESS != rv) goto leave;
    nthreads = opts->max_parallel > 0 ? opts->max_parallel : 1;
    if (nthreads > q.tasks->nelts) {
        nthreads = q.tasks->nelts;
    }
    threads = apr_pcalloc(p, sizeof(*threads) * (apr_size_t)(nthreads + 1));
    for (i = 0; i < nthreads; ++i) {
        rv = apr_thread_create(&threads[i], NULL, worker, &q, p);
        if (APR_SUCCESS != rv) {
            break;
        }
    }
    while (i-- > 0) apr_thread_join(&trv, threads[i]);
    /* what no thread took (none could be created) runs here */
    while (q.next < q.tasks->nelts) {
        apr_pool_t *tp;

        apr_pool_create(&tp, p);
        process(&APR_ARRAY_IDX(q.tasks, q.next++, renew_task), tp);
        apr_pool_destroy(tp);
    }
    rv = APR_SUCCESS;
    for (i = 0; i < q.tasks->nelts; ++i) {
        t = &APR_ARRAY_IDX(q.tasks, i, renew_task);
        if (t->next_run > 0 && t->next_run < next_run) {
            next_run = t->next_run;
        }
    }
leave:
    *pnext_run = next_run;
    return rv;
}
