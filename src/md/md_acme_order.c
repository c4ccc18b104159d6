/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * ACME orders: newOrder, order.json, challenge start over all pending
 * authorizations (recording set-up tokens as they happen), polling of
 * authorizations and order states with Retry-After, finalize, and purge
 * with teardown of the recorded challenges.
 */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_log.h"
#include "md_util.h"
#include "md_acme.h"
#include "md_acme_authz.h"
#include "md_acme_order.h"
#include "md_ip.h"

#define MD_KEY_STATUS           "status"
#define MD_KEY_AUTHORIZATIONS   "authorizations"
#define MD_KEY_CHALLENGE_SETUPS "challenge-setups"
#define MD_KEY_FINALIZE         "finalize"
#define MD_KEY_CERTIFICATE      "certificate"
#define MD_KEY_IDENTIFIERS      "identifiers"

static const char *st_names[] = {
    "pending", "ready", "processing", "valid", "invalid",
};

const char *md_acme_order_st_str(md_acme_order_st status)
{
    if ((int)status < 0 || (apr_size_t)status >= MD_ARRAY_LEN(st_names)) {
        return "invalid";
    }
    return st_names[status];
}

md_acme_order_st md_acme_order_st_parse(const char *s)
{
    apr_size_t i;

    for (i = 0; s && i < MD_ARRAY_LEN(st_names); ++i) {
        if (!strcmp(s, st_names[i])) return (md_acme_order_st)i;
    }
    return MD_ACME_ORDER_ST_INVALID;
}

md_acme_order_t *md_acme_order_create(apr_pool_t *p)
{
    md_acme_order_t *order = apr_pcalloc(p, sizeof(*order));

    order->p = p;
    order->status = MD_ACME_ORDER_ST_PENDING;
    order->authz_urls = apr_array_make(p, 5, sizeof(const char *));
    order->challenge_setups = apr_array_make(p, 5, sizeof(const char *));
    return order;
}

md_json_t *md_acme_order_to_json(const md_acme_order_t *order, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets_if(order->url, json, MD_KEY_URL, NULL);
    md_json_sets(md_acme_order_st_str(order->status), json, MD_KEY_STATUS, NULL);
    md_json_setsa(order->authz_urls, json, MD_KEY_AUTHORIZATIONS, NULL);
    md_json_setsa(order->challenge_setups, json, MD_KEY_CHALLENGE_SETUPS, NULL);
    md_json_sets_if(order->finalize, json, MD_KEY_FINALIZE, NULL);
    md_json_sets_if(order->certificate, json, MD_KEY_CERTIFICATE, NULL);
    return json;
}

md_acme_order_t *md_acme_order_from_json(md_json_t *json, apr_pool_t *p)
{
    md_acme_order_t *order = md_acme_order_create(p);

    order->url = md_json_dups(p, json, MD_KEY_URL, NULL);
    order->status = md_acme_order_st_parse(md_json_gets(json, MD_KEY_STATUS, NULL));
    md_json_getsa(order->authz_urls, json, MD_KEY_AUTHORIZATIONS, NULL);
    md_json_getsa(order->challenge_setups, json, MD_KEY_CHALLENGE_SETUPS, NULL);
    order->finalize = md_json_dups(p, json, MD_KEY_FINALIZE, NULL);
    order->certificate = md_json_dups(p, json, MD_KEY_CERTIFICATE, NULL);
    return order;
}

apr_status_t md_acme_order_load(md_acme_order_t **porder, md_store_t *store,
                                md_store_group_t group, const char *name,
                                apr_pool_t *p)
{
    md_json_t *json;
    apr_status_t rv;

    rv = md_store_load_json(store, group, name, MD_FN_ORDER, &json, p);
    *porder = (APR_SUCCESS == rv) ? md_acme_order_from_json(json, p) : NULL;
    return rv;
}

apr_status_t md_acme_order_save(md_store_t *store, apr_pool_t *p,
                                md_store_group_t group, const char *name,
                                const md_acme_order_t *order)
{
    return md_store_save_json(store, p, group, name, MD_FN_ORDER,
                              md_acme_order_to_json(order, p), 0);
}

