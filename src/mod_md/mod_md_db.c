/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * MDStoreDB in the module (mod_md_db.h): parses the directive, reads the
 * cluster key in the parent, opens a cluster store per child (connecting
 * on first use: a database that is down never delays a start), wraps the
 * renewal drive in the MD's lease and answers challenges of other nodes.
 */
#include <string.h>
#include <unistd.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "md.h"
#include "md_crypto.h"
#include "md_dbstore.h"
#include "md_job.h"
#include "md_json.h"
#include "md_reg.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"
#include "mod_md.h"
#include "mod_md_db.h"
#include "mod_md_init.h"

APLOG_USE_MODULE(md);

/* The lease time when MDStoreDB names none: longer than any renewal. */
#define DEF_LEASE_TIME      apr_time_from_sec(10 * 60)
/* While the database cannot be reached, a renewal run says so at WARNING
 * this often, at DEBUG in between (each MD is tried every MDRetryDelay). */
#define DOWN_WARN_INTERVAL  apr_time_from_sec(10 * 60)
/* A cluster key shorter than this is refused. */
#define MIN_KEY_LEN         16

typedef struct {
    const char *driver;
    const char *params;
    const char *key_file;
    const char *node;
    apr_interval_time_t lease_time;
    const char *kek;                /* the key file's bytes, read in post_config */
    apr_size_t kek_len;
} db_conf_t;

static db_conf_t *db_conf;          /* of the configuration in force, NULL: none */
static md_dbstore_t *the_db;        /* this child's, NULL in the parent */
static apr_time_t down_warned;      /* last AH10851 at WARNING (a race logs twice) */

/* Staged aspects that belong to the node that made them. */
static const char *const NODE_ASPECTS[] = {
    MD_FN_JOB, MD_FN_ORDER, "ari.json", "renew-request", NULL
};

/* --- the directive ------------------------------------------------------------------- */

static apr_status_t conf_reset(void *data)
{
    if (db_conf == data) {
        db_conf = NULL;
    }
    return APR_SUCCESS;
}

/* 1 if the DBD params name a password (they may be logged by a driver or
 * shown by mistake: passwords come from passfile= or PGPASSWORD). */
static int names_password(const char *params)
{
    const char *s = params;

    while ((s = ap_strcasestr(s, "password"))) {
        s += 8;
        if (s - 8 == params || !apr_isalnum(s[-9])) {
            while (apr_isspace(*s)) {
                ++s;
            }
            if ('=' == *s) return 1;
        }
    }
    return 0;
}

static const char *set_option(cmd_parms *cmd, db_conf_t *dc, const char *arg)
{
    apr_status_t rv;

    if (!strncmp("key=", arg, 4) && arg[4]) {
        dc->key_file = ap_server_root_relative(cmd->pool, arg + 4);
    }
    else if (!strncmp("node=", arg, 5) && arg[5]) {
        dc->node = arg + 5;
    }
    else if (!strncmp("lease=", arg, 6)) {
        rv = md_duration_parse(&dc->lease_time, arg + 6, "s");
        if (APR_SUCCESS != rv || dc->lease_time < apr_time_from_sec(5)) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a lease time of at least "
                                "5 seconds", cmd->cmd->name, arg);
        }
    }
    else {
        return apr_psprintf(cmd->pool, "%s: unknown option '%s' (key=FILE, "
                            "lease=DURATION, node=NAME)", cmd->cmd->name, arg);
    }
    return NULL;
}

