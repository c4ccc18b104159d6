/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The renewal driver: a readable list of steps (session, account, one
 * order per key spec, staged results) over md_acme, md_acme_acct,
 * md_acme_order and md_acme_authz. Each call owns its session and scratch
 * pool; nothing global, so several MDs can renew in parallel threads.
 */
#include <string.h>
#include <apr_cstr.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>
#include <apr_date.h>

#include "md.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_util.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_authz.h"
#include "md_acme_order.h"
#include "md_acme_drive.h"
#include "md_ip.h"

#define DEF_TIMEOUT     apr_time_from_sec(180)
/* the profile for short-lived certificates, which CAs issue addresses in */
#define MD_PROFILE_SHORTLIVED   "shortlived"

typedef struct {
    apr_pool_t *p;                  /* scratch pool of this renewal */
    md_store_t *store;
    md_t *md;                       /* our copy */
    const md_acme_drive_opts_t *opts;
    md_result_t *result;
    md_acme_t *acme;
    const char *ca_url;
    const char *dns01_cmd;
    md_acme_authz_env_t env;
    apr_array_header_t *domains;    /* identifiers to order */
    apr_array_header_t *setups;     /* challenge set-ups of all orders */
    apr_array_header_t *chains;     /* per spec: the new chain */
    int acct_staged;                /* the account lives in staging */
} drive_ctx;

/* The time by the renewal's clock. */
static apr_time_t drive_now(const drive_ctx *ctx)
{
    return ctx->opts->now_cb ? ctx->opts->now_cb(ctx->opts->clock_baton) : apr_time_now();
}

void md_acme_drive_opts_init(md_acme_drive_opts_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->dns01_version = 1;
    opts->authz_timeout = DEF_TIMEOUT;
    opts->order_timeout = DEF_TIMEOUT;
}

/* --- set-up ------------------------------------------------------------------------ */

static const char *choose_ca_url(const md_t *md)
{
    if (md->ca_effective && (!md->ca_urls || md->ca_urls->nelts <= 0
        || md_array_str_index(md->ca_urls, md->ca_effective, 0, 1) >= 0)) {
        return md->ca_effective;
    }
    if (md->ca_urls && md->ca_urls->nelts > 0) {
        return APR_ARRAY_IDX(md->ca_urls, 0, const char *);
    }
    return NULL;
}

/* The challenge types to try, in preference order. */
static apr_array_header_t *challenge_types(drive_ctx *ctx)
{
    const md_t *md = ctx->md;
    apr_array_header_t *types;

    if (md->ca_challenges && md->ca_challenges->nelts > 0) {
        return md_array_str_compact(ctx->p, md->ca_challenges, 1);
    }
    if (ctx->opts->challenge_types) return ctx->opts->challenge_types;
    types = apr_array_make(ctx->p, 3, sizeof(const char *));
    APR_ARRAY_PUSH(types, const char *) = MD_AUTHZ_TYPE_HTTP01;
    APR_ARRAY_PUSH(types, const char *) = MD_AUTHZ_TYPE_TLSALPN01;
    if (ctx->dns01_cmd) {
        APR_ARRAY_PUSH(types, const char *) = MD_AUTHZ_TYPE_DNS01;
    }
    return types;
}

/* An address can only be validated with http-01 or tls-alpn-01 (RFC 8738
 * 7) and has no wildcard form: such an MD is not ordered at all. */
