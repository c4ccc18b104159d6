/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The cluster store on APR-util's DBD layer (md_dbstore.h): the schema,
 * copying store directories to rows and back, the per-MD lease with its
 * fencing token. APR-util's DBD API stays inside this file.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_fnmatch.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "md.h"
#include "md_crypto.h"
#include "md_dbstore.h"
#include "md_json.h"
#include "md_log.h"
#include "md_store.h"
#include "md_util.h"

/* How long after a failed connection the next try waits. */
#define RECONNECT_DELAY     apr_time_from_sec(5)

/* --- pure decisions and the value format ---------------------------------------------- */

int md_dbstore_lease_may_take(const md_dbstore_lease_t *cur, const char *holder,
                              apr_time_t now)
{
    if (!cur || !cur->holder || !*cur->holder) return 1;
    if (cur->expires <= now) return 1;
    return holder && !strcmp(cur->holder, holder);
}

int md_dbstore_lease_extend_due(apr_time_t last, apr_interval_time_t lease_time,
                                apr_time_t now)
{
    /* a third of the lease: two extensions may fail (a slow database)
     * before the lease runs out under a renewal that makes progress */
    return now < last || now - last >= lease_time / 3;
}

int md_dbstore_set_is_newer(apr_time_t db_until, apr_time_t local_until, apr_time_t now)
{
    return db_until > now && db_until > local_until;
}

int md_dbstore_aspect_is_key(const char *aspect)
{
    if (!aspect) return 0;
    return !strcmp(MD_FN_ACCT_KEY, aspect)
           || APR_SUCCESS == apr_fnmatch("privkey*.pem", aspect, 0)
           || APR_SUCCESS == apr_fnmatch("acme-tls-alpn-01-privkey*.pem", aspect, 0)
           || APR_SUCCESS == apr_fnmatch("fallback-privkey*.pem", aspect, 0);
}

apr_status_t md_dbstore_encode(const char **ptext, md_store_t *store,
                               md_store_group_t group, const char *name,
                               const char *aspect, const char *kek, apr_size_t kek_len,
                               apr_pool_t *p)
{
    const char *text = NULL;
    md_pkey_t *pkey;
    apr_status_t rv;

    if (!md_dbstore_aspect_is_key(aspect)) {
        rv = md_store_load(store, group, name, aspect, MD_SV_TEXT, (void **)&text, p);
        goto leave;
    }
    if (!kek || !kek_len) {
        rv = APR_EINVAL;
        goto leave;
    }
    rv = md_store_load(store, group, name, aspect, MD_SV_PKEY, (void **)&pkey, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_pkey_to_pem(&text, pkey, p, kek, kek_len);
leave:
    *ptext = (APR_SUCCESS == rv) ? text : NULL;
    return rv;
}

apr_status_t md_dbstore_decode(md_store_t *store, md_store_group_t group,
                               const char *name, const char *aspect, const char *text,
                               const char *kek, apr_size_t kek_len, apr_pool_t *p)
{
    md_pkey_t *pkey;
    apr_status_t rv;

    if (!md_dbstore_aspect_is_key(aspect)) {
        return md_store_save(store, p, group, name, aspect, MD_SV_TEXT, (void *)text, 0);
    }
    if (!kek || !kek_len) return APR_EINVAL;
    rv = md_pkey_read_pem(&pkey, p, kek, kek_len, text, strlen(text));
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10841: %s/%s/%s: the key from "
                      "the cluster store does not decrypt with the cluster key",
                      md_store_group_name(group), name, aspect);
        return APR_EINVAL;
    }
    return md_store_save(store, p, group, name, aspect, MD_SV_PKEY, pkey, 0);
}

/* --- the connection ------------------------------------------------------------------- */

/* The statements, prepared on each new connection. Values are text; times
 * are seconds since the epoch on the database's clock. */
