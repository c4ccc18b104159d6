/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_keyloss.c: which md_store.json counts as corrupt, the
 * timestamped set-aside name, and a store re-keyed after its md_store.json
 * was lost: accounts and staged/live sets encrypted with the old key set
 * aside (nothing deleted), domains/ untouched.
 */
#include <string.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include <apr_file_info.h>

#include "md.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_keyloss.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_util.h"
#include "md_unit.h"

static const char *path_of(const char *dir, const char *rel)
{
    return md_util_path_join(md_test_pool, dir, rel, NULL);
}

static void write_file(const char *path, const char *text)
{
    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(path, MD_FPROT_F_UONLY,
                                                   md_test_pool, text));
}

static int exists(const char *path)
{
    struct stat st;

    return 0 == lstat(path, &st);
}

static md_store_t *open_store(const char *dir)
{
    md_store_t *store;

    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, md_test_pool, dir));
    return store;
}

START_TEST(test_corrupt_classified)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = path_of(dir, MD_FN_STORE_JSON);
    static const struct {
        const char *text;
        int corrupt;
    } cases[] = {
        { "", 1 },                                      /* a power loss */
        { "{\"store\": {\"version\": 3}, \"key\": \"", 1 },
        { "[1, 2]", 1 },
        { "{\"store\": {\"version\": 3}}", 1 },         /* no key */
        { "{\"store\": {\"version\": 3}, \"key\": \"c2hvcnQ\"}", 1 },
        /* a newer store is not ours to replace */
        { "{\"store\": {\"version\": 99}, \"key\": \"x\"}", 0 },
    };
    int i;

    ck_assert_int_eq(0, md_keyloss_store_file_corrupt(fname, md_test_pool));
    for (i = 0; i < N(cases); ++i) {
        write_file(fname, cases[i].text);
        ck_assert_msg(cases[i].corrupt == md_keyloss_store_file_corrupt(fname, md_test_pool),
                      "case %d: %s", i, cases[i].text);
    }
    /* a good one, as the store writes it */
    apr_file_remove(fname, md_test_pool);
    open_store(dir);
    ck_assert_int_eq(0, md_keyloss_store_file_corrupt(fname, md_test_pool));
    /* a link is never renamed by root */
    apr_file_rename(fname, path_of(dir, "real.json"), md_test_pool);
    write_file(path_of(dir, "real.json"), "");
    ck_assert_int_eq(0, symlink("real.json", fname));
    ck_assert_int_eq(0, md_keyloss_store_file_corrupt(fname, md_test_pool));
}
END_TEST

START_TEST(test_set_aside_file)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = path_of(dir, MD_FN_STORE_JSON);
    const char *aside, *aside2, *data;
    apr_time_t now = apr_time_from_sec(1780000000);    /* 2026-05-28T20:26:40Z */
    apr_size_t len;

    write_file(fname, "garbage");
    ck_assert_int_eq(APR_SUCCESS, md_keyloss_set_aside_file(&aside, fname, now,
                                                            md_test_pool));
    ck_assert_str_eq(path_of(dir, "md_store.json.corrupt-20260528T202640Z"), aside);
    ck_assert(!exists(fname));
    ck_assert_int_eq(APR_SUCCESS, md_util_fread_all(&data, &len, aside, 100,
                                                    md_test_pool));
    ck_assert_str_eq("garbage", data);
    /* the same second again: a numbered name, the first one kept */
    write_file(fname, "more garbage");
    ck_assert_int_eq(APR_SUCCESS, md_keyloss_set_aside_file(&aside2, fname, now,
                                                            md_test_pool));
    ck_assert_str_eq(apr_pstrcat(md_test_pool, aside, ".1", NULL), aside2);
    ck_assert(exists(aside));
}
END_TEST

static void save_key(md_store_t *store, md_store_group_t group, const char *name,
                     const char *aspect, md_pkey_t *pkey)
{
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, group, name, aspect,
                                                MD_SV_PKEY, pkey, 0));
}

