/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The ACME session: directory, Replay-Nonce handling with one retry on
 * badNonce, JWS-signed POST/POST-as-GET, problem documents turned into APR
 * statuses and result problems, certificate chain download and polling.
 */
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_log.h"
#include "md_util.h"
#include "md_acme.h"
#include "md_acme_acct.h"

#define CT_JOSE_JSON    "application/jose+json"
#define CT_PEM_CHAIN    "application/pem-certificate-chain"
#define HDR_NONCE       "Replay-Nonce"

static const char *user_agent;

apr_status_t md_acme_init(apr_pool_t *p, const char *base_product)
{
    user_agent = apr_psprintf(p, "%s mod_md/%s",
                              base_product ? base_product : "mod_md", MOD_MD_VERSION);
    return md_http_use_implementation(NULL);
}

const char *md_acme_user_agent(void)
{
    return user_agent ? user_agent : "mod_md/" MOD_MD_VERSION;
}

/* --- problems ------------------------------------------------------------------ */

typedef struct {
    const char *name;           /* after "acme:error:" */
    apr_status_t status;
    int input_related;          /* retrying will not help (contract.md 9) */
} problem_info_t;

static const problem_info_t problems[] = {
    { "accountDoesNotExist",     APR_ENOENT,   0 },
    { "agreementRequired",       APR_EINVAL,   1 },
    { "alreadyRevoked",          APR_EINVAL,   0 },
    { "badCSR",                  APR_EINVAL,   1 },
    { "badNonce",                APR_EAGAIN,   0 },
    { "badPublicKey",            APR_EINVAL,   0 },
    { "badRevocationReason",     APR_EINVAL,   1 },
    { "badSignatureAlgorithm",   APR_EINVAL,   1 },
    { "caa",                     APR_EGENERAL, 0 },
    { "compound",                APR_EGENERAL, 0 },
    { "connection",              APR_EGENERAL, 0 },
    { "dns",                     APR_EGENERAL, 0 },
    { "externalAccountRequired", APR_EINVAL,   1 },
    { "incorrectResponse",       APR_EGENERAL, 0 },
    { "invalidContact",          APR_BADARG,   1 },
    { "malformed",               APR_EINVAL,   1 },
    { "orderNotReady",           APR_EAGAIN,   0 },
    { "rateLimited",             APR_EAGAIN,   0 },
    { "rejectedIdentifier",      APR_BADARG,   1 },
    { "serverInternal",          APR_EGENERAL, 0 },
    { "tls",                     APR_EGENERAL, 0 },
    { "unauthorized",            APR_EACCES,   0 },
    { "unsupportedContact",      APR_BADARG,   1 },
    { "unsupportedIdentifier",   APR_BADARG,   1 },
    { "userActionRequired",      APR_EAGAIN,   1 },
};

/* The name after the known prefixes, or the type itself. */
static const char *problem_name(const char *type)
{
    static const char *prefixes[] = {
        "urn:ietf:params:acme:error:", "urn:acme:error:", "acme:error:", NULL
    };
    apr_size_t len;
    int i;

    if (!type) return "";
    for (i = 0; prefixes[i]; ++i) {
        len = strlen(prefixes[i]);
        if (!strncasecmp(prefixes[i], type, len)) return type + len;
    }
    return type;
}

static const problem_info_t *problem_find(const char *type)
{
    const char *name = problem_name(type);
    apr_size_t i;

    for (i = 0; i < MD_ARRAY_LEN(problems); ++i) {
        if (!strcasecmp(problems[i].name, name)) return &problems[i];
    }
    return NULL;
}

apr_status_t md_acme_problem_status(const char *type)
{
    const problem_info_t *info = problem_find(type);
    return info ? info->status : APR_EGENERAL;
}

int md_acme_problem_is_input_related(const char *type)
{
    const problem_info_t *info = problem_find(type);
    return info ? info->input_related : 0;
}

int md_acme_problem_is(const char *type, const char *name)
{
    return type && type != problem_name(type) && !strcasecmp(problem_name(type), name);
}

