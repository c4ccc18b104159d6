/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_ip.c: which names are addresses, their normal form,
 * the ACME identifier type, the reverse-DNS names of tls-alpn-01 in both
 * directions and the host part of a URL. Table driven.
 */
#include <string.h>
#include <apr_strings.h>

#include "md_ip.h"
#include "md_unit.h"

#define N_CASES(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* --- md_ip_normalize / md_ip_is_address ---------------------------------------- */

typedef struct {
    const char *written;
    const char *normal;     /* NULL: not an address */
    int zoned;
} norm_case_t;

static const norm_case_t norm_cases[] = {
    { "192.0.2.10", "192.0.2.10", 0 },
    { "127.0.0.1", "127.0.0.1", 0 },
    { "0.0.0.0", "0.0.0.0", 0 },
    { "2001:db8::10", "2001:db8::10", 0 },
    { "2001:DB8:0:0:0:0:0:10", "2001:db8::10", 0 },
    { "2001:0db8:0000:0000:0000:0000:0000:0010", "2001:db8::10", 0 },
    { "[2001:db8::10]", "2001:db8::10", 0 },
    { "::1", "::1", 0 },
    { "[::1]", "::1", 0 },
    { "fe80::1%eth0", "fe80::1", 1 },
    { "[fe80::1%25eth0]", "fe80::1", 1 },
    { "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", 0 },
    { "::ffff:192.0.2.1", "::ffff:192.0.2.1", 0 },
    { "fe80::1%", NULL, 0 },
    { "192.0.2", NULL, 0 },
    { "192.0.2.256", NULL, 0 },
    { "192.0.2.1.5", NULL, 0 },
    { "192.000.2.1", NULL, 0 },
    { "1.2.3.4.example.org", NULL, 0 },
    { "www.example.org", NULL, 0 },
    { "*.example.org", NULL, 0 },
    { "*.192.0.2.10", NULL, 0 },
    { "2001:db8::10::1", NULL, 0 },
    { "2001:db8::g", NULL, 0 },
    { "[2001:db8::10", NULL, 0 },
    { "[]", NULL, 0 },
    { "", NULL, 0 },
    { "localhost", NULL, 0 },
};

START_TEST(test_normalize)
{
    const norm_case_t *c = &norm_cases[_i];
    const char *ip = "unset";
    int zoned = -1;
    apr_status_t rv;

    rv = md_ip_normalize(&ip, &zoned, c->written, md_test_pool);
    if (c->normal) {
        ck_assert_msg(APR_SUCCESS == rv, "'%s': rv %d", c->written, rv);
        ck_assert_str_eq(ip, c->normal);
        ck_assert_int_eq(zoned, c->zoned);
        ck_assert(md_ip_is_address(c->written));
        ck_assert_str_eq(md_ip_ident_type(c->written), MD_IDENT_IP);
    }
    else {
        ck_assert_msg(APR_EINVAL == rv, "'%s': rv %d", c->written, rv);
        ck_assert_ptr_null(ip);
        ck_assert(!md_ip_is_address(c->written));
        ck_assert_str_eq(md_ip_ident_type(c->written), MD_IDENT_DNS);
    }
}
END_TEST

START_TEST(test_null)
{
    const char *ip;

    ck_assert(!md_ip_is_address(NULL));
    ck_assert_int_eq(md_ip_normalize(&ip, NULL, NULL, md_test_pool), APR_EINVAL);
    ck_assert_ptr_null(md_ip_reverse_name(NULL, md_test_pool));
    ck_assert_ptr_null(md_ip_reverse_name("www.example.org", md_test_pool));
    ck_assert_ptr_null(md_ip_from_reverse_name(NULL, md_test_pool));
    ck_assert_ptr_null(md_ip_first(NULL));
}
END_TEST

/* --- reverse-DNS names ---------------------------------------------------------- */

typedef struct {
    const char *ip;
    const char *reverse;
} rev_case_t;

