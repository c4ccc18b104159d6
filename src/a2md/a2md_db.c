/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md db push|pull: moves a file store (-d) into a cluster store
 * (MDStoreDB, docs/cluster.md) and back. Accounts, domains, staging,
 * archive, ocsp and live sets travel; challenges, tmp and the store's own
 * files (md_store.json with its key, httpd.json) stay with each node.
 */
#include <stdio.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "md.h"
#include "md_dbstore.h"
#include "md_log.h"
#include "md_store.h"
#include "md_util.h"
#include "a2md.h"

static const md_store_group_t GROUPS[] = {
    MD_SG_ACCOUNTS, MD_SG_DOMAINS, MD_SG_STAGING, MD_SG_ARCHIVE, MD_SG_OCSP, MD_SG_LIVE,
};

typedef struct {
    md_dbstore_t *db;
    md_store_t *store;
    md_store_group_t group;
    apr_status_t rv;
    int count;
} copy_ctx;

static int push_name(void *baton, const char *name, apr_pool_t *ptemp)
{
    copy_ctx *ctx = baton;

    ctx->rv = md_dbstore_push(ctx->db, ctx->store, ctx->group, name, NULL, 0, ptemp);
    if (APR_SUCCESS != ctx->rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, ctx->rv, ptemp, "%s/%s: not copied "
                      "into the database", md_store_group_name(ctx->group), name);
        return 0;
    }
    ++ctx->count;
    return 1;
}

static apr_status_t push_group(copy_ctx *ctx, apr_pool_t *p)
{
    apr_status_t rv;

    ctx->rv = APR_SUCCESS;
    rv = md_store_iter_names(push_name, ctx, ctx->store, p, ctx->group, NULL);
    return (APR_SUCCESS != rv) ? rv : ctx->rv;
}

static apr_status_t pull_group(copy_ctx *ctx, apr_pool_t *p)
{
    apr_array_header_t *names;
    const char *name;
    apr_status_t rv;
    int i;

    rv = md_dbstore_names(&names, ctx->db, ctx->group, p);
    for (i = 0; APR_SUCCESS == rv && i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        rv = md_dbstore_pull(ctx->db, ctx->store, ctx->group, ctx->group, name, p);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "%s/%s: not copied from the "
                          "database", md_store_group_name(ctx->group), name);
        }
        else {
            ++ctx->count;
        }
    }
    return rv;
}

/* The cluster key from a key=FILE argument, trailing white space cut. */
static apr_status_t read_key(const char **pkey, apr_size_t *plen, const char *arg,
                             apr_pool_t *p)
{
    apr_status_t rv;

    if (strncmp("key=", arg, 4)) return APR_EINVAL;
    rv = md_util_fread_all(pkey, plen, arg + 4, 64 * 1024, p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "reading the cluster key %s",
                      arg + 4);
        return rv;
    }
    while (*plen > 0 && apr_isspace((*pkey)[*plen - 1])) --*plen;
    if (*plen < 16) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, 0, p, "the cluster key %s holds fewer "
                      "than 16 bytes", arg + 4);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t db_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    const char *key, *err, *dir;
    apr_size_t key_len;
    copy_ctx cc;
    apr_status_t rv;
    int push, i;

    if (ctx->argc != 4 || (strcmp("push", ctx->argv[0]) && strcmp("pull", ctx->argv[0]))) {
        a2md_usage(cmd, "need push|pull, a driver, its parameters and key=FILE");
        return APR_EINVAL;
    }
    push = !strcmp("push", ctx->argv[0]);
    rv = read_key(&key, &key_len, ctx->argv[3], ctx->p);
    if (APR_SUCCESS != rv) {
        if (APR_STATUS_IS_EINVAL(rv)) {
            a2md_usage(cmd, "the fourth argument is key=FILE");
        }
        return rv;
    }
    memset(&cc, 0, sizeof(cc));
    cc.store = ctx->store;
    rv = md_dbstore_create(&cc.db, ctx->argv[1], ctx->argv[2], key, key_len, "a2md", 0,
                           &err, ctx->p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "%s", err ? err : "driver");
        return rv;
    }
    rv = md_dbstore_connect(cc.db, 1);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "the database: %s",
                      md_dbstore_last_error(cc.db, ctx->p));
        return rv;
    }
    for (i = 0; APR_SUCCESS == rv && i < (int)MD_ARRAY_LEN(GROUPS); ++i) {
        cc.group = GROUPS[i];
        rv = push ? push_group(&cc, ctx->p) : pull_group(&cc, ctx->p);
    }
    dir = md_store_base_dir(ctx->store);
    a2md_say(ctx, dir, (APR_SUCCESS == rv) ? "copied" : "failed", "%s: %d %s %s",
             dir, cc.count, push ? "directories copied into" : "directories copied from",
             ctx->argv[1]);
    return rv;
}

const a2md_cmd_t a2md_db_cmd = {
    "db", A2MD_NEED_STORE, NULL, db_do, NULL, NULL,
    "db push|pull driver params key=FILE",
    "copy the store into a cluster database (MDStoreDB) or from it",
};