int md_acme_problem_rejects_must_staple(const char *type, const char *detail)
{
    static const char *const words[] = {
        "must-staple", "must staple", "muststaple", "tls feature", "tls-feature",
        "tlsfeature", "status_request", "1.3.6.1.5.5.7.1.24",
    };
    char buf[1024];
    apr_size_t i, len;

    if (!detail || !(md_acme_problem_is(type, "badCSR")
                     || md_acme_problem_is(type, "malformed"))) {
        return 0;
    }
    len = strlen(detail);
    if (len >= sizeof(buf)) {
        len = sizeof(buf) - 1;
    }
    for (i = 0; i < len; ++i) buf[i] = (char)apr_tolower(detail[i]);
    buf[len] = '\0';
    for (i = 0; i < MD_ARRAY_LEN(words); ++i) {
        if (strstr(buf, words[i])) return 1;
    }
    return 0;
}

/* --- session ----------------------------------------------------------------- */

apr_status_t md_acme_create(md_acme_t **pacme, apr_pool_t *p, const char *url,
                            const char *proxy_url, const char *ca_file)
{
    md_acme_t *acme = NULL;
    const char *err = NULL;
    apr_status_t rv;

    rv = url ? md_util_abs_http_uri_check(p, url, &err) : APR_EINVAL;
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10910: invalid ACME url %s: %s",
                      url ? url : "(null)", err ? err : "missing");
        goto leave;
    }
    acme = apr_pcalloc(p, sizeof(*acme));
    acme->p = p;
    acme->url = apr_pstrdup(p, url);
    acme->sname = md_acme_acct_sname(url, p);
    acme->user_agent = md_acme_user_agent();
    acme->proxy_url = proxy_url ? apr_pstrdup(p, proxy_url) : NULL;
    acme->ca_file = ca_file ? apr_pstrdup(p, ca_file) : NULL;
    acme->max_nonce_retries = 1;
    rv = md_http_create(&acme->http, p, acme->user_agent, acme->proxy_url);
    if (APR_SUCCESS != rv) goto leave;
    md_http_set_response_limit(acme->http, MD_HTTP_MAX_RESPONSE);
    if (acme->ca_file) {
        md_http_set_ca_file(acme->http, acme->ca_file);
    }
leave:
    *pacme = (APR_SUCCESS == rv) ? acme : NULL;
    return rv;
}

void md_acme_set_proxy_ca_file(md_acme_t *acme, const char *proxy_ca_file)
{
    acme->proxy_ca_file = proxy_ca_file ? apr_pstrdup(acme->p, proxy_ca_file) : NULL;
    md_http_set_proxy_ca_file(acme->http, acme->proxy_ca_file);
}

void md_acme_set_acct(md_acme_t *acme, md_acme_acct_t *acct, md_pkey_t *key)
{
    acme->acct = acct;
    acme->acct_key = key;
}

static void update_nonce(md_acme_t *acme, const md_http_response_t *resp)
{
    const char *nonce = md_http_resp_header(resp, HDR_NONCE);

    if (nonce && *nonce) {
        acme->nonce = apr_pstrdup(acme->p, nonce);
    }
}

static int ctype_is(const md_http_response_t *resp, const char *type)
{
    const char *ct = md_http_resp_header(resp, "Content-Type");
    apr_size_t len = strlen(type);

    return ct && !strncasecmp(ct, type, len)
           && (ct[len] == '\0' || ct[len] == ';' || ct[len] == ' ');
}

static int ctype_is_json(const md_http_response_t *resp)
{
    const char *ct = md_http_resp_header(resp, "Content-Type");
    const char *semi;

    if (!ct) return 0;
    if (ctype_is(resp, "application/json")) return 1;
    semi = strchr(ct, ';');
    if (!semi) {
        semi = ct + strlen(ct);
    }
    return (semi - ct) >= 5 && !strncasecmp(semi - 5, "+json", 5);
}

