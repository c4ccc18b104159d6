/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * ACME Renewal Information per MD: the pure parts (a time inside the
 * window, poll bounds, merging an answer), the ari.json file in staging and
 * the watchdog step that asks the CA and logs its advice.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>

#include "md.h"
#include "md_acme.h"
#include "md_ari.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"

#define MD_KEY_CERTS            "certs"
#define MD_KEY_ID               "id"
#define MD_KEY_RENEW_AT         "renew-at"

/* --- pure parts ------------------------------------------------------------------------ */

apr_time_t md_ari_pick(apr_time_t start, apr_time_t end, apr_uint64_t rnd)
{
    apr_uint64_t secs;

    if (end <= start) return start;
    secs = (apr_uint64_t)apr_time_sec(end - start);
    if (secs == 0) return start;
    return start + apr_time_from_sec((apr_time_t)(rnd % secs));
}

apr_time_t md_ari_poll_at(apr_time_t now, apr_interval_time_t retry_after)
{
    if (retry_after <= 0) return now + MD_ARI_POLL_DEFAULT;
    if (retry_after < MD_ARI_POLL_MIN) return now + MD_ARI_POLL_MIN;
    if (retry_after > MD_ARI_POLL_MAX) return now + MD_ARI_POLL_MAX;
    return now + retry_after;
}

void md_ari_update(md_ari_t *ari, const md_acme_ari_t *fetched, apr_time_t now,
                   apr_uint64_t rnd)
{
    int same = apr_time_sec(ari->start) == apr_time_sec(fetched->start)
               && apr_time_sec(ari->end) == apr_time_sec(fetched->end)
               && ari->renew_at >= ari->start && ari->renew_at <= ari->end;

    ari->start = fetched->start;
    ari->end = fetched->end;
    ari->explanation = fetched->explanation_url;
    if (!same) {
        ari->renew_at = md_ari_pick(fetched->start, fetched->end, rnd);
    }
    ari->next_poll = md_ari_poll_at(now, fetched->retry_after);
}

/* --- ari.json -------------------------------------------------------------------------- */

md_json_t *md_ari_to_json(const md_ari_t *ari, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(ari->cert_id, json, MD_KEY_ID, NULL);
    if (ari->start && ari->end) {
        md_json_set_time(ari->start, json, MD_KEY_WINDOW, MD_KEY_START, NULL);
        md_json_set_time(ari->end, json, MD_KEY_WINDOW, MD_KEY_END, NULL);
    }
    md_json_sets_if(ari->explanation, json, MD_KEY_EXPLANATION, NULL);
    md_json_set_time_if(ari->renew_at, json, MD_KEY_RENEW_AT, NULL);
    md_json_set_time_if(ari->next_poll, json, MD_KEY_NEXT_POLL, NULL);
    return json;
}

md_ari_t *md_ari_from_json(const md_json_t *json, apr_pool_t *p)
{
    md_ari_t *ari;
    const char *id = md_json_gets(json, MD_KEY_ID, NULL);

    if (!id) return NULL;
    ari = apr_pcalloc(p, sizeof(*ari));
    ari->cert_id = apr_pstrdup(p, id);
    ari->start = md_json_get_time(json, MD_KEY_WINDOW, MD_KEY_START, NULL);
    ari->end = md_json_get_time(json, MD_KEY_WINDOW, MD_KEY_END, NULL);
    if (ari->end <= ari->start) {
        ari->start = ari->end = 0;
    }
    ari->explanation = md_json_dups(p, json, MD_KEY_EXPLANATION, NULL);
    ari->renew_at = ari->start ? md_json_get_time(json, MD_KEY_RENEW_AT, NULL) : 0;
    ari->next_poll = md_json_get_time(json, MD_KEY_NEXT_POLL, NULL);
    return ari;
}

typedef struct {
    apr_array_header_t *aris;
    apr_pool_t *p;
} load_ctx;