typedef enum {
    Q_ROWS, Q_ROW, Q_DROP, Q_PUT, Q_NAMES, Q_LEASE_INIT, Q_LEASE_GET, Q_LEASE_SET,
    Q_LEASE_FREE, Q_LEASE_EXTEND, Q_COUNT
} query_id;

static const char *const QUERIES[Q_COUNT] = {
    "SELECT aspect, value FROM md_value WHERE grp = %s AND name = %s",
    "SELECT value FROM md_value WHERE grp = %s AND name = %s AND aspect = %s",
    "DELETE FROM md_value WHERE grp = %s AND name = %s",
    "INSERT INTO md_value (grp, name, aspect, value, serial, node) "
    "VALUES (%s, %s, %s, %s, nextval('md_serial'), %s)",
    "SELECT DISTINCT name FROM md_value WHERE grp = %s",
    "INSERT INTO md_lease (name, holder, token, expires) VALUES (%s, '', 0, 0) "
    "ON CONFLICT (name) DO NOTHING",
    "SELECT holder, token, expires, extract(epoch FROM clock_timestamp())::bigint, "
    "nextval('md_serial') FROM md_lease WHERE name = %s FOR UPDATE",
    "UPDATE md_lease SET holder = %s, token = %s, "
    "expires = extract(epoch FROM clock_timestamp())::bigint + %s WHERE name = %s",
    "UPDATE md_lease SET expires = 0 WHERE name = %s AND token = %s",
    "UPDATE md_lease SET expires = extract(epoch FROM clock_timestamp())::bigint + %s "
    "WHERE name = %s AND token = %s",
};

static const char *const SCHEMA[] = {
    "CREATE TABLE IF NOT EXISTS md_value (grp text NOT NULL, name text NOT NULL, "
    "aspect text NOT NULL, value text NOT NULL, serial bigint NOT NULL, "
    "node text NOT NULL, modified timestamptz NOT NULL DEFAULT now(), "
    "PRIMARY KEY (grp, name, aspect))",
    "CREATE TABLE IF NOT EXISTS md_lease (name text PRIMARY KEY, holder text NOT NULL, "
    "token bigint NOT NULL, expires bigint NOT NULL)",
    "CREATE SEQUENCE IF NOT EXISTS md_serial",
};

struct md_dbstore_t {
    apr_pool_t *p;
    const apr_dbd_driver_t *driver;
    const char *driver_name;
    const char *params;
    char *kek;
    apr_size_t kek_len;
    const char *holder;
    apr_interval_time_t lease_time;
    apr_thread_mutex_t *mutex;
    apr_pool_t *cpool;                  /* the connection's, NULL: none */
    apr_dbd_t *handle;
    apr_dbd_prepared_t *stmt[Q_COUNT];
    char error[256];                    /* the last connection error */
    apr_time_t error_at;
    apr_time_t tried_at;
};

