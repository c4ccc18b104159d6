/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for the ACME client (md_acme.c and the account, order, authz
 * and drive files on it) without network: the shared fake md_http server
 * (md_unit.c) replays a script of pebble-like answers and records the
 * requests. Covers problem mapping, the directory, nonce retry, and a full
 * renewal through the order state machine into a temporary store.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_crypto.h"
#include "md_http.h"
#include "md_json.h"
#include "md_log.h"
#include "md_result.h"
#include "md_store.h"
#include "md_util.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_authz.h"
#include "md_acme_drive.h"
#include "md_acme_order.h"
#include "md_unit.h"

#define CA      "https://ca.test"
#define DIR_URL CA "/dir"

/* --- the fake CA on the shared fake HTTP server (md_unit.c) ------------------------- */

static md_store_t *ca_store;        /* for answers made from staged keys */

/* The script of a CA at CA (as pebble: a fresh nonce on every POST/HEAD). */
static void fake_start(const md_test_answer_t *answers, int count)
{
    ca_store = NULL;
    md_test_http_script(CA, answers, count);
    md_test_http.nonces = 1;
}

static void fake_setup(void)
{
    md_test_setup();
}

static void fake_teardown(void)
{
    md_test_http_unuse();
    md_test_teardown();
}

/* The decoded protected header / payload of the i-th request body. */
static md_json_t *req_part(int i, const char *part)
{
    md_json_t *jws = NULL, *json = NULL;
    const char *body = APR_ARRAY_IDX(md_test_http.bodies, i, const char *);
    md_data_t d;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&jws, md_test_pool, body, strlen(body)));
    ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&d, md_json_gets(jws, part,
                                                           NULL), md_test_pool));
    if (d.len == 0) return NULL;
    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, d.data, d.len));
    return json;
}

#define J       "application/json"
#define PJ      "application/problem+json"

#define DIRECTORY_JSON \
    "{\"newNonce\": \"" CA "/nonce\", \"newAccount\": \"" CA "/new-acct\"," \
    " \"newOrder\": \"" CA "/new-order\", \"revokeCert\": \"" CA "/revoke\"," \
    " \"keyChange\": \"" CA "/key-change\"," \
    " \"meta\": {\"termsOfService\": \"" CA "/tos.pdf\"," \
    " \"externalAccountRequired\": false, \"profiles\": {\"classic\": \"x\"}}}"

static const md_test_answer_t A_DIR = { "GET", "/dir", 0, 200, J, NULL, DIRECTORY_JSON,
                                   NULL, NULL };
static const md_test_answer_t A_NONCE = { "HEAD", "/nonce", 0, 200, NULL, NULL, NULL, NULL,
                                     NULL };

static md_acme_t *acme_setup(md_result_t *result)
{
    md_acme_t *acme = NULL;

    ck_assert_int_eq(APR_SUCCESS, md_acme_create(&acme, md_test_pool, DIR_URL, NULL,
                                                 NULL));
    ck_assert_int_eq(APR_SUCCESS, md_acme_setup(acme, result));
    return acme;
}

/* --- problems ------------------------------------------------------------------ */

typedef struct {
    const char *type;
    apr_status_t status;
    int input_related;
} problem_case;

static const problem_case problem_cases[] = {
    { "urn:ietf:params:acme:error:badNonce", APR_EAGAIN, 0 },
    { "urn:ietf:params:acme:error:malformed", APR_EINVAL, 1 },
    { "urn:ietf:params:acme:error:unauthorized", APR_EACCES, 0 },
    { "urn:ietf:params:acme:error:rateLimited", APR_EAGAIN, 0 },
    { "urn:ietf:params:acme:error:badCSR", APR_EINVAL, 1 },
    { "urn:ietf:params:acme:error:rejectedIdentifier", APR_BADARG, 1 },
    { "urn:ietf:params:acme:error:userActionRequired", APR_EAGAIN, 1 },
    { "urn:ietf:params:acme:error:externalAccountRequired", APR_EINVAL, 1 },
    { "urn:ietf:params:acme:error:agreementRequired", APR_EINVAL, 1 },
    { "urn:ietf:params:acme:error:serverInternal", APR_EGENERAL, 0 },
    { "urn:ietf:params:acme:error:accountDoesNotExist", APR_ENOENT, 0 },
    { "urn:acme:error:badCSR", APR_EINVAL, 1 },
    { "acme:error:unsupportedContact", APR_BADARG, 1 },
    { "urn:example:something-else", APR_EGENERAL, 0 },
    { NULL, APR_EGENERAL, 0 },
};

START_TEST(test_problem_mapping)
{
    const problem_case *c = &problem_cases[_i];

    ck_assert_int_eq(c->status, md_acme_problem_status(c->type));
    ck_assert_int_eq(c->input_related, md_acme_problem_is_input_related(c->type));
}
END_TEST

START_TEST(test_problem_is)
{
    ck_assert(md_acme_problem_is("urn:ietf:params:acme:error:badNonce", "badNonce"));
    ck_assert(!md_acme_problem_is("urn:ietf:params:acme:error:badNonce", "malformed"));
    ck_assert(!md_acme_problem_is("badNonce", "badNonce"));
    ck_assert(!md_acme_problem_is(NULL, "badNonce"));
}
END_TEST

/* --- directory ------------------------------------------------------------------ */

START_TEST(test_directory)
{
    static const md_test_answer_t script[] = { A_DIR };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_acme_t *acme;

    fake_start(script, N(script));
    acme = acme_setup(result);
    ck_assert_str_eq(CA "/nonce", acme->api.new_nonce);
    ck_assert_str_eq(CA "/new-acct", acme->api.new_account);
    ck_assert_str_eq(CA "/new-order", acme->api.new_order);
    ck_assert_str_eq(CA "/revoke", acme->api.revoke_cert);
    ck_assert_ptr_null(acme->api.renewal_info);
    ck_assert_str_eq(CA "/tos.pdf", acme->tos);
    ck_assert_int_eq(0, acme->eab_required);
    ck_assert(md_json_has_key(acme->profiles, "classic", NULL));
    ck_assert_str_eq("ca.test", acme->sname);
    ck_assert_int_eq(APR_SUCCESS, result->status);
}
END_TEST

typedef struct {
    md_test_answer_t answer;
    apr_status_t status;
    const char *detail_prefix;
} dir_fail_case;

static const dir_fail_case dir_fail_cases[] = {
    { { "GET", "/dir", APR_ECONNREFUSED, 0, NULL, NULL, NULL, NULL, NULL },
      APR_ECONNREFUSED, "Unsuccessful in contacting ACME server at <" DIR_URL ">. If "
      "this problem persists, please check your network connectivity from your Apache "
      "server to the ACME server. Also, older servers might have trouble verifying the "
      "certificates of the ACME server. You can check if you are able to contact it "
      "manually via the curl command. Sometimes, the ACME server might be down for "
      "maintenance, so failing to contact it is not an immediate problem. Apache will "
      "continue retrying this." },
    { { "GET", "/dir", 0, 503, "text/html", NULL, "down", NULL, NULL },
      APR_EAGAIN, "The ACME server at <" DIR_URL "> reports that Service is Unavailable "
      "(503). This may happen during maintenance for short periods of time." },
    { { "GET", "/dir", 0, 200, "text/html", NULL, "<html/>", NULL, NULL },
      APR_EINVAL, "Unable to understand the response" },
    { { "GET", "/dir", 0, 200, J, NULL, "{\"foo\": 1}", NULL, NULL },
      APR_EINVAL, "Unable to understand the response" },
};

START_TEST(test_directory_fail)
{
    const dir_fail_case *c = &dir_fail_cases[_i];
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_acme_t *acme;

    fake_start(&c->answer, 1);
    ck_assert_int_eq(APR_SUCCESS, md_acme_create(&acme, md_test_pool, DIR_URL, NULL, NULL));
    ck_assert_int_eq(c->status, md_acme_setup(acme, result));
    ck_assert_int_eq(c->status, result->status);
    ck_assert_ptr_nonnull(result->detail);
    ck_assert_msg(!strncmp(c->detail_prefix, result->detail, strlen(c->detail_prefix)),
                  "detail: %s", result->detail);
}
END_TEST

/* --- signed requests: nonces and problems ------------------------------------------ */

static md_acme_t *acme_with_account(md_result_t *result)
{
    md_acme_t *acme = acme_setup(result);
    md_acme_acct_t *acct = apr_pcalloc(md_test_pool, sizeof(*acct));
    md_pkey_spec_t spec = { MD_PKEY_TYPE_EC, 0, "P-256" };
    md_pkey_t *pkey;

    ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&pkey, md_test_pool, &spec));
    acct->url = CA "/acct/1";
    acct->ca_url = DIR_URL;
    acct->status = MD_ACME_ACCT_ST_VALID;
    md_acme_set_acct(acme, acct, pkey);
    return acme;
}

#define BAD_NONCE "{\"type\": \"urn:ietf:params:acme:error:badNonce\", " \
                  "\"detail\": \"JWS has an invalid anti-replay nonce\"}"

START_TEST(test_nonce_retry)
{
    static const md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/order/1", 0, 400, PJ, NULL, BAD_NONCE, NULL, NULL },
        { "POST", "/order/1", 0, 200, J, NULL, "{\"status\": \"ready\"}", NULL, NULL },
    };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_acme_t *acme;
    md_json_t *json = NULL, *prot1, *prot2;

    fake_start(script, N(script));
    acme = acme_with_account(result);
    ck_assert_int_eq(APR_SUCCESS, md_acme_post(NULL, &json, acme, CA "/order/1", NULL, 0,
                                               result, md_test_pool));
    ck_assert_str_eq("ready", md_json_gets(json, "status", NULL));
    ck_assert_int_eq(4, md_test_http.requests);
    ck_assert_ptr_null(result->problem);
    /* first POST used the nonce of HEAD, the retry the one of the badNonce answer */
    prot1 = req_part(2, "protected");
    prot2 = req_part(3, "protected");
    ck_assert_str_eq("nonce-1", md_json_gets(prot1, "nonce", NULL));
    ck_assert_str_eq("nonce-2", md_json_gets(prot2, "nonce", NULL));
    ck_assert_str_eq(CA "/acct/1", md_json_gets(prot2, "kid", NULL));
    ck_assert_str_eq(CA "/order/1", md_json_gets(prot2, "url", NULL));
    ck_assert_ptr_null(req_part(3, "payload"));
    ck_assert_str_eq("nonce-3", acme->nonce);
}
END_TEST