static int load_entry(void *baton, apr_size_t index, md_json_t *json)
{
    load_ctx *ctx = baton;
    md_ari_t *ari = md_ari_from_json(json, ctx->p);

    (void)index;
    if (ari) {
        APR_ARRAY_PUSH(ctx->aris, md_ari_t *) = ari;
    }
    return 1;
}

apr_array_header_t *md_ari_load(md_store_t *store, const char *name, apr_pool_t *p)
{
    load_ctx ctx;
    md_json_t *json;

    ctx.aris = apr_array_make(p, 2, sizeof(md_ari_t *));
    ctx.p = p;
    if (APR_SUCCESS == md_store_load_json(store, MD_SG_STAGING, name, MD_FN_ARI, &json, p)) {
        md_json_itera(load_entry, &ctx, json, MD_KEY_CERTS, NULL);
    }
    return ctx.aris;
}

apr_status_t md_ari_save(md_store_t *store, const char *name,
                         const apr_array_header_t *aris, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p), *list = md_json_create_array(p);
    int i;

    for (i = 0; i < aris->nelts; ++i) {
        md_json_addj(md_ari_to_json(APR_ARRAY_IDX(aris, i, const md_ari_t *), p),
                     list, NULL);
    }
    md_json_setj(list, json, MD_KEY_CERTS, NULL);
    return md_store_save_json(store, p, MD_SG_STAGING, name, MD_FN_ARI, json, 0);
}

md_ari_t *md_ari_find(const apr_array_header_t *aris, const char *cert_id)
{
    md_ari_t *ari;
    int i;

    for (i = 0; aris && i < aris->nelts; ++i) {
        ari = APR_ARRAY_IDX(aris, i, md_ari_t *);
        if (!strcmp(cert_id, ari->cert_id)) return ari;
    }
    return NULL;
}

/* --- current certificates -------------------------------------------------------------- */

/* The ARI ids of md's current certificates (const char*), slot order. */
static apr_array_header_t *current_ids(md_reg_t *reg, const md_t *md,
                                       apr_array_header_t *names, apr_pool_t *p)
{
    apr_array_header_t *ids = apr_array_make(p, 2, sizeof(const char *));
    const md_pubcert_t *pc;
    const char *id;
    int i;

    for (i = 0; i < md_reg_slot_count(md); ++i) {
        if (APR_SUCCESS != md_reg_get_pubcert(&pc, reg, md, i, p)
            || !pc->certs || pc->certs->nelts <= 0
            || APR_SUCCESS != md_cert_get_ari_cert_id(&id, APR_ARRAY_IDX(pc->certs, 0,
                                                      const md_cert_t *), p)) {
            continue;
        }
        APR_ARRAY_PUSH(ids, const char *) = id;
        if (names) {
            APR_ARRAY_PUSH(names, const char *) = md_reg_slot_name(md, i, p);
        }
    }
    return ids;
}

apr_hash_t *md_ari_cert_ids(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 2, sizeof(const char *)), *ids;
    apr_hash_t *map = apr_hash_make(p);
    int i;

    ids = current_ids(reg, md, names, p);
    for (i = 0; i < ids->nelts; ++i) {
        apr_hash_set(map, APR_ARRAY_IDX(names, i, const char *), APR_HASH_KEY_STRING,
                     APR_ARRAY_IDX(ids, i, const char *));
    }
    return map;
}

const md_ari_t *md_ari_current(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *ids, *aris;
    const md_ari_t *best = NULL, *ari;
    int i;

    if (!md->ari_renewals) return NULL;
    ids = current_ids(reg, md, NULL, p);
    if (ids->nelts <= 0) return NULL;
    aris = md_ari_load(md_reg_store_get(reg), md->name, p);
    for (i = 0; i < ids->nelts; ++i) {
        ari = md_ari_find(aris, APR_ARRAY_IDX(ids, i, const char *));
        if (ari && ari->renew_at && (!best || ari->renew_at < best->renew_at)) {
            best = ari;
        }
    }
    return best;
}

