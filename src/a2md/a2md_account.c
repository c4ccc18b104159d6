/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md "account" commands on the accounts of the store: list, rollover
 * (RFC 8555 7.3.5 key change, the stored key replaced only after the CA
 * took the new one), deactivate (7.3.6) and import of an account created
 * elsewhere. MDs refer to accounts by id, which none of these change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_acme_acct.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_result.h"
#include "md_store.h"
#include "md_util.h"
#include "a2md.h"

/* Where rollover keeps the new key until the CA took it. */
#define FN_ROLLOVER_KEY     "account-rollover.pem"

static apr_status_t account_opt(a2md_ctx_t *ctx, int option, const char *arg)
{
    switch (option) {
        case 'k': ctx->key_type = arg; break;
        case 'u': ctx->acct_url = arg; break;
        default: return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static const char *key_type_name(const md_pkey_t *pkey, apr_pool_t *p)
{
    if (md_pkey_is_rsa(pkey)) return apr_psprintf(p, "RSA-%u", md_pkey_bits(pkey));
    return md_pkey_type_name(pkey);
}

static void list_account(a2md_ctx_t *ctx, const char *name)
{
    md_acme_acct_t *acct;
    md_pkey_t *pkey;
    md_json_t *json;
    const char *status, *contacts, *key_type;

    if (APR_SUCCESS != md_acme_acct_load(&acct, &pkey, ctx->store, MD_SG_ACCOUNTS, name,
                                         ctx->p)) {
        a2md_say(ctx, name, "unusable", "%s unusable (see the warning)", name);
        return;
    }
    switch (acct->status) {
        case MD_ACME_ACCT_ST_VALID: status = "valid"; break;
        case MD_ACME_ACCT_ST_DEACTIVATED: status = "deactivated"; break;
        case MD_ACME_ACCT_ST_REVOKED: status = "revoked"; break;
        default: status = "unknown"; break;
    }
    contacts = (acct->contacts && acct->contacts->nelts > 0) ?
               md_array_str_join(acct->contacts, ",", ctx->p) : "-";
    key_type = key_type_name(pkey, ctx->p);
    if (ctx->json_out) {
        json = md_json_create(ctx->p);
        md_json_sets(name, json, "id", NULL);
        md_json_sets(acct->url, json, "url", NULL);
        md_json_sets(acct->ca_url, json, "ca-url", NULL);
        md_json_sets(status, json, "status", NULL);
        md_json_setsa(acct->contacts, json, "contact", NULL);
        md_json_sets(key_type, json, "key-type", NULL);
        md_json_addj(json, ctx->output, NULL);
        return;
    }
    fprintf(stdout, "%s %s %s %s %s\n", name, acct->ca_url, status, contacts, key_type);
}

static int collect_name_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    apr_array_header_t *names = baton;

    (void)ptemp;
    APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(names->pool, name);
    return 1;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static apr_status_t list_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_array_header_t *names = apr_array_make(ctx->p, 5, sizeof(const char *));
    apr_status_t rv;
    int i;

    (void)cmd;
    rv = md_store_iter_names(collect_name_cb, names, ctx->store, ctx->p, MD_SG_ACCOUNTS,
                             "*");
    if (APR_STATUS_IS_ENOENT(rv)) {
        rv = APR_SUCCESS;
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "listing the accounts in %s",
                      md_store_location(ctx->store, MD_SG_ACCOUNTS, NULL, ctx->p));
        return rv;
    }
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), name_cmp);
    for (i = 0; i < names->nelts; ++i) {
        list_account(ctx, APR_ARRAY_IDX(names, i, const char *));
    }
    return APR_SUCCESS;
}

