/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The registry and staging/: the per-MD lock, purges (an errored staging
 * area, broken accounts, stale challenges) and the activation of a staged
 * set, which the parent (root) checks against the configuration before it
 * takes anything from the directory the httpd User writes
 * (docs/security-trust.md).
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>

#include "md.h"
#include "md_acme_drive.h"
#include "md_acme_order.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_reg.h"
#include "md_reg_int.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_util.h"

/* --- staging ------------------------------------------------------------------------ */

/* A renewal holds the lock from its first write to staging/ until its run
 * ends: after the set is complete it still saves the job and runs the
 * `renewed` event, whose MDNotifyCmd may well be the graceful restart that
 * activates the set. So the activation waits a little for the run to end
 * rather than leave a complete set to the restart after next. */
#define MD_REG_LOCK_WAIT        apr_time_from_sec(3)
#define MD_REG_LOCK_POLL        apr_time_from_msec(50)

apr_status_t md_reg_lock_md(md_reg_lock_t **plock, md_reg_t *reg, const char *name,
                            apr_pool_t *p)
{
    apr_time_t end = apr_time_now() + MD_REG_LOCK_WAIT;
    apr_status_t rv;

    *plock = NULL;
    if (md_store_fs_is_readonly(reg->store)) return APR_SUCCESS;
    rv = md_store_lock_name(plock, reg->store, MD_SG_STAGING, name, p);
    while (APR_STATUS_IS_EAGAIN(rv) && apr_time_now() < end) {
        apr_sleep(MD_REG_LOCK_POLL);
        rv = md_store_lock_name(plock, reg->store, MD_SG_STAGING, name, p);
    }
    return rv;
}

void md_reg_unlock_md(md_reg_lock_t *lock)
{
    md_store_unlock_name(lock);
}

int md_reg_purge_errored_staging(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    md_json_t *job;
    long errors;

    if (APR_SUCCESS != md_store_load_json(reg->store, MD_SG_STAGING, md->name, MD_FN_JOB,
                                          &job, p)) {
        return 0;
    }
    errors = md_json_getl(job, "errors", NULL);
    if (errors <= 0) return 0;
    md_log_perror(MD_LOG_MARK, MD_LOG_NOTICE, 0, p, "AH10064: md(%s): previous drive job "
                  "showed %ld errors, purging STAGING area to reset.", md->name, errors);
    md_store_purge(reg->store, p, MD_SG_STAGING, md->name);
    md_store_purge(reg->store, p, MD_SG_CHALLENGES, md->name);
    return 1;
}

typedef struct {
    md_reg_t *reg;
    apr_pool_t *p;
    int count;
} broken_acct_ctx;

static int broken_acct_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    broken_acct_ctx *ctx = baton;
    md_json_t *json;
    const char *aside = apr_pstrcat(ptemp, "broken-", name, NULL);
    apr_status_t rv;

    if (!md_store_exists(ctx->reg->store, MD_SG_ACCOUNTS, name, MD_FN_ACCOUNT, ptemp)) {
        return 1;
    }
    rv = md_store_load_json(ctx->reg->store, MD_SG_ACCOUNTS, name, MD_FN_ACCOUNT,
                            &json, ptemp);
    if (APR_SUCCESS == rv && md_json_gets(json, MD_KEY_URL, NULL)
        && md_json_gets(json, "ca-url", NULL)) {
        return 1;
    }
    rv = md_store_rename(ctx->reg->store, ptemp, MD_SG_ACCOUNTS, name, aside);
    md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ptemp, "AH10633: account %s is not "
                  "readable, %s it as %s", name, APR_SUCCESS == rv ? "set" : "failed to set",
                  aside);
    if (APR_SUCCESS == rv) {
        ++ctx->count;
    }
    return 1;
}

int md_reg_set_aside_broken_accounts(md_reg_t *reg, apr_pool_t *p)
{
    broken_acct_ctx ctx;

    ctx.reg = reg;
    ctx.p = p;
    ctx.count = 0;
    md_store_iter_names(broken_acct_cb, &ctx, reg->store, p, MD_SG_ACCOUNTS, "ACME-*");
    return ctx.count;
}

typedef struct {
    apr_array_header_t *mds;
    md_store_t *store;
    apr_pool_t *p;
} challenge_purge_ctx;

static int challenge_dir_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    challenge_purge_ctx *ctx = baton;
    int i;

    (void)ptemp;
    for (i = 0; i < ctx->mds->nelts; ++i) {
        if (md_contains(APR_ARRAY_IDX(ctx->mds, i, md_t *), name, 0)) return 1;
    }
    md_store_purge(ctx->store, ctx->p, MD_SG_CHALLENGES, name);
    return 1;
}

