/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md "acme" commands on the accounts of the store: newreg (register at
 * the -a CA), delreg (local removal), agree (terms of service) and
 * validate (ask the CA whether an account is still valid).
 */
#include <stdio.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_log.h"
#include "md_result.h"
#include "md_util.h"
#include "a2md.h"

/* A failed registration ends in "register new account" (as the original).
 * The CA's problem was logged when it came in; a local reason (no
 * contacts, EAB) was not. */
static void log_register_failure(a2md_ctx_t *ctx, md_result_t *result, apr_status_t rv)
{
    if (!result->problem && result->detail) {
        md_result_log(result, MD_LOG_ERR);
    }
    md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "register new account");
}

static apr_status_t newreg_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    md_result_t *result = md_result_make(ctx->p, APR_SUCCESS);
    md_t *md;
    apr_status_t rv;
    int i;

    if (ctx->argc <= 0) {
        a2md_usage(cmd, "newreg needs at least one contact email as argument");
        return APR_EINVAL;
    }
    md = md_create_empty(ctx->p);
    md->contacts = apr_array_make(ctx->p, ctx->argc, sizeof(const char *));
    for (i = 0; i < ctx->argc; ++i) {
        APR_ARRAY_PUSH(md->contacts, const char *) =
            md_util_schemify(ctx->p, ctx->argv[i], "mailto");
    }
    md->ca_agreement = ctx->tos;
    /* without -t the CA decides whether terms must be agreed to */
    rv = md_acme_acct_register(ctx->acme, md, 0, result, ctx->p);
    if (APR_SUCCESS == rv) {
        rv = md_acme_acct_save(ctx->store, ctx->p, ctx->acme->acct, ctx->acme->acct_key);
    }
    if (APR_SUCCESS == rv) {
        fprintf(stdout, "registered: %s\n", ctx->acme->acct->id);
    }
    else {
        log_register_failure(ctx, result, rv);
    }
    return rv;
}

/* Makes accounts/<id> the session's account; "unknown account: <id>",
 * as the original: a bare line without newline (validate) or an ERR log
 * line (agree, unknown_is_err). */
static apr_status_t use_acct(a2md_ctx_t *ctx, const char *id, int unknown_is_err)
{
    apr_status_t rv = md_acme_use_acct(ctx->acme, ctx->store, id, ctx->p);

    if (APR_STATUS_IS_ENOENT(rv) && unknown_is_err) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "unknown account: %s", id);
    }
    else if (APR_STATUS_IS_ENOENT(rv)) {
        fprintf(stderr, "unknown account: %s", id);
    }
    else if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "loading account %s", id);
    }
    return rv;
}

static apr_status_t validate_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    md_result_t *result = md_result_make(ctx->p, APR_SUCCESS);
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (ctx->argc <= 0) {
        a2md_usage(cmd, "validate needs at least one account id as argument");
        return APR_EINVAL;
    }
    for (i = 0; i < ctx->argc && APR_SUCCESS == rv; ++i) {
        rv = use_acct(ctx, ctx->argv[i], 0);
        if (APR_SUCCESS != rv) {
            break;
        }
        rv = md_acme_acct_validate(ctx->acme, ctx->store, result, ctx->p);
        if (APR_SUCCESS == rv) {
            fprintf(stdout, "account valid: %s\n", ctx->argv[i]);
        }
        else {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "validating account %s",
                          ctx->argv[i]);
        }
    }
    return rv;
}

static apr_status_t agree_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    md_result_t *result = md_result_make(ctx->p, APR_SUCCESS);
    const char *tos = ctx->tos ? ctx->tos : "accepted";
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (ctx->argc <= 0) {
        a2md_usage(cmd, "agree needs at least one account id as argument");
        return APR_EINVAL;
    }
    for (i = 0; i < ctx->argc && APR_SUCCESS == rv; ++i) {
        rv = use_acct(ctx, ctx->argv[i], 1);
        if (APR_SUCCESS != rv) {
            break;
        }
        rv = md_acme_acct_agree(ctx->acme, tos, result, ctx->p);
        if (APR_SUCCESS == rv) {
            rv = md_acme_acct_save(ctx->store, ctx->p, ctx->acme->acct, NULL);
        }
        if (APR_SUCCESS == rv) {
            fprintf(stdout, "agreed terms-of-service: %s\n", ctx->acme->acct->url);
        }
        else {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p,
                          "agree to terms-of-service %s", tos);
        }
    }
    return rv;
}

static apr_status_t delreg_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (ctx->argc <= 0) {
        a2md_usage(cmd, "delreg needs at least one account id as argument");
        return APR_EINVAL;
    }
    for (i = 0; i < ctx->argc && APR_SUCCESS == rv; ++i) {
        rv = md_acme_acct_remove(ctx->store, ctx->argv[i], ctx->p);
        /* the original removes with "force": an unknown account is no error */
        if (APR_STATUS_IS_ENOENT(rv)) {
            rv = APR_SUCCESS;
        }
        else if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "removing account %s",
                          ctx->argv[i]);
        }
    }
    return rv;
}

static const a2md_cmd_t newreg_cmd = {
    "newreg", A2MD_NEED_STORE|A2MD_NEED_ACME, NULL, newreg_do, NULL, NULL,
    "newreg contact-uri [contact-uri...]",
    "register a new account at the ACME server with the given contact uris (email)",
};

static const a2md_cmd_t delreg_cmd = {
    "delreg", A2MD_NEED_STORE, NULL, delreg_do, NULL, NULL,
    "delreg account",
    "delete an existing ACME account from the store",
};

static const a2md_cmd_t agree_cmd = {
    "agree", A2MD_NEED_STORE|A2MD_NEED_ACME, NULL, agree_do, NULL, NULL,
    "agree account",
    "agree to the ACME terms of service",
};

static const a2md_cmd_t validate_cmd = {
    "validate", A2MD_NEED_STORE|A2MD_NEED_ACME, NULL, validate_do, NULL, NULL,
    "validate account",
    "validate that the account exists at the ACME server",
};

static const a2md_cmd_t *const acme_sub_cmds[] = {
    &newreg_cmd,
    &delreg_cmd,
    &agree_cmd,
    &validate_cmd,
    NULL,
};

const a2md_cmd_t a2md_acme_cmd = {
    "acme", 0, NULL, NULL, NULL, acme_sub_cmds,
    "acme cmd [opts] [args]",
    "play with the ACME server",
};
