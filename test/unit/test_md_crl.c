/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_crl.c: distribution points, judging CRLs (fixtures from
 * test/unit/data/make-crl-fixtures.sh), and the registry with a fake HTTP
 * server: fetch, keep the last good CRL, nextUpdate, revocation.
 */
#include <string.h>
#include <check.h>
#include <apr_strings.h>

#include "md.h"
#include "md_crl.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_time.h"
#include "md_util.h"
#include "md_unit.h"

#define CRL_PATH(name) apr_pstrcat(md_test_pool, MD_TEST_DATA "/crl/", name, NULL)
#define YEAR_2030 apr_time_from_sec(1893456000)   /* 2030-01-01 */

static md_data_t *crl_file(const char *name)
{
    return md_test_read_file(MD_TEST_DATA "/crl", name);
}

static md_cert_t *crl_cert(const char *name)
{
    md_cert_t *cert;

    ck_assert_int_eq(APR_SUCCESS, md_cert_fload(&cert, md_test_pool, CRL_PATH(name)));
    return cert;
}

START_TEST(test_crl_urls)
{
    apr_array_header_t *urls = md_crl_urls(crl_cert("leaf.pem"), md_test_pool);

    /* the ldap:// point is not ours to fetch */
    ck_assert_int_eq(1, urls->nelts);
    ck_assert_str_eq("http://127.0.0.1:9/ca.crl", APR_ARRAY_IDX(urls, 0, const char *));
    ck_assert_int_eq(0, md_crl_urls(crl_cert("nodp.pem"), md_test_pool)->nelts);
}
END_TEST

typedef struct {
    const char *crl;
    const char *leaf;
    apr_status_t rv;
    int revoked;
    const char *detail;         /* start of it */
} judge_case;

static const judge_case judge_cases[] = {
    { "crl-good.der", "leaf.pem", APR_SUCCESS, 0, NULL },
    { "crl-good.der", "leaf2.pem", APR_SUCCESS, 1, NULL },
    { "crl-revoked.der", "leaf.pem", APR_SUCCESS, 1, NULL },
    { "crl-revoked.pem", "leaf.pem", APR_SUCCESS, 1, NULL },
    { "crl-outdated.der", "leaf.pem", APR_EINVAL, 0, "CRL outdated (nextUpdate " },
    { "crl-future.der", "leaf.pem", APR_EINVAL, 0, "CRL not yet valid" },
    { "crl-other.der", "leaf.pem", APR_EINVAL, 0, "CRL of another issuer" },
    { "crl-forged.der", "leaf.pem", APR_EINVAL, 0,
      "CRL signature does not verify with the issuer's key" },
    { "leaf.pem", "leaf.pem", APR_EINVAL, 0, "not a CRL" },
};

START_TEST(test_crl_judge)
{
    const judge_case *c = &judge_cases[_i];
    md_data_t *d = crl_file(c->crl);
    md_crl_verdict_t v;
    const char *detail;

    ck_assert_int_eq(c->rv, md_crl_judge(&v, &detail, d->data, d->len, crl_cert(c->leaf),
                                         crl_cert("ca.pem"), YEAR_2030, md_test_pool));
    ck_assert_int_eq(c->revoked, v.revoked);
    if (c->detail) {
        ck_assert_ptr_nonnull(detail);
        ck_assert_msg(!strncmp(c->detail, detail, strlen(c->detail)), "%s", detail);
    }
    else {
        ck_assert_ptr_null(detail);
        ck_assert_str_eq("Mon, 01 Jan 2024 00:00:00 GMT",
                         md_time_rfc822(md_test_pool, v.this_update));
        ck_assert_str_eq("Sat, 01 Jan 2124 00:00:00 GMT",
                         md_time_rfc822(md_test_pool, v.next_update));
    }
    if (v.revoked && !strcmp("leaf.pem", c->leaf)) {
        ck_assert_str_eq("Sat, 01 Jun 2024 00:00:00 GMT",
                         md_time_rfc822(md_test_pool, v.revoked_at));
    }
}
END_TEST