static apr_status_t check_addresses(drive_ctx *ctx)
{
    const md_t *md = ctx->md;
    apr_array_header_t *types = challenge_types(ctx);
    const char *name;
    int i;

    for (i = 0; i < md->domains->nelts; ++i) {
        name = APR_ARRAY_IDX(md->domains, i, const char *);
        if (md_dns_is_wildcard(name) && md_ip_is_address(name + 2)) {
            md_result_problem_printf(ctx->result, APR_EINVAL,
                MD_PROBLEM_CHALLENGE_MISMATCH, "%s: '%s' is a wildcard of the address "
                "'%s', which no CA can validate", md->name, name, name + 2);
            return APR_EINVAL;
        }
        if (md_ip_is_address(name)
            && md_array_str_index(types, MD_AUTHZ_TYPE_HTTP01, 0, 0) < 0
            && md_array_str_index(types, MD_AUTHZ_TYPE_TLSALPN01, 0, 0) < 0) {
            md_result_problem_printf(ctx->result, APR_EINVAL,
                MD_PROBLEM_CHALLENGE_MISMATCH, "%s: the address '%s' can only be "
                "validated with the challenge types 'http-01' or 'tls-alpn-01', but "
                "the configured ones are '%s'", md->name, name,
                md_array_str_join(types, " ", ctx->p));
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t drive_setup(drive_ctx *ctx)
{
    const md_t *md = ctx->md;
    const md_acme_drive_opts_t *opts = ctx->opts;
    apr_status_t rv;

    /* any protocol is configurable, as in the original: only ACME renews */
    if (md->ca_proto && apr_cstr_casecmp(md->ca_proto, MD_PROTO_ACME)) {
        rv = APR_ENOTIMPL;
        md_result_printf(ctx->result, rv, "Unknown CA protocol '%s'", md->ca_proto);
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, ctx->p, "md[%s]: Unknown CA "
                      "protocol '%s'", md->name, md->ca_proto);
        return rv;
    }
    if (challenge_types(ctx)->nelts <= 0) {
        /* the host found none usable: fail before any CA is contacted */
        rv = APR_EGENERAL;
        md_result_set(ctx->result, rv, opts->no_challenges ? opts->no_challenges
                      : "None of the ACME challenge methods configured for this domain "
                        "are suitable.");
        return rv;
    }
    rv = check_addresses(ctx);
    if (APR_SUCCESS != rv) return rv;
    ctx->ca_url = choose_ca_url(md);
    if (!ctx->ca_url) {
        rv = APR_EINVAL;
        md_result_printf(ctx->result, rv, "No CA url is configured for %s.", md->name);
        return rv;
    }
    md_result_activity_printf(ctx->result, "Contacting ACME server for %s at %s",
                              md->name, ctx->ca_url);
    rv = md_acme_create(&ctx->acme, ctx->p, ctx->ca_url,
                        md->proxy_url ? md->proxy_url : opts->proxy_url,
                        md->ca_certs ? md->ca_certs : opts->ca_file);
    if (APR_SUCCESS != rv) {
        md_result_printf(ctx->result, rv, "The CA url %s is not usable.", ctx->ca_url);
        return rv;
    }
    md_acme_set_proxy_ca_file(ctx->acme, md->proxy_ca_certs ? md->proxy_ca_certs
                                                            : opts->proxy_ca_file);
    rv = md_acme_setup(ctx->acme, ctx->result);
    if (APR_SUCCESS != rv) return rv;

    ctx->dns01_cmd = md->dns01_cmd ? md->dns01_cmd : opts->dns01_cmd;
    ctx->env.store = ctx->store;
    ctx->env.md = md;
    ctx->env.types = challenge_types(ctx);
    ctx->env.dns01_cmd = ctx->dns01_cmd;
    ctx->env.on_setup = opts->on_challenge_setup;
    ctx->env.on_setup_baton = opts->on_challenge_setup_baton;
    ctx->domains = md_acme_order_domains(md, ctx->p);
    ctx->setups = apr_array_make(ctx->p, 5, sizeof(const char *));
    ctx->chains = apr_array_make(ctx->p, 2, sizeof(apr_array_header_t *));
    return APR_SUCCESS;
}

/* --- the account ------------------------------------------------------------------- */

/* Renewal threads share it: everything it allocates comes from its own
 * pool (own allocator), touched only with its mutex held, never from the
 * pool it was created from, which other threads use unlocked. */
struct md_acme_acct_cache_t {
    apr_pool_t *p;                  /* own, unmanaged: the hash, entry pools */
    apr_thread_mutex_t *mutex;
    apr_hash_t *entries;            /* "<ca url>\n<eab kid>\n<eab hmac>" -> entry */
};

typedef struct {
    apr_pool_t *p;                  /* the entry's own sub pool of the cache's */
    const char *acct_json;          /* the account, compact JSON */
    const char *key_pem;            /* its key, plain PEM (memory only) */
    const char *id;                 /* its id in accounts/, NULL if staged */
    int staged;                     /* not in accounts/ yet: stage it with each MD */
} acct_cache_entry;

static apr_status_t acct_cache_cleanup(void *data)
{
    md_acme_acct_cache_t *cache = data;

    apr_pool_destroy(cache->p);
    return APR_SUCCESS;
}

apr_status_t md_acme_acct_cache_create(md_acme_acct_cache_t **pcache, apr_pool_t *p)
{
    md_acme_acct_cache_t *cache = apr_pcalloc(p, sizeof(*cache));
    apr_status_t rv;

    rv = apr_pool_create_unmanaged_ex(&cache->p, NULL, NULL);
    if (APR_SUCCESS != rv) goto leave;
    apr_pool_cleanup_register(p, cache, acct_cache_cleanup, apr_pool_cleanup_null);
    cache->entries = apr_hash_make(cache->p);
    rv = apr_thread_mutex_create(&cache->mutex, APR_THREAD_MUTEX_DEFAULT, cache->p);
leave:
    *pcache = (APR_SUCCESS == rv) ? cache : NULL;
    return rv;
}

/* Drops the entry of key; call with the cache mutex held. */
static void cache_drop(md_acme_acct_cache_t *cache, const char *key)
{
    acct_cache_entry *e = apr_hash_get(cache->entries, key, APR_HASH_KEY_STRING);

    if (!e) return;
    apr_hash_set(cache->entries, key, APR_HASH_KEY_STRING, NULL);
    apr_pool_destroy(e->p);
}

static const char *cache_key(const drive_ctx *ctx)
{
    return apr_psprintf(ctx->p, "%s\n%s\n%s", ctx->ca_url,
                        ctx->md->eab_kid ? ctx->md->eab_kid : "",
                        ctx->md->eab_hmac ? ctx->md->eab_hmac : "");
}

/* Takes the cached account for the CA; call with the cache mutex held. */
static apr_status_t cache_take(drive_ctx *ctx, int *pstaged)
{
    acct_cache_entry *e = apr_hash_get(ctx->opts->acct_cache->entries, cache_key(ctx),
                                       APR_HASH_KEY_STRING);
    md_acme_acct_t *acct;
    md_pkey_t *pkey;
    md_json_t *json;
    apr_status_t rv;

    if (!e) return APR_ENOENT;
    rv = md_json_readd(&json, ctx->p, e->acct_json, strlen(e->acct_json));
    if (APR_SUCCESS == rv) {
        rv = md_acme_acct_from_json(&acct, json, ctx->p);
    }
    if (APR_SUCCESS == rv) rv = md_pkey_read_pem(&pkey, ctx->p, NULL, 0, e->key_pem,
                                                 strlen(e->key_pem));
    if (APR_SUCCESS != rv) return rv;
    if (e->id) {
        acct->id = apr_pstrdup(ctx->p, e->id);
    }
    md_acme_set_acct(ctx->acme, acct, pkey);
    *pstaged = e->staged;
    return APR_SUCCESS;
}

/* Remembers the session's account; call with the cache mutex held. */
static void cache_put(drive_ctx *ctx, int staged)
{
    md_acme_acct_cache_t *cache = ctx->opts->acct_cache;
    acct_cache_entry *e;
    const char *pem, *key;
    apr_pool_t *ep;

    if (!ctx->acme->acct || !ctx->acme->acct_key
        || APR_SUCCESS != md_pkey_to_pem(&pem, ctx->acme->acct_key, ctx->p, NULL, 0)) {
        return;
    }
    key = cache_key(ctx);
    if (APR_SUCCESS != apr_pool_create(&ep, cache->p)) return;
    e = apr_pcalloc(ep, sizeof(*e));
    e->p = ep;
    e->acct_json = apr_pstrdup(ep, md_json_writep(
        md_acme_acct_to_json(ctx->acme->acct, ctx->p), ctx->p, MD_JSON_FMT_COMPACT));
    e->key_pem = apr_pstrdup(ep, pem);
    e->id = (!staged && ctx->acme->acct->id) ? apr_pstrdup(ep, ctx->acme->acct->id) : NULL;
    e->staged = staged;
    cache_drop(cache, key);
    /* the key lives with the entry: cache_drop unhashes before it destroys */
    apr_hash_set(cache->entries, apr_pstrdup(ep, key), APR_HASH_KEY_STRING, e);
}

/* A failed renewal may be due to the account (the CA forgot it): ask the
 * CA again next time. */
static void cache_forget(drive_ctx *ctx)
{
    md_acme_acct_cache_t *cache = ctx->opts->acct_cache;

    if (!cache || !ctx->ca_url) return;
    apr_thread_mutex_lock(cache->mutex);
    cache_drop(cache, cache_key(ctx));
    apr_thread_mutex_unlock(cache->mutex);
}

/* Makes acct the session's account if it suits md and the CA knows it.
 * APR_ENOENT when it is not usable, other errors when asking failed. */
static apr_status_t try_acct(drive_ctx *ctx, md_acme_acct_t *acct, md_pkey_t *pkey)
{
    const md_t *md = ctx->md;
    apr_status_t rv;

    if (!md_acme_acct_matches(acct, ctx->ca_url, md->eab_kid, md->eab_hmac)) {
        return APR_ENOENT;
    }
    md_acme_set_acct(ctx->acme, acct, pkey);
    rv = md_acme_acct_validate(ctx->acme, ctx->store, ctx->result, ctx->p);
    if (APR_SUCCESS != rv) {
        md_acme_set_acct(ctx->acme, NULL, NULL);
    }
    return rv;
}

typedef struct {
    drive_ctx *ctx;
    apr_status_t rv;
} sibling_ctx;

static int sibling_acct_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    sibling_ctx *sc = baton;
    drive_ctx *ctx = sc->ctx;
    md_acme_acct_t *acct;
    md_pkey_t *pkey;

    (void)ptemp;
    if (!strcmp(name, ctx->md->name)
        || APR_SUCCESS != md_acme_acct_load(&acct, &pkey, ctx->store, MD_SG_STAGING,
                                            name, ctx->p)) {
        return 1;
    }
    sc->rv = try_acct(ctx, acct, pkey);
    if (APR_SUCCESS == sc->rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, ctx->p, "AH10932: %s: using the account %s "
                      "staged by %s", ctx->md->name, acct->url, name);
        return 0;
    }
    if (!APR_STATUS_IS_ENOENT(sc->rv)) return 0;
    return 1;
}