START_TEST(test_nonce_retry_once)
{
    static const md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/order/1", 0, 400, PJ, NULL, BAD_NONCE, NULL, NULL },
        { "POST", "/order/1", 0, 400, PJ, NULL, BAD_NONCE, NULL, NULL },
    };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_acme_t *acme;

    fake_start(script, N(script));
    acme = acme_with_account(result);
    ck_assert_int_eq(APR_EAGAIN, md_acme_post(NULL, NULL, acme, CA "/order/1", NULL, 0,
                                              result, md_test_pool));
    ck_assert_int_eq(4, md_test_http.requests);
    ck_assert_str_eq("urn:ietf:params:acme:error:badNonce", result->problem);
}
END_TEST

START_TEST(test_post_problem)
{
    static const md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/order/1", 0, 403, PJ, NULL,
          "{\"type\": \"urn:ietf:params:acme:error:rejectedIdentifier\", "
          "\"detail\": \"no way\", \"subproblems\": [{\"type\": "
          "\"urn:ietf:params:acme:error:caa\", \"detail\": \"CAA\"}]}", NULL, NULL },
        { "POST", "/order/2", 0, 500, "text/plain", NULL, "oops", NULL, NULL },
    };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_http_response_t *resp = NULL;
    md_acme_t *acme;

    fake_start(script, N(script));
    acme = acme_with_account(result);
    ck_assert_int_eq(APR_BADARG, md_acme_post(&resp, NULL, acme, CA "/order/1",
                                              md_json_create(md_test_pool), 0, result,
                                              md_test_pool));
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(403, resp->status);
    ck_assert_str_eq("urn:ietf:params:acme:error:rejectedIdentifier", result->problem);
    ck_assert_str_eq("no way", result->detail);
    ck_assert_int_eq(1, md_json_array_size(result->subproblems, NULL));
    ck_assert_str_eq("{}", md_json_writep(req_part(2, "payload"), md_test_pool,
                                          MD_JSON_FMT_COMPACT));

    ck_assert_int_eq(APR_EGENERAL, md_acme_post(NULL, NULL, acme, CA "/order/2", NULL, 0,
                                                result, md_test_pool));
    ck_assert_ptr_null(result->problem);
}
END_TEST

/* --- revocation and key change ----------------------------------------------------- */

START_TEST(test_revoke_reason)
{
    ck_assert_int_eq(0, md_acme_revoke_reason("unspecified"));
    ck_assert_int_eq(1, md_acme_revoke_reason("keycompromise"));
    ck_assert_int_eq(3, md_acme_revoke_reason("affiliationChanged"));
    ck_assert_int_eq(4, md_acme_revoke_reason("superseded"));
    ck_assert_int_eq(5, md_acme_revoke_reason("cessationOfOperation"));
    ck_assert_int_eq(-1, md_acme_revoke_reason("certificateHold"));
    ck_assert_int_eq(-1, md_acme_revoke_reason(NULL));
}
END_TEST

/* RFC 8555 7.6: by the account (kid) or by the certificate's key (jwk);
 * the account key is the session's again afterwards. */
START_TEST(test_revoke)
{
    static const md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/revoke", 0, 200, NULL, NULL, NULL, NULL, NULL },
        { "POST", "/revoke", 0, 400, PJ, NULL,
          "{\"type\": \"urn:ietf:params:acme:error:alreadyRevoked\", "
          "\"detail\": \"already\"}", NULL, NULL },
    };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_pkey_spec_t spec = { MD_PKEY_TYPE_EC, 0, "P-256" };
    apr_array_header_t *domains = apr_array_make(md_test_pool, 1, sizeof(char *));
    md_pkey_t *cert_key, *acct_key;
    md_cert_t *cert;
    md_json_t *prot, *payload;
    md_acme_t *acme;

    fake_start(script, N(script));
    acme = acme_with_account(result);
    acct_key = acme->acct_key;
    APR_ARRAY_PUSH(domains, const char *) = "a.example.org";
    ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&cert_key, md_test_pool, &spec));
    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, NULL, domains, cert_key,
                                                        apr_time_from_sec(3600),
                                                        md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_acme_revoke(acme, cert, 4, NULL, result,
                                                 md_test_pool));
    prot = req_part(2, "protected");
    payload = req_part(2, "payload");
    ck_assert_str_eq(CA "/acct/1", md_json_gets(prot, "kid", NULL));
    ck_assert_int_eq(4, (int)md_json_getl(payload, "reason", NULL));
    ck_assert_ptr_nonnull(md_json_gets(payload, "certificate", NULL));
    ck_assert_int_eq(APR_EINVAL, md_acme_revoke(acme, cert, -1, cert_key, result,
                                                md_test_pool));
    ck_assert_str_eq("urn:ietf:params:acme:error:alreadyRevoked", result->problem);
    prot = req_part(3, "protected");
    payload = req_part(3, "payload");
    ck_assert(!md_json_has_key(prot, "kid", NULL));
    ck_assert_str_eq(md_json_writep(md_pkey_get_jwk(cert_key, md_test_pool),
                                    md_test_pool, MD_JSON_FMT_COMPACT),
                     md_json_writep(md_json_getj(prot, "jwk", NULL), md_test_pool,
                                    MD_JSON_FMT_COMPACT));
    ck_assert(!md_json_has_key(payload, "reason", NULL));
    ck_assert_ptr_eq(acct_key, acme->acct_key);
}
END_TEST

/* RFC 8555 7.3.5: the outer JWS by the old key (kid), its payload a JWS by
 * the new key (jwk, url, no nonce) over {account, oldKey}; the new key is
 * the session's only when the CA took it. */
START_TEST(test_key_change)
{
    static const md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/key-change", 0, 403, PJ, NULL,
          "{\"type\": \"urn:ietf:params:acme:error:unauthorized\", "
          "\"detail\": \"no\"}", NULL, NULL },
        { "POST", "/key-change", 0, 200, J, NULL, "{\"status\": \"valid\"}", NULL,
          NULL },
    };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_pkey_spec_t spec = { MD_PKEY_TYPE_RSA, 2048, NULL };
    md_pkey_t *old_key, *new_key;
    md_json_t *outer, *inner, *inner_prot, *inner_payload;
    md_acme_t *acme;
    md_data_t d;
    const char *body;

    fake_start(script, N(script));
    acme = acme_with_account(result);
    old_key = acme->acct_key;
    ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&new_key, md_test_pool, &spec));
    ck_assert_int_eq(APR_EACCES, md_acme_acct_key_change(acme, new_key, result,
                                                         md_test_pool));
    ck_assert_ptr_eq(old_key, acme->acct_key);
    ck_assert_int_eq(APR_SUCCESS, md_acme_acct_key_change(acme, new_key, result,
                                                          md_test_pool));
    ck_assert_ptr_eq(new_key, acme->acct_key);
    outer = req_part(3, "protected");
    ck_assert_str_eq(CA "/acct/1", md_json_gets(outer, "kid", NULL));
    ck_assert_str_eq(CA "/key-change", md_json_gets(outer, "url", NULL));
    inner = req_part(3, "payload");
    body = md_json_gets(inner, "protected", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&d, body, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&inner_prot, md_test_pool, d.data,
                                                d.len));
    ck_assert_str_eq("RS256", md_json_gets(inner_prot, "alg", NULL));
    ck_assert_str_eq(CA "/key-change", md_json_gets(inner_prot, "url", NULL));
    ck_assert(!md_json_has_key(inner_prot, "nonce", NULL));
    ck_assert(!md_json_has_key(inner_prot, "kid", NULL));
    ck_assert_str_eq(md_json_writep(md_pkey_get_jwk(new_key, md_test_pool), md_test_pool,
                                    MD_JSON_FMT_COMPACT),
                     md_json_writep(md_json_getj(inner_prot, "jwk", NULL), md_test_pool,
                                    MD_JSON_FMT_COMPACT));
    body = md_json_gets(inner, "payload", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&d, body, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&inner_payload, md_test_pool, d.data,
                                                d.len));
    ck_assert_str_eq(CA "/acct/1", md_json_gets(inner_payload, "account", NULL));
    ck_assert_str_eq(md_json_writep(md_pkey_get_jwk(old_key, md_test_pool), md_test_pool,
                                    MD_JSON_FMT_COMPACT),
                     md_json_writep(md_json_getj(inner_payload, "oldKey", NULL),
                                    md_test_pool, MD_JSON_FMT_COMPACT));
}
END_TEST

/* --- accounts ------------------------------------------------------------------------ */

START_TEST(test_acct_sname)
{
    ck_assert_str_eq("localhost", md_acme_acct_sname("https://localhost:14000/dir",
                                                     md_test_pool));
    ck_assert_str_eq(".letsencrypt.org", md_acme_acct_sname(
        "https://acme-v02.api.letsencrypt.org/directory", md_test_pool));
    ck_assert_str_eq(".letsencrypt.org", md_acme_acct_sname(
        "https://acme-staging-v02.api.letsencrypt.org/directory", md_test_pool));
    ck_assert_str_eq("api.buypass.com", md_acme_acct_sname(
        "https://api.buypass.com/acme/directory", md_test_pool));
    ck_assert_str_eq("test4.buypass.no", md_acme_acct_sname(
        "https://api.test4.buypass.no/acme/directory", md_test_pool));
}
END_TEST

