/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Typed conveniences on top of the store's basic operations: group names,
 * md.json as md_t, JSON values, and the private key and certificate chain
 * of a key spec under the file names of interfaces.md 1.3.
 */
#include <stdlib.h>
#include <unistd.h>
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
    if (!md) rv = APR_EINVAL;
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

apr_status_t md_store_server_mark(md_store_t *store, apr_pool_t *p)
{
    const char *fname, *pid;
    apr_file_t *f = NULL;
    apr_size_t len;
    apr_status_t rv;

    rv = md_store_get_fname(&fname, store, MD_SG_NONE, NULL, MD_FN_SERVER_LOCK, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = apr_file_open(&f, fname, APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_CREATE,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD
                       | APR_FPROT_WREAD, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK);
    if (APR_SUCCESS != rv) {
        /* closing is fine: this process holds no lock on it */
        apr_file_close(f);
        goto leave;
    }
    pid = apr_psprintf(p, "%ld\n", (long)getpid());
    len = strlen(pid);
    rv = apr_file_trunc(f, 0);
    if (APR_SUCCESS == rv) rv = apr_file_write_full(f, pid, len, NULL);
    if (APR_SUCCESS == rv) rv = apr_file_flush(f);
    /* the pid is for messages only: the lock stays even if it failed */
    rv = APR_SUCCESS;
leave:
    return rv;
}

apr_status_t md_store_server_running(int *prunning, long *ppid, md_store_t *store,
                                     apr_pool_t *p)
{
    const char *fname;
    apr_file_t *f = NULL;
    char buf[32];
    apr_size_t len = sizeof(buf) - 1;
    apr_status_t rv;

    *prunning = 0;
    *ppid = 0;
    rv = md_store_get_fname(&fname, store, MD_SG_NONE, NULL, MD_FN_SERVER_LOCK, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = apr_file_open(&f, fname, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        rv = APR_SUCCESS;
        goto leave;
    }
    if (APR_SUCCESS != rv) goto leave;
    rv = apr_file_lock(f, APR_FLOCK_SHARED | APR_FLOCK_NONBLOCK);
    if (APR_SUCCESS == rv) {
        apr_file_unlock(f);
    }
    else if (APR_STATUS_IS_EAGAIN(rv) || APR_STATUS_IS_EACCES(rv)) {
        *prunning = 1;
        if (APR_SUCCESS == apr_file_read(f, buf, &len)) {
            buf[len] = '\0';
            *ppid = atol(buf);
        }
        rv = APR_SUCCESS;
    }
    apr_file_close(f);
leave:
    return rv;
}
