/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * ACME accounts in the store and at the CA: account.json conversion, ids
 * ACME-<sname>-NNNN, usable-account lookup, registration (with terms of
 * service and external account binding), validation and deactivation.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_fnmatch.h>

#include "md.h"
#include "md_json.h"
#include "md_jws.h"
#include "md_log.h"
#include "md_util.h"
#include "md_acme.h"
#include "md_acme_acct.h"

#define MD_KEY_STATUS           "status"
#define MD_KEY_CA_URL           "ca-url"
#define MD_KEY_CONTACT          "contact"
#define MD_KEY_REGISTRATION     "registration"
#define MD_KEY_ORDERS           "orders"
#define MD_KEY_TOS              "terms-of-service"
#define MD_KEY_TOS_AGREED       "termsOfServiceAgreed"
#define MD_KEY_EAB_ACME         "externalAccountBinding"

#define MD_ACCT_MAX_IDS         1000

const char *md_acme_acct_sname(const char *ca_url, apr_pool_t *p)
{
    const char *host = md_util_uri_host(p, ca_url);
    apr_size_t len;

    if (!host) {
        host = "unknown";
    }
    len = strlen(host);
    return (len > 16) ? apr_pstrdup(p, host + len - 16) : host;
}

static const char *status_str(md_acme_acct_st status)
{
    switch (status) {
        case MD_ACME_ACCT_ST_VALID:       return "valid";
        case MD_ACME_ACCT_ST_DEACTIVATED: return "deactivated";
        case MD_ACME_ACCT_ST_REVOKED:     return "revoked";
        default:                          return NULL;
    }
}

static md_acme_acct_st status_parse(const char *s)
{
    if (!s) return MD_ACME_ACCT_ST_UNKNOWN;
    if (!strcmp("valid", s)) return MD_ACME_ACCT_ST_VALID;
    if (!strcmp("deactivated", s)) return MD_ACME_ACCT_ST_DEACTIVATED;
    if (!strcmp("revoked", s)) return MD_ACME_ACCT_ST_REVOKED;
    return MD_ACME_ACCT_ST_UNKNOWN;
}

md_json_t *md_acme_acct_to_json(const md_acme_acct_t *acct, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);
    const char *s = status_str(acct->status);

    md_json_sets_if(s, json, MD_KEY_STATUS, NULL);
    md_json_sets(acct->url, json, MD_KEY_URL, NULL);
    md_json_sets(acct->ca_url, json, MD_KEY_CA_URL, NULL);
    md_json_setsa(acct->contacts ? acct->contacts : apr_array_make(p, 1, sizeof(char *)),
                  json, MD_KEY_CONTACT, NULL);
    md_json_setj_if(acct->registration, json, MD_KEY_REGISTRATION, NULL);
    md_json_sets_if(acct->agreement, json, MD_KEY_AGREEMENT, NULL);
    md_json_sets_if(acct->orders, json, MD_KEY_ORDERS, NULL);
    if (acct->eab_kid && acct->eab_hmac) {
        md_json_sets(acct->eab_kid, json, MD_KEY_EAB, MD_KEY_KID, NULL);
        md_json_sets(acct->eab_hmac, json, MD_KEY_EAB, MD_KEY_HMAC, NULL);
    }
    return json;
}

apr_status_t md_acme_acct_from_json(md_acme_acct_t **pacct, md_json_t *json,
                                    apr_pool_t *p)
{
    md_acme_acct_t *acct = apr_pcalloc(p, sizeof(*acct));
    apr_status_t rv = APR_SUCCESS;
    md_json_t *reg;

    acct->url = md_json_dups(p, json, MD_KEY_URL, NULL);
    acct->ca_url = md_json_dups(p, json, MD_KEY_CA_URL, NULL);
    if (!acct->url || !acct->ca_url) {
        rv = APR_EINVAL;
        goto leave;
    }
    acct->status = status_parse(md_json_gets(json, MD_KEY_STATUS, NULL));
    acct->contacts = apr_array_make(p, 3, sizeof(const char *));
    if (md_json_has_key(json, MD_KEY_CONTACT, NULL)) {
        md_json_getsa(acct->contacts, json, MD_KEY_CONTACT, NULL);
    }
    else {
        md_json_getsa(acct->contacts, json, MD_KEY_REGISTRATION, MD_KEY_CONTACT, NULL);
    }
    reg = md_json_getj(json, MD_KEY_REGISTRATION, NULL);
    acct->registration = reg ? md_json_clone(p, reg) : NULL;
    acct->agreement = md_json_dups(p, json, MD_KEY_AGREEMENT, NULL);
    if (!acct->agreement) {
        acct->agreement = md_json_dups(p, json, MD_KEY_TOS, NULL);
    }
    acct->orders = md_json_dups(p, json, MD_KEY_ORDERS, NULL);
    acct->eab_kid = md_json_dups(p, json, MD_KEY_EAB, MD_KEY_KID, NULL);
    acct->eab_hmac = md_json_dups(p, json, MD_KEY_EAB, MD_KEY_HMAC, NULL);
leave:
    *pacct = (APR_SUCCESS == rv) ? acct : NULL;
    return rv;
}

