/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_time.c: duration and timeslice parsing, their written
 * and human forms, window computation and RFC 822 dates. Table driven.
 */
#include <string.h>
#include <apr_strings.h>

#include "md_time.h"
#include "md_unit.h"

#define SEC(n)  apr_time_from_sec(n)
#define MIN(n)  SEC((apr_int64_t)(n) * 60)
#define HOUR(n) SEC((apr_int64_t)(n) * 3600)
#define DAY(n)  SEC((apr_int64_t)(n) * 86400)

/* --- md_duration_parse --------------------------------------------------- */

typedef struct {
    const char *value;
    const char *def_unit;
    apr_status_t rv;
    apr_interval_time_t expected;
} duration_case_t;

static const duration_case_t duration_cases[] = {
    { "30", "s", APR_SUCCESS, SEC(30) },
    { "30", "d", APR_SUCCESS, DAY(30) },
    { "30", NULL, APR_SUCCESS, SEC(30) },
    { "12h", "s", APR_SUCCESS, HOUR(12) },
    { "12H", "s", APR_SUCCESS, HOUR(12) },
    { "90mi", "d", APR_SUCCESS, MIN(90) },
    { "3mins", "d", APR_SUCCESS, MIN(3) },
    { "500ms", "s", APR_SUCCESS, 500000 },
    { "10days", "s", APR_SUCCESS, DAY(10) },
    { "5hours", "s", APR_SUCCESS, HOUR(5) },
    { "10s", "d", APR_SUCCESS, SEC(10) },
    { "-5", "s", APR_SUCCESS, SEC(-5) },
    { "+5", "s", APR_SUCCESS, SEC(5) },
    { "-2d", "s", APR_SUCCESS, DAY(-2) },
    { "0", "s", APR_SUCCESS, 0 },
    { "5m", "s", APR_EINVAL, 0 },
    { "1y", "d", APR_EINVAL, 0 },
    { "3x", "d", APR_EINVAL, 0 },
    { "xyz", "s", APR_EINVAL, 0 },
    { "", "s", APR_EINVAL, 0 },
    { "d", "s", APR_EINVAL, 0 },
    { "-", "s", APR_EINVAL, 0 },
    { "10 d", "s", APR_EINVAL, 0 },
    { " 10", "s", APR_EINVAL, 0 },
    { "dec-31", "d", APR_EINVAL, 0 },
    { "99999999999999999999", "s", APR_EINVAL, 0 },
    { "9999999999999", "d", APR_ERANGE, 0 },
    { "-9999999999999", "d", APR_ERANGE, 0 },
};

START_TEST(test_duration_parse)
{
    const duration_case_t *c = &duration_cases[_i];
    apr_interval_time_t d = 4711;
    apr_status_t rv;

    rv = md_duration_parse(&d, c->value, c->def_unit);
    ck_assert_msg(rv == c->rv, "'%s': rv %d, expected %d", c->value, rv, c->rv);
    ck_assert_msg(d == c->expected, "'%s': %" APR_INT64_T_FMT, c->value, d);
}
END_TEST

START_TEST(test_duration_parse_null)
{
    apr_interval_time_t d = 1;

    ck_assert_int_eq(md_duration_parse(&d, NULL, "s"), APR_EINVAL);
    ck_assert(d == 0);
}
END_TEST

/* --- formats ------------------------------------------------------------------- */

typedef struct {
    apr_interval_time_t d;
    const char *written;
    const char *human;
    const char *roughly;
} format_case_t;

static const format_case_t format_cases[] = {
    { DAY(30), "30d", "30 days", "~30 days" },
    { HOUR(12), "12h", "12 hours", "~12 hours" },
    { MIN(90), "90mi", "1 hours 30 minutes", "~1 hours" },
    { SEC(10), "10s", "10 seconds", "~10 seconds" },
    { 500000, "500ms", "500 ms", "500 ms" },
    { 0, "0d", "0 seconds", "0 ms" },
    { DAY(1) + HOUR(2) + MIN(3) + SEC(4), "93784s",
      "1 days 2 hours 3 minutes 4 seconds", "~1 days" },
    { DAY(2) + SEC(5), "172805s", "2 days 5 seconds", "~2 days" },
    { SEC(28) + 300000, "28300ms", "28 seconds", "~28 seconds" },
    { DAY(-3), "-3d", "-3 days", "~3 days" },
};