START_TEST(test_acct_json)
{
    const char *text = "{\"url\": \"" CA "/acct/1\", \"ca-url\": \"" DIR_URL "\", "
        "\"registration\": {\"contact\": [\"mailto:a@x.org\"]}, "
        "\"terms-of-service\": \"" CA "/tos\", \"disabled\": false}";
    md_json_t *json;
    md_acme_acct_t *acct;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, text, strlen(text)));
    ck_assert_int_eq(APR_SUCCESS, md_acme_acct_from_json(&acct, json, md_test_pool));
    ck_assert_int_eq(MD_ACME_ACCT_ST_UNKNOWN, acct->status);
    ck_assert_int_eq(1, acct->contacts->nelts);
    ck_assert_str_eq(CA "/tos", acct->agreement);
    ck_assert(!md_acme_acct_matches(acct, DIR_URL, NULL, NULL));
    acct->status = MD_ACME_ACCT_ST_VALID;
    ck_assert(md_acme_acct_matches(acct, DIR_URL, NULL, NULL));
    ck_assert(md_acme_acct_matches(acct, DIR_URL, "none", NULL));
    ck_assert(!md_acme_acct_matches(acct, DIR_URL, "kid", "hmac"));
    ck_assert(!md_acme_acct_matches(acct, CA "/other", NULL, NULL));
    acct->eab_kid = "kid";
    acct->eab_hmac = "hmac";
    ck_assert(md_acme_acct_matches(acct, DIR_URL, "kid", "hmac"));
    ck_assert(!md_acme_acct_matches(acct, DIR_URL, "kid", "other"));
    ck_assert(!md_acme_acct_matches(acct, DIR_URL, NULL, NULL));
    ck_assert_str_eq("{\"status\":\"valid\",\"url\":\"" CA "/acct/1\",\"ca-url\":\""
                     DIR_URL "\",\"contact\":[\"mailto:a@x.org\"],\"registration\":{\"contact\":"
                     "[\"mailto:a@x.org\"]},\"agreement\":\"" CA
                     "/tos\",\"eab\":{\"kid\":\"kid\",\"hmac\":\"hmac\"}}",
                     md_json_writep(md_acme_acct_to_json(acct, md_test_pool),
                                    md_test_pool, MD_JSON_FMT_COMPACT));

    text = "{\"url\": \"" CA "/acct/1\"}";
    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, text, strlen(text)));
    ck_assert_int_eq(APR_EINVAL, md_acme_acct_from_json(&acct, json, md_test_pool));
}
END_TEST

/* --- orders ------------------------------------------------------------------------- */

START_TEST(test_order_domains)
{
    apr_array_header_t *domains = apr_array_make(md_test_pool, 5, sizeof(const char *));
    md_t *md;

    APR_ARRAY_PUSH(domains, const char *) = "example.org";
    APR_ARRAY_PUSH(domains, const char *) = "*.example.org";
    APR_ARRAY_PUSH(domains, const char *) = "www.example.org";
    APR_ARRAY_PUSH(domains, const char *) = "a.b.example.org";
    md = md_create(md_test_pool, domains);
    ck_assert_str_eq("example.org *.example.org a.b.example.org",
                     md_array_str_join(md_acme_order_domains(md, md_test_pool), " ",
                                       md_test_pool));
}
END_TEST

START_TEST(test_order_json)
{
    const char *text = "{\"url\": \"" CA "/order/1\", \"status\": \"pending\", "
        "\"authorizations\": [\"" CA "/authz/1\", \"" CA "/authz/2\"], "
        "\"challenge-setups\": [\"http-01:a.org\", \"dns-01:b.org tok\"], "
        "\"finalize\": \"" CA "/finalize/1\"}";
    md_json_t *json;
    md_acme_order_t *order;

    ck_assert_int_eq(APR_SUCCESS, md_json_readd(&json, md_test_pool, text, strlen(text)));
    order = md_acme_order_from_json(json, md_test_pool);
    ck_assert_int_eq(MD_ACME_ORDER_ST_PENDING, order->status);
    ck_assert_int_eq(2, order->authz_urls->nelts);
    ck_assert_int_eq(2, order->challenge_setups->nelts);
    ck_assert_ptr_null(order->certificate);
    ck_assert_str_eq(md_json_writep(json, md_test_pool, MD_JSON_FMT_COMPACT),
                     md_json_writep(md_acme_order_to_json(order, md_test_pool),
                                    md_test_pool, MD_JSON_FMT_COMPACT));
    ck_assert_int_eq(MD_ACME_ORDER_ST_INVALID, md_acme_order_st_parse("bogus"));
    ck_assert_str_eq("processing", md_acme_order_st_str(MD_ACME_ORDER_ST_PROCESSING));
}
END_TEST

/* --- ARI ------------------------------------------------------------------------------ */

typedef struct {
    const char *s;
    apr_int64_t secs;       /* since the epoch, -1: not parseable */
} rfc3339_case;

static const rfc3339_case rfc3339_cases[] = {
    { "1970-01-01T00:00:00Z", 0 },
    { "2026-11-30T11:54:24Z", 1796039664 },
    { "2026-11-30t11:54:24.123456z", 1796039664 },
    { "2026-11-30T12:54:24+01:00", 1796039664 },
    { "2026-11-30T10:24:24-01:30", 1796039664 },
    { "2026-11-30 11:54:24Z", 1796039664 },
    { "2026-11-30T11:54:24", -1 },
    { "Mon, 30 Nov 2026 11:54:24 GMT", -1 },
    { "", -1 },
};

START_TEST(test_rfc3339)
{
    const rfc3339_case *c = &rfc3339_cases[_i];
    apr_time_t t = md_acme_parse_rfc3339(c->s);

    if (c->secs < 0) {
        ck_assert_int_eq(0, t);
    }
    else if (c->secs > 0) {
        ck_assert_int_eq(c->secs, apr_time_sec(t));
    }
}
END_TEST

/* The directory with a renewalInfo URL. */
#define A_DIR_ARI(url) { "GET", "/dir", 0, 200, J, NULL, "{\"newNonce\": \"" CA "/nonce\", " \
                         "\"newAccount\": \"" CA "/new-acct\", \"newOrder\": \"" CA \
                         "/new-order\", \"renewalInfo\": \"" url "\"}", NULL, NULL }

START_TEST(test_ari_get)
{
    static const md_test_answer_t script[] = {
        A_DIR_ARI(CA "/ari/"),
        { "GET", "/ari/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", 0, 200, J, NULL,
          "{\"suggestedWindow\": {\"start\": \"2026-11-30T11:54:24Z\", "
          "\"end\": \"2026-12-01T11:54:24Z\"}, \"explanationURL\": "
          "\"https://ca.test/why\"}", NULL, "21600" },
        { "GET", "/ari/bad.id", 0, 200, J, NULL,
          "{\"suggestedWindow\": {\"start\": \"2026-12-01T11:54:24Z\", "
          "\"end\": \"2026-11-30T11:54:24Z\"}}", NULL, NULL },
    };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_acme_ari_t *ari;
    md_acme_t *acme;

    fake_start(script, N(script));
    acme = acme_setup(result);
    ck_assert_int_eq(APR_SUCCESS, md_acme_ari_get(&ari, acme,
                                                  "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
                                                  result, md_test_pool));
    ck_assert_int_eq(1796039664, apr_time_sec(ari->start));
    ck_assert_int_eq(1796039664 + 86400, apr_time_sec(ari->end));
    ck_assert_str_eq("https://ca.test/why", ari->explanation_url);
    ck_assert_int_eq(21600, apr_time_sec(ari->retry_after));
    ck_assert_int_eq(APR_EINVAL, md_acme_ari_get(&ari, acme, "bad.id", result,
                                                 md_test_pool));
    ck_assert_ptr_null(ari);
    acme->api.renewal_info = NULL;
    ck_assert_int_eq(APR_ENOTIMPL, md_acme_ari_get(&ari, acme, "x.y", result,
                                                   md_test_pool));
}
END_TEST

START_TEST(test_ari_empty_url)
{
    /* "renewalInfo": "" is no ARI endpoint (the URL building read the byte
     * before the empty string and then asked the CA for "/<cert-id>") */
    static const md_test_answer_t script[] = {
        A_DIR_ARI(""),
    };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_acme_ari_t *ari;
    md_acme_t *acme;

    fake_start(script, N(script));
    acme = acme_setup(result);
    ck_assert_ptr_null(acme->api.renewal_info);
    ck_assert_int_eq(APR_ENOTIMPL, md_acme_ari_get(&ari, acme, "aYhba4dGQEHhs3uEe6CuLN4.AI",
                                                   result, md_test_pool));
    ck_assert_ptr_null(ari);
    ck_assert_int_eq(1, md_test_http.requests);
}
END_TEST

/* --- a full renewal against the fake CA ---------------------------------------------- */

#define ORDER_PENDING "{\"status\": \"pending\", \"identifiers\": [{\"type\": \"dns\", " \
    "\"value\": \"example.org\"}], \"authorizations\": [\"" CA "/authz/1\"], " \
    "\"finalize\": \"" CA "/finalize/1\"}"
#define ORDER_READY "{\"status\": \"ready\", \"identifiers\": [{\"type\": \"dns\", " \
    "\"value\": \"example.org\"}], \"authorizations\": [\"" CA "/authz/1\"], " \
    "\"finalize\": \"" CA "/finalize/1\"}"
#define ORDER_PROCESSING "{\"status\": \"processing\", \"identifiers\": [{\"type\": " \
    "\"dns\", \"value\": \"example.org\"}], \"authorizations\": [\"" CA "/authz/1\"], " \
    "\"finalize\": \"" CA "/finalize/1\"}"
#define ORDER_VALID "{\"status\": \"valid\", \"identifiers\": [{\"type\": \"dns\", " \
    "\"value\": \"example.org\"}], \"authorizations\": [\"" CA "/authz/1\"], " \
    "\"finalize\": \"" CA "/finalize/1\", \"certificate\": \"" CA "/cert/1\"}"
#define AUTHZ(status, chastatus, types) "{\"status\": \"" status "\", " \
    "\"identifier\": {\"type\": \"dns\", \"value\": \"example.org\"}, " \
    "\"challenges\": [" types "]}"
