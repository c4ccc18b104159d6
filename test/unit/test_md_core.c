/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_core.c: md.json round trips (captured examples of
 * contract.md 2.1), key spec file names, domain matching.
 */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_util.h"
#include "md_unit.h"

/* Captured domains/test2.mdspec.org/md.json of the reference module. */
static const char *md_json_test2 =
"{\n"
"  \"name\": \"test2.mdspec.org\",\n"
"  \"domains\": [\n"
"    \"test2.mdspec.org\"\n"
"  ],\n"
"  \"contacts\": [\n"
"    \"mailto:admin@mdspec.org\"\n"
"  ],\n"
"  \"transitive\": 1,\n"
"  \"ca\": {\n"
"    \"account\": \"ACME-localhost-0000\",\n"
"    \"proto\": \"ACME\",\n"
"    \"url\": \"https://localhost:44000/dir\",\n"
"    \"urls\": [\n"
"      \"https://localhost:44000/dir\"\n"
"    ],\n"
"    \"agreement\": \"accepted\",\n"
"    \"challenges\": [\n"
"      \"http-01\"\n"
"    ]\n"
"  },\n"
"  \"privkey\": [\n"
"    {\n"
"      \"type\": \"EC\",\n"
"      \"curve\": \"secp384r1\"\n"
"    },\n"
"    {\n"
"      \"type\": \"RSA\",\n"
"      \"bits\": 3072\n"
"    }\n"
"  ],\n"
"  \"state\": 2,\n"
"  \"renew-mode\": 1,\n"
"  \"renew-window\": \"40%\",\n"
"  \"warn-window\": \"10d\",\n"
"  \"require-https\": \"permanent\",\n"
"  \"must-staple\": false,\n"
"  \"proto\": {\n"
"    \"acme-tls/1\": [\n"
"      \"test2.mdspec.org\"\n"
"    ]\n"
"  },\n"
"  \"stapling\": false,\n"
"  \"profile-mandatory\": false,\n"
"  \"ari-renewals\": true\n"
"}";

/* a2md "store add" output of the reference (contract.md 6.3). */
static const char *md_json_a2md =
"{\"name\":\"a2.mdspec.org\",\"domains\":[\"a2.mdspec.org\",\"www.a2.mdspec.org\"],"
"\"contacts\":[],\"transitive\":-1,\"ca\":{\"proto\":\"ACME\","
"\"urls\":[\"https://localhost:44000/dir\"]},\"state\":0,\"renew-mode\":-1,"
"\"must-staple\":false,\"proto\":{\"acme-tls/1\":[]},\"stapling\":false,"
"\"profile-mandatory\":false,\"ari-renewals\":false}";

static void roundtrip(const char *text, md_json_fmt_t fmt)
{
    md_json_t *json;
    md_t *md;
    const char *out;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, text, strlen(text)));
    md = md_from_json(json, md_test_pool);
    ck_assert_ptr_nonnull(md);
    out = md_json_writep(md_to_json(md, md_test_pool), md_test_pool, fmt);
    ck_assert_str_eq(text, out);
}

START_TEST(test_md_json_roundtrip_captured)
{
    roundtrip(md_json_test2, MD_JSON_FMT_INDENT);
    roundtrip(md_json_a2md, MD_JSON_FMT_COMPACT);
}
END_TEST

START_TEST(test_md_json_lenient)
{
    static const char *legacy =
        "{\"name\":\"x.org\",\"domains\":[\"X.org\",\"x.ORG\",\"www.x.org\"],"
        "\"renew-window\":1209600,\"state\":3,\"ca\":{\"url\":\"https://ca/dir\"},"
        "\"require-https\":\"sometimes\",\"privkey\":{\"type\":\"rsa\",\"bits\":1024},"
        "\"unknown\":{\"a\":1}}";
    md_json_t *json;
    md_t *md;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, legacy, strlen(legacy)));
    md = md_from_json(json, md_test_pool);
    ck_assert_int_eq(2, md->domains->nelts);
    ck_assert_str_eq("x.org", APR_ARRAY_IDX(md->domains, 0, const char *));
    ck_assert_ptr_null(md->renew_window);
    ck_assert_int_eq(MD_S_COMPLETE, md->state);
    ck_assert_int_eq(1, md->ca_urls->nelts);
    ck_assert_int_eq(MD_REQUIRE_OFF, md->require_https);
    ck_assert_int_eq(MD_PKEY_TYPE_RSA, md_pkeys_spec_get(md->pks, 0)->type);
    ck_assert_uint_eq(2048, md_pkeys_spec_get(md->pks, 0)->bits);
}
END_TEST

