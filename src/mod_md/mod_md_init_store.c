/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The store at post_config: opened (a corrupt md_store.json set aside and
 * a new key made), its group directories prepared and repaired for the
 * child, what the child still cannot use reported, MDStoreGroup applied,
 * and a store that cannot be used (serve what domains/ holds).
 */
#include <string.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "md.h"
#include "md_keyloss.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_util.h"
#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_init.h"
#include "mod_md_init_int.h"
#include "mod_md_os.h"

APLOG_USE_MODULE(md);

/* --- the store ---------------------------------------------------------------------- */

static apr_status_t store_dir_created(void *baton, apr_pool_t *p, md_store_group_t group,
                                      const char *path)
{
    server_rec *s = baton;
    apr_status_t rv;

    if (!path || !md_store_fs_child_writes(group)) {
        return APR_SUCCESS;
    }
    rv = md_os_chown_to_user(path, p);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10082)
                     "Can't change owner of %s", path);
    }
    return rv;
}

/* --- repairing what a restore left wrong --------------------------------------------- */

typedef struct {
    int group_chown;            /* hand entries to User (challenges, staging, ocsp) */
    int repaired;
} repair_ctx;

/* A file or directory of a group: owned by User where the child writes,
 * readable for the child in accounts/ (else it registers new accounts).
 * The entry is open: nothing here follows a link User may have put there. */
static void repair_entry(void *baton, const md_os_entry_t *e, const char *name)
{
    repair_ctx *ctx = baton;
    apr_fileperms_t perms = md_os_entry_perms(e);

    if (ctx->group_chown) {
        ctx->repaired += md_os_entry_chown_to_user(e);
    }
    else if (md_os_entry_is_dir(e)) {
        if ((perms & MD_FPROT_D_UALL_WREAD) != MD_FPROT_D_UALL_WREAD) {
            ctx->repaired += md_os_entry_perms_set(e, MD_FPROT_D_UALL_WREAD);
        }
    }
    else if (!md_os_entry_child_reads(e)
             && (!strcmp(MD_FN_ACCOUNT, name) || !strcmp(MD_FN_ACCT_KEY, name))) {
        /* only the account files: account.pem is encrypted, anything else
         * (a legacy plain key) keeps its mode. 0640 for Group, not 0644:
         * account.json may hold an EAB hmac. */
        ctx->repaired += md_os_entry_share_with_group(e);
    }
}

/* Ownership below challenges/, staging/, ocsp/ and the modes below
 * accounts/ as the child needs them (a backup restored by root leaves them
 * wrong and every renewal would fail). Only where the parent can. */
static void repair_store(md_mod_rt_t *rt, server_rec *s, apr_pool_t *p)
{
    static const md_store_group_t groups[] = {
        MD_SG_CHALLENGES, MD_SG_STAGING, MD_SG_OCSP, MD_SG_LIVE, MD_SG_ACCOUNTS,
    };
    const char *gdir;
    repair_ctx ctx;
    size_t i;

    for (i = 0; i < MD_ARRAY_LEN(groups); ++i) {
        memset(&ctx, 0, sizeof(ctx));
        ctx.group_chown = (MD_SG_ACCOUNTS != groups[i]);
        if (!ctx.group_chown && !md_os_is_root()) {
            continue;
        }
        gdir = md_store_get_dir(rt->store, groups[i], NULL, p);
        if (!gdir) {
            continue;
        }
        md_os_walk(gdir, 1, repair_entry, &ctx);
        if (!ctx.group_chown && ctx.repaired == 0) {
            /* accounts/ itself: readable once it holds accounts */
            apr_finfo_t info;
            if (APR_SUCCESS == apr_stat(&info, gdir, APR_FINFO_PROT, p)
                && (info.protection & MD_FPROT_D_UALL_WREAD) != MD_FPROT_D_UALL_WREAD
                && md_store_exists(rt->store, groups[i], NULL, NULL, p)) {
                /* only when it has entries (0750 until the first account) */
                md_os_walk(gdir, 0, repair_entry, &ctx);
            }
        }
        if (ctx.repaired > 0) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, APLOGNO(10632)
                         "repaired the ownership/modes of %d entries in %s", ctx.repaired,
                         gdir);
        }
    }
}

