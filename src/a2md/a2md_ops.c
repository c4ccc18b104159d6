/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md commands for an operator's bad day: renew (now, forced, or a dry
 * run against a CA in a throw-away store) and revoke (RFC 8555 7.6, then a
 * forced renewal); the account commands are in a2md_account.c.
 *
 * Whether a server uses the store is told by a lock the httpd parent holds
 * on md_store.json while it runs (md_store_server_running). A running
 * server owns staging/: renew then leaves staging/NAME/renew-request for
 * its watchdog instead of renewing and activating behind its back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_acme_drive.h"
#include "md_acme_order.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_reg.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_util.h"
#include "a2md.h"

/* --- helpers ------------------------------------------------------------------------ */

/* The MDs named in the arguments, all of them found in domains/ before
 * anything is done. */
static apr_status_t load_named(apr_array_header_t **pmds, a2md_ctx_t *ctx,
                               const a2md_cmd_t *cmd)
{
    apr_array_header_t *mds = apr_array_make(ctx->p, ctx->argc, sizeof(md_t *));
    apr_status_t rv = APR_SUCCESS;
    md_t *md;
    int i;

    if (ctx->argc <= 0) {
        a2md_usage(cmd, apr_psprintf(ctx->p, "%s needs at least one managed domain "
                                     "name as argument", cmd->name));
        rv = APR_EINVAL;
        goto leave;
    }
    for (i = 0; i < ctx->argc; ++i) {
        rv = md_store_md_load(ctx->store, MD_SG_DOMAINS,
                              a2md_name_arg(ctx, ctx->argv[i]), &md, ctx->p);
        if (APR_SUCCESS != rv || !md) {
            if (APR_SUCCESS == rv) {
                rv = APR_EINVAL;
            }
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: no managed domain "
                          "'%s' in the store %s", cmd->name, ctx->argv[i],
                          ctx->base_dir);
            goto leave;
        }
        APR_ARRAY_PUSH(mds, md_t *) = md;
    }
leave:
    *pmds = (APR_SUCCESS == rv) ? mds : NULL;
    return rv;
}

/* The CA an MD is renewed/revoked at: -a wins, then the one in use, then
 * the first configured. */
static const char *md_ca_url(a2md_ctx_t *ctx, const md_t *md)
{
    if (ctx->ca_url) return ctx->ca_url;
    if (md->ca_effective) return md->ca_effective;
    if (md->ca_urls && md->ca_urls->nelts > 0) {
        return APR_ARRAY_IDX(md->ca_urls, 0, const char *);
    }
    return NULL;
}

apr_status_t a2md_open_ca(md_acme_t **pacme, a2md_ctx_t *ctx, const char *url,
                          const char *ca_file)
{
    md_result_t *result = md_result_make(ctx->p, APR_SUCCESS);
    md_acme_t *acme = NULL;
    apr_status_t rv;

    rv = md_acme_create(&acme, ctx->p, url, ctx->proxy_url,
                        ctx->ca_file ? ctx->ca_file : ca_file);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_acme_setup(acme, result);
    if (APR_SUCCESS != rv) {
        if (result->detail) {
            md_result_log(result, MD_LOG_ERR);
        }
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "contacting %s", url);
    }
leave:
    *pacme = (APR_SUCCESS == rv) ? acme : NULL;
    return rv;
}

void a2md_log_failure(a2md_ctx_t *ctx, md_result_t *result, apr_status_t rv,
                        const char *what)
{
    if (!result->problem && result->detail) {
        md_result_log(result, MD_LOG_ERR);
    }
    md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s", what);
}

void a2md_say(a2md_ctx_t *ctx, const char *name, const char *result,
              const char *fmt, ...)
{
    md_json_t *json;
    const char *text;
    va_list ap;

    va_start(ap, fmt);
    text = apr_pvsprintf(ctx->p, fmt, ap);
    va_end(ap);
    if (!ctx->json_out) {
        fprintf(stdout, "%s\n", text);
        return;
    }
    json = md_json_create(ctx->p);
    md_json_sets(name, json, "name", NULL);
    md_json_sets(result, json, "result", NULL);
    md_json_sets(text, json, "message", NULL);
    md_json_addj(json, ctx->output, NULL);
}