START_TEST(test_rekeyed_store)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = path_of(dir, MD_FN_STORE_JSON), *aside;
    md_pkey_t *pkey = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-256");
    apr_array_header_t *lines = apr_array_make(md_test_pool, 5, sizeof(const char *));
    md_store_t *store = open_store(dir);
    md_json_t *json = md_json_create(md_test_pool);
    void *value;

    md_json_sets("https://ca/acct/1", json, MD_KEY_URL, NULL);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_ACCOUNTS,
                                                     "ACME-ca-0000", MD_FN_ACCOUNT, json, 0));
    save_key(store, MD_SG_ACCOUNTS, "ACME-ca-0000", MD_FN_ACCT_KEY, pkey);
    save_key(store, MD_SG_STAGING, "a.test", MD_FN_PRIVKEY, pkey);
    save_key(store, MD_SG_STAGING, "b.test", "privkey.secp384r1.pem", pkey);
    save_key(store, MD_SG_LIVE, "a.test", MD_FN_PRIVKEY, pkey);
    save_key(store, MD_SG_DOMAINS, "a.test", MD_FN_PRIVKEY, pkey);
    /* staging without keys (an order in progress) stays */
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_STAGING,
                                                     "c.test", MD_FN_JOB, json, 0));
    /* an archived set from before: a.test.1 is taken */
    save_key(store, MD_SG_ARCHIVE, "a.test.1", MD_FN_PRIVKEY, pkey);

    /* nothing is lost while the key is the same */
    ck_assert_int_eq(0, md_keyloss_set_aside(store, lines, md_test_pool));
    ck_assert_int_eq(0, lines->nelts);

    write_file(fname, "");
    ck_assert_int_eq(1, md_keyloss_store_file_corrupt(fname, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_keyloss_set_aside_file(&aside, fname,
                                                            apr_time_now(), md_test_pool));
    store = open_store(dir);                            /* a new key */
    ck_assert_int_eq(4, md_keyloss_set_aside(store, lines, md_test_pool));
    ck_assert_int_eq(4, lines->nelts);
    ck_assert_str_eq("accounts/ACME-ca-0000 -> accounts/broken-ACME-ca-0000",
                     APR_ARRAY_IDX(lines, 0, const char *));
    ck_assert(exists(path_of(dir, "accounts/broken-ACME-ca-0000/account.pem")));
    ck_assert(exists(path_of(dir, "accounts/broken-ACME-ca-0000/account.json")));
    ck_assert(!exists(path_of(dir, "accounts/ACME-ca-0000")));
    ck_assert(exists(path_of(dir, "archive/a.test.2/privkey.pem")));
    ck_assert(exists(path_of(dir, "archive/b.test.1/privkey.secp384r1.pem")));
    ck_assert(exists(path_of(dir, "archive/a.test.3/privkey.pem")));   /* live/ */
    ck_assert(!exists(path_of(dir, "staging/a.test")));
    ck_assert(!exists(path_of(dir, "staging/b.test")));
    ck_assert(!exists(path_of(dir, "live/a.test")));
    ck_assert(exists(path_of(dir, "staging/c.test/job.json")));
    /* domains/ keys are plain: still readable, still there */
    ck_assert_int_eq(APR_SUCCESS, md_store_load(store, MD_SG_DOMAINS, "a.test",
                                                MD_FN_PRIVKEY, MD_SV_PKEY, &value,
                                                md_test_pool));
    /* a second run finds nothing more */
    ck_assert_int_eq(0, md_keyloss_set_aside(store, lines, md_test_pool));
}
END_TEST

Suite *md_test_keyloss_suite(void)
{
    Suite *s = suite_create("md_keyloss");
    TCase *tc = tcase_create("keyloss");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_corrupt_classified);
    tcase_add_test(tc, test_set_aside_file);
    tcase_add_test(tc, test_rekeyed_store);
    suite_add_tcase(s, tc);
    return s;
}