START_TEST(test_crl_judge_size)
{
    md_crl_verdict_t v;
    const char *detail;
    char *big = apr_pcalloc(md_test_pool, MD_CRL_MAX_SIZE + 1);

    ck_assert_int_eq(APR_EINVAL, md_crl_judge(&v, &detail, big, MD_CRL_MAX_SIZE + 1,
                                              crl_cert("leaf.pem"), crl_cert("ca.pem"),
                                              YEAR_2030, md_test_pool));
    ck_assert_ptr_nonnull(strstr(detail, "bytes (at most"));
    /* outdated is relative to the time given */
    {
        md_data_t *d = crl_file("crl-outdated.der");

        ck_assert_int_eq(APR_SUCCESS, md_crl_judge(&v, &detail, d->data, d->len,
                                                   crl_cert("leaf.pem"),
                                                   crl_cert("ca.pem"),
                                                   apr_time_from_sec(1717200000),
                                                   md_test_pool));
    }
}
END_TEST

/* --- the registry with a fake HTTP server --------------------------------------------- */

static md_store_t *store;
static md_crl_reg_t *reg;

static void crl_setup(void)
{
    md_test_setup();
    md_test_http_use(MD_TEST_DATA "/crl", "crl-good.der");
    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, md_test_pool,
                                                   md_test_mkdtemp(md_test_pool)));
    ck_assert_int_eq(APR_SUCCESS, md_crl_reg_create(&reg, md_test_pool, store,
                                                    "Apache/2.4", NULL, NULL));
}

static void crl_teardown(void)
{
    md_test_http_unuse();
    md_test_teardown();
}

static md_json_t *state(const char *leaf)
{
    return md_crl_status_json(store, "example.org", crl_cert(leaf), md_test_pool);
}