/* accounts/<id> as the account of a session with its CA. */
static apr_status_t use_stored(md_acme_t **pacme, a2md_ctx_t *ctx, const char *id)
{
    md_acme_acct_t *acct;
    md_pkey_t *pkey;
    md_acme_t *acme = NULL;
    apr_status_t rv;

    rv = md_acme_acct_load(&acct, &pkey, ctx->store, MD_SG_ACCOUNTS, id, ctx->p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: %s", id,
                      APR_STATUS_IS_ENOENT(rv) ? "no such account in the store"
                                               : "unable to load the account");
        goto leave;
    }
    rv = a2md_open_ca(&acme, ctx, acct->ca_url, NULL);
    if (APR_SUCCESS != rv) goto leave;
    md_acme_set_acct(acme, acct, pkey);
leave:
    *pacme = (APR_SUCCESS == rv) ? acme : NULL;
    return rv;
}

static apr_status_t one_account_arg(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    if (ctx->argc == 1) return APR_SUCCESS;
    a2md_usage(cmd, apr_psprintf(ctx->p, "%s needs one account id as argument",
                                 cmd->name));
    return APR_EINVAL;
}

/* The key spec for --key-type, or the current key's type. */
static apr_status_t rollover_spec(md_pkey_spec_t *spec, a2md_ctx_t *ctx,
                                  const md_pkey_t *current)
{
    const char *t = ctx->key_type;

    memset(spec, 0, sizeof(*spec));
    if (!t) {
        if (md_pkey_is_rsa(current)) {
            spec->type = MD_PKEY_TYPE_RSA;
            spec->bits = md_pkey_bits(current);
        }
        else {
            spec->type = MD_PKEY_TYPE_EC;
            spec->curve = md_pkey_type_name(current);
        }
        return APR_SUCCESS;
    }
    if (!strcasecmp("rsa", t)) {
        spec->type = MD_PKEY_TYPE_RSA;
        spec->bits = MD_ACCOUNT_RSA_BITS;
    }
    else if (!strncasecmp("rsa", t, 3) && atoi(t + 3) >= MD_PKEY_RSA_BITS_MIN
             && atoi(t + 3) <= 8192) {
        spec->type = MD_PKEY_TYPE_RSA;
        spec->bits = (unsigned int)atoi(t + 3);
    }
    else if (!strcasecmp("p256", t) || !strcasecmp("P-256", t)
             || !strcasecmp("secp256r1", t) || !strcasecmp("prime256v1", t)) {
        spec->type = MD_PKEY_TYPE_EC;
        spec->curve = "P-256";
    }
    else if (!strcasecmp("p384", t) || !strcasecmp("P-384", t)
             || !strcasecmp("secp384r1", t)) {
        spec->type = MD_PKEY_TYPE_EC;
        spec->curve = "P-384";
    }
    else {
        fprintf(stderr, "account rollover: unknown --key-type '%s' (rsa, rsa2048, "
                "rsa3072, rsa4096, p256 or p384)\n", t);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t rollover_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    md_result_t *result = md_result_make(ctx->p, APR_SUCCESS);
    const char *id, *old_type;
    md_pkey_spec_t spec;
    md_pkey_t *new_key;
    md_acme_t *acme;
    apr_status_t rv;

    rv = one_account_arg(ctx, cmd);
    if (APR_SUCCESS != rv) return rv;
    id = ctx->argv[0];
    /* a bad --key-type is refused before the CA is contacted */
    if (ctx->key_type && APR_SUCCESS != (rv = rollover_spec(&spec, ctx, NULL))) return rv;
    rv = use_stored(&acme, ctx, id);
    if (APR_SUCCESS != rv) return rv;
    old_type = key_type_name(acme->acct_key, ctx->p);
    rv = rollover_spec(&spec, ctx, acme->acct_key);
    if (APR_SUCCESS != rv) return rv;
    rv = md_pkey_gen(&new_key, ctx->p, &spec);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: unable to generate "
                      "the new account key", id);
        return rv;
    }
    /* the new key first goes next to the old one: should saving it fail
     * after the CA took it, it is not lost */
    rv = md_store_save(ctx->store, ctx->p, MD_SG_ACCOUNTS, id, FN_ROLLOVER_KEY,
                       MD_SV_PKEY, new_key, 0);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: unable to save the new "
                      "account key, nothing changed", id);
        return rv;
    }
    rv = md_acme_acct_key_change(acme, new_key, result, ctx->p);
    if (APR_SUCCESS != rv) {
        md_store_remove(ctx->store, MD_SG_ACCOUNTS, id, FN_ROLLOVER_KEY, ctx->p, 1);
        a2md_log_failure(ctx, result, rv, apr_psprintf(ctx->p, "%s: the CA at %s refused "
                    "the key change, the account keeps its key", id, acme->url));
        return rv;
    }
    rv = md_store_save(ctx->store, ctx->p, MD_SG_ACCOUNTS, id, MD_FN_ACCT_KEY,
                       MD_SV_PKEY, new_key, 0);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: the CA took the new "
                      "key, but it could not be saved as %s: it is in %s of the "
                      "account (rename it)", id, MD_FN_ACCT_KEY, FN_ROLLOVER_KEY);
        return rv;
    }
    md_store_remove(ctx->store, MD_SG_ACCOUNTS, id, FN_ROLLOVER_KEY, ctx->p, 1);
    a2md_say(ctx, id, "key-replaced", "%s: account key replaced (%s -> %s)", id,
             old_type, key_type_name(new_key, ctx->p));
    return APR_SUCCESS;
}

