/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_job.c (job.json, log, runs, back-off, notifications),
 * md_event.c (argv, rate limits, command outcomes) and md_status.c (status
 * JSON documents and server-status texts).
 */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "md.h"
#include "md_crypto.h"
#include "md_event.h"
#include "md_job.h"
#include "md_json.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_status.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"
#include "md_unit.h"

#define DATA(f)     MD_TEST_DATA "/status/" f
#define LOG_ARGS    MD_TEST_DATA "/event/log-args.sh"

/* Mon, 30 Nov 2026 11:57:57 GMT */
#define T_BASE      apr_time_from_sec(1796039877)

typedef struct {
    apr_time_t now;
    unsigned int rnd;
} fake_clock;

static apr_time_t fake_now(void *baton)
{
    return ((fake_clock *)baton)->now;
}

static unsigned int fake_rand(void *baton)
{
    return ((fake_clock *)baton)->rnd;
}

static md_job_t *test_job(apr_pool_t *p, const char *name, fake_clock *clock)
{
    md_job_t *job = md_job_make(p, NULL, MD_SG_STAGING, name, apr_time_from_sec(30));

    md_job_set_clock(job, fake_now, fake_rand, clock);
    return job;
}

/* Asserts that s starts with prefix. */
#define ck_assert_prefix(prefix, s) \
    ck_assert_str_eq((prefix), apr_pstrndup(md_test_pool, (s), strlen(prefix)))

static const char *read_text(const char *path, apr_pool_t *p)
{
    const char *data;
    apr_size_t len;

    ck_assert_int_eq(APR_SUCCESS, md_util_fread_all(&data, &len, path, 1024 * 1024, p));
    return data;
}

/* --- job.json round trip ----------------------------------------------------------- */

static const char *job_files[] = {
    "job-finished.json", "job-failed.json", "job-ocsp.json", "job-msg-error.json",
};

START_TEST(job_json_roundtrip)
{
    apr_pool_t *p = md_test_pool;
    const char *path = apr_pstrcat(p, MD_TEST_DATA, "/status/", job_files[_i], NULL);
    const char *text = read_text(path, p), *out;
    md_json_t *json;
    md_job_t *job;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, p, text, strlen(text)));
    job = md_job_make(p, NULL, MD_SG_STAGING, md_json_gets(json, MD_KEY_NAME, NULL), 0);
    md_job_from_json(job, json, p);
    out = md_json_writep(md_job_to_json(job, 1, p), p, MD_JSON_FMT_INDENT);
    ck_assert_str_eq(text, out);
}
END_TEST

START_TEST(job_json_without_log)
{
    apr_pool_t *p = md_test_pool;
    const char *text = read_text(DATA("job-finished.json"), p);
    md_json_t *json;
    md_job_t *job;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, p, text, strlen(text)));
    job = md_job_make(p, NULL, MD_SG_STAGING, "test1.mdspec.org", 0);
    md_job_from_json(job, json, p);
    ck_assert_int_eq(1, job->finished);
    ck_assert_int_eq(1, job->notified_renewed);
    ck_assert_int_eq(0, job->error_runs);
    ck_assert_str_eq(
        "{\"name\":\"test1.mdspec.org\",\"finished\":true,\"notified\":true,"
        "\"notified-renewed\":true,\"last-run\":\"Mon, 30 Nov 2026 11:54:23 GMT\","
        "\"valid-from\":\"Mon, 30 Nov 2026 11:54:24 GMT\",\"errors\":0,"
        "\"last\":{\"status\":0,\"valid-from\":\"Mon, 30 Nov 2026 11:54:24 GMT\"}}",
        md_json_writep(md_job_to_json(job, 0, p), p, MD_JSON_FMT_COMPACT));
    ck_assert(md_job_log_get_time_of_latest(job, "message-renewing")
              == apr_time_from_sec(1796039663));
    ck_assert(md_job_log_get_time_of_latest(job, "nope") == 0);
}
END_TEST

START_TEST(job_json_fresh)
{
    apr_pool_t *p = md_test_pool;
    md_job_t *job = md_job_make(p, NULL, MD_SG_OCSP, "a.org", 0);

    ck_assert_str_eq("{\n  \"name\": \"a.org\",\n  \"finished\": false,\n"
                     "  \"notified\": false,\n  \"notified-renewed\": false,\n"
                     "  \"errors\": 0\n}",
                     md_json_writep(md_job_to_json(job, 1, p), p, MD_JSON_FMT_INDENT));
}
END_TEST

/* --- the log ------------------------------------------------------------------------- */

START_TEST(job_log_limit)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "a.org", &clock);
    md_json_t *json;
    int i;

    for (i = 0; i < 200; ++i) {
        md_job_log_append(job, "progress", NULL, apr_psprintf(p, "step %d", i));
    }
    ck_assert_int_eq(MD_JOB_LOG_MAX, (int)md_json_array_size(job->log, MD_KEY_ENTRIES, NULL));
    json = md_job_to_json(job, 1, p);
    ck_assert_int_eq(128, (int)md_json_array_size(json, MD_KEY_LOG, MD_KEY_ENTRIES, NULL));
    ck_assert_prefix("[{\"when\":\"Mon, 30 Nov 2026 11:57:57 GMT\",\"type\":\"progress\","
                     "\"detail\":\"step 199\"},",
                     md_json_writep(md_json_getcj(p, json, MD_KEY_LOG, MD_KEY_ENTRIES, NULL),
                                    p, MD_JSON_FMT_COMPACT));
}
END_TEST

START_TEST(job_log_entry_members)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "a.org", &clock);

    md_job_log_append(job, "message-error", "installed", "MDMessageCmd x failed.");
    clock.now += apr_time_from_sec(5);
    md_job_log_append(job, "starting", NULL, NULL);
    ck_assert_str_eq("{\"entries\":[{\"when\":\"Mon, 30 Nov 2026 11:58:02 GMT\","
                     "\"type\":\"starting\"},{\"when\":\"Mon, 30 Nov 2026 11:57:57 GMT\","
                     "\"type\":\"message-error\",\"status\":\"installed\","
                     "\"detail\":\"MDMessageCmd x failed.\"}]}",
                     md_json_writep(job->log, p, MD_JSON_FMT_COMPACT));
    ck_assert(md_job_log_get_time_of_latest(job, "message-error") == T_BASE);
}
END_TEST

/* --- progress texts ------------------------------------------------------------------- */

static const struct {
    const char *activity, *detail, *problem, *expected;
} progress_cases[] = {
    { NULL, NULL, NULL, NULL },
    { "act", NULL, NULL, "act" },
    { NULL, "det", NULL, "det" },
    { NULL, NULL, "urn:p", "problem: urn:p" },
    { "act", "det", NULL, "act: det" },
    { "act", NULL, "urn:p", "act: problem: urn:p" },
    { NULL, "det", "urn:p", "det, problem: urn:p" },
    { "act", "det", "urn:p", "act: det, problem: urn:p" },
};

START_TEST(job_progress_text)
{
    apr_pool_t *p = md_test_pool;
    md_result_t *result = md_result_make(p, APR_SUCCESS);
    const char *text;

    result->activity = progress_cases[_i].activity;
    result->detail = progress_cases[_i].detail;
    result->problem = progress_cases[_i].problem;
    text = md_job_progress_text(result, p);
    if (progress_cases[_i].expected) {
        ck_assert_ptr_nonnull(text);
        ck_assert_str_eq(progress_cases[_i].expected, text);
    }
    else {
        ck_assert_ptr_null(text);
    }
}
END_TEST

/* --- runs --------------------------------------------------------------------------------- */

START_TEST(job_run_failed)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "fail.mdspec.org", &clock);
    md_result_t *result = md_result_md_make(p, "fail.mdspec.org");
    const char *text = read_text(DATA("job-failed.json"), p);
    md_json_t *json;

    /* continue from the first failed run of the captured example */
    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, p, text, strlen(text)));
    md_job_from_json(job, json, p);
    md_json_limita(0, job->log, MD_KEY_ENTRIES, NULL);
    job->error_runs = 1;

    md_job_start_run(job, result);
    ck_assert(job->last_run == T_BASE);
    md_result_activity_printf(result, "Contacting ACME server for %s at %s",
                              "fail.mdspec.org", "https://localhost:44999/dir");
    md_result_set(result, 111, "Unsuccessful.");
    md_result_set(result, 111, "Unsuccessful.");    /* no change, no entry */
    md_job_end_run(job, result);

    ck_assert_int_eq(0, job->finished);
    ck_assert_int_eq(2, job->error_runs);
    ck_assert(job->next_run == T_BASE + apr_time_from_sec(60));
    ck_assert_str_eq(
        "{\"name\":\"fail.mdspec.org\",\"finished\":false,\"notified\":false,"
        "\"notified-renewed\":false,\"next-run\":\"Mon, 30 Nov 2026 11:58:57 GMT\","
        "\"last-run\":\"Mon, 30 Nov 2026 11:57:57 GMT\",\"errors\":2,"
        "\"last\":{\"status\":111,\"status-description\":\"Connection refused\","
        "\"detail\":\"Unsuccessful.\",\"activity\":\"Contacting ACME server for "
        "fail.mdspec.org at https://localhost:44999/dir\"},"
        "\"log\":{\"entries\":["
        "{\"when\":\"Mon, 30 Nov 2026 11:57:57 GMT\",\"type\":\"renewal-error\","
        "\"detail\":\"Unsuccessful.\"},"
        "{\"when\":\"Mon, 30 Nov 2026 11:57:57 GMT\",\"type\":\"progress\","
        "\"detail\":\"Contacting ACME server for fail.mdspec.org at "
        "https://localhost:44999/dir: Unsuccessful.\"},"
        "{\"when\":\"Mon, 30 Nov 2026 11:57:57 GMT\",\"type\":\"progress\","
        "\"detail\":\"Contacting ACME server for fail.mdspec.org at "
        "https://localhost:44999/dir\"},"
        "{\"when\":\"Mon, 30 Nov 2026 11:57:57 GMT\",\"type\":\"starting\"}]}}",
        md_json_writep(md_job_to_json(job, 1, p), p, MD_JSON_FMT_COMPACT));

    /* after end_run, result changes are no longer observed */
    md_result_activity_set(result, "later");
    ck_assert_int_eq(4, (int)md_json_array_size(job->log, MD_KEY_ENTRIES, NULL));
}
END_TEST

