/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The file backend of the store (contract.md 1): <group>/<name>/<aspect>
 * below MDStoreDir. This file: the groups' modes, paths, directories,
 * md_store.json with the version and the key that encrypts private keys,
 * migration of older stores, opening and the table of operations. Values,
 * moves and lists are in md_store_fs_data.c, locks in md_store_fs_lock.c.
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

/* Legacy file names of store version 1 (contract.md 1.3). */
#define MD_FN_V1_PKEY           "pkey.pem"
#define MD_FN_V1_CERT           "cert.pem"
#define MD_FN_V1_CHAIN          "chain.pem"

/* --- groups -------------------------------------------------------------------- */

void md_store_fs_group_perms(md_store_group_t group, apr_fileperms_t *pdir_perms,
                             apr_fileperms_t *pfile_perms)
{
    switch (group) {
        case MD_SG_ACCOUNTS:
        case MD_SG_STAGING:
        case MD_SG_CHALLENGES:
        case MD_SG_OCSP:
        case MD_SG_LIVE:
            *pdir_perms = MD_FPROT_D_UALL_WREAD;
            *pfile_perms = MD_FPROT_F_UALL_WREAD;
            break;
        default:
            *pdir_perms = MD_FPROT_D_UONLY;
            *pfile_perms = MD_FPROT_F_UONLY;
            break;
    }
}

int md_store_fs_child_writes(md_store_group_t group)
{
    return MD_SG_CHALLENGES == group || MD_SG_STAGING == group || MD_SG_OCSP == group
           || MD_SG_LIVE == group;
}

int md_store_fs_group_encrypts(md_store_group_t group)
{
    switch (group) {
        case MD_SG_DOMAINS:
        case MD_SG_CHALLENGES:
        case MD_SG_TMP:
            return 0;
        default:
            return 1;
    }
}

/* --- paths ----------------------------------------------------------------------- */

/* A name or aspect must be one plain path segment: names come from
 * configurations and CAs and must never reach outside their directory. */
int md_store_fs_is_segment(const char *s)
{
    return s && *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

apr_status_t md_store_fs_bad_segment(apr_pool_t *p, const char *what, const char *s)
{
    md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p,
                  "AH10967: store: invalid %s '%s' (must be a plain file name)",
                  what, s ? s : "(null)");
    return APR_EINVAL;
}

apr_status_t md_store_fs_get_dir(const char **pdir, md_store_t *store,
                                 md_store_group_t group, const char *name, apr_pool_t *p)
{
    const char *gname = md_store_group_name(group);

    *pdir = NULL;
    if (!gname) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p,
                      "AH10968: store: invalid group %d", (int)group);
        return APR_EINVAL;
    }
    if (MD_SG_NONE == group) {
        if (name && *name) return md_store_fs_bad_segment(p, "name for the top level", name);
        *pdir = FS(store)->base;
    }
    else if (!name) {
        *pdir = FS(store)->group_dirs[group] ? FS(store)->group_dirs[group]
                                         : md_util_path_join(p, FS(store)->base, gname, NULL);
    }
    else if (!md_store_fs_is_segment(name)) {
        return md_store_fs_bad_segment(p, "name", name);
    }
    else if (FS(store)->group_dirs[group]) {
        *pdir = md_util_path_join(p, FS(store)->group_dirs[group], name, NULL);
    }
    else {
        *pdir = md_util_path_join(p, FS(store)->base, gname, name, NULL);
    }
    return APR_SUCCESS;
}

void md_store_fs_set_group_dir(md_store_t *store, md_store_group_t group, const char *dir)
{
    if (store->ops == &md_store_fs_ops && group > MD_SG_NONE && group < MD_SG_COUNT) {
        FS(store)->group_dirs[group] = dir ? apr_pstrdup(store->p, dir) : NULL;
    }
}

