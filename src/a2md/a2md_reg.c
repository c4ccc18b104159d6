/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md registry commands (contract.md 6.3): add (with validation and
 * overlap check), list (state re-evaluated), update of single aspects, and
 * drive: a full ACME renewal into staging followed by activation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_drive.h"
#include "md_acme_order.h"
#include "md_ip.h"
#include "md_json.h"
#include "md_log.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_store.h"
#include "md_util.h"
#include "a2md.h"

/* --- loading MDs ----------------------------------------------------------------- */

static int collect_cb(void *baton, const char *name, const char *aspect,
                      md_store_vtype_t vtype, void *value, apr_pool_t *ptemp)
{
    apr_array_header_t *mds = baton;
    md_t *md = md_from_json(value, mds->pool);

    (void)name;
    (void)aspect;
    (void)vtype;
    (void)ptemp;
    if (md && md->name) {
        APR_ARRAY_PUSH(mds, md_t *) = md;
    }
    return 1;
}

static int md_name_cmp(const void *a, const void *b)
{
    const md_t *m1 = *(const md_t *const *)a, *m2 = *(const md_t *const *)b;
    return strcmp(m1->name, m2->name);
}

/* All MDs in domains/, sorted by name. */
apr_array_header_t *a2md_load_all(a2md_ctx_t *ctx)
{
    apr_array_header_t *mds = apr_array_make(ctx->p, 10, sizeof(md_t *));

    md_store_iter(collect_cb, mds, ctx->store, ctx->p, MD_SG_DOMAINS, "*", MD_FN_MD,
                  MD_SV_JSON);
    qsort(mds->elts, (size_t)mds->nelts, sizeof(md_t *), md_name_cmp);
    return mds;
}

/* The MD by name, else the first containing the domain (an address in
 * any form). */
static md_t *find_md(a2md_ctx_t *ctx, apr_array_header_t *mds,
                     const char *name_or_domain)
{
    md_t *md;
    int i;

    name_or_domain = a2md_name_arg(ctx, name_or_domain);
    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, md_t *);
        if (!strcmp(md->name, name_or_domain)) return md;
    }
    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, md_t *);
        if (md_contains(md, name_or_domain, 0)) return md;
    }
    return NULL;
}

apr_status_t a2md_open_reg(md_reg_t **preg, a2md_ctx_t *ctx)
{
    apr_status_t rv = md_reg_create(preg, ctx->p, ctx->store);

    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "setup md registry");
    }
    return rv;
}

/* As the original's registry shows every MD it loads: assessed, with the
 * default windows filled in. */
static void print_assessed(a2md_ctx_t *ctx, md_reg_t *reg, md_t *md)
{
    md_reg_default_windows(md, ctx->p);
    md_reg_assess(reg, md, ctx->p);
    a2md_print_md(ctx, md, 1, md_reg_should_renew(reg, md, apr_time_now(), ctx->p));
}

/* --- checks before writing ---------------------------------------------------- */

/* What check_values looks at. */
#define CHECK_DOMAINS       0x01
#define CHECK_CA_URLS       0x02
#define CHECK_CONTACTS      0x04
#define CHECK_AGREEMENT     0x08
#define CHECK_ALL           0x0f

static apr_status_t check_domains(a2md_ctx_t *ctx, const md_t *md)
{
    apr_array_header_t *mds;
    const char *domain, *common;
    md_t *other;
    int i;

    if (!md->domains || md->domains->nelts <= 0) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, ctx->p,
                      "empty domain list: %s", md->name);
        return APR_EINVAL;
    }
    for (i = 0; i < md->domains->nelts; ++i) {
        domain = APR_ARRAY_IDX(md->domains, i, const char *);
        if (!md_dns_is_name(domain, 1, 1) && !md_ip_is_address(domain)) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, ctx->p,
                          "md %s with invalid domain name: %s", md->name, domain);
            return APR_EINVAL;
        }
    }
    mds = a2md_load_all(ctx);
    for (i = 0; i < mds->nelts; ++i) {
        other = APR_ARRAY_IDX(mds, i, md_t *);
        if (strcmp(other->name, md->name) && (common = md_common_name(md, other))) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, ctx->p,
                          "md %s shares domain '%s' with md %s", md->name, common,
                          other->name);
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* Each uri in uris must be an absolute URI; else "<what> for NAME invalid
 * (<reason>): <uri>". */
static apr_status_t check_uris(a2md_ctx_t *ctx, const md_t *md, const char *what,
                               const apr_array_header_t *uris)
{
    const char *uri, *err;
    int i;

    for (i = 0; uris && i < uris->nelts; ++i) {
        uri = APR_ARRAY_IDX(uris, i, const char *);
        if (APR_SUCCESS != md_util_abs_uri_check(ctx->p, uri, &err)) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, ctx->p,
                          "%s for %s invalid (%s): %s", what, md->name, err, uri);
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* The checks the original's registry makes before it writes an MD (add
 * checks all, update the aspects it changes): the store stays unchanged
 * when one fails (ERR line, APR_EINVAL). */