/* An account another MD registered at the same CA in this run of renewals
 * (it waits in that MD's staging area until activation). */
static apr_status_t use_sibling_account(drive_ctx *ctx)
{
    sibling_ctx sc;

    sc.ctx = ctx;
    sc.rv = APR_ENOENT;
    md_store_iter_names(sibling_acct_cb, &sc, ctx->store, ctx->p, MD_SG_STAGING, "*");
    return sc.rv;
}

/* An account in accounts/, one another MD staged, or a new registration.
 * *pstaged tells if it still has to be staged (is not in accounts/). */
static apr_status_t find_or_register(drive_ctx *ctx, int *pstaged)
{
    const md_t *md = ctx->md;
    apr_status_t rv;

    *pstaged = 0;
    rv = md_acme_acct_find_and_use(ctx->acme, ctx->store, md->eab_kid, md->eab_hmac,
                                   ctx->p);
    if (!APR_STATUS_IS_ENOENT(rv)) {
        if (APR_SUCCESS != rv) {
            md_result_printf(ctx->result, rv, "Unable to validate the accounts for %s "
                             "at <%s>.", md->name, ctx->ca_url);
        }
        return rv;
    }
    *pstaged = 1;
    rv = use_sibling_account(ctx);
    if (!APR_STATUS_IS_ENOENT(rv)) return rv;
    md_result_activity_printf(ctx->result, "Creating new ACME account for %s", md->name);
    return md_acme_acct_register(ctx->acme, md, 1, ctx->result, ctx->p);
}