apr_status_t md_store_fs_get_fname(const char **pfname, md_store_t *store,
                                   md_store_group_t group, const char *name,
                                   const char *aspect, apr_pool_t *p)
{
    const char *dir;
    apr_status_t rv;

    *pfname = NULL;
    rv = md_store_fs_get_dir(&dir, store, group, name, p);
    if (APR_SUCCESS != rv) return rv;
    if (!aspect) {
        *pfname = dir;
    }
    else if (!md_store_fs_is_segment(aspect)) {
        return md_store_fs_bad_segment(p, "aspect", aspect);
    }
    else {
        *pfname = md_util_path_join(p, dir, aspect, NULL);
    }
    return APR_SUCCESS;
}

int md_store_fs_is_readonly(const md_store_t *store)
{
    return store->ops == &md_store_fs_ops && FS(store)->readonly;
}

/* --- durability ------------------------------------------------------------------- */

static apr_status_t fs_sync(md_store_t *store)
{
    if (FS(store)->readonly) return APR_SUCCESS;
    return md_util_syncfs(FS(store)->base);
}

static apr_status_t fs_sync_dir(md_store_t *store, md_store_group_t group,
                                const char *name, apr_pool_t *p)
{
    const char *dir;
    apr_status_t rv;

    if (FS(store)->readonly) return APR_SUCCESS;
    rv = md_store_fs_get_dir(&dir, store, group, name, p);
    return (APR_SUCCESS == rv) ? md_util_fsync_dir(dir, p) : rv;
}

/* --- directories ------------------------------------------------------------------- */

/* 1 if dir is a directory; with nofollow a link to one is not. */
static int is_dir(const char *dir, int nofollow, apr_pool_t *p)
{
    apr_finfo_t info;

    return APR_SUCCESS == apr_stat(&info, dir, APR_FINFO_TYPE
                                   | (nofollow ? APR_FINFO_LINK : 0), p)
           && APR_DIR == info.filetype;
}

/* Creates dir if missing and sets the group's mode. The dir callback runs
 * when the directory was created, or always with force_cb. A directory that
 * exists but belongs to someone else keeps its mode (chmod is not ours).
 * Where the child writes, a link is no directory: root would chmod (and the
 * dir callback chown) what it points to. */
static apr_status_t mk_dir(md_store_t *store, md_store_group_t group, const char *dir,
                           int force_cb, apr_pool_t *p)
{
    apr_fileperms_t dperms, fperms;
    int nofollow = md_store_fs_child_writes(group);
    int existed = is_dir(dir, nofollow, p);
    apr_status_t rv = APR_SUCCESS;

    md_store_fs_group_perms(group, &dperms, &fperms);
    if (!existed) {
        rv = apr_dir_make(dir, dperms, p);
        if (APR_STATUS_IS_EEXIST(rv) && is_dir(dir, nofollow, p)) {
            rv = APR_SUCCESS;
        }
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10969: store: unable to create "
                          "directory %s%s", dir, APR_STATUS_IS_EEXIST(rv) ? " (something "
                          "else, a link or a file, is there)" : "");
            return rv;
        }
    }
    rv = nofollow ? md_util_perms_set_nofollow(dir, dperms)
                  : apr_file_perms_set(dir, dperms);
    if (APR_STATUS_IS_ENOTIMPL(rv)) {
        rv = APR_SUCCESS;
    }
    if (APR_SUCCESS != rv && existed) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p,
                      "AH10970: store: unable to set mode %04x on %s", (unsigned)dperms, dir);
        rv = APR_SUCCESS;
    }
    if (APR_SUCCESS == rv && store->dir_cb && (!existed || force_cb)) {
        rv = store->dir_cb(store->dir_cb_baton, p, group, dir);
    }
    return rv;
}

apr_status_t md_store_fs_ensure_dirs(md_store_t *store, md_store_group_t group,
                                     const char *name, int force_cb, apr_pool_t *p)
{
    const char *gdir, *ndir;
    apr_status_t rv;

    rv = md_store_fs_get_dir(&ndir, store, group, name, p);
    if (APR_SUCCESS != rv || MD_SG_NONE == group) return rv;
    rv = md_store_fs_get_dir(&gdir, store, group, NULL, p);
    if (APR_SUCCESS != rv) return rv;
    rv = mk_dir(store, group, gdir, force_cb && !name, p);
    if (APR_SUCCESS != rv || !name) return rv;
    return mk_dir(store, group, ndir, force_cb, p);
}