START_TEST(job_run_success)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 0 };
    md_job_t *job = md_job_make(p, NULL, MD_SG_OCSP, "static.mdspec.org", 0);
    md_result_t *result = md_result_md_make(p, "static.mdspec.org");

    md_job_set_clock(job, fake_now, fake_rand, &clock);
    job->error_runs = 3;
    job->next_run = T_BASE;
    md_job_start_run(job, result);
    md_result_reset(result);
    md_result_delay_set(result, T_BASE + 1000);
    md_job_end_run(job, result);
    ck_assert_int_eq(1, job->finished);
    ck_assert_int_eq(0, job->error_runs);
    ck_assert(job->next_run == 0);
    ck_assert(job->valid_from == T_BASE + 1000);
    ck_assert_str_eq("{\"entries\":[{\"when\":\"Mon, 30 Nov 2026 11:57:57 GMT\","
                     "\"type\":\"finished\"},{\"when\":\"Mon, 30 Nov 2026 11:57:57 GMT\","
                     "\"type\":\"starting\"}]}",
                     md_json_writep(job->log, p, MD_JSON_FMT_COMPACT));

    /* an OCSP job logs failures as ocsp-error */
    md_job_start_run(job, result);
    md_result_problem_set(result, APR_EGENERAL, "urn:x", "bad", NULL);
    md_job_end_run(job, result);
    ck_assert_int_eq(0, job->finished);
    ck_assert_prefix("{\"entries\":[{\"when\":\"Mon, 30 Nov 2026 11:57:57 GMT\","
                     "\"type\":\"ocsp-error\",\"status\":\"urn:x\",\"detail\":\"bad\"},",
                     md_json_writep(job->log, p, MD_JSON_FMT_COMPACT));
}
END_TEST

/* A job "a.org" in a fresh store on the fake clock, and *pjob2 that reads
 * what it saves. */
static md_job_t *saving_job(md_job_t **pjob2, fake_clock *clock, apr_pool_t *p)
{
    md_store_t *store;
    md_job_t *job;

    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, p, md_test_mkdtemp(p)));
    job = md_job_make(p, store, MD_SG_STAGING, "a.org", 0);
    md_job_set_clock(job, fake_now, fake_rand, clock);
    *pjob2 = md_job_make(p, store, MD_SG_STAGING, "a.org", 0);
    return job;
}

START_TEST(job_save_throttle)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job2, *job = saving_job(&job2, &clock, p);
    md_result_t *result = md_result_md_make(p, "a.org");

    ck_assert_int_eq(APR_ENOENT, md_job_load(job2));

    md_job_start_run(job, result);
    md_result_activity_set(result, "one");          /* saved: first save */
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job2));
    ck_assert_int_eq(2, (int)md_json_array_size(job2->log, MD_KEY_ENTRIES, NULL));
    clock.now += apr_time_from_msec(200);
    md_result_activity_set(result, "two");          /* not saved: too soon */
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job2));
    ck_assert_int_eq(2, (int)md_json_array_size(job2->log, MD_KEY_ENTRIES, NULL));
    clock.now += apr_time_from_msec(400);
    md_result_activity_set(result, "three");        /* saved */
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job2));
    ck_assert_int_eq(4, (int)md_json_array_size(job2->log, MD_KEY_ENTRIES, NULL));
    ck_assert_str_eq("three", job2->last->activity);
    result->status = APR_SUCCESS;
    md_job_end_run(job, result);
    ck_assert_int_eq(1, job->dirty);
    ck_assert_int_eq(APR_SUCCESS, md_job_save(job, p));
    ck_assert_int_eq(0, job->dirty);
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job2));
    ck_assert_int_eq(1, job2->finished);
    ck_assert_str_eq(md_json_writep(md_job_to_json(job, 1, p), p, MD_JSON_FMT_INDENT),
                     md_json_writep(md_job_to_json(job2, 1, p), p, MD_JSON_FMT_INDENT));
}
END_TEST

/* A poll that lasts: the throttled activity is saved at the next round,
 * with the time it began. */
START_TEST(job_save_trailing)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job2, *job = saving_job(&job2, &clock, p);
    md_result_t *result = md_result_md_make(p, "a.org");
    md_json_t *json;

    md_job_start_run(job, result);
    md_result_activity_set(result, "Creating new order");
    clock.now += apr_time_from_msec(100);
    md_result_activity_set(result, "Monitoring challenge status");  /* throttled */
    clock.now += apr_time_from_msec(100);
    md_result_touch(result);                                        /* still too soon */
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job2));
    ck_assert_str_eq("Creating new order", job2->last->activity);
    clock.now += apr_time_from_sec(5);
    md_result_touch(result);                                        /* a poll round */
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job2));
    ck_assert_str_eq("Monitoring challenge status", job2->last->activity);
    ck_assert(job->last->activity_since == T_BASE + apr_time_from_msec(100));
    json = md_job_to_json(job2, 0, p);
    ck_assert_str_eq(md_time_rfc822(p, T_BASE + apr_time_from_msec(100)),
                     md_json_gets(json, MD_KEY_LAST, "activity-since", NULL));
    /* nothing new: no save */
    clock.now += apr_time_from_sec(5);
    md_result_touch(result);
    ck_assert(job->last_save == T_BASE + apr_time_from_msec(5200));
}
END_TEST

/* --- back-off --------------------------------------------------------------------------- */

static const struct {
    int errors;
    const char *problem;
    unsigned int jitter;
    long expected_ms;
} delay_cases[] = {
    { 0, NULL, 128, 0 },
    { 1, NULL, 128, 30000 },
    { 2, NULL, 128, 60000 },
    { 3, NULL, 128, 120000 },
    { 1, NULL, 0, 15000 },
    { 1, NULL, 255, 44882 },
    { 2, NULL, 64, 45000 },
    { 12, NULL, 128, 61440000 },
    { 13, NULL, 128, 86400000 },
    { 100, NULL, 128, 86400000 },
    { 100, NULL, 0, 43200000 },
    { 1, "urn:ietf:params:acme:error:badCSR", 128, 86400000 },
    { 0, "urn:ietf:params:acme:error:rejectedIdentifier", 128, 86400000 },
    { 1, "urn:acme:error:malformed", 128, 86400000 },
    { 1, "urn:ietf:params:acme:error:rateLimited", 128, 30000 },
    { 1, "urn:org:apache:httpd:log:AH10109:", 128, 30000 },
};

START_TEST(job_delay_on_errors)
{
    apr_interval_time_t d = md_job_delay_on_errors(delay_cases[_i].errors,
                                                   delay_cases[_i].problem,
                                                   apr_time_from_sec(30),
                                                   delay_cases[_i].jitter);

    ck_assert_int_eq(delay_cases[_i].expected_ms, (long)apr_time_as_msec(d));
}
END_TEST

/* --- events ------------------------------------------------------------------------------- */

START_TEST(event_argv)
{
    apr_pool_t *p = md_test_pool;
    const char **argv;

    ck_assert_int_eq(APR_SUCCESS, md_event_message_argv(&argv, "/x/message.py /x/message.log",
                                                        "renewed", "a.org", p));
    ck_assert_str_eq("/x/message.py", argv[0]);
    ck_assert_str_eq("/x/message.log", argv[1]);
    ck_assert_str_eq("renewed", argv[2]);
    ck_assert_str_eq("a.org", argv[3]);
    ck_assert_ptr_null(argv[4]);
    ck_assert_int_eq(APR_SUCCESS, md_event_notify_argv(&argv, "'/x y/n.sh' \"a b\"",
                                                       "a.org", p));
    ck_assert_str_eq("/x y/n.sh", argv[0]);
    ck_assert_str_eq("a b", argv[1]);
    ck_assert_str_eq("a.org", argv[2]);
    ck_assert_ptr_null(argv[3]);
    ck_assert_int_eq(APR_EINVAL, md_event_notify_argv(&argv, "", "a.org", p));
    ck_assert_int_eq(APR_EINVAL, md_event_message_argv(&argv, NULL, "x", "a.org", p));
}
END_TEST

static const struct {
    const char *reason;
    long limit_sec;
    md_event_kind_t kind;
} reason_cases[] = {
    { "renewing", 3600, MD_EVENT_VETO },
    { "renewed", 86400, MD_EVENT_CHECKED },
    { "installed", 86400, MD_EVENT_FIRE_AND_FORGET },
    { "expiring", 86400, MD_EVENT_CHECKED },
    { "errored", 3600, MD_EVENT_FIRE_AND_FORGET },
    { "ocsp-renewed", 86400, MD_EVENT_FIRE_AND_FORGET },
    { "ocsp-errored", 3600, MD_EVENT_FIRE_AND_FORGET },
    { "challenge-setup:http-01:a.org", 0, MD_EVENT_CHECKED },
    { "challenge-setup:dns-01:x.org", 0, MD_EVENT_CHECKED },
    { "something-else", 0, MD_EVENT_FIRE_AND_FORGET },
};

