/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The store on the file system (contract.md 1): <group>/<name>/<aspect>
 * below MDStoreDir, md_store.json with the version and the key that
 * encrypts private keys, migration of older stores, the modes of 1.7,
 * archive numbering on moves and the global lock file.
 */
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_fnmatch.h>

#include "md.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_util.h"
#include "md_store.h"
#include "md_store_fs.h"

/* Text values (challenge answers) are small; refuse anything huge. */
#define MD_STORE_TEXT_MAX       (1024 * 1024)
/* Archive directories NAME.N use N in 1..MD_STORE_ARCHIVE_MAX. */
#define MD_STORE_ARCHIVE_MAX    999
/* Legacy file names of store version 1 (contract.md 1.3). */
#define MD_FN_V1_PKEY           "pkey.pem"
#define MD_FN_V1_CERT           "cert.pem"
#define MD_FN_V1_CHAIN          "chain.pem"

struct md_store_t {
    apr_pool_t *p;
    const char *base;           /* the store directory */
    md_data_t key;              /* raw passphrase, MD_STORE_KEY_LEN bytes */
    md_store_dir_cb *dir_cb;
    void *dir_cb_baton;
    apr_uint32_t *changes;      /* counter of changes, NULL: not counted */
    apr_file_t *lock_file;      /* store.lock while locked globally */
    apr_pool_t *lock_pool;      /* the pool lock_file lives in */
    int readonly;               /* opened for reading plain values only */
    int sync_deferred;          /* saves skip fsync; md_store_sync syncs them */
    const char *group_dirs[MD_SG_COUNT]; /* set: a group lives elsewhere */
    apr_gid_t reader_gid;       /* group of files with secrets, -1: the writer's */
};

#define RO_CHECK(store) do { if ((store)->readonly) return APR_EACCES; } while (0)

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
static int is_segment(const char *s)
{
    return s && *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static apr_status_t bad_segment(apr_pool_t *p, const char *what, const char *s)
{
    md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p,
                  "store: invalid %s '%s' (must be a plain file name)",
                  what, s ? s : "(null)");
    return APR_EINVAL;
}

/* The directory of <group>/<name>; name NULL gives the group directory,
 * MD_SG_NONE the store directory (and takes no name). */
static apr_status_t get_dir(const char **pdir, md_store_t *store,
                            md_store_group_t group, const char *name, apr_pool_t *p)
{
    const char *gname = md_store_group_name(group);

    *pdir = NULL;
    if (!gname) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p,
                      "store: invalid group %d", (int)group);
        return APR_EINVAL;
    }
    if (MD_SG_NONE == group) {
        if (name && *name) return bad_segment(p, "name for the top level", name);
        *pdir = store->base;
    }
    else if (!name) {
        *pdir = store->group_dirs[group] ? store->group_dirs[group]
                                         : md_util_path_join(p, store->base, gname, NULL);
    }
    else if (!is_segment(name)) {
        return bad_segment(p, "name", name);
    }
    else if (store->group_dirs[group]) {
        *pdir = md_util_path_join(p, store->group_dirs[group], name, NULL);
    }
    else {
        *pdir = md_util_path_join(p, store->base, gname, name, NULL);
    }
    return APR_SUCCESS;
}

void md_store_fs_set_group_dir(md_store_t *store, md_store_group_t group, const char *dir)
{
    if (group > MD_SG_NONE && group < MD_SG_COUNT) {
        store->group_dirs[group] = dir ? apr_pstrdup(store->p, dir) : NULL;
    }
}

apr_status_t md_store_get_fname(const char **pfname, md_store_t *store,
                                md_store_group_t group, const char *name,
                                const char *aspect, apr_pool_t *p)
{
    const char *dir;
    apr_status_t rv;

    *pfname = NULL;
    rv = get_dir(&dir, store, group, name, p);
    if (APR_SUCCESS != rv) return rv;
    if (!aspect) {
        *pfname = dir;
    }
    else if (!is_segment(aspect)) {
        return bad_segment(p, "aspect", aspect);
    }
    else {
        *pfname = md_util_path_join(p, dir, aspect, NULL);
    }
    return APR_SUCCESS;
}

const char *md_store_get_dir(md_store_t *store, md_store_group_t group,
                             const char *name, apr_pool_t *p)
{
    const char *dir;

    return (APR_SUCCESS == get_dir(&dir, store, group, name, p)) ? dir : NULL;
}