/* The start-up check of a group directory: created 0750 when missing, an
 * existing one keeps its mode until something is saved in it (the original
 * shows accounts/ and ocsp/ as 0750 until first used). */
static apr_status_t check_group_dir(md_store_t *store, md_store_group_t group,
                                    apr_pool_t *p)
{
    const char *gdir;
    apr_status_t rv;

    rv = md_store_fs_get_dir(&gdir, store, group, NULL, p);
    if (APR_SUCCESS != rv) return rv;
    if (!md_util_is_dir(gdir, p)) {
        rv = apr_dir_make(gdir, MD_FPROT_D_UALL_GREAD, p);
        if (APR_STATUS_IS_EEXIST(rv) && md_util_is_dir(gdir, p)) {
            rv = APR_SUCCESS;
        }
        if (APR_SUCCESS == rv) {
            rv = apr_file_perms_set(gdir, MD_FPROT_D_UALL_GREAD);
        }
        if (APR_STATUS_IS_ENOTIMPL(rv)) {
            rv = APR_SUCCESS;
        }
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                          "AH10971: store: unable to create directory %s", gdir);
            return rv;
        }
    }
    return store->dir_cb ? store->dir_cb(store->dir_cb_baton, p, group, gdir)
                         : APR_SUCCESS;
}

static apr_status_t fs_make_dir(md_store_t *store, md_store_group_t group,
                                const char *name, apr_pool_t *p)
{
    RO_CHECK(store);
    if (!name && MD_SG_NONE != group) return check_group_dir(store, group, p);
    return md_store_fs_ensure_dirs(store, group, name, 1, p);
}

/* --- md_store.json: reading, creating, migrating ---------------------------------------- */

static apr_status_t create_store_file(md_store_t *store, const char *fname,
                                      apr_pool_t *p)
{
    unsigned char key[MD_STORE_KEY_LEN];
    md_json_t *json;
    apr_status_t rv;

    rv = md_rand_bytes(key, sizeof(key), p);
    if (APR_SUCCESS != rv) goto leave;
    json = md_json_create(p);
    md_json_setn(MD_STORE_VERSION, json, MD_KEY_STORE, MD_KEY_VERSION, NULL);
    md_json_sets(md_util_base64url_encode((const char *)key, sizeof(key), p),
                 json, MD_KEY_KEY, NULL);
    rv = md_json_fcreatex(json, p, MD_JSON_FMT_INDENT, fname, MD_STORE_FILE_PERMS);
    if (APR_SUCCESS != rv) goto leave;
    FS(store)->key.data = apr_pmemdup(store->p, key, sizeof(key));
    FS(store)->key.len = sizeof(key);
leave:
    memset(key, 0, sizeof(key));
    return rv;
}

/* Renames <dir>/<name>/pkey.pem to privkey.pem (unless that exists). */
static int migrate_pkey_cb(void *baton, apr_pool_t *p, const char *dir,
                           const char *name, apr_filetype_e ftype)
{
    apr_status_t *prv = baton, rv;
    const char *from, *to;

    if (APR_DIR != ftype) return 1;
    from = md_util_path_join(p, dir, name, MD_FN_V1_PKEY, NULL);
    to = md_util_path_join(p, dir, name, MD_FN_PRIVKEY, NULL);
    if (md_util_is_file(from, p) && !md_util_is_file(to, p)) {
        rv = apr_file_rename(from, to, p);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                          "AH10972: store migration: renaming %s to %s", from, to);
            *prv = rv;
        }
    }
    return 1;
}