static int has_eab(const char *kid, const char *hmac)
{
    return kid && hmac && strcmp("none", kid);
}

int md_acme_acct_matches(const md_acme_acct_t *acct, const char *ca_url,
                         const char *eab_kid, const char *eab_hmac)
{
    if (MD_ACME_ACCT_ST_VALID != acct->status) return 0;
    if (!ca_url || strcmp(ca_url, acct->ca_url)) return 0;
    if (!has_eab(eab_kid, eab_hmac)) return !has_eab(acct->eab_kid, acct->eab_hmac);
    return has_eab(acct->eab_kid, acct->eab_hmac)
           && !strcmp(eab_kid, acct->eab_kid) && !strcmp(eab_hmac, acct->eab_hmac);
}

/* --- the store ------------------------------------------------------------------ */

apr_status_t md_acme_acct_load(md_acme_acct_t **pacct, md_pkey_t **ppkey,
                               md_store_t *store, md_store_group_t group,
                               const char *name, apr_pool_t *p)
{
    md_acme_acct_t *acct = NULL;
    md_pkey_t *pkey = NULL;
    md_json_t *json;
    apr_status_t rv;

    rv = md_store_load_json(store, group, name, MD_FN_ACCOUNT, &json, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_acme_acct_from_json(&acct, json, p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "AH10917: account %s/%s: "
                      "account.json lacks url or ca-url, ignored",
                      md_store_group_name(group), name);
        goto leave;
    }
    if (MD_SG_ACCOUNTS == group) {
        acct->id = apr_pstrdup(p, name);
    }
    rv = md_store_load(store, group, name, MD_FN_ACCT_KEY, MD_SV_PKEY,
                       (void **)&pkey, p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "AH10918: account %s/%s: "
                      "unable to load the account key", md_store_group_name(group),
                      name);
        if (APR_STATUS_IS_ENOENT(rv)) {
            rv = APR_EINVAL;
        }
    }
leave:
    *pacct = (APR_SUCCESS == rv) ? acct : NULL;
    *ppkey = (APR_SUCCESS == rv) ? pkey : NULL;
    return rv;
}

apr_status_t md_acme_acct_save_in(md_store_t *store, apr_pool_t *p,
                                  md_store_group_t group, const char *name,
                                  const md_acme_acct_t *acct, md_pkey_t *key)
{
    apr_status_t rv;

    rv = md_store_save_json(store, p, group, name, MD_FN_ACCOUNT,
                            md_acme_acct_to_json(acct, p), 0);
    if (APR_SUCCESS == rv && key) {
        rv = md_store_save(store, p, group, name, MD_FN_ACCT_KEY, MD_SV_PKEY, key, 0);
    }
    return rv;
}