apr_status_t md_reg_purge_stale_challenges(md_reg_t *reg, apr_array_header_t *mds,
                                           apr_pool_t *p)
{
    challenge_purge_ctx ctx;
    apr_status_t rv;

    ctx.mds = mds;
    ctx.store = reg->store;
    ctx.p = p;
    rv = md_store_iter_names(challenge_dir_cb, &ctx, reg->store, p, MD_SG_CHALLENGES, "*");
    return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
}

typedef struct {
    md_t *md;                       /* the staged md.json */
    md_json_t *job;
    apr_array_header_t *pkeys;      /* md_pkey_t* per slot */
    apr_array_header_t *chains;     /* apr_array_header_t* per slot */
} staged_set;

static int same_domains(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;

    if (!a || !b || a->nelts != b->nelts) return 0;
    for (i = 0; i < a->nelts; ++i) {
        if (md_array_str_index(b, APR_ARRAY_IDX(a, i, const char *), 0, 0) < 0) return 0;
    }
    return 1;
}

/* The staged md.json is written by the renewal, which runs as the httpd
 * User: the parent (root) takes nothing from it but the CA it was obtained
 * from and the account id, and only after checking them against the
 * configured md. Domains and key specs must be the configured ones. */
static apr_status_t staged_check_md(const md_t *staged, const md_t *md, apr_pool_t *p)
{
    const char *what = NULL;

    if (!same_domains(staged->domains, md->domains)
        || !same_domains(md->domains, staged->domains)) {
        what = apr_psprintf(p, "domains [%s], configured [%s]",
                            staged->domains ? md_array_str_join(staged->domains, " ", p)
                                            : "",
                            md_array_str_join(md->domains, " ", p));
    }
    else if (!md_pkeys_spec_eq(staged->pks, md->pks)) {
        what = "private key specs differ from the configured ones";
    }
    else if (!staged->ca_effective) {
        what = "no CA url";
    }
    else if (md->ca_urls && md->ca_urls->nelts > 0
             && md_array_str_index(md->ca_urls, staged->ca_effective, 0, 1) < 0) {
        what = apr_psprintf(p, "CA url %s is not configured", staged->ca_effective);
    }
    if (!what) return APR_SUCCESS;
    md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p, "AH10700: %s: staged md.json "
                  "does not match the configuration: %s", md->name, what);
    return APR_EINVAL;
}

static apr_status_t staged_load(staged_set *set, md_reg_t *reg, const md_t *md,
                                apr_time_t now, apr_pool_t *p)
{
    md_pkey_spec_t *spec;
    md_pkey_t *pkey;
    apr_array_header_t *chain;
    const char *why;
    apr_status_t rv;
    int i;

    md_store_load_json(reg->store, MD_SG_STAGING, md->name, MD_FN_JOB, &set->job, p);
    rv = md_store_md_load(reg->store, MD_SG_STAGING, md->name, &set->md, p);
    if (APR_SUCCESS != rv) return rv;
    set->pkeys = apr_array_make(p, 2, sizeof(md_pkey_t *));
    set->chains = apr_array_make(p, 2, sizeof(apr_array_header_t *));
    /* without a chain for every spec the renewal is still in progress (a key
     * may already be there): ENOENT, nothing to activate, nothing to purge */
    for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        rv = md_store_chain_load(reg->store, MD_SG_STAGING, md->name, spec, &chain, p);
        if (APR_SUCCESS != rv) return rv;
        if (chain->nelts <= 0) return APR_ENOENT;
        APR_ARRAY_PUSH(set->chains, apr_array_header_t *) = chain;
    }
    rv = staged_check_md(set->md, md, p);
    if (APR_SUCCESS != rv) return rv;
    for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        chain = APR_ARRAY_IDX(set->chains, i, apr_array_header_t *);
        rv = md_store_pkey_load(reg->store, MD_SG_STAGING, md->name, spec, &pkey, p);
        if (APR_SUCCESS != rv) return rv;
        rv = md_cert_check_pkey(APR_ARRAY_IDX(chain, 0, md_cert_t *), pkey);
        if (APR_SUCCESS != rv) return rv;
        rv = md_chain_check_for_md(&why, chain, md, now, p);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10706: %s: the staged %s "
                          "certificate is not activated: %s", md->name,
                          md_pkey_spec_name(spec), why);
            return rv;
        }
        APR_ARRAY_PUSH(set->pkeys, md_pkey_t *) = pkey;
    }
    return APR_SUCCESS;
}