static apr_status_t drive_account(drive_ctx *ctx)
{
    md_t *md = ctx->md;
    md_acme_acct_t *acct;
    md_pkey_t *pkey;
    apr_status_t rv;
    int staged = 0;

    md_result_activity_printf(ctx->result, "Selecting account to use for %s", md->name);
    if (APR_SUCCESS == md_acme_acct_load(&acct, &pkey, ctx->store, MD_SG_STAGING,
                                         md->name, ctx->p)) {
        rv = try_acct(ctx, acct, pkey);
        if (APR_SUCCESS == rv) {
            ctx->acct_staged = 1;
            return rv;
        }
        if (!APR_STATUS_IS_ENOENT(rv)) return rv;
        md_store_remove(ctx->store, MD_SG_STAGING, md->name, MD_FN_ACCOUNT, ctx->p, 1);
        md_store_remove(ctx->store, MD_SG_STAGING, md->name, MD_FN_ACCT_KEY, ctx->p, 1);
    }
    if (md->ca_account
        && APR_SUCCESS == md_acme_acct_load(&acct, &pkey, ctx->store, MD_SG_ACCOUNTS,
                                            md->ca_account, ctx->p)) {
        rv = try_acct(ctx, acct, pkey);
        if (!APR_STATUS_IS_ENOENT(rv)) return rv;
    }
    if (ctx->opts->acct_cache) {
        apr_thread_mutex_lock(ctx->opts->acct_cache->mutex);
    }
    rv = ctx->opts->acct_cache ? cache_take(ctx, &staged) : APR_ENOENT;
    if (APR_STATUS_IS_ENOENT(rv)) {
        rv = find_or_register(ctx, &staged);
    }
    if (APR_SUCCESS == rv && ctx->opts->acct_cache) {
        cache_put(ctx, staged);
    }
    if (ctx->opts->acct_cache) {
        apr_thread_mutex_unlock(ctx->opts->acct_cache->mutex);
    }
    if (APR_SUCCESS != rv || !staged) return rv;

    rv = md_acme_acct_save_in(ctx->store, ctx->p, MD_SG_STAGING, md->name,
                              ctx->acme->acct, ctx->acme->acct_key);
    if (APR_SUCCESS != rv) {
        md_result_set(ctx->result, rv, "Saving the new account in staging failed.");
        return rv;
    }
    ctx->acct_staged = 1;
    return APR_SUCCESS;
}

/* --- one key spec ------------------------------------------------------------------ */

/* The staged key and chain of spec, if both exist, match and cover md. */
static int staged_complete(drive_ctx *ctx, const md_pkey_spec_t *spec,
                           apr_array_header_t **pchain)
{
    apr_array_header_t *chain;
    md_pkey_t *pkey;
    md_cert_t *leaf;
    const char *why;

    if (APR_SUCCESS != md_store_pkey_load(ctx->store, MD_SG_STAGING, ctx->md->name,
                                          spec, &pkey, ctx->p)
        || APR_SUCCESS != md_store_chain_load(ctx->store, MD_SG_STAGING, ctx->md->name,
                                              spec, &chain, ctx->p)
        || chain->nelts <= 0) {
        return 0;
    }
    leaf = APR_ARRAY_IDX(chain, 0, md_cert_t *);
    if (APR_SUCCESS != md_cert_check_pkey(leaf, pkey)
        || APR_SUCCESS != md_chain_check_for_md(&why, chain, ctx->md, drive_now(ctx),
                                                ctx->p)) {
        return 0;
    }
    *pchain = chain;
    return 1;
}

/* The ARI id of the current certificate for spec, when ARI applies. */
static const char *replaces_id(drive_ctx *ctx, const md_pkey_spec_t *spec)
{
    apr_array_header_t *chain;
    const char *id;

    /* only to CAs that offer ARI; ari_renewals -1 (unset) means on */
    if (!ctx->md->ari_renewals || !ctx->acme->api.renewal_info) return NULL;
    if (ctx->opts->ari_cert_ids) {
        return apr_hash_get(ctx->opts->ari_cert_ids, md_pkey_spec_name(spec),
                            APR_HASH_KEY_STRING);
    }
    if (APR_SUCCESS != md_store_chain_load(ctx->store, MD_SG_DOMAINS, ctx->md->name,
                                           spec, &chain, ctx->p)
        || chain->nelts <= 0
        || APR_SUCCESS != md_cert_get_ari_cert_id(&id, APR_ARRAY_IDX(chain, 0,
                                                  md_cert_t *), ctx->p)) {
        return NULL;
    }
    return id;
}

static apr_status_t choose_profile(const char **pprofile, drive_ctx *ctx)
{
    const md_t *md = ctx->md;
    apr_status_t rv = APR_SUCCESS;

    *pprofile = NULL;
    if (!md->profile) {
        /* no MDProfile: an MD with an address asks a CA that has
         * "shortlived" for it */
        if (md_ip_first(md->domains) && ctx->acme->profiles
            && md_json_has_key(ctx->acme->profiles, MD_PROFILE_SHORTLIVED, NULL)) {
            *pprofile = MD_PROFILE_SHORTLIVED;
            md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, ctx->p, "AH10801: %s: has the "
                          "address '%s' and no MDProfile, ordering with the CA's profile "
                          "'%s'", md->name, md_ip_first(md->domains),
                          MD_PROFILE_SHORTLIVED);
        }
        return APR_SUCCESS;
    }
    if (ctx->acme->profiles && md_json_has_key(ctx->acme->profiles, md->profile, NULL)) {
        *pprofile = md->profile;
    }
    else if (md->profile_mandatory) {
        rv = APR_EINVAL;            /* the caller says so, after its activity */
    }
    else {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, 0, ctx->p, "AH10933: %s: the CA at <%s> does "
                      "not offer the profile '%s', ordering without", md->name,
                      ctx->ca_url, md->profile);
    }
    return rv;
}

