/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for the ACME client (md_acme.c and the account, order, authz
 * and drive files on it) without network: a fake md_http implementation
 * replays a script of pebble-like answers and records the requests. Covers
 * problem mapping, the directory, nonce retry, and a full renewal through
 * the order state machine into a temporary store.
 */
#include <string.h>

#include <apr_strings.h>

#include "md.h"
#include "md_crypto.h"
#include "md_http.h"
#include "md_json.h"
#include "md_result.h"
#include "md_store.h"
#include "md_util.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_authz.h"
#include "md_acme_drive.h"
#include "md_acme_order.h"
#include "md_unit.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define CA      "https://ca.test"
#define DIR_URL CA "/dir"

/* --- the fake HTTP layer -------------------------------------------------------- */

typedef struct fake_answer fake_answer;
/* Produces the body of an answer at request time (NULL: use body). */
typedef const char *fake_body_fn(md_http_request_t *req);

struct fake_answer {
    const char *method;
    const char *path;           /* url = CA + path */
    apr_status_t transport;     /* != 0: fail the request with it */
    int status;
    const char *ctype;
    const char *location;       /* path, or NULL */
    const char *body;
    fake_body_fn *body_fn;
    const char *retry_after;
};

typedef struct {
    const fake_answer *answers;
    int count;
    int next;
    int nonce;
    apr_array_header_t *requests;   /* "METHOD url" per request */
    apr_array_header_t *bodies;     /* request bodies */
    md_store_t *store;              /* for answers made from staged keys */
} fake_state;

static fake_state fake;

static apr_status_t fake_init(void)
{
    return APR_SUCCESS;
}

static apr_status_t fake_perform(md_http_request_t *req, md_http_response_t *resp)
{
    const fake_answer *a;
    const char *body;

    APR_ARRAY_PUSH(fake.requests, const char *) =
        apr_psprintf(md_test_pool, "%s %s", req->method, req->url);
    APR_ARRAY_PUSH(fake.bodies, const char *) =
        req->body ? apr_pstrmemdup(md_test_pool, req->body->data, req->body->len) : "";
    ck_assert_msg(fake.next < fake.count, "unexpected request %s %s", req->method,
                  req->url);
    a = &fake.answers[fake.next++];
    ck_assert_msg(!strcmp(a->method, req->method)
                  && !strcmp(apr_pstrcat(md_test_pool, CA, a->path, NULL), req->url),
                  "request %d: expected %s %s%s, got %s %s", fake.next, a->method, CA,
                  a->path, req->method, req->url);
    if (a->transport) return a->transport;
    resp->status = a->status;
    if (strcmp("GET", req->method)) {
        apr_table_setn(resp->headers, "Replay-Nonce",
                       apr_psprintf(req->pool, "nonce-%d", ++fake.nonce));
    }
    if (a->ctype) apr_table_setn(resp->headers, "Content-Type", a->ctype);
    if (a->location) {
        apr_table_setn(resp->headers, "Location", apr_pstrcat(req->pool, CA, a->location,
                                                              NULL));
    }
    if (a->retry_after) apr_table_setn(resp->headers, "Retry-After", a->retry_after);
    body = a->body_fn ? a->body_fn(req) : a->body;
    if (body) {
        resp->body.data = apr_pstrdup(req->pool, body);
        resp->body.len = strlen(body);
    }
    return APR_SUCCESS;
}

static const md_http_impl_t fake_impl = {
    fake_init, fake_perform, NULL, NULL,
};

static void fake_start(const fake_answer *answers, int count)
{
    memset(&fake, 0, sizeof(fake));
    fake.answers = answers;
    fake.count = count;
    fake.requests = apr_array_make(md_test_pool, 20, sizeof(const char *));
    fake.bodies = apr_array_make(md_test_pool, 20, sizeof(const char *));
    md_http_use_implementation(&fake_impl);
}

static void fake_setup(void)
{
    md_test_setup();
}

static void fake_teardown(void)
{
    md_http_use_implementation(NULL);
    md_test_teardown();
}