const char *md_store_base_dir(md_store_t *store)
{
    return store->base;
}

void md_store_set_change_counter(md_store_t *store, apr_uint32_t *counter)
{
    store->changes = counter;
}

int md_store_get_change_count(md_store_t *store, apr_uint32_t *pcount)
{
    *pcount = store->changes ? apr_atomic_read32(store->changes) : 0;
    return store->changes != NULL;
}

/* Counts a change (also an attempted one: a reader only looks again). */
static void changed(md_store_t *store)
{
    if (store->changes) {
        apr_atomic_inc32(store->changes);
    }
}

void md_store_defer_sync(md_store_t *store, int defer)
{
    store->sync_deferred = defer;
}

apr_status_t md_store_sync(md_store_t *store)
{
    if (store->readonly) return APR_SUCCESS;
    return md_util_syncfs(store->base);
}

apr_status_t md_store_sync_dir(md_store_t *store, md_store_group_t group,
                               const char *name, apr_pool_t *p)
{
    const char *dir;
    apr_status_t rv;

    if (store->readonly) return APR_SUCCESS;
    rv = get_dir(&dir, store, group, name, p);
    return (APR_SUCCESS == rv) ? md_util_fsync_dir(dir, p) : rv;
}

void md_store_set_dir_cb(md_store_t *store, md_store_dir_cb *cb, void *baton)
{
    store->dir_cb = cb;
    store->dir_cb_baton = baton;
}

int md_store_fs_is_readonly(const md_store_t *store)
{
    return store->readonly;
}

void md_store_set_reader_group(md_store_t *store, apr_gid_t gid)
{
    store->reader_gid = gid;
}

int md_store_json_has_secret(const md_json_t *json)
{
    const char *hmac = md_json_gets(json, MD_KEY_EAB, MD_KEY_HMAC, NULL);

    return (hmac && *hmac) || md_util_has_credentials(md_json_gets(json, MD_KEY_PROXY_URL,
                                                                   NULL));
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
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "store: unable to create "
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
                      "store: unable to set mode %04x on %s", (unsigned)dperms, dir);
        rv = APR_SUCCESS;
    }
    if (APR_SUCCESS == rv && store->dir_cb && (!existed || force_cb)) {
        rv = store->dir_cb(store->dir_cb_baton, p, group, dir);
    }
    return rv;
}

/* Makes sure <group> and <group>/<name> (name may be NULL) exist with the
 * group's modes. force_cb: call the dir callback on the last directory even
 * if it existed. */
static apr_status_t ensure_dirs(md_store_t *store, md_store_group_t group,
                                const char *name, int force_cb, apr_pool_t *p)
{
    const char *gdir, *ndir;
    apr_status_t rv;

    rv = get_dir(&ndir, store, group, name, p);
    if (APR_SUCCESS != rv || MD_SG_NONE == group) return rv;
    rv = get_dir(&gdir, store, group, NULL, p);
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

    rv = get_dir(&gdir, store, group, NULL, p);
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
                          "store: unable to create directory %s", gdir);
            return rv;
        }
    }
    return store->dir_cb ? store->dir_cb(store->dir_cb_baton, p, group, gdir)
                         : APR_SUCCESS;
}

apr_status_t md_store_make_dir(md_store_t *store, md_store_group_t group,
                               const char *name, apr_pool_t *p)
{
    RO_CHECK(store);
    if (!name && MD_SG_NONE != group) return check_group_dir(store, group, p);
    return ensure_dirs(store, group, name, 1, p);
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
    store->key.data = apr_pmemdup(store->p, key, sizeof(key));
    store->key.len = sizeof(key);
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
                          "store migration: renaming %s to %s", from, to);
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
                      "store migration: writing %s", pub_fn);
        *prv = rv;
    }
    return 1;
}

static apr_status_t migrate_dirs(md_store_t *store, md_store_group_t group,
                                 md_util_dir_cb *cb, apr_pool_t *p)
{
    apr_status_t rv, rv_entries = APR_SUCCESS;
    const char *gdir;

    rv = get_dir(&gdir, store, group, NULL, p);
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
                      "migrating store %s from version %f failed", store->base, version);
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
        store->key = key;
    }
    return rv;
}