START_TEST(event_reasons)
{
    ck_assert_int_eq(reason_cases[_i].limit_sec,
                     (long)apr_time_sec(md_event_rate_limit(reason_cases[_i].reason)));
    ck_assert_int_eq(reason_cases[_i].kind, md_event_kind(reason_cases[_i].reason));
}
END_TEST

START_TEST(event_rate_limit)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "a.org", &clock);

    ck_assert_int_eq(0, md_event_is_rate_limited(job, "renewing", T_BASE));
    md_job_log_append(job, "message-renewing", NULL, NULL);
    md_job_log_append(job, "message-renewed", NULL, NULL);
    md_job_log_append(job, "message-challenge-setup:http-01:a.org", NULL, NULL);
    ck_assert_int_eq(1, md_event_is_rate_limited(job, "renewing", T_BASE));
    ck_assert_int_eq(1, md_event_is_rate_limited(job, "renewing",
                                                 T_BASE + apr_time_from_sec(3599)));
    ck_assert_int_eq(0, md_event_is_rate_limited(job, "renewing",
                                                 T_BASE + apr_time_from_sec(3600)));
    ck_assert_int_eq(1, md_event_is_rate_limited(job, "renewed",
                                                 T_BASE + apr_time_from_sec(86399)));
    ck_assert_int_eq(0, md_event_is_rate_limited(job, "renewed",
                                                 T_BASE + apr_time_from_sec(86400)));
    ck_assert_int_eq(0, md_event_is_rate_limited(job, "errored", T_BASE));
    ck_assert_int_eq(0, md_event_is_rate_limited(job, "challenge-setup:http-01:a.org",
                                                 T_BASE));
    ck_assert_int_eq(0, md_event_is_rate_limited(NULL, "renewing", T_BASE));
}
END_TEST

typedef struct {
    int calls;
    const char *reason;
    apr_status_t rv;
    int limited;
} observed_t;

static void observe(const char *reason, const char *mdomain, apr_status_t rv,
                    int rate_limited, void *baton, apr_pool_t *p)
{
    observed_t *o = baton;

    (void)mdomain;
    (void)p;
    ++o->calls;
    o->reason = apr_pstrdup(md_test_pool, reason);
    o->rv = rv;
    o->limited = rate_limited;
}

static const char *cmd_line(apr_pool_t *p, const char *log, int exit_code)
{
    return apr_psprintf(p, "%s %s %d", LOG_ARGS, log, exit_code);
}

static const char *log_lines(apr_pool_t *p, const char *log)
{
    const char *data;
    apr_size_t len;

    if (APR_SUCCESS != md_util_fread_all(&data, &len, log, 64 * 1024, p)) return "";
    return data;
}

START_TEST(event_message_cmd)
{
    apr_pool_t *p = md_test_pool;
    const char *dir = md_test_mkdtemp(p);
    const char *log = apr_pstrcat(p, dir, "/msg.log", NULL);
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "a.org", &clock);
    md_result_t *result = md_result_md_make(p, "a.org");
    observed_t obs = { 0, NULL, 0, 0 };
    md_event_t *ev = md_event_make(p, cmd_line(p, log, 0), NULL);

    md_event_subscribe(ev, observe, &obs);
    job->events = ev;
    ck_assert_int_eq(APR_SUCCESS, md_job_notify(job, "renewing", result));
    ck_assert_str_eq("2:renewing a.org\n", log_lines(p, log));
    ck_assert_int_eq(0, job->notified);     /* renewing never sets it */
    ck_assert_int_eq(1, obs.calls);
    ck_assert_int_eq(0, obs.limited);

    /* rate limited: nothing runs, delivered, no new entry */
    ck_assert_int_eq(APR_SUCCESS, md_job_notify(job, "renewing", result));
    ck_assert_str_eq("2:renewing a.org\n", log_lines(p, log));
    ck_assert_int_eq(2, obs.calls);
    ck_assert_int_eq(1, obs.limited);
    ck_assert_int_eq(1, (int)md_json_array_size(job->log, MD_KEY_ENTRIES, NULL));

    ck_assert_int_eq(APR_SUCCESS, md_job_notify(job, "challenge-setup:http-01:a.org",
                                                result));
    ck_assert_int_eq(1, job->notified);
    ck_assert_int_eq(0, job->notified_renewed);
    ck_assert_int_eq(APR_SUCCESS, md_job_notify(job, "renewed", result));
    ck_assert_int_eq(1, job->notified_renewed);
    ck_assert_str_eq("2:renewing a.org\n"
                     "2:challenge-setup:http-01:a.org a.org\n"
                     "2:renewed a.org\n", log_lines(p, log));
    ck_assert(md_job_log_get_time_of_latest(job, "message-renewed") == T_BASE);
    ck_assert(md_job_log_get_time_of_latest(job,
              "message-challenge-setup:http-01:a.org") == T_BASE);
    ck_assert_int_eq(0, job->error_runs);
}
END_TEST

START_TEST(event_message_fails)
{
    apr_pool_t *p = md_test_pool;
    const char *dir = md_test_mkdtemp(p);
    const char *log = apr_pstrcat(p, dir, "/msg.log", NULL);
    const char *cmd = cmd_line(p, log, 3);
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "a.org", &clock);
    md_result_t *result = md_result_md_make(p, "a.org");

    job->events = md_event_make(p, cmd, NULL);

    /* fire-and-forget: logged, not failed */
    ck_assert_int_eq(APR_SUCCESS, md_job_notify(job, "installed", result));
    ck_assert_int_eq(APR_EGENERAL, result->status);
    ck_assert_str_eq(MD_EVENT_PROBLEM_MESSAGE, result->problem);
    ck_assert_str_eq(apr_psprintf(p, "MDMessageCmd %s failed with exit code 3.", cmd),
                     result->detail);
    ck_assert_int_eq(0, job->error_runs);
    ck_assert_str_eq(apr_psprintf(p, "{\"entries\":[{\"when\":\"Mon, 30 Nov 2026 "
                                  "11:57:57 GMT\",\"type\":\"message-error\","
                                  "\"status\":\"installed\",\"detail\":\"MDMessageCmd %s "
                                  "failed with exit code 3.\"}]}", cmd),
                     md_json_writep(job->log, p, MD_JSON_FMT_COMPACT));
    ck_assert(md_job_log_get_time_of_latest(job, "message-installed") == 0);

    /* veto: returned, the job's last, and (unlike the original) an error
     * of the job, backing off by the retry delay */
    result = md_result_md_make(p, "a.org");
    ck_assert_int_eq(APR_EAGAIN, md_job_notify(job, "renewing", result));
    ck_assert_int_eq(1, job->error_runs);
    ck_assert(job->next_run == T_BASE + apr_time_from_sec(30));
    ck_assert_str_eq(MD_EVENT_PROBLEM_MESSAGE, job->last->problem);
    ck_assert_str_eq(apr_psprintf(p, "MDMessageCmd %s failed with exit code 3.", cmd),
                     job->last->detail);

    /* checked: counts as error */
    ck_assert_int_eq(APR_EGENERAL, md_job_notify(job, "expiring", result));
    ck_assert_int_eq(2, job->error_runs);
    ck_assert(job->next_run == T_BASE + apr_time_from_sec(60));
    ck_assert_int_eq(0, job->notified);

    /* challenge setup: counts too, on top of the run's own error */
    ck_assert_int_eq(APR_EGENERAL, md_job_notify(job, "challenge-setup:dns-01:a.org",
                                                 NULL));
    ck_assert_int_eq(3, job->error_runs);
    ck_assert_str_eq("2:installed a.org\n", apr_pstrndup(p, log_lines(p, log), 18));
}
END_TEST

START_TEST(event_cannot_run)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "a.org", &clock);
    md_result_t *result = md_result_md_make(p, "a.org");
    apr_status_t rv;

    /* as one whose exec failed in the child: exit code 255, a veto */
    job->events = md_event_make(p, "/nonexistent/md-msg arg", NULL);
    rv = md_job_notify(job, "renewing", result);
    ck_assert_int_eq(APR_EAGAIN, rv);
    ck_assert_int_eq(APR_EINCOMPLETE, result->status);
    ck_assert_str_eq("MDMessageCmd /nonexistent/md-msg arg failed with exit code 255.",
                     result->detail);
    ck_assert_int_eq(1, job->error_runs);
    ck_assert_str_eq(MD_EVENT_PROBLEM_MESSAGE, job->last->problem);

    /* MDNotifyCmd too (a bare word naming no file) */
    job->events = md_event_make(p, NULL, "nosuchcommand");
    result = md_result_md_make(p, "a.org");
    rv = md_job_notify(job, "renewed", result);
    ck_assert_int_eq(APR_EINCOMPLETE, rv);
    ck_assert_str_eq(MD_EVENT_PROBLEM_NOTIFY, job->last->problem);
    ck_assert_str_eq("MDNotifyCmd nosuchcommand failed with exit code 255.",
                     job->last->detail);
    ck_assert_int_eq(2, job->error_runs);
    ck_assert_int_eq(0, job->notified_renewed);
}
END_TEST

/* "errored" reports the renewal's problem; a failing command's problem
 * replaces it in the job's last (as the original), a working one not. */