apr_status_t md_acme_order_purge(md_store_t *store, apr_pool_t *p,
                                 md_store_group_t group, const md_t *md,
                                 const char *dns01_cmd, int dns01_version)
{
    md_acme_order_t *order;
    apr_status_t rv;
    int i;

    if (md->dns01_cmd) {
        dns01_cmd = md->dns01_cmd;
    }
    rv = md_acme_order_load(&order, store, group, md->name, p);
    if (APR_STATUS_IS_ENOENT(rv)) return APR_SUCCESS;
    if (APR_SUCCESS == rv) {
        for (i = 0; i < order->challenge_setups->nelts; ++i) {
            md_acme_authz_teardown(store, APR_ARRAY_IDX(order->challenge_setups, i,
                                                        const char *),
                                   md, dns01_cmd, dns01_version, p);
        }
    }
    return md_store_remove(store, group, md->name, MD_FN_ORDER, p, 1);
}

apr_array_header_t *md_acme_order_domains(const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *domains = apr_array_make(p, md->domains->nelts,
                                                 sizeof(const char *));
    const char *domain, *other;
    int i, j, covered;

    for (i = 0; i < md->domains->nelts; ++i) {
        domain = APR_ARRAY_IDX(md->domains, i, const char *);
        covered = 0;
        for (j = 0; !covered && j < md->domains->nelts; ++j) {
            other = APR_ARRAY_IDX(md->domains, j, const char *);
            covered = (i != j) && md_dns_is_wildcard(other) && !md_dns_is_wildcard(domain)
                      && md_dns_matches(other, domain);
        }
        if (!covered) {
            APR_ARRAY_PUSH(domains, const char *) = domain;
        }
    }
    return domains;
}

/* Takes over the CA's order object. */
static apr_status_t order_update_from(md_acme_order_t *order, md_json_t *json,
                                      const md_http_response_t *resp)
{
    const char *s;

    if (!json) return APR_EINVAL;
    order->json = md_json_clone(order->p, json);
    order->status = md_acme_order_st_parse(md_json_gets(json, MD_KEY_STATUS, NULL));
    if (md_json_has_key(json, MD_KEY_AUTHORIZATIONS, NULL)) {
        apr_array_clear(order->authz_urls);
        md_json_getsa(order->authz_urls, json, MD_KEY_AUTHORIZATIONS, NULL);
    }
    s = md_json_gets(json, MD_KEY_FINALIZE, NULL);
    if (s) {
        order->finalize = apr_pstrdup(order->p, s);
    }
    s = md_json_gets(json, MD_KEY_CERTIFICATE, NULL);
    if (s) {
        order->certificate = apr_pstrdup(order->p, s);
    }
    order->retry_after = resp ? md_http_resp_retry_after(resp, 0) : 0;
    return APR_SUCCESS;
}

apr_status_t md_acme_order_register(md_acme_order_t **porder, md_acme_t *acme,
                                    apr_array_header_t *domains, const char *profile,
                                    const char *replaces, md_result_t *result,
                                    apr_pool_t *p)
{
    md_acme_order_t *order = md_acme_order_create(p);
    md_json_t *payload = md_json_create(p), *id, *json;
    md_http_response_t *resp;
    const char *location;
    apr_status_t rv;
    int i;

    for (i = 0; i < domains->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(domains, i, const char *);
        /* an address is an identifier of type "ip" (RFC 8738 3) */
        id = md_json_create(p);
        md_json_sets(md_ip_ident_type(name), id, "type", NULL);
        md_json_sets(name, id, "value", NULL);
        md_json_addj(id, payload, MD_KEY_IDENTIFIERS, NULL);
    }
    md_json_sets_if(profile, payload, MD_KEY_PROFILE, NULL);
    md_json_sets_if(replaces, payload, "replaces", NULL);
    rv = md_acme_post(&resp, &json, acme, acme->api.new_order, payload, 0, result, p);
    if (APR_SUCCESS != rv) goto leave;
    location = md_http_resp_header(resp, "Location");
    if (!location || APR_SUCCESS != order_update_from(order, json, resp)) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "The ACME server at <%s> answered the new order "
                         "without %s.", acme->url, location ? "order object" : "url");
        goto leave;
    }
    order->url = apr_pstrdup(p, location);
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10936: new order %s: %s", order->url,
                  md_acme_order_st_str(order->status));
leave:
    *porder = (APR_SUCCESS == rv) ? order : NULL;
    return rv;
}

apr_status_t md_acme_order_update(md_acme_order_t *order, md_acme_t *acme,
                                  md_result_t *result, apr_pool_t *p)
{
    md_http_response_t *resp;
    md_json_t *json;
    apr_status_t rv;

    if (!order->url) return APR_EINVAL;
    rv = md_acme_post(&resp, &json, acme, order->url, NULL, 0, result, p);
    if (APR_SUCCESS != rv) return rv;
    rv = order_update_from(order, json, resp);
    if (APR_SUCCESS != rv) {
        md_result_printf(result, rv, "The ACME server at <%s> sent no order object "
                         "for %s.", acme->url, order->url);
    }
    return rv;
}

