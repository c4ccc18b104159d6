/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Authorizations and their challenges: state of an authz at the CA, the
 * choice of challenge type, set-up of http-01 / tls-alpn-01 / dns-01 data
 * (contract.md 1.2, 4.5, 8.2-8.4), the set-up event callback, and the
 * teardown from set-up tokens.
 */
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_log.h"
#include "md_util.h"
#include "md_acme.h"
#include "md_acme_authz.h"
#include "md_ip.h"

#define MD_TLSALPN01_VALID  apr_time_from_sec(7 * 24 * 60 * 60)
/* a SHA-256 digest in base64url without padding */
#define MD_DNS01_DIGEST_LEN 43

/* --- state ----------------------------------------------------------------------- */

static md_acme_authz_state_t state_parse(const char *s)
{
    if (!s) return MD_ACME_AUTHZ_S_UNKNOWN;
    if (!strcmp("pending", s) || !strcmp("processing", s)) return MD_ACME_AUTHZ_S_PENDING;
    if (!strcmp("valid", s)) return MD_ACME_AUTHZ_S_VALID;
    return MD_ACME_AUTHZ_S_INVALID;     /* invalid, deactivated, expired, revoked */
}

apr_status_t md_acme_authz_update(md_acme_authz_t *authz, md_acme_t *acme,
                                  md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp;
    md_json_t *json;
    const char *domain, *type, *ip;
    apr_status_t rv;

    rv = md_acme_post(&resp, &json, acme, authz->url, NULL, 0, result, p);
    if (APR_SUCCESS != rv) goto leave;
    domain = json ? md_json_gets(json, "identifier", "value", NULL) : NULL;
    if (!domain) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "The ACME server at <%s> sent an authorization "
                         "without identifier (%s).", acme->url, authz->url);
        goto leave;
    }
    /* an address in the form the MD has it: the CA may write it otherwise */
    type = md_json_gets(json, "identifier", "type", NULL);
    if (type && !strcmp(MD_IDENT_IP, type)
        && APR_SUCCESS == md_ip_normalize(&ip, NULL, domain, p)) {
        domain = ip;
    }
    authz->resource = json;
    authz->domain = apr_pstrdup(p, domain);
    authz->wildcard = md_json_getb(json, "wildcard", NULL);
    authz->status = md_json_dups(p, json, "status", NULL);
    authz->state = state_parse(authz->status);
    authz->retry_after = md_http_resp_retry_after(resp, 0);
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10925: authz for %s at %s: %s",
                  authz->domain, authz->url, authz->status ? authz->status : "(none)");
leave:
    return rv;
}

apr_status_t md_acme_authz_retrieve(md_acme_authz_t **pauthz, md_acme_t *acme,
                                    const char *url, md_result_t *result,
                                    apr_pool_t *p)
{
    md_acme_authz_t *authz = apr_pcalloc(p, sizeof(*authz));
    apr_status_t rv;

    authz->url = apr_pstrdup(p, url);
    rv = md_acme_authz_update(authz, acme, result, p);
    *pauthz = (APR_SUCCESS == rv) ? authz : NULL;
    return rv;
}

typedef struct {
    md_json_t *error;
} find_error_ctx;

static int find_error_cb(void *baton, apr_size_t index, md_json_t *json)
{
    find_error_ctx *ctx = baton;

    (void)index;
    if (md_json_has_key(json, "error", NULL)) {
        ctx->error = md_json_getj(json, "error", NULL);
        return 0;
    }
    return 1;
}