START_TEST(event_errored_last)
{
    apr_pool_t *p = md_test_pool;
    const char *dir = md_test_mkdtemp(p);
    const char *log = apr_pstrcat(p, dir, "/msg.log", NULL);
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "a.org", &clock);
    md_result_t *result = md_result_md_make(p, "a.org");
    const char *cmd = cmd_line(p, log, 3);
    int i;

    for (i = 0; i < 2; ++i) {
        job->events = md_event_make(p, i ? cmd : cmd_line(p, log, 0), NULL);
        md_job_start_run(job, result);
        md_result_problem_set(result, APR_ECONNREFUSED, "urn:ietf:params:acme:error:"
                              "connection", "the CA said no", NULL);
        md_job_end_run(job, result);
        ck_assert_int_eq(i + 1, job->error_runs);
        ck_assert_int_eq(APR_SUCCESS, md_job_notify(job, "errored", result));
        ck_assert_int_eq(i + 1, job->error_runs);
        if (!i) {
            ck_assert_int_eq(APR_ECONNREFUSED, job->last->status);
            ck_assert_str_eq("urn:ietf:params:acme:error:connection", job->last->problem);
            ck_assert_str_eq("the CA said no", job->last->detail);
        }
        else {
            ck_assert_int_eq(APR_EGENERAL, job->last->status);
            ck_assert_str_eq(MD_EVENT_PROBLEM_MESSAGE, job->last->problem);
            ck_assert_str_eq(apr_psprintf(p, "MDMessageCmd %s failed with exit code 3.",
                                          cmd), job->last->detail);
        }
        /* rate limits do not apply: a new hour */
        clock.now += apr_time_from_sec(2 * 3600);
    }
}
END_TEST

START_TEST(event_notify_cmd)
{
    apr_pool_t *p = md_test_pool;
    const char *dir = md_test_mkdtemp(p);
    const char *log = apr_pstrcat(p, dir, "/msg.log", NULL);
    const char *nlog = apr_pstrcat(p, dir, "/notify.log", NULL);
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "a.org", &clock);
    md_result_t *result = md_result_md_make(p, "a.org");
    const char *ncmd = cmd_line(p, nlog, 5);

    /* failing notify: message command not run, notify-error entry */
    job->events = md_event_make(p, cmd_line(p, log, 0), ncmd);
    ck_assert_int_eq(APR_EGENERAL, md_job_notify(job, "renewed", result));
    ck_assert_str_eq("1:a.org\n", log_lines(p, nlog));
    ck_assert_str_eq("", log_lines(p, log));
    ck_assert_str_eq(MD_EVENT_PROBLEM_NOTIFY, result->problem);
    ck_assert_str_eq(apr_psprintf(p, "MDNotifyCmd %s failed with exit code 5.", ncmd),
                     result->detail);
    ck_assert(md_job_log_get_time_of_latest(job, "notify-error") == T_BASE);
    ck_assert_int_eq(0, job->notified_renewed);
    ck_assert_int_eq(1, job->error_runs);

    /* notify ok: both run, notify first */
    job->events = md_event_make(p, cmd_line(p, log, 0), cmd_line(p, nlog, 0));
    ck_assert_int_eq(APR_SUCCESS, md_job_notify(job, "renewed", result));
    ck_assert_str_eq("1:a.org\n1:a.org\n", log_lines(p, nlog));
    ck_assert_str_eq("2:renewed a.org\n", log_lines(p, log));
    ck_assert_int_eq(1, job->notified_renewed);
    ck_assert_int_eq(1, job->notified);

    /* notify is only for renewed */
    ck_assert_int_eq(APR_SUCCESS, md_job_notify(job, "expiring", result));
    ck_assert_str_eq("1:a.org\n1:a.org\n", log_lines(p, nlog));
}
END_TEST

START_TEST(event_no_commands)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 128 };
    md_job_t *job = test_job(p, "a.org", &clock);

    md_event_set_default(NULL);
    ck_assert_int_eq(APR_SUCCESS, md_job_notify(job, "renewed", NULL));
    ck_assert_int_eq(1, job->notified_renewed);
    ck_assert(md_job_log_get_time_of_latest(job, "message-renewed") == T_BASE);
    ck_assert_int_eq(APR_SUCCESS, md_event_raise(NULL, "ocsp-renewed", "other", NULL,
                                                 NULL, p));
}
END_TEST

/* --- status documents ---------------------------------------------------------------- */

/* Mon, 30 Nov 2026 11:58:03 GMT: the time of the captured server-status */
#define T_STATUS    apr_time_from_sec(1796039883)

#define FP_RSA      "1aea3e34aea60163b43c47beb829c2691a40667ceabf22e8ca0180f08127bb2b"

static const md_cert_facts_t *load_facts(const char *file)
{
    apr_pool_t *p = md_test_pool;
    md_cert_facts_t *facts;
    md_cert_t *cert;

    ck_assert_int_eq(APR_SUCCESS, md_cert_fload(&cert, p,
                     apr_pstrcat(p, MD_TEST_DATA, "/status/", file, NULL)));
    ck_assert_int_eq(APR_SUCCESS, md_cert_facts_get(&facts, cert, p));
    return facts;
}

static apr_array_header_t *slots_make(void)
{
    return apr_array_make(md_test_pool, 2, sizeof(md_status_slot_t *));
}

static md_status_slot_t *slot_add(apr_array_header_t *slots, const char *name,
                                  const char *file)
{
    md_status_slot_t *slot = apr_pcalloc(md_test_pool, sizeof(*slot));

    slot->name = name;
    slot->cert = file ? load_facts(file) : NULL;
    slot->rv = file ? APR_SUCCESS : APR_ENOENT;
    APR_ARRAY_PUSH(slots, md_status_slot_t *) = slot;
    return slot;
}

/* An MD configured like the captured examples. */
static md_t *test_md(const char *name, const char *alias, const char *url, md_state_t state,
                     int renew_mode)
{
    apr_pool_t *p = md_test_pool;
    apr_array_header_t *domains = apr_array_make(p, 2, sizeof(const char *));
    md_t *md;

    APR_ARRAY_PUSH(domains, const char *) = name;
    if (alias) {
        APR_ARRAY_PUSH(domains, const char *) = alias;
    }
    md = md_create(p, domains);
    APR_ARRAY_PUSH(md->contacts, const char *) = "mailto:admin@mdspec.org";
    md->transitive = 1;
    md->ca_account = "ACME-localhost-0000";
    md->ca_effective = url;
    md->ca_urls = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_urls, const char *) = url;
    md->ca_agreement = "accepted";
    md->ca_challenges = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_challenges, const char *) = "http-01";
    md->state = state;
    if (MD_S_INCOMPLETE == state) {
        md->state_descr = "certificate(rsa) is missing";
    }
    md->renew_mode = renew_mode;
    md->renew_window = md_timeslice_make(p, MD_TIME_LIFE_NORM,
                                         apr_time_from_sec(33 * MD_SECS_PER_DAY));
    md->warn_window = md_timeslice_make(p, MD_TIME_LIFE_NORM,
                                        apr_time_from_sec(10 * MD_SECS_PER_DAY));
    md->must_staple = 0;
    md->acme_tls_1_domains = apr_array_copy(p, md->domains);
    md->stapling = 0;
    md->profile_mandatory = 0;
    md->ari_renewals = 1;
    md->watched = 1;
    return md;
}

static md_status_input_t *test_input(md_t *md)
{
    md_status_input_t *in = apr_pcalloc(md_test_pool, sizeof(*in));

    in->md = md;
    in->slots = slots_make();
    in->staged = slots_make();
    in->watched = md->watched;
    return in;
}

static md_job_t *job_from(const char *name, const char *text)
{
    apr_pool_t *p = md_test_pool;
    md_job_t *job = md_job_make(p, NULL, MD_SG_STAGING, name, 0);
    md_json_t *json;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, p, text, strlen(text)));
    md_job_from_json(job, json, p);
    return job;
}

#define JOB_STAGED \
    "{\"finished\": true, \"notified\": true, \"notified-renewed\": true," \
    " \"last-run\": \"Mon, 30 Nov 2026 12:00:48 GMT\"," \
    " \"valid-from\": \"Mon, 30 Nov 2026 12:00:49 GMT\", \"errors\": 0," \
    " \"last\": {\"status\": 0, \"valid-from\": \"Mon, 30 Nov 2026 12:00:49 GMT\"}," \
    " \"log\": {\"entries\": [{\"when\": \"Mon, 30 Nov 2026 12:00:49 GMT\"," \
    " \"type\": \"finished\"}]}}"

static md_status_input_t *input_test1(void)
{
    md_status_input_t *in = test_input(test_md("test1.mdspec.org", "www.test1.mdspec.org",
                                              "https://localhost:44000/dir",
                                              MD_S_COMPLETE, MD_RENEW_AUTO));
    slot_add(in->slots, "rsa", "status-rsa.pem");
    return in;
}

static md_status_input_t *input_test6(void)
{
    md_status_input_t *in = test_input(test_md("test6.mdspec.org", NULL,
                                              "https://localhost:44000/dir",
                                              MD_S_INCOMPLETE, MD_RENEW_AUTO));
    slot_add(in->slots, "rsa", NULL);
    in->job = job_from("test6.mdspec.org", JOB_STAGED);
    slot_add(in->staged, "rsa", "status-rsa2.pem");
    in->renewal_due = 1;
    return in;
}

