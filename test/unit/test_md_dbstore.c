/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests of md_dbstore.c that need no database: the lease decision,
 * which set is newer, which aspects are keys, the row format of values
 * (keys re-encrypted with the cluster key between two stores) and the
 * driver lookup.
 */
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_crypto.h"
#include "md_dbstore.h"
#include "md_store.h"
#include "md_unit.h"

#define SEC(n)  apr_time_from_sec(n)

static const struct {
    const char *holder;     /* NULL: no row */
    apr_time_t expires;
    const char *me;
    apr_time_t now;
    int may;
} lease_cases[] = {
    { NULL, 0, "a/1", SEC(100), 1 },                /* no lease yet */
    { "", 0, "a/1", SEC(100), 1 },                  /* released */
    { "b/2", SEC(200), "a/1", SEC(100), 0 },        /* another node holds it */
    { "b/2", SEC(100), "a/1", SEC(100), 1 },        /* runs out at now */
    { "b/2", SEC(99), "a/1", SEC(100), 1 },         /* ran out: taken over */
    { "a/1", SEC(200), "a/1", SEC(100), 1 },        /* our own */
    { "a/2", SEC(200), "a/1", SEC(100), 0 },        /* same node, other process */
};

START_TEST(test_lease_may_take)
{
    md_dbstore_lease_t cur;

    cur.holder = lease_cases[_i].holder;
    cur.token = 7;
    cur.expires = lease_cases[_i].expires;
    ck_assert_int_eq(lease_cases[_i].may,
                     md_dbstore_lease_may_take(&cur, lease_cases[_i].me,
                                               lease_cases[_i].now));
}
END_TEST

START_TEST(test_set_is_newer)
{
    /* newer than what we serve and not expired */
    ck_assert(md_dbstore_set_is_newer(SEC(300), SEC(200), SEC(100)));
    ck_assert(md_dbstore_set_is_newer(SEC(300), 0, SEC(100)));
    /* the set we have already, an older one, an expired one, none */
    ck_assert(!md_dbstore_set_is_newer(SEC(200), SEC(200), SEC(100)));
    ck_assert(!md_dbstore_set_is_newer(SEC(150), SEC(200), SEC(100)));
    ck_assert(!md_dbstore_set_is_newer(SEC(90), 0, SEC(100)));
    ck_assert(!md_dbstore_set_is_newer(0, 0, SEC(100)));
}
END_TEST

START_TEST(test_lease_extend_due)
{
    /* a third of a 60 s lease: every 20 s of a renewal that makes progress */
    ck_assert(!md_dbstore_lease_extend_due(SEC(100), SEC(60), SEC(100)));
    ck_assert(!md_dbstore_lease_extend_due(SEC(100), SEC(60), SEC(119)));
    ck_assert(md_dbstore_lease_extend_due(SEC(100), SEC(60), SEC(120)));
    ck_assert(md_dbstore_lease_extend_due(SEC(100), SEC(60), SEC(500)));
    /* a clock that went back: extend rather than trust the difference */
    ck_assert(md_dbstore_lease_extend_due(SEC(100), SEC(60), SEC(50)));
}
END_TEST

static const struct {
    const char *aspect;
    int key;
} key_cases[] = {
    { "privkey.pem", 1 }, { "privkey.secp384r1.pem", 1 }, { "account.pem", 1 },
    { "acme-tls-alpn-01-privkey.pem", 1 }, { "acme-tls-alpn-01-privkey.rsa.pem", 1 },
    { "fallback-privkey.pem", 1 },
    { "pubcert.pem", 0 }, { "md.json", 0 }, { "account.json", 0 },
    { "acme-http-01.txt", 0 }, { "acme-tls-alpn-01-pubcert.pem", 0 }, { "", 0 },
};

START_TEST(test_aspect_is_key)
{
    ck_assert_int_eq(key_cases[_i].key, md_dbstore_aspect_is_key(key_cases[_i].aspect));
}
END_TEST

static const char KEK[] = "0123456789abcdef0123456789abcdef";

static md_store_t *new_store(void)
{
    md_store_t *store;

    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, md_test_pool,
                                                   md_test_mkdtemp(md_test_pool)));
    return store;
}

/* A key travels from one store to another (each with its own store key)
 * through its row text, which is encrypted with the cluster key only. */