static apr_status_t check_values(a2md_ctx_t *ctx, const md_t *md, int fields)
{
    apr_array_header_t *agreement;
    apr_status_t rv = APR_SUCCESS;

    if (fields & CHECK_DOMAINS) {
        rv = check_domains(ctx, md);
    }
    if (APR_SUCCESS == rv && (fields & CHECK_CONTACTS)) {
        rv = check_uris(ctx, md, "contact", md->contacts);
    }
    if (APR_SUCCESS == rv && (fields & CHECK_CA_URLS)) {
        rv = check_uris(ctx, md, "CA url", md->ca_urls);
    }
    if (APR_SUCCESS == rv && (fields & CHECK_AGREEMENT) && md->ca_agreement
        && strcmp("accepted", md->ca_agreement)) {
        /* the original names an agreement "CA url" in this message */
        agreement = apr_array_make(ctx->p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(agreement, const char *) = md->ca_agreement;
        rv = check_uris(ctx, md, "CA url", agreement);
    }
    return rv;
}

/* --- add ----------------------------------------------------------------------- */

static apr_status_t add_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    md_reg_t *reg;
    md_t *md;
    apr_status_t rv;

    rv = a2md_add_md_arg(&md, ctx, cmd);
    if (APR_SUCCESS != rv) return rv;
    md->transitive = 0;
    rv = check_values(ctx, md, CHECK_ALL);
    if (APR_SUCCESS != rv) return rv;
    rv = a2md_open_reg(&reg, ctx);
    if (APR_SUCCESS != rv) return rv;
    md_reg_default_windows(md, ctx->p);
    md_reg_assess(reg, md, ctx->p);
    rv = md_store_md_save(ctx->store, ctx->p, MD_SG_DOMAINS, md, 1);
    if (APR_SUCCESS != rv) return rv;
    print_assessed(ctx, reg, md);
    return APR_SUCCESS;
}

/* --- list ------------------------------------------------------------------------ */

static apr_status_t list_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_array_header_t *mds = a2md_load_all(ctx);
    md_reg_t *reg;
    md_t *md;
    apr_status_t rv;
    int i;

    (void)cmd;
    rv = a2md_open_reg(&reg, ctx);
    if (APR_SUCCESS != rv) return rv;
    if (ctx->argc <= 0) {
        for (i = 0; i < mds->nelts; ++i) print_assessed(ctx, reg, APR_ARRAY_IDX(mds, i, md_t *));
        return APR_SUCCESS;
    }
    for (i = 0; i < ctx->argc; ++i) {
        md = find_md(ctx, mds, ctx->argv[i]);
        if (!md) {
            fprintf(stderr, "managed domain not found: %s\n", ctx->argv[i]);
            return APR_ENOENT;
        }
        print_assessed(ctx, reg, md);
    }
    return APR_SUCCESS;
}

/* --- update ---------------------------------------------------------------------- */

static apr_array_header_t *args_from(a2md_ctx_t *ctx, int start, int schemify)
{
    apr_array_header_t *a = apr_array_make(ctx->p, 5, sizeof(const char *));
    int i;

    for (i = start; i < ctx->argc; ++i) {
        APR_ARRAY_PUSH(a, const char *) = schemify
            ? md_util_schemify(ctx->p, ctx->argv[i], "mailto") : ctx->argv[i];
    }
    return a;
}

static void set_ca_url(a2md_ctx_t *ctx, md_t *md, const char *url)
{
    md->ca_urls = apr_array_make(ctx->p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_urls, const char *) = url;
    md->ca_effective = NULL;
}

/* Applies "<aspect> <args...>" (ctx->argv[1..]) to md; *pfields gets the
 * checks the change needs. Without a value, account and agreement are
 * removed; values past the first are ignored (as the original). */