apr_status_t md_acme_authz_check(md_acme_authz_t *authz, md_result_t *result,
                                 apr_pool_t *p)
{
    find_error_ctx ctx;
    const char *type;
    apr_status_t rv;

    switch (authz->state) {
        case MD_ACME_AUTHZ_S_VALID:
            return APR_SUCCESS;
        case MD_ACME_AUTHZ_S_PENDING:
        case MD_ACME_AUTHZ_S_UNKNOWN:
            return APR_EAGAIN;
        default:
            break;
    }
    ctx.error = NULL;
    md_json_itera(find_error_cb, &ctx, authz->resource, "challenges", NULL);
    type = ctx.error ? md_json_gets(ctx.error, "type", NULL) : NULL;
    if (type) {
        rv = md_acme_problem_status(type);
        if (APR_SUCCESS == rv || APR_STATUS_IS_EAGAIN(rv)) {
            rv = APR_EINVAL;
        }
        md_result_problem_set(result, rv, type, md_json_gets(ctx.error, "detail", NULL),
                              md_json_getj(ctx.error, "subproblems", NULL));
    }
    else {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "The authorization for domain %s is %s.",
                         authz->domain, authz->status ? authz->status : "invalid");
    }
    md_result_log(result, MD_LOG_ERR);
    (void)p;
    return rv;
}

/* --- challenge set-up --------------------------------------------------------------- */

typedef struct {
    const md_acme_authz_env_t *env;
    md_acme_authz_t *authz;
    md_acme_t *acme;
    const char *type;
    const char *url;        /* of the challenge */
    const char *token;
    const char *status;     /* of the challenge */
    const char *key_authz;
    md_result_t *result;
} cha_ctx;

typedef apr_status_t cha_setup_fn(const char **psetup, cha_ctx *ctx, apr_pool_t *p);

static apr_status_t setup_http01(const char **psetup, cha_ctx *ctx, apr_pool_t *p)
{
    const char *domain = ctx->authz->domain, *data = NULL;
    apr_status_t rv;

    rv = md_store_load(ctx->env->store, MD_SG_CHALLENGES, domain, MD_FN_HTTP01,
                       MD_SV_TEXT, (void **)&data, p);
    if (APR_SUCCESS != rv || !data || strcmp(data, ctx->key_authz)) {
        rv = md_store_save(ctx->env->store, p, MD_SG_CHALLENGES, domain, MD_FN_HTTP01,
                           MD_SV_TEXT, (void *)ctx->key_authz, 0);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10926: %s: saving http-01 "
                          "challenge for %s", ctx->env->md->name, domain);
            goto leave;
        }
    }
    rv = APR_SUCCESS;
    *psetup = apr_psprintf(p, "%s:%s", MD_AUTHZ_TYPE_HTTP01, domain);
leave:
    return rv;
}

static apr_status_t setup_tlsalpn01(const char **psetup, cha_ctx *ctx, apr_pool_t *p)
{
    const md_t *md = ctx->env->md;
    const char *domain = ctx->authz->domain;
    md_pkey_spec_t *spec;
    md_pkey_t *pkey;
    md_cert_t *cert;
    apr_array_header_t *chain;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        rv = md_pkey_gen(&pkey, p, spec);
        if (APR_SUCCESS != rv) goto leave;
        rv = md_cert_make_tls_alpn_01(&cert, domain, ctx->key_authz, pkey,
                                      MD_TLSALPN01_VALID, p);
        if (APR_SUCCESS != rv) goto leave;
        rv = md_store_save(ctx->env->store, p, MD_SG_CHALLENGES, domain,
                           md_pkey_spec_filename(spec, MD_FN_TLSALPN01_PKEY, p),
                           MD_SV_PKEY, pkey, 0);
        if (APR_SUCCESS != rv) goto leave;
        chain = apr_array_make(p, 1, sizeof(md_cert_t *));
        APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
        rv = md_store_save(ctx->env->store, p, MD_SG_CHALLENGES, domain,
                           md_pkey_spec_filename(spec, MD_FN_TLSALPN01_CERT, p),
                           MD_SV_CHAIN, chain, 0);
        if (APR_SUCCESS != rv) goto leave;
    }
    *psetup = apr_psprintf(p, "%s:%s", MD_AUTHZ_TYPE_TLSALPN01, domain);
leave:
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10927: %s: setting up tls-alpn-01 "
                      "challenge for %s", md->name, domain);
    }
    return rv;
}

