/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The store: named values (JSON, text, keys, certificate chains) filed as
 * <group>/<name>/<aspect> (contract.md 1). This header is the interface;
 * md_store.c dispatches it to a backend (md_store_backend.h): the file
 * backend md_store_fs*.c files them under MDStoreDir. The functions marked
 * local-only make sense where values are local files: other backends give
 * APR_ENOTIMPL (or NULL) and callers must cope (docs/architecture.md).
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
    MD_SG_LIVE,         /* sets gone live without a restart (md_live.h) */
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

/* Called when the file store creates a directory: a group directory or a
 * <group>/<name> directory (by a save, md_store_make_dir or md_store_move),
 * so the host can chown it (the module hands challenges/staging/ocsp to
 * User). md_store_make_dir calls it even when the directory existed. A
 * non-success return fails the store operation. */
typedef apr_status_t md_store_dir_cb(void *baton, apr_pool_t *p,
                                     md_store_group_t group, const char *path);

/* Opens the store at path, creating the directory (0755) and
 * md_store.json (0600, new 48-byte key) when missing, migrating older store
 * versions (contract.md 1.8). A corrupt md_store.json is APR_EINVAL with
 * the ERR log of contract.md 1.6 and is never overwritten. The store lives
 * in p. After opening, the store is safe to use from several threads as long
 * as md_store_set_dir_cb and the global lock are handled by one thread. */
apr_status_t md_store_fs_open(md_store_t **pstore, apr_pool_t *p, const char *path);

/* Local-only: the directory the store lives in, NULL without one. */
const char *md_store_base_dir(md_store_t *store);
/* Every save is durable when it returns (file and directory fsynced) unless
 * deferred: the parent's start-up writes a file or three per MD and syncs
 * them at once with md_store_sync (one syncfs instead of thousands of
 * fsyncs). Set by one thread before concurrent use. */
void md_store_defer_sync(md_store_t *store, int defer);
/* syncfs of the store's file system: deferred saves, moves and removals are
 * on disk when it returns. Backends whose changes are durable when made
 * ignore the deferral and succeed on both syncs. */
apr_status_t md_store_sync(md_store_t *store);
/* fsync of <group>/<name>'s files, the directory and <group>/. */
apr_status_t md_store_sync_dir(md_store_t *store, md_store_group_t group,
                               const char *name, apr_pool_t *p);
/* Installs the directory callback (call once, before concurrent use). */
void md_store_set_dir_cb(md_store_t *store, md_store_dir_cb *cb, void *baton);
/* JSON files holding a secret (an EAB hmac, a proxy URL with a password)
 * in groups that are readable for everyone are written 0640 instead, with
 * group gid when the writer may set it (root: the child's group, so that
 * the child reads them). Call once, before concurrent use. */
void md_store_set_reader_group(md_store_t *store, apr_gid_t gid);
/* 1 if json (md.json, account.json) holds such a secret. */
int md_store_json_has_secret(const struct md_json_t *json);
/* Counts every change made through store (saves, removals, moves, renames)
 * in *counter with atomic increments. The counter may live in memory shared
 * by several processes: readers then know that nothing changed through any
 * of them without looking at files. Call once, before concurrent use. */
void md_store_set_change_counter(md_store_t *store, apr_uint32_t *counter);
/* 1 with the current count in *pcount when store counts its changes
 * (md_store_set_change_counter), else 0. Thread- and process-safe. */
int md_store_get_change_count(md_store_t *store, apr_uint32_t *pcount);

/* Names and aspects (file names) must be plain path segments: NULL, "",
 * ".", ".." or anything containing '/' gives APR_EINVAL everywhere (for
 * MD_SG_NONE, the top level, name must be NULL). */

/* Loads <group>/<name>/<aspect> as vtype into *pvalue (pvalue may be NULL to
 * just test loading), allocated from p. APR_ENOENT when missing. Keys are
 * decrypted with the store key where encrypted. */
apr_status_t md_store_load(md_store_t *store, md_store_group_t group, const char *name,
                           const char *aspect, md_store_vtype_t vtype, void **pvalue,
                           apr_pool_t *p);
/* Saves value as <group>/<name>/<aspect>, creating directories with the
 * group's modes. JSON, text and keys replace atomically (<file>.tmp +
 * rename), chains are written in place. Keys are encrypted in groups where
 * md_store_fs_group_encrypts() says so, plain keys get 0600. create=1 fails
 * with APR_EEXIST when the file exists. */