static apr_status_t setup_store_file(md_store_t *store, apr_pool_t *p)
{
    const char *fname = md_util_path_join(p, store->base, MD_FN_STORE_JSON, NULL);
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
    store = apr_pcalloc(p, sizeof(*store));
    store->reader_gid = (apr_gid_t)-1;
    store->p = p;
    store->base = apr_pstrdup(p, path);
    rv = setup_base_dir(store->base, ptemp);
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
    md_store_t *store = apr_pcalloc(p, sizeof(*store));

    store->reader_gid = (apr_gid_t)-1;

    store->p = p;
    store->base = apr_pstrdup(p, path ? path : "");
    store->readonly = 1;
    *pstore = store;
    return APR_SUCCESS;
}

/* --- values ------------------------------------------------------------------------- */

apr_status_t md_store_load(md_store_t *store, md_store_group_t group, const char *name,
                           const char *aspect, md_store_vtype_t vtype, void **pvalue,
                           apr_pool_t *p)
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
    rv = md_store_get_fname(&fname, store, group, name, aspect, p);
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
            rv = md_pkey_floadx((md_pkey_t **)&value, p, store->key.data,
                                store->key.len, fname, flags);
            break;
        case MD_SV_CHAIN:
            rv = md_chain_floadx((apr_array_header_t **)&value, p, fname, flags);
            break;
        default:
            rv = APR_EINVAL;
            break;
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "store: loading %s", fname);
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
                return md_pkey_to_pem(ptext, value, p, store->key.data, store->key.len);
            }
            return md_pkey_to_pem(ptext, value, p, NULL, 0);
        case MD_SV_CHAIN:
            return md_chain_to_pem(ptext, value, p);
        default:
            return APR_EINVAL;
    }
}

static apr_status_t store_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
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
    rv = md_store_get_fname(&fname, store, group, name, aspect, p);
    if (APR_SUCCESS != rv) return rv;
    rv = ensure_dirs(store, group, name, 0, p);
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
        && md_store_exists(store, group, name, aspect, p)) {
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
                      rv, p, "store: saving %s", fname);
    }
    return rv;
}

apr_status_t md_store_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                           const char *name, const char *aspect,
                           md_store_vtype_t vtype, void *value, int create)
{
    apr_status_t rv = store_save(store, p, group, name, aspect, vtype, value, create);

    changed(store);
    return rv;
}

static apr_status_t store_remove(md_store_t *store, md_store_group_t group, const char *name,
                                 const char *aspect, apr_pool_t *p, int force)
{
    const char *fname;
    apr_status_t rv;

    RO_CHECK(store);
    if (!aspect) return APR_EINVAL;
    rv = md_store_get_fname(&fname, store, group, name, aspect, p);
    if (APR_SUCCESS != rv) return rv;
    rv = apr_file_remove(fname, p);
    if (force && (APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_ENOTDIR(rv))) {
        rv = APR_SUCCESS;
    }
    return rv;
}

apr_status_t md_store_remove(md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, apr_pool_t *p, int force)
{
    apr_status_t rv = store_remove(store, group, name, aspect, p, force);

    changed(store);
    return rv;
}

int md_store_exists(md_store_t *store, md_store_group_t group, const char *name,
                    const char *aspect, apr_pool_t *p)
{
    const char *fname;
    apr_finfo_t info;

    if (APR_SUCCESS != md_store_get_fname(&fname, store, group, name, aspect, p)) {
        return 0;
    }
    return APR_SUCCESS == apr_stat(&info, fname, APR_FINFO_TYPE, p);
}

apr_time_t md_store_get_modified(md_store_t *store, md_store_group_t group,
                                 const char *name, const char *aspect, apr_pool_t *p)
{
    const char *fname;
    apr_finfo_t info;

    if (APR_SUCCESS != md_store_get_fname(&fname, store, group, name, aspect, p)
        || APR_SUCCESS != apr_stat(&info, fname, APR_FINFO_MTIME, p)) {
        return 0;
    }
    return info.mtime;
}

/* --- purging ----------------------------------------------------------------------- */

static apr_status_t store_purge(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name)
{
    const char *dir;
    apr_status_t rv;

    RO_CHECK(store);
    if (MD_SG_NONE == group || !name) return APR_EINVAL;
    rv = get_dir(&dir, store, group, name, p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_util_rm_recursive(dir, p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "store: purging %s", dir);
    }
    return rv;
}