START_TEST(test_reg_fetch_and_keep)
{
    apr_time_t next, now = YEAR_2030;
    md_json_t *json;

    ck_assert_int_eq(APR_ENOENT, md_crl_reg_add(reg, "example.org", crl_cert("nodp.pem"),
                                                crl_cert("ca.pem"), md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_crl_reg_add(reg, "example.org", crl_cert("leaf.pem"),
                                                 crl_cert("ca.pem"), md_test_pool));
    ck_assert_int_eq(1, md_crl_reg_count(reg));
    ck_assert_int_eq(APR_SUCCESS, md_crl_update(reg, now, &next, md_test_pool));
    ck_assert_int_eq(1, md_test_http.requests);
    ck_assert_str_eq("http://127.0.0.1:9/ca.crl", md_test_http.url);
    ck_assert(!md_crl_is_revoked(reg, "example.org"));
    /* a day later at the latest (nextUpdate is a century away) */
    ck_assert(next == now + apr_time_from_sec(MD_SECS_PER_DAY));
    json = state("leaf.pem");
    ck_assert_ptr_nonnull(json);
    ck_assert_str_eq("good", md_json_gets(json, "status", NULL));
    ck_assert_ptr_null(md_json_gets(json, "crl", NULL));      /* not in md-status */
    ck_assert_ptr_null(md_json_gets(json, "error", NULL));
    /* nothing due before then */
    ck_assert_int_eq(APR_SUCCESS, md_crl_update(reg, next - 1, &next, md_test_pool));
    ck_assert_int_eq(1, md_test_http.requests);
    /* then the server fails: the last good CRL stays, retried in an hour */
    md_test_http.body = NULL;
    ck_assert_int_eq(APR_SUCCESS, md_crl_update(reg, next, &next, md_test_pool));
    ck_assert_int_eq(2, md_test_http.requests);
    json = state("leaf.pem");
    ck_assert_str_eq("good", md_json_gets(json, "status", NULL));
    ck_assert_ptr_nonnull(strstr(md_json_gets(json, "error", NULL),
                                 "unable to get the CRL"));
    ck_assert(next == now + apr_time_from_sec(MD_SECS_PER_DAY + 3600));
    /* garbage is no CRL either */
    md_test_http.body = "leaf.pem";
    ck_assert_int_eq(APR_SUCCESS, md_crl_update(reg, next, &next, md_test_pool));
    ck_assert_ptr_nonnull(strstr(md_json_gets(state("leaf.pem"), "error", NULL),
                                 "not a CRL"));
    /* the CA revokes it */
    md_test_http.body = "crl-revoked.der";
    ck_assert_int_eq(APR_SUCCESS, md_crl_update(reg, next, &next, md_test_pool));
    ck_assert(md_crl_is_revoked(reg, "example.org"));
    ck_assert(!md_crl_is_revoked(reg, "other.org"));
    json = state("leaf.pem");
    ck_assert_str_eq("revoked", md_json_gets(json, "status", NULL));
    ck_assert_str_eq("Sat, 01 Jun 2024 00:00:00 GMT",
                     md_json_gets(json, "revoked-at", NULL));
    ck_assert_ptr_null(md_json_gets(json, "error", NULL));
}
END_TEST

/* A new registry (a restart) takes the stored CRL without fetching; an
 * outdated one is no longer good and fetched at once. */
START_TEST(test_reg_stored)
{
    md_crl_reg_t *again;
    apr_time_t next, now = YEAR_2030;

    md_test_http.body = "crl-revoked.der";
    md_crl_reg_add(reg, "example.org", crl_cert("leaf.pem"), crl_cert("ca.pem"),
                   md_test_pool);
    ck_assert_int_eq(APR_SUCCESS, md_crl_update(reg, now, &next, md_test_pool));
    ck_assert_int_eq(1, md_test_http.requests);
    ck_assert_int_eq(APR_SUCCESS, md_crl_reg_create(&again, md_test_pool, store,
                                                    "Apache/2.4", NULL, NULL));
    md_crl_reg_add(again, "example.org", crl_cert("leaf.pem"), crl_cert("ca.pem"),
                   md_test_pool);
    ck_assert_int_eq(APR_SUCCESS, md_crl_update(again, now + 60, &next, md_test_pool));
    ck_assert_int_eq(1, md_test_http.requests);
    ck_assert(md_crl_is_revoked(again, "example.org"));
    /* a server serving an outdated CRL: nothing good left */
    md_test_http.body = "crl-outdated.der";
    ck_assert_int_eq(APR_SUCCESS, md_crl_reg_create(&again, md_test_pool, store,
                                                    "Apache/2.4", NULL, NULL));
    md_crl_reg_add(again, "example.org", crl_cert("leaf2.pem"), crl_cert("ca.pem"),
                   md_test_pool);
    ck_assert_int_eq(APR_SUCCESS, md_crl_update(again, now, &next, md_test_pool));
    ck_assert_int_eq(2, md_test_http.requests);
    ck_assert(!md_crl_is_revoked(again, "example.org"));
    ck_assert_ptr_nonnull(strstr(md_json_gets(state("leaf2.pem"), "error", NULL),
                                 "CRL outdated"));
    ck_assert_ptr_null(md_json_gets(state("leaf2.pem"), "status", NULL));
    ck_assert(!md_crl_is_revoked(NULL, "example.org"));
}
END_TEST

Suite *md_test_crl_suite(void)
{
    Suite *s = suite_create("md_crl");
    TCase *tc = tcase_create("judge");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_crl_urls);
    tcase_add_loop_test(tc, test_crl_judge, 0,
                        MD_ARRAY_LEN(judge_cases));
    tcase_add_test(tc, test_crl_judge_size);
    suite_add_tcase(s, tc);
    tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, crl_setup, crl_teardown);
    tcase_add_test(tc, test_reg_fetch_and_keep);
    tcase_add_test(tc, test_reg_stored);
    suite_add_tcase(s, tc);
    return s;
}