apr_status_t md_acme_acct_save(md_store_t *store, apr_pool_t *p,
                               md_acme_acct_t *acct, md_pkey_t *key)
{
    const char *id = acct->id, *sname;
    apr_status_t rv = APR_SUCCESS;
    md_json_t *json;
    int i;

    if (id) {
        rv = md_acme_acct_save_in(store, p, MD_SG_ACCOUNTS, id, acct, key);
        goto leave;
    }
    sname = md_acme_acct_sname(acct->ca_url, p);
    json = md_acme_acct_to_json(acct, p);
    for (i = 0; i < MD_ACCT_MAX_IDS; ++i) {
        id = apr_psprintf(p, "%s%s-%04d", MD_ACME_ACCT_PREFIX, sname, i);
        rv = md_store_save_json(store, p, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, json, 1);
        if (!APR_STATUS_IS_EEXIST(rv)) {
            break;
        }
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10919: saving new account for %s",
                      acct->ca_url);
        goto leave;
    }
    if (key) {
        rv = md_store_save(store, p, MD_SG_ACCOUNTS, id, MD_FN_ACCT_KEY, MD_SV_PKEY,
                           key, 0);
    }
    if (APR_SUCCESS == rv) {
        acct->id = apr_pstrdup(p, id);
    }
leave:
    return rv;
}

apr_status_t md_acme_acct_remove(md_store_t *store, const char *id, apr_pool_t *p)
{
    apr_status_t rv;

    rv = md_store_remove(store, MD_SG_ACCOUNTS, id, MD_FN_ACCOUNT, p, 0);
    if (APR_SUCCESS == rv) {
        md_store_remove(store, MD_SG_ACCOUNTS, id, MD_FN_ACCT_KEY, p, 1);
        md_store_purge(store, p, MD_SG_ACCOUNTS, id);
    }
    return rv;
}

typedef struct {
    md_store_t *store;
    apr_pool_t *p;
    const char *ca_url;
    const char *eab_kid;
    const char *eab_hmac;
    md_acme_t *acme;            /* validate candidates when set */
    md_acme_acct_t *acct;
    md_pkey_t *pkey;
    apr_status_t error;         /* validation failed other than "unknown" */
} find_ctx_t;

static int find_acct_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    find_ctx_t *ctx = baton;
    md_acme_acct_t *acct;
    md_pkey_t *pkey;
    apr_status_t rv;

    if (APR_SUCCESS != md_acme_acct_load(&acct, &pkey, ctx->store, MD_SG_ACCOUNTS,
                                         name, ctx->p)) {
        return 1;
    }
    if (!md_acme_acct_matches(acct, ctx->ca_url, ctx->eab_kid, ctx->eab_hmac)) return 1;
    if (ctx->acme) {
        md_acme_set_acct(ctx->acme, acct, pkey);
        rv = md_acme_acct_validate(ctx->acme, ctx->store, NULL, ctx->p);
        if (APR_SUCCESS != rv) {
            md_acme_set_acct(ctx->acme, NULL, NULL);
            if (APR_STATUS_IS_ENOENT(rv)) return 1;
            ctx->error = rv;    /* e.g. the CA is unreachable: stop looking */
            return 0;
        }
    }
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, ptemp, "AH10920: found account %s for %s",
                  name, ctx->ca_url);
    ctx->acct = acct;
    ctx->pkey = pkey;
    return 0;
}

static apr_status_t find_acct(find_ctx_t *ctx)
{
    const char *pattern;
    apr_status_t rv;

    pattern = apr_psprintf(ctx->p, "%s%s-*", MD_ACME_ACCT_PREFIX,
                           md_acme_acct_sname(ctx->ca_url, ctx->p));
    rv = md_store_iter_names(find_acct_cb, ctx, ctx->store, ctx->p, MD_SG_ACCOUNTS,
                             pattern);
    if (APR_STATUS_IS_EACCES(rv)) {
        /* accounts/ stays 0750 root until the first account is saved: the
         * child renewing as User sees none there and registers a new one */
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, ctx->p, "AH10921: accounts not readable, "
                      "looking for %s", pattern);
        rv = APR_ENOENT;
    }
    if (ctx->error) return ctx->error;
    if (ctx->acct) return APR_SUCCESS;
    if (APR_SUCCESS != rv && !APR_STATUS_IS_ENOENT(rv)) {
        /* e.g. accounts/ not readable by the child process: as if empty */
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, ctx->p, "AH10922: looking for accounts "
                      "of %s in the store", ctx->ca_url);
    }
    return APR_ENOENT;
}

