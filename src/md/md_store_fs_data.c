/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The file backend's values (<group>/<name>/<aspect> files, written
 * atomically with the group's modes), purging, moving with archive
 * numbering, renaming and the lists the iterations run on.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_file_info.h>

#include "md.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_util.h"
#include "md_store.h"
#include "md_store_fs_int.h"

/* --- values ------------------------------------------------------------------------- */

apr_status_t md_store_fs_load(md_store_t *store, md_store_group_t group,
                              const char *name, const char *aspect,
                              md_store_vtype_t vtype, void **pvalue, apr_pool_t *p)
{
    const char *fname, *text;
    apr_size_t len;
    apr_finfo_t info;
    void *value = NULL;
    apr_status_t rv;
    int flags;

    if (pvalue) {
        *pvalue = NULL;
    }
    if (!aspect) return APR_EINVAL;
    rv = md_store_fs_get_fname(&fname, store, group, name, aspect, p);
    if (APR_SUCCESS != rv) return rv;
    rv = apr_stat(&info, fname, APR_FINFO_TYPE | APR_FINFO_LINK, p);
    if (APR_SUCCESS != rv) return rv;
    /* what the child processes can write, the parent reads as it is: a link
     * there (to /etc/shadow, to a FIFO) is refused, not followed */
    flags = md_store_fs_child_writes(group) ? MD_FREAD_NOFOLLOW : 0;
    switch (vtype) {
        case MD_SV_TEXT:
            rv = md_util_fread(&text, &len, fname, MD_STORE_TEXT_MAX, flags, p);
            value = (void *)text;
            break;
        case MD_SV_JSON:
            rv = md_json_readfx((md_json_t **)&value, p, fname, flags);
            break;
        case MD_SV_PKEY:
            /* keys in plain groups simply ignore the passphrase */
            rv = md_pkey_floadx((md_pkey_t **)&value, p, FS(store)->key.data,
                                FS(store)->key.len, fname, flags);
            break;
        case MD_SV_CHAIN:
            rv = md_chain_floadx((apr_array_header_t **)&value, p, fname, flags);
            break;
        default:
            rv = APR_EINVAL;
            break;
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "AH10975: store: loading %s", fname);
    }
    else if (pvalue) {
        *pvalue = value;
    }
    return rv;
}

/* The file content of a value: JSON indented, keys as PKCS#8 PEM
 * (encrypted in the groups that encrypt), chains as PEM. */
static apr_status_t value_text(const char **ptext, md_store_t *store,
                               md_store_group_t group, md_store_vtype_t vtype,
                               void *value, apr_pool_t *p)
{
    *ptext = NULL;
    switch (vtype) {
        case MD_SV_TEXT:
            *ptext = value;
            return APR_SUCCESS;
        case MD_SV_JSON:
            *ptext = md_json_writep(value, p, MD_JSON_FMT_INDENT);
            return *ptext ? APR_SUCCESS : APR_EINVAL;
        case MD_SV_PKEY:
            if (md_store_fs_group_encrypts(group)) {
                return md_pkey_to_pem(ptext, value, p, FS(store)->key.data, FS(store)->key.len);
            }
            return md_pkey_to_pem(ptext, value, p, NULL, 0);
        case MD_SV_CHAIN:
            return md_chain_to_pem(ptext, value, p);
        default:
            return APR_EINVAL;
    }
}

apr_status_t md_store_fs_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                              const char *name, const char *aspect,
                              md_store_vtype_t vtype, void *value, int create)
{
    apr_fileperms_t dperms, fperms;
    const char *fname, *text;
    apr_gid_t gid = (apr_gid_t)-1;
    apr_status_t rv;
    int flags = store->sync_deferred ? MD_FWRITE_NOSYNC : 0;

    RO_CHECK(store);
    if (!aspect || !value) return APR_EINVAL;
    rv = md_store_fs_get_fname(&fname, store, group, name, aspect, p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_store_fs_ensure_dirs(store, group, name, 0, p);
    if (APR_SUCCESS != rv) return rv;
    md_store_fs_group_perms(group, &dperms, &fperms);
    if (MD_SV_PKEY == vtype && !md_store_fs_group_encrypts(group)) {
        fperms = MD_STORE_PLAIN_KEY_PERMS;
    }
    if (MD_SV_JSON == vtype && (fperms & APR_FPROT_WREAD)
        && md_store_json_has_secret(value)) {
        /* an EAB hmac or a proxy password: for the child only, not for
         * every local user (the original wrote these 0644) */
        fperms = MD_FPROT_F_UALL_GREAD;
        gid = store->reader_gid;
    }
    if (create && (MD_SV_PKEY == vtype || MD_SV_CHAIN == vtype)
        && md_store_fs_exists(store, group, name, aspect, p)) {
        rv = APR_EEXIST;
        goto leave;
    }
    if (create && (MD_SV_TEXT == vtype || MD_SV_JSON == vtype)) {
        flags |= MD_FWRITE_EXCL;
    }
    rv = value_text(&text, store, group, vtype, value, p);
    if (APR_SUCCESS == rv) {
        rv = md_util_fwrite_group(fname, fperms, gid, text, flags, p);
    }
leave:
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, APR_STATUS_IS_EEXIST(rv) ? MD_LOG_DEBUG : MD_LOG_ERR,
                      rv, p, "AH10976: store: saving %s", fname);
    }
    return rv;
}