#define CHA(type, status) "{\"type\": \"" type "\", \"url\": \"" CA "/cha/" type "\", " \
    "\"token\": \"tok_" type "\", \"status\": \"" status "\"}"
#define ACCT_JSON "{\"status\": \"valid\", \"contact\": [\"mailto:admin@example.org\"], " \
    "\"orders\": \"" CA "/orders/1\"}"

/* The certificate: self-signed with the key the driver staged. */
static const char *cert_body(md_http_request_t *req)
{
    md_pkey_spec_t *spec = md_pkeys_spec_get(NULL, 0);
    apr_array_header_t *domains = apr_array_make(req->pool, 1, sizeof(const char *));
    md_pkey_t *pkey;
    md_cert_t *cert;
    const char *pem;

    ck_assert_int_eq(APR_SUCCESS, md_store_pkey_load(ca_store, MD_SG_STAGING,
                                                     "example.org", spec, &pkey,
                                                     req->pool));
    APR_ARRAY_PUSH(domains, const char *) = "example.org";
    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "example.org", domains,
                                                        pkey, apr_time_from_sec(3600),
                                                        req->pool));
    ck_assert_int_eq(APR_SUCCESS, md_cert_to_pem(&pem, cert, req->pool));
    return pem;
}

/* Certificates a CA should not send: for other names, signed by another
 * issuer than the chain's next certificate, or expired (by the drive's
 * clock, moved ahead). */
typedef enum { BAD_NAMES, BAD_MORE_NAMES, BAD_ISSUER, BAD_EXPIRED } bad_cert;
static bad_cert bad_kind;

static const char *bad_cert_body(md_http_request_t *req)
{
    md_pkey_spec_t *spec = md_pkeys_spec_get(NULL, 0);
    apr_array_header_t *domains = apr_array_make(req->pool, 2, sizeof(const char *));
    apr_array_header_t *chain = apr_array_make(req->pool, 2, sizeof(md_cert_t *));
    md_pkey_t *pkey, *other;
    md_cert_t *cert;
    const char *pem;

    ck_assert_int_eq(APR_SUCCESS, md_store_pkey_load(ca_store, MD_SG_STAGING,
                                                     "example.org", spec, &pkey,
                                                     req->pool));
    APR_ARRAY_PUSH(domains, const char *) =
        (BAD_NAMES == bad_kind) ? "other.example.net" : "example.org";
    if (BAD_MORE_NAMES == bad_kind) {
        APR_ARRAY_PUSH(domains, const char *) = "other.example.net";
    }
    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "example.org", domains,
                                                        pkey, apr_time_from_sec(3600),
                                                        req->pool));
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    if (BAD_ISSUER == bad_kind) {
        ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&other, req->pool, spec));
        ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "example.org",
                                                            domains, other,
                                                            apr_time_from_sec(3600),
                                                            req->pool));
        APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    }
    ck_assert_int_eq(APR_SUCCESS, md_chain_to_pem(&pem, chain, req->pool));
    return pem;
}

static apr_time_t two_hours_ahead(void *baton)
{
    (void)baton;
    return apr_time_now() + apr_time_from_sec(7200);
}

static const md_test_answer_t renew_script[] = {
    A_DIR,
    A_NONCE,
    { "POST", "/new-acct", 0, 201, J, "/acct/1", ACCT_JSON, NULL, NULL },
    { "POST", "/new-order", 0, 201, J, "/order/1", ORDER_PENDING, NULL, NULL },
    { "POST", "/authz/1", 0, 200, J, NULL,
      AUTHZ("pending", "pending", CHA("dns-01", "pending") "," CHA("http-01", "pending")),
      NULL, NULL },
    { "POST", "/cha/http-01", 0, 200, J, NULL, CHA("http-01", "processing"), NULL, NULL },
    { "POST", "/authz/1", 0, 200, J, NULL,
      AUTHZ("pending", "processing", CHA("http-01", "processing")), NULL, "0" },
    { "POST", "/authz/1", 0, 200, J, NULL,
      AUTHZ("valid", "valid", CHA("http-01", "valid")), NULL, NULL },
    /* all authorizations valid: finalized without asking for the order */
    { "POST", "/finalize/1", 0, 200, J, NULL, ORDER_PROCESSING, NULL, "0" },
    { "POST", "/order/1", 0, 200, J, NULL, ORDER_VALID, NULL, NULL },
    { "POST", "/cert/1", 0, 200, "application/pem-certificate-chain", NULL, NULL,
      cert_body, NULL },
};

static const char *expected_activities[] = {
    "Contacting ACME server for example.org at " DIR_URL,
    "Selecting account to use for example.org",
    "Creating new ACME account for example.org",
    "Driving ACME to renew rsa certificate for example.org",
    "Creating new order, key-spec=default, profile=classic, replacing-cert=none",
    "Starting challenges for domains",
    "Setting up challenge 'http-01' for domain example.org",
    "Monitoring challenge status for example.org",
    "Finalizing order for example.org",
    "Creating rsa CSR",
    "Submitting rsa CSR to CA",
    "Waiting for finalized order to become valid",
    "Retrieving rsa certificate chain for example.org",
};

typedef struct {
    apr_array_header_t *activities;
    apr_array_header_t *events;
    const char *http01;         /* the http-01 file at set-up time */
    int veto;
} renew_watch;

static void on_result_change(md_result_t *result, void *baton)
{
    renew_watch *w = baton;
    int n = w->activities->nelts;

    if (result->activity
        && (!n || strcmp(APR_ARRAY_IDX(w->activities, n - 1, const char *),
                         result->activity))) {
        APR_ARRAY_PUSH(w->activities, const char *) = apr_pstrdup(md_test_pool,
                                                                  result->activity);
    }
}

static int on_setup(void *baton, const char *md_name, const char *type,
                    const char *domain, apr_pool_t *p)
{
    renew_watch *w = baton;

    APR_ARRAY_PUSH(w->events, const char *) =
        apr_psprintf(md_test_pool, "%s challenge-setup:%s:%s", md_name, type, domain);
    if (!strcmp("http-01", type)) {
        md_store_load(ca_store, MD_SG_CHALLENGES, domain, MD_FN_HTTP01, MD_SV_TEXT,
                      (void **)&w->http01, md_test_pool);
    }
    (void)p;
    return w->veto;
}

static md_t *renew_md(void)
{
    apr_array_header_t *domains = apr_array_make(md_test_pool, 1, sizeof(const char *));
    md_t *md;

    APR_ARRAY_PUSH(domains, const char *) = "example.org";
    md = md_create(md_test_pool, domains);
    md->ca_urls = apr_array_make(md_test_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_urls, const char *) = DIR_URL;
    APR_ARRAY_PUSH(md->contacts, const char *) = "mailto:admin@example.org";
    md->ca_agreement = "accepted";
    md->profile = "classic";
    md->must_staple = 0;
    return md;
}

static md_store_t *renew_store(void)
{
    md_store_t *store = NULL;

    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, md_test_pool,
                                                   md_test_mkdtemp(md_test_pool)));
    ca_store = store;
    return store;
}

START_TEST(test_renew)
{
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_acme_drive_opts_t opts;
    md_store_t *store;
    md_json_t *payload;
    md_t *md = renew_md(), *staged;
    apr_array_header_t *chain;
    const char *thumb;
    md_pkey_t *acct_key;
    md_acme_acct_t *acct;
    renew_watch w;
    int i;

    fake_start(renew_script, N(renew_script));
    store = renew_store();
    memset(&w, 0, sizeof(w));
    w.activities = apr_array_make(md_test_pool, 20, sizeof(const char *));
    w.events = apr_array_make(md_test_pool, 5, sizeof(const char *));
    md_result_on_change(result, on_result_change, &w);
    md_acme_drive_opts_init(&opts);
    opts.on_challenge_setup = on_setup;
    opts.on_challenge_setup_baton = &w;
    md->ca_challenges = apr_array_make(md_test_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_challenges, const char *) = "tls-alpn-01";
    APR_ARRAY_PUSH(md->ca_challenges, const char *) = "http-01";

    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_renew(store, md, &opts, result,
                                                      md_test_pool));
    ck_assert_int_eq(N(renew_script), md_test_http.requests);
    ck_assert_int_eq(APR_SUCCESS, result->status);
    ck_assert_msg(!strncmp("The certificate for the managed domain has been renewed "
                           "successfully and can be used (valid since ", result->detail,
                           90), "detail: %s", result->detail);
    ck_assert(result->ready_at > 0);
    for (i = 0; i < N(expected_activities) && i < w.activities->nelts; ++i) {
        ck_assert_str_eq(expected_activities[i],
                         APR_ARRAY_IDX(w.activities, i, const char *));
    }
    ck_assert_int_eq(N(expected_activities), w.activities->nelts);
    ck_assert_int_eq(1, w.events->nelts);
    ck_assert_str_eq("example.org challenge-setup:http-01:example.org",
                     APR_ARRAY_IDX(w.events, 0, const char *));

    /* newAccount: jwk, contact, ToS; newOrder: identifiers and profile */
    ck_assert(md_json_has_key(req_part(2, "protected"), "jwk", NULL));
    payload = req_part(2, "payload");
    ck_assert(md_json_getb(payload, "termsOfServiceAgreed", NULL));
    ck_assert_str_eq("[\"mailto:admin@example.org\"]",
                     md_json_writep(md_json_getj(payload, "contact", NULL), md_test_pool,
                                    MD_JSON_FMT_COMPACT));
    payload = req_part(3, "payload");
    ck_assert_str_eq("classic", md_json_gets(payload, "profile", NULL));
    ck_assert_int_eq(1, md_json_array_size(payload, "identifiers", NULL));
    ck_assert_str_eq(CA "/acct/1", md_json_gets(req_part(3, "protected"), "kid", NULL));
    ck_assert(md_json_has_key(req_part(8, "payload"), "csr", NULL));

    /* the staged account, its key authorization in the http-01 file */
    ck_assert_int_eq(APR_SUCCESS, md_acme_acct_load(&acct, &acct_key, store,
                                                    MD_SG_STAGING, "example.org",
                                                    md_test_pool));
    ck_assert_str_eq(CA "/acct/1", acct->url);
    ck_assert_int_eq(MD_ACME_ACCT_ST_VALID, acct->status);
    ck_assert_int_eq(APR_SUCCESS, md_pkey_jwk_thumbprint(&thumb, acct_key, md_test_pool));
    ck_assert_ptr_nonnull(w.http01);
    ck_assert_str_eq(apr_pstrcat(md_test_pool, "tok_http-01.", thumb, NULL), w.http01);

    /* the finished order was purged, its challenge data torn down */
    ck_assert(!md_store_exists(store, MD_SG_STAGING, "example.org", MD_FN_ORDER,
                               md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_CHALLENGES, "example.org", MD_FN_HTTP01,
                               md_test_pool));

    /* md.json and the chain in staging */
    ck_assert_int_eq(APR_SUCCESS, md_store_md_load(store, MD_SG_STAGING, "example.org",
                                                   &staged, md_test_pool));
    ck_assert_str_eq(DIR_URL, staged->ca_effective);
    ck_assert_ptr_null(staged->ca_account);
    ck_assert_int_eq(APR_SUCCESS, md_store_chain_load(store, MD_SG_STAGING, "example.org",
                                                      md_pkeys_spec_get(NULL, 0), &chain,
                                                      md_test_pool));
    ck_assert_int_eq(1, chain->nelts);

    /* activation helper: staged account into accounts/ */
    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_activate_account(store, staged,
                                                                 md_test_pool));
    ck_assert_str_eq("ACME-ca.test-0000", staged->ca_account);
    ck_assert(md_store_exists(store, MD_SG_ACCOUNTS, "ACME-ca.test-0000", MD_FN_ACCOUNT,
                              md_test_pool));
    /* the staged copy goes with staging/NAME; a second run finds the same */
    staged->ca_account = NULL;
    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_activate_account(store, staged,
                                                                 md_test_pool));
    ck_assert_str_eq("ACME-ca.test-0000", staged->ca_account);
}
END_TEST