static apr_status_t http_status_to_apr(int status)
{
    switch (status) {
        case 400: return APR_EINVAL;
        case 401:
        case 403: return APR_EACCES;
        case 404: return APR_ENOENT;
        case 429:
        case 503: return APR_EAGAIN;
        default:  return APR_EGENERAL;
    }
}

/* Inspects an answer: JSON body of successes, problems of failures. With
 * pbad_nonce, a badNonce problem only sets the flag (the caller retries). */
static apr_status_t inspect_response(md_json_t **pjson, int *pbad_nonce,
                                     md_acme_t *acme, const md_http_response_t *resp,
                                     md_result_t *result, apr_pool_t *p)
{
    md_json_t *json = NULL;
    const char *type, *detail;
    apr_status_t rv = APR_SUCCESS;

    update_nonce(acme, resp);
    if (resp->status >= 200 && resp->status < 300) {
        if (resp->body.len > 0 && ctype_is_json(resp)) {
            rv = md_json_readd(&json, p, resp->body.data, resp->body.len);
            if (APR_SUCCESS != rv) {
                md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                              "AH10911: unable to parse JSON from %s", resp->req->url);
                if (result) {
                    md_result_printf(result, rv, "Unable to understand the response "
                                     "from the ACME server at <%s>.", resp->req->url);
                }
            }
        }
        goto leave;
    }

    if (resp->body.len > 0 && ctype_is_json(resp)
        && APR_SUCCESS == md_json_readd(&json, p, resp->body.data, resp->body.len)
        && (type = md_json_gets(json, "type", NULL))) {
        detail = md_json_gets(json, "detail", NULL);
        rv = md_acme_problem_status(type);
        if (md_acme_problem_is(type, "badNonce")) {
            md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "acme reports %s: %s",
                          type, detail ? detail : "");
            if (pbad_nonce) {
                *pbad_nonce = 1;
                json = NULL;
                goto leave;
            }
        }
        else {
            md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "acme problem %s: %s",
                          type, detail ? detail : "");
        }
        if (result) {
            md_result_problem_set(result, rv, type, detail,
                                  md_json_getj(json, "subproblems", NULL));
        }
        json = NULL;
        goto leave;
    }
    json = NULL;
    rv = http_status_to_apr(resp->status);
    md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p,
                  "acme problem unknown: http status %d", resp->status);
    if (result) {
        md_result_printf(result, rv, "The ACME server at <%s> answered with http "
                         "status %d.", resp->req->url, resp->status);
    }
leave:
    *pjson = json;
    return rv;
}

static void set_contact_error(md_result_t *result, apr_status_t rv, const char *url)
{
    if (!result) return;
    md_result_printf(result, rv,
        "Unsuccessful in contacting ACME server at <%s>. If this problem persists, "
        "please check your network connectivity from your Apache server to the "
        "ACME server. Also, older servers might have trouble verifying the "
        "certificates of the ACME server. You can check if you are able to contact "
        "it manually via the curl command. Sometimes, the ACME server might be down "
        "for maintenance, so failing to contact it is not an immediate problem. "
        "Apache will continue retrying this.", url);
}

apr_status_t md_acme_get(md_http_response_t **presp, md_json_t **pjson,
                         md_acme_t *acme, const char *url,
                         md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp = NULL;
    md_json_t *json = NULL;
    apr_status_t rv;

    rv = md_http_GET(&resp, acme->http, url, NULL, p);
    if (APR_SUCCESS != rv) {
        set_contact_error(result, rv, url);
        goto leave;
    }
    rv = inspect_response(&json, NULL, acme, resp, result, p);
leave:
    if (presp) {
        *presp = resp;
    }
    if (pjson) {
        *pjson = json;
    }
    return rv;
}

/* An empty string is no URL: callers test for NULL and append to the
 * URL's last character (renewalInfo: "" read one byte before it). */
static const char *json_url(md_acme_t *acme, md_json_t *json, const char *key)
{
    const char *url = md_json_dups(acme->p, json, key, NULL);

    return (url && *url) ? url : NULL;
}

