/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md "store" commands working directly on domains/NAME/md.json: add,
 * remove, list and update (contract.md 6.3), without registry checks.
 */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_log.h"
#include "md_store.h"
#include "md_util.h"
#include "a2md.h"

static apr_status_t add_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    md_t *md;
    apr_status_t rv;

    rv = a2md_add_md_arg(&md, ctx, cmd);
    if (APR_SUCCESS != rv) return rv;
    md->ca_proto = MD_PROTO_ACME;
    md->state = MD_S_UNKNOWN;
    md->transitive = -1;
    md->renew_mode = MD_RENEW_DEFAULT;
    md->ari_renewals = 0;
    rv = md_store_md_save(ctx->store, ctx->p, MD_SG_DOMAINS, md, 1);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "adding md %s", md->name);
        return rv;
    }
    a2md_print_md(ctx, md, 0, 0);
    return APR_SUCCESS;
}

static apr_status_t remove_opt(a2md_ctx_t *ctx, int option, const char *arg)
{
    (void)arg;
    if ('f' != option) return APR_EINVAL;
    ctx->force = 1;
    return APR_SUCCESS;
}

static apr_status_t remove_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (ctx->argc <= 0) {
        a2md_usage(cmd, "remove needs at least one domain name as argument");
        return APR_EINVAL;
    }
    for (i = 0; i < ctx->argc; ++i) {
        rv = md_store_md_remove(ctx->store, ctx->p, MD_SG_DOMAINS,
                                a2md_name_arg(ctx, ctx->argv[i]), ctx->force);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "removing md %s",
                          ctx->argv[i]);
            break;
        }
    }
    return rv;
}

static int list_md_cb(void *baton, const char *name, const char *aspect,
                      md_store_vtype_t vtype, void *value, apr_pool_t *ptemp)
{
    a2md_ctx_t *ctx = baton;
    md_t *md = md_from_json(value, ctx->p);

    (void)name;
    (void)aspect;
    (void)vtype;
    (void)ptemp;
    if (md) {
        a2md_print_md(ctx, md, 0, 0);
    }
    return 1;
}

static apr_status_t list_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    (void)cmd;
    return md_store_iter(list_md_cb, ctx, ctx->store, ctx->p, MD_SG_DOMAINS, "*",
                         MD_FN_MD, MD_SV_JSON);
}

static apr_status_t update_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    const char *name, *aspect;
    apr_array_header_t *domains;
    md_t *md, *updated;
    apr_status_t rv;

    if (ctx->argc <= 0) {
        a2md_usage(cmd, "needs md name");
        return APR_EINVAL;
    }
    name = a2md_name_arg(ctx, ctx->argv[0]);
    rv = md_store_md_load(ctx->store, MD_SG_DOMAINS, name, &md, ctx->p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, ctx->p, "%s: not found", name);
        return APR_ENOENT;
    }
    updated = md_copy(ctx->p, md);
    if (ctx->ca_url) {
        updated->ca_urls = apr_array_make(ctx->p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(updated->ca_urls, const char *) = ctx->ca_url;
    }
    if (ctx->argc > 1) {
        aspect = ctx->argv[1];
        if (strcmp("domains", aspect)) {
            fprintf(stderr, "unknown update aspect: %s\n", aspect);
            return APR_EINVAL;
        }
        if (ctx->argc < 3) {
            a2md_usage(cmd, "update domains needs at least 1 domain name as parameter");
            return APR_EINVAL;
        }
        rv = a2md_domains_arg(&domains, ctx, cmd, 2);
        if (APR_SUCCESS != rv) return rv;
        updated->domains = md_array_str_compact(ctx->p, domains, 0);
    }
    if (!md_config_differs(md, updated) && md_equal_domains(md, updated, 1)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, ctx->p, "no changes necessary");
    }
    else {
        rv = md_store_md_save(ctx->store, ctx->p, MD_SG_DOMAINS, updated, 0);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "updating md %s", name);
            return rv;
        }
    }
    a2md_print_md(ctx, updated, 0, 0);
    return APR_SUCCESS;
}

static const apr_getopt_option_t remove_opts[] = {
    { "force", 'f', 0, "force removal, be silent about missing domains" },
    { NULL, 0, 0, NULL },
};

static const a2md_cmd_t add_cmd = {
    "add", A2MD_NEED_STORE, NULL, add_do, NULL, NULL,
    "add dns [dns2...]",
    "add a new managed domain 'dns' with all the additional domain names",
};

static const a2md_cmd_t remove_cmd = {
    "remove", A2MD_NEED_STORE, remove_opt, remove_do, remove_opts, NULL,
    "remove [options] name [name...]",
    "remove the managed domains <name> from the store",
};

static const a2md_cmd_t list_cmd = {
    "list", A2MD_NEED_STORE, NULL, list_do, NULL, NULL,
    "list",
    "list all managed domains in the store",
};

static const a2md_cmd_t update_cmd = {
    "update", A2MD_NEED_STORE, NULL, update_do, NULL, NULL,
    "update name [ 'aspect' args ]",
    "update a managed domain's properties, where 'aspect' is one of: 'domains'",
};

static const a2md_cmd_t *const store_sub_cmds[] = {
    &add_cmd,
    &remove_cmd,
    &list_cmd,
    &update_cmd,
    NULL,
};

const a2md_cmd_t a2md_store_cmd = {
    "store", 0, NULL, NULL, NULL, store_sub_cmds,
    "store cmd [opts] [args]",
    "manipulate the MD store",
};
