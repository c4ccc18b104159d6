/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * A lost store key: setting aside a corrupt md_store.json and what the old
 * key encrypted (md_keyloss.h).
 */
#include <string.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_fnmatch.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "md.h"
#include "md_json.h"
#include "md_keyloss.h"
#include "md_log.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_util.h"

/* At most this many set-aside names of one kind are tried. */
#define KEYLOSS_SLOTS_MAX   999

/* The first of base (with n0 == 0), base.1, base.2, ... from base.n0 on
 * that does not exist; NULL when all are taken. */
static const char *first_free(const char *base, int n0, apr_pool_t *p)
{
    apr_finfo_t info;
    const char *candidate;
    int n;

    for (n = n0; n <= KEYLOSS_SLOTS_MAX; ++n) {
        candidate = n ? apr_psprintf(p, "%s.%d", base, n) : base;
        if (APR_STATUS_IS_ENOENT(apr_stat(&info, candidate, APR_FINFO_TYPE
                                          | APR_FINFO_LINK, p))) {
            return candidate;
        }
    }
    return NULL;
}

int md_keyloss_store_file_corrupt(const char *fname, apr_pool_t *p)
{
    apr_finfo_t info;
    md_json_t *json;
    md_data_t key;
    const char *key64;
    apr_status_t rv;

    rv = apr_stat(&info, fname, APR_FINFO_TYPE | APR_FINFO_LINK, p);
    if (APR_SUCCESS != rv || APR_REG != info.filetype) return 0;
    rv = md_json_readfx(&json, p, fname, MD_FREAD_NOFOLLOW);
    /* EINVAL: no JSON, or too large to be ours; anything else (EACCES)
     * is about the file, not its content */
    if (APR_STATUS_IS_EINVAL(rv)) return 1;
    if (APR_SUCCESS != rv) return 0;
    if (!md_json_is(MD_JSON_TYPE_OBJECT, json, NULL)) return 1;
    if (md_json_getn(json, MD_KEY_STORE, MD_KEY_VERSION, NULL) > MD_STORE_VERSION) {
        return 0;
    }
    key64 = md_json_gets(json, MD_KEY_KEY, NULL);
    if (!key64) return 1;
    rv = md_util_base64url_decode(&key, key64, p);
    return APR_SUCCESS != rv || MD_STORE_KEY_LEN != key.len;
}

apr_status_t md_keyloss_set_aside_file(const char **paside, const char *fname,
                                       apr_time_t now, apr_pool_t *p)
{
    char stamp[32];
    apr_size_t len;
    apr_time_exp_t t;
    const char *target;
    apr_status_t rv;

    *paside = NULL;
    apr_time_exp_gmt(&t, now);
    apr_strftime(stamp, &len, sizeof(stamp), "%Y%m%dT%H%M%SZ", &t);
    target = first_free(apr_pstrcat(p, fname, ".corrupt-", stamp, NULL), 0, p);
    if (!target) return APR_EEXIST;
    rv = apr_file_rename(fname, target, p);
    if (APR_SUCCESS == rv) {
        *paside = target;
    }
    return rv;
}

/* 1 if the entry dir holds a key file (account.pem, privkey*.pem) that the
 * store's key does not load. */
static int has_lost_key(md_store_t *store, md_store_group_t group, const char *name,
                        apr_pool_t *p)
{
    const char *dir = md_store_get_dir(store, group, name, p);
    apr_finfo_t info;
    apr_dir_t *d;
    int lost = 0;

    if (!dir || APR_SUCCESS != apr_dir_open(&d, dir, p)) return 0;
    while (!lost && APR_SUCCESS == apr_dir_read(&info, APR_FINFO_TYPE | APR_FINFO_NAME, d)) {
        if (APR_REG != info.filetype || (strcmp(MD_FN_ACCT_KEY, info.name)
            && APR_SUCCESS != apr_fnmatch("privkey*.pem", info.name, 0))) {
            continue;
        }
        lost = (APR_SUCCESS != md_store_load(store, group, name, info.name,
                                             MD_SV_PKEY, NULL, p));
    }
    apr_dir_close(d);
    return lost;
}

