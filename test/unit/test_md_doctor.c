/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The server-less judgements of a2md doctor (md_doctor.c): store modes,
 * renewal jobs, the clock, CAA records; the probes and look-ups are in
 * test/e2e/test_750_doctor.py.
 */
#include <string.h>
#include <check.h>
#include <apr_strings.h>

#include "md.h"
#include "md_doctor.h"
#include "md_json.h"
#include "md_time.h"
#include "md_unit.h"

/* --- the verdict model ----------------------------------------------------------- */

START_TEST(test_checks_to_json)
{
    apr_array_header_t *checks = apr_array_make(md_test_pool, 2,
                                                sizeof(md_doctor_check_t));
    md_doctor_check_t *c;
    md_json_t *json;

    c = md_doctor_add(checks, "dns.name", "a.org", MD_DOCTOR_OK, "fine", NULL);
    ck_assert(!md_doctor_any_failed(checks));
    json = md_doctor_to_json(c, md_test_pool);
    ck_assert_str_eq(md_json_writep(json, md_test_pool, MD_JSON_FMT_COMPACT),
                     "{\"id\":\"dns.name\",\"subject\":\"a.org\",\"verdict\":\"ok\","
                     "\"detail\":\"fine\"}");
    c = md_doctor_add(checks, "ca.clock", NULL, MD_DOCTOR_SKIPPED, "no CA", "wait");
    ck_assert(!md_doctor_any_failed(checks));
    json = md_doctor_to_json(c, md_test_pool);
    ck_assert_str_eq(md_json_writep(json, md_test_pool, MD_JSON_FMT_COMPACT),
                     "{\"id\":\"ca.clock\",\"verdict\":\"skipped\",\"detail\":\"no CA\","
                     "\"fix\":\"wait\"}");
    md_doctor_add(checks, "x", NULL, MD_DOCTOR_WARN, "", NULL);
    ck_assert(!md_doctor_any_failed(checks));
    md_doctor_add(checks, "y", NULL, MD_DOCTOR_FAIL, "", NULL);
    ck_assert(md_doctor_any_failed(checks));
    ck_assert_str_eq(md_doctor_verdict_name(MD_DOCTOR_WARN), "warn");
    ck_assert_str_eq(md_doctor_verdict_name(MD_DOCTOR_FAIL), "fail");
}
END_TEST

/* --- store modes ----------------------------------------------------------------- */

static const struct {
    const char *relpath;
    md_store_group_t group;
    int is_dir;
    unsigned int mode;
    long uid, group_uid;
    md_doctor_verdict_t verdict;
    const char *fix;                /* expected fix, NULL: none */
} mode_cases[] = {
    { "md_store.json", MD_SG_NONE, 0, 0600, 0, -1, MD_DOCTOR_OK, NULL },
    { "md_store.json", MD_SG_NONE, 0, 0644, 0, -1, MD_DOCTOR_FAIL, "chmod 600 /s/x" },
    { "domains/a.org/privkey.pem", MD_SG_DOMAINS, 0, 0600, 0, 0, MD_DOCTOR_OK, NULL },
    { "domains/a.org/privkey.pem", MD_SG_DOMAINS, 0, 0640, 0, 0, MD_DOCTOR_FAIL,
      "chmod 600 /s/x" },
    { "domains/a.org/privkey.secp384r1.pem", MD_SG_DOMAINS, 0, 0604, 0, 0,
      MD_DOCTOR_FAIL, "chmod 600 /s/x" },
    { "domains/a.org/pubcert.pem", MD_SG_DOMAINS, 0, 0644, 0, 0, MD_DOCTOR_OK, NULL },
    { "domains/a.org", MD_SG_DOMAINS, 1, 0700, 0, 0, MD_DOCTOR_OK, NULL },
    { "domains", MD_SG_DOMAINS, 1, 0755, 0, 0, MD_DOCTOR_WARN, "chmod 700 /s/x" },
    { "archive/a.org.1/privkey.pem", MD_SG_ARCHIVE, 0, 0644, 0, 0, MD_DOCTOR_FAIL,
      "chmod 600 /s/x" },
    /* staging and account keys are encrypted with the store key */
    { "staging/a.org/privkey.pem", MD_SG_STAGING, 0, 0644, 33, 33, MD_DOCTOR_OK, NULL },
    { "accounts/ACME-x-0000/account.pem", MD_SG_ACCOUNTS, 0, 0644, 0, 0,
      MD_DOCTOR_OK, NULL },
    { "staging/a.org/job.json", MD_SG_STAGING, 0, 0644, 0, 33, MD_DOCTOR_FAIL,
      "chown -R 33 /s/x" },
    { "challenges/a.org", MD_SG_CHALLENGES, 1, 0755, 33, 33, MD_DOCTOR_OK, NULL },
    { "ocsp/a.org/job.json", MD_SG_OCSP, 0, 0444, 33, 33, MD_DOCTOR_FAIL,
      "chmod u+w /s/x" },
    { "challenges/a.org/acme-tls-alpn-01-privkey.pem", MD_SG_CHALLENGES, 0, 0644, 33,
      33, MD_DOCTOR_FAIL, "chmod 600 /s/x" },
    { "domains/a.org/md.json", MD_SG_DOMAINS, 0, 0200, 0, 0, MD_DOCTOR_FAIL,
      "chmod u+r /s/x" },
    { "tmp/a.org", MD_SG_TMP, 1, 0600, 0, 0, MD_DOCTOR_FAIL, "chmod u+rx /s/x" },
};