apr_status_t md_store_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                           const char *name, const char *aspect,
                           md_store_vtype_t vtype, void *value, int create);
/* Removes one file; a missing file is APR_ENOENT unless force is set. */
apr_status_t md_store_remove(md_store_t *store, md_store_group_t group, const char *name,
                             const char *aspect, apr_pool_t *p, int force);
/* 1 if <group>/<name>/<aspect> exists (aspect NULL: the directory). */
int md_store_exists(md_store_t *store, md_store_group_t group, const char *name,
                    const char *aspect, apr_pool_t *p);
/* Modification time of a value, 0 if it does not exist. */
apr_time_t md_store_get_modified(md_store_t *store, md_store_group_t group,
                                 const char *name, const char *aspect, apr_pool_t *p);
/* Local-only: absolute path of a value (aspect NULL: of the name's
 * directory, name NULL too: of the group directory); need not exist.
 * APR_EINVAL for bad names, APR_ENOTIMPL (*pfname NULL) when the backend
 * keeps no local files. For consumers that need a file (mod_ssl's
 * certificate and key files) and for showing paths. */
apr_status_t md_store_get_fname(const char **pfname, md_store_t *store,
                                md_store_group_t group, const char *name,
                                const char *aspect, apr_pool_t *p);
/* Local-only: as md_store_get_fname without aspect; NULL for bad names
 * and backends without local files. */
const char *md_store_get_dir(md_store_t *store, md_store_group_t group,
                             const char *name, apr_pool_t *p);
/* Where <group>/<name> (name may be NULL) lives, for messages: its
 * directory in the file store, "<backend>:<group>/<name>" otherwise. Never
 * NULL. */
const char *md_store_location(md_store_t *store, md_store_group_t group,
                              const char *name, apr_pool_t *p);
/* Creates <group> and <group>/<name> with the group's modes (chmod also
 * when they exist) and calls the dir callback for <group>/<name>, even if it
 * existed. With name NULL, the start-up check of a group directory: it is
 * created with 0750 when missing (an existing one keeps its mode until a
 * save chmods it to the group mode, as in the original) and the dir
 * callback is called for it. */
apr_status_t md_store_make_dir(md_store_t *store, md_store_group_t group,
                               const char *name, apr_pool_t *p);

/* Removes <group>/<name> with all it holds; success if it did not exist. */
apr_status_t md_store_purge(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                            const char *name);
/* Removes the files matching aspect_pattern in the directories matching
 * name_pattern of group (apr_fnmatch, NULL = all) whose modification time
 * is before modified. */
apr_status_t md_store_remove_not_modified_since(md_store_t *store, apr_pool_t *p,
                                                apr_time_t modified,
                                                md_store_group_t group,
                                                const char *name_pattern,
                                                const char *aspect_pattern);

/* Moves <from>/<name> to <to>/<name> (APR_ENOENT if the source is missing).
 * With archive set, an existing <to>/<name> first goes to
 * archive/<name>.N (N lowest free 1..999, APR_EGENERAL and an ERR log when
 * none is free, nothing moved); without archive it is replaced. */
apr_status_t md_store_move(md_store_t *store, apr_pool_t *p, md_store_group_t from,
                           md_store_group_t to, const char *name, int archive);
/* Renames <group>/<from> to <group>/<to>: APR_ENOENT if from is missing,
 * APR_EEXIST if to exists (nothing is overwritten). Contents (md.json's
 * name) are not changed. */
apr_status_t md_store_rename(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                             const char *from, const char *to);

/* Called with each loaded value; value and ptemp live only during the
 * call. Return 0 to stop. */
typedef int md_store_inspect_cb(void *baton, const char *name, const char *aspect,
                                md_store_vtype_t vtype, void *value, apr_pool_t *ptemp);
/* For every directory <group>/<name> matching pattern and every file in it
 * matching aspect (both apr_fnmatch patterns; NULL = all), loads the value
 * and calls cb until it returns 0. Values that fail to load are skipped. A
 * missing group directory iterates nothing. */
apr_status_t md_store_iter(md_store_inspect_cb *cb, void *baton, md_store_t *store,
                           apr_pool_t *p, md_store_group_t group, const char *pattern,
                           const char *aspect, md_store_vtype_t vtype);
typedef int md_store_names_cb(void *baton, const char *name, apr_pool_t *ptemp);
/* Calls cb for each directory name in group matching pattern (NULL = all)
 * until it returns 0. */