/* The decoded protected header / payload of the i-th request body. */
static md_json_t *req_part(int i, const char *part)
{
    md_json_t *jws = NULL, *json = NULL;
    const char *body = APR_ARRAY_IDX(fake.bodies, i, const char *);
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

static const fake_answer A_DIR = { "GET", "/dir", 0, 200, J, NULL, DIRECTORY_JSON,
                                   NULL, NULL };
static const fake_answer A_NONCE = { "HEAD", "/nonce", 0, 200, NULL, NULL, NULL, NULL,
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
    static const fake_answer script[] = { A_DIR };
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
    fake_answer answer;
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
    static const fake_answer script[] = {
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
    ck_assert_int_eq(4, fake.requests->nelts);
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
    static const fake_answer script[] = {
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
    ck_assert_int_eq(4, fake.requests->nelts);
    ck_assert_str_eq("urn:ietf:params:acme:error:badNonce", result->problem);
}
END_TEST

START_TEST(test_post_problem)
{
    static const fake_answer script[] = {
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

START_TEST(test_ari_get)
{
    static const fake_answer script[] = {
        { "GET", "/dir", 0, 200, J, NULL, "{\"newNonce\": \"" CA "/nonce\", "
          "\"newAccount\": \"" CA "/new-acct\", \"newOrder\": \"" CA "/new-order\", "
          "\"renewalInfo\": \"" CA "/ari/\"}", NULL, NULL },
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

    ck_assert_int_eq(APR_SUCCESS, md_store_pkey_load(fake.store, MD_SG_STAGING,
                                                     "example.org", spec, &pkey,
                                                     req->pool));
    APR_ARRAY_PUSH(domains, const char *) = "example.org";
    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "example.org", domains,
                                                        pkey, apr_time_from_sec(3600),
                                                        req->pool));
    ck_assert_int_eq(APR_SUCCESS, md_cert_to_pem(&pem, cert, req->pool));
    return pem;
}

static const fake_answer renew_script[] = {
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
        md_store_load(fake.store, MD_SG_CHALLENGES, domain, MD_FN_HTTP01, MD_SV_TEXT,
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
    fake.store = store;
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
    ck_assert_int_eq(N(renew_script), fake.requests->nelts);
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
    ck_assert(!md_store_exists(store, MD_SG_STAGING, "example.org", MD_FN_ACCOUNT,
                               md_test_pool));
}
END_TEST

START_TEST(test_renew_acct_unreachable)
{
    /* a stored account that cannot be checked is no reason to register anew */
    static const fake_answer script[] = {
        A_DIR, A_NONCE,
        { "POST", "/acct/1", APR_ECONNREFUSED, 0, NULL, NULL, NULL, NULL, NULL },
    };
    md_result_t *result = md_result_md_make(md_test_pool, "example.org");
    md_acme_acct_t *acct = apr_pcalloc(md_test_pool, sizeof(*acct));
    md_pkey_spec_t spec = { MD_PKEY_TYPE_EC, 0, "P-256" };
    md_store_t *store;
    md_pkey_t *pkey;
    md_t *md = renew_md();

    fake_start(script, N(script));
    store = renew_store();
    ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&pkey, md_test_pool, &spec));
    acct->url = CA "/acct/1";
    acct->ca_url = DIR_URL;
    acct->status = MD_ACME_ACCT_ST_VALID;
    ck_assert_int_eq(APR_SUCCESS, md_acme_acct_save(store, md_test_pool, acct, pkey));
    ck_assert_str_eq("ACME-ca.test-0000", acct->id);
    ck_assert_int_eq(APR_ECONNREFUSED, md_acme_drive_renew(store, md, NULL, result,
                                                           md_test_pool));
    ck_assert_int_eq(N(script), fake.requests->nelts);
    ck_assert_int_eq(APR_ECONNREFUSED, result->status);
}
END_TEST

START_TEST(test_order_purge)
{
    md_store_t *store = renew_store();
    md_acme_order_t *order = md_acme_order_create(md_test_pool);
    md_t *md = renew_md();

    APR_ARRAY_PUSH(order->challenge_setups, const char *) = "http-01:example.org";
    APR_ARRAY_PUSH(order->challenge_setups, const char *) = "tls-alpn-01:www.example.org";
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
    static const fake_answer script[] = {
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
    ck_assert_int_eq(N(script), fake.requests->nelts);
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
    static const fake_answer script[] = {
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
    static const fake_answer script[] = {
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
    fake.store = store;
    memset(&w, 0, sizeof(w));
    w.activities = apr_array_make(md_test_pool, 20, sizeof(const char *));
    result = md_result_md_make(md_test_pool, "example.org");
    md_result_on_change(result, on_result_change, &w);
    ck_assert_int_eq(APR_SUCCESS, md_acme_drive_renew(store, md, NULL, result,
                                                      md_test_pool));
    ck_assert_int_eq(N(script), fake.requests->nelts);
    for (i = 0; i < w.activities->nelts; ++i) {
        if (!strcmp("Loaded order from staging",
                    APR_ARRAY_IDX(w.activities, i, const char *))) {
            loaded = 1;
        }
    }
    ck_assert(loaded);
}
END_TEST

static const fake_answer mismatch_script[] = {
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

static const fake_answer veto_script[] = {
    A_DIR, A_NONCE,
    { "POST", "/new-acct", 0, 201, J, "/acct/1", ACCT_JSON, NULL, NULL },
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

    md->profile = NULL;
    memset(&w, 0, sizeof(w));
    w.activities = apr_array_make(md_test_pool, 20, sizeof(const char *));
    w.events = apr_array_make(md_test_pool, 5, sizeof(const char *));
    w.veto = 1;
    md_acme_drive_opts_init(&opts);
    opts.on_challenge_setup = on_setup;
    opts.on_challenge_setup_baton = &w;
    fake_start(veto_script, N(veto_script));
    store = renew_store();
    ck_assert_int_eq(APR_EGENERAL, md_acme_drive_renew(store, md, &opts, result,
                                                       md_test_pool));
    ck_assert_str_eq(MD_PROBLEM_CHALLENGE_SETUP, result->problem);
    ck_assert_str_eq("None of the offered challenge types http-01 offered for domain "
                     "example.org could be setup successfully. Please check the log "
                     "for errors.", result->detail);
    ck_assert_int_eq(1, w.events->nelts);
}
END_TEST

static const fake_answer invalid_script[] = {
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

START_TEST(test_renew_tos_required)
{
    static const fake_answer script[] = { A_DIR };
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
    suite_add_tcase(s, tc);

    tc = tcase_create("renew");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_renew);
    tcase_add_test(tc, test_renew_resume);
    tcase_add_test(tc, test_renew_order_not_ready);
    tcase_add_loop_test(tc, test_renew_must_staple_rejected, 0, 2);
    tcase_add_test(tc, test_renew_acct_unreachable);
    tcase_add_test(tc, test_order_purge);
    tcase_add_test(tc, test_renew_challenge_mismatch);
    tcase_add_test(tc, test_renew_setup_vetoed);
    tcase_add_test(tc, test_renew_authz_invalid);
    tcase_add_test(tc, test_renew_tos_required);
    suite_add_tcase(s, tc);
    return s;
}