/* --- what the child still cannot use ------------------------------------------------- */

/* A problem of the store md-status shows on every MD (rt->store_notices). */
static void store_notice_add(md_mod_rt_t *rt, apr_status_t status, const char *problem,
                             const char *detail)
{
    md_result_t *notice = md_result_make(rt->p, status);

    md_result_problem_set(notice, status, problem, detail, NULL);
    if (!rt->store_notices) {
        rt->store_notices = apr_array_make(rt->p, 2, sizeof(md_result_t *));
    }
    APR_ARRAY_PUSH(rt->store_notices, md_result_t *) = notice;
}

#define CHILD_R 4
#define CHILD_W 2
#define CHILD_X 1

typedef struct {
    md_mod_rt_t *rt;
    server_rec *s;
    apr_pool_t *p;
    const char *gdir;           /* the group directory being looked at */
    int writes;                 /* the child writes in it */
    const char *path;           /* the first entry it cannot use, NULL none */
    const char *desc;           /* its owner and mode */
    int owned;                  /* it belongs to User */
} access_ctx;

/* A path the child cannot use after the repair: the log and md-status
 * (on every MD) say which and what to run. */
static void access_problem(access_ctx *ctx, const char *cannot, const char *fix)
{
    const char *detail;

    detail = apr_psprintf(ctx->p, "%s (%s): the child processes (User %s, Group %s) "
                          "cannot %s it; run: %s", ctx->path, ctx->desc,
                          md_os_child_user_name(ctx->p), md_os_child_group_name(ctx->p),
                          cannot, fix);
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, ctx->s, APLOGNO(10874)
                 "store permissions: %s", detail);
    store_notice_add(ctx->rt, APR_EACCES, "urn:org:apache:httpd:mod_md:store-permissions",
                     detail);
}

/* 1 if the child lacks some of need on path (remembered in ctx). */
static int child_lacks(access_ctx *ctx, const char *path, int need, int follow)
{
    const char *desc;
    int owned;

    if (md_os_child_lacks(path, need, follow, &desc, &owned, ctx->p) <= 0) return 0;
    ctx->path = path;
    ctx->desc = desc;
    ctx->owned = owned;
    return 1;
}

/* The first entry of dir (down to depth) the child cannot use: directories
 * need rwx where it writes (r-x elsewhere), files r. Links are skipped. */
static int group_lacks(access_ctx *ctx, const char *dir, int depth)
{
    int dneed = CHILD_R | CHILD_X | (ctx->writes ? CHILD_W : 0);
    apr_finfo_t info;
    apr_dir_t *d;
    const char *path;
    int found = 0;

    if (APR_SUCCESS != apr_dir_open(&d, dir, ctx->p)) return 0;
    while (!found && APR_SUCCESS == apr_dir_read(&info, APR_FINFO_TYPE | APR_FINFO_NAME,
                                                 d)) {
        if (!strcmp(".", info.name) || !strcmp("..", info.name)) {
            continue;
        }
        path = md_util_path_join(ctx->p, dir, info.name, NULL);
        if (APR_DIR == info.filetype) {
            found = child_lacks(ctx, path, dneed, 0)
                    || (depth > 0 && group_lacks(ctx, path, depth - 1));
        }
        else if (APR_REG == info.filetype) {
            found = child_lacks(ctx, path, CHILD_R, 0);
        }
    }
    apr_dir_close(d);
    return found;
}

static int dir_has_entries(const char *dir, apr_pool_t *p)
{
    apr_finfo_t info;
    apr_dir_t *d;
    int found = 0;

    if (APR_SUCCESS != apr_dir_open(&d, dir, p)) return 0;
    while (!found && APR_SUCCESS == apr_dir_read(&info, APR_FINFO_NAME, d)) {
        found = strcmp(".", info.name) && strcmp("..", info.name);
    }
    apr_dir_close(d);
    return found;
}