static apr_status_t order_new(md_acme_order_t **porder, drive_ctx *ctx,
                              const md_pkey_spec_t *spec)
{
    const char *profile, *replaces;
    md_acme_order_t *order = NULL;
    apr_status_t rv;
    int i;

    rv = choose_profile(&profile, ctx);
    replaces = replaces_id(ctx, spec);
    /* a mandatory profile the CA lacks fails this order: its activity first,
     * naming the profile, stays the job's last (as the original) */
    if (APR_SUCCESS != rv) {
        profile = ctx->md->profile;
    }
    md_result_activity_printf(ctx->result, "Creating new order, key-spec=%s, profile=%s, "
                              "replacing-cert=%s",
                              md_pkey_spec_activity_name(spec, ctx->p),
                              profile ? profile : "none", replaces ? replaces : "none");
    if (APR_SUCCESS != rv) {
        md_result_printf(ctx->result, rv, "%s: mandatory ACME profile '%s' is not "
                         "offered by CA", ctx->md->name, profile);
        goto leave;
    }
    rv = md_acme_order_register(&order, ctx->acme, ctx->domains, profile, replaces,
                                ctx->result, ctx->p);
    if (APR_SUCCESS != rv && replaces && ctx->result->problem) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, ctx->p, "AH10934: %s: new order replacing "
                      "%s failed, trying without", ctx->md->name, replaces);
        rv = md_acme_order_register(&order, ctx->acme, ctx->domains, profile, NULL,
                                    ctx->result, ctx->p);
    }
    if (APR_SUCCESS != rv) goto leave;
    for (i = 0; i < ctx->setups->nelts; ++i) {
        md_array_str_add_missing(order->challenge_setups,
                                 APR_ARRAY_IDX(ctx->setups, i, const char *), 1);
    }
    rv = md_acme_order_save(ctx->store, ctx->p, MD_SG_STAGING, ctx->md->name, order);
leave:
    *porder = (APR_SUCCESS == rv) ? order : NULL;
    return rv;
}

/* The order in staging, if it can be continued for spec. */
static md_acme_order_t *order_resume(drive_ctx *ctx, const md_pkey_spec_t *spec)
{
    md_acme_order_t *order;
    md_result_t *scratch = md_result_make(ctx->p, APR_SUCCESS);
    int i;

    if (APR_SUCCESS != md_acme_order_load(&order, ctx->store, MD_SG_STAGING,
                                          ctx->md->name, ctx->p)) {
        return NULL;
    }
    for (i = 0; i < order->challenge_setups->nelts; ++i) {
        md_array_str_add_missing(ctx->setups, APR_ARRAY_IDX(order->challenge_setups, i,
                                                            const char *), 1);
    }
    if (!order->url
        || APR_SUCCESS != md_acme_order_update(order, ctx->acme, scratch, ctx->p)
        || MD_ACME_ORDER_ST_INVALID == order->status
        || !md_acme_order_covers(order, ctx->domains)) {
        return NULL;
    }
    if (order->status >= MD_ACME_ORDER_ST_PROCESSING
        && !md_store_exists(ctx->store, MD_SG_STAGING, ctx->md->name,
                            md_pkey_filename(spec, ctx->p), ctx->p)) {
        return NULL;    /* finalized with a key we do not have */
    }
    md_result_activity_setn(ctx->result, "Loaded order from staging");
    return order;
}

static apr_status_t spec_key(md_pkey_t **ppkey, drive_ctx *ctx, const md_pkey_spec_t *spec)
{
    apr_status_t rv;

    rv = md_store_pkey_load(ctx->store, MD_SG_STAGING, ctx->md->name, spec, ppkey, ctx->p);
    if (APR_SUCCESS == rv) return rv;
    rv = md_pkey_gen(ppkey, ctx->p, spec);
    if (APR_SUCCESS == rv) {
        rv = md_store_pkey_save(ctx->store, ctx->p, MD_SG_STAGING, ctx->md->name, spec,
                                *ppkey, 0);
    }
    if (APR_SUCCESS != rv) {
        md_result_printf(ctx->result, rv, "Unable to create the %s key for %s.",
                         md_pkey_spec_name(spec), ctx->md->name);
    }
    return rv;
}

