/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Typed conveniences on top of the store's basic operations: group names,
 * md.json as md_t, JSON values, and the private key and certificate chain
 * of a key spec under the file names of contract.md 1.3.
 */
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "md.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_store.h"

static const char *group_names[MD_SG_COUNT] = {
    "",
    "accounts",
    "challenges",
    "domains",
    "staging",
    "archive",
    "tmp",
    "ocsp",
    "live",
};

const char *md_store_group_name(md_store_group_t group)
{
    if ((int)group < 0 || group >= MD_SG_COUNT) return NULL;
    return group_names[group];
}

apr_status_t md_store_load_json(md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect,
                                md_json_t **pjson, apr_pool_t *p)
{
    return md_store_load(store, group, name, aspect, MD_SV_JSON, (void **)pjson, p);
}

apr_status_t md_store_save_json(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, const char *aspect,
                                md_json_t *json, int create)
{
    return md_store_save(store, p, group, name, aspect, MD_SV_JSON, json, create);
}

apr_status_t md_store_md_load(md_store_t *store, md_store_group_t group,
                              const char *name, md_t **pmd, apr_pool_t *p)
{
    md_json_t *json;
    md_t *md = NULL;
    apr_status_t rv;

    rv = md_store_load_json(store, group, name, MD_FN_MD, &json, p);
    if (APR_SUCCESS != rv) goto leave;
    md = md_from_json(json, p);
    if (!md) {
        rv = APR_EINVAL;
    }
leave:
    *pmd = (APR_SUCCESS == rv) ? md : NULL;
    return rv;
}

apr_status_t md_store_md_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                              const md_t *md, int create)
{
    md_json_t *json;

    if (!md || !md->name) return APR_EINVAL;
    json = md_to_json(md, p);
    if (!json) return APR_EINVAL;
    return md_store_save_json(store, p, group, md->name, MD_FN_MD, json, create);
}

apr_status_t md_store_md_remove(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, int force)
{
    return md_store_remove(store, group, name, MD_FN_MD, p, force);
}

apr_status_t md_store_pkey_load(md_store_t *store, md_store_group_t group,
                                const char *name, const md_pkey_spec_t *spec,
                                md_pkey_t **ppkey, apr_pool_t *p)
{
    return md_store_load(store, group, name, md_pkey_filename(spec, p), MD_SV_PKEY,
                         (void **)ppkey, p);
}

apr_status_t md_store_pkey_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, const md_pkey_spec_t *spec,
                                md_pkey_t *pkey, int create)
{
    return md_store_save(store, p, group, name, md_pkey_filename(spec, p), MD_SV_PKEY,
                         pkey, create);
}

apr_status_t md_store_chain_load(md_store_t *store, md_store_group_t group,
                                 const char *name, const md_pkey_spec_t *spec,
                                 apr_array_header_t **pchain, apr_pool_t *p)
{
    return md_store_load(store, group, name, md_chain_filename(spec, p), MD_SV_CHAIN,
                         (void **)pchain, p);
}

apr_status_t md_store_chain_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                 const char *name, const md_pkey_spec_t *spec,
                                 apr_array_header_t *chain, int create)
{
    return md_store_save(store, p, group, name, md_chain_filename(spec, p), MD_SV_CHAIN,
                         chain, create);
}

/* --- the running server's mark ---------------------------------------------------- */

#define MD_FN_STORE_JSON    "md_store.json"

apr_status_t md_store_server_mark(apr_file_t **pfile, md_store_t *store, apr_pool_t *p)
{
    const char *fname;
    apr_finfo_t held, now;
    apr_status_t rv;

    rv = md_store_get_fname(&fname, store, MD_SG_NONE, NULL, MD_FN_STORE_JSON, p);
    if (APR_SUCCESS != rv) return rv;
    if (*pfile && (APR_SUCCESS != apr_file_info_get(&held, APR_FINFO_IDENT, *pfile)
                   || APR_SUCCESS != apr_stat(&now, fname, APR_FINFO_IDENT, p)
                   || held.inode != now.inode || held.device != now.device)) {
        /* replaced (a migration, a restored backup): the lock is on the new one */
        apr_file_close(*pfile);
        *pfile = NULL;
    }
    if (!*pfile) {
        rv = apr_file_open(pfile, fname, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
        if (APR_SUCCESS != rv) {
            *pfile = NULL;
            return rv;
        }
        /* the file holds the store key: no program the server starts gets it */
        apr_file_inherit_unset(*pfile);
    }
    /* held already: the same lock again changes nothing (flock and fcntl) */
    return apr_file_lock(*pfile, APR_FLOCK_SHARED | APR_FLOCK_NONBLOCK);
}

/* The pid /proc/locks (Linux) shows for a lock on the file, 0 if none is
 * found: for the message only. */
static long lock_holder_pid(const char *fname, apr_pool_t *p)
{
    apr_finfo_t info;
    char line[256], dev_ino[64];
    long pid = 0, lpid;
    unsigned long ino;
    unsigned int maj, mnr;
    FILE *f;

    if (APR_SUCCESS != apr_stat(&info, fname, APR_FINFO_IDENT, p)) return 0;
    f = fopen("/proc/locks", "r");
    if (!f) return 0;
    while (!pid && fgets(line, sizeof(line), f)) {
        /* "1: FLOCK  ADVISORY  READ 13442 fe:00:12002146 0 EOF" */
        if (sscanf(line, "%*s %*s %*s %*s %ld %63s", &lpid, dev_ino) != 2) {
            continue;
        }
        if (sscanf(dev_ino, "%x:%x:%lu", &maj, &mnr, &ino) != 3) {
            continue;
        }
        if (ino == (unsigned long)info.inode && maj == major((dev_t)info.device)
            && mnr == minor((dev_t)info.device)) {
            pid = lpid;
        }
    }
    fclose(f);
    return pid;
}

apr_status_t md_store_server_running(int *prunning, long *ppid, md_store_t *store,
                                     apr_pool_t *p)
{
    const char *fname;
    apr_file_t *f = NULL;
    apr_status_t rv;

    *prunning = 0;
    *ppid = 0;
    rv = md_store_get_fname(&fname, store, MD_SG_NONE, NULL, MD_FN_STORE_JSON, p);
    if (APR_SUCCESS != rv) goto leave;
    /* writable for fcntl's exclusive locks; flock does without */
    rv = apr_file_open(&f, fname, APR_FOPEN_READ | APR_FOPEN_WRITE, APR_FPROT_OS_DEFAULT,
                       p);
    if (APR_STATUS_IS_EACCES(rv)) {
        rv = apr_file_open(&f, fname, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    }
    if (APR_STATUS_IS_ENOENT(rv)) {
        rv = APR_SUCCESS;
        goto leave;
    }
    if (APR_SUCCESS != rv) goto leave;
    /* only as long as it takes to ask: a starting server may mark it */
    rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK);
    if (APR_SUCCESS == rv) {
        apr_file_unlock(f);
    }
    else if (APR_STATUS_IS_EAGAIN(rv) || APR_STATUS_IS_EACCES(rv)) {
        *prunning = 1;
        *ppid = lock_holder_pid(fname, p);
        rv = APR_SUCCESS;
    }
    apr_file_close(f);
leave:
    return rv;
}
