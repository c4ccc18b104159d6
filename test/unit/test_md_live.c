/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_live.c: the checks a set passes before it is served,
 * staging -> live/ and back to staging at the next start. The fixtures of
 * test_md_crypto.c (a CA and a leaf for example.org, valid from 2026-11-30
 * for 100 years) are checked at times derived from their own dates.
 */
#include <string.h>
#include <check.h>
#include <apr_strings.h>

#include "md.h"
#include "md_crypto.h"
#include "md_live.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_time.h"
#include "md_util.h"
#include "md_unit.h"

#define DAY         apr_time_from_sec(MD_SECS_PER_DAY)
#define DATA(f)     apr_pstrcat(md_test_pool, MD_TEST_DATA "/", (f), NULL)

static md_t *example_md(const char *extra)
{
    apr_array_header_t *domains = apr_array_make(md_test_pool, 6, sizeof(const char *));

    /* the names of crypto-leaf1.pem */
    APR_ARRAY_PUSH(domains, const char *) = "example.org";
    APR_ARRAY_PUSH(domains, const char *) = "www.example.org";
    APR_ARRAY_PUSH(domains, const char *) = "*.wild.example.org";
    APR_ARRAY_PUSH(domains, const char *) = "192.0.2.7";
    APR_ARRAY_PUSH(domains, const char *) = "2001:db8::1";
    if (extra) {
        APR_ARRAY_PUSH(domains, const char *) = extra;
    }
    return md_create(md_test_pool, domains);
}

static md_pkey_t *key_of(const char *fname)
{
    md_pkey_t *pkey;

    ck_assert_int_eq(APR_SUCCESS, md_pkey_fload(&pkey, md_test_pool, NULL, 0, DATA(fname)));
    return pkey;
}

static apr_array_header_t *chain_of(const char *leaf, const char *issuer)
{
    apr_array_header_t *chain, *next;

    ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&chain, md_test_pool, DATA(leaf)));
    if (issuer) {
        ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&next, md_test_pool, DATA(issuer)));
        apr_array_cat(chain, next);
    }
    return chain;
}

static apr_array_header_t *one(void *elt)
{
    apr_array_header_t *a = apr_array_make(md_test_pool, 1, sizeof(void *));

    APR_ARRAY_PUSH(a, void *) = elt;
    return a;
}

/* The leaf fixture's notBefore. */
static apr_time_t leaf_from(void)
{
    apr_array_header_t *chain = chain_of("crypto-leaf1.pem", NULL);

    return md_cert_get_not_before(APR_ARRAY_IDX(chain, 0, md_cert_t *));
}

static apr_status_t check(const md_t *md, md_pkey_t *pkey, apr_array_header_t *chain,
                          apr_time_t now, const char **perr)
{
    return md_live_check(md, one(pkey), one(chain), now, perr, md_test_pool);
}

START_TEST(test_live_check)
{
    md_pkey_t *rsa = key_of("crypto-rsa-trad.key"), *ec = key_of("crypto-ec-trad.key");
    apr_array_header_t *good = chain_of("crypto-leaf1.pem", "crypto-ca.pem");
    apr_time_t from = leaf_from(), now = from + DAY;
    const char *err;

    ck_assert_msg(APR_SUCCESS == check(example_md(NULL), rsa, good, now, &err), "%s", err);
    ck_assert_ptr_null(err);
    /* a chain of the leaf alone has nothing to check the issuer against */
    ck_assert_int_eq(APR_SUCCESS, check(example_md(NULL), rsa,
                                        chain_of("crypto-leaf1.pem", NULL), now, &err));
    ck_assert_int_eq(APR_EINVAL, check(example_md(NULL), ec, good, now, &err));
    ck_assert_ptr_nonnull(strstr(err, "private key does not match"));
    ck_assert_int_eq(APR_EINVAL, check(example_md("other.org"), rsa, good, now, &err));
    ck_assert_ptr_nonnull(strstr(err, "does not cover 'other.org'"));
    ck_assert_int_eq(APR_EINVAL, check(example_md(NULL), rsa,
                                       chain_of("crypto-leaf1.pem", "crypto-leaf2.pem"),
                                       now, &err));
    ck_assert_ptr_nonnull(strstr(err, "not signed by the next certificate"));
    /* valid now: a CA clock a minute ahead is fine, a day is not; expired is not */
    ck_assert_int_eq(APR_SUCCESS, check(example_md(NULL), rsa, good,
                                        from - apr_time_from_sec(60), &err));
    ck_assert_int_eq(APR_EINVAL, check(example_md(NULL), rsa, good, from - DAY, &err));
    ck_assert_ptr_nonnull(strstr(err, "is not valid yet"));
    ck_assert_int_eq(APR_EINVAL, check(example_md(NULL), rsa, good,
                                       from + apr_time_from_sec(101LL * 365 * 86400), &err));
    ck_assert_ptr_nonnull(strstr(err, "expired on"));
    /* a key for every key type */
    ck_assert_int_eq(APR_EINVAL, md_live_check(
        example_md(NULL), apr_array_make(md_test_pool, 0, sizeof(void *)),
        apr_array_make(md_test_pool, 0, sizeof(void *)), now, &err, md_test_pool));
}
END_TEST

/* --- staging -> live -> staging ----------------------------------------------------- */

static md_store_t *store;
static md_t *md;

static void live_setup(void)
{
    md_test_setup();
    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, md_test_pool,
                                                   md_test_mkdtemp(md_test_pool)));
    md = example_md(NULL);
    md->ca_effective = "https://ca.test/dir";
}