apr_status_t md_store_purge(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                            const char *name)
{
    apr_status_t rv = store_purge(store, p, group, name);

    changed(store);
    return rv;
}

typedef struct {
    apr_time_t modified;
    const char *aspect_pattern;
    apr_status_t rv;
} rm_old_ctx;

static int rm_old_file_cb(void *baton, apr_pool_t *p, const char *dir,
                          const char *name, apr_filetype_e ftype)
{
    rm_old_ctx *ctx = baton;
    const char *fname = md_util_path_join(p, dir, name, NULL);
    apr_finfo_t info;
    apr_status_t rv;

    if (APR_REG != ftype) return 1;
    if (APR_SUCCESS != apr_stat(&info, fname, APR_FINFO_MTIME, p)) return 1;
    if (info.mtime >= ctx->modified) return 1;
    rv = apr_file_remove(fname, p);
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "store: removed old %s", fname);
    if (APR_SUCCESS != rv && !APR_STATUS_IS_ENOENT(rv)) {
        ctx->rv = rv;
    }
    return 1;
}

static int rm_old_dir_cb(void *baton, apr_pool_t *p, const char *dir,
                         const char *name, apr_filetype_e ftype)
{
    rm_old_ctx *ctx = baton;

    if (APR_DIR != ftype) return 1;
    md_util_dir_do(rm_old_file_cb, ctx, p, md_util_path_join(p, dir, name, NULL),
                   ctx->aspect_pattern);
    return 1;
}

static apr_status_t store_remove_old(md_store_t *store, apr_pool_t *p,
                                     apr_time_t modified,
                                     md_store_group_t group,
                                     const char *name_pattern,
                                     const char *aspect_pattern)
{
    rm_old_ctx ctx;
    const char *gdir;
    apr_status_t rv;

    RO_CHECK(store);
    if (MD_SG_NONE == group) return APR_EINVAL;
    rv = get_dir(&gdir, store, group, NULL, p);
    if (APR_SUCCESS != rv) return rv;
    ctx.modified = modified;
    ctx.aspect_pattern = aspect_pattern;
    ctx.rv = APR_SUCCESS;
    rv = md_util_dir_do(rm_old_dir_cb, &ctx, p, gdir, name_pattern);
    if (APR_STATUS_IS_ENOENT(rv)) {
        rv = APR_SUCCESS;
    }
    return (APR_SUCCESS == rv) ? ctx.rv : rv;
}

apr_status_t md_store_remove_not_modified_since(md_store_t *store, apr_pool_t *p,
                                                apr_time_t modified,
                                                md_store_group_t group,
                                                const char *name_pattern,
                                                const char *aspect_pattern)
{
    apr_status_t rv = store_remove_old(store, p, modified, group, name_pattern, aspect_pattern);

    changed(store);
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

    rv = ensure_dirs(store, MD_SG_ARCHIVE, NULL, 0, p);
    if (APR_SUCCESS != rv) return rv;
    rv = get_dir(&adir, store, MD_SG_ARCHIVE, name, p);
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
                  "store: archiving %s to %s", dir, target);
    return rv;
}

static apr_status_t store_move(md_store_t *store, apr_pool_t *p, md_store_group_t from,
                               md_store_group_t to, const char *name, int archive)
{
    const char *from_dir, *to_dir;
    apr_fileperms_t dperms, fperms;
    apr_status_t rv;

    RO_CHECK(store);
    if (MD_SG_NONE == from || MD_SG_NONE == to || from == to || !name) {
        return APR_EINVAL;
    }
    rv = get_dir(&from_dir, store, from, name, p);
    if (APR_SUCCESS != rv) return rv;
    rv = get_dir(&to_dir, store, to, name, p);
    if (APR_SUCCESS != rv) return rv;
    if (!md_util_is_dir(from_dir, p)) return APR_ENOENT;
    rv = ensure_dirs(store, to, NULL, 0, p);
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
                  "store: moving %s to %s", from_dir, to_dir);
    return rv;
}

apr_status_t md_store_move(md_store_t *store, apr_pool_t *p, md_store_group_t from,
                           md_store_group_t to, const char *name, int archive)
{
    apr_status_t rv = store_move(store, p, from, to, name, archive);

    changed(store);
    return rv;
}