static apr_status_t setup_dns01(const char **psetup, cha_ctx *ctx, apr_pool_t *p)
{
    const md_t *md = ctx->env->md;
    const char *domain = ctx->authz->domain, *digest;
    const char **argv;
    md_data_t data;
    apr_status_t rv;
    int exit_code;

    data.data = ctx->key_authz;
    data.len = strlen(ctx->key_authz);
    rv = md_crypt_sha256_digest64(&digest, p, &data);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_util_cmd_argv(&argv, p, ctx->env->dns01_cmd, "setup", domain, digest, NULL);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_util_exec(p, argv[0], argv, NULL, &exit_code);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p,
                      "%s: dns-01 setup command failed to execute for %s",
                      md->name, domain);
        goto leave;
    }
    if (exit_code) {
        rv = APR_EGENERAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, rv, p,
                      "%s: dns-01 setup command returns %d for %s",
                      md->name, exit_code, domain);
        goto leave;
    }
    *psetup = apr_psprintf(p, "%s:%s %s", MD_AUTHZ_TYPE_DNS01, domain, digest);
leave:
    return rv;
}

typedef struct {
    const char *type;
    cha_setup_fn *setup;
} cha_type_t;

static const cha_type_t cha_types[] = {
    { MD_AUTHZ_TYPE_HTTP01,    setup_http01 },
    { MD_AUTHZ_TYPE_TLSALPN01, setup_tlsalpn01 },
    { MD_AUTHZ_TYPE_DNS01,     setup_dns01 },
};

static const cha_type_t *cha_type_find(const char *type)
{
    apr_size_t i;

    for (i = 0; i < MD_ARRAY_LEN(cha_types); ++i) {
        if (!strcmp(type, cha_types[i].type)) return &cha_types[i];
    }
    return NULL;
}

/* 1 if the challenge type can be used for the domain at all. */
static int type_applies(const char *type, const md_acme_authz_env_t *env,
                        const char *domain, apr_pool_t *p)
{
    if (!cha_type_find(type)) return 0;
    if (!strcmp(MD_AUTHZ_TYPE_DNS01, type)) {
        /* an address has no DNS zone to put a record in (RFC 8738 7) */
        return env->dns01_cmd != NULL && !md_ip_is_address(domain);
    }
    if (!strcmp(MD_AUTHZ_TYPE_TLSALPN01, type)) {
        /* a name without an acme-tls/1 vhost of its own is answered by the
         * default vhost from challenges/<name>/ when any name of the MD has
         * one (as the original) */
        if (env->md->acme_tls_1_domains && env->md->acme_tls_1_domains->nelts > 0) {
            return 1;
        }
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p,
                      "AH10681: %s: protocol 'acme-tls/1' seems not enabled for this or "
                      "any other associated domain. Not attempting challenge type "
                      "tls-alpn-01.", domain);
        return 0;
    }
    return 1;
}

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *offered;    /* const char* types */
    const char *type;               /* find this one */
    md_json_t *found;
} offer_ctx;

static int offer_cb(void *baton, apr_size_t index, md_json_t *json)
{
    offer_ctx *ctx = baton;
    const char *type = md_json_gets(json, "type", NULL);

    (void)index;
    if (!type) return 1;
    if (ctx->offered) {
        APR_ARRAY_PUSH(ctx->offered, const char *) = type;
    }
    if (ctx->type && !strcmp(ctx->type, type)) {
        ctx->found = json;
        return 0;
    }
    return 1;
}

static md_json_t *challenge_get(md_acme_authz_t *authz, const char *type, apr_pool_t *p)
{
    offer_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.p = p;
    ctx.type = type;
    md_json_itera(offer_cb, &ctx, authz->resource, "challenges", NULL);
    return ctx.found;
}