static const struct {
    md_pkey_type_t type;
    unsigned int bits;
    const char *curve;
    const char *privkey;
    const char *pubcert;
} fname_cases[] = {
    { MD_PKEY_TYPE_DEFAULT, 0, NULL, "privkey.pem", "pubcert.pem" },
    { MD_PKEY_TYPE_RSA, 4096, NULL, "privkey.pem", "pubcert.pem" },
    { MD_PKEY_TYPE_EC, 0, "secp384r1", "privkey.secp384r1.pem", "pubcert.secp384r1.pem" },
    { MD_PKEY_TYPE_EC, 0, "P-256", "privkey.p-256.pem", "pubcert.p-256.pem" },
};

START_TEST(test_pkey_filenames)
{
    md_pkey_spec_t spec;

    spec.type = fname_cases[_i].type;
    spec.bits = fname_cases[_i].bits;
    spec.curve = fname_cases[_i].curve;
    ck_assert_str_eq(fname_cases[_i].privkey, md_pkey_filename(&spec, md_test_pool));
    ck_assert_str_eq(fname_cases[_i].pubcert, md_chain_filename(&spec, md_test_pool));
    ck_assert_str_eq(apr_pstrcat(md_test_pool, "fallback-", fname_cases[_i].privkey, NULL),
                     md_pkey_spec_filename(&spec, MD_FN_FALLBACK_PKEY, md_test_pool));
}
END_TEST

START_TEST(test_md_overlap)
{
    apr_array_header_t *d1 = apr_array_make(md_test_pool, 2, sizeof(const char *));
    apr_array_header_t *d2 = apr_array_make(md_test_pool, 2, sizeof(const char *));
    md_t *md1, *md2;

    APR_ARRAY_PUSH(d1, const char *) = "Example.org";
    APR_ARRAY_PUSH(d1, const char *) = "*.example.org";
    APR_ARRAY_PUSH(d2, const char *) = "www.example.org";
    md1 = md_create(md_test_pool, d1);
    md2 = md_create(md_test_pool, d2);
    ck_assert_str_eq("example.org", md1->name);
    ck_assert(md_contains(md1, "a.example.org", 1));
    ck_assert(!md_contains(md1, "a.example.org", 0));
    ck_assert(!md_contains(md1, "a.b.example.org", 1));
    ck_assert_str_eq("*.example.org", md_common_name(md1, md2));
    ck_assert_ptr_null(md_create(md_test_pool, apr_array_make(md_test_pool, 1, 1)));
}
END_TEST

/* Buypass left ACME in 2025-10: its names stay known (configurations load),
 * and the url says since when it is gone; current CAs are not gone. */
START_TEST(test_ca_known_gone)
{
    const char *url = md_ca_known_url("buypass");

    ck_assert_str_eq("https://api.buypass.com/acme/directory", url);
    ck_assert_str_eq("2025-10", md_ca_known_gone(url));
    ck_assert_str_eq("2025-10", md_ca_known_gone(md_ca_known_url("Buypass-Test")));
    ck_assert_str_eq("Buypass", md_ca_known_name("HTTPS://api.buypass.com/acme/directory"));
    ck_assert_ptr_null(md_ca_known_gone(md_ca_known_url("LetsEncrypt")));
    ck_assert_ptr_null(md_ca_known_gone(md_ca_known_url("LetsEncrypt-Test")));
    ck_assert_ptr_null(md_ca_known_gone("https://acme.example.org/directory"));
    ck_assert_ptr_null(md_ca_known_gone(NULL));
    ck_assert_str_eq("LetsEncrypt LetsEncrypt-Test Buypass Buypass-Test",
                     md_ca_known_names(md_test_pool));
}
END_TEST

Suite *md_test_core_suite(void)
{
    Suite *s = suite_create("md_core");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_test(tc, test_md_json_roundtrip_captured);
    tcase_add_test(tc, test_md_json_lenient);
    tcase_add_loop_test(tc, test_pkey_filenames, 0,
                        MD_ARRAY_LEN(fname_cases));
    tcase_add_test(tc, test_md_overlap);
    tcase_add_test(tc, test_ca_known_gone);
    suite_add_tcase(s, tc);
    return s;
}