/* --- the watchdog step ------------------------------------------------------------------ */

typedef struct {
    const md_t *md;
    const md_ari_conn_t *conn;
    md_acme_t *acme;
    apr_status_t setup_rv;          /* of the session, APR_EAGAIN: not tried yet */
    apr_pool_t *p;
} fetch_ctx;

static apr_uint64_t random64(void)
{
    apr_uint64_t rnd = 0;

    apr_generate_random_bytes((unsigned char *)&rnd, sizeof(rnd));
    return rnd;
}

static const char *ca_url(const md_t *md)
{
    if (md->ca_effective) return md->ca_effective;
    if (md->ca_urls && md->ca_urls->nelts > 0) {
        return APR_ARRAY_IDX(md->ca_urls, 0, const char *);
    }
    return NULL;
}

/* The session with md's CA, set up once per check. */
static apr_status_t fetch_setup(fetch_ctx *ctx)
{
    const md_t *md = ctx->md;
    const char *url = ca_url(md);
    md_result_t *result = md_result_make(ctx->p, APR_SUCCESS);
    apr_status_t rv;

    if (!APR_STATUS_IS_EAGAIN(ctx->setup_rv)) return ctx->setup_rv;
    if (!url) {
        rv = APR_ENOTIMPL;
        goto leave;
    }
    rv = md_acme_create(&ctx->acme, ctx->p, url,
                        md->proxy_url ? md->proxy_url : ctx->conn->proxy_url,
                        md->ca_certs ? md->ca_certs : ctx->conn->ca_file);
    if (APR_SUCCESS != rv) goto leave;
    md_acme_set_proxy_ca_file(ctx->acme, md->proxy_ca_certs ? md->proxy_ca_certs
                                                            : ctx->conn->proxy_ca_file);
    rv = md_acme_setup(ctx->acme, result);
    if (APR_SUCCESS == rv && !ctx->acme->api.renewal_info) {
        rv = APR_ENOTIMPL;
    }
leave:
    if (APR_SUCCESS != rv && !APR_STATUS_IS_ENOTIMPL(rv)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, rv, ctx->p, "AH10908: md(%s): unable to ask "
                      "the CA at %s for renewal information: %s", md->name, url,
                      result->detail ? result->detail : "no details");
    }
    ctx->setup_rv = rv;
    return rv;
}

/* Asks the CA about ari (a certificate of md). APR_ENOTIMPL: the CA offers
 * no ARI, nothing changed. */
static apr_status_t fetch_one(fetch_ctx *ctx, md_ari_t *ari, apr_time_t now)
{
    md_result_t *result = md_result_make(ctx->p, APR_SUCCESS);
    md_acme_ari_t *fetched;
    apr_status_t rv;

    rv = fetch_setup(ctx);
    if (APR_SUCCESS == rv) {
        rv = md_acme_ari_get(&fetched, ctx->acme, ari->cert_id, result, ctx->p);
    }
    if (APR_SUCCESS == rv) {
        md_ari_update(ari, fetched, now, random64());
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, ctx->p, "AH10937: md(%s): ARI for %s: window "
                      "%s - %s, renew at %s, next poll in %s", ctx->md->name,
                      ari->cert_id, md_time_rfc822(ctx->p, ari->start),
                      md_time_rfc822(ctx->p, ari->end), md_time_rfc822(ctx->p, ari->renew_at),
                      md_duration_print(ctx->p, ari->next_poll - now));
    }
    else if (!APR_STATUS_IS_ENOTIMPL(rv)) {
        ari->next_poll = now + MD_ARI_POLL_ERROR;
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, rv, ctx->p, "AH10909: md(%s): renewal "
                      "information for %s not available, asking again in %s", ctx->md->name,
                      ari->cert_id, md_duration_print(ctx->p, MD_ARI_POLL_ERROR));
    }
    return rv;
}