/* A valid account at the fake CA saved as accounts/ACME-ca.test-0000. */
static md_acme_acct_t *stored_acct(md_store_t *store, const char *url, md_pkey_t **ppkey)
{
    md_acme_acct_t *acct = apr_pcalloc(md_test_pool, sizeof(*acct));
    md_pkey_spec_t spec = { MD_PKEY_TYPE_EC, 0, "P-256" };

    ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(ppkey, md_test_pool, &spec));
    acct->url = url;
    acct->ca_url = DIR_URL;
    acct->status = MD_ACME_ACCT_ST_VALID;
    ck_assert_int_eq(APR_SUCCESS, md_acme_acct_save(store, md_test_pool, acct, *ppkey));
    ck_assert_str_eq("ACME-ca.test-0000", acct->id);
    return acct;
}

START_TEST(test_activate_known_account)
{
    /* the staged account is one accounts/ already holds: its id must outlive
     * the store's iteration pool. The pool's allocator keeps no free memory,
     * so a read after the store destroyed that pool is a use-after-free that
     * AddressSanitizer reports. */
    apr_allocator_t *allocator;
    apr_pool_t *strict;
    md_store_t *store = renew_store();
    md_pkey_t *pkey;
    md_acme_acct_t *acct = stored_acct(store, CA "/acct/7", &pkey);
    md_t *md = renew_md();

    acct->id = NULL;
    ck_assert_int_eq(APR_SUCCESS, md_acme_acct_save_in(store, md_test_pool, MD_SG_STAGING,
                                                       md->name, acct, pkey));

    ck_assert_int_eq(APR_SUCCESS, apr_allocator_create(&allocator));
    apr_allocator_max_free_set(allocator, 1);
    ck_assert_int_eq(APR_SUCCESS, apr_pool_create_ex(&strict, md_test_pool, NULL,
                                                     allocator));
    apr_allocator_owner_set(allocator, strict);
    md->ca_account = NULL;
    md->ca_effective = DIR_URL;     /* an account is taken over for its own CA only */
    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_activate_account(store, md, strict));
    ck_assert_str_eq("ACME-ca.test-0000", md->ca_account);
    ck_assert(!md_store_exists(store, MD_SG_ACCOUNTS, "ACME-ca.test-0001", MD_FN_ACCOUNT,
                               md_test_pool));
    apr_pool_destroy(strict);
}
END_TEST

static const char *bad_cert_details[] = {
    "it is for 'other.example.net', which is not a name of the MD",
    "it is for 'other.example.net', which is not a name of the MD",
    "it is not signed by the next certificate of the chain (issuer /CN=example.org, "
    "next is /CN=example.org)",
    "it expired on ",
};

START_TEST(test_renew_bad_cert)
{
    md_test_answer_t script[N(renew_script)];
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_acme_drive_opts_t opts;
    md_store_t *store;
    md_t *md = renew_md();

    bad_kind = (bad_cert)_i;
    memcpy(script, renew_script, sizeof(script));
    script[N(script) - 1].body_fn = bad_cert_body;
    fake_start(script, N(script));
    store = renew_store();
    md_acme_drive_opts_init(&opts);
    if (BAD_EXPIRED == bad_kind) {
        opts.now_cb = two_hours_ahead;
    }
    ck_assert_int_eq(APR_EINVAL, md_acme_drive_renew(store, md, &opts, result,
                                                     md_test_pool));
    ck_assert_int_eq(N(script), md_test_http.requests);
    ck_assert_msg(result->detail
                  && strstr(result->detail, "The rsa certificate the ACME server at <"
                            DIR_URL "> sent for example.org (order " CA "/order/1) is "
                            "not used: ")
                  && strstr(result->detail, bad_cert_details[_i]),
                  "detail: %s", result->detail);
    /* nothing was staged that activation could pick up */
    ck_assert(!md_store_exists(store, MD_SG_STAGING, "example.org", MD_FN_PUBCERT,
                               md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_STAGING, "example.org", MD_FN_MD,
                               md_test_pool));
}
END_TEST

/* The account cache is shared by renewal threads: it must not allocate from
 * the pool it was created from (the server's, used by other threads without
 * its lock). Two allocations from that pool around a renewal that fills
 * the cache lie next to each other when nothing else took memory from it. */
START_TEST(test_renew_acct_cache_pool)
{
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_acme_drive_opts_t opts;
    apr_pool_t *server_pool;
    char *before, *after;
    md_t *md = renew_md();

    fake_start(renew_script, N(renew_script));
    renew_store();
    ck_assert_int_eq(APR_SUCCESS, apr_pool_create(&server_pool, md_test_pool));
    md_acme_drive_opts_init(&opts);
    ck_assert_int_eq(APR_SUCCESS, md_acme_acct_cache_create(&opts.acct_cache,
                                                            server_pool));
    before = apr_palloc(server_pool, 8);
    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_renew(ca_store, md, &opts, result,
                                                      md_test_pool));
    after = apr_palloc(server_pool, 8);
    ck_assert_msg(after == before + 8, "the cache took %ld bytes from the server's pool",
                  (long)(after - before - 8));
    apr_pool_destroy(server_pool);
}
END_TEST

START_TEST(test_renew_acct_unreachable)
{
    /* a stored account that cannot be checked is no reason to register anew */
    static const md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/acct/1", APR_ECONNREFUSED, 0, NULL, NULL, NULL, NULL, NULL },
    };
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_store_t *store;
    md_pkey_t *pkey;
    md_t *md = renew_md();

    fake_start(script, N(script));
    store = renew_store();
    stored_acct(store, CA "/acct/1", &pkey);
    ck_assert_int_eq(APR_ECONNREFUSED, md_acme_drive_renew(store, md, NULL, result,
                                                           md_test_pool));
    ck_assert_int_eq(N(script), md_test_http.requests);
    ck_assert_int_eq(APR_ECONNREFUSED, result->status);
}
END_TEST

static apr_time_t clock_3h_behind(void *baton)
{
    (void)baton;
    return apr_time_now() - apr_time_from_sec(3 * 3600);
}

/* A server clock behind the CA's (notBefore in its future) does not hold
 * the new certificate back, with or without an activation delay; a
 * warning names both times. */
static void renew_clock_behind(apr_interval_time_t delay, apr_time_t current_until)
{
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_acme_drive_opts_t opts;
    md_store_t *store;
    md_t *md = renew_md();
    apr_time_t before, after;
    const char *log;

    fake_start(renew_script, N(renew_script));
    store = renew_store();
    md_acme_drive_opts_init(&opts);
    opts.now_cb = clock_3h_behind;
    opts.activation_delay = delay;
    opts.current_until = current_until;
    md->ca_challenges = apr_array_make(md_test_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_challenges, const char *) = "http-01";
    md_test_log_start(MD_LOG_WARNING);
    before = clock_3h_behind(NULL);
    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_renew(store, md, &opts, result,
                                                      md_test_pool));
    after = clock_3h_behind(NULL);
    md_test_log_stop();
    log = md_test_log_text();
    ck_assert_int_eq(APR_SUCCESS, result->status);
    ck_assert_msg(strstr(log, "AH10680: example.org: the new certificate is valid "
                         "from ") != NULL, "log: %s", log);
    ck_assert_msg(strstr(log, "this server's clock seems to be behind the CA's")
                  != NULL, "log: %s", log);
    if (delay <= 0 || !current_until) {
        ck_assert(result->ready_at >= before && result->ready_at <= after);
        ck_assert_msg(strstr(result->detail, "can be used (valid since ") != NULL,
                      "detail: %s", result->detail);
    }
    else {
        /* the delay counts from the local time, not from the CA's */
        ck_assert(result->ready_at >= before + delay && result->ready_at <= after + delay);
        ck_assert_msg(strstr(result->detail, "can be used from ") != NULL,
                      "detail: %s", result->detail);
    }
}

START_TEST(test_renew_clock_behind)
{
    apr_time_t current_until = apr_time_now() + apr_time_from_sec(10 * 86400);

    renew_clock_behind(0, 0);
    renew_clock_behind(apr_time_from_sec(86400), 0);
    renew_clock_behind(apr_time_from_sec(86400), current_until);
}
END_TEST