apr_status_t md_acme_setup(md_acme_t *acme, md_result_t *result)
{
    md_http_response_t *resp = NULL;
    md_json_t *json = NULL;
    apr_status_t rv;

    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, acme->p, "get directory from %s",
                  acme->url);
    rv = md_http_GET(&resp, acme->http, acme->url, NULL, acme->p);
    if (APR_SUCCESS != rv) {
        set_contact_error(result, rv, acme->url);
        goto leave;
    }
    if (503 == resp->status) {
        rv = APR_EAGAIN;
        md_result_printf(result, rv, "The ACME server at <%s> reports that Service is "
                         "Unavailable (503). This may happen during maintenance for "
                         "short periods of time.", acme->url);
        goto leave;
    }
    rv = inspect_response(&json, NULL, acme, resp, result, acme->p);
    if (APR_SUCCESS != rv) goto leave;
    if (!json) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "Unable to understand the response from the ACME "
                         "server at <%s>: the directory is not JSON.", acme->url);
        goto leave;
    }
    acme->directory = json;
    acme->api.new_nonce = json_url(acme, json, "newNonce");
    acme->api.new_account = json_url(acme, json, "newAccount");
    acme->api.new_order = json_url(acme, json, "newOrder");
    acme->api.revoke_cert = json_url(acme, json, "revokeCert");
    acme->api.key_change = json_url(acme, json, "keyChange");
    acme->api.renewal_info = json_url(acme, json, "renewalInfo");
    acme->tos = md_json_dups(acme->p, json, "meta", "termsOfService", NULL);
    acme->website = md_json_dups(acme->p, json, "meta", "website", NULL);
    acme->eab_required = md_json_getb(json, "meta", "externalAccountRequired", NULL);
    acme->profiles = md_json_getj(json, "meta", "profiles", NULL);
    if (!acme->api.new_nonce || !acme->api.new_account || !acme->api.new_order) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "Unable to understand the response from the ACME "
                         "server at <%s>: the directory does not describe an ACMEv2 "
                         "(RFC 8555) server.", acme->url);
    }
leave:
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, acme->p,
                      "AH10912: setup of ACME session for %s failed", acme->url);
    }
    return rv;
}

static apr_status_t new_nonce(md_acme_t *acme, md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp;
    apr_status_t rv;

    if (!acme->api.new_nonce) {
        rv = md_acme_setup(acme, result);
        if (APR_SUCCESS != rv) return rv;
    }
    rv = md_http_HEAD(&resp, acme->http, acme->api.new_nonce, NULL, p);
    if (APR_SUCCESS != rv) {
        set_contact_error(result, rv, acme->url);
        return rv;
    }
    update_nonce(acme, resp);
    if (!acme->nonce) {
        rv = APR_EGENERAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10913: no %s from %s (http status %d)",
                      HDR_NONCE, acme->api.new_nonce, resp->status);
        if (result) md_result_printf(result, rv, "The ACME server at <%s> did not "
                                     "provide a nonce.", acme->url);
    }
    return rv;
}

/* One signed POST, using up the current nonce. */
static apr_status_t post_once(md_http_response_t **presp, md_acme_t *acme,
                              const char *url, const char *payload, int use_jwk,
                              apr_table_t *headers, md_result_t *result, apr_pool_t *p)
{
    md_json_t *jws;
    const char *body, *nonce;
    apr_status_t rv;

    *presp = NULL;
    if (!acme->nonce) {
        rv = new_nonce(acme, result, p);
        if (APR_SUCCESS != rv) return rv;
    }
    nonce = acme->nonce;
    acme->nonce = NULL;
    rv = md_jws_sign(&jws, p, payload, strlen(payload), nonce, url, acme->acct_key,
                     use_jwk ? NULL : acme->acct->url);
    if (APR_SUCCESS != rv) {
        if (result) {
            md_result_set(result, rv, "unable to sign the ACME request");
        }
        return rv;
    }
    body = md_json_writep(jws, p, MD_JSON_FMT_COMPACT);
    rv = md_http_POST(presp, acme->http, url, headers, CT_JOSE_JSON,
                      body, strlen(body), p);
    if (APR_SUCCESS != rv) {
        set_contact_error(result, rv, acme->url);
    }
    return rv;
}