const char *md_db_set_store(cmd_parms *cmd, void *dconf, int argc, char *const argv[])
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    db_conf_t *dc;
    int i;

    (void)dconf;
    if (err) return err;
    if (argc < 3) {
        return apr_psprintf(cmd->pool, "%s needs a driver, its parameters and "
                            "key=FILE", cmd->cmd->name);
    }
    if (names_password(argv[1])) {
        return apr_psprintf(cmd->pool, "%s: no password in the parameters, they may "
                            "be shown; use passfile=FILE or the PGPASSWORD "
                            "environment variable", cmd->cmd->name);
    }
    dc = apr_pcalloc(cmd->pool, sizeof(*dc));
    dc->driver = argv[0];
    dc->params = argv[1];
    dc->lease_time = DEF_LEASE_TIME;
    for (i = 2; i < argc; ++i) {
        if ((err = set_option(cmd, dc, argv[i]))) return err;
    }
    if (!dc->key_file) {
        return apr_psprintf(cmd->pool, "%s: key=FILE is missing (the cluster key that "
                            "encrypts private keys in the database)", cmd->cmd->name);
    }
    db_conf = dc;
    apr_pool_cleanup_register(cmd->pool, dc, conf_reset, apr_pool_cleanup_null);
    return NULL;
}

/* --- start-up ---------------------------------------------------------------------------- */

static int db_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                          server_rec *s)
{
    md_dbstore_t *probe;
    const char *data, *err;
    apr_size_t len;
    apr_status_t rv;

    (void)plog; (void)ptemp;
    if (!db_conf) return OK;
    rv = md_util_fread_all(&data, &len, db_conf->key_file, 64 * 1024, pconf);
    while (APR_SUCCESS == rv && len > 0 && apr_isspace(data[len - 1])) --len;
    if (APR_SUCCESS != rv || len < MIN_KEY_LEN) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, APLOGNO(10844)
                     "MDStoreDB: the cluster key file %s %s", db_conf->key_file,
                     APR_SUCCESS != rv ? "cannot be read"
                     : "holds fewer than 16 bytes");
        return !OK;
    }
    db_conf->kek = data;
    db_conf->kek_len = len;
    /* the driver is loaded now: a missing one is a configuration error */
    rv = md_dbstore_create(&probe, db_conf->driver, db_conf->params, data, len, "",
                           db_conf->lease_time, &err, ptemp);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, APLOGNO(10845) "MDStoreDB: %s",
                     err ? err : "the cluster store cannot be set up");
        return !OK;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10846)
                 "MDStoreDB: cluster store on %s, lease time %s; nodes connect on "
                 "first use", db_conf->driver,
                 md_duration_print(ptemp, db_conf->lease_time));
    return OK;
}

/* This node's name in leases: the configured one (or the host name) and
 * the process, so that a child of an earlier generation still renewing
 * keeps its lease. */
static const char *holder_name(apr_pool_t *p)
{
    char host[256];

    if (db_conf->node) {
        return apr_psprintf(p, "%s/%ld", db_conf->node, (long)getpid());
    }
    if (gethostname(host, sizeof(host) - 1)) {
        apr_cpystrn(host, "unknown", sizeof(host));
    }
    host[sizeof(host) - 1] = '\0';
    return apr_psprintf(p, "%s/%ld", host, (long)getpid());
}

static void db_child_init(apr_pool_t *pchild, server_rec *s)
{
    const char *err;
    apr_status_t rv;

    the_db = NULL;
    if (!db_conf || !db_conf->kek) return;
    rv = md_dbstore_create(&the_db, db_conf->driver, db_conf->params, db_conf->kek,
                           db_conf->kek_len, holder_name(pchild), db_conf->lease_time,
                           &err, pchild);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10847) "MDStoreDB: %s",
                     err ? err : "the cluster store cannot be set up");
    }
}

