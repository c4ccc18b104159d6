/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Inside the file backend only (md_store_fs*.c): its data behind a store,
 * the path and directory helpers its files share, and its operations as
 * the table in md_store_fs.c lists them.
 */
#ifndef md_store_fs_int_h
#define md_store_fs_int_h

#include "md_store_backend.h"
#include "md_store_fs.h"

/* Text values (challenge answers) are small; refuse anything huge. */
#define MD_STORE_TEXT_MAX       (1024 * 1024)
/* Archive directories NAME.N use N in 1..MD_STORE_ARCHIVE_MAX. */
#define MD_STORE_ARCHIVE_MAX    999

typedef struct {
    const char *base;           /* the store directory */
    md_data_t key;              /* raw passphrase, MD_STORE_KEY_LEN bytes */
    apr_file_t *lock_file;      /* store.lock while locked globally */
    apr_pool_t *lock_pool;      /* the pool lock_file lives in */
    int readonly;               /* opened for reading plain values only */
    const char *group_dirs[MD_SG_COUNT]; /* set: a group lives elsewhere */
} md_store_fs_t;

/* The file backend's table (md_store_fs.c). */
extern const md_store_ops_t md_store_fs_ops;

#define FS(store) ((md_store_fs_t *)(store)->data)

#define RO_CHECK(store) do { if (FS(store)->readonly) return APR_EACCES; } while (0)

/* 1 if s is one plain path segment (names and aspects must be). */
int md_store_fs_is_segment(const char *s);
/* Logs the invalid name or aspect s (what says which), gives APR_EINVAL. */
apr_status_t md_store_fs_bad_segment(apr_pool_t *p, const char *what, const char *s);
/* The directory of <group>/<name>; name NULL gives the group directory,
 * MD_SG_NONE the store directory (and takes no name). */
apr_status_t md_store_fs_get_dir(const char **pdir, md_store_t *store,
                                 md_store_group_t group, const char *name, apr_pool_t *p);
/* The file of a value (md_store_get_fname). */
apr_status_t md_store_fs_get_fname(const char **pfname, md_store_t *store,
                                   md_store_group_t group, const char *name,
                                   const char *aspect, apr_pool_t *p);
/* Makes sure <group> and <group>/<name> (name may be NULL) exist with the
 * group's modes. force_cb: call the dir callback on the last directory even
 * if it existed. */
apr_status_t md_store_fs_ensure_dirs(md_store_t *store, md_store_group_t group,
                                     const char *name, int force_cb, apr_pool_t *p);

/* The operations of md_store_fs_data.c: values, purging, moving, lists. */
apr_status_t md_store_fs_load(md_store_t *store, md_store_group_t group,
                              const char *name, const char *aspect,
                              md_store_vtype_t vtype, void **pvalue, apr_pool_t *p);
apr_status_t md_store_fs_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                              const char *name, const char *aspect,
                              md_store_vtype_t vtype, void *value, int create);
apr_status_t md_store_fs_remove(md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect, apr_pool_t *p,
                                int force);
int md_store_fs_exists(md_store_t *store, md_store_group_t group, const char *name,
                       const char *aspect, apr_pool_t *p);
apr_time_t md_store_fs_get_modified(md_store_t *store, md_store_group_t group,
                                    const char *name, const char *aspect,
                                    apr_pool_t *p);
apr_status_t md_store_fs_purge(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                               const char *name);
apr_status_t md_store_fs_move(md_store_t *store, apr_pool_t *p, md_store_group_t from,
                              md_store_group_t to, const char *name, int archive);
apr_status_t md_store_fs_rename(md_store_t *store, apr_pool_t *p,
                                md_store_group_t group, const char *from,
                                const char *to);
apr_status_t md_store_fs_list_names(md_store_t *store, apr_pool_t *p,
                                    md_store_group_t group, const char *pattern,
                                    md_store_names_cb *cb, void *baton);
apr_status_t md_store_fs_list_aspects(md_store_t *store, apr_pool_t *p,
                                      md_store_group_t group, const char *name,
                                      const char *pattern, md_store_names_cb *cb,
                                      void *baton);

/* The operations of md_store_fs_lock.c: locks and the server's mark. */
apr_status_t md_store_fs_lock_global(md_store_t *store, apr_pool_t *p,
                                     apr_time_t max_wait);
void md_store_fs_unlock_global(md_store_t *store, apr_pool_t *p);
apr_status_t md_store_fs_lock_name(void **plock, md_store_t *store,
                                   md_store_group_t group, const char *name,
                                   apr_pool_t *p);
void md_store_fs_unlock_name(md_store_t *store, void *lock);
apr_status_t md_store_fs_server_mark(apr_file_t **pfile, md_store_t *store,
                                     apr_pool_t *p);
apr_status_t md_store_fs_server_running(int *prunning, long *ppid, md_store_t *store,
                                        apr_pool_t *p);

#endif /* md_store_fs_int_h */