typedef struct {
    apr_array_header_t *domains;
    int matched;
    int count;
} covers_ctx;

static int covers_cb(void *baton, apr_size_t index, md_json_t *json)
{
    covers_ctx *ctx = baton;
    const char *value = md_json_gets(json, "value", NULL);

    (void)index;
    ++ctx->count;
    if (value && md_array_str_index(ctx->domains, value, 0, 0) >= 0) {
        ++ctx->matched;
    }
    return 1;
}

int md_acme_order_covers(const md_acme_order_t *order, apr_array_header_t *domains)
{
    covers_ctx ctx;

    if (!order->json) return 0;
    ctx.domains = domains;
    ctx.matched = ctx.count = 0;
    md_json_itera(covers_cb, &ctx, order->json, MD_KEY_IDENTIFIERS, NULL);
    return ctx.count == domains->nelts && ctx.matched == domains->nelts;
}

/* --- challenges ---------------------------------------------------------------------- */

apr_status_t md_acme_order_start_challenges(md_acme_order_t *order, md_acme_t *acme,
                                            const md_acme_authz_env_t *env,
                                            md_store_group_t group, const char *name,
                                            md_result_t *result, apr_pool_t *p)
{
    md_acme_authz_t *authz;
    const char *url, *setup;
    apr_status_t rv = APR_SUCCESS;
    int i;

    md_result_activity_setn(result, "Starting challenges for domains");
    for (i = 0; i < order->authz_urls->nelts; ++i) {
        url = APR_ARRAY_IDX(order->authz_urls, i, const char *);
        rv = md_acme_authz_retrieve(&authz, acme, url, result, p);
        if (APR_SUCCESS != rv) goto leave;
        /* the CA chooses the identifier: it selects the challenge directory
         * and is an argument of the dns-01 command */
        if (!md_acme_authz_domain_ok(env->md, authz->domain, authz->wildcard, p)) {
            rv = APR_EINVAL;
            md_result_printf(result, rv, "The ACME server at <%s> sent an authorization "
                             "for '%s'%s, which was not ordered (%s).", acme->url,
                             authz->domain, authz->wildcard ? " (wildcard)" : "", url);
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10704: %s: %s",
                          env->md->name, result->detail);
            goto leave;
        }
        if (MD_ACME_AUTHZ_S_VALID == authz->state) {
            continue;
        }
        if (MD_ACME_AUTHZ_S_PENDING != authz->state) {
            rv = md_acme_authz_check(authz, result, p);
            goto leave;
        }
        rv = md_acme_authz_respond(&setup, authz, acme, env, result, p);
        if (APR_SUCCESS != rv) goto leave;
        if (setup && md_array_str_index(order->challenge_setups, setup, 0, 1) < 0) {
            APR_ARRAY_PUSH(order->challenge_setups, const char *) =
                apr_pstrdup(order->p, setup);
            rv = md_acme_order_save(env->store, p, group, name, order);
            if (APR_SUCCESS != rv) goto leave;
        }
    }
leave:
    return rv;
}

typedef struct {
    md_acme_order_t *order;
    md_acme_t *acme;
    md_result_t *result;
    apr_pool_t *p;
    md_acme_order_st want;
} poll_ctx;

/* The context of both polls over an order (its authorizations, its status);
 * want is what order_poll_cb waits for. */
static poll_ctx poll_ctx_make(md_acme_order_t *order, md_acme_t *acme,
                              md_acme_order_st want, md_result_t *result, apr_pool_t *p)
{
    poll_ctx ctx;

    ctx.order = order;
    ctx.acme = acme;
    ctx.result = result;
    ctx.p = p;
    ctx.want = want;
    return ctx;
}

static apr_status_t authzs_poll_cb(void *baton, int attempt, apr_interval_time_t *pdelay)
{
    poll_ctx *ctx = baton;
    md_acme_authz_t *authz;
    const char *url;
    apr_status_t rv = APR_SUCCESS;
    int i;

    (void)attempt;
    md_result_touch(ctx->result);
    for (i = 0; i < ctx->order->authz_urls->nelts; ++i) {
        url = APR_ARRAY_IDX(ctx->order->authz_urls, i, const char *);
        rv = md_acme_authz_retrieve(&authz, ctx->acme, url, ctx->result, ctx->p);
        if (APR_SUCCESS != rv) {
            break;
        }
        rv = md_acme_authz_check(authz, ctx->result, ctx->p);
        if (APR_STATUS_IS_EAGAIN(rv)) {
            if (authz->retry_after > *pdelay) {
                *pdelay = authz->retry_after;
            }
            break;
        }
        if (APR_SUCCESS != rv) {
            break;
        }
    }
    return rv;
}

