/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_json.c: key paths, arrays, the store's serialisation
 * (2-space indent, insertion order, no trailing newline) and bounded reads.
 */
#include <limits.h>
#include <string.h>
#include <apr_strings.h>

#include "md_json.h"
#include "md_util.h"
#include "md_unit.h"

START_TEST(test_paths)
{
    md_json_t *j = md_json_create(md_test_pool), *sub;
    apr_array_header_t *a = apr_array_make(md_test_pool, 2, sizeof(const char *));

    md_json_sets("v", j, "a", "b", "c", NULL);
    md_json_setl(42, j, "a", "n", NULL);
    md_json_setb(1, j, "flag", NULL);
    ck_assert_str_eq("v", md_json_gets(j, "a", "b", "c", NULL));
    ck_assert_int_eq(42, md_json_getl(j, "a", "n", NULL));
    ck_assert(md_json_getb(j, "flag", NULL));
    ck_assert_ptr_null(md_json_gets(j, "a", "n", NULL));        /* wrong type */
    ck_assert_ptr_null(md_json_gets(j, "x", "y", NULL));        /* missing */
    ck_assert(md_json_has_key(j, "a", "b", NULL));
    ck_assert(md_json_is(MD_JSON_TYPE_OBJECT, j, "a", NULL));
    /* a string in the way of a path is not overwritten */
    ck_assert_int_ne(APR_SUCCESS, md_json_sets("z", j, "a", "b", "c", "d", NULL));
    sub = md_json_getj(j, "a", NULL);
    md_json_del(sub, "n", NULL);
    ck_assert(!md_json_has_key(j, "a", "n", NULL));
    md_json_adds("x", j, "list", NULL);
    md_json_adds("y", j, "list", NULL);
    ck_assert_uint_eq(2, md_json_array_size(j, "list", NULL));
    md_json_getsa(a, j, "list", NULL);
    ck_assert_str_eq("y", APR_ARRAY_IDX(a, 1, const char *));
    md_json_limita(1, j, "list", NULL);
    ck_assert_uint_eq(1, md_json_array_size(j, "list", NULL));
    md_json_set_time(apr_time_from_sec(1796039664), j, "when", NULL);
    ck_assert_str_eq("Mon, 30 Nov 2026 11:54:24 GMT", md_json_gets(j, "when", NULL));
    ck_assert(md_json_get_time(j, "when", NULL) == apr_time_from_sec(1796039664));
}
END_TEST

START_TEST(test_format)
{
    md_json_t *j = md_json_create(md_test_pool);

    md_json_setn(3.0, j, "store", "version", NULL);
    md_json_sets("k", j, "key", NULL);
    md_json_setsa(apr_array_make(md_test_pool, 1, sizeof(const char *)), j, "empty", NULL);
    ck_assert_str_eq("{\n  \"store\": {\n    \"version\": 3.0\n  },\n  \"key\": \"k\",\n"
                     "  \"empty\": []\n}", md_json_writep(j, md_test_pool, MD_JSON_FMT_INDENT));
    ck_assert_str_eq("{\"store\":{\"version\":3.0},\"key\":\"k\",\"empty\":[]}",
                     md_json_writep(j, md_test_pool, MD_JSON_FMT_COMPACT));
}
END_TEST

static int count_cb(void *baton, apr_size_t index, md_json_t *json)
{
    int *n = baton;

    (void)index;
    *n += (int)md_json_getl(json, "v", NULL);
    return *n < 3;
}

START_TEST(test_read_and_iterate)
{
    static const char *doc = "[{\"v\":1},{\"v\":2},{\"v\":3},{\"v\":4}]";
    md_json_t *j;
    char *big;
    int n = 0;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&j, md_test_pool, doc, strlen(doc)));
    ck_assert_int_eq(0, md_json_itera(count_cb, &n, j, NULL));
    ck_assert_int_eq(3, n);
    ck_assert_int_eq(APR_EINVAL, md_json_readd(&j, md_test_pool, "{\"a\":", 5));
    ck_assert_ptr_null(j);
    big = apr_palloc(md_test_pool, MD_JSON_MAX_SIZE + 2);
    memset(big, ' ', MD_JSON_MAX_SIZE + 1);
    big[MD_JSON_MAX_SIZE + 1] = '\0';
    ck_assert_int_eq(APR_EINVAL, md_json_readd(&j, md_test_pool, big, strlen(big)));
}
END_TEST