/* Writes <dir>/<name>/pubcert.pem from cert.pem + chain.pem when missing. */
static int migrate_pubcert_cb(void *baton, apr_pool_t *p, const char *dir,
                              const char *name, apr_filetype_e ftype)
{
    apr_status_t *prv = baton, rv;
    apr_array_header_t *certs, *chain;
    const char *cert_fn, *chain_fn, *pub_fn;

    if (APR_DIR != ftype) return 1;
    cert_fn = md_util_path_join(p, dir, name, MD_FN_V1_CERT, NULL);
    chain_fn = md_util_path_join(p, dir, name, MD_FN_V1_CHAIN, NULL);
    pub_fn = md_util_path_join(p, dir, name, MD_FN_PUBCERT, NULL);
    if (md_util_is_file(pub_fn, p) || !md_util_is_file(cert_fn, p)) return 1;
    rv = md_chain_fload(&certs, p, cert_fn);
    if (APR_SUCCESS == rv && md_util_is_file(chain_fn, p)) {
        rv = md_chain_fload(&chain, p, chain_fn);
        if (APR_SUCCESS == rv) {
            apr_array_cat(certs, chain);
        }
    }
    if (APR_SUCCESS == rv) {
        rv = md_chain_fsave(certs, p, pub_fn, MD_FPROT_F_UONLY);
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "AH10973: store migration: writing %s", pub_fn);
        *prv = rv;
    }
    return 1;
}

static apr_status_t migrate_dirs(md_store_t *store, md_store_group_t group,
                                 md_util_dir_cb *cb, apr_pool_t *p)
{
    apr_status_t rv, rv_entries = APR_SUCCESS;
    const char *gdir;

    rv = md_store_fs_get_dir(&gdir, store, group, NULL, p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_util_dir_do(cb, &rv_entries, p, gdir, NULL);
    if (APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_ENOTDIR(rv)) {
        rv = APR_SUCCESS;
    }
    return (APR_SUCCESS == rv) ? rv_entries : rv;
}

static apr_status_t migrate_v1(md_store_t *store, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    int g;

    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "migrating store v1 -> v2");
    for (g = MD_SG_NONE + 1; g < MD_SG_COUNT && APR_SUCCESS == rv; ++g) {
        rv = migrate_dirs(store, (md_store_group_t)g, migrate_pkey_cb, p);
    }
    if (APR_SUCCESS == rv) {
        rv = migrate_dirs(store, MD_SG_DOMAINS, migrate_pubcert_cb, p);
    }
    if (APR_SUCCESS == rv) {
        rv = migrate_dirs(store, MD_SG_ARCHIVE, migrate_pubcert_cb, p);
    }
    return rv;
}

static apr_status_t migrate(md_store_t *store, md_json_t *json, double version,
                            const char *fname, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;

    if (version <= 1.0) {
        rv = migrate_v1(store, p);
    }
    if (APR_SUCCESS != rv) goto leave;
    if (version <= 2.0) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "migrating store v2 -> v3");
        md_json_del(json, MD_KEY_VERSION, NULL);
    }
    md_json_setn(MD_STORE_VERSION, json, MD_KEY_STORE, MD_KEY_VERSION, NULL);
    rv = md_json_freplace(json, p, MD_JSON_FMT_INDENT, fname, MD_STORE_FILE_PERMS);
    if (APR_SUCCESS != rv) goto leave;
    md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "migrated store");
leave:
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "AH10974: migrating store %s from version %f failed", FS(store)->base, version);
    }
    return rv;
}

/* Checks version and key of a parsed md_store.json (contract.md 1.6). */
static apr_status_t read_store_json(md_store_t *store, md_json_t *json,
                                    double *pversion, apr_pool_t *p)
{
    double version = md_json_getn(json, MD_KEY_STORE, MD_KEY_VERSION, NULL);
    const char *key64 = md_json_gets(json, MD_KEY_KEY, NULL);
    md_data_t key;
    apr_status_t rv;

    if (version <= 0.0) {
        version = 1.0;
    }
    *pversion = version;
    if (version > MD_STORE_VERSION) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, 0, p, "version too new: %f", version);
        return APR_EINVAL;
    }
    if (!key64) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, 0, p, "missing key: %s", MD_KEY_KEY);
        return APR_EINVAL;
    }
    rv = md_util_base64url_decode(&key, key64, store->p);
    if (APR_SUCCESS == rv && MD_STORE_KEY_LEN != key.len) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, 0, p, "key length unexpected: %lu",
                      (unsigned long)key.len);
        rv = APR_EINVAL;
    }
    if (APR_SUCCESS == rv) {
        FS(store)->key = key;
    }
    return rv;
}