/* After the repair (which does what root may do safely): what the child
 * processes still cannot use of the store. A renewal would fail with
 * "Saving ... failed" and no word on why: the log (AH10874) and md-status
 * say which path and what to run (issue 13, item 16). */
static void check_child_access(md_mod_rt_t *rt, server_rec *s, apr_pool_t *p)
{
    static const md_store_group_t groups[] = {
        MD_SG_CHALLENGES, MD_SG_STAGING, MD_SG_OCSP, MD_SG_LIVE, MD_SG_ACCOUNTS,
    };
    const char *base = md_store_base_dir(rt->store), *prefix;
    access_ctx ctx;
    size_t i;
    int found = 0;

    memset(&ctx, 0, sizeof(ctx));
    ctx.rt = rt;
    ctx.s = s;
    ctx.p = p;
    /* every directory from / to the store must let the child pass */
    for (i = 1; base[0] == '/' && !found && i <= strlen(base); ++i) {
        if (base[i] != '/' && base[i] != '\0') {
            continue;
        }
        prefix = apr_pstrndup(p, base, i);
        found = child_lacks(&ctx, prefix, CHILD_X, 1);
    }
    if (found) {
        access_problem(&ctx, "pass through", strlen(ctx.path) == strlen(base)
                       ? apr_psprintf(p, "chmod 755 %s", base)
                       : apr_psprintf(p, "chmod a+x %s", ctx.path));
    }
    for (i = 0; i < MD_ARRAY_LEN(groups); ++i) {
        ctx.gdir = md_store_get_dir(rt->store, groups[i], NULL, p);
        ctx.writes = md_store_fs_child_writes(groups[i]);
        if (!ctx.gdir || !md_util_is_dir(ctx.gdir, p)) {
            continue;
        }
        if (!ctx.writes && !dir_has_entries(ctx.gdir, p)) {
            continue;               /* accounts/: 0750 until the first account */
        }
        if (!child_lacks(&ctx, ctx.gdir, CHILD_R | CHILD_X | (ctx.writes ? CHILD_W : 0), 0)
            && !group_lacks(&ctx, ctx.gdir, 1)) {
            continue;
        }
        if (ctx.writes) {
            access_problem(&ctx, "write", (!ctx.owned && md_os_is_root())
                           ? apr_psprintf(p, "chown -R %s %s", md_os_child_user_name(p),
                                          ctx.gdir)
                           : apr_psprintf(p, "chmod -R u+rwX %s", ctx.gdir));
        }
        else {
            access_problem(&ctx, "read", (!ctx.owned && md_os_is_root())
                           ? apr_psprintf(p, "chgrp -R %s %s && chmod -R g+rX %s",
                                          md_os_child_group_name(p), ctx.gdir, ctx.gdir)
                           : apr_psprintf(p, "chmod -R u+rX %s", ctx.gdir));
        }
    }
}

/* --- MDStoreGroup -------------------------------------------------------------------- */

typedef struct {
    apr_gid_t gid;
    int changed;
    int failed;
} group_ctx;

/* domains/ (met among the store's entries), its MD directories and their
 * files: group gid, dirs 0750, files 0640. */
static void group_entry(void *baton, const md_os_entry_t *e, const char *name)
{
    group_ctx *ctx = baton;
    int is_dir = md_os_entry_is_dir(e);
    apr_fileperms_t want = is_dir ? MD_FPROT_D_UALL_GREAD : MD_FPROT_F_UALL_GREAD;
    int done;

    (void)name;
    if (md_os_entry_gid(e) != ctx->gid) {
        done = md_os_entry_group_set(e, ctx->gid);
        ctx->changed += done;
        ctx->failed += !done;
    }
    if (md_os_entry_perms(e) != want) {
        done = md_os_entry_perms_set(e, want);
        ctx->changed += done;
        ctx->failed += !done;
    }
}

/* The store's entry "domains" alone. */
static void group_domains_dir(void *baton, const md_os_entry_t *e, const char *name)
{
    if (md_os_entry_is_dir(e) && !strcmp(md_store_group_name(MD_SG_DOMAINS), name)) {
        group_entry(baton, e, name);
    }
}