START_TEST(status_cert_facts)
{
    apr_pool_t *p = md_test_pool;
    const md_cert_facts_t *facts = load_facts("status-rsa.pem");

    ck_assert_str_eq("{\"issuer-name\":\"/CN=MD Status Test CA\","
                     "\"issuer-uri\":\"http://ca.mdspec.org/ca.cer\","
                     "\"valid\":{\"from\":\"Mon, 30 Nov 2026 11:54:24 GMT\","
                     "\"until\":\"Sun, 30 Nov 2031 11:54:23 GMT\"},"
                     "\"serial\":\"249CC7FFC64154B5\",\"sha256-fingerprint\":\"" FP_RSA "\","
                     "\"ari-cert-id\":\"-QCtYZmFQr3m7dx9g1S45Q4A7uQ.JJzH_8ZBVLU\"}",
                     md_json_writep(md_cert_facts_to_json(facts, 1, p), p,
                                    MD_JSON_FMT_COMPACT));
    ck_assert_str_eq("{\"valid\":{\"from\":\"Mon, 30 Nov 2026 11:54:24 GMT\","
                     "\"until\":\"Sun, 30 Nov 2031 11:54:23 GMT\"},"
                     "\"serial\":\"249CC7FFC64154B5\",\"sha256-fingerprint\":\"" FP_RSA "\"}",
                     md_json_writep(md_cert_facts_to_json(facts, 0, p), p,
                                    MD_JSON_FMT_COMPACT));
}
END_TEST

START_TEST(status_renew_at)
{
    md_status_input_t *in = input_test1();
    int is_now;

    /* 33% of the lifetime before notAfter (captured: Sat, 06 Apr 2030 21:59:12) */
    ck_assert_str_eq("Sat, 06 Apr 2030 21:59:12 GMT",
                     md_time_rfc822(md_test_pool, md_status_renew_at(in, T_STATUS, &is_now)));
    ck_assert_int_eq(0, is_now);
    in->md = test_md("test1.mdspec.org", NULL, "https://x/", MD_S_INCOMPLETE, 1);
    ck_assert(md_status_renew_at(in, T_STATUS, &is_now) == T_STATUS);
    ck_assert_int_eq(1, is_now);
    in = input_test1();
    slot_add(in->slots, "secp384r1", NULL);
    ck_assert(md_status_renew_at(in, T_STATUS, &is_now) == T_STATUS);
    in = input_test1();
    slot_add(in->slots, "secp384r1", NULL)->rv = APR_EINVAL;     /* unreadable */
    ck_assert(md_status_renew_at(in, T_STATUS, &is_now) == 0);
    ck_assert_int_eq(0, is_now);
    in = input_test1();
    slot_add(in->slots, "secp384r1", "status-rsa2.pem");
    ck_assert_str_eq("Sat, 06 Apr 2030 21:59:12 GMT",
                     md_time_rfc822(md_test_pool, md_status_renew_at(in, T_STATUS, &is_now)));
}
END_TEST

START_TEST(status_md_json)
{
    apr_pool_t *p = md_test_pool;
    md_status_input_t *in = input_test1();
    md_status_entry_t *entry;

    ck_assert_str_eq(read_text(DATA("expected-md-test1.json"), p),
                     md_json_writep(md_status_md_json(in, 1, T_STATUS, p), p,
                                    MD_JSON_FMT_INDENT));
    ck_assert_int_eq(APR_SUCCESS, md_status_entry_make(&entry, in, T_STATUS, p));
    ck_assert_str_eq("test1.mdspec.org", md_status_entry_name(entry));
    ck_assert_str_eq(read_text(DATA("expected-md-test1.json"), p),
                     md_status_entry_md_text(entry, T_STATUS + apr_time_from_sec(99), p));
    /* the entry turns stale when renewal becomes due */
    ck_assert_str_eq("Sat, 06 Apr 2030 21:59:12 GMT",
                     md_time_rfc822(p, md_status_entry_expires(entry)));
}
END_TEST

START_TEST(status_md_json_eab_error)
{
    apr_pool_t *p = md_test_pool;
    md_status_input_t *in = input_test1();
    md_json_t *json;
    md_t *md = (md_t *)in->md;

    md->eab_kid = "kid-1";
    md->eab_hmac = "secret";
    md->stapling = 1;
    in->error = APR_EINVAL;
    in->renewal_due = 1;
    json = md_status_md_json(in, 0, T_STATUS, p);
    ck_assert_str_eq("kid-1", md_json_gets(json, "eab", "kid", NULL));
    ck_assert_str_eq("***", md_json_gets(json, "eab", "hmac", NULL));
    ck_assert_int_eq(1, md_json_getb(json, "stapling", NULL));
    ck_assert_int_eq(1, md_json_getb(json, "renew", NULL));
    ck_assert_int_eq(0, md_json_has_key(json, "renewal", NULL));
    ck_assert_int_eq(APR_EINVAL, md_json_getl(json, "error", NULL));
    ck_assert_ptr_null(strstr(md_json_writep(json, p, MD_JSON_FMT_COMPACT), "secret"));
}
END_TEST

START_TEST(status_md_json_credentials)
{
    apr_pool_t *p = md_test_pool;
    md_status_input_t *in = input_test1();
    md_t *md = (md_t *)in->md;
    md_result_t *result = md_result_md_make(p, md->name);
    md_job_t *job = md_job_make(p, NULL, MD_SG_STAGING, md->name, 0);
    md_json_t *json;
    const char *text;

    md->proxy_url = "http://user:pr0xy@proxy.test:3128";
    md->ca_effective = "https://acct:c4pass@ca.test/dir";
    APR_ARRAY_PUSH((apr_array_header_t *)md->ca_urls, const char *) =
        "https://acct:c4pass@ca.test/dir";
    md_job_start_run(job, result);
    md_result_activity_printf(result, "Contacting ACME server for %s at %s", md->name,
                              md->ca_effective);
    md_result_set(result, APR_EGENERAL, "proxy http://user:pr0xy@proxy.test:3128 refused");
    md_job_end_run(job, result);
    in->job = job;
    json = md_status_md_json(in, 1, T_STATUS, p);
    text = md_json_writep(json, p, MD_JSON_FMT_COMPACT);
    ck_assert_str_eq("http://user:***@proxy.test:3128",
                     md_json_gets(json, "proxy-url", NULL));
    ck_assert_ptr_null(strstr(text, "pr0xy"));
    ck_assert_ptr_null(strstr(text, "c4pass"));
    ck_assert_ptr_nonnull(strstr(text, "https://acct:***@ca.test/dir"));
    /* the MD itself keeps its URLs */
    ck_assert_str_eq("http://user:pr0xy@proxy.test:3128", md->proxy_url);
}
END_TEST

START_TEST(status_mds_text)
{
    apr_pool_t *p = md_test_pool;
    apr_time_t now = apr_time_from_sec(1796040146);  /* Mon, 30 Nov 2026 12:02:26 GMT */
    apr_array_header_t *entries = apr_array_make(p, 2, sizeof(md_status_entry_t *));
    apr_array_header_t *mds = apr_array_make(p, 2, sizeof(md_json_t *));
    md_status_entry_t *e6, *e1;
    const char *expected = read_text(DATA("expected-mds.json"), p);
    const char *text;

    /* built earlier, served later: renew-at of the incomplete MD follows now */
    ck_assert_int_eq(APR_SUCCESS, md_status_entry_make(&e6, input_test6(), T_STATUS, p));
    ck_assert_int_eq(APR_SUCCESS, md_status_entry_make(&e1, input_test1(), T_STATUS, p));
    ck_assert(md_status_entry_expires(e6) == 0);
    APR_ARRAY_PUSH(entries, md_status_entry_t *) = e6;
    APR_ARRAY_PUSH(entries, md_status_entry_t *) = e1;
    text = md_status_mds_text(entries, "2.7.0", now, p);
    ck_assert_str_eq(expected, text);

    /* the same as serialising the full document */
    APR_ARRAY_PUSH(mds, md_json_t *) = md_status_md_json(input_test6(), 0, now, p);
    APR_ARRAY_PUSH(mds, md_json_t *) = md_status_md_json(input_test1(), 0, now, p);
    ck_assert_str_eq(expected, md_json_writep(md_status_mds_json(mds, "2.7.0", p), p,
                                              MD_JSON_FMT_INDENT));

    /* the single form carries the job log */
    text = md_status_entry_md_text(e6, now, p);
    ck_assert_ptr_nonnull(strstr(text, "\n  \"renew-at\": \"Mon, 30 Nov 2026 12:02:26 GMT\""));
    ck_assert_ptr_nonnull(strstr(text, "\n    \"log\": {\n      \"entries\": [\n"));
    ck_assert_str_eq(md_json_writep(md_status_md_json(input_test6(), 1, now, p), p,
                                    MD_JSON_FMT_INDENT), text);

    /* no MDs */
    apr_array_clear(entries);
    ck_assert_str_eq("{\n  \"version\": \"2.7.0\",\n  \"managed-domains\": []\n}",
                     md_status_mds_text(entries, "2.7.0", now, p));
    apr_array_clear(mds);
    ck_assert_str_eq("{\n  \"version\": \"2.7.0\",\n  \"managed-domains\": []\n}",
                     md_json_writep(md_status_mds_json(mds, "2.7.0", p), p,
                                    MD_JSON_FMT_INDENT));
}
END_TEST

START_TEST(status_cert_status)
{
    apr_pool_t *p = md_test_pool;
    md_t *md = test_md("test2.mdspec.org", NULL, "https://localhost:44000/dir",
                       MD_S_COMPLETE, MD_RENEW_AUTO);
    md_status_input_t *in;
    md_status_entry_t *entry;

    md->pks = md_pkeys_spec_make(p);
    md_pkeys_spec_add_ec(md->pks, "secp384r1");
    md_pkeys_spec_add_rsa(md->pks, 3072);
    in = test_input(md);
    slot_add(in->slots, "secp384r1", "status-ec.pem");
    slot_add(in->slots, "rsa", "status-rsa2.pem");
    ck_assert_str_eq(read_text(DATA("expected-cert-status.json"), p),
                     md_json_writep(md_status_cert_status_json(in, p), p,
                                    MD_JSON_FMT_INDENT));
    ck_assert_int_eq(APR_SUCCESS, md_status_entry_make(&entry, in, T_STATUS, p));
    ck_assert_str_eq(read_text(DATA("expected-cert-status.json"), p),
                     md_status_entry_cert_status_text(entry));

    /* new MD right after start, then with a staged certificate */
    in = input_test6();
    in->job = NULL;
    ck_assert_str_eq("{\n  \"rsa\": {}\n}",
                     md_json_writep(md_status_cert_status_json(in, p), p,
                                    MD_JSON_FMT_INDENT));
    ck_assert_str_eq(read_text(DATA("expected-cert-status-staged.json"), p),
                     md_json_writep(md_status_cert_status_json(input_test6(), p), p,
                                    MD_JSON_FMT_INDENT));
}
END_TEST