static apr_status_t deactivate_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    md_result_t *result = md_result_make(ctx->p, APR_SUCCESS);
    md_acme_t *acme;
    const char *id;
    apr_status_t rv;

    rv = one_account_arg(ctx, cmd);
    if (APR_SUCCESS != rv) return rv;
    id = ctx->argv[0];
    rv = use_stored(&acme, ctx, id);
    if (APR_SUCCESS != rv) return rv;
    rv = md_acme_acct_deactivate(acme, result, ctx->p);
    if (APR_SUCCESS != rv) {
        a2md_log_failure(ctx, result, rv, apr_psprintf(ctx->p, "%s: the CA at %s refused "
                    "the deactivation", id, acme->url));
        return rv;
    }
    rv = md_acme_acct_save_in(ctx->store, ctx->p, MD_SG_ACCOUNTS, id, acme->acct, NULL);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s: deactivated at the CA, "
                      "but its account.json could not be updated", id);
        return rv;
    }
    a2md_say(ctx, id, "deactivated", "%s: account deactivated", id);
    return APR_SUCCESS;
}

typedef struct {
    a2md_ctx_t *ctx;
    const char *url;
    const char *found;
} same_acct_ctx_t;

static int same_acct_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    same_acct_ctx_t *sc = baton;
    md_json_t *json;

    if (APR_SUCCESS == md_store_load_json(sc->ctx->store, MD_SG_ACCOUNTS, name,
                                          MD_FN_ACCOUNT, &json, ptemp)
        && !strcmp(sc->url, md_json_gets(json, MD_KEY_URL, NULL) ?
                   md_json_gets(json, MD_KEY_URL, NULL) : "")) {
        sc->found = apr_pstrdup(sc->ctx->p, name);
        return 0;
    }
    return 1;
}

