/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The cluster store (MDStoreDB, docs/cluster.md): a database reached through
 * APR-util's DBD layer that several nodes share. It is not a store of its own:
 * each node's file store stays what everything reads; this layer copies
 * <group>/<name> directories to and from rows, re-encrypting private keys
 * with a key that is not in the database, and keeps one lease per MD (with a
 * fencing token) so that one node at a time renews it.
 */
#ifndef md_dbstore_h
#define md_dbstore_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_store.h"

struct md_json_t;

typedef struct md_dbstore_t md_dbstore_t;

/* A staging aspect that stays with the node, never copied to the database
 * (md_dbstore_push skips it): marks a set the node renewed that the
 * database did not take, to be published later. */
#define MD_DBSTORE_FN_UNPUBLISHED   "cluster-unpublished"

/* A lease row as read from the database (holder NULL: no row). */
typedef struct {
    const char *holder;
    apr_int64_t token;
    apr_time_t expires;
} md_dbstore_lease_t;

/* 1 if holder may take the lease cur at now: there is none, it ran out,
 * or holder has it already. Pure. */
int md_dbstore_lease_may_take(const md_dbstore_lease_t *cur, const char *holder,
                              apr_time_t now);

/* 1 if a renewal holding a lease of lease_time, last taken or extended
 * at last, should extend it at now (a third of it has passed). Pure. */
int md_dbstore_lease_extend_due(apr_time_t last, apr_interval_time_t lease_time,
                                apr_time_t now);

/* 1 if a staged set in the database whose certificate is valid until
 * db_until should replace what the node has (valid until local_until, 0:
 * nothing): it is newer and not expired at now. Pure. */
int md_dbstore_set_is_newer(apr_time_t db_until, apr_time_t local_until, apr_time_t now);

/* 1 if aspect is a private key file (privkey*.pem, account.pem,
 * acme-tls-alpn-01-privkey*.pem): such values travel encrypted with the
 * cluster key. */
int md_dbstore_aspect_is_key(const char *aspect);

/* The row text of <group>/<name>/<aspect> of store: keys are loaded
 * (decrypted with the store's key) and written as PKCS#8 PEM encrypted with
 * kek; anything else is the file's text. kek_len > 0 required for keys. */
apr_status_t md_dbstore_encode(const char **ptext, md_store_t *store,
                               md_store_group_t group, const char *name,
                               const char *aspect, const char *kek, apr_size_t kek_len,
                               apr_pool_t *p);
/* The reverse: saves text as <group>/<name>/<aspect> into store (keys are
 * decrypted with kek and saved with the store's own encryption).
 * APR_EINVAL when a key does not decrypt (wrong cluster key). */
apr_status_t md_dbstore_decode(md_store_t *store, md_store_group_t group,
                               const char *name, const char *aspect, const char *text,
                               const char *kek, apr_size_t kek_len, apr_pool_t *p);

/* A cluster store for driver ("pgsql") with the driver's params (never
 * logged or shown: they may name a password file), the key-encryption key
 * kek (copied), holder (this node's name in leases) and the lease time. Loads
 * the driver (APR_ENOTIMPL with *perr when APR-util has no such driver) but
 * does not connect: connections are made on first use, in the process that
 * uses them. Lives in p. Thread-safe: one connection per process, used under
 * a mutex. */
apr_status_t md_dbstore_create(md_dbstore_t **pdb, const char *driver, const char *params,
                               const char *kek, apr_size_t kek_len, const char *holder,
                               apr_interval_time_t lease_time, const char **perr,
                               apr_pool_t *p);

/* Connects now when there is no connection (not sooner than 5 s after a
 * failed try unless force is set). APR_SUCCESS when connected. */
apr_status_t md_dbstore_connect(md_dbstore_t *db, int force);

/* Copies every value of <group>/<name> of store into the rows of (group,
 * name), replacing the rows there were, in one transaction. With token > 0
 * only while the lease of lease_name still has that token: APR_EACCES (and
 * nothing written) when another node took it. */
apr_status_t md_dbstore_push(md_dbstore_t *db, md_store_t *store, md_store_group_t group,
                             const char *name, const char *lease_name, apr_int64_t token,
                             apr_pool_t *p);
/* Copies the rows of (from, name) into store's <to>/<name>. APR_ENOENT
 * without rows. */
apr_status_t md_dbstore_pull(md_dbstore_t *db, md_store_t *store, md_store_group_t from,
                             md_store_group_t to, const char *name, apr_pool_t *p);
/* The text of one row, APR_ENOENT without it. */
apr_status_t md_dbstore_get(const char **ptext, md_dbstore_t *db, md_store_group_t group,
                            const char *name, const char *aspect, apr_pool_t *p);
/* Removes the rows of (group, name). */
apr_status_t md_dbstore_drop(md_dbstore_t *db, md_store_group_t group, const char *name,
                             apr_pool_t *p);
/* The names (const char*) that have rows in group. */
apr_status_t md_dbstore_names(apr_array_header_t **pnames, md_dbstore_t *db,
                              md_store_group_t group, apr_pool_t *p);

/* Takes the lease of name for the lease time (the database's clock
 * decides): APR_SUCCESS with a new fencing token in *ptoken, APR_EAGAIN
 * when another holder has it (*pother tells who and until when), other
 * errors when the database cannot be reached. */
apr_status_t md_dbstore_lease_take(apr_int64_t *ptoken, md_dbstore_lease_t *pother,
                                   md_dbstore_t *db, const char *name, apr_pool_t *p);
/* Gives the lease back if it still has token. */
apr_status_t md_dbstore_lease_release(md_dbstore_t *db, const char *name,
                                      apr_int64_t token, apr_pool_t *p);

/* Extends the lease of name by the lease time (from now, on the database's
 * clock) if it still has token: APR_EACCES when another node took it over,
 * other errors when the database cannot be reached. */
apr_status_t md_dbstore_lease_extend(md_dbstore_t *db, const char *name,
                                     apr_int64_t token, apr_pool_t *p);

/* What md-status shows: driver, connected, the last error and when it
 * happened (never the params). */
struct md_json_t *md_dbstore_status(md_dbstore_t *db, apr_pool_t *p);
/* The last connection error, NULL when connected or never tried. */
const char *md_dbstore_last_error(md_dbstore_t *db, apr_pool_t *p);

#endif /* md_dbstore_h */