apr_status_t md_store_fs_remove(md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p,
                                int force)
{
    const char *fname;
    apr_status_t rv;

    RO_CHECK(store);
    if (!aspect) return APR_EINVAL;
    rv = md_store_fs_get_fname(&fname, store, group, name, aspect, p);
    if (APR_SUCCESS != rv) return rv;
    rv = apr_file_remove(fname, p);
    if (force && (APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_ENOTDIR(rv))) {
        rv = APR_SUCCESS;
    }
    return rv;
}


int md_store_fs_exists(md_store_t *store, md_store_group_t group, const char *name,
                       const char *aspect, apr_pool_t *p)
{
    const char *fname;
    apr_finfo_t info;

    if (APR_SUCCESS != md_store_fs_get_fname(&fname, store, group, name, aspect, p)) {
        return 0;
    }
    return APR_SUCCESS == apr_stat(&info, fname, APR_FINFO_TYPE, p);
}

apr_time_t md_store_fs_get_modified(md_store_t *store, md_store_group_t group,
                                    const char *name, const char *aspect,
                                    apr_pool_t *p)
{
    const char *fname;
    apr_finfo_t info;

    if (APR_SUCCESS != md_store_fs_get_fname(&fname, store, group, name, aspect, p)
        || APR_SUCCESS != apr_stat(&info, fname, APR_FINFO_MTIME, p)) {
        return 0;
    }
    return info.mtime;
}

/* --- purging ----------------------------------------------------------------------- */

apr_status_t md_store_fs_purge(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                               const char *name)
{
    const char *dir;
    apr_status_t rv;

    RO_CHECK(store);
    if (MD_SG_NONE == group || !name) return APR_EINVAL;
    rv = md_store_fs_get_dir(&dir, store, group, name, p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_util_rm_recursive(dir, p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10977: store: purging %s", dir);
    }
    return rv;
}


/* --- moving ------------------------------------------------------------------------- */

/* Renames dir (an existing <to>/<name>) to archive/<name>.N. */
static apr_status_t archive_dir(md_store_t *store, const char *dir, const char *name,
                                const char *from_dir, apr_pool_t *p)
{
    const char *adir, *target = NULL;
    apr_finfo_t info;
    apr_status_t rv;
    int n;

    rv = md_store_fs_ensure_dirs(store, MD_SG_ARCHIVE, NULL, 0, p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_store_fs_get_dir(&adir, store, MD_SG_ARCHIVE, name, p);
    if (APR_SUCCESS != rv) return rv;
    for (n = 1; n <= MD_STORE_ARCHIVE_MAX && !target; ++n) {
        const char *candidate = apr_psprintf(p, "%s.%d", adir, n);

        if (APR_STATUS_IS_ENOENT(apr_stat(&info, candidate, APR_FINFO_TYPE
                                          | APR_FINFO_LINK, p))) {
            target = candidate;
        }
    }
    if (!target) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, 0, p, "ran out of numbers less than 1000 "
                      "while looking for an available one in %s to archive the data "
                      "from %s. Either something is generally wrong or you need to "
                      "clean up some of those directories.", adir, from_dir);
        return APR_EGENERAL;
    }
    rv = apr_file_rename(dir, target, p);
    md_log_perror(MD_LOG_MARK, (APR_SUCCESS == rv) ? MD_LOG_DEBUG : MD_LOG_ERR, rv, p,
                  "AH10978: store: archiving %s to %s", dir, target);
    return rv;
}