apr_status_t md_acme_acct_find(md_acme_acct_t **pacct, md_pkey_t **ppkey,
                               md_store_t *store, const char *ca_url,
                               const char *eab_kid, const char *eab_hmac,
                               apr_pool_t *p)
{
    find_ctx_t ctx;
    apr_status_t rv;

    memset(&ctx, 0, sizeof(ctx));
    ctx.store = store;
    ctx.p = p;
    ctx.ca_url = ca_url;
    ctx.eab_kid = eab_kid;
    ctx.eab_hmac = eab_hmac;
    rv = find_acct(&ctx);
    *pacct = (APR_SUCCESS == rv) ? ctx.acct : NULL;
    *ppkey = (APR_SUCCESS == rv) ? ctx.pkey : NULL;
    return rv;
}

apr_status_t md_acme_acct_find_and_use(md_acme_t *acme, md_store_t *store,
                                       const char *eab_kid, const char *eab_hmac,
                                       apr_pool_t *p)
{
    find_ctx_t ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.store = store;
    ctx.p = p;
    ctx.ca_url = acme->url;
    ctx.eab_kid = eab_kid;
    ctx.eab_hmac = eab_hmac;
    ctx.acme = acme;
    return find_acct(&ctx);
}

apr_status_t md_acme_use_acct(md_acme_t *acme, md_store_t *store,
                              const char *id, apr_pool_t *p)
{
    md_acme_acct_t *acct;
    md_pkey_t *pkey;
    apr_status_t rv;

    rv = md_acme_acct_load(&acct, &pkey, store, MD_SG_ACCOUNTS, id, p);
    if (APR_SUCCESS != rv) return rv;
    if (strcmp(acct->ca_url, acme->url)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, APR_EINVAL, p, "AH10923: account %s belongs "
                      "to %s, not to %s", id, acct->ca_url, acme->url);
        return APR_EINVAL;
    }
    md_acme_set_acct(acme, acct, pkey);
    return APR_SUCCESS;
}

/* --- at the CA ------------------------------------------------------------------- */

/* Takes over what the CA says about the account. */
static void acct_update(md_acme_acct_t *acct, md_json_t *json, apr_pool_t *p)
{
    const char *s;

    if (!json) return;
    acct->registration = md_json_clone(p, json);
    acct->status = status_parse(md_json_gets(json, MD_KEY_STATUS, NULL));
    if (md_json_has_key(json, MD_KEY_CONTACT, NULL)) {
        acct->contacts = apr_array_make(p, 3, sizeof(const char *));
        md_json_getsa(acct->contacts, json, MD_KEY_CONTACT, NULL);
    }
    s = md_json_gets(json, MD_KEY_ORDERS, NULL);
    if (s) {
        acct->orders = apr_pstrdup(p, s);
    }
}

static apr_status_t check_registration_input(md_acme_t *acme, const md_t *md,
                                             int check_tos, md_result_t *result)
{
    apr_status_t rv = APR_EINVAL;

    if (!md->contacts || md->contacts->nelts <= 0) {
        md_result_printf(result, rv, "No contact information is available for MD %s. "
                         "Configure one using the MDContactEmail or ServerAdmin "
                         "directive.", md->name ? md->name : "");
        goto leave;
    }
    if (check_tos && acme->tos && !md->ca_agreement) {
        md_result_printf(result, rv, "the CA requires you to accept the terms-of-service "
                         "as specified in <%s>. Please read the document that you find "
                         "at that URL and, if you agree to the conditions, configure "
                         "\"MDCertificateAgreement accepted\" in your Apache. Then "
                         "(graceful) restart the server to activate.", acme->tos);
        goto leave;
    }
    if (acme->eab_required && !has_eab(md->eab_kid, md->eab_hmac)) {
        md_result_problem_printf(result, rv,
                                 "urn:ietf:params:acme:error:externalAccountRequired",
                                 "The CA at <%s> requires an external account binding. "
                                 "Configure one using the MDExternalAccountBinding "
                                 "directive.", acme->url);
        goto leave;
    }
    rv = APR_SUCCESS;
leave:
    return rv;
}

