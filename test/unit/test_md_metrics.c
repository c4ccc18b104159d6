/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_metrics.c: the md-metrics text from md-status <md>
 * objects and counters, in both formats.
 */
#include <string.h>
#include <check.h>
#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_metrics.h"
#include "md_time.h"
#include "md_unit.h"

/* Mon, 30 Nov 2026 11:57:57 GMT */
#define T_NOW       apr_time_from_sec(1796039877)

/* a complete MD with stapling and ARI, one renewed and waiting, one failing */
static const char *const MD_COMPLETE =
    "{\"name\": \"a.example.org\", \"state\": 2, \"watched\": true,"
    " \"ca\": {\"url\": \"https://ca.test/dir\"},"
    " \"cert\": {\"rsa\": {\"valid\": {\"from\": \"Mon, 30 Nov 2026 11:54:24 GMT\","
    "   \"until\": \"Sun, 30 Nov 2031 11:54:23 GMT\"},"
    "   \"ocsp\": {\"status\": \"good\", \"valid\": {\"from\": \"Mon, 30 Nov 2026 11:00:00 GMT\","
    "   \"until\": \"Tue, 01 Dec 2026 11:00:00 GMT\"}}},"
    "  \"valid\": {\"from\": \"Mon, 30 Nov 2026 11:54:24 GMT\","
    "   \"until\": \"Sun, 30 Nov 2031 11:54:23 GMT\"}},"
    " \"renew-at\": \"Sat, 06 Apr 2030 21:59:12 GMT\","
    " \"ari\": {\"window\": {\"start\": \"Mon, 01 Apr 2030 00:00:00 GMT\","
    "   \"end\": \"Tue, 02 Apr 2030 00:00:00 GMT\"}}}";
static const char *const MD_STAGED =
    "{\"name\": \"b\\\"q.example.org\", \"state\": 1, \"watched\": true,"
    " \"ca\": {\"urls\": [\"https://ca.test/dir\"]}, \"cert\": {},"
    " \"renew-at\": \"Mon, 30 Nov 2026 11:57:57 GMT\", \"renew\": true,"
    " \"renewal\": {\"finished\": true, \"errors\": 0,"
    "   \"valid-from\": \"Mon, 30 Nov 2026 11:00:49 GMT\", \"last\": {\"status\": 0}}}";
static const char *const MD_FAILING =
    "{\"name\": \"c.example.org\", \"state\": 1, \"watched\": false, \"cert\": {},"
    " \"renew\": true, \"renewal\": {\"finished\": false, \"errors\": 3,"
    "   \"last\": {\"status\": 22, \"problem\": \"urn:ietf:params:acme:error:dns\"}}}";

static apr_array_header_t *mds(void)
{
    apr_array_header_t *a = apr_array_make(md_test_pool, 3, sizeof(md_json_t *));
    const char *texts[] = { MD_COMPLETE, MD_STAGED, MD_FAILING };
    md_json_t *json;
    size_t i;

    for (i = 0; i < MD_ARRAY_LEN(texts); ++i) {
        ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, texts[i],
                                                    strlen(texts[i])));
        APR_ARRAY_PUSH(a, md_json_t *) = json;
    }
    return a;
}

/* Asserts that the line occurs in text (whole line). */
static void has_line(const char *text, const char *line)
{
    const char *needle = apr_pstrcat(md_test_pool, "\n", line, "\n", NULL);
    const char *hay = apr_pstrcat(md_test_pool, "\n", text, NULL);

    ck_assert_msg(strstr(hay, needle) != NULL, "missing line '%s' in:\n%s", line, text);
}

static void lacks(const char *text, const char *part)
{
    ck_assert_msg(strstr(text, part) == NULL, "unexpected '%s' in:\n%s", part, text);
}

