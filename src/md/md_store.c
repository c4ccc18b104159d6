/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Typed conveniences on top of the store's basic operations: group names,
 * md.json as md_t, JSON values, and the private key and certificate chain
 * of a key spec under the file names of interfaces.md 1.3.
 */
#include <apr_strings.h>

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
