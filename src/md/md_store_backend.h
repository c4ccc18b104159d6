/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * For authors of store backends only: the table of operations behind the
 * public md_store_* functions (md_store.h) and the store object they
 * share. md_store.c dispatches every call and checks no argument: the
 * backend checks names and aspects. The file backend is md_store_fs*.c.
 * Nothing but md_store*.c, a backend and its tests includes this header.
 */
#ifndef md_store_backend_h
#define md_store_backend_h

#include "md_store.h"

/* The operations of a backend. Each one implements the md_store_* function
 * of the same name with the same parameters and semantics (md_store.h),
 * except where noted; the change counter is kept by md_store.c.
 *
 * Required: load, save, remove, exists, get_modified, purge, move, rename,
 * list_names, list_aspects, lock_global, unlock_global, lock_name,
 * unlock_name. md_store_remove_not_modified_since and the iterations are
 * md_store.c's, on the lists, get_modified and remove.
 *
 * Optional (NULL): make_dir and sync_dir succeed doing nothing (a backend
 * without directories or with durable commits needs none), sync too;
 * get_fname, server_mark and server_running are APR_ENOTIMPL: they are
 * the local-only operations, meaningful where values are local files. */
typedef struct md_store_ops_t {
    const char *name;           /* "fs", ...: for messages */

    apr_status_t (*load)(md_store_t *store, md_store_group_t group, const char *name,
                         const char *aspect, md_store_vtype_t vtype, void **pvalue,
                         apr_pool_t *p);
    apr_status_t (*save)(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                         const char *name, const char *aspect, md_store_vtype_t vtype,
                         void *value, int create);
    apr_status_t (*remove)(md_store_t *store, md_store_group_t group, const char *name,
                           const char *aspect, apr_pool_t *p, int force);
    int (*exists)(md_store_t *store, md_store_group_t group, const char *name,
                  const char *aspect, apr_pool_t *p);
    apr_time_t (*get_modified)(md_store_t *store, md_store_group_t group,
                               const char *name, const char *aspect, apr_pool_t *p);
    apr_status_t (*purge)(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                          const char *name);
    apr_status_t (*move)(md_store_t *store, apr_pool_t *p, md_store_group_t from,
                         md_store_group_t to, const char *name, int archive);
    apr_status_t (*rename)(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                           const char *from, const char *to);

    /* The names in group matching pattern (apr_fnmatch, NULL = all), and
     * the aspects of group/name matching pattern, each given to cb until
     * it returns 0. A missing group or name lists nothing (APR_SUCCESS).
     * md_store_iter and md_store_iter_names are built on these. */
    apr_status_t (*list_names)(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                               const char *pattern, md_store_names_cb *cb, void *baton);
    apr_status_t (*list_aspects)(md_store_t *store, apr_pool_t *p,
                                 md_store_group_t group, const char *name,
                                 const char *pattern, md_store_names_cb *cb,
                                 void *baton);

    apr_status_t (*lock_global)(md_store_t *store, apr_pool_t *p, apr_time_t max_wait);
    void (*unlock_global)(md_store_t *store, apr_pool_t *p);
    /* *plock is the backend's own lock object, handed back to unlock_name. */
    apr_status_t (*lock_name)(void **plock, md_store_t *store, md_store_group_t group,
                              const char *name, apr_pool_t *p);
    void (*unlock_name)(md_store_t *store, void *lock);

    apr_status_t (*make_dir)(md_store_t *store, md_store_group_t group,
                             const char *name, apr_pool_t *p);
    apr_status_t (*sync)(md_store_t *store);
    apr_status_t (*sync_dir)(md_store_t *store, md_store_group_t group,
                             const char *name, apr_pool_t *p);

    /* local-only */
    apr_status_t (*get_fname)(const char **pfname, md_store_t *store,
                              md_store_group_t group, const char *name,
                              const char *aspect, apr_pool_t *p);
    apr_status_t (*server_mark)(apr_file_t **pfile, md_store_t *store, apr_pool_t *p);
    apr_status_t (*server_running)(int *prunning, long *ppid, md_store_t *store,
                                   apr_pool_t *p);
} md_store_ops_t;

/* A store: the backend's operations and data, and the host's settings
 * (made once, before concurrent use), which a backend honours where they
 * apply to it: a backend without directories never calls dir_cb. */
struct md_store_t {
    const md_store_ops_t *ops;
    void *data;                 /* the backend's own */
    apr_pool_t *p;              /* the store lives here */
    md_store_dir_cb *dir_cb;    /* md_store_set_dir_cb */
    void *dir_cb_baton;
    apr_gid_t reader_gid;       /* md_store_set_reader_group, -1: not set */
    int sync_deferred;          /* md_store_defer_sync */
    apr_uint32_t *changes;      /* md_store_set_change_counter (md_store.c) */
};

/* A store in p with the backend's operations and data. */
md_store_t *md_store_make(apr_pool_t *p, const md_store_ops_t *ops, void *data);

#endif /* md_store_backend_h */