START_TEST(test_order_purge)
{
    md_store_t *store = renew_store();
    md_acme_order_t *order = md_acme_order_create(md_test_pool);
    md_t *md = renew_md();

    APR_ARRAY_PUSH(md->domains, const char *) = "www.example.org";
    APR_ARRAY_PUSH(order->challenge_setups, const char *) = "http-01:example.org";
    APR_ARRAY_PUSH(order->challenge_setups, const char *) = "tls-alpn-01:www.example.org";
    /* order.json is writable by the httpd User: names of other MDs are
     * not torn down */
    APR_ARRAY_PUSH(order->challenge_setups, const char *) = "http-01:other.example.net";
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_CHALLENGES,
                                                "other.example.net", MD_FN_HTTP01,
                                                MD_SV_TEXT, (void *)"e.f", 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_CHALLENGES,
                                                "example.org", MD_FN_HTTP01, MD_SV_TEXT,
                                                (void *)"a.b", 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_save(store, md_test_pool, MD_SG_CHALLENGES,
                                                "www.example.org", MD_FN_HTTP01,
                                                MD_SV_TEXT, (void *)"c.d", 0));
    ck_assert_int_eq(APR_SUCCESS, md_acme_order_save(store, md_test_pool, MD_SG_STAGING,
                                                     "example.org", order));
    ck_assert_int_eq(APR_SUCCESS, md_acme_order_purge(store, md_test_pool, MD_SG_STAGING,
                                                      md, NULL, 1));
    ck_assert(!md_store_exists(store, MD_SG_STAGING, "example.org", MD_FN_ORDER,
                               md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_CHALLENGES, "example.org", MD_FN_HTTP01,
                               md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_CHALLENGES, "www.example.org", MD_FN_HTTP01,
                               md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_CHALLENGES, "other.example.net", MD_FN_HTTP01,
                              md_test_pool));
    /* nothing to purge is fine */
    ck_assert_int_eq(APR_SUCCESS, md_acme_order_purge(store, md_test_pool, MD_SG_STAGING,
                                                      md, NULL, 1));
}
END_TEST

/* A new account and order whose one http-01 authorization becomes valid. */
#define UP_TO_FINALIZE \
    A_DIR, \
    A_NONCE, \
    { "POST", "/new-acct", 0, 201, J, "/acct/1", ACCT_JSON, NULL, NULL }, \
    { "POST", "/new-order", 0, 201, J, "/order/1", ORDER_PENDING, NULL, NULL }, \
    { "POST", "/authz/1", 0, 200, J, NULL, \
      AUTHZ("pending", "pending", CHA("http-01", "pending")), NULL, NULL }, \
    { "POST", "/cha/http-01", 0, 200, J, NULL, CHA("http-01", "processing"), NULL, \
      NULL }, \
    { "POST", "/authz/1", 0, 200, J, NULL, \
      AUTHZ("valid", "valid", CHA("http-01", "valid")), NULL, NULL }

static md_t *http01_md(void)
{
    md_t *md = renew_md();

    md->ca_challenges = apr_array_make(md_test_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_challenges, const char *) = "http-01";
    return md;
}

/* A CA that does not see the order ready yet when the authorizations are:
 * orderNotReady on finalize, then the order is awaited and finalized again. */
START_TEST(test_renew_order_not_ready)
{
    static const md_test_answer_t script[] = {
        UP_TO_FINALIZE,
        { "POST", "/finalize/1", 0, 403, PJ, NULL,
          "{\"type\": \"urn:ietf:params:acme:error:orderNotReady\", "
          "\"detail\": \"not yet\"}", NULL, NULL },
        { "POST", "/order/1", 0, 200, J, NULL, ORDER_PENDING, NULL, "0" },
        { "POST", "/order/1", 0, 200, J, NULL, ORDER_READY, NULL, NULL },
        { "POST", "/finalize/1", 0, 200, J, NULL, ORDER_PROCESSING, NULL, "0" },
        { "POST", "/order/1", 0, 200, J, NULL, ORDER_VALID, NULL, NULL },
        { "POST", "/cert/1", 0, 200, "application/pem-certificate-chain", NULL, NULL,
          cert_body, NULL },
    };
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_acme_drive_opts_t opts;
    md_store_t *store;
    md_t *md = http01_md();

    fake_start(script, N(script));
    store = renew_store();
    md_acme_drive_opts_init(&opts);
    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_renew(store, md, &opts, result,
                                                      md_test_pool));
    ck_assert_int_eq(N(script), md_test_http.requests);
    ck_assert_int_eq(APR_SUCCESS, result->status);
    ck_assert(md_json_has_key(req_part(7, "payload"), "csr", NULL));
    ck_assert(md_json_has_key(req_part(10, "payload"), "csr", NULL));
}
END_TEST

/* A CA that no longer takes Must-Staple: its badCSR answer to the CSR with
 * the TLS feature becomes a detail that names the cause and the fix; the
 * same problem without 'MDMustStaple on' stays the CA's own words. */
static const char *const must_staple_detail =
    "Error finalizing order :: OCSP must-staple extension is no longer available";

START_TEST(test_renew_must_staple_rejected)
{
    static const md_test_answer_t script[] = {
        UP_TO_FINALIZE,
        { "POST", "/finalize/1", 0, 400, PJ, NULL,
          "{\"type\": \"urn:ietf:params:acme:error:badCSR\", "
          "\"detail\": \"Error finalizing order :: OCSP must-staple extension is no "
          "longer available\"}", NULL, NULL },
    };
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_store_t *store;
    md_t *md = http01_md();

    fake_start(script, N(script));
    store = renew_store();
    md->must_staple = _i ? 0 : 1;
    ck_assert_int_ne(APR_SUCCESS, md_acme_drive_renew(store, md, NULL, result,
                                                      md_test_pool));
    ck_assert_str_eq("urn:ietf:params:acme:error:badCSR", result->problem);
    if (md->must_staple) {
        ck_assert_str_eq("The CA " DIR_URL " rejects the Must-Staple extension that "
                         "'MDMustStaple on' puts into the CSR for example.org (it may no "
                         "longer run OCSP). Switch MDMustStaple off for this MD. The CA "
                         "said: Error finalizing order :: OCSP must-staple extension is "
                         "no longer available", result->detail);
    }
    else {
        ck_assert_str_eq(must_staple_detail, result->detail);
    }
}
END_TEST

typedef struct {
    const char *type;
    const char *detail;
    int rejects;
} staple_problem_case;

static const staple_problem_case staple_problem_cases[] = {
    { "urn:ietf:params:acme:error:badCSR", "must-staple is not supported", 1 },
    { "urn:ietf:params:acme:error:badCSR", "CSR has the TLS Feature extension", 1 },
    { "urn:ietf:params:acme:error:badCSR", "extension 1.3.6.1.5.5.7.1.24 refused", 1 },
    { "urn:ietf:params:acme:error:malformed", "Must Staple requested", 1 },
    { "urn:ietf:params:acme:error:badCSR", "key too small", 0 },
    { "urn:ietf:params:acme:error:rateLimited", "must-staple orders limited", 0 },
    { "badCSR", "must-staple", 0 },             /* not an ACME problem type */
    { "urn:ietf:params:acme:error:badCSR", NULL, 0 },
    { NULL, "must-staple", 0 },
};

START_TEST(test_problem_rejects_must_staple)
{
    const staple_problem_case *c = &staple_problem_cases[_i];

    ck_assert_int_eq(c->rejects, md_acme_problem_rejects_must_staple(c->type, c->detail));
}
END_TEST

START_TEST(test_renew_resume)
{
    /* a second run finds the order in staging (and everything done) */
    static const md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/acct/1", 0, 200, J, NULL, ACCT_JSON, NULL, NULL },
        /* valid with a certificate: no second look at the order */
        { "POST", "/order/1", 0, 200, J, NULL, ORDER_VALID, NULL, NULL },
        { "POST", "/cert/1", 0, 200, "application/pem-certificate-chain", NULL, NULL,
          cert_body, NULL },
    };
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_store_t *store;
    md_t *md = renew_md();
    renew_watch w;
    int i, loaded = 0;

    fake_start(renew_script, N(renew_script));
    store = renew_store();
    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_renew(store, md, NULL, result,
                                                      md_test_pool));
    /* forget the chain, keep key and account, and leave an order as a
     * renewal interrupted after finalizing would */
    md_store_remove(store, MD_SG_STAGING, "example.org", MD_FN_PUBCERT, md_test_pool, 0);
    {
        md_acme_order_t *order = md_acme_order_create(md_test_pool);

        order->url = CA "/order/1";
        order->status = MD_ACME_ORDER_ST_PROCESSING;
        APR_ARRAY_PUSH(order->authz_urls, const char *) = CA "/authz/1";
        order->finalize = CA "/finalize/1";
        ck_assert_int_eq(APR_SUCCESS, md_acme_order_save(store, md_test_pool,
                                                         MD_SG_STAGING, "example.org",
                                                         order));
    }

    fake_start(script, N(script));
    ca_store = store;
    memset(&w, 0, sizeof(w));
    w.activities = apr_array_make(md_test_pool, 20, sizeof(const char *));
    result = md_result_md_make(md_test_pool, "example.org");
    md_result_on_change(result, on_result_change, &w);
    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_renew(store, md, NULL, result,
                                                      md_test_pool));
    ck_assert_int_eq(N(script), md_test_http.requests);
    for (i = 0; i < w.activities->nelts; ++i) {
        if (!strcmp("Loaded order from staging",
                    APR_ARRAY_IDX(w.activities, i, const char *))) {
            loaded = 1;
        }
    }
    ck_assert(loaded);
}
END_TEST