apr_status_t md_store_fs_move(md_store_t *store, apr_pool_t *p, md_store_group_t from,
                              md_store_group_t to, const char *name, int archive)
{
    const char *from_dir, *to_dir;
    apr_fileperms_t dperms, fperms;
    apr_status_t rv;

    RO_CHECK(store);
    if (MD_SG_NONE == from || MD_SG_NONE == to || from == to || !name) {
        return APR_EINVAL;
    }
    rv = md_store_fs_get_dir(&from_dir, store, from, name, p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_store_fs_get_dir(&to_dir, store, to, name, p);
    if (APR_SUCCESS != rv) return rv;
    if (!md_util_is_dir(from_dir, p)) return APR_ENOENT;
    rv = md_store_fs_ensure_dirs(store, to, NULL, 0, p);
    if (APR_SUCCESS != rv) return rv;
    if (md_util_is_dir(to_dir, p)) {
        rv = archive ? archive_dir(store, to_dir, name, from_dir, p)
                     : md_util_rm_recursive(to_dir, p);
        if (APR_SUCCESS != rv) goto leave;
    }
    rv = apr_file_rename(from_dir, to_dir, p);
    if (APR_SUCCESS != rv) goto leave;
    md_store_fs_group_perms(to, &dperms, &fperms);
    apr_file_perms_set(to_dir, dperms);
    if (store->dir_cb) {
        rv = store->dir_cb(store->dir_cb_baton, p, to, to_dir);
    }
leave:
    md_log_perror(MD_LOG_MARK, (APR_SUCCESS == rv) ? MD_LOG_DEBUG : MD_LOG_ERR, rv, p,
                  "AH10979: store: moving %s to %s", from_dir, to_dir);
    return rv;
}


apr_status_t md_store_fs_rename(md_store_t *store, apr_pool_t *p,
                                md_store_group_t group, const char *from,
                                const char *to)
{
    const char *from_dir, *to_dir;
    apr_finfo_t info;
    apr_status_t rv;

    RO_CHECK(store);
    if (MD_SG_NONE == group || !from || !to) return APR_EINVAL;
    rv = md_store_fs_get_dir(&from_dir, store, group, from, p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_store_fs_get_dir(&to_dir, store, group, to, p);
    if (APR_SUCCESS != rv) return rv;
    if (!md_util_is_dir(from_dir, p)) return APR_ENOENT;
    if (APR_SUCCESS == apr_stat(&info, to_dir, APR_FINFO_TYPE | APR_FINFO_LINK, p)) {
        return APR_EEXIST;
    }
    rv = apr_file_rename(from_dir, to_dir, p);
    md_log_perror(MD_LOG_MARK, (APR_SUCCESS == rv) ? MD_LOG_DEBUG : MD_LOG_ERR, rv, p,
                  "AH10980: store: renaming %s to %s", from_dir, to_dir);
    return rv;
}


/* --- lists ------------------------------------------------------------------------- */

typedef struct {
    apr_filetype_e ftype;       /* names are directories, aspects files */
    md_store_names_cb *cb;
    void *baton;
} list_ctx;

static int list_cb(void *baton, apr_pool_t *p, const char *dir, const char *name,
                   apr_filetype_e ftype)
{
    list_ctx *ctx = baton;

    (void)dir;
    if (ctx->ftype != ftype) return 1;
    return ctx->cb(ctx->baton, name, p);
}

/* The entries of type ftype in <group>/<name> (name NULL: in <group>). */
static apr_status_t list_dir(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                             const char *name, const char *pattern,
                             apr_filetype_e ftype, md_store_names_cb *cb, void *baton)
{
    list_ctx ctx;
    const char *dir;
    apr_status_t rv;

    if (MD_SG_NONE == group) return APR_EINVAL;
    rv = md_store_fs_get_dir(&dir, store, group, name, p);
    if (APR_SUCCESS != rv) return rv;
    ctx.ftype = ftype;
    ctx.cb = cb;
    ctx.baton = baton;
    rv = md_util_dir_do(list_cb, &ctx, p, dir, pattern);
    return (APR_STATUS_IS_ENOENT(rv)) ? APR_SUCCESS : rv;
}

apr_status_t md_store_fs_list_names(md_store_t *store, apr_pool_t *p,
                                    md_store_group_t group, const char *pattern,
                                    md_store_names_cb *cb, void *baton)
{
    return list_dir(store, p, group, NULL, pattern, APR_DIR, cb, baton);
}

apr_status_t md_store_fs_list_aspects(md_store_t *store, apr_pool_t *p,
                                      md_store_group_t group, const char *name,
                                      const char *pattern, md_store_names_cb *cb,
                                      void *baton)
{
    if (!name) return APR_EINVAL;
    return list_dir(store, p, group, name, pattern, APR_REG, cb, baton);
}
