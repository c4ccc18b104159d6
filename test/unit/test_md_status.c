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
#include "md_event.h"
#include "md_job.h"
#include "md_json.h"
#include "md_result.h"
#include "md_store.h"
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

START_TEST(job_save_throttle)
{
    apr_pool_t *p = md_test_pool;
    fake_clock clock = { T_BASE, 128 };
    md_store_t *store;
    md_job_t *job, *job2;
    md_result_t *result = md_result_md_make(p, "a.org");

    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, p, md_test_mkdtemp(p)));
    job = md_job_make(p, store, MD_SG_STAGING, "a.org", 0);
    md_job_set_clock(job, fake_now, fake_rand, &clock);
    job2 = md_job_make(p, store, MD_SG_STAGING, "a.org", 0);
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

    /* veto */
    result = md_result_md_make(p, "a.org");
    ck_assert_int_eq(APR_EAGAIN, md_job_notify(job, "renewing", result));
    ck_assert_int_eq(1, job->error_runs);
    ck_assert(job->next_run == T_BASE + apr_time_from_sec(30));

    /* checked: counts as error */
    ck_assert_int_eq(APR_EGENERAL, md_job_notify(job, "expiring", result));
    ck_assert_int_eq(2, job->error_runs);
    ck_assert_int_eq(0, job->notified);

    /* challenge setup: failure returned, not counted */
    ck_assert_int_eq(APR_EGENERAL, md_job_notify(job, "challenge-setup:dns-01:a.org",
                                                 result));
    ck_assert_int_eq(2, job->error_runs);
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

    job->events = md_event_make(p, "/nonexistent/md-msg arg", NULL);
    rv = md_job_notify(job, "renewing", result);
    ck_assert_int_ne(APR_SUCCESS, rv);
    ck_assert_int_ne(APR_EAGAIN, rv);       /* an error, not a veto */
    ck_assert_str_eq("MDMessageCmd /nonexistent/md-msg arg failed with exit code -1.",
                     result->detail);
    ck_assert_int_eq(1, job->error_runs);
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

Suite *md_test_status_suite(void)
{
    Suite *s = suite_create("md_status");
    TCase *tc;

    tc = tcase_create("job");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, job_json_roundtrip, 0,
                        (int)(sizeof(job_files) / sizeof(job_files[0])));
    tcase_add_test(tc, job_json_without_log);
    tcase_add_test(tc, job_json_fresh);
    tcase_add_test(tc, job_log_limit);
    tcase_add_test(tc, job_log_entry_members);
    tcase_add_loop_test(tc, job_progress_text, 0,
                        (int)(sizeof(progress_cases) / sizeof(progress_cases[0])));
    tcase_add_test(tc, job_run_failed);
    tcase_add_test(tc, job_run_success);
    tcase_add_test(tc, job_save_throttle);
    tcase_add_loop_test(tc, job_delay_on_errors, 0,
                        (int)(sizeof(delay_cases) / sizeof(delay_cases[0])));
    suite_add_tcase(s, tc);

    tc = tcase_create("event");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, event_argv);
    tcase_add_loop_test(tc, event_reasons, 0,
                        (int)(sizeof(reason_cases) / sizeof(reason_cases[0])));
    tcase_add_test(tc, event_rate_limit);
    tcase_add_test(tc, event_message_cmd);
    tcase_add_test(tc, event_message_fails);
    tcase_add_test(tc, event_cannot_run);
    tcase_add_test(tc, event_notify_cmd);
    tcase_add_test(tc, event_no_commands);
    suite_add_tcase(s, tc);
    return s;
}