static apr_status_t order_finalize(drive_ctx *ctx, md_acme_order_t *order,
                                   const md_pkey_spec_t *spec, md_pkey_t *pkey)
{
    const char *csr64;
    apr_status_t rv;

    md_result_activity_printf(ctx->result, "Finalizing order for %s", ctx->md->name);
    md_result_activity_printf(ctx->result, "Creating %s CSR", md_pkey_spec_name(spec));
    /* an address is no CN: it is an iPAddress SAN only (RFC 8738 3) */
    rv = md_cert_req_create(&csr64, md_ip_is_address(ctx->md->name) ? NULL
                            : ctx->md->name, ctx->domains, ctx->md->must_staple > 0,
                            pkey, ctx->p);
    if (APR_SUCCESS != rv) {
        md_result_printf(ctx->result, rv, "Unable to create the %s CSR for %s.",
                         md_pkey_spec_name(spec), ctx->md->name);
        return rv;
    }
    md_result_activity_printf(ctx->result, "Submitting %s CSR to CA",
                              md_pkey_spec_name(spec));
    rv = md_acme_order_finalize(order, ctx->acme, csr64, ctx->result, ctx->p);
    if (APR_SUCCESS != rv && ctx->md->must_staple > 0
        && md_acme_problem_rejects_must_staple(ctx->result->problem,
                                               ctx->result->detail)) {
        /* a bare CA error would not tell the admin what to change */
        md_result_problem_printf(ctx->result, rv, ctx->result->problem,
                                 "The CA %s rejects the Must-Staple extension that "
                                 "'MDMustStaple on' puts into the CSR for %s (it may no "
                                 "longer run OCSP). Switch MDMustStaple off for this MD. "
                                 "The CA said: %s", ctx->acme->url, ctx->md->name,
                                 ctx->result->detail);
    }
    return rv;
}

static int is_order_not_ready(const md_result_t *result)
{
    const char *type = result->problem;
    size_t len = strlen("orderNotReady"), tlen = type ? strlen(type) : 0;

    return tlen >= len && !strcmp(type + tlen - len, "orderNotReady");
}

/* Runs order to a valid state and fetches the chain for pkey. */
static apr_status_t order_complete(apr_array_header_t **pchain, drive_ctx *ctx,
                                   md_acme_order_t *order, const md_pkey_spec_t *spec,
                                   md_pkey_t *pkey)
{
    const md_acme_drive_opts_t *opts = ctx->opts;
    apr_array_header_t *chain = apr_array_make(ctx->p, 3, sizeof(md_cert_t *));
    const char *name = ctx->md->name, *why;
    apr_status_t rv = APR_SUCCESS;

    *pchain = NULL;
    if (MD_ACME_ORDER_ST_PENDING == order->status) {
        rv = md_acme_order_start_challenges(order, ctx->acme, &ctx->env, MD_SG_STAGING,
                                            name, ctx->result, ctx->p);
        if (APR_SUCCESS != rv) goto leave;
        md_result_activity_printf(ctx->result, "Monitoring challenge status for %s", name);
        rv = md_acme_order_monitor_authzs(order, ctx->acme, opts->authz_timeout,
                                          ctx->result, ctx->p);
        if (APR_SUCCESS != rv) goto leave;
        /* all authorizations are valid, so the order is ready (RFC 8555
         * 7.1.6): finalize without asking; a CA that does not see it yet
         * answers orderNotReady and is waited for */
        rv = order_finalize(ctx, order, spec, pkey);
        if (APR_SUCCESS != rv && !is_order_not_ready(ctx->result)) goto leave;
        if (APR_SUCCESS != rv) {
            md_result_activity_setn(ctx->result, "Waiting for order to become ready");
            rv = md_acme_order_await_ready(order, ctx->acme, opts->order_timeout,
                                           ctx->result, ctx->p);
            if (APR_SUCCESS != rv) goto leave;
        }
    }
    if (MD_ACME_ORDER_ST_READY == order->status) {
        rv = order_finalize(ctx, order, spec, pkey);
        if (APR_SUCCESS != rv) goto leave;
    }
    md_result_activity_setn(ctx->result, "Waiting for finalized order to become valid");
    rv = md_acme_order_await_valid(order, ctx->acme, opts->order_timeout,
                                   ctx->result, ctx->p);
    if (APR_SUCCESS != rv) goto leave;
    md_acme_order_save(ctx->store, ctx->p, MD_SG_STAGING, name, order);

    md_result_activity_printf(ctx->result, "Retrieving %s certificate chain for %s",
                              md_pkey_spec_name(spec), name);
    rv = md_acme_get_chain(chain, ctx->acme, order->certificate, ctx->result, ctx->p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_cert_check_pkey(APR_ARRAY_IDX(chain, 0, md_cert_t *), pkey);
    if (APR_SUCCESS != rv) {
        md_result_printf(ctx->result, rv, "The certificate of order %s does not match "
                         "the %s key of %s.", order->url, md_pkey_spec_name(spec), name);
        goto leave;
    }
    /* nothing the CA sends is staged (and later replaces a working
     * certificate) unless it is what was ordered */
    rv = md_chain_check_for_md(&why, chain, ctx->md, drive_now(ctx), ctx->p);
    if (APR_SUCCESS != rv) {
        md_result_printf(ctx->result, rv, "The %s certificate the ACME server at <%s> "
                         "sent for %s (order %s) is not used: %s.",
                         md_pkey_spec_name(spec), ctx->acme->url, name, order->url, why);
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "AH10705: %s: %s", name,
                      ctx->result->detail);
        goto leave;
    }
    *pchain = chain;
leave:
    return rv;
}