static const md_test_answer_t mismatch_script[] = {
    A_DIR, A_NONCE,
    { "POST", "/new-acct", 0, 201, J, "/acct/1", ACCT_JSON, NULL, NULL },
    { "POST", "/new-order", 0, 201, J, "/order/1", ORDER_PENDING, NULL, NULL },
    { "POST", "/authz/1", 0, 200, J, NULL,
      AUTHZ("pending", "pending", CHA("dns-01", "pending") "," CHA("tls-alpn-01",
            "pending")), NULL, NULL },
};

START_TEST(test_renew_challenge_mismatch)
{
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_store_t *store;
    md_t *md = renew_md();

    md->profile = NULL;
    fake_start(mismatch_script, N(mismatch_script));
    store = renew_store();
    ck_assert_int_eq(APR_EINVAL, md_acme_drive_renew(store, md, NULL, result,
                                                     md_test_pool));
    ck_assert_str_eq(MD_PROBLEM_CHALLENGE_MISMATCH, result->problem);
    ck_assert_str_eq("None of offered challenge types for domain example.org are "
                     "supported. The server offered 'dns-01 tls-alpn-01' and available "
                     "are: 'http-01 tls-alpn-01'.", result->detail);
}
END_TEST

static const md_test_answer_t veto_script[] = {
    A_DIR, A_NONCE,
    { "POST", "/new-acct", 0, 201, J, "/acct/1", ACCT_JSON, NULL, NULL },
    { "POST", "/new-order", 0, 201, J, "/order/1", ORDER_PENDING, NULL, NULL },
    { "POST", "/authz/1", 0, 200, J, NULL,
      AUTHZ("pending", "pending", CHA("http-01", "pending")), NULL, NULL },
};

/* The host found no usable challenge type: the renewal fails at once with
 * its explanation, without asking any CA; configured types are used as
 * given. */
static const md_test_answer_t down_script[] = {
    { "GET", "/dir", APR_ECONNREFUSED, 0, NULL, NULL, NULL, NULL, NULL },
};

START_TEST(test_renew_no_challenges)
{
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_acme_drive_opts_t opts;
    md_store_t *store;
    md_t *md = renew_md();

    md_acme_drive_opts_init(&opts);
    opts.challenge_types = apr_array_make(md_test_pool, 1, sizeof(const char *));
    opts.no_challenges = "None of the ACME challenge methods configured for this domain "
                         "are suitable. The http: challenge 'http-01' is disabled.";
    fake_start(veto_script, 0);
    store = renew_store();
    ck_assert_int_eq(APR_EGENERAL, md_acme_drive_renew(store, md, &opts, result,
                                                       md_test_pool));
    ck_assert_int_eq(0, md_test_http.requests);
    ck_assert_int_eq(APR_EGENERAL, result->status);
    ck_assert_ptr_null(result->problem);
    ck_assert_str_eq(opts.no_challenges, result->detail);

    /* with MDCAChallenges the renewal goes on (to a CA that is down here) */
    md->ca_challenges = apr_array_make(md_test_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_challenges, const char *) = "http-01";
    fake_start(down_script, N(down_script));
    ck_assert_int_eq(APR_ECONNREFUSED, md_acme_drive_renew(store, md, &opts, result,
                                                           md_test_pool));
    ck_assert_int_eq(N(down_script), md_test_http.requests);
}
END_TEST

/* The retry of a vetoed set-up resumes the staged order: the stored http-01
 * data is the same, the event is raised again all the same. */
static const md_test_answer_t veto_retry_script[] = {
    A_DIR, A_NONCE,
    { "POST", "/acct/1", 0, 200, J, NULL, ACCT_JSON, NULL, NULL },
    { "POST", "/order/1", 0, 200, J, NULL, ORDER_PENDING, NULL, NULL },
    { "POST", "/authz/1", 0, 200, J, NULL,
      AUTHZ("pending", "pending", CHA("http-01", "pending")), NULL, NULL },
    /* the staged order did not work out: once more with a new one */
    { "POST", "/new-order", 0, 201, J, "/order/1", ORDER_PENDING, NULL, NULL },
    { "POST", "/authz/1", 0, 200, J, NULL,
      AUTHZ("pending", "pending", CHA("http-01", "pending")), NULL, NULL },
};

START_TEST(test_renew_setup_vetoed)
{
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_acme_drive_opts_t opts;
    md_store_t *store;
    md_t *md = renew_md();
    renew_watch w;
    int i;

    md->profile = NULL;
    memset(&w, 0, sizeof(w));
    w.activities = apr_array_make(md_test_pool, 20, sizeof(const char *));
    w.events = apr_array_make(md_test_pool, 5, sizeof(const char *));
    w.veto = 1;
    md_acme_drive_opts_init(&opts);
    opts.on_challenge_setup = on_setup;
    opts.on_challenge_setup_baton = &w;
    store = renew_store();
    for (i = 0; i < 2; ++i) {
        if (i) {
            fake_start(veto_retry_script, N(veto_retry_script));
        }
        else {
            fake_start(veto_script, N(veto_script));
        }
        ca_store = store;
        ck_assert_int_eq(APR_EGENERAL, md_acme_drive_renew(store, md, &opts, result,
                                                           md_test_pool));
        ck_assert_int_eq(i ? N(veto_retry_script) : N(veto_script),
                         md_test_http.requests);
        ck_assert_str_eq(MD_PROBLEM_CHALLENGE_SETUP, result->problem);
        ck_assert_str_eq("None of the offered challenge types http-01 offered for "
                         "domain example.org could be setup successfully. Please check "
                         "the log for errors.", result->detail);
        /* the retry sets up the resumed order and the new one */
        ck_assert_int_eq(i ? 3 : 1, w.events->nelts);
        ck_assert_str_eq("example.org challenge-setup:http-01:example.org",
                         APR_ARRAY_IDX(w.events, w.events->nelts - 1, const char *));
    }
}
END_TEST

static const md_test_answer_t invalid_script[] = {
    A_DIR, A_NONCE,
    { "POST", "/new-acct", 0, 201, J, "/acct/1", ACCT_JSON, NULL, NULL },
    { "POST", "/new-order", 0, 201, J, "/order/1", ORDER_PENDING, NULL, NULL },
    { "POST", "/authz/1", 0, 200, J, NULL,
      AUTHZ("pending", "pending", CHA("http-01", "pending")), NULL, NULL },
    { "POST", "/cha/http-01", 0, 200, J, NULL, CHA("http-01", "processing"), NULL, NULL },
    { "POST", "/authz/1", 0, 200, J, NULL,
      "{\"status\": \"invalid\", \"identifier\": {\"type\": \"dns\", \"value\": "
      "\"example.org\"}, \"challenges\": [{\"type\": \"http-01\", \"url\": \"" CA
      "/cha/http-01\", \"token\": \"tok\", \"status\": \"invalid\", \"error\": "
      "{\"type\": \"urn:ietf:params:acme:error:connection\", \"detail\": "
      "\"Connection refused\"}}]}", NULL, NULL },
};

START_TEST(test_renew_authz_invalid)
{
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_store_t *store;
    md_t *md = renew_md();

    md->profile = NULL;
    fake_start(invalid_script, N(invalid_script));
    store = renew_store();
    ck_assert_int_eq(APR_EGENERAL, md_acme_drive_renew(store, md, NULL, result,
                                                       md_test_pool));
    ck_assert_str_eq("urn:ietf:params:acme:error:connection", result->problem);
    ck_assert_str_eq("Connection refused", result->detail);
    ck_assert_str_eq("Monitoring challenge status for example.org", result->activity);
}
END_TEST

/* The CA chooses an authorization's identifier: one that was not ordered
 * (or that would read as an option of the dns-01 command) is refused
 * before anything is set up for it. */
#define AUTHZ_FOR(name, wc) "{\"status\": \"pending\", \"identifier\": " \
    "{\"type\": \"dns\", \"value\": \"" name "\"}" wc ", \"challenges\": [" \
    CHA("http-01", "pending") "]}"

typedef struct {
    const char *authz;
    const char *detail;
} foreign_authz_case;

static const foreign_authz_case foreign_authz_cases[] = {
    { AUTHZ_FOR("other.example.net", ""), "'other.example.net'" },
    { AUTHZ_FOR("-x.example.org", ""), "'-x.example.org'" },
    { AUTHZ_FOR("../example.org", ""), "'../example.org'" },
    /* a wildcard authorization for example.org stands for *.example.org */
    { AUTHZ_FOR("example.org", ", \"wildcard\": true"), "'example.org' (wildcard)" },
};

START_TEST(test_renew_authz_foreign)
{
    md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/new-acct", 0, 201, J, "/acct/1", ACCT_JSON, NULL, NULL },
        { "POST", "/new-order", 0, 201, J, "/order/1", ORDER_PENDING, NULL, NULL },
        { "POST", "/authz/1", 0, 200, J, NULL, NULL, NULL, NULL },
    };
    const foreign_authz_case *c = &foreign_authz_cases[_i];
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_store_t *store;
    md_t *md = renew_md();

    md->profile = NULL;
    script[4].body = c->authz;
    fake_start(script, N(script));
    store = renew_store();
    ck_assert_int_eq(APR_EINVAL, md_acme_drive_renew(store, md, NULL, result,
                                                     md_test_pool));
    ck_assert_int_eq(N(script), md_test_http.requests);
    ck_assert_msg(result->detail && strstr(result->detail, c->detail)
                  && strstr(result->detail, "which was not ordered"),
                  "detail: %s", result->detail);
    ck_assert(!md_store_exists(store, MD_SG_CHALLENGES, "other.example.net",
                               MD_FN_HTTP01, md_test_pool));
}
END_TEST

START_TEST(test_renew_tos_required)
{
    static const md_test_answer_t script[] = { A_DIR };
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_store_t *store;
    md_t *md = renew_md();

    md->ca_agreement = NULL;
    fake_start(script, N(script));
    store = renew_store();
    ck_assert_int_eq(APR_EINVAL, md_acme_drive_renew(store, md, NULL, result,
                                                     md_test_pool));
    ck_assert_str_eq("the CA requires you to accept the terms-of-service as specified in "
                     "<" CA "/tos.pdf>. Please read the document that you find at that "
                     "URL and, if you agree to the conditions, configure "
                     "\"MDCertificateAgreement accepted\" in your Apache. Then (graceful) "
                     "restart the server to activate.", result->detail);
}
END_TEST