static void disconnect(md_dbstore_t *db)
{
    if (db->handle) {
        apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
    if (db->cpool) {
        apr_pool_destroy(db->cpool);
        db->cpool = NULL;
    }
    /* the statements lived in the connection's pool, and apr_dbd_prepare
     * fills a statement it is given instead of making one: a reconnect
     * after the database went away wrote into freed memory */
    memset(db->stmt, 0, sizeof(db->stmt));
}

static apr_status_t db_cleanup(void *data)
{
    disconnect(data);
    return APR_SUCCESS;
}

apr_status_t md_dbstore_create(md_dbstore_t **pdb, const char *driver, const char *params,
                               const char *kek, apr_size_t kek_len, const char *holder,
                               apr_interval_time_t lease_time, const char **perr,
                               apr_pool_t *p)
{
    md_dbstore_t *db = apr_pcalloc(p, sizeof(*db));
    apr_status_t rv;

    *perr = NULL;
    db->p = p;
    db->driver_name = apr_pstrdup(p, driver);
    db->params = apr_pstrdup(p, params);
    db->kek = apr_pmemdup(p, kek, kek_len);
    db->kek_len = kek_len;
    db->holder = apr_pstrdup(p, holder);
    db->lease_time = lease_time;
    rv = apr_dbd_init(p);
    if (APR_SUCCESS != rv) goto leave;
    rv = apr_dbd_get_driver(p, driver, &db->driver);
    if (APR_SUCCESS != rv) {
        *perr = apr_psprintf(p, "APR-util has no DBD driver '%s'%s", driver,
                             strcmp("pgsql", driver) ? ""
                             : " (install libaprutil1-dbd-pgsql)");
        goto leave;
    }
    rv = apr_thread_mutex_create(&db->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    if (APR_SUCCESS != rv) goto leave;
    apr_pool_cleanup_register(p, db, db_cleanup, apr_pool_cleanup_null);
leave:
    *pdb = (APR_SUCCESS == rv) ? db : NULL;
    return rv;
}

static void set_error(md_dbstore_t *db, const char *what, const char *detail)
{
    char *nl;

    apr_snprintf(db->error, sizeof(db->error), "%s: %s", what,
                 detail ? detail : "unknown error");
    /* libpq's messages end in a newline (and may have two lines) */
    while ((nl = strchr(db->error, '\n'))) {
        if (!nl[1]) {
            *nl = '\0';
            break;
        }
        *nl = ' ';
    }
    db->error_at = apr_time_now();
}

/* Creates the tables when missing (two nodes starting at once may race on
 * it: a second try sees the other's tables) and prepares the statements. */
static apr_status_t setup_connection(md_dbstore_t *db)
{
    int i, n, err, tries;

    for (i = 0; i < (int)(sizeof(SCHEMA) / sizeof(SCHEMA[0])); ++i) {
        for (tries = 0, err = 1; err && tries < 3; ++tries) {
            err = apr_dbd_query(db->driver, db->handle, &n, SCHEMA[i]);
        }
        if (err) {
            set_error(db, "creating the tables",
                      apr_dbd_error(db->driver, db->handle, err));
            return APR_EGENERAL;
        }
    }
    for (i = 0; i < Q_COUNT; ++i) {
        /* without a label: the pgsql driver of APR-util 1.6 builds a broken
         * PREPARE for labelled statements; unlabelled ones are sent with
         * their parameters each time */
        err = apr_dbd_prepare(db->driver, db->cpool, db->handle, QUERIES[i], NULL,
                              &db->stmt[i]);
        if (err) {
            set_error(db, "preparing a statement",
                      apr_dbd_error(db->driver, db->handle, err));
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

/* Under the mutex: a live connection or an error. */
static apr_status_t ensure_connected(md_dbstore_t *db, int force)
{
    const char *err = NULL;
    apr_status_t rv;

    if (db->handle && APR_SUCCESS == apr_dbd_check_conn(db->driver, db->cpool,
                                                        db->handle)) {
        return APR_SUCCESS;
    }
    disconnect(db);
    if (!force && db->tried_at && apr_time_now() - db->tried_at < RECONNECT_DELAY) {
        return APR_ECONNREFUSED;
    }
    db->tried_at = apr_time_now();
    /* an unmanaged pool: the connection may be made in any thread */
    rv = apr_pool_create_unmanaged_ex(&db->cpool, NULL, NULL);
    if (APR_SUCCESS != rv) return rv;
    rv = apr_dbd_open_ex(db->driver, db->cpool, db->params, &db->handle, &err);
    if (APR_SUCCESS != rv || !db->handle) {
        db->handle = NULL;
        set_error(db, "connecting", err ? err : "the driver refused the parameters");
        disconnect(db);
        return (APR_SUCCESS != rv) ? rv : APR_EGENERAL;
    }
    rv = setup_connection(db);
    if (APR_SUCCESS != rv) {
        disconnect(db);
        return rv;
    }
    db->error[0] = '\0';
    db->error_at = 0;
    return APR_SUCCESS;
}

apr_status_t md_dbstore_connect(md_dbstore_t *db, int force)
{
    apr_status_t rv;

    apr_thread_mutex_lock(db->mutex);
    rv = ensure_connected(db, force);
    apr_thread_mutex_unlock(db->mutex);
    return rv;
}

/* Takes the mutex (the caller gives it back) and connects if needed. */
static apr_status_t lock_connected(md_dbstore_t *db)
{
    apr_thread_mutex_lock(db->mutex);
    return ensure_connected(db, 0);
}

/* A failed query: remembers the driver's message for md-status. */
static apr_status_t query_failed(md_dbstore_t *db, const char *what, int err,
                                 apr_pool_t *p)
{
    set_error(db, what, apr_dbd_error(db->driver, db->handle, err));
    md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, 0, p, "AH10842: cluster store: %s",
                  db->error);
    return APR_EGENERAL;
}

/* --- rows ------------------------------------------------------------------------------ */

typedef struct {
    apr_array_header_t *aspects;
} aspect_ctx;

static int collect_aspect(void *baton, const char *name, const char *aspect,
                          md_store_vtype_t vtype, void *value, apr_pool_t *ptemp)
{
    aspect_ctx *ctx = baton;
    apr_size_t len = strlen(aspect);

    (void)name; (void)vtype; (void)value; (void)ptemp;
    /* half-written files of a save in progress are not values, the node's
     * own marker is none either */
    if ((len < 4 || strcmp(aspect + len - 4, ".tmp"))
        && strcmp(aspect, MD_DBSTORE_FN_UNPUBLISHED)) {
        APR_ARRAY_PUSH(ctx->aspects, const char *) = apr_pstrdup(ctx->aspects->pool,
                                                                 aspect);
    }
    return 1;
}

/* Under the mutex, in a transaction: 0 when the lease has token. */
static int fence_check(md_dbstore_t *db, const char *lease_name, apr_int64_t token,
                       apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *value;
    int err;

    err = apr_dbd_pvselect(db->driver, p, db->handle, &res, db->stmt[Q_LEASE_GET], 1,
                           lease_name);
    if (err) return err;
    if (apr_dbd_get_row(db->driver, p, res, &row, -1)) return -1;
    /* a copy: draining the rows frees the driver's result (PQclear) */
    value = apr_pstrdup(p, apr_dbd_get_entry(db->driver, row, 1));
    /* read the rest: the driver wants its results drained */
    while (!apr_dbd_get_row(db->driver, p, res, &row, -1)) {
    }
    return (value && apr_atoi64(value) == token) ? 0 : -1;
}

static apr_status_t push_rows(md_dbstore_t *db, md_store_t *store, md_store_group_t group,
                              const char *name, apr_array_header_t *aspects,
                              apr_pool_t *p)
{
    const char *gname = md_store_group_name(group), *aspect, *text;
    apr_status_t rv;
    int i, n, err;

    err = apr_dbd_pvquery(db->driver, p, db->handle, &n, db->stmt[Q_DROP], gname, name);
    if (err) return query_failed(db, "removing old rows", err, p);
    for (i = 0; i < aspects->nelts; ++i) {
        aspect = APR_ARRAY_IDX(aspects, i, const char *);
        rv = md_dbstore_encode(&text, store, group, name, aspect, db->kek, db->kek_len, p);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "AH10843: %s/%s/%s: not "
                          "copied to the cluster store", gname, name, aspect);
            continue;
        }
        err = apr_dbd_pvquery(db->driver, p, db->handle, &n, db->stmt[Q_PUT], gname,
                              name, aspect, text, db->holder);
        if (err) return query_failed(db, "writing a row", err, p);
    }
    return APR_SUCCESS;
}

typedef apr_status_t trans_fn(md_dbstore_t *db, void *baton, apr_pool_t *p);

/* Runs fn in a transaction under the mutex: rolled back when it fails.
 * Plain BEGIN/COMMIT/ROLLBACK statements, not apr_dbd's transaction calls:
 * APR-util 1.6's pgsql driver dereferences a NULL transaction when BEGIN
 * fails on a connection the server has closed (the database went away). */
static apr_status_t in_transaction(md_dbstore_t *db, trans_fn *fn, void *baton,
                                   apr_pool_t *p)
{
    apr_status_t rv;
    int n, err;

    rv = lock_connected(db);
    if (APR_SUCCESS != rv) goto leave;
    err = apr_dbd_query(db->driver, db->handle, &n, "BEGIN");
    if (err) {
        rv = query_failed(db, "starting a transaction", err, p);
        goto leave;
    }
    rv = fn(db, baton, p);
    err = apr_dbd_query(db->driver, db->handle, &n,
                        (APR_SUCCESS == rv) ? "COMMIT" : "ROLLBACK");
    if (err && APR_SUCCESS == rv) {
        rv = query_failed(db, "committing", err, p);
    }
leave:
    apr_thread_mutex_unlock(db->mutex);
    return rv;
}

typedef struct {
    md_store_t *store;
    md_store_group_t group;
    const char *name;
    const char *lease_name;
    apr_int64_t token;
    apr_array_header_t *aspects;
} push_ctx;

static apr_status_t push_fenced(md_dbstore_t *db, void *baton, apr_pool_t *p)
{
    push_ctx *ctx = baton;

    if (ctx->token > 0 && fence_check(db, ctx->lease_name, ctx->token, p)) {
        return APR_EACCES;
    }
    return push_rows(db, ctx->store, ctx->group, ctx->name, ctx->aspects, p);
}

apr_status_t md_dbstore_push(md_dbstore_t *db, md_store_t *store, md_store_group_t group,
                             const char *name, const char *lease_name, apr_int64_t token,
                             apr_pool_t *p)
{
    push_ctx ctx;
    aspect_ctx actx;
    apr_pool_t *ptemp;
    apr_status_t rv;

    apr_pool_create(&ptemp, p);
    actx.aspects = apr_array_make(ptemp, 8, sizeof(const char *));
    rv = md_store_iter(collect_aspect, &actx, store, ptemp, group, name, NULL, MD_SV_TEXT);
    if (APR_SUCCESS == rv) {
        ctx.store = store;
        ctx.group = group;
        ctx.name = name;
        ctx.lease_name = lease_name;
        ctx.token = token;
        ctx.aspects = actx.aspects;
        rv = in_transaction(db, push_fenced, &ctx, ptemp);
    }
    apr_pool_destroy(ptemp);
    return rv;
}

/* Under the mutex: the (aspect, value) pairs of (group, name) into pairs. */
static apr_status_t read_rows(apr_array_header_t *pairs, md_dbstore_t *db,
                              md_store_group_t group, const char *name, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int err;

    err = apr_dbd_pvselect(db->driver, p, db->handle, &res, db->stmt[Q_ROWS], 1,
                           md_store_group_name(group), name);
    if (err) return query_failed(db, "reading rows", err, p);
    while (!apr_dbd_get_row(db->driver, p, res, &row, -1)) {
        APR_ARRAY_PUSH(pairs, const char *) = apr_pstrdup(p, apr_dbd_get_entry(
                                                              db->driver, row, 0));
        APR_ARRAY_PUSH(pairs, const char *) = apr_pstrdup(p, apr_dbd_get_entry(
                                                              db->driver, row, 1));
    }
    return APR_SUCCESS;
}

apr_status_t md_dbstore_pull(md_dbstore_t *db, md_store_t *store, md_store_group_t from,
                             md_store_group_t to, const char *name, apr_pool_t *p)
{
    apr_array_header_t *pairs = apr_array_make(p, 16, sizeof(const char *));
    const char *aspect, *text;
    apr_status_t rv;
    int i;

    rv = lock_connected(db);
    if (APR_SUCCESS == rv) {
        rv = read_rows(pairs, db, from, name, p);
    }
    apr_thread_mutex_unlock(db->mutex);
    if (APR_SUCCESS != rv) return rv;
    if (pairs->nelts == 0) return APR_ENOENT;
    for (i = 0; i + 1 < pairs->nelts; i += 2) {
        aspect = APR_ARRAY_IDX(pairs, i, const char *);
        text = APR_ARRAY_IDX(pairs, i + 1, const char *);
        rv = md_dbstore_decode(store, to, name, aspect, text, db->kek, db->kek_len, p);
        if (APR_SUCCESS != rv) return rv;
    }
    return APR_SUCCESS;
}

apr_status_t md_dbstore_get(const char **ptext, md_dbstore_t *db, md_store_group_t group,
                            const char *name, const char *aspect, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *text = NULL;
    apr_status_t rv;
    int err;

    rv = lock_connected(db);
    if (APR_SUCCESS != rv) goto leave;
    err = apr_dbd_pvselect(db->driver, p, db->handle, &res, db->stmt[Q_ROW], 1,
                           md_store_group_name(group), name, aspect);
    if (err) {
        rv = query_failed(db, "reading a row", err, p);
        goto leave;
    }
    while (!apr_dbd_get_row(db->driver, p, res, &row, -1)) {
        text = apr_pstrdup(p, apr_dbd_get_entry(db->driver, row, 0));
    }
    rv = text ? APR_SUCCESS : APR_ENOENT;
leave:
    apr_thread_mutex_unlock(db->mutex);
    *ptext = text;
    return rv;
}

apr_status_t md_dbstore_drop(md_dbstore_t *db, md_store_group_t group, const char *name,
                             apr_pool_t *p)
{
    apr_status_t rv;
    int n, err;

    rv = lock_connected(db);
    if (APR_SUCCESS == rv) {
        err = apr_dbd_pvquery(db->driver, p, db->handle, &n, db->stmt[Q_DROP],
                              md_store_group_name(group), name);
        if (err) {
            rv = query_failed(db, "removing rows", err, p);
        }
    }
    apr_thread_mutex_unlock(db->mutex);
    return rv;
}

apr_status_t md_dbstore_names(apr_array_header_t **pnames, md_dbstore_t *db,
                              md_store_group_t group, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 16, sizeof(const char *));
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_status_t rv;
    int err;

    rv = lock_connected(db);
    if (APR_SUCCESS != rv) goto leave;
    err = apr_dbd_pvselect(db->driver, p, db->handle, &res, db->stmt[Q_NAMES], 1,
                           md_store_group_name(group));
    if (err) {
        rv = query_failed(db, "listing names", err, p);
        goto leave;
    }
    while (!apr_dbd_get_row(db->driver, p, res, &row, -1)) {
        APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p, apr_dbd_get_entry(
                                                              db->driver, row, 0));
    }
leave:
    apr_thread_mutex_unlock(db->mutex);
    *pnames = names;
    return rv;
}