/* --- renew -------------------------------------------------------------------------- */

static apr_status_t renew_opt(a2md_ctx_t *ctx, int option, const char *arg)
{
    switch (option) {
        case 'a': ctx->op_ca_url = arg; break;
        case 'c': ctx->challenge = arg; break;
        case 'f': ctx->force = 1; break;
        case 'n': ctx->dry_run = 1; break;
        default: return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Hands a file or directory a2md created in staging/ to the owner of
 * staging/ (the module gives it to the server's User): the watchdog child
 * removes the request and writes its job next to it. */
static apr_status_t hand_to_staging_owner(a2md_ctx_t *ctx, const char *path)
{
    const char *group_dir = md_store_get_dir(ctx->store, MD_SG_STAGING, NULL, ctx->p);
    struct stat st;

    if (!group_dir || stat(group_dir, &st) != 0) return APR_SUCCESS;
    if (chown(path, st.st_uid, st.st_gid) != 0 && geteuid() == 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

static apr_status_t request_renewal(a2md_ctx_t *ctx, const md_t *md)
{
    md_json_t *json = md_json_create(ctx->p);
    const char *fname;
    apr_status_t rv;

    md_json_set_time(apr_time_now(), json, "requested", NULL);
    md_json_setb(ctx->force, json, "force", NULL);
    rv = md_store_save_json(ctx->store, ctx->p, MD_SG_STAGING, md->name,
                            MD_FN_RENEW_REQUEST, json, 0);
    if (APR_SUCCESS != rv) goto leave;
    rv = hand_to_staging_owner(ctx, md_store_get_dir(ctx->store, MD_SG_STAGING,
                                                     md->name, ctx->p));
    if (APR_SUCCESS != rv) goto leave;
    rv = md_store_get_fname(&fname, ctx->store, MD_SG_STAGING, md->name,
                            MD_FN_RENEW_REQUEST, ctx->p);
    if (APR_SUCCESS == rv) {
        rv = hand_to_staging_owner(ctx, fname);
    }
    else if (APR_STATUS_IS_ENOTIMPL(rv)) {
        rv = APR_SUCCESS;       /* no files, no owners to hand them to */
    }
leave:
    if (APR_SUCCESS != rv) {
        /* a request the watchdog cannot take must not stay behind */
        md_store_remove(ctx->store, MD_SG_STAGING, md->name, MD_FN_RENEW_REQUEST,
                        ctx->p, 1);
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: unable to leave a "
                      "renewal request in %s", md->name,
                      md_store_location(ctx->store, MD_SG_STAGING, md->name, ctx->p));
    }
    return rv;
}

/* Renews each MD (when due, or forced): in the store itself when no server
 * runs on it, else by a request to the running server. */
static apr_status_t renew_mds(a2md_ctx_t *ctx, apr_array_header_t *mds)
{
    md_reg_t *reg;
    md_t *md;
    long pid;
    apr_status_t rv;
    int i, running, due;

    rv = md_store_server_running(&running, &pid, ctx->store, ctx->p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "renew: unable to tell "
                      "whether a server uses the store %s (md_store.json)",
                      ctx->base_dir);
        return rv;
    }
    rv = a2md_open_reg(&reg, ctx);
    if (APR_SUCCESS != rv) return rv;
    for (i = 0; i < mds->nelts && APR_SUCCESS == rv; ++i) {
        md = APR_ARRAY_IDX(mds, i, md_t *);
        md_reg_assess(reg, md, ctx->p);
        due = md_reg_should_renew(reg, md, apr_time_now(), ctx->p);
        if (!due && !ctx->force) {
            a2md_say(ctx, md->name, "not-due", "%s: not due for renewal (--force "
                     "renews anyway)", md->name);
            continue;
        }
        if (running) {
            rv = request_renewal(ctx, md);
            if (APR_SUCCESS != rv) {
                break;
            }
            a2md_say(ctx, md->name, "requested", "%s: renewal requested from the "
                     "running server (%s), its watchdog renews at its next run (a "
                     "graceful restart runs it now)", md->name,
                     pid > 0 ? apr_psprintf(ctx->p, "pid %ld", pid) : "pid unknown");
            continue;
        }
        rv = a2md_drive_md(ctx, reg, md);
        if (APR_SUCCESS == rv) {
            a2md_say(ctx, md->name, "renewed", "%s: renewed and activated in the "
                     "store (no server running)", md->name);
        }
    }
    return rv;
}

static apr_status_t copy_account(a2md_ctx_t *ctx, md_store_t *to, const char *id)
{
    md_acme_acct_t *acct;
    md_pkey_t *pkey;
    apr_status_t rv;

    rv = md_acme_acct_load(&acct, &pkey, ctx->store, MD_SG_ACCOUNTS, id, ctx->p);
    if (APR_SUCCESS != rv) return APR_SUCCESS;     /* unusable ones are no candidates */
    return md_acme_acct_save_in(to, ctx->p, MD_SG_ACCOUNTS, id, acct, pkey);
}

typedef struct {
    a2md_ctx_t *ctx;
    md_store_t *to;
    apr_status_t rv;
} copy_ctx_t;

static int copy_account_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    copy_ctx_t *cc = baton;

    (void)ptemp;
    cc->rv = copy_account(cc->ctx, cc->to, name);
    return APR_SUCCESS == cc->rv;
}

/* A store of its own in a temporary directory: the accounts copied (keys
 * re-encrypted with its key), its challenges in the real challenges/ (a
 * running server answers http-01/tls-alpn-01 from there). */
static apr_status_t dry_store_open(md_store_t **pstore, const char **pdir,
                                   a2md_ctx_t *ctx)
{
    const char *tmp = NULL, *dir = NULL, *real_ch;
    copy_ctx_t cc;
    apr_finfo_t finfo;
    char *templ;
    apr_status_t rv;

    *pstore = NULL;
    rv = apr_temp_dir_get(&tmp, ctx->p);
    if (APR_SUCCESS != rv) goto leave;
    templ = apr_pstrcat(ctx->p, tmp, "/a2md-dry-run-XXXXXX", NULL);
    if (!mkdtemp(templ)) {
        rv = APR_FROM_OS_ERROR(errno);
        goto leave;
    }
    dir = templ;
    rv = md_store_fs_open(pstore, ctx->p, apr_pstrcat(ctx->p, dir, "/store", NULL));
    if (APR_SUCCESS != rv) goto leave;
    real_ch = md_store_get_dir(ctx->store, MD_SG_CHALLENGES, NULL, ctx->p);
    if (real_ch && APR_SUCCESS == apr_stat(&finfo, real_ch, APR_FINFO_TYPE, ctx->p)
        && APR_DIR == finfo.filetype) {
        md_store_fs_set_group_dir(*pstore, MD_SG_CHALLENGES, real_ch);
    }
    memset(&cc, 0, sizeof(cc));
    cc.ctx = ctx;
    cc.to = *pstore;
    rv = md_store_iter_names(copy_account_cb, &cc, ctx->store, ctx->p, MD_SG_ACCOUNTS,
                             "*");
    if (APR_STATUS_IS_ENOENT(rv)) {
        rv = APR_SUCCESS;
    }
    if (APR_SUCCESS == rv) {
        rv = cc.rv;
    }
leave:
    *pdir = dir;
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "renew --dry-run: unable "
                      "to set up a temporary store%s%s", dir ? " in " : "",
                      dir ? dir : "");
    }
    return rv;
}