static apr_status_t update_aspect(a2md_ctx_t *ctx, const a2md_cmd_t *cmd, md_t *md,
                                  int *pfields)
{
    const char *aspect = ctx->argv[1];
    const char *value = ctx->argc > 2 ? ctx->argv[2] : NULL;
    apr_array_header_t *domains;
    apr_status_t rv;

    if (!strcmp("domains", aspect)) {
        if (!value) {
            fprintf(stderr, "update domains needs at least 1 domain name as parameter\n");
            return APR_EGENERAL;
        }
        rv = a2md_domains_arg(&domains, ctx, cmd, 2);
        if (APR_SUCCESS != rv) return rv;
        md->domains = md_array_str_compact(ctx->p, domains, 0);
        *pfields |= CHECK_DOMAINS;
    }
    else if (!strcmp("ca", aspect)) {
        if (!value) {
            a2md_usage(cmd, "update name ca <url> [proto]");
            return APR_EINVAL;
        }
        set_ca_url(ctx, md, value);
        if (ctx->argc > 3) {
            md->ca_proto = ctx->argv[3];
        }
        *pfields |= CHECK_CA_URLS;
    }
    else if (!strcmp("account", aspect)) {
        md->ca_account = value;
    }
    else if (!strcmp("contacts", aspect)) {
        if (!value) {
            fprintf(stderr, "update contacts needs at least 1 contact email\n");
            return APR_EINVAL;
        }
        md->contacts = args_from(ctx, 2, 1);
        *pfields |= CHECK_CONTACTS;
    }
    else if (!strcmp("agreement", aspect)) {
        md->ca_agreement = value;
        *pfields |= CHECK_AGREEMENT;
    }
    else {
        fprintf(stderr, "unknown update aspect: %s\n", aspect);
        return APR_ENOTIMPL;
    }
    return APR_SUCCESS;
}

static apr_status_t update_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    md_reg_t *reg;
    md_t *md, *updated;
    apr_status_t rv;
    int fields = 0;

    if (ctx->argc <= 0) {
        a2md_usage(cmd, "needs md name");
        return APR_EINVAL;
    }
    rv = md_store_md_load(ctx->store, MD_SG_DOMAINS, a2md_name_arg(ctx, ctx->argv[0]),
                          &md, ctx->p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, ctx->p, "%s: not found", ctx->argv[0]);
        return APR_ENOENT;
    }
    /* both with windows: an MD without them is not "changed" by that alone */
    md_reg_default_windows(md, ctx->p);
    updated = md_copy(ctx->p, md);
    if (ctx->ca_url) {
        set_ca_url(ctx, updated, ctx->ca_url);
        fields |= CHECK_CA_URLS;
    }
    if (ctx->argc > 1) {
        rv = update_aspect(ctx, cmd, updated, &fields);
        if (APR_SUCCESS != rv) return rv;
    }
    rv = check_values(ctx, updated, fields);
    if (APR_SUCCESS != rv) return rv;
    rv = a2md_open_reg(&reg, ctx);
    if (APR_SUCCESS != rv) return rv;
    if (!md_config_differs(md, updated) && md_equal_domains(md, updated, 1)
        && !((md->ca_account == NULL) != (updated->ca_account == NULL)
             || (md->ca_account && strcmp(md->ca_account, updated->ca_account)))) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, ctx->p, "no changes necessary");
    }
    else {
        md_reg_assess(reg, updated, ctx->p);
        rv = md_store_md_save(ctx->store, ctx->p, MD_SG_DOMAINS, updated, 0);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "updating md %s",
                          updated->name);
            return rv;
        }
    }
    print_assessed(ctx, reg, updated);
    return APR_SUCCESS;
}

/* --- drive ------------------------------------------------------------------------- */