/* --- the lease ------------------------------------------------------------------------- */

typedef struct {
    apr_int64_t *ptoken;
    md_dbstore_lease_t *cur;
    const char *name;
} lease_ctx;

/* In a transaction: reads the row (locked) and, when this node may, writes
 * itself in with the fresh token. */
static apr_status_t lease_update(md_dbstore_t *db, void *baton, apr_pool_t *p)
{
    lease_ctx *ctx = baton;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *token = NULL, *secs;
    apr_time_t now = 0;
    int n, err;

    err = apr_dbd_pvquery(db->driver, p, db->handle, &n, db->stmt[Q_LEASE_INIT],
                          ctx->name);
    if (err) return query_failed(db, "creating a lease", err, p);
    err = apr_dbd_pvselect(db->driver, p, db->handle, &res, db->stmt[Q_LEASE_GET], 1,
                           ctx->name);
    if (err) return query_failed(db, "reading a lease", err, p);
    while (!apr_dbd_get_row(db->driver, p, res, &row, -1)) {
        ctx->cur->holder = apr_pstrdup(p, apr_dbd_get_entry(db->driver, row, 0));
        ctx->cur->token = apr_atoi64(apr_dbd_get_entry(db->driver, row, 1));
        ctx->cur->expires = apr_time_from_sec(apr_atoi64(apr_dbd_get_entry(db->driver,
                                                                           row, 2)));
        now = apr_time_from_sec(apr_atoi64(apr_dbd_get_entry(db->driver, row, 3)));
        token = apr_pstrdup(p, apr_dbd_get_entry(db->driver, row, 4));
    }
    if (!token) return APR_EGENERAL;
    if (!md_dbstore_lease_may_take(ctx->cur, db->holder, now)) return APR_EAGAIN;
    secs = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)apr_time_sec(db->lease_time));
    err = apr_dbd_pvquery(db->driver, p, db->handle, &n, db->stmt[Q_LEASE_SET],
                          db->holder, token, secs, ctx->name);
    if (err) return query_failed(db, "writing a lease", err, p);
    *ctx->ptoken = apr_atoi64(token);
    return APR_SUCCESS;
}