START_TEST(test_key_roundtrip)
{
    md_store_t *a = new_store(), *b = new_store();
    md_pkey_t *key = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-256"), *got;
    const char *text, *pem_in, *pem_out;

    ck_assert_int_eq(APR_SUCCESS, md_store_save(a, md_test_pool, MD_SG_STAGING, "x.org",
                                                MD_FN_PRIVKEY, MD_SV_PKEY, key, 0));
    ck_assert_int_eq(APR_SUCCESS, md_dbstore_encode(&text, a, MD_SG_STAGING, "x.org",
                                                    MD_FN_PRIVKEY, KEK, sizeof(KEK) - 1,
                                                    md_test_pool));
    ck_assert_ptr_nonnull(strstr(text, "ENCRYPTED PRIVATE KEY"));
    ck_assert_int_eq(APR_SUCCESS, md_dbstore_decode(b, MD_SG_STAGING, "x.org",
                                                    MD_FN_PRIVKEY, text, KEK,
                                                    sizeof(KEK) - 1, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_load(b, MD_SG_STAGING, "x.org", MD_FN_PRIVKEY,
                                                MD_SV_PKEY, (void **)&got,
                                                md_test_pool));
    md_pkey_to_pem(&pem_in, key, md_test_pool, NULL, 0);
    md_pkey_to_pem(&pem_out, got, md_test_pool, NULL, 0);
    ck_assert_str_eq(pem_in, pem_out);
    /* another cluster key does not open it, and nothing is saved */
    ck_assert_int_eq(APR_EINVAL, md_dbstore_decode(b, MD_SG_STAGING, "y.org",
                                                   MD_FN_PRIVKEY, text, "wrong key bytes!",
                                                   16, md_test_pool));
    ck_assert(!md_store_exists(b, MD_SG_STAGING, "y.org", MD_FN_PRIVKEY, md_test_pool));
    /* no cluster key, no key rows */
    ck_assert_int_eq(APR_EINVAL, md_dbstore_encode(&text, a, MD_SG_STAGING, "x.org",
                                                   MD_FN_PRIVKEY, NULL, 0, md_test_pool));
}
END_TEST

/* Other values are their text, unchanged. */
START_TEST(test_text_roundtrip)
{
    md_store_t *a = new_store(), *b = new_store();
    const char *value = "{\"name\": \"x.org\"}\n", *text, *got;

    ck_assert_int_eq(APR_SUCCESS, md_store_save(a, md_test_pool, MD_SG_STAGING, "x.org",
                                                MD_FN_MD, MD_SV_TEXT, (void *)value, 0));
    ck_assert_int_eq(APR_SUCCESS, md_dbstore_encode(&text, a, MD_SG_STAGING, "x.org",
                                                    MD_FN_MD, NULL, 0, md_test_pool));
    ck_assert_str_eq(value, text);
    ck_assert_int_eq(APR_SUCCESS, md_dbstore_decode(b, MD_SG_CHALLENGES, "x.org",
                                                    "acme-http-01.txt", text, NULL, 0,
                                                    md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_load(b, MD_SG_CHALLENGES, "x.org",
                                                "acme-http-01.txt", MD_SV_TEXT,
                                                (void **)&got, md_test_pool));
    ck_assert_str_eq(value, got);
    ck_assert_int_eq(APR_ENOENT, md_dbstore_encode(&text, a, MD_SG_STAGING, "x.org",
                                                   "none.json", NULL, 0, md_test_pool));
}
END_TEST

/* An unknown driver is named in the error; creating never connects. */
START_TEST(test_create)
{
    md_dbstore_t *db;
    const char *err;

    ck_assert_int_ne(APR_SUCCESS, md_dbstore_create(&db, "nosuchdriver", "", KEK, 16,
                                                    "a/1", SEC(60), &err, md_test_pool));
    ck_assert_ptr_null(db);
    ck_assert_ptr_nonnull(strstr(err, "'nosuchdriver'"));
}
END_TEST

Suite *md_test_dbstore_suite(void)
{
    Suite *s = suite_create("md_dbstore");
    TCase *tc = tcase_create("dbstore");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, test_lease_may_take, 0, N(lease_cases));
    tcase_add_test(tc, test_set_is_newer);
    tcase_add_test(tc, test_lease_extend_due);
    tcase_add_loop_test(tc, test_aspect_is_key, 0, N(key_cases));
    tcase_add_test(tc, test_key_roundtrip);
    tcase_add_test(tc, test_text_roundtrip);
    tcase_add_test(tc, test_create);
    suite_add_tcase(s, tc);
    return s;
}