/* --- IP addresses (RFC 8738) --------------------------------------------------------- */

#define A_DIR_SHORTLIVED { "GET", "/dir", 0, 200, J, NULL, "{\"newNonce\": \"" CA \
    "/nonce\", \"newAccount\": \"" CA "/new-acct\", \"newOrder\": \"" CA "/new-order\", " \
    "\"meta\": {\"profiles\": {\"classic\": \"x\", \"shortlived\": \"y\"}}}", NULL, NULL }
#define REFUSED "{\"type\": \"urn:ietf:params:acme:error:rejectedIdentifier\", " \
    "\"detail\": \"not here\"}"

static md_t *ip_md(const char *name, ...) __attribute__((sentinel));

/* An MD of the given names (NULL-terminated) at the fake CA, no profile. */
static md_t *ip_md(const char *name, ...)
{
    md_t *md = renew_md();
    va_list ap;

    md->profile = NULL;
    apr_array_clear(md->domains);
    va_start(ap, name);
    for (; name; name = va_arg(ap, const char *)) {
        APR_ARRAY_PUSH(md->domains, const char *) = name;
    }
    va_end(ap);
    md->name = APR_ARRAY_IDX(md->domains, 0, const char *);
    return md;
}

START_TEST(test_order_ip_identifiers)
{
    static const md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/new-order", 0, 201, J, "/order/1", ORDER_PENDING, NULL, NULL },
    };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    apr_array_header_t *domains = apr_array_make(md_test_pool, 3, sizeof(const char *));
    md_acme_order_t *order;
    md_acme_t *acme;

    fake_start(script, N(script));
    acme = acme_with_account(result);
    APR_ARRAY_PUSH(domains, const char *) = "192.0.2.10";
    APR_ARRAY_PUSH(domains, const char *) = "www.example.org";
    APR_ARRAY_PUSH(domains, const char *) = "2001:db8::10";
    ck_assert_int_eq(APR_SUCCESS, md_acme_order_register(&order, acme, domains, NULL, NULL,
                                                         result, md_test_pool));
    ck_assert_str_eq("[{\"type\":\"ip\",\"value\":\"192.0.2.10\"},"
                     "{\"type\":\"dns\",\"value\":\"www.example.org\"},"
                     "{\"type\":\"ip\",\"value\":\"2001:db8::10\"}]",
                     md_json_writep(md_json_getj(req_part(2, "payload"), "identifiers",
                                                 NULL), md_test_pool,
                                    MD_JSON_FMT_COMPACT));
}
END_TEST

/* The CA may write an address otherwise: the authorization names it as the
 * MD does. dns-01 is never set up for an address, even when offered. */
START_TEST(test_authz_ip)
{
    static const md_test_answer_t script[] = {
        A_DIR, A_NONCE,
        { "POST", "/authz/1", 0, 200, J, NULL, "{\"status\": \"pending\", "
          "\"identifier\": {\"type\": \"ip\", \"value\": \"2001:DB8:0:0::10\"}, "
          "\"challenges\": [" CHA("dns-01", "pending") "]}", NULL, NULL },
    };
    md_result_t *result = md_result_make(md_test_pool, APR_SUCCESS);
    md_t *md = ip_md("2001:db8::10", NULL);
    md_acme_authz_env_t env;
    md_acme_authz_t *authz;
    const char *setup;
    md_acme_t *acme;

    fake_start(script, N(script));
    acme = acme_with_account(result);
    ck_assert_int_eq(APR_SUCCESS, md_acme_authz_retrieve(&authz, acme, CA "/authz/1",
                                                         result, md_test_pool));
    ck_assert_str_eq("2001:db8::10", authz->domain);
    ck_assert(md_acme_authz_domain_ok(md, authz->domain, authz->wildcard, md_test_pool));
    memset(&env, 0, sizeof(env));
    env.md = md;
    env.store = renew_store();
    env.dns01_cmd = "/bin/true";
    env.types = apr_array_make(md_test_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(env.types, const char *) = "dns-01";
    ck_assert_int_eq(APR_EINVAL, md_acme_authz_respond(&setup, authz, acme, &env, result,
                                                       md_test_pool));
    ck_assert_str_eq(MD_PROBLEM_CHALLENGE_MISMATCH, result->problem);
    ck_assert_int_eq(3, md_test_http.requests);      /* no challenge was started */
}
END_TEST

/* An address only dns-01 may validate, or a wildcard of an address: the
 * renewal fails before any CA is asked. */
START_TEST(test_renew_ip_not_ordered)
{
    md_result_t *result = md_result_md_make(md_test_pool, "192.0.2.10");
    md_store_t *store;
    md_t *md;

    if (0 == _i) {
        md = ip_md("192.0.2.10", "www.example.org", NULL);
        md->ca_challenges = apr_array_make(md_test_pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(md->ca_challenges, const char *) = "dns-01";
    }
    else {
        md = ip_md("192.0.2.10", "*.192.0.2.10", NULL);
    }
    fake_start(veto_script, 0);
    store = renew_store();
    ck_assert_int_eq(APR_EINVAL, md_acme_drive_renew(store, md, NULL, result,
                                                     md_test_pool));
    ck_assert_int_eq(0, md_test_http.requests);
    ck_assert_str_eq(MD_PROBLEM_CHALLENGE_MISMATCH, result->problem);
    ck_assert_str_eq(0 == _i
        ? "192.0.2.10: the address '192.0.2.10' can only be validated with the "
          "challenge types 'http-01' or 'tls-alpn-01', but the configured ones are "
          "'dns-01'"
        : "192.0.2.10: '*.192.0.2.10' is a wildcard of the address '192.0.2.10', "
          "which no CA can validate", result->detail);
}
END_TEST

/* Without MDProfile an MD with an address orders "shortlived" from a CA
 * that has it; MDProfile wins; an MD without address orders no profile. */
START_TEST(test_renew_ip_profile)
{
    static const md_test_answer_t script[] = {
        A_DIR_SHORTLIVED, A_NONCE,
        { "POST", "/new-acct", 0, 201, J, "/acct/1", ACCT_JSON, NULL, NULL },
        { "POST", "/new-order", 0, 400, PJ, NULL, REFUSED, NULL, NULL },
    };
    static const char *want[] = { "shortlived", "classic", NULL };
    md_result_t *result = md_result_md_make(md_test_pool, "192.0.2.10");
    md_json_t *payload;
    md_t *md;

    md = (2 == _i) ? ip_md("www.example.org", NULL)
                   : ip_md("192.0.2.10", "www.example.org", NULL);
    if (1 == _i) {
        md->profile = "classic";
    }
    fake_start(script, N(script));
    ck_assert_int_ne(APR_SUCCESS, md_acme_drive_renew(renew_store(), md, NULL, result,
                                                      md_test_pool));
    ck_assert_int_eq(N(script), md_test_http.requests);
    payload = req_part(3, "payload");
    if (want[_i]) {
        ck_assert_str_eq(want[_i], md_json_gets(payload, "profile", NULL));
    }
    else {
        ck_assert(!md_json_has_key(payload, "profile", NULL));
    }
}
END_TEST

Suite *md_test_acme_suite(void)
{
    Suite *s = suite_create("md_acme");
    TCase *tc;

    tc = tcase_create("protocol");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
    tcase_add_loop_test(tc, test_problem_mapping, 0, N(problem_cases));
    tcase_add_test(tc, test_problem_is);
    tcase_add_loop_test(tc, test_problem_rejects_must_staple, 0, N(staple_problem_cases));
    tcase_add_test(tc, test_directory);
    tcase_add_loop_test(tc, test_directory_fail, 0, N(dir_fail_cases));
    tcase_add_test(tc, test_nonce_retry);
    tcase_add_test(tc, test_revoke_reason);
    tcase_add_test(tc, test_revoke);
    tcase_add_test(tc, test_key_change);
    tcase_add_test(tc, test_nonce_retry_once);
    tcase_add_test(tc, test_post_problem);
    suite_add_tcase(s, tc);

    tc = tcase_create("objects");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
    tcase_add_test(tc, test_acct_sname);
    tcase_add_test(tc, test_acct_json);
    tcase_add_test(tc, test_order_domains);
    tcase_add_test(tc, test_order_json);
    tcase_add_loop_test(tc, test_rfc3339, 0, N(rfc3339_cases));
    tcase_add_test(tc, test_ari_get);
    tcase_add_test(tc, test_ari_empty_url);
    suite_add_tcase(s, tc);

    tc = tcase_create("renew");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_renew);
    tcase_add_test(tc, test_renew_resume);
    tcase_add_test(tc, test_renew_clock_behind);
    tcase_add_test(tc, test_renew_order_not_ready);
    tcase_add_loop_test(tc, test_renew_must_staple_rejected, 0, 2);
    tcase_add_test(tc, test_renew_acct_unreachable);
    tcase_add_test(tc, test_activate_known_account);
    tcase_add_test(tc, test_renew_acct_cache_pool);
    tcase_add_loop_test(tc, test_renew_bad_cert, BAD_NAMES, BAD_EXPIRED + 1);
    tcase_add_test(tc, test_order_purge);
    tcase_add_test(tc, test_renew_challenge_mismatch);
    tcase_add_test(tc, test_renew_setup_vetoed);
    tcase_add_test(tc, test_renew_no_challenges);
    tcase_add_test(tc, test_order_ip_identifiers);
    tcase_add_test(tc, test_authz_ip);
    tcase_add_loop_test(tc, test_renew_ip_not_ordered, 0, 2);
    tcase_add_loop_test(tc, test_renew_ip_profile, 0, 3);
    tcase_add_test(tc, test_renew_authz_invalid);
    tcase_add_loop_test(tc, test_renew_authz_foreign, 0, N(foreign_authz_cases));
    tcase_add_test(tc, test_renew_tos_required);
    suite_add_tcase(s, tc);
    return s;
}