apr_status_t md_acme_acct_register(md_acme_t *acme, const md_t *md,
                                   int check_tos, md_result_t *result, apr_pool_t *p)
{
    md_acme_acct_t *acct;
    md_pkey_t *pkey = NULL;
    md_pkey_spec_t spec;
    md_http_response_t *resp;
    md_json_t *payload, *json, *eab;
    const char *problem, *location;
    apr_status_t rv;

    md_acme_set_acct(acme, NULL, NULL);
    if (!acme->api.new_account) {
        rv = md_acme_setup(acme, result);
        if (APR_SUCCESS != rv) goto leave;
    }
    rv = check_registration_input(acme, md, check_tos, result);
    if (APR_SUCCESS != rv) goto leave;

    memset(&spec, 0, sizeof(spec));
    spec.type = MD_PKEY_TYPE_RSA;
    spec.bits = MD_ACCOUNT_RSA_BITS;
    rv = md_pkey_gen(&pkey, acme->p, &spec);
    if (APR_SUCCESS != rv) {
        md_result_set(result, rv, "unable to generate the account key");
        goto leave;
    }
    payload = md_json_create(p);
    md_json_setsa(md->contacts, payload, MD_KEY_CONTACT, NULL);
    if (md->ca_agreement) {
        md_json_setb(1, payload, MD_KEY_TOS_AGREED, NULL);
    }
    if (has_eab(md->eab_kid, md->eab_hmac)) {
        rv = md_jws_eab(&eab, &problem, p, pkey, md->eab_kid, md->eab_hmac,
                        acme->api.new_account);
        if (APR_SUCCESS != rv) {
            if (APR_STATUS_IS_EINVAL(rv)) {
                md_result_problem_set(result, rv, problem, "external account binding "
                                      "HMAC value is not valid base64", NULL);
            }
            else {
                md_result_problem_printf(result, rv, problem, "The external account "
                                         "binding for kid '%s' could not be computed: "
                                         "signing failed", md->eab_kid);
            }
            goto leave;
        }
        md_json_setj(eab, payload, MD_KEY_EAB_ACME, NULL);
    }

    acme->acct_key = pkey;
    rv = md_acme_post(&resp, &json, acme, acme->api.new_account, payload, 1, result, p);
    if (APR_SUCCESS != rv) goto leave;
    location = md_http_resp_header(resp, "Location");
    if (!location) {
        rv = APR_EINVAL;
        md_result_printf(result, rv, "The ACME server at <%s> did not give the url of "
                         "the new account.", acme->url);
        goto leave;
    }
    acct = apr_pcalloc(acme->p, sizeof(*acct));
    acct->url = apr_pstrdup(acme->p, location);
    acct->ca_url = acme->url;
    acct->contacts = md_array_str_clone(acme->p, md->contacts);
    acct->status = MD_ACME_ACCT_ST_VALID;
    acct_update(acct, json, acme->p);
    if (has_eab(md->eab_kid, md->eab_hmac)) {
        acct->eab_kid = apr_pstrdup(acme->p, md->eab_kid);
        acct->eab_hmac = apr_pstrdup(acme->p, md->eab_hmac);
    }
    md_acme_set_acct(acme, acct, pkey);
    md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "registered new account %s",
                  acct->url);
leave:
    if (APR_SUCCESS != rv) {
        md_acme_set_acct(acme, NULL, NULL);
    }
    return rv;
}

apr_status_t md_acme_acct_validate(md_acme_t *acme, md_store_t *store,
                                   md_result_t *result, apr_pool_t *p)
{
    md_acme_acct_t *acct = acme->acct;
    md_http_response_t *resp = NULL;
    md_json_t *json = NULL;
    md_acme_acct_st prev;
    apr_status_t rv;

    if (!acct) return APR_EINVAL;
    if (!acme->api.new_account) {
        rv = md_acme_setup(acme, result);
        if (APR_SUCCESS != rv) goto leave;
    }
    prev = acct->status;
    rv = md_acme_post(&resp, &json, acme, acct->url, NULL, 0, result, p);
    if (APR_SUCCESS == rv) {
        acct_update(acct, json, acme->p);
        if (acct->id && store && prev != acct->status) {
            md_acme_acct_save_in(store, p, MD_SG_ACCOUNTS, acct->id, acct, NULL);
        }
        if (MD_ACME_ACCT_ST_VALID != acct->status) {
            rv = APR_ENOENT;
        }
        goto leave;
    }
    if (APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_EACCES(rv)
        || (resp && (resp->status == 404 || resp->status == 410))) {
        /* the CA does not know this account (any more) */
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "AH10924: account %s (%s) is not "
                      "accepted by the CA, marking it as of unknown status",
                      acct->id ? acct->id : "(staged)", acct->url);
        acct->status = MD_ACME_ACCT_ST_UNKNOWN;
        if (acct->id && store) {
            md_acme_acct_save_in(store, p, MD_SG_ACCOUNTS, acct->id, acct, NULL);
        }
        rv = APR_ENOENT;
    }