static void dry_store_remove(a2md_ctx_t *ctx, md_store_t *store, const char *dir)
{
    (void)store;
    if (dir) {
        md_util_rm_recursive(dir, ctx->p);
    }
}

/* A whole order for md at ca in a temporary store; the certificate is
 * thrown away. */
static apr_status_t dry_run_md(a2md_ctx_t *ctx, md_t *md)
{
    md_result_t *result = md_result_md_make(ctx->p, md->name);
    md_acme_drive_opts_t *opts;
    md_store_t *store = NULL;
    const char *ca, *dir = NULL;
    apr_status_t rv;

    ca = ctx->op_ca_url ? ctx->op_ca_url : md_ca_url(ctx, md);
    if (!ca) {
        rv = APR_EINVAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: no CA configured, "
                      "give one with --ca", md->name);
        return rv;
    }
    rv = dry_store_open(&store, &dir, ctx);
    if (APR_SUCCESS != rv) goto leave;
    md->ca_urls = apr_array_make(ctx->p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_urls, const char *) = ca;
    md->ca_effective = ca;
    /* -C wins over the MD's MDCACertificateFile: it may be another CA */
    if (ctx->ca_file) {
        md->ca_certs = NULL;
    }
    opts = a2md_drive_opts(ctx);
    opts->reset = 1;
    rv = md_acme_drive_renew(store, md, opts, result, ctx->p);
    if (APR_SUCCESS == rv) {
        a2md_say(ctx, md->name, "dry-run", "%s: dry run at %s: the order succeeded, "
                 "the certificate was discarded", md->name, ca);
    }
    else {
        /* a failed order keeps its challenges for a next run: not this one,
         * a running server's User could not replace files a2md wrote */
        md_acme_order_purge(store, ctx->p, MD_SG_STAGING, md, ctx->dns01_cmd,
                            ctx->dns01_version);
        md_result_log(result, MD_LOG_ERR);
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: dry run at %s failed",
                      md->name, ca);
    }
