/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_jws.c: flattened JWS structure for RS256/ES256/ES384
 * (jwk and kid headers, POST-as-GET), signatures verified independently with
 * OpenSSL, the EAB inner JWS (HMAC checked with OpenSSL) and its errors.
 */
#include <string.h>

#include <apr_strings.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "md.h"
#include "md_crypto.h"
#include "md_crypto_int.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_util.h"
#include "md_unit.h"


static md_data_t b64_decode(const char *s)
{
    md_data_t d;

    ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&d, s, md_test_pool));
    return d;
}

static md_json_t *b64_json(const char *s)
{
    md_data_t d = b64_decode(s);
    md_json_t *json = NULL;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, d.data, d.len));
    return json;
}

/* Verifies sig (JWS form) over input with the public part of pkey. */
static int verify(md_pkey_t *pkey, const char *alg, const char *input, md_data_t sig)
{
    EVP_PKEY *key = md_pkey_get_evp(pkey);
    const EVP_MD *md = !strcmp(alg, "ES384") ? EVP_sha384() : EVP_sha256();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    const unsigned char *s = (const unsigned char *)sig.data;
    size_t slen = sig.len;
    ECDSA_SIG *esig;
    int ok, derlen;

    if (alg[0] == 'E') {
        /* raw R||S to DER */
        esig = ECDSA_SIG_new();
        ECDSA_SIG_set0(esig, BN_bin2bn(s, (int)slen / 2, NULL),
                       BN_bin2bn(s + slen / 2, (int)slen / 2, NULL));
        derlen = i2d_ECDSA_SIG(esig, &der);
        ECDSA_SIG_free(esig);
        s = der;
        slen = (size_t)derlen;
    }
    ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1
         && EVP_DigestVerify(ctx, s, slen, (const unsigned char *)input,
                             strlen(input)) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok;
}

typedef struct {
    md_pkey_type_t type;
    unsigned int bits;
    const char *curve;
    const char *alg;
    apr_size_t sig_len;
} sign_case;

static const sign_case sign_cases[] = {
    { MD_PKEY_TYPE_RSA, 2048, NULL, "RS256", 256 },
    { MD_PKEY_TYPE_EC, 0, "P-256", "ES256", 64 },
    { MD_PKEY_TYPE_EC, 0, "secp384r1", "ES384", 96 },
};

START_TEST(test_sign_jwk)
{
    const sign_case *c = &sign_cases[_i];
    md_pkey_t *pkey = md_test_gen_key(c->type, c->bits, c->curve);
    const char *payload = "{\"contact\":[\"mailto:a@example.org\"]}";
    const char *prot64, *pay64, *sig64;
    md_json_t *msg, *prot;
    md_data_t pay, sig;

    ck_assert_int_eq(APR_SUCCESS, md_jws_sign(&msg, md_test_pool, payload,
                                              strlen(payload), "nonce-1",
                                              "https://ca.example/new-acct", pkey, NULL));
    prot64 = md_json_gets(msg, "protected", NULL);
    pay64 = md_json_gets(msg, "payload", NULL);
    sig64 = md_json_gets(msg, "signature", NULL);
    ck_assert_ptr_nonnull(prot64);
    ck_assert_ptr_nonnull(pay64);
    ck_assert_ptr_nonnull(sig64);
    ck_assert_ptr_null(strchr(prot64, '='));

    prot = b64_json(prot64);
    ck_assert_str_eq(c->alg, md_json_gets(prot, "alg", NULL));
    ck_assert_str_eq("nonce-1", md_json_gets(prot, "nonce", NULL));
    ck_assert_str_eq("https://ca.example/new-acct", md_json_gets(prot, "url", NULL));
    ck_assert(md_json_has_key(prot, "jwk", NULL));
    ck_assert(!md_json_has_key(prot, "kid", NULL));
    ck_assert_str_eq(c->type == MD_PKEY_TYPE_RSA ? "RSA" : "EC",
                     md_json_gets(prot, "jwk", "kty", NULL));

    pay = b64_decode(pay64);
    ck_assert_int_eq(strlen(payload), pay.len);
    ck_assert(!memcmp(payload, pay.data, pay.len));

    sig = b64_decode(sig64);
    ck_assert_int_eq(c->sig_len, sig.len);
    ck_assert(verify(pkey, c->alg, apr_pstrcat(md_test_pool, prot64, ".", pay64, NULL),
                     sig));
    /* a changed payload must not verify */
    ck_assert(!verify(pkey, c->alg, apr_pstrcat(md_test_pool, prot64, ".x", pay64, NULL),
                      sig));
}
END_TEST

START_TEST(test_sign_kid_post_as_get)
{
    md_pkey_t *pkey = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-256");
    const char *kid = "https://ca.example/acct/17";
    md_json_t *msg, *prot;

    ck_assert_int_eq(APR_SUCCESS, md_jws_sign(&msg, md_test_pool, "", 0, "n2",
                                              "https://ca.example/order/1", pkey, kid));
    ck_assert_str_eq("", md_json_gets(msg, "payload", NULL));
    prot = b64_json(md_json_gets(msg, "protected", NULL));
    ck_assert_str_eq(kid, md_json_gets(prot, "kid", NULL));
    ck_assert(!md_json_has_key(prot, "jwk", NULL));
    ck_assert(verify(pkey, "ES256",
                     apr_pstrcat(md_test_pool, md_json_gets(msg, "protected", NULL), ".",
                                 NULL),
                     b64_decode(md_json_gets(msg, "signature", NULL))));
}
END_TEST