static apr_status_t drive_opt(a2md_ctx_t *ctx, int option, const char *arg)
{
    switch (option) {
        case 'c': ctx->challenge = arg; break;
        case 'f': ctx->force = 1; break;
        case 'r': ctx->reset = 1; break;
        default: return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Staging -> domains, as the module does at (re)start (contract.md 1.9). */
static apr_status_t drive_activate(a2md_ctx_t *ctx, md_reg_t *reg, md_t *md,
                                   md_result_t *result)
{
    md_json_t *job;
    apr_status_t rv;

    md_reg_set_dns01(reg, ctx->dns01_cmd, ctx->dns01_version);
    md_result_activity_setn(result, "moving tmp to become new domains");
    rv = md_reg_activate_staging(reg, md, apr_time_now(), &job, ctx->p);
    if (APR_SUCCESS == rv) {
        md_result_set(result, APR_SUCCESS, "new certificate successfully saved in domains");
        md_result_log(result, MD_LOG_INFO);
    }
    return rv;
}

md_acme_drive_opts_t *a2md_drive_opts(a2md_ctx_t *ctx)
{
    md_acme_drive_opts_t *opts = apr_pcalloc(ctx->p, sizeof(*opts));

    md_acme_drive_opts_init(opts);
    if (ctx->challenge) {
        opts->challenge_types = apr_array_make(ctx->p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(opts->challenge_types, const char *) = ctx->challenge;
    }
    opts->dns01_cmd = ctx->dns01_cmd;
    opts->dns01_version = ctx->dns01_version;
    opts->ca_file = ctx->ca_file;
    opts->proxy_url = ctx->proxy_url;
    opts->reset = ctx->reset;
    return opts;
}

apr_status_t a2md_drive_md(a2md_ctx_t *ctx, md_reg_t *reg, md_t *md)
{
    md_result_t *result = md_result_md_make(ctx->p, md->name);
    md_acme_drive_opts_t *opts;
    apr_status_t rv;
    int renew;

    md_reg_assess(reg, md, ctx->p);
    if (MD_S_ERROR == md->state) {
        md_result_set(result, APR_EGENERAL, "in error state, unable to drive forward. "
                      "This indicates an incomplete or inconsistent configuration.");
        md_result_log(result, MD_LOG_ERR);
        return APR_EGENERAL;
    }
    renew = md_reg_should_renew(reg, md, apr_time_now(), ctx->p);
    if (!renew && !ctx->force) {
        md_result_set(result, APR_SUCCESS, "complete.");
        md_result_log(result, MD_LOG_INFO);
        return APR_SUCCESS;
    }
    if (MD_S_INCOMPLETE == md->state || MD_S_UNKNOWN == md->state) {
        md_result_set(result, APR_SUCCESS, "needs new certificate (is incomplete).");
    }
    else {
        md_result_set(result, APR_SUCCESS, ctx->force && !renew ? "should renew (forced)."
                      : "should renew.");
    }
    md_result_log(result, MD_LOG_INFO);
    if ((!md->ca_urls || md->ca_urls->nelts <= 0) && ctx->ca_url) {
        md->ca_urls = apr_array_make(ctx->p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(md->ca_urls, const char *) = ctx->ca_url;
    }
    md_result_reset(result);
    if (md->ca_proto && strcmp(MD_PROTO_ACME, md->ca_proto)) {
        /* stored by "update NAME ca URL PROTO"; ACME is the only protocol */
        md_result_printf(result, APR_EINVAL, "Unknown CA protocol '%s'", md->ca_proto);
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, result->status, ctx->p, "md[%s]: %s",
                      md->name, result->detail);
        return result->status;
    }
    opts = a2md_drive_opts(ctx);
    rv = md_acme_drive_renew(ctx->store, md, opts, result, ctx->p);
    if (APR_SUCCESS != rv) {
        md_result_log(result, MD_LOG_ERR);
        return rv;
    }
    md_result_log(result, MD_LOG_DEBUG);
    rv = drive_activate(ctx, reg, md, result);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: activating the staged "
                      "set", md->name);
    }
    return rv;
}

static apr_status_t drive_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_array_header_t *mds = a2md_load_all(ctx), *todo;
    md_reg_t *reg;
    md_t *md;
    apr_status_t rv;
    int i;

    (void)cmd;
    rv = a2md_open_reg(&reg, ctx);
    if (APR_SUCCESS != rv) return rv;
    if (ctx->argc <= 0) {
        todo = mds;
    }
    else {
        todo = apr_array_make(ctx->p, ctx->argc, sizeof(md_t *));
        for (i = 0; i < ctx->argc; ++i) {
            md = find_md(ctx, mds, ctx->argv[i]);
            if (!md || strcmp(md->name, a2md_name_arg(ctx, ctx->argv[i]))) {
                md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, ctx->p, "%s: not found",
                              ctx->argv[i]);
                return APR_ENOENT;
            }
            APR_ARRAY_PUSH(todo, md_t *) = md;
        }
    }
    for (i = 0; i < todo->nelts; ++i) {
        rv = a2md_drive_md(ctx, reg, APR_ARRAY_IDX(todo, i, md_t *));
        if (APR_SUCCESS != rv) return rv;
    }
    return APR_SUCCESS;
}

/* --- the commands ---------------------------------------------------------------------- */

static const apr_getopt_option_t drive_opts_table[] = {
    { "challenge", 'c', 1, "which challenge type to use" },
    { "force", 'f', 0, "force driving the managed domain, even when it seems valid" },
    { "reset", 'r', 0, "reset any staging data for the managed domain" },
    { NULL, 0, 0, NULL },
};

const a2md_cmd_t a2md_add_cmd = {
    "add", A2MD_NEED_STORE, NULL, add_do, NULL, NULL,
    "add [opts] domain [domain...]",
    "Adds a new managed domain. Must not overlap with existing domains.",
};

const a2md_cmd_t a2md_update_cmd = {
    "update", A2MD_NEED_STORE, NULL, update_do, NULL, NULL,
    "update name [ 'aspect' args ]",
    "update a managed domain's properties, where 'aspect' is one of: 'domains', 'ca', "
    "'account', 'contacts' or 'agreement'",
};

const a2md_cmd_t a2md_drive_cmd = {
    "drive", A2MD_NEED_STORE, drive_opt, drive_do, drive_opts_table, NULL,
    "drive [md...]",
    "drive all or the mentioned managed domains toward completeness",
};

const a2md_cmd_t a2md_list_cmd = {
    "list", A2MD_NEED_STORE, NULL, list_do, NULL, NULL,
    "list",
    "list all managed domains",
};