void md_db_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(db_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(db_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}

/* --- the renewal ------------------------------------------------------------------------- */

typedef struct {
    md_renew_drive_fn *drive;
    void *baton;
} inner_drive_t;

/* Until when the certificate of the staged set in the database is valid
 * (0: none there, the database cannot say, or it is not for all of md's
 * domains: a node configured with other names orders its own), its start
 * in *pfrom. */
static apr_time_t db_staged_until(apr_time_t *pfrom, const md_t *md, apr_pool_t *p)
{
    const md_pkey_spec_t *spec = md_pkeys_spec_get(md->pks, 0);
    apr_array_header_t *chain = apr_array_make(p, 3, sizeof(md_cert_t *));
    const char *pem;
    md_cert_t *leaf;

    *pfrom = 0;
    if (APR_SUCCESS != md_dbstore_get(&pem, the_db, MD_SG_STAGING, md->name,
                                      md_chain_filename(spec, p), p)
        || APR_SUCCESS != md_chain_read_pem(chain, p, pem, strlen(pem))
        || chain->nelts < 1) {
        return 0;
    }
    leaf = APR_ARRAY_IDX(chain, 0, md_cert_t *);
    if (!md_cert_covers_md(leaf, md, p)) return 0;
    *pfrom = md_cert_get_not_before(leaf);
    return md_cert_get_not_after(leaf);
}

/* Copies the set renewed by another node into staging when it is newer
 * than what this node has: 1 when it did (result tells). */
static int take_other_set(const md_renew_opts_t *opts, const md_t *md,
                          md_result_t *result, apr_pool_t *p)
{
    apr_time_t from, until, local_from, local_until = 0;
    char date[APR_RFC822_DATE_LEN];
    apr_status_t rv;
    int i;

    until = db_staged_until(&from, md, p);
    if (MD_S_COMPLETE == md->state && opts->reg) {
        md_reg_valid_period(&local_from, &local_until, opts->reg, md, p);
    }
    if (!md_dbstore_set_is_newer(until, local_until, apr_time_now())) return 0;
    md_store_purge(opts->store, p, MD_SG_STAGING, md->name);
    rv = md_dbstore_pull(the_db, opts->store, MD_SG_STAGING, MD_SG_STAGING, md->name, p);
    for (i = 0; APR_SUCCESS == rv && NODE_ASPECTS[i]; ++i) {
        md_store_remove(opts->store, MD_SG_STAGING, md->name, NODE_ASPECTS[i], p, 1);
    }
    if (APR_SUCCESS != rv) {
        md_store_purge(opts->store, p, MD_SG_STAGING, md->name);
        return 0;
    }
    apr_rfc822_date(date, from);
    md_result_delay_set(result, from);
    md_result_printf(result, APR_SUCCESS, "The certificate for the managed domain has "
                     "been renewed by another node of the cluster and is staged here "
                     "(valid from %s).", date);
    md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "AH10848: %s: took the set another "
                  "node renewed from the cluster store", md->name);
    return 1;
}

/* The account a renewal used, when it was not a new one (then it is in
 * staging already), goes with the set: the other nodes activate it as their
 * own account instead of registering one at their next order. */
static void stage_account(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    md_t *staged;
    void *json, *pkey;

    if (md_store_exists(store, MD_SG_STAGING, md->name, MD_FN_ACCOUNT, p)
        || APR_SUCCESS != md_store_md_load(store, MD_SG_STAGING, md->name, &staged, p)
        || !staged->ca_account
        || APR_SUCCESS != md_store_load(store, MD_SG_ACCOUNTS, staged->ca_account,
                                        MD_FN_ACCOUNT, MD_SV_JSON, &json, p)
        || APR_SUCCESS != md_store_load(store, MD_SG_ACCOUNTS, staged->ca_account,
                                        MD_FN_ACCT_KEY, MD_SV_PKEY, &pkey, p)) {
        return;
    }
    /* the key first: a staged account.json is taken as a whole account */
    if (APR_SUCCESS == md_store_save(store, p, MD_SG_STAGING, md->name, MD_FN_ACCT_KEY,
                                     MD_SV_PKEY, pkey, 0)) {
        md_store_save(store, p, MD_SG_STAGING, md->name, MD_FN_ACCOUNT, MD_SV_JSON,
                      json, 0);
    }
}