/* Sets up one challenge type and tells the CA. */
static apr_status_t cha_respond(const char **psetup, cha_ctx *ctx, md_json_t *cha,
                                apr_pool_t *p)
{
    const md_acme_authz_env_t *env = ctx->env;
    const char *event;
    apr_status_t rv;

    ctx->url = md_json_gets(cha, "url", NULL);
    ctx->token = md_json_gets(cha, "token", NULL);
    ctx->status = md_json_gets(cha, "status", NULL);
    if (!ctx->url || !ctx->token || !md_util_is_base64url(ctx->token)) {
        rv = APR_EINVAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10928: %s: challenge %s for %s lacks "
                      "url or valid token", env->md->name, ctx->type, ctx->authz->domain);
        goto leave;
    }
    md_result_activity_printf(ctx->result, "Setting up challenge '%s' for domain %s",
                              ctx->type, ctx->authz->domain);
    rv = md_jws_key_authz(&ctx->key_authz, p, ctx->acme->acct_key, ctx->token);
    if (APR_SUCCESS != rv) goto leave;
    rv = cha_type_find(ctx->type)->setup(psetup, ctx, p);
    if (APR_SUCCESS != rv) goto leave;
    /* each time, also when the stored data did not change (a retry): the
     * command may have to do its part again (as the original) */
    if (env->on_setup
        && env->on_setup(env->on_setup_baton, env->md->name, ctx->type,
                         ctx->authz->domain, p)) {
        rv = APR_EGENERAL;
        event = apr_psprintf(p, "challenge-setup:%s:%s", ctx->type, ctx->authz->domain);
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p,
                      "%s: event '%s' failed. aborting challenge setup",
                      ctx->authz->domain, event);
        goto leave;
    }
    if (ctx->status && (!strcmp("processing", ctx->status)
                        || !strcmp("valid", ctx->status))) {
        goto leave;     /* the CA already works on it */
    }
    rv = md_acme_post(NULL, NULL, ctx->acme, ctx->url, md_json_create(p), 0,
                      ctx->result, p);
leave:
    return rv;
}

apr_status_t md_acme_authz_respond(const char **psetup, md_acme_authz_t *authz,
                                   md_acme_t *acme, const md_acme_authz_env_t *env,
                                   md_result_t *result, apr_pool_t *p)
{
    apr_array_header_t *candidates = apr_array_make(p, 3, sizeof(const char *));
    offer_ctx offers;
    cha_ctx ctx;
    md_json_t *cha;
    const char *type;
    apr_status_t rv = APR_SUCCESS;
    int i;

    *psetup = NULL;
    memset(&offers, 0, sizeof(offers));
    offers.p = p;
    offers.offered = apr_array_make(p, 3, sizeof(const char *));
    md_json_itera(offer_cb, &offers, authz->resource, "challenges", NULL);
    for (i = 0; env->types && i < env->types->nelts; ++i) {
        type = APR_ARRAY_IDX(env->types, i, const char *);
        if (md_array_str_index(offers.offered, type, 0, 1) >= 0
            && type_applies(type, env, authz->domain, p)) {
            APR_ARRAY_PUSH(candidates, const char *) = type;
        }
    }
    if (candidates->nelts <= 0) {
        rv = APR_EINVAL;
        md_result_problem_printf(result, rv, MD_PROBLEM_CHALLENGE_MISMATCH,
            "None of offered challenge types for domain %s are supported. The server "
            "offered '%s' and available are: '%s'.", authz->domain,
            md_array_str_join(offers.offered, " ", p),
            env->types ? md_array_str_join(env->types, " ", p) : "");
        md_result_log(result, MD_LOG_ERR);
        goto leave;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.env = env;
    ctx.authz = authz;
    ctx.acme = acme;
    ctx.result = result;
    for (i = 0; i < candidates->nelts; ++i) {
        ctx.type = APR_ARRAY_IDX(candidates, i, const char *);
        cha = challenge_get(authz, ctx.type, p);
        rv = cha ? cha_respond(psetup, &ctx, cha, p) : APR_ENOENT;
        if (APR_SUCCESS == rv) goto leave;
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "AH10929: %s: challenge %s for %s "
                      "not set up", env->md->name, ctx.type, authz->domain);
    }
    rv = APR_EGENERAL;
    md_result_problem_printf(result, rv, MD_PROBLEM_CHALLENGE_SETUP,
        "None of the offered challenge types %s offered for domain %s could be setup "
        "successfully. Please check the log for errors.",
        md_array_str_join(candidates, " ", p), authz->domain);
    md_result_log(result, MD_LOG_ERR);
leave:
    return rv;
}