apr_status_t md_store_iter_names(md_store_names_cb *cb, void *baton, md_store_t *store,
                                 apr_pool_t *p, md_store_group_t group,
                                 const char *pattern);
/* Calls cb for each aspect of <group>/<name> matching pattern (NULL = all)
 * until it returns 0, loading nothing. A missing name lists nothing. */
apr_status_t md_store_iter_aspects(md_store_names_cb *cb, void *baton, md_store_t *store,
                                   apr_pool_t *p, md_store_group_t group,
                                   const char *name, const char *pattern);

/* Global lock file store.lock (0640, MDStoreLocks): an exclusive
 * non-blocking apr_file_lock (like the original: fcntl on Linux, so it is
 * per process), retried every 100 ms up to max_wait. APR_EAGAIN (or the
 * error) when it could not be had, APR_EEXIST if this store holds it
 * already. The lock lives in p: destroying p releases it too. Not
 * thread-safe: lock and unlock from one thread. */
apr_status_t md_store_lock_global(md_store_t *store, apr_pool_t *p,
                                  apr_time_t max_wait);
void md_store_unlock_global(md_store_t *store, apr_pool_t *p);

/* Per-name lock (MDStoreLocks: one server renews an MD, others wait): an
 * exclusive non-blocking apr_file_lock (fcntl, per process) on the file
 * <group>/<name>.lock (created 0640 when missing, handed to the dir
 * callback so that parent and child can both open it). The root parent
 * takes it too (the activation, md_reg_lock_md) where User writes: the
 * file is opened without following a link or blocking on a FIFO and must
 * be a regular file with one link (else APR_EINVAL); one that root finds
 * with another owner than its group directory gets that owner. APR_EAGAIN when
 * another process holds it, other errors when the file cannot be opened.
 * The lock lives in p (destroying p or ending the process releases it).
 * A process must not lock the same name twice at once. */
typedef struct md_store_lock_t md_store_lock_t;
apr_status_t md_store_lock_name(md_store_lock_t **plock, md_store_t *store,
                                md_store_group_t group, const char *name,
                                apr_pool_t *p);
/* Releases a lock from md_store_lock_name (NULL is fine). */
void md_store_unlock_name(md_store_lock_t *lock);

/* --- the running server's mark (local-only, md_store_fs_lock.c) ------------------ */
/* Both are APR_ENOTIMPL for backends without local files (*prunning 0).
 * While the httpd parent process runs, it holds a shared apr_file_lock on
 * md_store.json, so that a2md can tell whether a server uses the store
 * without a file of its own: the kernel drops it when the server's
 * processes end, however they end. (APR locks with flock on Debian, with
 * fcntl elsewhere; fcntl locks are lost when the process closes any
 * descriptor of the file: mark again after each opening of the store.) */

/* Takes (or renews) the lock with *pfile, opening md_store.json in p into
 * *pfile when it is NULL or refers to a replaced file. p must live as long
 * as the process (httpd's process pool). */
apr_status_t md_store_server_mark(apr_file_t **pfile, md_store_t *store, apr_pool_t *p);

/* *prunning 1 if another process holds a lock on md_store.json (*ppid its
 * pid as /proc/locks shows it, 0 if unknown), 0 if none does or there is
 * no md_store.json. Holds an exclusive lock only for the asking. */
apr_status_t md_store_server_running(int *prunning, long *ppid, md_store_t *store,
                                     apr_pool_t *p);

/* --- typed conveniences (md_store.c) ----------------------------------------------- */
/* md.json of <group>/<name> as md_t; saving writes <group>/<md->name>/md.json. */
apr_status_t md_store_md_load(md_store_t *store, md_store_group_t group,
                              const char *name, md_t **pmd, apr_pool_t *p);
apr_status_t md_store_md_save(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                              const md_t *md, int create);
apr_status_t md_store_md_remove(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, int force);
/* Private key and certificate chain of a key spec (file names of 1.3:
 * md_pkey_filename / md_chain_filename). */
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
/* A JSON value (MD_SV_JSON shortcut). */
apr_status_t md_store_load_json(md_store_t *store, md_store_group_t group,
                                const char *name, const char *aspect,
                                struct md_json_t **pjson, apr_pool_t *p);
apr_status_t md_store_save_json(md_store_t *store, apr_pool_t *p, md_store_group_t group,
                                const char *name, const char *aspect,
                                struct md_json_t *json, int create);

#endif /* md_store_h */