static void put_set(md_store_group_t group, const char *leaf, const char *issuer)
{
    md_pkey_spec_t *spec = md_pkeys_spec_get(md->pks, 0);

    ck_assert_int_eq(APR_SUCCESS, md_store_md_save(store, md_test_pool, group, md, 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_pkey_save(store, md_test_pool, group, md->name,
                                                     spec, key_of("crypto-rsa-trad.key"),
                                                     0));
    ck_assert_int_eq(APR_SUCCESS, md_store_chain_save(store, md_test_pool, group, md->name,
                                                      spec, chain_of(leaf, issuer), 0));
}

START_TEST(test_live_publish_and_load)
{
    apr_time_t now = leaf_from() + DAY;
    md_live_set_t *set;
    const char *err;

    /* nothing staged */
    ck_assert_int_eq(APR_ENOENT, md_live_publish(store, md, now, &err, md_test_pool));
    ck_assert_int_eq(APR_ENOENT, md_live_load(&set, store, md, now, &err, md_test_pool));
    put_set(MD_SG_STAGING, "crypto-leaf1.pem", "crypto-ca.pem");
    ck_assert(!md_live_is_staged(store, md, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_live_publish(store, md, now, &err, md_test_pool));
    ck_assert(md_live_is_staged(store, md, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_LIVE, md->name, "md.json", md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_LIVE, "example.org~", NULL, md_test_pool));
    /* once only */
    ck_assert_int_eq(APR_EEXIST, md_live_publish(store, md, now, &err, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_live_load(&set, store, md, now, &err, md_test_pool));
    ck_assert_str_eq("249CC7FFC64154B5", md_live_serial(set, md_test_pool));
    ck_assert_int_eq(1, md_live_chains(set)->nelts);
    /* checked again when loaded: a swapped certificate is never served */
    put_set(MD_SG_LIVE, "crypto-leaf2.pem", "crypto-ca.pem");
    ck_assert_int_eq(APR_EINVAL, md_live_load(&set, store, md, now, &err, md_test_pool));
    ck_assert_ptr_null(set);
    ck_assert_ptr_nonnull(strstr(err, "does not match"));
}
END_TEST

START_TEST(test_live_publish_refuses_a_bad_set)
{
    apr_time_t now = leaf_from() + DAY;
    const char *err;

    put_set(MD_SG_STAGING, "crypto-leaf1.pem", "crypto-leaf2.pem");
    ck_assert_int_eq(APR_EINVAL, md_live_publish(store, md, now, &err, md_test_pool));
    ck_assert_ptr_nonnull(strstr(err, "not signed by"));
    ck_assert(!md_store_exists(store, MD_SG_LIVE, md->name, NULL, md_test_pool));
}
END_TEST

START_TEST(test_live_restage)
{
    apr_time_t now = leaf_from() + DAY;
    apr_array_header_t *chain;
    const char *err;

    /* staging still holds the live set: the activation promotes it */
    put_set(MD_SG_STAGING, "crypto-leaf1.pem", "crypto-ca.pem");
    ck_assert_int_eq(APR_SUCCESS, md_live_publish(store, md, now, &err, md_test_pool));
    ck_assert_int_eq(0, md_live_restage(store, md, now, md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_LIVE, md->name, NULL, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_STAGING, md->name, "pubcert.pem", md_test_pool));
    /* a later renewal had begun in staging: the live set goes back there */
    ck_assert_int_eq(APR_SUCCESS, md_live_publish(store, md, now, &err, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_purge(store, md_test_pool, MD_SG_STAGING,
                                                 md->name));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_STAGING, md->name,
                                                "order.json", MD_SV_TEXT, "{}", 1));
    md_test_log_start(MD_LOG_DEBUG);
    ck_assert_int_eq(1, md_live_restage(store, md, now, md_test_pool));
    md_test_log_stop();
    ck_assert_msg(strstr(md_test_log_text(), apr_psprintf(md_test_pool, "AH10906: %s: the "
                         "live set goes back to staging for activation", md->name)),
                  "log: %s", md_test_log_text());
    ck_assert(!md_store_exists(store, MD_SG_LIVE, md->name, NULL, md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_STAGING, md->name, "order.json", md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_chain_load(store, MD_SG_STAGING, md->name,
                                                      md_pkeys_spec_get(md->pks, 0), &chain,
                                                      md_test_pool));
    ck_assert_str_eq("249CC7FFC64154B5",
                     md_cert_get_serial_number(APR_ARRAY_IDX(chain, 0, md_cert_t *),
                                               md_test_pool));
    /* domains/ holds a newer (here: the same) certificate: nothing to restage */
    put_set(MD_SG_DOMAINS, "crypto-leaf1.pem", "crypto-ca.pem");
    ck_assert_int_eq(APR_SUCCESS, md_live_publish(store, md, now, &err, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_purge(store, md_test_pool, MD_SG_STAGING,
                                                 md->name));
    ck_assert_int_eq(0, md_live_restage(store, md, now, md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_STAGING, md->name, NULL, md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_LIVE, md->name, NULL, md_test_pool));
}
END_TEST

Suite *md_test_live_suite(void)
{
    Suite *s = suite_create("md_live");
    TCase *tc = tcase_create("check");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_live_check);
    suite_add_tcase(s, tc);
    tc = tcase_create("store");
    tcase_add_checked_fixture(tc, live_setup, md_test_teardown);
    tcase_add_test(tc, test_live_publish_and_load);
    tcase_add_test(tc, test_live_publish_refuses_a_bad_set);
    tcase_add_test(tc, test_live_restage);
    suite_add_tcase(s, tc);
    return s;
}