START_TEST(test_eab)
{
    md_pkey_t *pkey = md_test_gen_key(MD_PKEY_TYPE_RSA, 2048, NULL);
    const char *hmac64 = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    const char *problem = "x", *input, *jwk;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    md_json_t *eab, *prot, *payload;
    md_data_t key, sig;

    ck_assert_int_eq(APR_SUCCESS, md_jws_eab(&eab, &problem, md_test_pool, pkey, "kid-1",
                                             hmac64, "https://ca.example/new-acct"));
    ck_assert_ptr_null(problem);
    prot = b64_json(md_json_gets(eab, "protected", NULL));
    ck_assert_str_eq("HS256", md_json_gets(prot, "alg", NULL));
    ck_assert_str_eq("kid-1", md_json_gets(prot, "kid", NULL));
    ck_assert_str_eq("https://ca.example/new-acct", md_json_gets(prot, "url", NULL));
    ck_assert(!md_json_has_key(prot, "nonce", NULL));
    payload = b64_json(md_json_gets(eab, "payload", NULL));
    jwk = md_json_writep(md_pkey_get_jwk(pkey, md_test_pool), md_test_pool,
                         MD_JSON_FMT_COMPACT);
    ck_assert_str_eq(jwk, md_json_writep(payload, md_test_pool, MD_JSON_FMT_COMPACT));

    key = b64_decode(hmac64);
    input = apr_pstrcat(md_test_pool, md_json_gets(eab, "protected", NULL), ".",
                        md_json_gets(eab, "payload", NULL), NULL);
    HMAC(EVP_sha256(), key.data, (int)key.len, (const unsigned char *)input,
         strlen(input), mac, &mac_len);
    sig = b64_decode(md_json_gets(eab, "signature", NULL));
    ck_assert_int_eq(mac_len, sig.len);
    ck_assert(!memcmp(mac, sig.data, sig.len));
}
END_TEST

/* no byte before the first character outside the alphabet */
static const char *bad_hmacs[] = { "!!not base64!!", "", NULL, "$$$$", "a b", "=" };

START_TEST(test_eab_invalid_hmac)
{
    md_pkey_t *pkey = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-256");
    const char *problem = NULL;
    md_json_t *eab = (md_json_t *)"x";

    ck_assert_int_eq(APR_EINVAL, md_jws_eab(&eab, &problem, md_test_pool, pkey, "kid-1",
                                            bad_hmacs[_i], "https://ca.example/a"));
    ck_assert_ptr_null(eab);
    ck_assert_str_eq(MD_PROBLEM_EAB_HMAC_INVALID, problem);
}
END_TEST

/* As the original: the key is the decoded leading base64url characters,
 * "aGVsbG8$$" is keyed with "hello". */
START_TEST(test_eab_hmac_prefix)
{
    md_pkey_t *pkey = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-256");
    const char *problem = "x", *input;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    md_json_t *eab;
    md_data_t sig;

    ck_assert_int_eq(APR_SUCCESS, md_jws_eab(&eab, &problem, md_test_pool, pkey, "kid-1",
                                             "aGVsbG8$$", "https://ca.example/a"));
    ck_assert_ptr_null(problem);
    input = apr_pstrcat(md_test_pool, md_json_gets(eab, "protected", NULL), ".",
                        md_json_gets(eab, "payload", NULL), NULL);
    HMAC(EVP_sha256(), "hello", 5, (const unsigned char *)input, strlen(input), mac,
         &mac_len);
    sig = b64_decode(md_json_gets(eab, "signature", NULL));
    ck_assert_int_eq(mac_len, sig.len);
    ck_assert(!memcmp(mac, sig.data, sig.len));
}
END_TEST

START_TEST(test_key_authz)
{
    md_pkey_t *pkey = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-256");
    const char *authz, *thumb;

    ck_assert_int_eq(APR_SUCCESS, md_jws_key_authz(&authz, md_test_pool, pkey, "tok-EN_1"));
    ck_assert_int_eq(APR_SUCCESS, md_pkey_jwk_thumbprint(&thumb, pkey, md_test_pool));
    ck_assert_str_eq(apr_pstrcat(md_test_pool, "tok-EN_1.", thumb, NULL), authz);
    ck_assert_int_eq(43, strlen(thumb));
}
END_TEST

Suite *md_test_jws_suite(void)
{
    Suite *s = suite_create("md_jws");
    TCase *tc = tcase_create("jws");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_sign_jwk, 0, N(sign_cases));
    tcase_add_test(tc, test_sign_kid_post_as_get);
    tcase_add_test(tc, test_eab);
    tcase_add_loop_test(tc, test_eab_invalid_hmac, 0, N(bad_hmacs));
    tcase_add_test(tc, test_eab_hmac_prefix);
    tcase_add_test(tc, test_key_authz);
    suite_add_tcase(s, tc);
    return s;
}