START_TEST(test_judge_mode)
{
    const char *why, *fix;
    md_doctor_verdict_t v;

    v = md_doctor_judge_mode(&why, &fix, mode_cases[_i].relpath, "/s/x",
                             mode_cases[_i].group, mode_cases[_i].is_dir,
                             mode_cases[_i].mode, mode_cases[_i].uid,
                             mode_cases[_i].group_uid, md_test_pool);
    ck_assert_msg(v == mode_cases[_i].verdict, "%s %04o: %d (%s)",
                  mode_cases[_i].relpath, mode_cases[_i].mode, v, why ? why : "");
    if (mode_cases[_i].fix) {
        ck_assert_str_eq(fix, mode_cases[_i].fix);
        ck_assert_ptr_nonnull(why);
    }
    else {
        ck_assert_ptr_null(fix);
        ck_assert_ptr_null(why);
    }
}
END_TEST

/* --- jobs and the clock ------------------------------------------------------------ */

static md_json_t *job_json(const char *text)
{
    md_json_t *json = NULL;

    ck_assert_int_eq(md_json_readd(&json, md_test_pool, text, strlen(text)),
                     APR_SUCCESS);
    return json;
}

START_TEST(test_judge_job)
{
    apr_time_t now = md_time_parse_rfc("Mon, 30 Nov 2026 11:00:00 GMT");
    md_doctor_check_t *c;

    ck_assert_ptr_null(md_doctor_judge_job("a.org", NULL, 0, now, md_test_pool));
    c = md_doctor_judge_job("a.org", job_json(
        "{\"name\":\"a.org\",\"finished\":false,\"errors\":3,"
        "\"next-run\":\"Mon, 30 Nov 2026 12:00:00 GMT\","
        "\"last\":{\"status\":11,\"problem\":\"urn:ietf:params:acme:error:rateLimited\","
        "\"detail\":\"too many orders\"}}"), 1, now, md_test_pool);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->id, "renew.backoff");
    ck_assert_str_eq(c->subject, "a.org");
    ck_assert_int_eq(c->verdict, MD_DOCTOR_FAIL);
    ck_assert_str_eq(c->detail, "3 failed renewal runs, next run Mon, 30 Nov 2026 "
                     "12:00:00 GMT; last: too many orders, problem: "
                     "urn:ietf:params:acme:error:rateLimited");
    ck_assert_ptr_nonnull(strstr(c->fix, "rate"));
    c = md_doctor_judge_job("a.org", job_json(
        "{\"errors\":1,\"last\":{\"problem\":\"urn:ietf:params:acme:error:connection\"}}"),
        0, now, md_test_pool);
    ck_assert_ptr_nonnull(strstr(c->detail, "1 failed renewal run, next run due now"));
    ck_assert_ptr_nonnull(strstr(c->fix, "challenge checks"));
    c = md_doctor_judge_job("a.org", job_json(
        "{\"finished\":true,\"valid-from\":\"Mon, 30 Nov 2026 10:00:00 GMT\"}"), 1, now,
        md_test_pool);
    ck_assert_str_eq(c->id, "renew.staged");
    ck_assert_int_eq(c->verdict, MD_DOCTOR_WARN);
    ck_assert_str_eq(c->detail, "a renewed set waits in staging/a.org, valid from "
                     "Mon, 30 Nov 2026 10:00:00 GMT");
    /* finished, but staging holds nothing: activated already */
    ck_assert_ptr_null(md_doctor_judge_job("a.org", job_json("{\"finished\":true}"), 0,
                                           now, md_test_pool));
}
END_TEST