START_TEST(test_files)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *path = md_util_path_join(md_test_pool, dir, "t.json", NULL);
    md_json_t *j = md_json_create(md_test_pool), *back;

    md_json_sets("value", j, "name", NULL);
    ck_assert(APR_STATUS_IS_ENOENT(md_json_readf(&back, md_test_pool, path)));
    ck_assert_int_eq(APR_SUCCESS, md_json_freplace(j, md_test_pool, MD_JSON_FMT_INDENT,
                                                   path, 0x0600));
    ck_assert(APR_STATUS_IS_EEXIST(md_json_fcreatex(j, md_test_pool, MD_JSON_FMT_INDENT,
                                                    path, 0x0600)));
    ck_assert_int_eq(APR_SUCCESS, md_json_readf(&back, md_test_pool, path));
    ck_assert(md_json_equal(j, back));
    md_text_freplace(path, 0x0600, md_test_pool, "{broken");
    ck_assert_int_eq(APR_EINVAL, md_json_readf(&back, md_test_pool, path));
}
END_TEST

/* Fuzz finding (fuzz_store_json): a real beyond the range of long, e.g. a
 * key spec {"type": "RSA", "bits": 5.5e88}, was converted with undefined
 * behaviour; it is clamped now, and such a key spec is refused. */
START_TEST(test_getl_out_of_range)
{
    md_json_t *j = NULL;
    static const char doc[] = "{\"big\": 5.5e88, \"small\": -5.5e88, \"r\": 2048.9, "
                              "\"type\": \"RSA\", \"bits\": 5.5e88}";

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&j, md_test_pool, doc, strlen(doc)));
    ck_assert(LONG_MAX == md_json_getl(j, "big", NULL));
    ck_assert(LONG_MIN == md_json_getl(j, "small", NULL));
    ck_assert_int_eq(2048, md_json_getl(j, "r", NULL));
}
END_TEST

/* The _if setters write a given value and leave the member alone without one */
START_TEST(test_set_if)
{
    md_json_t *j = md_json_create(md_test_pool), *v = md_json_create(md_test_pool);

    md_json_sets("old", j, "s", NULL);
    md_json_sets("old", j, "t", NULL);
    md_json_sets("old", j, "j", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_json_sets_if(NULL, j, "s", NULL));
    ck_assert_int_eq(APR_SUCCESS, md_json_set_time_if(0, j, "t", NULL));
    ck_assert_int_eq(APR_SUCCESS, md_json_setj_if(NULL, j, "j", NULL));
    ck_assert_str_eq("old", md_json_gets(j, "s", NULL));
    ck_assert_str_eq("old", md_json_gets(j, "t", NULL));
    ck_assert_str_eq("old", md_json_gets(j, "j", NULL));
    ck_assert(!md_json_has_key(j, "none", NULL));
    ck_assert_int_eq(APR_SUCCESS, md_json_sets_if(NULL, j, "none", NULL));
    ck_assert(!md_json_has_key(j, "none", NULL));

    md_json_setl(7, v, "n", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_json_sets_if("new", j, "s", NULL));
    ck_assert_int_eq(APR_SUCCESS, md_json_set_time_if(apr_time_from_sec(1796039664),
                                                      j, "t", NULL));
    ck_assert_int_eq(APR_SUCCESS, md_json_setj_if(v, j, "j", NULL));
    ck_assert_str_eq("new", md_json_gets(j, "s", NULL));
    ck_assert_str_eq("Mon, 30 Nov 2026 11:54:24 GMT", md_json_gets(j, "t", NULL));
    ck_assert_int_eq(7, md_json_getl(j, "j", "n", NULL));
    /* a string in the way of a path still fails */
    ck_assert_int_ne(APR_SUCCESS, md_json_sets_if("x", j, "s", "deeper", NULL));
}
END_TEST

Suite *md_test_json_suite(void)
{
    Suite *s = suite_create("md_json");
    TCase *tc = tcase_create("json");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_paths);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_read_and_iterate);
    tcase_add_test(tc, test_files);
    tcase_add_test(tc, test_getl_out_of_range);
    tcase_add_test(tc, test_set_if);
    suite_add_tcase(s, tc);
    return s;
}