/* --- identifiers ------------------------------------------------------------------ */

int md_acme_authz_domain_ok(const md_t *md, const char *domain, int wildcard,
                            apr_pool_t *p)
{
    const char *s;

    if (!domain || !*domain || '-' == *domain) return 0;
    for (s = domain; *s; ++s) {
        if (apr_isspace(*s) || '/' == *s || apr_iscntrl(*s)) return 0;
    }
    if (!strcmp(".", domain) || !strcmp("..", domain)) return 0;
    if (!wildcard && md_contains(md, domain, 0)) return 1;
    /* the authorization of "*.example.org" names "example.org" */
    return md_contains(md, apr_pstrcat(p, "*.", domain, NULL), 0);
}

/* --- teardown ---------------------------------------------------------------------- */

static apr_status_t teardown_dns01(const char *rest, const md_t *md,
                                   const char *dns01_cmd, int dns01_version,
                                   apr_pool_t *p)
{
    const char *domain, *token, *space = strchr(rest, ' ');
    const char **argv;
    apr_status_t rv;
    int exit_code = 0;

    domain = space ? apr_pstrmemdup(p, rest, (apr_size_t)(space - rest)) : rest;
    token = space ? space + 1 : NULL;
    /* order.json is writable by the httpd User and this may run as root:
     * its values become arguments only when they are what a set-up of this
     * md could have recorded */
    if (!md_acme_authz_domain_ok(md, domain, 0, p)
        || (token && (!md_util_is_base64url(token)
                      || MD_DNS01_DIGEST_LEN != strlen(token)))) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p, "AH10702: %s: dns-01 "
                      "teardown of '%s' refused: not a domain of the MD or not a "
                      "digest", md->name, rest);
        return APR_EINVAL;
    }
    if (!dns01_cmd) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, 0, p, "AH10930: %s: no dns-01 command "
                      "configured to tear down the challenge for %s", md->name, domain);
        return APR_ENOENT;
    }
    rv = (dns01_version >= 2 && token)
         ? md_util_cmd_argv(&argv, p, dns01_cmd, "teardown", domain, token, NULL)
         : md_util_cmd_argv(&argv, p, dns01_cmd, "teardown", domain, NULL);
    if (APR_SUCCESS == rv) {
        rv = md_util_exec(p, argv[0], argv, NULL, &exit_code);
    }
    if (APR_SUCCESS != rv || exit_code) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p,
                      "%s: dns-01 teardown command failed (exit code=%d) for %s",
                      md->name, exit_code, domain);
        if (APR_SUCCESS == rv) {
            rv = APR_EGENERAL;
        }
    }
    return rv;
}

apr_status_t md_acme_authz_teardown(md_store_t *store, const char *setup,
                                    const md_t *md, const char *dns01_cmd,
                                    int dns01_version, apr_pool_t *p)
{
    const char *colon = setup ? strchr(setup, ':') : NULL, *type, *rest;

    if (!colon) return APR_EINVAL;
    type = apr_pstrmemdup(p, setup, (apr_size_t)(colon - setup));
    rest = colon + 1;
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10931: %s: teardown of %s", md->name,
                  setup);
    if (!strcmp(MD_AUTHZ_TYPE_DNS01, type)) {
        return teardown_dns01(rest, md, dns01_cmd, dns01_version, p);
    }
    if (!strcmp(MD_AUTHZ_TYPE_HTTP01, type) || !strcmp(MD_AUTHZ_TYPE_TLSALPN01, type)) {
        if (!md_acme_authz_domain_ok(md, rest, 0, p)) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p, "AH10703: %s: "
                          "teardown of '%s' refused: not a domain of the MD",
                          md->name, setup);
            return APR_EINVAL;
        }
        return md_store_purge(store, p, MD_SG_CHALLENGES, rest);
    }
    return APR_ENOTIMPL;
}