/* Hands the staged set to the database while the lease still has token. */
static apr_status_t publish(const md_renew_opts_t *opts, const md_t *md,
                            apr_int64_t token, md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv;

    stage_account(opts->store, md, p);
    rv = md_dbstore_push(the_db, opts->store, MD_SG_STAGING, md->name, md->name, token, p);
    if (APR_STATUS_IS_EACCES(rv)) {
        /* another node took the lease: its set is the one that counts */
        md_store_purge(opts->store, p, MD_SG_STAGING, md->name);
        md_result_printf(result, APR_EACCES, "the lease on the renewal was taken over "
                         "by another node; this node's result is discarded");
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, 0, p, "AH10849: %s: %s", md->name,
                      result->detail);
        return MD_RENEW_ELSEWHERE;
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "AH10850: %s: renewed, but "
                      "the cluster store did not take the set: it is offered again at "
                      "the next runs while it is staged here", md->name);
        md_store_save(opts->store, p, MD_SG_STAGING, md->name, MD_DBSTORE_FN_UNPUBLISHED,
                      MD_SV_TEXT, (void *)"the cluster store did not take this set\n", 0);
    }
    return APR_SUCCESS;
}

/* Another node holds the lease or the database cannot be asked. */
static apr_status_t not_here(const md_t *md, apr_status_t rv,
                             const md_dbstore_lease_t *other, md_result_t *result,
                             apr_pool_t *p)
{
    char date[APR_RFC822_DATE_LEN];
    md_log_level_t level = MD_LOG_DEBUG;
    apr_time_t now = apr_time_now();
    const char *err;

    if (APR_STATUS_IS_EAGAIN(rv)) {
        apr_rfc822_date(date, other->expires);
        md_result_printf(result, APR_EAGAIN, "renewed by cluster node %s (lease until "
                         "%s)", other->holder, date);
        return MD_RENEW_ELSEWHERE;
    }
    err = md_dbstore_last_error(the_db, p);
    md_result_printf(result, rv, "the cluster store cannot be reached (%s): no node "
                     "renews before it can", err ? err : "no connection");
    if (now - down_warned >= DOWN_WARN_INTERVAL) {
        down_warned = now;
        level = MD_LOG_WARNING;
    }
    md_log_perror(MD_LOG_MARK, level, rv, p, "AH10851: %s: %s", md->name, result->detail);
    return MD_RENEW_ELSEWHERE;
}

static void drop_challenges(const md_t *md, apr_pool_t *p)
{
    int i;

    for (i = 0; i < md->domains->nelts; ++i) {
        md_dbstore_drop(the_db, MD_SG_CHALLENGES, APR_ARRAY_IDX(md->domains, i,
                                                                const char *), p);
    }
}

/* A renewal keeps its lease while it makes progress: at each change of its
 * result (a step of the order) the lease is extended when a third of it
 * has passed, as long as it still has the token. A renewal that hangs
 * stops extending and is taken over. */
typedef struct {
    md_result_change_cb *inner_cb;      /* the job's observer, called after */
    void *inner_data;
    const char *name;
    apr_int64_t token;
    apr_time_t last;                    /* taken or last extended */
    int lost;
    apr_pool_t *p;
} lease_watch_t;

static void lease_heartbeat(md_result_t *result, void *baton)
{
    lease_watch_t *w = baton;
    apr_time_t now = apr_time_now();
    apr_pool_t *ptemp;
    apr_status_t rv;

    if (!w->lost && md_dbstore_lease_extend_due(w->last, db_conf->lease_time, now)
        && APR_SUCCESS == apr_pool_create(&ptemp, w->p)) {
        rv = md_dbstore_lease_extend(the_db, w->name, w->token, ptemp);
        if (APR_SUCCESS == rv) {
            w->last = now;
            md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, ptemp, "AH10854: %s: renewal "
                          "lease extended (token %" APR_INT64_T_FMT ")", w->name,
                          w->token);
        }
        else if (APR_STATUS_IS_EACCES(rv)) {
            /* the fencing token refuses the result: nothing more to keep */
            w->lost = 1;
            md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, ptemp, "AH10855: %s: another "
                          "node took the renewal lease over during the renewal",
                          w->name);
        }
        apr_pool_destroy(ptemp);
    }
    if (w->inner_cb) {
        w->inner_cb(result, w->inner_data);
    }
}