START_TEST(status_cert_status_scts)
{
    apr_pool_t *p = md_test_pool;
    md_status_input_t *in = input_test6();
    const md_cert_facts_t *facts = load_facts("status-sct.pem");
    const md_sct_t *sct;
    md_json_t *json;

    /* the reader: both SCTs of the extension, in order */
    ck_assert_int_eq(2, facts->scts->nelts);
    sct = APR_ARRAY_IDX(facts->scts, 0, const md_sct_t *);
    ck_assert_int_eq(0, sct->version);
    ck_assert_str_eq("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                     sct->logid_hex);
    ck_assert(apr_time_from_sec(1559322395) == sct->timestamp);
    ck_assert_str_eq("3006020101020102", sct->signature_hex);
    ck_assert_str_eq("ecdsa-with-SHA256", sct->signature_type);
    sct = APR_ARRAY_IDX(facts->scts, 1, const md_sct_t *);
    ck_assert(apr_time_from_sec(1559322396) + 500000 == sct->timestamp);
    ck_assert_str_eq("RSA-SHA256", sct->signature_type);
    /* certificates without the extension have none */
    ck_assert_int_eq(0, load_facts("status-rsa.pem")->scts->nelts);

    /* certificate-status lists them with the staged set */
    slot_add(in->staged, "secp384r1", "status-sct.pem");
    json = md_status_cert_status_json(in, p);
    ck_assert_str_eq("[{\"logid\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\","
                     "\"signed\":\"Fri, 31 May 2019 17:06:35 GMT\","
                     "\"signature\":\"3006020101020102\","
                     "\"signature-type\":\"ecdsa-with-SHA256\"},"
                     "{\"logid\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
                     "\"signed\":\"Fri, 31 May 2019 17:06:36 GMT\","
                     "\"signature\":\"11111111111111111111111111111111\","
                     "\"signature-type\":\"RSA-SHA256\"}]",
                     md_json_writep(md_json_getcj(p, json, "renewal", "scts", NULL), p,
                                    MD_JSON_FMT_COMPACT));
    ck_assert(md_json_has_key(json, "renewal", "cert", "secp384r1", NULL));
    /* not in md-status, and not for the active certificates */
    ck_assert(!md_json_has_key(md_status_md_json(in, 1, T_STATUS, p), "renewal", "scts",
                               NULL));
    in->job = NULL;
    slot_add(in->slots, "secp384r1", "status-sct.pem");
    ck_assert(!md_json_has_key(md_status_cert_status_json(in, p), "scts", NULL));
}
END_TEST

/* An SCT timestamp is ms in a uint64: one past year 9999 (the largest, as a
 * fuzzed certificate had) is no date and is not shown, instead of
 * overflowing apr_time_t (UB) and printing a date before 1970. */
START_TEST(status_cert_status_scts_far)
{
    apr_pool_t *p = md_test_pool;
    md_status_input_t *in = input_test6();
    const md_cert_facts_t *facts = load_facts("status-sct-far.pem");

    ck_assert_int_eq(2, facts->scts->nelts);
    ck_assert(0 == APR_ARRAY_IDX(facts->scts, 0, const md_sct_t *)->timestamp);
    ck_assert(apr_time_from_sec(253402300799) + 999000
              == APR_ARRAY_IDX(facts->scts, 1, const md_sct_t *)->timestamp);
    slot_add(in->staged, "secp384r1", "status-sct-far.pem");
    ck_assert_str_eq("[{\"logid\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\","
                     "\"signature\":\"3006020101020102\","
                     "\"signature-type\":\"ecdsa-with-SHA256\"},"
                     "{\"logid\":\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\","
                     "\"signed\":\"Fri, 31 Dec 9999 23:59:59 GMT\","
                     "\"signature\":\"2222222222222222\","
                     "\"signature-type\":\"ecdsa-with-SHA256\"}]",
                     md_json_writep(md_json_getcj(p, md_status_cert_status_json(in, p),
                                                  "renewal", "scts", NULL), p,
                                    MD_JSON_FMT_COMPACT));
}
END_TEST

static md_status_input_t *input_static(void)
{
    apr_pool_t *p = md_test_pool;
    md_t *md = test_md("static.mdspec.org", NULL, "https://localhost:44000/dir",
                       MD_S_COMPLETE, MD_RENEW_MANUAL);
    md_status_input_t *in;

    md->cert_files = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->cert_files, const char *) = "/etc/ssl/static/chain.pem";
    md->pkey_files = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->pkey_files, const char *) = "/etc/ssl/static/key.pem";
    md->stapling = 1;
    in = test_input(md);
    slot_add(in->slots, "0", "status-static.pem");
    /* the job of the expiry warning */
    in->job = job_from("static.mdspec.org",
                       "{\"finished\": true, \"errors\": 0, \"last\": {\"status\": 0}}");
    slot_add(in->staged, "rsa", NULL);
    return in;
}

START_TEST(status_cert_status_static)
{
    apr_pool_t *p = md_test_pool;
    md_status_input_t *in = input_static();
    md_json_t *json;

    ck_assert_str_eq(read_text(DATA("expected-cert-status-static.json"), p),
                     md_json_writep(md_status_cert_status_json(in, p), p,
                                    MD_JSON_FMT_INDENT));
    /* md-status names static slots by index */
    json = md_status_md_json(in, 0, T_STATUS, p);
    ck_assert_str_eq("1000", md_json_gets(json, "cert", "0", "serial", NULL));
    ck_assert_str_eq("http://127.0.0.1:44091/ca.der",
                     md_json_gets(json, "cert", "0", "issuer-uri", NULL));
    ck_assert_str_eq("{}", md_json_writep(md_json_getcj(p, json, "renewal", "cert", NULL),
                                          p, MD_JSON_FMT_COMPACT));
}
END_TEST

START_TEST(status_ocsp_member)
{
    apr_pool_t *p = md_test_pool;
    md_status_input_t *in = input_static();
    md_status_slot_t *slot = APR_ARRAY_IDX(in->slots, 0, md_status_slot_t *);
    const char *text = read_text(DATA("job-ocsp.json"), p);
    md_json_t *json;

    slot->ocsp_status = "good";
    slot->ocsp_valid_from = apr_time_from_sec(1796039852);
    slot->ocsp_valid_until = apr_time_from_sec(1796047052);
    slot->ocsp_job = job_from("static.mdspec.org", text);
    json = md_status_md_json(in, 0, T_STATUS, p);
    ck_assert_str_eq("{\"status\":\"good\",\"valid\":{\"from\":\"Mon, 30 Nov 2026 11:57:32 GMT\","
                     "\"until\":\"Mon, 30 Nov 2026 13:57:32 GMT\"},\"renewal\":{"
                     "\"name\":\"static.mdspec.org\",\"finished\":true,\"notified\":false,"
                     "\"notified-renewed\":false,\"last-run\":\"Mon, 30 Nov 2026 11:57:32 GMT\","
                     "\"errors\":0,\"last\":{\"status\":0,\"detail\":\"certificate status is "
                     "GOOD, status valid Mon, 30 Nov 2026 11:57:32 GMT - Mon, 30 Nov 2026 "
                     "13:57:32 GMT\",\"activity\":\"status of certid "
                     "aed68c4b72b076024882ebf7fba72468700161d6, reading response\"}}}",
                     md_json_writep(md_json_getcj(p, json, "cert", "0", "ocsp", NULL), p,
                                    MD_JSON_FMT_COMPACT));
    json = md_status_md_json(in, 1, T_STATUS, p);
    ck_assert_int_eq(6, (int)md_json_array_size(json, "cert", "0", "ocsp", "renewal", "log",
                                                "entries", NULL));
}
END_TEST

/* The MDs of the captured server-status example (without test2/test4). */
static apr_array_header_t *server_status_mds(void)
{
    apr_pool_t *p = md_test_pool;
    apr_array_header_t *mds = apr_array_make(p, 5, sizeof(md_json_t *));
    md_status_input_t *in;

    in = input_test1();
    APR_ARRAY_PUSH(mds, md_json_t *) = md_status_md_json(in, 0, T_STATUS, p);
    in = test_input(test_md("fail.mdspec.org", NULL, "https://localhost:44999/dir",
                            MD_S_INCOMPLETE, MD_RENEW_AUTO));
    slot_add(in->slots, "rsa", NULL);
    in->job = job_from("fail.mdspec.org", read_text(DATA("job-failed.json"), p));
    slot_add(in->staged, "rsa", NULL);
    in->renewal_due = 1;
    APR_ARRAY_PUSH(mds, md_json_t *) = md_status_md_json(in, 0, T_STATUS, p);
    in = input_static();
    APR_ARRAY_PUSH(mds, md_json_t *) = md_status_md_json(in, 0, T_STATUS, p);
    in = test_input(test_md("manual.mdspec.org", NULL, "https://localhost:44000/dir",
                            MD_S_INCOMPLETE, MD_RENEW_MANUAL));
    slot_add(in->slots, "rsa", NULL);
    in->renewal_due = 1;
    APR_ARRAY_PUSH(mds, md_json_t *) = md_status_md_json(in, 0, T_STATUS, p);
    in = test_input(test_md("test3.mdspec.org", NULL, "https://localhost:44000/dir",
                            MD_S_INCOMPLETE, MD_RENEW_AUTO));
    slot_add(in->slots, "rsa", NULL);
    in->job = job_from("test3.mdspec.org", JOB_STAGED);
    slot_add(in->staged, "rsa", "status-rsa2.pem");
    APR_ARRAY_PUSH(mds, md_json_t *) = md_status_md_json(in, 0, T_STATUS, p);
    return mds;
}

