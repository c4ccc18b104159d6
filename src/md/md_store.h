/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The store: named values (JSON, text, keys, certificate chains) filed as
 * <group>/<name>/<aspect> under MDStoreDir (interfaces.md 1). This header is
 * the interface; md_store_fs.c implements it on the file system, md_store.c
 * holds the typed conveniences built on it.
 */
#ifndef md_store_h
#define md_store_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_file_io.h>

#include "md.h"

struct md_json_t;
struct md_pkey_t;

typedef struct md_store_t md_store_t;

typedef enum {
    MD_SG_NONE,         /* the store's top level */
    MD_SG_ACCOUNTS,
    MD_SG_CHALLENGES,
    MD_SG_DOMAINS,
    MD_SG_STAGING,
    MD_SG_ARCHIVE,
    MD_SG_TMP,
    MD_SG_OCSP,
    MD_SG_COUNT,
} md_store_group_t;

/* "accounts", "challenges", ...; "" for MD_SG_NONE. */
const char *md_store_group_name(md_store_group_t group);

typedef enum {
    MD_SV_TEXT,         /* const char* */
    MD_SV_JSON,         /* md_json_t* */
    MD_SV_PKEY,         /* md_pkey_t*, encrypted in groups that encrypt */
    MD_SV_CHAIN,        /* apr_array_header_t* of md_cert_t* */
} md_store_vtype_t;

/* Called when the store created a directory, so the host can chown it
 * (the module hands group dirs of challenges/staging/ocsp to User). */
typedef apr_status_t md_store_dir_cb(void *baton, apr_pool_t *p,
                                     md_store_group_t group, const char *path);

/* Opens the store at path, creating the directory (0755) and
 * md_store_json (0600, new 48-byte key) when missing, migrating older store
 * versions (1.8). A corrupt md_store.json is APR_EINVAL with the ERR log of
 * interfaces.md 1.6 and is never overwritten. */
apr_status_t md_store_fs_open(md_store_t **pstore, apr_pool_t *p, const char *path);

/* The directory the store lives in. */
const char *md_store_base_dir(md_store_t *store);
void md_store_set_dir_cb(md_store_t *store, md_store_dir_cb *cb, void *baton);

/* Basic operations. aspect is a file name. create=1 fails with APR_EEXIST
 * when the value exists. APR_ENOENT for missing values. */
apr_status_t md_store_load(md_store_t *store, md_store_group_t group, const char *name,
                           const char *aspect, md_store_vtype_t vtype, void **pvalue,
                           apr_pool_t *p);
apr_status_t md_store_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                           const char *name, const char *aspect,
                           md_store_vtype_t vtype, void *value, int create);
apr_status_t md_store_remove(md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, apr_pool_t *p, int force);
int md_store_exists(md_store_t *store, md_store_group_t group, const char *name,
                    const char *aspect, apr_pool_t *p);
apr_time_t md_store_get_modified(md_store_t *store, md_store_group_t group,
                                 const char *name, const char *aspect, apr_pool_t *p);
/* Absolute path of a value / of a name's directory (need not exist). */
apr_status_t md_store_get_fname(const char **pfname, md_store_t *store,
                                md_store_group_t group, const char *name,
                                const char *aspect, apr_pool_t *p);
const char *md_store_get_dir(md_store_t *store, md_store_group_t group,
                             const char *name, apr_pool_t *p);
/* Creates <group>/<name> with the group's modes (and dir_cb). */
apr_status_t md_store_make_dir(md_store_t *store, md_store_group_t group,
                               const char *name, apr_pool_t *p);

/* Removes <group>/<name> with all it holds. */
apr_status_t md_store_purge(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                            const char *name);
/* Removes aspect files in <group>/<name pattern> older than modified. */
apr_status_t md_store_remove_not_modified_since(md_store_t *store, apr_pool_t *p,
                                                apr_time_t modified,
                                                md_store_group_t group,
                                                const char *name_pattern,
                                                const char *aspect_pattern);

/* Moves <from>/<name> to <to>/<name>; with archive set, an existing
 * <to>/<name> first goes to archive/<name>.N (N lowest free 1..999). */
apr_status_t md_store_move(md_store_t *store, apr_pool_t *p, md_store_group_t from,
                           md_store_group_t to, const char *name, int archive);
/* Renames <group>/<from> to <group>/<to>. */
apr_status_t md_store_rename(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                             const char *from, const char *to);

typedef int md_store_inspect_cb(void *baton, const char *name, const char *aspect,
                                md_store_vtype_t vtype, void *value, apr_pool_t *ptemp);
/* Loads every <group>/<name pattern>/<aspect> and calls cb until it returns 0. */
apr_status_t md_store_iter(md_store_inspect_cb *cb, void *baton, md_store_t *store,
                           apr_pool_t *p, md_store_group_t group, const char *pattern,
                           const char *aspect, md_store_vtype_t vtype);
typedef int md_store_names_cb(void *baton, const char *name, apr_pool_t *ptemp);
/* Calls cb for each directory name in group matching pattern. */
apr_status_t md_store_iter_names(md_store_names_cb *cb, void *baton, md_store_t *store,
                                 apr_pool_t *p, md_store_group_t group,
                                 const char *pattern);

/* Global lock file store.lock (MDStoreLocks): flock, retrying every 100 ms
 * up to max_wait. */
apr_status_t md_store_lock_global(md_store_t *store, apr_pool_t *p,
                                  apr_time_t max_wait);
void md_store_unlock_global(md_store_t *store, apr_pool_t *p);

/* --- typed conveniences (md_store.c) ----------------------------------------------- */
apr_status_t md_store_md_load(md_store_t *store, md_store_group_t group,
                              const char *name, md_t **pmd, apr_pool_t *p);
apr_status_t md_store_md_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                              const md_t *md, int create);
apr_status_t md_store_md_remove(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, int force);
/* Private key and certificate chain of a key spec (file names of 1.3). */
apr_status_t md_store_pkey_load(md_store_t *store, md_store_group_t group,
                                const char *name, const md_pkey_spec_t *spec,
                                struct md_pkey_t **ppkey, apr_pool_t *p);
apr_status_t md_store_pkey_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, const md_pkey_spec_t *spec,
                                struct md_pkey_t *pkey, int create);
apr_status_t md_store_chain_load(md_store_t *store, md_store_group_t group,
                                 const char *name, const md_pkey_spec_t *spec,
                                 apr_array_header_t **pchain, apr_pool_t *p);
apr_status_t md_store_chain_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                 const char *name, const md_pkey_spec_t *spec,
                                 apr_array_header_t *chain, int create);
apr_status_t md_store_load_json(md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect,
                                struct md_json_t **pjson, apr_pool_t *p);
apr_status_t md_store_save_json(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, const char *aspect,
                                struct md_json_t *json, int create);

#endif /* md_store_h */