START_TEST(test_duration_formats)
{
    const format_case_t *c = &format_cases[_i];
    apr_pool_t *p = md_test_pool;

    ck_assert_str_eq(md_duration_format(p, c->d), c->written);
    ck_assert_str_eq(md_duration_print(p, c->d), c->human);
    ck_assert_str_eq(md_duration_roughly(p, c->d), c->roughly);
}
END_TEST

/* --- timeslices ---------------------------------------------------------------- */

typedef struct {
    const char *value;
    apr_interval_time_t norm;
    const char *err;            /* NULL: success */
    apr_interval_time_t ts_norm;
    apr_interval_time_t ts_len;
    const char *written;
} ts_case_t;

static const ts_case_t ts_cases[] = {
    { "33%", DAY(100), NULL, DAY(100), DAY(33), "33%" },
    { "10%", DAY(100), NULL, DAY(100), DAY(10), "10%" },
    { "0%", DAY(100), NULL, DAY(100), 0, "0%" },
    { "100%", DAY(100), NULL, DAY(100), DAY(100), "100%" },
    { "102%", DAY(100), NULL, DAY(100), DAY(102), "102%" },
    { "50%", DAY(7), NULL, DAY(7), SEC(302400), "50%" },
    { "30", DAY(100), NULL, 0, DAY(30), "30d" },
    { "30d", DAY(100), NULL, 0, DAY(30), "30d" },
    { "12h", DAY(100), NULL, 0, HOUR(12), "12h" },
    { "90mi", DAY(100), NULL, 0, MIN(90), "90mi" },
    { "10s", DAY(100), NULL, 0, SEC(10), "10s" },
    { "500ms", DAY(100), NULL, 0, 500000, "500ms" },
    { "7d", DAY(7), NULL, 0, DAY(7), "7d" },
    { "-5%", DAY(100), "percent must be less than 100", 0, 0, NULL },
    { "dec-31", DAY(100), "has unrecognized format", 0, 0, NULL },
    { "1y", DAY(100), "has unrecognized format", 0, 0, NULL },
    { "2y", DAY(7), "has unrecognized format", 0, 0, NULL },
    { "%", DAY(100), "has unrecognized format", 0, 0, NULL },
    { "5%x", DAY(100), "has unrecognized format", 0, 0, NULL },
    { "", DAY(100), "has unrecognized format", 0, 0, NULL },
};

START_TEST(test_timeslice_parse)
{
    const ts_case_t *c = &ts_cases[_i];
    md_timeslice_t *ts = NULL;
    const char *err;

    err = md_timeslice_parse(&ts, md_test_pool, c->value, c->norm);
    if (c->err) {
        ck_assert_msg(err && !strcmp(err, c->err), "'%s': %s", c->value,
                      err? err : "(null)");
        ck_assert(ts == NULL);
        return;
    }
    ck_assert_msg(err == NULL, "'%s': %s", c->value, err);
    ck_assert(ts != NULL);
    ck_assert_msg(ts->norm == c->ts_norm, "'%s' norm", c->value);
    ck_assert_msg(ts->len == c->ts_len, "'%s' len %" APR_INT64_T_FMT, c->value,
                  ts->len);
    ck_assert_str_eq(md_timeslice_format(ts, md_test_pool), c->written);
}
END_TEST

START_TEST(test_timeslice_huge_percent)
{
    md_timeslice_t *ts = NULL;

    ck_assert(md_timeslice_parse(&ts, md_test_pool, "99999999999999%", DAY(100))
              == NULL);
    ck_assert(ts->len >= ts->norm);
    ck_assert(md_timeslice_parse(&ts, md_test_pool, NULL, DAY(100)) != NULL);
}
END_TEST

typedef struct {
    const char *window;
    apr_interval_time_t lifetime;
    apr_interval_time_t before_end;  /* until - start */
} start_case_t;