static apr_status_t store_rename(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                 const char *from, const char *to)
{
    const char *from_dir, *to_dir;
    apr_finfo_t info;
    apr_status_t rv;

    RO_CHECK(store);
    if (MD_SG_NONE == group || !from || !to) return APR_EINVAL;
    rv = get_dir(&from_dir, store, group, from, p);
    if (APR_SUCCESS != rv) return rv;
    rv = get_dir(&to_dir, store, group, to, p);
    if (APR_SUCCESS != rv) return rv;
    if (!md_util_is_dir(from_dir, p)) return APR_ENOENT;
    if (APR_SUCCESS == apr_stat(&info, to_dir, APR_FINFO_TYPE | APR_FINFO_LINK, p)) {
        return APR_EEXIST;
    }
    rv = apr_file_rename(from_dir, to_dir, p);
    md_log_perror(MD_LOG_MARK, (APR_SUCCESS == rv) ? MD_LOG_DEBUG : MD_LOG_ERR, rv, p,
                  "store: renaming %s to %s", from_dir, to_dir);
    return rv;
}

apr_status_t md_store_rename(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                             const char *from, const char *to)
{
    apr_status_t rv = store_rename(store, p, group, from, to);

    changed(store);
    return rv;
}

/* --- iterating ----------------------------------------------------------------------- */

typedef struct {
    md_store_t *store;
    md_store_group_t group;
    const char *aspect;
    md_store_vtype_t vtype;
    md_store_inspect_cb *inspect;
    md_store_names_cb *names;
    void *baton;
    const char *name;
    int stopped;
} iter_ctx;

static int iter_aspect_cb(void *baton, apr_pool_t *p, const char *dir,
                          const char *aspect, apr_filetype_e ftype)
{
    iter_ctx *ctx = baton;
    apr_pool_t *ptemp;
    void *value;

    (void)dir;
    if (APR_REG != ftype) return 1;
    if (APR_SUCCESS != apr_pool_create(&ptemp, p)) return 0;
    if (APR_SUCCESS == md_store_load(ctx->store, ctx->group, ctx->name, aspect,
                                     ctx->vtype, &value, ptemp)) {
        ctx->stopped = !ctx->inspect(ctx->baton, ctx->name, aspect, ctx->vtype,
                                     value, ptemp);
    }
    apr_pool_destroy(ptemp);
    return !ctx->stopped;
}

static int iter_name_cb(void *baton, apr_pool_t *p, const char *dir,
                        const char *name, apr_filetype_e ftype)
{
    iter_ctx *ctx = baton;

    if (APR_DIR != ftype) return 1;
    if (ctx->names) {
        ctx->stopped = !ctx->names(ctx->baton, name, p);
    }
    else {
        ctx->name = name;
        md_util_dir_do(iter_aspect_cb, ctx, p, md_util_path_join(p, dir, name, NULL),
                       ctx->aspect);
    }
    return !ctx->stopped;
}