typedef struct {
    md_store_t *store;
    md_store_group_t group;
    apr_array_header_t *lines;
    apr_pool_t *p;              /* for the lines */
    int count;
} aside_ctx;

/* accounts/NAME -> accounts/broken-NAME (broken-NAME.N when taken). */
static apr_status_t account_aside(const char **pto, aside_ctx *ctx, const char *name,
                                  apr_pool_t *ptemp)
{
    apr_status_t rv = APR_EEXIST;
    const char *to = NULL;
    int n;

    for (n = 0; n <= KEYLOSS_SLOTS_MAX && APR_STATUS_IS_EEXIST(rv); ++n) {
        to = n ? apr_psprintf(ptemp, "broken-%s.%d", name, n)
               : apr_pstrcat(ptemp, "broken-", name, NULL);
        rv = md_store_rename(ctx->store, ptemp, ctx->group, name, to);
    }
    *pto = apr_pstrcat(ptemp, md_store_group_name(ctx->group), "/", to, NULL);
    return rv;
}

/* staging/NAME or live/NAME -> archive/NAME.N, the first N free. */
static apr_status_t set_aside_to_archive(const char **pto, aside_ctx *ctx,
                                         const char *name, apr_pool_t *ptemp)
{
    const char *from, *adir, *target;
    apr_status_t rv;

    *pto = NULL;
    rv = md_store_make_dir(ctx->store, MD_SG_ARCHIVE, NULL, ptemp);
    if (APR_SUCCESS != rv) return rv;
    from = md_store_get_dir(ctx->store, ctx->group, name, ptemp);
    adir = md_store_get_dir(ctx->store, MD_SG_ARCHIVE, NULL, ptemp);
    if (!from || !adir) return APR_EINVAL;
    target = first_free(md_util_path_join(ptemp, adir, name, NULL), 1, ptemp);
    if (!target) return APR_EEXIST;
    *pto = apr_pstrcat(ptemp, md_store_group_name(MD_SG_ARCHIVE), "/",
                       target + strlen(adir) + 1, NULL);
    return apr_file_rename(from, target, ptemp);
}

static int aside_cb(void *baton, const char *name, apr_pool_t *ptemp)
{
    aside_ctx *ctx = baton;
    const char *gname = md_store_group_name(ctx->group), *to = NULL;
    apr_status_t rv;
    char buf[128];

    if (!has_lost_key(ctx->store, ctx->group, name, ptemp)) return 1;
    if (MD_SG_ACCOUNTS == ctx->group) {
        rv = account_aside(&to, ctx, name, ptemp);
    }
    else {
        rv = set_aside_to_archive(&to, ctx, name, ptemp);
    }
    if (APR_SUCCESS == rv) {
        ++ctx->count;
        APR_ARRAY_PUSH(ctx->lines, const char *) = apr_psprintf(ctx->p, "%s/%s -> %s",
                                                                gname, name, to);
    }
    else {
        APR_ARRAY_PUSH(ctx->lines, const char *) = apr_psprintf(ctx->p,
            "%s/%s: setting it aside failed (%s)", gname, name,
            apr_strerror(rv, buf, sizeof(buf)));
    }
    return 1;
}

int md_keyloss_set_aside(md_store_t *store, apr_array_header_t *lines, apr_pool_t *p)
{
    static const md_store_group_t groups[] = {
        MD_SG_ACCOUNTS, MD_SG_STAGING, MD_SG_LIVE,
    };
    aside_ctx ctx;
    size_t i;

    memset(&ctx, 0, sizeof(ctx));
    ctx.store = store;
    ctx.lines = lines;
    ctx.p = p;
    for (i = 0; i < MD_ARRAY_LEN(groups); ++i) {
        ctx.group = groups[i];
        md_store_iter_names(aside_cb, &ctx, store, p, groups[i],
                            MD_SG_ACCOUNTS == groups[i] ? "ACME-*" : "*");
    }
    return ctx.count;
}