leave:
    dry_store_remove(ctx, store, dir);
    return rv;
}

static apr_status_t renew_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_array_header_t *mds;
    apr_status_t rv;
    int i;

    if (ctx->op_ca_url && !ctx->dry_run) {
        a2md_usage(cmd, "--ca is for --dry-run only (renewals use the MD's CA)");
        return APR_EINVAL;
    }
    rv = load_named(&mds, ctx, cmd);
    if (APR_SUCCESS != rv) return rv;
    if (!ctx->dry_run) return renew_mds(ctx, mds);
    for (i = 0; i < mds->nelts && APR_SUCCESS == rv; ++i) {
        rv = dry_run_md(ctx, APR_ARRAY_IDX(mds, i, md_t *));
    }
    return rv;
}

/* --- revoke ------------------------------------------------------------------------- */

static apr_status_t revoke_opt(a2md_ctx_t *ctx, int option, const char *arg)
{
    switch (option) {
        case 'c': ctx->challenge = arg; break;
        case 'k': ctx->use_cert_key = 1; break;
        case 'N': ctx->no_renew = 1; break;
        case 'r':
            ctx->reason = md_acme_revoke_reason(arg);
            if (ctx->reason < 0) {
                fprintf(stderr, "revoke: unknown reason '%s' (one of keyCompromise, "
                        "superseded, cessationOfOperation, affiliationChanged, "
                        "unspecified)\n", arg);
                return APR_EINVAL;
            }
            break;
        default: return APR_EINVAL;
    }
    return APR_SUCCESS;
}

typedef struct {
    md_cert_t *cert;
    md_pkey_t *pkey;                /* with --cert-key */
} revoke_item_t;

/* The certificates of md in domains/, one per key spec, with their keys
 * when they sign. */
static apr_status_t revoke_items(apr_array_header_t **pitems, a2md_ctx_t *ctx,
                                 const md_t *md)
{
    apr_array_header_t *items = apr_array_make(ctx->p, 2, sizeof(revoke_item_t));
    apr_array_header_t *chain;
    md_pkey_spec_t *spec;
    revoke_item_t *item;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        rv = md_store_chain_load(ctx->store, MD_SG_DOMAINS, md->name, spec, &chain,
                                 ctx->p);
        if (APR_STATUS_IS_ENOENT(rv) || (APR_SUCCESS == rv && chain->nelts <= 0)) {
            rv = APR_SUCCESS;
            continue;
        }
        if (APR_SUCCESS != rv) {
            break;
        }
        item = apr_array_push(items);
        item->cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
        item->pkey = NULL;
        if (ctx->use_cert_key) {
            rv = md_store_pkey_load(ctx->store, MD_SG_DOMAINS, md->name, spec,
                                    &item->pkey, ctx->p);
            if (APR_SUCCESS != rv) {
                md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: unable to load "
                              "the private key of the %s certificate", md->name,
                              md_pkey_spec_name(spec));
                break;
            }
        }
    }
    if (APR_SUCCESS == rv && items->nelts == 0) {
        rv = APR_ENOENT;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: no certificate in %s "
                      "to revoke", md->name,
                      md_store_location(ctx->store, MD_SG_DOMAINS, md->name, ctx->p));
    }
    *pitems = (APR_SUCCESS == rv) ? items : NULL;
    return rv;
}