static md_json_t *test_stapling(void)
{
    md_json_t *json;
    const char *text =
        "{\"domain\": \"static.mdspec.org\","
        " \"id\": \"aed68c4b72b076024882ebf7fba72468700161d6\", \"status\": \"good\","
        " \"cert\": {\"sha256-fingerprint\": \"0507e0bb\"},"
        " \"url\": \"http://127.0.0.1:44090\","
        " \"valid\": {\"from\": \"Mon, 30 Nov 2026 11:57:32 GMT\","
        " \"until\": \"Mon, 30 Nov 2026 13:57:32 GMT\"},"
        " \"renew-at\": \"Mon, 30 Nov 2026 13:17:56 GMT\","
        " \"renewal\": {\"name\": \"static.mdspec.org\", \"finished\": true, \"errors\": 0,"
        " \"last\": {\"status\": 0}}}";

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, text, strlen(text)));
    return json;
}

START_TEST(status_stapling_json)
{
    apr_pool_t *p = md_test_pool;
    md_status_stapling_t st;
    md_json_t *expected = test_stapling();

    memset(&st, 0, sizeof(st));
    st.domain = "static.mdspec.org";
    st.id = "aed68c4b72b076024882ebf7fba72468700161d6";
    st.status = "good";
    st.cert_fingerprint = "0507e0bb";
    st.url = "http://127.0.0.1:44090";
    st.valid_from = apr_time_from_sec(1796039852);
    st.valid_until = apr_time_from_sec(1796047052);
    st.renew_at = T_STATUS + apr_time_from_sec(4793);
    st.job = job_from("static.mdspec.org", "{\"finished\": true, \"errors\": 0,"
                      " \"last\": {\"status\": 0}}");
    md_json_del(expected, "renewal", NULL);
    md_json_setj(md_job_to_json(st.job, 0, p), expected, "renewal", NULL);
    ck_assert_str_eq(md_json_writep(expected, p, MD_JSON_FMT_INDENT),
                     md_json_writep(md_status_stapling_json(&st, 0, p), p,
                                    MD_JSON_FMT_INDENT));
}
END_TEST

START_TEST(status_server_auto)
{
    apr_pool_t *p = md_test_pool;
    md_status_text_opts_t opts = { T_STATUS, 0, "crt.sh", "https://crt.sh?q=" };
    apr_array_header_t *staplings = apr_array_make(p, 1, sizeof(md_json_t *));

    ck_assert_str_eq(read_text(DATA("expected-server-status-auto.txt"), p),
                     md_status_mds_server_text(server_status_mds(), &opts, p));
    APR_ARRAY_PUSH(staplings, md_json_t *) = test_stapling();
    ck_assert_str_eq(read_text(DATA("expected-ocsp-status-auto.txt"), p),
                     md_status_ocsp_server_text(staplings, &opts, p));
    apr_array_clear(staplings);
    ck_assert_str_eq("ManagedStaplingsTotal: 0\nManagedStaplingsOK: 0\n"
                     "ManagedStaplingsRenew: 0\nManagedStaplingsErrored: 0\n",
                     md_status_ocsp_server_text(staplings, &opts, p));
}
END_TEST

START_TEST(status_server_html)
{
    apr_pool_t *p = md_test_pool;
    md_status_text_opts_t opts = { T_STATUS, 1, "crt.sh", "https://crt.sh?q=" };
    apr_array_header_t *staplings = apr_array_make(p, 1, sizeof(md_json_t *));

    ck_assert_str_eq(read_text(DATA("expected-server-status.html"), p),
                     md_status_mds_server_text(server_status_mds(), &opts, p));
    ck_assert_str_eq("", md_status_mds_server_text(staplings, &opts, p));
    ck_assert_str_eq("", md_status_ocsp_server_text(staplings, &opts, p));
    APR_ARRAY_PUSH(staplings, md_json_t *) = test_stapling();
    ck_assert_str_eq(read_text(DATA("expected-ocsp-status.html"), p),
                     md_status_ocsp_server_text(staplings, &opts, p));
}
END_TEST

START_TEST(status_stapling_job_lines)
{
    apr_pool_t *p = md_test_pool;
    md_status_text_opts_t opts = { T_STATUS + apr_time_from_sec(5000), 0, NULL, NULL };
    apr_array_header_t *staplings = apr_array_make(p, 1, sizeof(md_json_t *));
    const char *text;

    /* refresh time passed: the job summary follows, with "Activity: Ongoing" */
    APR_ARRAY_PUSH(staplings, md_json_t *) = test_stapling();
    text = md_status_ocsp_server_text(staplings, &opts, p);
    ck_assert_ptr_nonnull(strstr(text, "ManagedStapling[0]ActivityRefresh: -207\n"
                                 "ManagedStapling[0]ActivityFinished: yes\n"
                                 "ManagedStapling[0]ActivityNewStaged: 0\n"
                                 "ManagedStapling[0]Activity: Ongoing\n"));
    opts.html = 1;
    text = md_status_ocsp_server_text(staplings, &opts, p);
    ck_assert_ptr_nonnull(strstr(text, "<td>Refresh <span title='Mon, 30 Nov 2026 13:17:56 "
                                 "GMT'>~3 minutes ago</span>:   finished successfully.\n"
                                 "Ongoing...</td>"));
}
END_TEST

static const struct {
    int state;
    const char *descr;
    long until_offset;          /* seconds from now, 0: no cert */
    const char *expected;
} state_cases[] = {
    { 0, NULL, 0, "unknown" },
    { 1, NULL, 0, "incomplete" },
    { 1, "certificate(rsa) is missing", 0, "incomplete: certificate(rsa) is missing" },
    { 2, NULL, 0, "good" },
    { 2, NULL, 100, "good" },
    { 2, NULL, -100, "expired" },
    { 3, NULL, 100, "good" },
    { 4, NULL, 0, "error" },
    { 5, NULL, 0, "missing information" },
    { 9, NULL, 0, "unknown" },
};

START_TEST(status_state_text)
{
    apr_pool_t *p = md_test_pool;
    md_json_t *json = md_json_create(p);

    md_json_setl(state_cases[_i].state, json, "state", NULL);
    if (state_cases[_i].descr) {
        md_json_sets(state_cases[_i].descr, json, "state-descr", NULL);
    }
    if (state_cases[_i].until_offset) {
        md_json_set_time(T_STATUS + apr_time_from_sec(state_cases[_i].until_offset), json,
                         "cert", "valid", "until", NULL);
    }
    ck_assert_str_eq(state_cases[_i].expected, md_status_state_text(json, T_STATUS, p));
}
END_TEST

START_TEST(status_ca_names)
{
    apr_pool_t *p = md_test_pool;
    md_json_t *json = md_json_create(p);
    md_status_text_opts_t opts = { T_STATUS, 0, NULL, NULL };
    apr_array_header_t *mds = apr_array_make(p, 1, sizeof(md_json_t *));

    ck_assert_str_eq("LetsEncrypt",
                     md_status_ca_name("https://ACME-v02.api.letsencrypt.org/directory", p));
    ck_assert_str_eq("Buypass-Test",
                     md_status_ca_name("https://api.test4.buypass.no/acme/directory", p));
    ck_assert_str_eq("ca.example.org", md_status_ca_name("https://ca.example.org:8443/d", p));

    /* configured CAs without an effective one: indexed lines, manual renew */
    md_json_sets("a.org", json, "name", NULL);
    md_json_setl(0, json, "renew-mode", NULL);
    md_json_adds("https://acme-staging-v02.api.letsencrypt.org/directory", json, "ca", "urls",
                 NULL);
    md_json_adds("https://ca2.example.org/dir", json, "ca", "urls", NULL);
    APR_ARRAY_PUSH(mds, md_json_t *) = json;
    ck_assert_str_eq("ManagedCertificatesTotal: 1\nManagedCertificatesOK: 0\n"
                     "ManagedCertificatesRenew: 0\nManagedCertificatesErrored: 1\n"
                     "ManagedCertificatesReady: 0\n"
                     "ManagedDomain[0]Domain: a.org\n"
                     "ManagedDomain[0]Status: unknown\n"
                     "ManagedDomain[0]CAName: LetsEncrypt-Test\n"
                     "ManagedDomain[0]CAURL: https://acme-staging-v02.api.letsencrypt.org/"
                     "directory\n"
                     "ManagedDomain[0]CAName1: ca2.example.org\n"
                     "ManagedDomain[0]CAURL1: https://ca2.example.org/dir\n"
                     "ManagedDomain[0]Activity: Manual renew\n",
                     md_status_mds_server_text(mds, &opts, p));
    opts.html = 1;
    ck_assert_ptr_nonnull(strstr(md_status_mds_server_text(mds, &opts, p),
                          "<td><a href='https://acme-staging-v02.api.letsencrypt.org/"
                          "directory'>LetsEncrypt-Test</a> <a href='https://ca2.example.org/"
                          "dir'>ca2.example.org</a></td><td></td><td></td>"
                          "<td>Manual renew</td></tr>"));
}
END_TEST