void md_init_store_group(md_mod_rt_t *rt, server_rec *s, apr_pool_t *p)
{
    md_mod_conf_t *mc = md_config_get_mod(rt->base_server);
    const char *dir;
    group_ctx ctx;

    if (!mc->store_group || !rt->store) return;
    memset(&ctx, 0, sizeof(ctx));
    ctx.gid = mc->store_gid;
    dir = md_store_base_dir(rt->store);
    if (!dir) return;           /* no local files to give a group */
    md_os_walk(dir, 0, group_domains_dir, &ctx);
    dir = md_store_get_dir(rt->store, MD_SG_DOMAINS, NULL, p);
    if (dir) {
        md_os_walk(dir, 1, group_entry, &ctx);
    }
    if (ctx.changed > 0 || ctx.failed > 0) {
        ap_log_error(APLOG_MARK, ctx.failed ? APLOG_WARNING : APLOG_INFO, 0, s,
                     APLOGNO(10760) "MDStoreGroup %s: %d changes of group or mode in %s "
                     "(%d not possible)", mc->store_group, ctx.changed, dir ? dir : "",
                     ctx.failed);
    }
}

/* --- opening the store ------------------------------------------------------------- */

/* 1 when an MD uses MDActivation live (live/ is made only then: a store
 * without it is what the original writes). */
static int any_live(const md_mod_rt_t *rt)
{
    int i;

    for (i = 0; rt->mds && i < rt->mds->nelts; ++i) {
        if (APR_ARRAY_IDX(rt->mds, i, const md_t *)->activation_live) return 1;
    }
    return 0;
}

/* md_store.json cannot be read as the store's file (a power loss left it
 * empty): it is set aside, never deleted, and the store starts with a new
 * key; what the old key encrypted is set aside after the store is open
 * (store_key_lost). APR_EINVAL when the file is not a case for that (a
 * newer store, permissions): the store then stays unusable. In the dry
 * run nothing is renamed and *pquiet says so. */
static apr_status_t store_rekey(md_mod_rt_t *rt, const init_settings *set, server_rec *s,
                                int *pquiet, const char **paside, apr_pool_t *p)
{
    const char *fname = md_util_path_join(p, set->store_dir, MD_FN_STORE_JSON, NULL);
    apr_status_t rv;

    *paside = NULL;
    if (!md_keyloss_store_file_corrupt(fname, p)) return APR_EINVAL;
    if (rt->dry_run) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10873)
                     "%s is corrupt: the start of the server sets it aside and makes a "
                     "new store key", fname);
        *pquiet = 1;
        return APR_EINVAL;
    }
    rv = md_keyloss_set_aside_file(paside, fname, apr_time_now(), p);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10871)
                     "%s is corrupt and could not be set aside", fname);
        return rv;
    }
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10870)
                 "%s is corrupt (no JSON with the store's key): set aside as %s, a new "
                 "store key is made. Account keys and staged keys encrypted with the old "
                 "key are set aside next and renewed; the certificates in domains/ keep "
                 "being served.", fname, *paside);
    return md_store_fs_open(&rt->store, rt->p, set->store_dir);
}

/* After a new store key: what the old one encrypted is set aside (never
 * removed), md-status and the log say what. */
static void store_key_lost(md_mod_rt_t *rt, const char *aside, server_rec *s,
                           apr_pool_t *p)
{
    apr_array_header_t *lines = apr_array_make(p, 5, sizeof(const char *));
    const char *list = NULL;
    int i;

    md_keyloss_set_aside(rt->store, lines, p);
    for (i = 0; i < lines->nelts; ++i) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10872)
                     "store key lost, encrypted with it: %s",
                     APR_ARRAY_IDX(lines, i, const char *));
        list = apr_pstrcat(p, list ? list : "", list ? "; " : "",
                           APR_ARRAY_IDX(lines, i, const char *), NULL);
    }
    store_notice_add(rt, APR_EINVAL, "urn:org:apache:httpd:mod_md:store-key-lost",
                     apr_psprintf(p, "md_store.json was corrupt and is set aside as %s, "
                                  "a new store key was made; set aside as encrypted "
                                  "with the old key: %s", aside, list ? list : "nothing"));
}