/* The inner drive under the lease with token, kept alive meanwhile. */
static apr_status_t drive_leased(const md_renew_opts_t *iopts, md_t *md, md_job_t *job,
                                 md_result_t *result, apr_int64_t token, apr_pool_t *p)
{
    lease_watch_t w;
    apr_status_t rv;

    w.inner_cb = result->on_change;
    w.inner_data = result->on_change_data;
    w.name = md->name;
    w.token = token;
    w.last = apr_time_now();
    w.lost = 0;
    w.p = p;
    md_result_on_change(result, lease_heartbeat, &w);
    rv = iopts->drive(iopts, md, job, result, p);
    md_result_on_change(result, w.inner_cb, w.inner_data);
    return rv;
}

static apr_status_t db_drive(const md_renew_opts_t *opts, md_t *md, md_job_t *job,
                             md_result_t *result, apr_pool_t *p)
{
    const inner_drive_t *inner = opts->drive_baton;
    md_renew_opts_t iopts = *opts;
    md_dbstore_lease_t other;
    apr_int64_t token;
    apr_status_t rv;

    iopts.drive = inner->drive;
    iopts.drive_baton = inner->baton;
    if (!the_db) return inner->drive(&iopts, md, job, result, p);
    if (take_other_set(opts, md, result, p)) return APR_SUCCESS;
    rv = md_dbstore_lease_take(&token, &other, the_db, md->name, p);
    if (APR_SUCCESS != rv) return not_here(md, rv, &other, result, p);
    down_warned = 0;
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10852: %s: holding the renewal "
                  "lease (token %" APR_INT64_T_FMT ")", md->name, token);
    /* the node that held the lease before may have published between the
     * first look and the lease */
    if (take_other_set(opts, md, result, p)) {
        rv = APR_SUCCESS;
    }
    else {
        rv = drive_leased(&iopts, md, job, result, token, p);
        if (APR_SUCCESS == rv) {
            rv = publish(opts, md, token, result, p);
        }
        drop_challenges(md, p);
    }
    md_dbstore_lease_release(the_db, md->name, token, p);
    return rv;
}

void md_db_drive_wrap(md_renew_opts_t *opts, apr_pool_t *p)
{
    inner_drive_t *inner;

    if (!db_conf) return;
    inner = apr_pcalloc(p, sizeof(*inner));
    inner->drive = opts->drive;
    inner->baton = opts->drive_baton;
    opts->drive = db_drive;
    opts->drive_baton = inner;
}

/* Until when the certificate staged here is valid (0: none). */
static apr_time_t local_staged_until(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    const md_pkey_spec_t *spec = md_pkeys_spec_get(md->pks, 0);
    apr_array_header_t *chain;

    if (APR_SUCCESS != md_store_load(store, MD_SG_STAGING, md->name,
                                     md_chain_filename(spec, p), MD_SV_CHAIN,
                                     (void **)&chain, p)
        || chain->nelts < 1) {
        return 0;
    }
    return md_cert_get_not_after(APR_ARRAY_IDX(chain, 0, md_cert_t *));
}

/* One unpublished set: 1 when it is settled (published, or the database
 * has a set as new), 0 when it is to be tried again. */