static apr_status_t revoke_md(a2md_ctx_t *ctx, const md_t *md)
{
    md_result_t *result = md_result_md_make(ctx->p, md->name);
    apr_array_header_t *items;
    revoke_item_t *item;
    md_acme_t *acme;
    const char *ca;
    apr_status_t rv;
    int i;

    ca = md_ca_url(ctx, md);
    if (!ca) {
        rv = APR_EINVAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: no CA known for it, "
                      "give one with -a", md->name);
        return rv;
    }
    if (!ctx->use_cert_key && !md->ca_account) {
        rv = APR_ENOENT;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: no account in its "
                      "md.json, --cert-key signs with the certificate's key", md->name);
        return rv;
    }
    rv = revoke_items(&items, ctx, md);
    if (APR_SUCCESS != rv) return rv;
    rv = a2md_open_ca(&acme, ctx, ca, md->ca_certs);
    if (APR_SUCCESS != rv) return rv;
    if (!ctx->use_cert_key) {
        rv = md_acme_use_acct(acme, ctx->store, md->ca_account, ctx->p);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: account %s is not "
                          "usable for %s, --cert-key signs with the certificate's key",
                          md->name, md->ca_account, ca);
            return rv;
        }
    }
    for (i = 0; i < items->nelts; ++i) {
        item = &APR_ARRAY_IDX(items, i, revoke_item_t);
        rv = md_acme_revoke(acme, item->cert, ctx->reason, item->pkey, result, ctx->p);
        if (APR_SUCCESS != rv) {
            a2md_log_failure(ctx, result, rv, apr_psprintf(ctx->p, "%s: revoking the "
                        "certificate %s at %s", md->name,
                        md_cert_get_serial_number(item->cert, ctx->p), ca));
            return rv;
        }
        a2md_say(ctx, md->name, "revoked", "%s: certificate %s revoked", md->name,
                 md_cert_get_serial_number(item->cert, ctx->p));
    }
    return APR_SUCCESS;
}

static apr_status_t revoke_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_array_header_t *mds;
    apr_status_t rv;

    if (ctx->argc != 1) {
        a2md_usage(cmd, "revoke needs one managed domain name as argument");
        return APR_EINVAL;
    }
    rv = load_named(&mds, ctx, cmd);
    if (APR_SUCCESS != rv) return rv;
    rv = revoke_md(ctx, APR_ARRAY_IDX(mds, 0, md_t *));
    if (APR_SUCCESS != rv || ctx->no_renew) return rv;
    /* the revoked certificate is still what the store serves */
    ctx->force = 1;
    return renew_mds(ctx, mds);
}

/* --- the commands ------------------------------------------------------------------- */

static const apr_getopt_option_t renew_opts[] = {
    { "ca", 'a', 1, "with --dry-run: the CA directory url to order from" },
    { "challenge", 'c', 1, "which challenge type to use" },
    { "dry-run", 'n', 0, "a whole order in a temporary store, nothing kept" },
    { "force", 'f', 0, "renew also before the renew window" },
    { NULL, 0, 0, NULL },
};

static const apr_getopt_option_t revoke_opts[] = {
    { "challenge", 'c', 1, "which challenge type the renewal uses" },
    { "cert-key", 'k', 0, "sign with the certificate's key instead of the account" },
    { "no-renew", 'N', 0, "do not renew after the revocation" },
    { "reason", 'r', 1, "keyCompromise, superseded, cessationOfOperation, "
      "affiliationChanged or unspecified" },
    { NULL, 0, 0, NULL },
};

const a2md_cmd_t a2md_renew_cmd = {
    "renew", A2MD_NEED_STORE, renew_opt, renew_do, renew_opts, NULL,
    "renew [--force] [--dry-run [--ca url]] md [md...]",
    "renew now: in the store, or by a request to the running server",
};

const a2md_cmd_t a2md_revoke_cmd = {
    "revoke", A2MD_NEED_STORE, revoke_opt, revoke_do, revoke_opts, NULL,
    "revoke [--reason reason] [--cert-key] [--no-renew] md",
    "revoke the certificate of a managed domain at its CA, then renew it",
};