static apr_status_t drive_spec(drive_ctx *ctx, const md_pkey_spec_t *spec)
{
    apr_array_header_t *chain = NULL;
    md_acme_order_t *order;
    md_pkey_t *pkey;
    apr_status_t rv;
    int resumed;

    md_result_activity_printf(ctx->result, "Driving ACME to renew %s certificate for %s",
                              md_pkey_spec_name(spec), ctx->md->name);
    rv = spec_key(&pkey, ctx, spec);
    if (APR_SUCCESS != rv) goto leave;
    order = order_resume(ctx, spec);
    resumed = (order != NULL);
    while (1) {
        if (!order) {
            rv = order_new(&order, ctx, spec);
            if (APR_SUCCESS != rv) goto leave;
        }
        rv = order_complete(&chain, ctx, order, spec, pkey);
        if (APR_SUCCESS == rv || !resumed) {
            break;
        }
        /* the order from staging did not work out, once more with a new one */
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, ctx->p, "AH10935: %s: continuing the "
                      "staged order failed, creating a new one", ctx->md->name);
        order = NULL;
        resumed = 0;
    }
    if (APR_SUCCESS != rv) goto leave;
    rv = md_store_chain_save(ctx->store, ctx->p, MD_SG_STAGING, ctx->md->name, spec,
                             chain, 0);
    if (APR_SUCCESS != rv) {
        md_result_printf(ctx->result, rv, "Saving the %s certificate chain of %s in "
                         "staging failed.", md_pkey_spec_name(spec), ctx->md->name);
        goto leave;
    }
    APR_ARRAY_PUSH(ctx->chains, apr_array_header_t *) = chain;
    /* done with this order: challenge data goes at once, as in the original */
    md_acme_order_purge(ctx->store, ctx->p, MD_SG_STAGING, ctx->md, ctx->dns01_cmd,
                        ctx->opts->dns01_version);
leave:
    return rv;
}

/* --- the staged result ----------------------------------------------------------------- */

/* End of the validity of md's current certificates, 0 when md has no complete,
 * unexpired set. The host tells it (the child renewing as User cannot read
 * domains/), else it comes from the store. */
static apr_time_t current_until(drive_ctx *ctx, apr_time_t now)
{
    const md_t *md = ctx->md;
    apr_array_header_t *chain;
    apr_time_t until = ctx->opts->current_until, t;
    md_cert_t *cert;
    int i;

    if (until) return (until > now) ? until : 0;
    for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
        if (APR_SUCCESS != md_store_chain_load(ctx->store, MD_SG_DOMAINS, md->name,
                                               md_pkeys_spec_get(md->pks, i), &chain,
                                               ctx->p)
            || chain->nelts <= 0) {
            return 0;
        }
        cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
        if (md_cert_has_expired(cert, now)) return 0;
        t = md_cert_get_not_after(cert);
        if (!until || t < until) {
            until = t;
        }
    }
    return until;
}

/* A notBefore after our clock: the CA's clock is ahead of ours. Clients
 * judge validity by their own clocks, so the set is not held back for it
 * (the original activates it at the next restart too), but the admin
 * hears about the clock. */
static apr_time_t clock_behind(drive_ctx *ctx, apr_time_t not_before, apr_time_t now)
{
    char nb[APR_RFC822_DATE_LEN], local[APR_RFC822_DATE_LEN];

    apr_rfc822_date(nb, not_before);
    apr_rfc822_date(local, now);
    md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, 0, ctx->p, "AH10680: %s: the new "
                  "certificate is valid from %s (notBefore), but the local time is %s: "
                  "this server's clock seems to be behind the CA's. The certificate is "
                  "used anyway; please check the system time.", ctx->md->name, nb, local);
    return now;
}

/* When the staged certificates may be activated (contract.md 9):
 * MDActivationDelay counts from the notBefore, or from now when our clock
 * is behind the CA's. */
static apr_time_t staged_valid_from(drive_ctx *ctx)
{
    apr_interval_time_t delay = ctx->opts->activation_delay;
    apr_time_t now = drive_now(ctx), from = 0, until, t;
    apr_array_header_t *chain;
    int i;

    for (i = 0; i < ctx->chains->nelts; ++i) {
        chain = APR_ARRAY_IDX(ctx->chains, i, apr_array_header_t *);
        t = md_cert_get_not_before(APR_ARRAY_IDX(chain, 0, md_cert_t *));
        if (t > from) {
            from = t;
        }
    }
    if (from > now) {
        from = clock_behind(ctx, from, now);
    }
    if (delay < 0) return now + apr_time_from_sec(1);
    if (delay == 0) return from;
    until = current_until(ctx, now);
    if (!until) return from;
    t = from + delay;
    return (t > until) ? until : t;
}

static apr_status_t drive_finish(drive_ctx *ctx)
{
    char date[APR_RFC822_DATE_LEN];
    apr_time_t valid_from;
    md_t *staged = md_copy(ctx->p, ctx->md);
    apr_status_t rv;

    staged->ca_effective = ctx->ca_url;
    staged->ca_account = ctx->acct_staged ? NULL : ctx->acme->acct->id;
    rv = md_store_md_save(ctx->store, ctx->p, MD_SG_STAGING, staged, 0);
    if (APR_SUCCESS != rv) {
        md_result_set(ctx->result, rv, "Saving md.json in staging failed.");
        return rv;
    }
    valid_from = staged_valid_from(ctx);
    apr_rfc822_date(date, valid_from);
    /* the outcome stands alone, without the last activity (as the original) */
    md_result_activity_setn(ctx->result, NULL);
    md_result_delay_set(ctx->result, valid_from);
    if (valid_from > drive_now(ctx)) {
        md_result_printf(ctx->result, APR_SUCCESS, "The certificate for the managed "
                         "domain has been renewed successfully and can be used from "
                         "%s on.", date);
    }
    else {
        md_result_printf(ctx->result, APR_SUCCESS, "The certificate for the managed "
                         "domain has been renewed successfully and can be used (valid "
                         "since %s). A graceful server restart now is recommended.", date);
    }
    return APR_SUCCESS;
}

