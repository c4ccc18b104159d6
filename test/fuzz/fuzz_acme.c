/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: handling of what an ACME CA answers. A fake HTTP layer
 * (md_http_use_implementation) serves the input as the CA's answer to the
 * request under test: byte 0 picks the request (directory, order,
 * authorization with its state/challenge check and identifier check,
 * certificate chain, account), byte 1 the HTTP status,
 * byte 2 the content type and Location / Retry-After / Link headers; the
 * rest is the body. The other requests (directory, nonce) get fixed answers.
 */
#include "fuzz_common.h"

#include <apr_tables.h>

#include "md.h"
#include "md_http.h"
#include "md_json.h"
#include "md_result.h"
#include "md_util.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_authz.h"
#include "md_acme_order.h"

#define CA      "https://ca.fuzz"
#define DIR_URL CA "/dir"
#define DIRECTORY_JSON \
    "{\"newNonce\": \"" CA "/nonce\", \"newAccount\": \"" CA "/new-acct\"," \
    " \"newOrder\": \"" CA "/new-order\", \"revokeCert\": \"" CA "/revoke\"," \
    " \"keyChange\": \"" CA "/key-change\", \"meta\": {\"termsOfService\": \"" \
    CA "/tos\"}}"

enum { T_DIRECTORY, T_ORDER, T_AUTHZ, T_CHAIN, T_ACCOUNT, T_COUNT };

static const int statuses[] = { 200, 201, 204, 400, 401, 403, 404, 429, 500, 503 };
static const char *ctypes[] = { "application/json", "application/problem+json",
                                "application/pem-certificate-chain", NULL };

static struct {
    int target;
    int status;
    const char *ctype;
    unsigned hdrs;
    const char *body;
    apr_size_t len;
    int nonce;
    int requests;
} fake;

static md_pkey_t *acct_key;

static apr_status_t fake_init(void)
{
    return APR_SUCCESS;
}

static apr_status_t fake_perform(md_http_request_t *req, md_http_response_t *resp)
{

    if (++fake.requests > 20) return APR_ECONNREFUSED;   /* no endless polling */
    apr_table_setn(resp->headers, "Replay-Nonce",
                   apr_psprintf(req->pool, "nonce-%d", ++fake.nonce));
    if (!strcmp(req->url, DIR_URL) && fake.target != T_DIRECTORY) {
        resp->status = 200;
        apr_table_setn(resp->headers, "Content-Type", "application/json");
        resp->body.data = DIRECTORY_JSON;
        resp->body.len = strlen(DIRECTORY_JSON);
        return APR_SUCCESS;
    }
    if (!strcmp("HEAD", req->method)) {
        resp->status = 200;
        return APR_SUCCESS;
    }
    resp->status = fake.status;
    if (fake.ctype) {
        apr_table_setn(resp->headers, "Content-Type", fake.ctype);
    }
    if (fake.hdrs & 0x10) {
        apr_table_setn(resp->headers, "Location", CA "/loc/1");
    }
    if (fake.hdrs & 0x20) {
        apr_table_setn(resp->headers, "Retry-After", "3");
    }
    if (fake.hdrs & 0x40) {
        apr_table_setn(resp->headers, "Link", "<" CA "/chain/2>;rel=\"alternate\"");
    }
    if (fake.hdrs & 0x80) apr_table_setn(resp->headers, "Retry-After",
                                         "Wed, 21 Oct 2015 07:28:00 GMT");
    resp->body.data = apr_pstrmemdup(req->pool, fake.body, fake.len);
    resp->body.len = fake.len;
    return APR_SUCCESS;
}

static const md_http_impl_t fake_impl = { fake_init, fake_perform, NULL, NULL };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    md_pkey_spec_t spec = { MD_PKEY_TYPE_EC, 0, "P-256" };

    (void)argc;
    (void)argv;
    fuzz_init();
    md_acme_init(fuzz_root_pool, "fuzz");
    md_http_use_implementation(&fake_impl);
    if (APR_SUCCESS != md_pkey_gen(&acct_key, fuzz_root_pool, &spec)) {
        abort();
    }
    return 0;
}

/* The MD the authorizations are checked against. */
static const md_t *fuzz_md(apr_pool_t *p)
{
    apr_array_header_t *domains = apr_array_make(p, 2, sizeof(const char *));

    APR_ARRAY_PUSH(domains, const char *) = "example.org";
    APR_ARRAY_PUSH(domains, const char *) = "*.example.org";
    return md_create(p, domains);
}

static void with_account(md_acme_t *acme, apr_pool_t *p)
{
    md_acme_acct_t *acct = apr_pcalloc(p, sizeof(*acct));

    acct->url = CA "/acct/1";
    acct->ca_url = DIR_URL;
    acct->status = MD_ACME_ACCT_ST_VALID;
    acct->contacts = apr_array_make(p, 1, sizeof(const char *));
    md_acme_set_acct(acme, acct, acct_key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    md_acme_t *acme = NULL;
    md_result_t *result;
    md_acme_order_t *order;
    md_acme_authz_t *authz = NULL;
    apr_array_header_t *chain;

    if (size < 3) return 0;
    p = fuzz_pool();
    memset(&fake, 0, sizeof(fake));
    fake.target = data[0] % T_COUNT;
    fake.status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
    fake.ctype = ctypes[data[2] & 0x03];
    fake.hdrs = data[2];
    fake.body = (const char *)data + 3;
    fake.len = size - 3;
    result = md_result_make(p, APR_SUCCESS);

    if (APR_SUCCESS != md_acme_create(&acme, p, DIR_URL, NULL, NULL)) goto leave;
    if (APR_SUCCESS != md_acme_setup(acme, result)) goto leave;
    with_account(acme, p);
    switch (fake.target) {
    case T_ORDER:
        order = md_acme_order_create(p);
        order->url = CA "/order/1";
        if (APR_SUCCESS == md_acme_order_update(order, acme, result, p)) {
            md_json_writep(md_acme_order_to_json(order, p), p, MD_JSON_FMT_COMPACT);
        }
        break;
    case T_AUTHZ:
        if (APR_SUCCESS == md_acme_authz_retrieve(&authz, acme, CA "/authz/1", result,
                                                  p)) {
            /* the document's state, error, challenges and identifier */
            md_acme_authz_check(authz, result, p);
            md_acme_authz_domain_ok(fuzz_md(p), authz->domain, authz->wildcard, p);
        }
        break;
    case T_CHAIN:
        chain = apr_array_make(p, 3, sizeof(md_cert_t *));
        md_acme_get_chain(chain, acme, CA "/cert/1", result, p);
        break;
    case T_ACCOUNT:
        md_acme_acct_validate(acme, NULL, NULL, p);
        break;
    default:
        break;
    }
leave:
    md_json_writep(md_result_to_json(result, p), p, MD_JSON_FMT_COMPACT);
    apr_pool_destroy(p);
    return 0;
}