static int publish_one(const md_renew_opts_t *opts, const md_t *md, apr_time_t now,
                       apr_pool_t *p)
{
    md_dbstore_lease_t other;
    apr_time_t from, until, db_until;
    apr_int64_t token;
    apr_status_t rv;

    if (APR_SUCCESS != md_dbstore_connect(the_db, 0)) return 0;
    until = local_staged_until(opts->store, md, p);
    db_until = db_staged_until(&from, md, p);
    if (!md_dbstore_set_is_newer(until, db_until, now)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "AH10857: %s: the cluster store "
                      "has a set as new as the one staged here, not publishing it",
                      md->name);
        md_store_remove(opts->store, MD_SG_STAGING, md->name, MD_DBSTORE_FN_UNPUBLISHED,
                        p, 1);
        return 1;
    }
    /* under the lease, as a renewal: no node writes its set meanwhile */
    rv = md_dbstore_lease_take(&token, &other, the_db, md->name, p);
    if (APR_SUCCESS != rv) return 0;
    rv = md_dbstore_push(the_db, opts->store, MD_SG_STAGING, md->name, md->name, token, p);
    md_dbstore_lease_release(the_db, md->name, token, p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "AH10858: %s: the staged set is "
                      "still not in the cluster store", md->name);
        return 0;
    }
    md_store_remove(opts->store, MD_SG_STAGING, md->name, MD_DBSTORE_FN_UNPUBLISHED, p, 1);
    md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "AH10856: %s: the set renewed here is "
                  "now in the cluster store", md->name);
    return 1;
}

apr_time_t md_db_publish_pending(const md_renew_opts_t *opts, apr_array_header_t *mds,
                                 apr_pool_t *p)
{
    apr_time_t now = apr_time_now();
    int i, pending = 0;
    md_t *md;

    if (!the_db) return 0;
    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, md_t *);
        if (md_store_exists(opts->store, MD_SG_STAGING, md->name,
                            MD_DBSTORE_FN_UNPUBLISHED, p)
            && !publish_one(opts, md, now, p)) {
            pending = 1;
        }
    }
    return pending ? now + (opts->retry_delay > 0 ? opts->retry_delay
                                                  : apr_time_from_sec(5)) : 0;
}

/* --- challenges ---------------------------------------------------------------------------- */

void md_db_challenge_setup(const char *domain, apr_pool_t *p)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    apr_status_t rv;

    if (!the_db || !rt || !rt->store) return;
    rv = md_dbstore_push(the_db, rt->store, MD_SG_CHALLENGES, domain, NULL, 0, p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "AH10853: %s: the challenge "
                      "is not in the cluster store: only this node can answer it", domain);
    }
}

apr_status_t md_db_challenge_get(const char **ptext, const char *domain,
                                 const char *aspect, apr_pool_t *p)
{
    const char *text = NULL;
    md_pkey_t *pkey;
    apr_status_t rv;

    if (!the_db) {
        rv = APR_ENOENT;
        goto leave;
    }
    rv = md_dbstore_get(&text, the_db, MD_SG_CHALLENGES, domain, aspect, p);
    if (APR_SUCCESS != rv || !md_dbstore_aspect_is_key(aspect)) goto leave;
    rv = md_pkey_read_pem(&pkey, p, db_conf->kek, db_conf->kek_len, text, strlen(text));
    if (APR_SUCCESS != rv) goto leave;
    rv = md_pkey_to_pem(&text, pkey, p, NULL, 0);
leave:
    *ptext = (APR_SUCCESS == rv) ? text : NULL;
    return (APR_SUCCESS == rv || APR_STATUS_IS_ENOENT(rv)) ? rv : APR_ENOENT;
}

/* --- md-status ----------------------------------------------------------------------------- */

const char *md_db_status_add(const char *text, apr_pool_t *p)
{
    md_json_t *json, *db;

    if (!the_db || !text) return text;
    if (APR_SUCCESS != md_json_readd(&json, p, text, strlen(text))) return text;
    /* a child that had no reason to connect yet tries now: md-status
     * tells whether the database can be reached */
    md_dbstore_connect(the_db, 0);
    db = md_dbstore_status(the_db, p);
    md_json_setj(db, json, "cluster-store", NULL);
    return md_json_writep(json, p, MD_JSON_FMT_INDENT);
}