START_TEST(test_metrics_openmetrics)
{
    md_metrics_counters_t c = { 4, 2, 7500, 1 };
    const char *text = md_metrics_text(mds(), &c, T_NOW, 1, md_test_pool);
    apr_size_t len = strlen(text);

    /* families once, with the samples of all MDs together */
    has_line(text, "# TYPE mod_md_certificate_not_after_seconds gauge");
    has_line(text, "# UNIT mod_md_certificate_not_after_seconds seconds");
    has_line(text, "mod_md_certificate_not_after_seconds{md=\"a.example.org\",key=\"rsa\"} "
                   "1953806063");
    has_line(text, "mod_md_certificate_not_before_seconds{md=\"a.example.org\",key=\"rsa\"} "
                   "1796039664");
    has_line(text, "mod_md_renew_at_seconds{md=\"a.example.org\"} 1901743152");
    has_line(text, "mod_md_ari_window_start_seconds{md=\"a.example.org\"} 1901232000");
    has_line(text, "mod_md_ari_window_end_seconds{md=\"a.example.org\"} 1901318400");
    has_line(text, "mod_md_ocsp_valid_until_seconds{md=\"a.example.org\",key=\"rsa\"} "
                   "1796122800");
    has_line(text, "mod_md_ocsp_revoked{md=\"a.example.org\",key=\"rsa\"} 0");
    has_line(text, "mod_md_domain_state{md=\"a.example.org\"} 2");
    has_line(text, "mod_md_domain_watched{md=\"c.example.org\"} 0");
    has_line(text, "# TYPE mod_md_ca info");
    has_line(text, "mod_md_ca_info{md=\"a.example.org\",url=\"https://ca.test/dir\"} 1");
    /* the name is escaped; the first configured CA stands in */
    has_line(text, "mod_md_ca_info{md=\"b\\\"q.example.org\",url=\"https://ca.test/dir\"} 1");
    /* renewals: waiting for activation since valid-from, failing */
    has_line(text, "mod_md_renewal_staged_age_seconds{md=\"b\\\"q.example.org\"} 3428");
    has_line(text, "mod_md_renewal_errors{md=\"c.example.org\"} 3");
    has_line(text, "mod_md_renewal_errors{md=\"a.example.org\"} 0");
    has_line(text, "mod_md_renewal_last_success{md=\"b\\\"q.example.org\"} 1");
    has_line(text, "mod_md_renewal_last_success{md=\"c.example.org\"} 0");
    lacks(text, "mod_md_renewal_last_success{md=\"a.example.org\"}");
    lacks(text, "mod_md_renewal_staged_age_seconds{md=\"c.example.org\"}");
    /* server-wide */
    has_line(text, "mod_md_managed_domains 3");
    has_line(text, "# TYPE mod_md_orders counter");
    has_line(text, "mod_md_orders_total{result=\"ok\"} 4");
    has_line(text, "mod_md_orders_total{result=\"failed\"} 2");
    has_line(text, "mod_md_order_duration_seconds_sum 7.500");
    has_line(text, "mod_md_order_duration_seconds_count 6");
    has_line(text, "mod_md_store_lock_failures_total 1");
    ck_assert_str_eq("# EOF\n", text + len - 6);
}
END_TEST

START_TEST(test_metrics_prometheus_text)
{
    const char *text = md_metrics_text(mds(), NULL, T_NOW, 0, md_test_pool);

    /* the older format: sample names in TYPE, no info type, no units, no EOF */
    has_line(text, "# TYPE mod_md_ca_info gauge");
    has_line(text, "mod_md_ca_info{md=\"a.example.org\",url=\"https://ca.test/dir\"} 1");
    lacks(text, "# UNIT");
    lacks(text, "# EOF");
    /* without counters: only the number of MDs */
    has_line(text, "mod_md_managed_domains 3");
    lacks(text, "mod_md_orders");
}
END_TEST

START_TEST(test_metrics_url_credentials)
{
    apr_array_header_t *a = apr_array_make(md_test_pool, 1, sizeof(md_json_t *));
    const char *in = "{\"name\": \"a.example.org\", \"state\": 2,"
                     " \"ca\": {\"url\": \"https://u:s3cr3t@ca.test/dir\"}}";
    md_json_t *json;
    const char *text;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, in, strlen(in)));
    APR_ARRAY_PUSH(a, md_json_t *) = json;
    text = md_metrics_text(a, NULL, T_NOW, 1, md_test_pool);
    lacks(text, "s3cr3t");
    ck_assert_ptr_nonnull(strstr(text, "url=\"https://u:***@ca.test/dir\""));
}
END_TEST

START_TEST(test_metrics_no_mds)
{
    apr_array_header_t *none = apr_array_make(md_test_pool, 0, sizeof(md_json_t *));
    const char *text = md_metrics_text(none, NULL, T_NOW, 1, md_test_pool);

    has_line(text, "mod_md_managed_domains 0");
    has_line(text, "# TYPE mod_md_domain_state gauge");
    lacks(text, "md=");
}
END_TEST

Suite *md_test_metrics_suite(void)
{
    Suite *s = suite_create("md_metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_metrics_openmetrics);
    tcase_add_test(tc, test_metrics_prometheus_text);
    tcase_add_test(tc, test_metrics_no_mds);
    tcase_add_test(tc, test_metrics_url_credentials);
    suite_add_tcase(s, tc);
    return s;
}