static apr_status_t post_with_headers(md_http_response_t **presp, md_json_t **pjson,
                                      md_acme_t *acme, const char *url,
                                      const md_json_t *payload, int use_jwk,
                                      apr_table_t *headers, md_result_t *result,
                                      apr_pool_t *p)
{
    md_http_response_t *resp = NULL;
    md_json_t *json = NULL;
    const char *data;
    apr_status_t rv;
    int attempt, bad_nonce;

    if (!acme->acct_key || (!use_jwk && (!acme->acct || !acme->acct->url))) {
        rv = APR_EINVAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "AH10914: ACME request to %s needs an account", url);
        goto leave;
    }
    data = payload ? md_json_writep(payload, p, MD_JSON_FMT_COMPACT) : "";
    for (attempt = 0; ; ++attempt) {
        rv = post_once(&resp, acme, url, data, use_jwk, headers, result, p);
        if (APR_SUCCESS != rv) goto leave;
        bad_nonce = 0;
        rv = inspect_response(&json, (attempt < acme->max_nonce_retries) ? &bad_nonce
                              : NULL, acme, resp, result, p);
        if (!bad_nonce) {
            break;
        }
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10915: retrying %s with a new nonce",
                      url);
    }
leave:
    if (presp) {
        *presp = resp;
    }
    if (pjson) {
        *pjson = json;
    }
    return rv;
}

apr_status_t md_acme_post(md_http_response_t **presp, md_json_t **pjson,
                          md_acme_t *acme, const char *url,
                          const md_json_t *payload, int use_jwk,
                          md_result_t *result, apr_pool_t *p)
{
    return post_with_headers(presp, pjson, acme, url, payload, use_jwk, NULL,
                             result, p);
}

apr_status_t md_acme_get_chain(apr_array_header_t *chain, md_acme_t *acme,
                               const char *url, md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp;
    apr_table_t *headers = apr_table_make(p, 1);
    apr_status_t rv;

    apr_table_setn(headers, "Accept", CT_PEM_CHAIN);
    rv = post_with_headers(&resp, NULL, acme, url, NULL, 0, headers, result, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_chain_read_pem(chain, p, resp->body.data, resp->body.len);
    if (APR_SUCCESS == rv && chain->nelts <= 0) {
        rv = APR_ENOENT;
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "AH10916: no certificate chain in the answer from %s", url);
        if (result) {
            md_result_printf(result, rv, "The ACME server at <%s> did not deliver a "
                             "certificate chain.", acme->url);
        }
    }
leave:
    return rv;
}

/* --- revocation ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    int code;
} revoke_reasons[] = {
    { "unspecified", 0 },
    { "keyCompromise", 1 },
    { "affiliationChanged", 3 },
    { "superseded", 4 },
    { "cessationOfOperation", 5 },
};

int md_acme_revoke_reason(const char *name)
{
    apr_size_t i;

    for (i = 0; name && i < MD_ARRAY_LEN(revoke_reasons); ++i) {
        if (!strcasecmp(revoke_reasons[i].name, name)) return revoke_reasons[i].code;
    }
    return -1;
}

apr_status_t md_acme_revoke(md_acme_t *acme, const md_cert_t *cert, int reason,
                            md_pkey_t *cert_key, md_result_t *result, apr_pool_t *p)
{
    md_pkey_t *acct_key = acme->acct_key;
    md_json_t *payload = md_json_create(p);
    md_data_t der;
    apr_status_t rv;

    if (!acme->api.revoke_cert) {
        rv = APR_ENOTIMPL;
        md_result_printf(result, rv, "The ACME server at <%s> offers no certificate "
                         "revocation (no revokeCert in its directory).", acme->url);
        goto leave;
    }
    rv = md_cert_to_der(&der, cert, p);
    if (APR_SUCCESS != rv) goto leave;
    md_json_sets(md_util_base64url_encode(der.data, der.len, p), payload,
                 "certificate", NULL);
    if (reason >= 0) {
        md_json_setl(reason, payload, "reason", NULL);
    }
    /* the certificate's key proves control by itself (jwk): for a lost
     * account; the session's account key is restored afterwards */
    if (cert_key) {
        acme->acct_key = cert_key;
    }
    rv = md_acme_post(NULL, NULL, acme, acme->api.revoke_cert, payload,
                      cert_key != NULL, result, p);
    acme->acct_key = acct_key;