apr_status_t md_acme_order_monitor_authzs(md_acme_order_t *order, md_acme_t *acme,
                                          apr_interval_time_t timeout,
                                          md_result_t *result, apr_pool_t *p)
{
    /* valid authorizations make the order ready (authzs_poll_cb does not read want) */
    poll_ctx ctx = poll_ctx_make(order, acme, MD_ACME_ORDER_ST_READY, result, p);
    apr_status_t rv = md_acme_poll(authzs_poll_cb, &ctx, timeout);

    if (APR_STATUS_IS_TIMEUP(rv)) {
        md_result_printf(result, rv, "The ACME server at <%s> did not validate all "
                         "authorizations in time.", acme->url);
    }
    return rv;
}

/* 1 if the order as last seen is what the poll waits for. */
static int order_poll_done(const poll_ctx *ctx)
{
    const md_acme_order_t *order = ctx->order;

    if (MD_ACME_ORDER_ST_VALID == order->status) return order->certificate != NULL;
    return MD_ACME_ORDER_ST_INVALID != order->status && order->status >= ctx->want;
}

static apr_status_t order_poll_cb(void *baton, int attempt, apr_interval_time_t *pdelay)
{
    poll_ctx *ctx = baton;
    apr_status_t rv;

    md_result_touch(ctx->result);
    /* what the last answer (finalize) said may already be enough */
    if (attempt > 0 || !order_poll_done(ctx)) {
        rv = md_acme_order_update(ctx->order, ctx->acme, ctx->result, ctx->p);
        if (APR_SUCCESS != rv) return rv;
    }
    *pdelay = ctx->order->retry_after;
    switch (ctx->order->status) {
        case MD_ACME_ORDER_ST_INVALID:
            rv = APR_EINVAL;
            md_result_problem_set(ctx->result, rv,
                                  md_json_gets(ctx->order->json, "error", "type", NULL),
                                  md_json_gets(ctx->order->json, "error", "detail", NULL),
                                  md_json_getj(ctx->order->json, "error", "subproblems",
                                               NULL));
            if (!ctx->result->detail) {
                md_result_printf(ctx->result, rv, "The order %s became invalid.",
                                 ctx->order->url);
            }
            return rv;
        case MD_ACME_ORDER_ST_VALID:
            if (!ctx->order->certificate) return APR_EAGAIN;
            return APR_SUCCESS;
        default:
            return (ctx->order->status >= ctx->want) ? APR_SUCCESS : APR_EAGAIN;
    }
}

static apr_status_t order_await(md_acme_order_t *order, md_acme_t *acme,
                                md_acme_order_st want, apr_interval_time_t timeout,
                                md_result_t *result, apr_pool_t *p)
{
    poll_ctx ctx = poll_ctx_make(order, acme, want, result, p);
    apr_status_t rv = md_acme_poll(order_poll_cb, &ctx, timeout);

    if (APR_STATUS_IS_TIMEUP(rv)) {
        md_result_printf(result, rv, "The order %s did not become %s in time (it is %s).",
                         order->url, md_acme_order_st_str(want),
                         md_acme_order_st_str(order->status));
    }
    return rv;
}

apr_status_t md_acme_order_await_ready(md_acme_order_t *order, md_acme_t *acme,
                                       apr_interval_time_t timeout,
                                       md_result_t *result, apr_pool_t *p)
{
    return order_await(order, acme, MD_ACME_ORDER_ST_READY, timeout, result, p);
}

apr_status_t md_acme_order_await_valid(md_acme_order_t *order, md_acme_t *acme,
                                       apr_interval_time_t timeout,
                                       md_result_t *result, apr_pool_t *p)
{
    return order_await(order, acme, MD_ACME_ORDER_ST_VALID, timeout, result, p);
}

apr_status_t md_acme_order_finalize(md_acme_order_t *order, md_acme_t *acme,
                                    const char *csr64, md_result_t *result,
                                    apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p), *json;
    md_http_response_t *resp;
    apr_status_t rv;

    if (!order->finalize) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "The order %s has no finalize url.", order->url);
        return rv;
    }
    md_json_sets(csr64, payload, "csr", NULL);
    rv = md_acme_post(&resp, &json, acme, order->finalize, payload, 0, result, p);
    if (APR_SUCCESS == rv && json) {
        order_update_from(order, json, resp);
    }
    return rv;
}