static apr_status_t setup_store_file(md_store_t *store, apr_pool_t *p)
{
    const char *fname = md_util_path_join(p, FS(store)->base, MD_FN_STORE_JSON, NULL);
    md_json_t *json;
    double version = MD_STORE_VERSION;
    apr_status_t rv;

    rv = md_json_readf(&json, p, fname);
    if (APR_STATUS_IS_ENOENT(rv)) {
        rv = create_store_file(store, fname, p);
        if (!APR_STATUS_IS_EEXIST(rv)) return rv;
        /* someone else was quicker: use theirs */
        rv = md_json_readf(&json, p, fname);
    }
    if (APR_SUCCESS == rv) {
        rv = read_store_json(store, json, &version, p);
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "The central store file "
            "md/md_store.json seems to exist, but its content are not readable as "
            "JSON. Either it got somehow corrupted or the store directory was "
            "configured for a location with a foreign md_store.json file. Either way, "
            "it is unclear how to proceeed. You should either restore the correct "
            "file/location or clean the directory so it gets initialized again.");
        return rv;
    }
    if (version < MD_STORE_VERSION) {
        rv = migrate(store, json, version, fname, p);
    }
    return rv;
}

static apr_status_t setup_base_dir(const char *path, apr_pool_t *p)
{
    apr_finfo_t info;
    apr_status_t rv;

    rv = apr_stat(&info, path, APR_FINFO_TYPE | APR_FINFO_LINK, p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, rv, p,
                      "store directory does not exist, creating %s", path);
        return md_util_mkdir(path, MD_STORE_DIR_PERMS, p);
    }
    if (APR_SUCCESS == rv && APR_DIR != info.filetype) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p,
                      "not a plain directory, maybe a symlink? %s", path);
    }
    return APR_SUCCESS;
}

const md_store_ops_t md_store_fs_ops = {
    "fs",
    md_store_fs_load,
    md_store_fs_save,
    md_store_fs_remove,
    md_store_fs_exists,
    md_store_fs_get_modified,
    md_store_fs_purge,
    md_store_fs_move,
    md_store_fs_rename,
    md_store_fs_list_names,
    md_store_fs_list_aspects,
    md_store_fs_lock_global,
    md_store_fs_unlock_global,
    md_store_fs_lock_name,
    md_store_fs_unlock_name,
    fs_make_dir,
    fs_sync,
    fs_sync_dir,
    md_store_fs_get_fname,
    md_store_fs_server_mark,
    md_store_fs_server_running,
};

/* A file store at path in p, not set up yet. */
static md_store_t *fs_make(apr_pool_t *p, const char *path)
{
    md_store_fs_t *fs = apr_pcalloc(p, sizeof(*fs));

    fs->base = apr_pstrdup(p, path);
    return md_store_make(p, &md_store_fs_ops, fs);
}

apr_status_t md_store_fs_open(md_store_t **pstore, apr_pool_t *p, const char *path)
{
    md_store_t *store = NULL;
    apr_pool_t *ptemp = NULL;
    apr_status_t rv;

    if (!path || !*path) {
        rv = APR_EINVAL;
        goto leave;
    }
    rv = apr_pool_create(&ptemp, p);
    if (APR_SUCCESS != rv) goto leave;
    store = fs_make(p, path);
    rv = setup_base_dir(FS(store)->base, ptemp);
    if (APR_SUCCESS != rv) goto leave;
    rv = setup_store_file(store, ptemp);
leave:
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "init fs store at %s",
                      path ? path : "(null)");
    }
    if (ptemp) {
        apr_pool_destroy(ptemp);
    }
    *pstore = (APR_SUCCESS == rv) ? store : NULL;
    return rv;
}

apr_status_t md_store_fs_open_readonly(md_store_t **pstore, apr_pool_t *p,
                                       const char *path)
{
    md_store_t *store = fs_make(p, path ? path : "");

    FS(store)->readonly = 1;
    *pstore = store;
    return APR_SUCCESS;
}