static apr_status_t iter_group(iter_ctx *ctx, apr_pool_t *p, const char *pattern)
{
    const char *gdir;
    apr_status_t rv;

    if (MD_SG_NONE == ctx->group) return APR_EINVAL;
    rv = get_dir(&gdir, ctx->store, ctx->group, NULL, p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_util_dir_do(iter_name_cb, ctx, p, gdir, pattern);
    return (APR_STATUS_IS_ENOENT(rv)) ? APR_SUCCESS : rv;
}

apr_status_t md_store_iter(md_store_inspect_cb *cb, void *baton, md_store_t *store,
                           apr_pool_t *p, md_store_group_t group, const char *pattern,
                           const char *aspect, md_store_vtype_t vtype)
{
    iter_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.store = store;
    ctx.group = group;
    ctx.aspect = aspect;
    ctx.vtype = vtype;
    ctx.inspect = cb;
    ctx.baton = baton;
    return iter_group(&ctx, p, pattern);
}

apr_status_t md_store_iter_names(md_store_names_cb *cb, void *baton, md_store_t *store,
                                 apr_pool_t *p, md_store_group_t group,
                                 const char *pattern)
{
    iter_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.store = store;
    ctx.group = group;
    ctx.names = cb;
    ctx.baton = baton;
    return iter_group(&ctx, p, pattern);
}

/* --- the global lock ------------------------------------------------------------------ */

static apr_status_t lock_pool_cleanup(void *data)
{
    md_store_t *store = data;

    /* the pool closes the file, which releases the lock */
    store->lock_file = NULL;
    return APR_SUCCESS;
}

apr_status_t md_store_lock_global(md_store_t *store, apr_pool_t *p,
                                  apr_time_t max_wait)
{
    const char *fname = md_util_path_join(p, store->base, MD_FN_STORE_LOCK, NULL);
    apr_time_t end = apr_time_now() + max_wait;
    apr_file_t *f;
    apr_status_t rv;

    RO_CHECK(store);
    if (store->lock_file) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, 0, p, "already locked globally");
        return APR_EEXIST;
    }
    rv = apr_file_open(&f, fname, APR_FOPEN_CREATE | APR_FOPEN_WRITE,
                       MD_STORE_LOCK_PERMS, p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "unable to create/open lock file: %s", fname);
        return rv;
    }
    apr_file_perms_set(fname, MD_STORE_LOCK_PERMS);
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "acquire global lock: %s", fname);
    while (1) {
        rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK);
        if (APR_SUCCESS == rv || apr_time_now() >= end) {
            break;
        }
        apr_sleep(apr_time_from_msec(100));
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p,
                      "unable to obtain lock on: %s", fname);
        apr_file_close(f);
        return rv;
    }
    store->lock_file = f;
    store->lock_pool = p;
    apr_pool_cleanup_register(p, store, lock_pool_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

void md_store_unlock_global(md_store_t *store, apr_pool_t *p)
{
    (void)p;
    if (!store->lock_file) return;
    apr_file_unlock(store->lock_file);
    apr_file_close(store->lock_file);
    apr_pool_cleanup_kill(store->lock_pool, store, lock_pool_cleanup);
    store->lock_file = NULL;
    store->lock_pool = NULL;
}

/* --- per-name locks -------------------------------------------------------------------- */

struct md_store_lock_t {
    apr_file_t *file;
    const char *fname;
};

apr_status_t md_store_lock_name(md_store_lock_t **plock, md_store_t *store,
                                md_store_group_t group, const char *name,
                                apr_pool_t *p)
{
    md_store_lock_t *lock = NULL;
    const char *gdir, *fname;
    apr_finfo_t info;
    apr_file_t *f = NULL;
    apr_status_t rv;
    int existed;

    *plock = NULL;
    RO_CHECK(store);
    if (MD_SG_NONE == group || !is_segment(name)) {
        rv = APR_EINVAL;
        goto leave;
    }
    rv = ensure_dirs(store, group, NULL, 0, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = get_dir(&gdir, store, group, NULL, p);
    if (APR_SUCCESS != rv) goto leave;
    fname = md_util_path_join(p, gdir, apr_pstrcat(p, name, MD_STORE_LOCK_SUFFIX, NULL),
                              NULL);
    existed = (APR_SUCCESS == apr_stat(&info, fname, APR_FINFO_TYPE, p));
    rv = apr_file_open(&f, fname, APR_FOPEN_CREATE | APR_FOPEN_WRITE,
                       MD_STORE_NAME_LOCK_PERMS, p);
    if (APR_SUCCESS != rv) goto leave;
    if (!existed) {
        apr_file_perms_set(fname, MD_STORE_NAME_LOCK_PERMS);
        /* the other side (parent or child) must be able to open it too */
        if (store->dir_cb) {
            store->dir_cb(store->dir_cb_baton, p, group, fname);
        }
    }
    rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK);
    if (APR_SUCCESS != rv) {
        apr_file_close(f);
        if (APR_STATUS_IS_EACCES(rv)) rv = APR_EAGAIN;     /* fcntl: held elsewhere */
        goto leave;
    }
    lock = apr_pcalloc(p, sizeof(*lock));
    lock->file = f;
    lock->fname = fname;
leave:
    if (APR_SUCCESS != rv && !APR_STATUS_IS_EAGAIN(rv)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "store: locking %s/%s",
                      md_store_group_name(group), name ? name : "(null)");
    }
    *plock = lock;
    return rv;
}

void md_store_unlock_name(md_store_lock_t *lock)
{
    if (!lock || !lock->file) return;
    apr_file_unlock(lock->file);
    apr_file_close(lock->file);
    lock->file = NULL;
}