static const start_case_t start_cases[] = {
    { "33%", DAY(90), SEC(2566080) },           /* 29.7 days */
    { "33%", DAY(100), DAY(33) },
    { "10%", DAY(90), DAY(9) },
    { "10%", SEC(7), 0 },                      /* 0.7 s truncated */
    { "50%", SEC(7) + 900000, SEC(3) },        /* whole seconds only */
    { "0%", DAY(90), 0 },
    { "30d", DAY(90), DAY(30) },
    { "30d", DAY(10), DAY(30) },               /* absolute: as is */
    { "33%", 0, 0 },
    { "33%", DAY(-5), 0 },                     /* inverted validity */
};

START_TEST(test_timeslice_start)
{
    const start_case_t *c = &start_cases[_i];
    md_timeslice_t *ts = NULL;
    apr_time_t from = apr_time_from_sec(1700000000);
    apr_time_t until = from + c->lifetime;

    ck_assert(md_timeslice_parse(&ts, md_test_pool, c->window, DAY(100)) == NULL);
    ck_assert_msg(md_timeslice_start(ts, from, until) == until - c->before_end,
                  "%s of %" APR_INT64_T_FMT ": %" APR_INT64_T_FMT, c->window,
                  c->lifetime, until - md_timeslice_start(ts, from, until));
}
END_TEST

START_TEST(test_timeslice_eq)
{
    md_timeslice_t *a = md_timeslice_make(md_test_pool, DAY(100), DAY(33));
    md_timeslice_t *b = md_timeslice_make(md_test_pool, DAY(100), DAY(33));
    md_timeslice_t *c = md_timeslice_make(md_test_pool, 0, DAY(33));

    ck_assert(md_timeslice_eq(a, b));
    ck_assert(!md_timeslice_eq(a, c));
    ck_assert(!md_timeslice_eq(a, NULL));
    ck_assert(md_timeslice_eq(NULL, NULL));
}
END_TEST

/* --- periods and dates ------------------------------------------------------------ */

START_TEST(test_period)
{
    md_timeperiod_t period, slice;
    md_timeslice_t *ts = md_timeslice_make(md_test_pool, DAY(100), DAY(50));

    period.start = apr_time_from_sec(1000);
    period.end = period.start + DAY(10);
    ck_assert(md_timeperiod_length(&period) == DAY(10));
    ck_assert(md_timeperiod_contains(&period, period.start));
    ck_assert(!md_timeperiod_contains(&period, period.end));
    slice = md_timeperiod_slice_before_end(&period, ts);
    ck_assert(slice.end == period.end);
    ck_assert(slice.start == period.start + DAY(5));
}
END_TEST

START_TEST(test_rfc822)
{
    apr_time_t t = apr_time_from_sec(1796039664);     /* 2026-11-30 11:54:24 */
    const char *s = md_time_rfc822(md_test_pool, t);

    ck_assert_str_eq(s, "Mon, 30 Nov 2026 11:54:24 GMT");
    ck_assert(md_time_parse_rfc(s) == t);
    ck_assert(md_time_parse_rfc("Mon, 30 Nov 2026 11:54:24 +0000") == t);
    ck_assert(md_time_parse_rfc("not a date") == 0);
    ck_assert(md_time_parse_rfc(NULL) == 0);
    ck_assert_str_eq(md_time_rfc822(md_test_pool, 0), "");
}
END_TEST

#define N_CASES(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *md_test_time_suite(void)
{
    Suite *s = suite_create("md_time");
    TCase *tc = tcase_create("time");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, test_duration_parse, 0, N_CASES(duration_cases));
    tcase_add_test(tc, test_duration_parse_null);
    tcase_add_loop_test(tc, test_duration_formats, 0, N_CASES(format_cases));
    tcase_add_loop_test(tc, test_timeslice_parse, 0, N_CASES(ts_cases));
    tcase_add_test(tc, test_timeslice_huge_percent);
    tcase_add_loop_test(tc, test_timeslice_start, 0, N_CASES(start_cases));
    tcase_add_test(tc, test_timeslice_eq);
    tcase_add_test(tc, test_period);
    tcase_add_test(tc, test_rfc822);
    suite_add_tcase(s, tc);
    return s;
}