leave:
    return rv;
}

/* --- ACME Renewal Information ----------------------------------------------------- */

apr_time_t md_acme_parse_rfc3339(const char *s)
{
    apr_time_exp_t tm;
    apr_time_t t;
    int year, mon, day, hour, min, sec, n = 0, oh = 0, om = 0;
    const char *p;

    if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &year, &mon, &day, &hour,
                     &min, &sec, &n) != 6 || n <= 0) {
        return 0;
    }
    p = s + n;
    if (*p == '.') {
        for (++p; *p >= '0' && *p <= '9'; ++p) ;
    }
    if (*p == '+' || *p == '-') {
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return 0;
        if (*p == '-') {
            oh = -oh;
            om = -om;
        }
    }
    else if (*p != 'Z' && *p != 'z') {
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    if (APR_SUCCESS != apr_time_exp_gmt_get(&t, &tm)) return 0;
    return t - apr_time_from_sec((apr_time_t)oh * 3600 + (apr_time_t)om * 60);
}

apr_status_t md_acme_ari_parse(md_acme_ari_t *ari, const md_json_t *json, apr_pool_t *p)
{
    memset(ari, 0, sizeof(*ari));
    ari->start = md_acme_parse_rfc3339(md_json_gets(json, "suggestedWindow", "start",
                                                    NULL));
    ari->end = md_acme_parse_rfc3339(md_json_gets(json, "suggestedWindow", "end", NULL));
    ari->explanation_url = md_json_dups(p, json, "explanationURL", NULL);
    return (ari->start > 0 && ari->end > ari->start) ? APR_SUCCESS : APR_EINVAL;
}

apr_status_t md_acme_ari_get(md_acme_ari_t **pari, md_acme_t *acme, const char *cert_id,
                             md_result_t *result, apr_pool_t *p)
{
    md_acme_ari_t *ari = apr_pcalloc(p, sizeof(*ari));
    md_http_response_t *resp;
    md_json_t *json;
    const char *base = acme->api.renewal_info;
    apr_status_t rv;

    if (!base || !*base) {
        rv = APR_ENOTIMPL;
        goto leave;
    }
    rv = md_acme_get(&resp, &json, acme, apr_pstrcat(p, base,
                     (base[strlen(base) - 1] == '/') ? "" : "/", cert_id, NULL),
                     result, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = json ? md_acme_ari_parse(ari, json, p) : APR_EINVAL;
    ari->retry_after = md_http_resp_retry_after(resp, 0);
leave:
    *pari = (APR_SUCCESS == rv) ? ari : NULL;
    return rv;
}

/* --- polling --------------------------------------------------------------------- */

apr_status_t md_acme_poll(md_acme_poll_cb *cb, void *baton,
                          apr_interval_time_t timeout)
{
    apr_time_t end = apr_time_now() + timeout, now;
    apr_interval_time_t backoff = apr_time_from_msec(50), delay;
    apr_status_t rv;
    int attempt;

    for (attempt = 0; ; ++attempt) {
        delay = 0;
        rv = cb(baton, attempt, &delay);
        if (!APR_STATUS_IS_EAGAIN(rv)) {
            break;
        }
        now = apr_time_now();
        if (now >= end) {
            rv = APR_TIMEUP;
            break;
        }
        if (delay <= 0) {
            delay = backoff;
            backoff = (backoff * 2 > apr_time_from_sec(5)) ? apr_time_from_sec(5)
                                                           : backoff * 2;
        }
        if (delay > end - now) {
            delay = end - now;
        }
        apr_sleep(delay);
    }
    return rv;
}