/* AH10514-AH10518: what the renewal is up to. */
static void log_advice(md_reg_t *reg, const md_t *md, const md_ari_t *best,
                       apr_time_t now, apr_pool_t *p)
{
    apr_time_t configured;

    if (best && best->renew_at <= now) {
        if (best->explanation) {
            md_log_perror(MD_LOG_MARK, MD_LOG_NOTICE, 0, p, "AH10517: md(%s): CA advises "
                          "renew via ARI now, for explanation see %s", md->name,
                          best->explanation);
        }
        else {
            md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10518: md(%s): CA advises "
                          "renew via ARI now", md->name);
        }
    }
    else if (best) {
        if (best->explanation) {
            md_log_perror(MD_LOG_MARK, MD_LOG_NOTICE, 0, p, "AH10515: md(%s): CA advises "
                          "renew via ARI at %s, for explanation see %s", md->name,
                          md_time_rfc822(p, best->renew_at), best->explanation);
        }
        else {
            md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10516: md(%s): CA advises "
                          "renew via ARI at %s", md->name, md_time_rfc822(p, best->renew_at));
        }
    }
    else {
        configured = md_reg_renew_at(reg, md, now, p);
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10514: md(%s): %sup for "
                      "configured renewal in %s", md->name,
                      md->ari_renewals ? "no ARI available, " : "",
                      md_duration_print(p, configured > now ? configured - now : 0));
    }
}

apr_status_t md_ari_check(apr_time_t *prenew_at, apr_time_t *pnext_poll,
                          md_reg_t *reg, const md_t *md, const md_ari_conn_t *conn,
                          apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *ids, *stored, *keep;
    const md_ari_t *best = NULL;
    md_ari_t *ari;
    fetch_ctx ctx;
    apr_status_t rv = APR_SUCCESS, frv;
    apr_time_t next_poll = 0;
    int i, changed = 0, known;

    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10513: md(%s): ARI is %senabled",
                  md->name, md->ari_renewals ? "" : "not ");
    if (!md->ari_renewals) goto leave;
    memset(&ctx, 0, sizeof(ctx));
    ctx.md = md;
    ctx.conn = conn;
    ctx.setup_rv = APR_EAGAIN;
    ctx.p = p;
    ids = current_ids(reg, md, NULL, p);
    stored = md_ari_load(md_reg_store_get(reg), md->name, p);
    keep = apr_array_make(p, ids->nelts, sizeof(md_ari_t *));
    for (i = 0; i < ids->nelts; ++i) {
        ari = md_ari_find(stored, APR_ARRAY_IDX(ids, i, const char *));
        known = (ari != NULL);
        if (!ari) {
            ari = apr_pcalloc(p, sizeof(*ari));
            ari->cert_id = APR_ARRAY_IDX(ids, i, const char *);
        }
        if (ari->next_poll <= now) {
            frv = fetch_one(&ctx, ari, now);
            /* remember failures only for certificates the CA spoke about */
            if (APR_SUCCESS == frv || known) {
                changed = 1;
            }
            else {
                continue;
            }
            if (APR_SUCCESS != frv) {
                rv = frv;
            }
        }
        APR_ARRAY_PUSH(keep, md_ari_t *) = ari;
        if (!next_poll || ari->next_poll < next_poll) {
            next_poll = ari->next_poll;
        }
        if (ari->renew_at && (!best || ari->renew_at < best->renew_at)) {
            best = ari;
        }
    }
    if (changed || keep->nelts != stored->nelts) {
        frv = md_ari_save(md_reg_store_get(reg), md->name, keep, p);
        if (APR_SUCCESS != frv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, frv, p, "AH10907: md(%s): unable to save "
                          "the renewal information in %s", md->name,
                          md_store_location(md_reg_store_get(reg), MD_SG_STAGING, md->name,
                                            p));
        }
    }
leave:
    log_advice(reg, md, best, now, p);
    *prenew_at = best ? best->renew_at : 0;
    *pnext_poll = next_poll;
    return rv;
}