START_TEST(test_judge_clock)
{
    ck_assert_int_eq(md_doctor_judge_clock(0), MD_DOCTOR_OK);
    ck_assert_int_eq(md_doctor_judge_clock(apr_time_from_sec(29)), MD_DOCTOR_OK);
    ck_assert_int_eq(md_doctor_judge_clock(-apr_time_from_sec(30)), MD_DOCTOR_WARN);
    ck_assert_int_eq(md_doctor_judge_clock(apr_time_from_sec(299)), MD_DOCTOR_WARN);
    ck_assert_int_eq(md_doctor_judge_clock(-apr_time_from_sec(3600)), MD_DOCTOR_FAIL);
}
END_TEST

/* --- CAA ------------------------------------------------------------------------------ */

START_TEST(test_caa_parse)
{
    static const unsigned char rec[] = "\x80\x05IsSuEletsencrypt.org";
    md_caa_rr_t rr;

    ck_assert_int_eq(md_caa_parse(&rr, rec, sizeof(rec) - 1, md_test_pool),
                     APR_SUCCESS);
    ck_assert(rr.critical);
    ck_assert_str_eq(rr.tag, "issue");
    ck_assert_str_eq(rr.value, "letsencrypt.org");
    ck_assert_int_eq(md_caa_parse(&rr, (const unsigned char *)"\x00\x05iss", 5,
                                  md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_caa_parse(&rr, (const unsigned char *)"\x00\x00", 2,
                                  md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_caa_parse(&rr, (const unsigned char *)"\x00", 1,
                                  md_test_pool), APR_EINVAL);
    ck_assert_int_eq(md_caa_parse(&rr, (const unsigned char *)"\x00\x05issue", 7,
                                  md_test_pool), APR_SUCCESS);
    ck_assert_str_eq(rr.value, "");
}
END_TEST

static apr_array_header_t *rrs_of(const char *const *spec)
{
    apr_array_header_t *rrs = apr_array_make(md_test_pool, 4, sizeof(md_caa_rr_t));
    md_caa_rr_t *rr;

    for (; spec && spec[0]; spec += 2) {
        rr = apr_array_push(rrs);
        rr->critical = (spec[0][0] == '!');
        rr->tag = spec[0] + (rr->critical ? 1 : 0);
        rr->value = spec[1];
    }
    return rrs;
}

static const struct {
    const char *domain;
    const char *records[9];         /* tag, value pairs; "!tag": critical */
    const char *ids;                /* comma separated, NULL: unknown */
    md_doctor_verdict_t verdict;
} caa_cases[] = {
    { "a.org", { NULL }, "ca.org", MD_DOCTOR_OK },
    { "a.org", { NULL }, NULL, MD_DOCTOR_OK },
    { "a.org", { "issue", "ca.org", NULL }, "ca.org", MD_DOCTOR_OK },
    { "a.org", { "issue", " ca.org ; validationmethods=http-01", NULL }, "x.org,ca.org",
      MD_DOCTOR_OK },
    { "a.org", { "issue", "other.org", "issue", "ca.org", NULL }, "ca.org",
      MD_DOCTOR_OK },
    { "a.org", { "issue", "other.org", NULL }, "ca.org", MD_DOCTOR_FAIL },
    { "a.org", { "issue", ";", NULL }, "ca.org", MD_DOCTOR_FAIL },
    { "a.org", { "issue", "other.org", NULL }, NULL, MD_DOCTOR_SKIPPED },
    { "a.org", { "iodef", "mailto:x@a.org", NULL }, "ca.org", MD_DOCTOR_OK },
    { "a.org", { "!tbs", "x", "issue", "ca.org", NULL }, "ca.org", MD_DOCTOR_FAIL },
    { "a.org", { "tbs", "x", "issue", "ca.org", NULL }, "ca.org", MD_DOCTOR_OK },
    /* issuewild governs wildcards when present, issue the rest */
    { "*.a.org", { "issue", "ca.org", "issuewild", "other.org", NULL }, "ca.org",
      MD_DOCTOR_FAIL },
    { "a.org", { "issue", "ca.org", "issuewild", "other.org", NULL }, "ca.org",
      MD_DOCTOR_OK },
    { "*.a.org", { "issue", "ca.org", NULL }, "ca.org", MD_DOCTOR_OK },
    { "*.a.org", { "issue", "other.org", "issuewild", "ca.org", NULL }, "ca.org",
      MD_DOCTOR_OK },
};

START_TEST(test_caa_judge)
{
    apr_array_header_t *ids = NULL;
    const char *why;
    md_doctor_verdict_t v;
    char *list, *tok, *last;

    if (caa_cases[_i].ids) {
        ids = apr_array_make(md_test_pool, 2, sizeof(const char *));
        list = apr_pstrdup(md_test_pool, caa_cases[_i].ids);
        for (tok = apr_strtok(list, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
            APR_ARRAY_PUSH(ids, const char *) = tok;
        }
    }
    v = md_caa_judge(&why, rrs_of(caa_cases[_i].records), caa_cases[_i].domain, ids,
                     md_test_pool);
    ck_assert_msg(v == caa_cases[_i].verdict, "case %d: %d (%s)", _i, v,
                  why ? why : "");
    ck_assert(MD_DOCTOR_OK == v ? why == NULL : why != NULL);
}
END_TEST

START_TEST(test_caa_judge_says_why)
{
    static const char *const recs[] = { "issue", "other.org", NULL };
    apr_array_header_t *ids = apr_array_make(md_test_pool, 1, sizeof(const char *));
    const char *why;

    APR_ARRAY_PUSH(ids, const char *) = "ca.org";
    ck_assert_int_eq(md_caa_judge(&why, rrs_of(recs), "a.org", ids, md_test_pool),
                     MD_DOCTOR_FAIL);
    ck_assert_str_eq(why, "the CAA 'issue' records allow other.org, the CA is ca.org");
}
END_TEST

START_TEST(test_loopback)
{
    ck_assert(md_doctor_is_loopback("127.0.0.1"));
    ck_assert(md_doctor_is_loopback("127.1.2.3"));
    ck_assert(md_doctor_is_loopback("::1"));
    ck_assert(!md_doctor_is_loopback("10.0.0.1"));
    ck_assert(!md_doctor_is_loopback("fe80::1"));
    ck_assert(!md_doctor_is_loopback("a.org"));
}
END_TEST

START_TEST(test_local_addrs)
{
    apr_array_header_t *addrs;

    ck_assert_int_eq(md_doctor_local_addrs(&addrs, md_test_pool), APR_SUCCESS);
    ck_assert_int_ge(md_array_str_index(addrs, "127.0.0.1", 0, 0), 0);
    ck_assert_int_ge(md_array_str_index(addrs, "::1", 0, 0), 0);
}
END_TEST

START_TEST(test_resolve_numeric)
{
    apr_array_header_t *addrs;

    /* getaddrinfo takes numeric hosts without asking anyone */
    ck_assert_int_eq(md_doctor_resolve(&addrs, "127.0.0.2", NULL, md_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(addrs->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(addrs, 0, const char *), "127.0.0.2");
    /* a DNS server that is not one: nobody answers */
    ck_assert_int_eq(md_doctor_resolve(&addrs, "a.org", "not-an-address", md_test_pool),
                     APR_EINVAL);
}
END_TEST

Suite *md_test_doctor_suite(void)
{
    Suite *s = suite_create("md_doctor");
    TCase *tc = tcase_create("doctor");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_checks_to_json);
    tcase_add_loop_test(tc, test_judge_mode, 0, N(mode_cases));
    tcase_add_test(tc, test_judge_job);
    tcase_add_test(tc, test_judge_clock);
    tcase_add_test(tc, test_caa_parse);
    tcase_add_loop_test(tc, test_caa_judge, 0, N(caa_cases));
    tcase_add_test(tc, test_caa_judge_says_why);
    tcase_add_test(tc, test_loopback);
    tcase_add_test(tc, test_local_addrs);
    tcase_add_test(tc, test_resolve_numeric);
    suite_add_tcase(s, tc);
    return s;
}