static const rev_case_t rev_cases[] = {
    { "192.0.2.10", "10.2.0.192.in-addr.arpa" },
    { "127.0.0.1", "1.0.0.127.in-addr.arpa" },
    { "2001:db8::10",
      "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa" },
    { "::1",
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa" },
};

START_TEST(test_reverse)
{
    const rev_case_t *c = &rev_cases[_i];

    ck_assert_str_eq(md_ip_reverse_name(c->ip, md_test_pool), c->reverse);
    ck_assert_str_eq(md_ip_from_reverse_name(c->reverse, md_test_pool), c->ip);
    ck_assert_str_eq(md_ip_from_reverse_name(apr_pstrcat(md_test_pool, c->reverse, ".",
                                                         NULL), md_test_pool), c->ip);
}
END_TEST

START_TEST(test_reverse_case)
{
    ck_assert_str_eq(md_ip_from_reverse_name("10.2.0.192.IN-ADDR.ARPA", md_test_pool),
                     "192.0.2.10");
    ck_assert_str_eq(md_ip_from_reverse_name(
        "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.IP6.ARPA",
        md_test_pool), "2001:db8::10");
}
END_TEST

static const char *rev_bad[] = {
    "in-addr.arpa",
    ".in-addr.arpa",
    "2.0.192.in-addr.arpa",
    "1.10.2.0.192.in-addr.arpa",
    "10..0.192.in-addr.arpa",
    "256.2.0.192.in-addr.arpa",
    "x.2.0.192.in-addr.arpa",
    "10.2.0.192.in-addr.arpa.example.org",
    "1.0.0.0.ip6.arpa",
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.g.ip6.arpa",
    "10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
    "www.example.org",
    "192.0.2.10",
    "",
};

START_TEST(test_reverse_bad)
{
    ck_assert_msg(md_ip_from_reverse_name(rev_bad[_i], md_test_pool) == NULL,
                  "'%s' taken as a reverse name", rev_bad[_i]);
}
END_TEST

START_TEST(test_first)
{
    apr_array_header_t *names = apr_array_make(md_test_pool, 3, sizeof(const char *));

    APR_ARRAY_PUSH(names, const char *) = "www.example.org";
    ck_assert_ptr_null(md_ip_first(names));
    APR_ARRAY_PUSH(names, const char *) = "2001:db8::10";
    APR_ARRAY_PUSH(names, const char *) = "192.0.2.10";
    ck_assert_str_eq(md_ip_first(names), "2001:db8::10");
}
END_TEST

typedef struct {
    const char *host;
    const char *url_host;
} url_case_t;

static const url_case_t url_cases[] = {
    { "::1", "[::1]" },
    { "2001:db8::10", "[2001:db8::10]" },
    { "[2001:db8::10]", "[2001:db8::10]" },
    { "fe80::1%eth0", "[fe80::1%eth0]" },
    { "127.0.0.1", "127.0.0.1" },
    { "www.example.org", "www.example.org" },
    { "host:8080", "host:8080" },
    { "", "" },
};

START_TEST(test_url_host)
{
    const url_case_t *c = &url_cases[_i];

    ck_assert_str_eq(md_ip_url_host(c->host, md_test_pool), c->url_host);
}
END_TEST

START_TEST(test_url_host_null)
{
    ck_assert_ptr_null(md_ip_url_host(NULL, md_test_pool));
}
END_TEST

Suite *md_test_ip_suite(void)
{
    Suite *s = suite_create("md_ip");
    TCase *tc = tcase_create("ip");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, test_normalize, 0, N_CASES(norm_cases));
    tcase_add_test(tc, test_null);
    tcase_add_loop_test(tc, test_reverse, 0, N_CASES(rev_cases));
    tcase_add_test(tc, test_reverse_case);
    tcase_add_loop_test(tc, test_reverse_bad, 0, N_CASES(rev_bad));
    tcase_add_test(tc, test_first);
    tcase_add_loop_test(tc, test_url_host, 0, N_CASES(url_cases));
    tcase_add_test(tc, test_url_host_null);
    suite_add_tcase(s, tc);
    return s;
}