apr_status_t md_acme_drive_renew(md_store_t *store, const md_t *md,
                                 const md_acme_drive_opts_t *opts,
                                 md_result_t *result, apr_pool_t *p)
{
    md_acme_drive_opts_t defaults;
    apr_array_header_t *chain;
    md_pkey_spec_t *spec;
    drive_ctx ctx;
    apr_pool_t *ptemp;
    apr_status_t rv;
    int i;

    if (!opts) {
        md_acme_drive_opts_init(&defaults);
        opts = &defaults;
    }
    rv = apr_pool_create(&ptemp, p);
    if (APR_SUCCESS != rv) return rv;
    memset(&ctx, 0, sizeof(ctx));
    ctx.p = ptemp;
    ctx.store = store;
    ctx.md = md_copy(ptemp, md);
    ctx.opts = opts;
    ctx.result = result;

    if (opts->reset) {
        md_result_activity_printf(result, "Resetting staging for %s", md->name);
        md_acme_order_purge(store, ptemp, MD_SG_STAGING, md,
                            md->dns01_cmd ? md->dns01_cmd : opts->dns01_cmd,
                            opts->dns01_version);
        md_store_purge(store, ptemp, MD_SG_STAGING, md->name);
    }
    rv = drive_setup(&ctx);
    if (APR_SUCCESS != rv) goto leave;
    rv = drive_account(&ctx);
    if (APR_SUCCESS != rv) goto leave;
    for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        if (staged_complete(&ctx, spec, &chain)) {
            APR_ARRAY_PUSH(ctx.chains, apr_array_header_t *) = chain;
            continue;
        }
        rv = drive_spec(&ctx, spec);
        if (APR_SUCCESS != rv) goto leave;
    }
    rv = drive_finish(&ctx);
leave:
    if (APR_SUCCESS != rv && APR_SUCCESS == result->status) {
        md_result_set(result, rv, NULL);
    }
    if (APR_SUCCESS != rv) {
        cache_forget(&ctx);
    }
    if (APR_SUCCESS != rv) {
        md_result_log(result, MD_LOG_DEBUG);
    }
    apr_pool_destroy(ptemp);
    return rv;
}

/* --- activation of a staged account ----------------------------------------------- */

typedef struct {
    apr_pool_t *p;              /* where the id lives: the store's iteration
                                 * pool dies before the caller reads it */
    md_acme_acct_t *staged;
    const char *id;
} same_acct_ctx;

static int same_acct_cb(void *baton, const char *name, const char *aspect,
                        md_store_vtype_t vtype, void *value, apr_pool_t *ptemp)
{
    same_acct_ctx *ctx = baton;
    md_json_t *json = value;

    (void)aspect;
    (void)vtype;
    (void)ptemp;
    if (!strcmp(ctx->staged->url, md_json_gets(json, MD_KEY_URL, NULL) ?
                md_json_gets(json, MD_KEY_URL, NULL) : "")
        && !strcmp(ctx->staged->ca_url, md_json_gets(json, "ca-url", NULL) ?
                   md_json_gets(json, "ca-url", NULL) : "")) {
        ctx->id = apr_pstrdup(ctx->p, name);
        return 0;
    }
    return 1;
}

apr_status_t md_acme_drive_activate_account(md_store_t *store, md_t *md, apr_pool_t *p)
{
    md_acme_acct_t *acct, *other;
    md_pkey_t *pkey, *okey;
    same_acct_ctx ctx;
    apr_status_t rv;

    rv = md_acme_acct_load(&acct, &pkey, store, MD_SG_STAGING, md->name, p);
    if (APR_SUCCESS != rv) return rv;
    /* staging/ is writable by the httpd User: only an account at the CA the
     * (checked) md names is taken over */
    if (!acct->ca_url || !md->ca_effective || strcmp(acct->ca_url, md->ca_effective)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p, "AH10701: %s: staged "
                      "account is for CA %s, not %s", md->name,
                      acct->ca_url ? acct->ca_url : "(none)",
                      md->ca_effective ? md->ca_effective : "(none)");
        return APR_EINVAL;
    }
    acct->registration = NULL;
    if (md->ca_account
        && APR_SUCCESS == md_acme_acct_load(&other, &okey, store, MD_SG_ACCOUNTS,
                                            md->ca_account, p)
        && !strcmp(other->url, acct->url)) {
        acct->id = md->ca_account;
    }
    else {
        memset(&ctx, 0, sizeof(ctx));
        ctx.p = p;
        ctx.staged = acct;
        md_store_iter(same_acct_cb, &ctx, store, p, MD_SG_ACCOUNTS,
                      apr_psprintf(p, "%s%s-*", MD_ACME_ACCT_PREFIX,
                                   md_acme_acct_sname(acct->ca_url, p)),
                      MD_FN_ACCOUNT, MD_SV_JSON);
        acct->id = ctx.id;
    }
    rv = md_acme_acct_save(store, p, acct, pkey);
    if (APR_SUCCESS != rv) return rv;
    md->ca_account = acct->id;
    /* the staged copy goes with staging/NAME once the whole set is active:
     * an activation that fails later finds it again, and the same id */
    return APR_SUCCESS;
}