leave:
    return rv;
}

apr_status_t md_acme_acct_agree(md_acme_t *acme, const char *tos,
                                md_result_t *result, apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p), *json;
    md_http_response_t *resp;
    apr_status_t rv;

    if (!acme->acct) return APR_EINVAL;
    /* with the contacts, so that CAs do not see an empty update */
    if (acme->acct->contacts) {
        md_json_setsa(acme->acct->contacts, payload, MD_KEY_CONTACT, NULL);
    }
    md_json_setb(1, payload, MD_KEY_TOS_AGREED, NULL);
    rv = md_acme_post(&resp, &json, acme, acme->acct->url, payload, 0, result, p);
    if (APR_SUCCESS == rv) {
        acct_update(acme->acct, json, acme->p);
        acme->acct->agreement = apr_pstrdup(acme->p, tos ? tos : "accepted");
    }
    return rv;
}

apr_status_t md_acme_acct_deactivate(md_acme_t *acme, md_result_t *result,
                                     apr_pool_t *p)
{
    md_json_t *payload = md_json_create(p), *json;
    md_http_response_t *resp;
    apr_status_t rv;

    if (!acme->acct) return APR_EINVAL;
    md_json_sets("deactivated", payload, MD_KEY_STATUS, NULL);
    rv = md_acme_post(&resp, &json, acme, acme->acct->url, payload, 0, result, p);
    if (APR_SUCCESS == rv) {
        acct_update(acme->acct, json, acme->p);
        acme->acct->status = MD_ACME_ACCT_ST_DEACTIVATED;
    }
    return rv;
}

apr_status_t md_acme_acct_key_change(md_acme_t *acme, md_pkey_t *new_key,
                                     md_result_t *result, apr_pool_t *p)
{
    md_json_t *inner_payload = md_json_create(p), *inner, *old_jwk;
    const char *s;
    apr_status_t rv;

    if (!acme->acct || !acme->acct_key) return APR_EINVAL;
    if (!acme->api.key_change) {
        rv = APR_ENOTIMPL;
        md_result_printf(result, rv, "The ACME server at <%s> offers no account key "
                         "change (no keyChange in its directory).", acme->url);
        goto leave;
    }
    old_jwk = md_pkey_get_jwk(acme->acct_key, p);
    if (!old_jwk) {
        rv = APR_EINVAL;
        goto leave;
    }
    md_json_sets(acme->acct->url, inner_payload, "account", NULL);
    md_json_setj(old_jwk, inner_payload, "oldKey", NULL);
    s = md_json_writep(inner_payload, p, MD_JSON_FMT_COMPACT);
    /* the inner JWS carries the new key's jwk, the url and no nonce */
    rv = md_jws_sign(&inner, p, s, strlen(s), NULL, acme->api.key_change, new_key,
                     NULL);
    if (APR_SUCCESS != rv) {
        md_result_set(result, rv, "unable to sign with the new account key");
        goto leave;
    }
    rv = md_acme_post(NULL, NULL, acme, acme->api.key_change, inner, 0, result, p);
    if (APR_SUCCESS == rv) {
        acme->acct_key = new_key;
    }
leave:
    return rv;
}

apr_status_t md_acme_acct_adopt(md_acme_t *acme, const char *url, md_pkey_t *key,
                                md_result_t *result, apr_pool_t *p)
{
    md_acme_acct_t *acct = apr_pcalloc(acme->p, sizeof(*acct));
    apr_status_t rv;

    acct->url = apr_pstrdup(acme->p, url);
    acct->ca_url = acme->url;
    acct->status = MD_ACME_ACCT_ST_UNKNOWN;
    md_acme_set_acct(acme, acct, key);
    rv = md_acme_acct_validate(acme, NULL, result, p);
    if (APR_SUCCESS != rv) {
        md_acme_set_acct(acme, NULL, NULL);
    }
    return rv;
}