START_TEST(status_valid_from_future)
{
    apr_pool_t *p = md_test_pool;
    md_status_text_opts_t opts = { apr_time_from_sec(1796039000), 1, NULL, NULL };
    apr_array_header_t *mds = apr_array_make(p, 1, sizeof(md_json_t *));
    const char *text;

    APR_ARRAY_PUSH(mds, md_json_t *) = md_status_md_json(input_test1(), 0, opts.now, p);
    text = md_status_mds_server_text(mds, &opts, p);
    ck_assert_ptr_nonnull(strstr(text, "<td>from <span title='Mon, 30 Nov 2026 11:54:24 GMT' "
                                 "style='white-space: nowrap;'>2026-11-30</span> until <span "
                                 "title='Mon, 30 Nov 2026 11:54:24 GMT - Sun, 30 Nov 2031 "
                                 "11:54:23 GMT' style='white-space: nowrap;'>2031-11-30</span>"
                                 "</td>"));
    opts.html = 0;
    text = md_status_mds_server_text(mds, &opts, p);
    ck_assert_ptr_nonnull(strstr(text, "ManagedDomain[0]ValidFrom: 2026-11-30\n"
                                 "ManagedDomain[0]ValidUntil: 2031-11-30\n"));
}
END_TEST

/* Rows rendered from cached entries are the rows rendered from their JSON,
 * at any time (before the certificate starts, while valid, expired) and with
 * other MDCertificateCheck options, also when the cache is reused. */
START_TEST(status_entries_server_text)
{
    apr_pool_t *p = md_test_pool;
    apr_array_header_t *entries = apr_array_make(p, 2, sizeof(md_status_entry_t *));
    apr_array_header_t *mds = apr_array_make(p, 2, sizeof(md_json_t *));
    md_status_text_opts_t opts = { 0, 0, NULL, NULL };
    md_status_entry_t *e;
    const char *cached;
    apr_time_t times[] = {
        apr_time_from_sec(1796039000),              /* before test1's not-before */
        T_STATUS,
        T_STATUS + apr_time_from_sec(6L * 366 * 86400),  /* expired */
    };
    const char *checks[][2] = { { NULL, NULL }, { "crt.sh", "https://crt.sh?q=" },
                                { "other", "https://other.example/?fp=" } };
    int t, h, c, round;

    ck_assert_int_eq(APR_SUCCESS, md_status_entry_make(&e, input_test6(), T_STATUS, p));
    APR_ARRAY_PUSH(entries, md_status_entry_t *) = e;
    APR_ARRAY_PUSH(mds, md_json_t *) = md_json_copy(p, md_status_entry_json(e));
    ck_assert_int_eq(APR_SUCCESS, md_status_entry_make(&e, input_test1(), T_STATUS, p));
    APR_ARRAY_PUSH(entries, md_status_entry_t *) = e;
    APR_ARRAY_PUSH(mds, md_json_t *) = md_json_copy(p, md_status_entry_json(e));
    for (t = 0; t < 3; ++t) {
        for (round = 0; round < 2; ++round) {
            for (c = 0; c < 3; ++c) {
                for (h = 0; h < 2; ++h) {
                    opts.now = times[t];
                    opts.html = h;
                    opts.cert_check_name = checks[c][0];
                    opts.cert_check_url = checks[c][1];
                    cached = md_status_entries_server_text(entries, &opts, p);
                    ck_assert_str_eq(md_status_mds_server_text(mds, &opts, p), cached);
                }
            }
        }
    }
    /* the clock moves the state and the validity text even when cached */
    opts.html = 0;
    opts.cert_check_name = opts.cert_check_url = NULL;
    opts.now = times[1];
    cached = md_status_entries_server_text(entries, &opts, p);
    ck_assert_msg(strstr(cached, "ManagedDomain[0]Status: good\n"), "%s", cached);
    opts.now = times[2];
    cached = md_status_entries_server_text(entries, &opts, p);
    ck_assert_msg(strstr(cached, "ManagedDomain[0]Status: expired\n"), "%s", cached);
}
END_TEST

START_TEST(status_input_load)
{
    apr_pool_t *p = md_test_pool;
    md_t *md = test_md("test6.mdspec.org", NULL, "https://localhost:44000/dir",
                       MD_S_INCOMPLETE, MD_RENEW_AUTO);
    apr_array_header_t *chain;
    md_status_input_t *in;
    md_status_entry_t *entry;
    md_store_t *store;
    md_reg_t *reg;
    md_job_t *job;

    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, p, md_test_mkdtemp(p)));
    ck_assert_int_eq(APR_SUCCESS, md_reg_create(&reg, p, store));

    /* nothing there yet */
    ck_assert_int_eq(APR_SUCCESS, md_status_input_load(&in, reg, md, T_STATUS, p));
    ck_assert_int_eq(1, in->slots->nelts);
    ck_assert_str_eq("rsa", APR_ARRAY_IDX(in->slots, 0, md_status_slot_t *)->name);
    ck_assert_ptr_null(APR_ARRAY_IDX(in->slots, 0, md_status_slot_t *)->cert);
    ck_assert_ptr_null(in->job);
    ck_assert_int_eq(1, in->renewal_due);
    ck_assert_int_eq(APR_SUCCESS, in->error);

    /* a finished staging job without md.json in staging counts as absent */
    job = job_from("test6.mdspec.org", JOB_STAGED);
    job->store = store;
    ck_assert_int_eq(APR_SUCCESS, md_job_save(job, p));
    ck_assert_int_eq(APR_SUCCESS, md_status_input_load(&in, reg, md, T_STATUS, p));
    ck_assert_ptr_null(in->job);

    /* a finished staging job with a staged certificate */
    ck_assert_int_eq(APR_SUCCESS, md_store_md_save(store, p, MD_SG_STAGING, md, 0));
    ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&chain, p, DATA("status-rsa2.pem")));
    ck_assert_int_eq(APR_SUCCESS, md_store_chain_save(store, p, MD_SG_STAGING, md->name,
                                                      md_pkeys_spec_get(md->pks, 0),
                                                      chain, 0));
    ck_assert_int_eq(APR_SUCCESS, md_status_input_load(&in, reg, md, T_STATUS, p));
    ck_assert_ptr_nonnull(in->job);
    ck_assert_int_eq(1, in->staged->nelts);
    ck_assert_str_eq("68E2BD85572DDD16",
                     APR_ARRAY_IDX(in->staged, 0, md_status_slot_t *)->cert->serial);
    ck_assert_int_eq(APR_SUCCESS, md_status_entry_make(&entry, in, T_STATUS, p));
    ck_assert_str_eq(read_text(DATA("expected-cert-status-staged.json"), p),
                     md_status_entry_cert_status_text(entry));
}
END_TEST

Suite *md_test_status_suite(void)
{
    Suite *s = suite_create("md_status");
    TCase *tc;

    tc = tcase_create("job");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, job_json_roundtrip, 0,
                        (int)(MD_ARRAY_LEN(job_files)));
    tcase_add_test(tc, job_json_without_log);
    tcase_add_test(tc, job_json_fresh);
    tcase_add_test(tc, job_log_limit);
    tcase_add_test(tc, job_log_entry_members);
    tcase_add_loop_test(tc, job_progress_text, 0,
                        (int)(MD_ARRAY_LEN(progress_cases)));
    tcase_add_test(tc, job_run_failed);
    tcase_add_test(tc, job_run_success);
    tcase_add_test(tc, job_save_throttle);
    tcase_add_test(tc, job_save_trailing);
    tcase_add_loop_test(tc, job_delay_on_errors, 0,
                        (int)(MD_ARRAY_LEN(delay_cases)));
    suite_add_tcase(s, tc);

    tc = tcase_create("event");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, event_argv);
    tcase_add_loop_test(tc, event_reasons, 0,
                        (int)(MD_ARRAY_LEN(reason_cases)));
    tcase_add_test(tc, event_rate_limit);
    tcase_add_test(tc, event_message_cmd);
    tcase_add_test(tc, event_message_fails);
    tcase_add_test(tc, event_cannot_run);
    tcase_add_test(tc, event_errored_last);
    tcase_add_test(tc, event_notify_cmd);
    tcase_add_test(tc, event_no_commands);
    suite_add_tcase(s, tc);

    tc = tcase_create("status");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, status_cert_facts);
    tcase_add_test(tc, status_renew_at);
    tcase_add_test(tc, status_md_json);
    tcase_add_test(tc, status_md_json_eab_error);
    tcase_add_test(tc, status_md_json_credentials);
    tcase_add_test(tc, status_mds_text);
    tcase_add_test(tc, status_cert_status);
    tcase_add_test(tc, status_cert_status_static);
    tcase_add_test(tc, status_cert_status_scts);
    tcase_add_test(tc, status_cert_status_scts_far);
    tcase_add_test(tc, status_ocsp_member);
    tcase_add_test(tc, status_stapling_json);
    tcase_add_test(tc, status_server_auto);
    tcase_add_test(tc, status_server_html);
    tcase_add_test(tc, status_stapling_job_lines);
    tcase_add_loop_test(tc, status_state_text, 0,
                        (int)(MD_ARRAY_LEN(state_cases)));
    tcase_add_test(tc, status_ca_names);
    tcase_add_test(tc, status_valid_from_future);
    tcase_add_test(tc, status_entries_server_text);
    tcase_add_test(tc, status_input_load);
    suite_add_tcase(s, tc);
    return s;
}