apr_status_t md_dbstore_lease_take(apr_int64_t *ptoken, md_dbstore_lease_t *pother,
                                   md_dbstore_t *db, const char *name, apr_pool_t *p)
{
    lease_ctx ctx;
    apr_status_t rv;

    *ptoken = 0;
    memset(pother, 0, sizeof(*pother));
    ctx.ptoken = ptoken;
    ctx.cur = pother;
    ctx.name = name;
    rv = in_transaction(db, lease_update, &ctx, p);
    if (APR_SUCCESS != rv) {
        *ptoken = 0;
    }
    return rv;
}

apr_status_t md_dbstore_lease_release(md_dbstore_t *db, const char *name,
                                      apr_int64_t token, apr_pool_t *p)
{
    apr_status_t rv;
    int n, err;

    rv = lock_connected(db);
    if (APR_SUCCESS == rv) {
        err = apr_dbd_pvquery(db->driver, p, db->handle, &n, db->stmt[Q_LEASE_FREE], name,
                              apr_psprintf(p, "%" APR_INT64_T_FMT, token));
        if (err) {
            rv = query_failed(db, "releasing a lease", err, p);
        }
    }
    apr_thread_mutex_unlock(db->mutex);
    return rv;
}

apr_status_t md_dbstore_lease_extend(md_dbstore_t *db, const char *name,
                                     apr_int64_t token, apr_pool_t *p)
{
    const char *secs;
    apr_status_t rv;
    int n = 0, err;

    rv = lock_connected(db);
    if (APR_SUCCESS != rv) goto leave;
    secs = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)apr_time_sec(db->lease_time));
    err = apr_dbd_pvquery(db->driver, p, db->handle, &n, db->stmt[Q_LEASE_EXTEND], secs,
                          name, apr_psprintf(p, "%" APR_INT64_T_FMT, token));
    if (err) {
        rv = query_failed(db, "extending a lease", err, p);
        goto leave;
    }
    /* no row with the token: another node took the lease over */
    rv = (n > 0) ? APR_SUCCESS : APR_EACCES;
leave:
    apr_thread_mutex_unlock(db->mutex);
    return rv;
}

/* --- status ---------------------------------------------------------------------------- */

md_json_t *md_dbstore_status(md_dbstore_t *db, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    apr_thread_mutex_lock(db->mutex);
    md_json_sets(db->driver_name, json, "driver", NULL);
    md_json_setb(db->handle != NULL, json, "connected", NULL);
    if (db->error[0]) {
        md_json_sets(db->error, json, "error", NULL);
        md_json_set_time(db->error_at, json, "error-at", NULL);
    }
    apr_thread_mutex_unlock(db->mutex);
    return json;
}

const char *md_dbstore_last_error(md_dbstore_t *db, apr_pool_t *p)
{
    const char *err;

    apr_thread_mutex_lock(db->mutex);
    err = db->error[0] ? apr_pstrdup(p, db->error) : NULL;
    apr_thread_mutex_unlock(db->mutex);
    return err;
}