static apr_status_t staged_to_tmp(staged_set *set, md_reg_t *reg, const md_t *md,
                                  apr_pool_t *p)
{
    md_pkey_spec_t *spec;
    apr_status_t rv;
    int i;

    rv = md_store_purge(reg->store, p, MD_SG_TMP, md->name);
    if (APR_SUCCESS != rv) return rv;
    rv = md_store_md_save(reg->store, p, MD_SG_TMP, set->md, 1);
    if (APR_SUCCESS != rv) return rv;
    for (i = 0; i < set->pkeys->nelts; ++i) {
        spec = md_pkeys_spec_get(set->md->pks, i);
        rv = md_store_pkey_save(reg->store, p, MD_SG_TMP, md->name, spec,
                                APR_ARRAY_IDX(set->pkeys, i, md_pkey_t *), 1);
        if (APR_SUCCESS != rv) return rv;
        rv = md_store_chain_save(reg->store, p, MD_SG_TMP, md->name, spec,
                                 APR_ARRAY_IDX(set->chains, i, apr_array_header_t *), 1);
        if (APR_SUCCESS != rv) return rv;
    }
    if (set->job) {
        rv = md_store_save_json(reg->store, p, MD_SG_TMP, md->name, MD_FN_JOB, set->job, 0);
    }
    return rv;
}

static int staged_is_ready(const staged_set *set, apr_time_t now)
{
    apr_time_t valid_from;

    if (!set->job) return 1;
    if (!md_json_getb(set->job, "finished", NULL)) return 0;
    valid_from = md_json_get_time(set->job, "valid-from", NULL);
    return !valid_from || valid_from <= now;
}

apr_status_t md_reg_activate_staging(md_reg_t *reg, md_t *md, apr_time_t now,
                                     md_json_t **pjob, apr_pool_t *p)
{
    staged_set set;
    md_t *staged;
    apr_status_t rv;

    *pjob = NULL;
    memset(&set, 0, sizeof(set));
    if (!md_store_exists(reg->store, MD_SG_STAGING, md->name, MD_FN_MD, p)) {
        return APR_ENOENT;
    }
    rv = staged_load(&set, reg, md, now, p);
    if (APR_SUCCESS == rv && !staged_is_ready(&set, now)) return APR_ENOENT;
    if (APR_STATUS_IS_ENOENT(rv)) return APR_ENOENT;  /* renewal still in progress */
    if (APR_SUCCESS != rv) {
        /* the staged set itself is broken: no restart will make it good */
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "AH10069: %s: error loading staged set, purging it", md->name);
        md_store_purge(reg->store, p, MD_SG_STAGING, md->name);
        md_store_purge(reg->store, p, MD_SG_CHALLENGES, md->name);
        return rv;
    }
    /* from here on, a failure is one of writing (a full disk, no archive
     * slot left, a read-only domains/): the issued certificate stays in
     * staging/ and the next restart activates it; every step is repeatable.
     * The staged md.json only carries the two checked values: what is saved
     * and used (commands above all) is the configuration. */
    staged = md_copy(p, md);
    staged->ca_effective = set.md->ca_effective;
    staged->ca_account = set.md->ca_account;
    set.md = staged;
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10962: %s: saving staged account", md->name);
    rv = md_acme_drive_activate_account(reg->store, set.md, p);
    if (APR_SUCCESS != rv && !APR_STATUS_IS_ENOENT(rv)) goto leave;
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10963: %s: purging order information",
                  md->name);
    md_acme_order_purge(reg->store, p, MD_SG_STAGING, md, reg->dns01_cmd,
                        reg->dns01_version);
    rv = staged_to_tmp(&set, reg, md, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_store_move(reg->store, p, MD_SG_TMP, MD_SG_DOMAINS, md->name, 1);
    if (APR_SUCCESS != rv) goto leave;
    /* the new domains/NAME on disk before staging/ goes, deferred or not */
    rv = md_store_sync_dir(reg->store, MD_SG_DOMAINS, md->name, p);
    if (APR_SUCCESS != rv) goto leave;
    md_store_purge(reg->store, p, MD_SG_STAGING, md->name);
    md_store_purge(reg->store, p, MD_SG_CHALLENGES, md->name);
    md_reg_forget(reg, md);
    /* the account the certificate was obtained with, also when the MD had
     * another one (unusable: keeping it would register anew every time) */
    if (set.md->ca_account) {
        md->ca_account = apr_pstrdup(reg->p, set.md->ca_account);
    }
    if (set.md->ca_effective) {
        md->ca_effective = apr_pstrdup(reg->p, set.md->ca_effective);
    }
    if (reg->stored) {
        apr_hash_set(reg->stored, md->name, APR_HASH_KEY_STRING, NULL);
    }
    *pjob = set.job;
    md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "AH10068: %s: staged set activated",
                  md->name);
leave:
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10693: %s: activating the "
                      "staged certificate failed, keeping it in staging/ to activate it "
                      "at the next restart", md->name);
        md_store_purge(reg->store, p, MD_SG_TMP, md->name);
    }
    return rv;
}