static apr_status_t import_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    md_result_t *result = md_result_make(ctx->p, APR_SUCCESS);
    same_acct_ctx_t sc;
    md_pkey_t *key;
    const char *fname, *err = NULL;
    apr_status_t rv;

    if (ctx->argc != 1 || !ctx->acct_url) {
        a2md_usage(cmd, "import needs --url <account url> and the key file (PEM)");
        return APR_EINVAL;
    }
    fname = ctx->argv[0];
    rv = md_util_abs_http_uri_check(ctx->p, ctx->acct_url, &err);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "account import: the "
                      "account url '%s' is not an absolute http(s) url: %s", ctx->acct_url,
                      err ? err : "invalid");
        return rv;
    }
    rv = md_pkey_fload(&key, ctx->p, NULL, 0, fname);
    if (APR_SUCCESS != rv || !md_pkey_jws_alg(key)) {
        if (APR_SUCCESS == rv) {
            rv = APR_ENOTIMPL;
        }
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "account import: no usable "
                      "unencrypted account key (RSA or EC, PEM) in %s", fname);
        return rv;
    }
    memset(&sc, 0, sizeof(sc));
    sc.ctx = ctx;
    sc.url = ctx->acct_url;
    md_store_iter_names(same_acct_cb, &sc, ctx->store, ctx->p, MD_SG_ACCOUNTS, "*");
    if (sc.found) {
        rv = APR_EEXIST;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "account import: %s is in "
                      "the store already as %s", ctx->acct_url, sc.found);
        return rv;
    }
    if (!ctx->ca_url) {
        rv = APR_EINVAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "account import: the url of "
                      "the account's CA directory is needed (-a)");
        return rv;
    }
    rv = a2md_acme_open(ctx);
    if (APR_SUCCESS != rv) return rv;
    rv = md_acme_acct_adopt(ctx->acme, ctx->acct_url, key, result, ctx->p);
    if (APR_SUCCESS != rv) {
        a2md_log_failure(ctx, result, rv, apr_psprintf(ctx->p, "account import: the CA at "
                    "%s does not accept %s with the key in %s as a valid account",
                    ctx->acme->url, ctx->acct_url, fname));
        return rv;
    }
    rv = md_acme_acct_save(ctx->store, ctx->p, ctx->acme->acct, key);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "account import: saving "
                      "into %s", md_store_location(ctx->store, MD_SG_ACCOUNTS, NULL,
                                                   ctx->p));
        return rv;
    }
    a2md_say(ctx, ctx->acme->acct->id, "imported", "imported: %s", ctx->acme->acct->id);
    return APR_SUCCESS;
}

/* --- the commands ------------------------------------------------------------------- */

static const apr_getopt_option_t rollover_opts[] = {
    { "key-type", 'k', 1, "rsa, rsa2048, rsa3072, rsa4096, p256 or p384 "
      "(default: as now)" },
    { NULL, 0, 0, NULL },
};

static const apr_getopt_option_t import_opts[] = {
    { "url", 'u', 1, "the account url at the CA" },
    { NULL, 0, 0, NULL },
};

static const a2md_cmd_t acct_list_cmd = {
    "list", A2MD_NEED_STORE, NULL, list_do, NULL, NULL,
    "list",
    "list the accounts in the store: id, CA url, status, contacts, key type",
};

static const a2md_cmd_t acct_rollover_cmd = {
    "rollover", A2MD_NEED_STORE, account_opt, rollover_do, rollover_opts, NULL,
    "rollover [--key-type type] account",
    "replace the account key at the CA (RFC 8555 7.3.5), then in the store",
};

static const a2md_cmd_t acct_deactivate_cmd = {
    "deactivate", A2MD_NEED_STORE, NULL, deactivate_do, NULL, NULL,
    "deactivate account",
    "deactivate the account at its CA (RFC 8555 7.3.6)",
};

static const a2md_cmd_t acct_import_cmd = {
    "import", A2MD_NEED_STORE, account_opt, import_do, import_opts, NULL,
    "import --url account-url keyfile",
    "add an account created elsewhere (key as PEM) for the CA of -a",
};

static const a2md_cmd_t *const account_sub_cmds[] = {
    &acct_list_cmd,
    &acct_rollover_cmd,
    &acct_deactivate_cmd,
    &acct_import_cmd,
    NULL,
};

const a2md_cmd_t a2md_account_cmd = {
    "account", 0, NULL, NULL, NULL, account_sub_cmds,
    "account cmd [opts] [args]",
    "list and manage the ACME accounts in the store",
};