/* Opens the store and prepares its groups for the child. On failure
 * *pwhat says which step failed (rt->store may then be NULL; *pwhat NULL:
 * the dry run already said why). */
apr_status_t setup_store(md_mod_rt_t *rt, const init_settings *set, server_rec *s,
                         const char **pwhat, apr_pool_t *p)
{
    static const md_store_group_t child_groups[] = {
        MD_SG_CHALLENGES, MD_SG_STAGING, MD_SG_ACCOUNTS, MD_SG_OCSP, MD_SG_LIVE,
    };
    const char *aside = NULL;
    apr_shm_t *shm;
    apr_status_t rv;
    int quiet = 0;
    size_t i;

    *pwhat = "opening it";
    rv = md_store_fs_open(&rt->store, rt->p, set->store_dir);
    if (APR_STATUS_IS_EINVAL(rv)) {
        rv = store_rekey(rt, set, s, &quiet, &aside, p);
    }
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, quiet ? APLOG_DEBUG : APLOG_ERR, rv, s, APLOGNO(10046)
                     "setup store for %s", set->store_dir);
        rt->store = NULL;
        *pwhat = quiet ? NULL : *pwhat;
        return rv;
    }
    if (aside) {
        store_key_lost(rt, aside, s, p);
    }
    md_store_set_dir_cb(rt->store, store_dir_created, s);
    md_store_set_reader_group(rt->store, md_os_child_group());
    /* children (the watchdog, status requests) share one change counter */
    if (APR_SUCCESS == apr_shm_create(&shm, sizeof(apr_uint32_t), NULL, rt->p)) {
        rt->store_changes = apr_shm_baseaddr_get(shm);
        *rt->store_changes = 0;
        md_store_set_change_counter(rt->store, rt->store_changes);
    }
    *pwhat = "preparing its directories for the child processes";
    for (i = 0; i < MD_ARRAY_LEN(child_groups); ++i) {
        if (MD_SG_LIVE == child_groups[i] && !any_live(rt)) {
            continue;
        }
        rv = md_store_make_dir(rt->store, child_groups[i], NULL, p);
        if (APR_SUCCESS != rv) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10047)
                         "setup challenges directory");
            return rv;
        }
        rv = store_dir_created(s, p, child_groups[i],
                               md_store_get_dir(rt->store, child_groups[i], NULL, p));
        if (APR_SUCCESS != rv) return rv;
    }
    repair_store(rt, s, p);
    if (!rt->dry_run) {
        check_child_access(rt, s, p);
    }
    return APR_SUCCESS;
}

/* The store cannot be used: the server starts anyway with what domains/
 * holds (fallbacks outside the store), renews nothing and says so loudly
 * (AH10630, md-status, the watchdog's AH10631). */
void store_unusable(md_mod_rt_t *rt, const init_settings *set, server_rec *s,
                    apr_status_t rv, const char *what)
{
    char buf[256];

    rt->store_error = apr_psprintf(rt->p, "the store %s is not usable (%s failed: %s)",
                                   set->store_dir, what ? what : "opening it",
                                   apr_strerror(rv, buf, sizeof(buf)));
    if (what) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10630)
                     "%s. Serving the certificates that domains/ holds, renewing "
                     "nothing, until the store is repaired and the server restarted.",
                     rt->store_error);
    }
    if (!rt->store) {
        md_store_fs_open_readonly(&rt->store, rt->p, set->store_dir);
    }
}

/* With an unusable store: the MDs' states from what domains/ holds, and
 * fallback certificates (where needed) outside the store. */
void serve_as_is(md_mod_rt_t *rt, apr_pool_t *ptemp)
{
    md_t *md;
    int i;

    md_reg_set_fallback_dir(rt->reg, ap_runtime_dir_relative(rt->p, "md-fallback"));
    for (i = 0; i < rt->mds->nelts; ++i) {
        md = APR_ARRAY_IDX(rt->mds, i, md_t *);
        md_reg_forget(rt->reg, md);
        md_reg_assess(rt->reg, md, ptemp);
    }
}
