/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The registry: brings the configured managed domains and the store
 * together. It syncs md.json at start-up (renamed MDs, carried-over account
 * data), assesses each MD's state from its certificates, activates staged
 * sets (staging -> tmp -> domains, old set to archive), hands out the
 * credential files for mod_ssl (real or fallback) and answers renewal
 * questions (renew-at, should renew, should warn).
 */
#ifndef md_reg_h
#define md_reg_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_store.h"
#include "md_util.h"

struct md_result_t;
struct md_cert_t;

typedef struct md_reg_t md_reg_t;

/* The certificate chain of one slot of an MD (a key spec, or a static
 * MDCertificateFile), with its files and the outcome of loading it. */
typedef struct md_pubcert_t {
    apr_array_header_t *certs;  /* the leaf md_cert_t* only; NULL if not loaded */
    const char *cert_file;
    const char *key_file;
    apr_status_t rv;            /* APR_SUCCESS, APR_ENOENT missing, else unusable */
    const char *error;          /* why it is unusable (NULL when fine) */
    apr_time_t not_before;      /* of the leaf, when rv is APR_SUCCESS */
    apr_time_t not_after;
    md_data_t leaf_der;         /* the leaf, for parsing it again after a drop
                                 * (children may not read domains/) */
} md_pubcert_t;

/* Creates a registry on the store. The registry lives as long as p and is
 * thread-safe. */
apr_status_t md_reg_create(md_reg_t **preg, apr_pool_t *p, md_store_t *store);
md_store_t *md_reg_store_get(md_reg_t *reg);

/* The global MDChallengeDns01 command and version, for tearing down the
 * challenges of an activated order. */
void md_reg_set_dns01(md_reg_t *reg, const char *dns01_cmd, int dns01_version);

/* Number of certificate slots of the MD: its static files, else its key
 * specs (at least 1). */
int md_reg_slot_count(const md_t *md);
/* Name of a slot as status documents show it: the spec name ("rsa",
 * "secp384r1") or, for static files, the index ("0", "1"). */
const char *md_reg_slot_name(const md_t *md, int i, apr_pool_t *p);

/* Start-up, step 1: for each configured MD (md_t* in mds) find its stored
 * copy, following renames (contract.md 1.10), and carry over contacts,
 * effective CA url and account id from it. Nothing is written yet. The
 * stored copies live in p, which must outlive the md_reg_sync_finish calls;
 * what the configured MDs keep is allocated in the registry's pool. */
apr_status_t md_reg_sync_start(md_reg_t *reg, apr_array_header_t *mds, apr_pool_t *p);

/* Start-up, step 2: activates a staged set of md if there is one
 * (contract.md 1.9). APR_ENOENT when nothing is staged or it is not
 * ready at now; on failure the staged set is purged (AH10069). The staged
 * job (md_json_t, NULL if none) is returned for the `installed` event. */
apr_status_t md_reg_activate_staging(md_reg_t *reg, md_t *md, apr_time_t now,
                                     struct md_json_t **pjob, apr_pool_t *p);

/* The per-MD lock that renewals hold (staging/NAME.lock; md_renew.c takes
 * it with md_store_lock_name, with or without MDStoreLocks), for the
 * activation at start-up: a renewal in a child of the old generation and
 * the activation in the parent never work on one MD at the same time.
 * It is the store's per-name lock on staging/NAME (in the file store:
 * never through a link, a regular file with one link, owned as staging/
 * so that the child opens it too; md_store_fs_lock.c). A renewal that
 * holds it is waited for up to 3 seconds (it may be finishing, its
 * `renewed` event may be what restarts the server); then APR_EAGAIN.
 * *plock NULL on failure and for a read-only store (APR_SUCCESS: nothing
 * renews there). Released by md_reg_unlock_md or with p. */
typedef md_store_lock_t md_reg_lock_t;
apr_status_t md_reg_lock_md(md_reg_lock_t **plock, md_reg_t *reg, const char *name,
                            apr_pool_t *p);
void md_reg_unlock_md(md_reg_lock_t *lock);

/* Purges staging/NAME and challenges/NAME when the staged job had errors
 * (NOTICE AH10064). Returns 1 when it purged. */
int md_reg_purge_errored_staging(md_reg_t *reg, const md_t *md, apr_pool_t *p);

/* Sets accounts whose account.json cannot be read or lacks its urls aside
 * (accounts/<id> -> accounts/broken-<id>, ERR AH10633), so that they are
 * neither retried nor the cause of new registrations on every renewal.
 * Returns the number set aside. */
int md_reg_set_aside_broken_accounts(md_reg_t *reg, apr_pool_t *p);

/* Removes challenges/<x> directories that belong to no configured domain. */
apr_status_t md_reg_purge_stale_challenges(md_reg_t *reg, apr_array_header_t *mds,
                                           apr_pool_t *p);

/* Start-up, step 3: assesses md's state from its certificates and writes
 * domains/NAME/md.json when anything changed. */
apr_status_t md_reg_sync_finish(md_reg_t *reg, md_t *md, apr_pool_t *p);

/* Sets md->state and md->state_descr from its certificates (no writing). */
apr_status_t md_reg_assess(md_reg_t *reg, md_t *md, apr_pool_t *p);

/* The chain of slot i of md (loaded once and cached; thread-safe). The
 * returned object is owned by the registry. */
apr_status_t md_reg_get_pubcert(const md_pubcert_t **ppubcert, md_reg_t *reg,
                                const md_t *md, int i, apr_pool_t *p);
/* Drops cached chains of md (after activation or renewal). */
void md_reg_forget(md_reg_t *reg, const md_t *md);

/* The MD's certificates are now those of chains (apr_array_header_t* of
 * md_cert_t*, one per key spec: a set that went live, md_live.h): renewal
 * timing and status follow them. The files mod_ssl was given stay. */
void md_reg_use_chains(md_reg_t *reg, const md_t *md, apr_array_header_t *chains);
/* Frees the parsed certificates of all MDs, keeping what was learned from
 * them (files, state, validity, the leaf's DER): the parent calls it once
 * the MDs are assessed, so that its memory holds no parsed copy next to
 * mod_ssl's. md_reg_get_pubcert parses the leaf's DER again when asked
 * (child processes cannot read domains/). Not thread-safe against users
 * of returned md_pubcert_t certs. */
void md_reg_drop_certs(md_reg_t *reg);

/* Files to hand to mod_ssl for slot i: only when both exist, parse and
 * match. Otherwise the status of the failure. */
apr_status_t md_reg_get_cred_files(const char **pkeyfile, const char **pcertfile,
                                   md_reg_t *reg, const md_t *md, int i, apr_pool_t *p);
/* Fallback files for slot i, created when missing (self-signed, 14 days,
 * one cached key per key type per registry so that many MDs are cheap). */
apr_status_t md_reg_get_fallback_files(const char **pkeyfile, const char **pcertfile,
                                       md_reg_t *reg, const md_t *md, int i,
                                       apr_pool_t *p);

/* Defers the fsyncs of the store's saves and of fallback files (the
 * parent's start-up: a file or three per MD); md_reg_sync ends that and
 * syncs them all (syncfs of the store's and the fallbacks' file systems).
 * Activation fsyncs the new domains/NAME before it purges staging/NAME,
 * deferred or not. */
void md_reg_defer_sync(md_reg_t *reg, int defer);
apr_status_t md_reg_sync(md_reg_t *reg);

/* Puts fallback files in <dir>/<name>/ instead of domains/<name>/ (dir is
 * created 0700 when needed; NULL restores the default). For a store that
 * cannot be written: the server still gets certificates. */
void md_reg_set_fallback_dir(md_reg_t *reg, const char *dir);

/* Sets md's renew and warn windows that are unset to the defaults (33% and
 * 10% of a certificate's lifetime), so that they are written and printed
 * (a2md add/update/list, as the original's registry does). */
void md_reg_default_windows(md_t *md, apr_pool_t *p);

/* Certificates living shorter than this renew at the latest at half of
 * their lifetime, whatever the renew window says. */
#define MD_SHORT_LIFETIME   apr_time_from_sec(10 * MD_SECS_PER_DAY)

/* When renewal of a certificate valid from..until starts: the start of
 * window (NULL: the default 33%) before until, a percentage taken of the
 * certificate's own lifetime. Under MD_SHORT_LIFETIME: no later than
 * from + lifetime / 2, so that a 6-day certificate has days to spare, and
 * at half as well when the window covers the whole lifetime (an absolute
 * window of 7 days would otherwise renew each new certificate at once). */
apr_time_t md_reg_cert_renew_at(const md_timeslice_t *window, apr_time_t from,
                                apr_time_t until);

/* When renewal of md is due: now when a certificate is missing, else the
 * earliest md_reg_cert_renew_at over its certificates; 0 if unknown. */
apr_time_t md_reg_renew_at(md_reg_t *reg, const md_t *md, apr_time_t now, apr_pool_t *p);
int md_reg_should_renew(md_reg_t *reg, const md_t *md, apr_time_t now, apr_pool_t *p);
/* When the first certificate of md enters its warn window; 0 if none is
 * known. */
apr_time_t md_reg_warn_at(md_reg_t *reg, const md_t *md, apr_pool_t *p);
/* 1 if a certificate is inside its warn window. */
int md_reg_should_warn(md_reg_t *reg, const md_t *md, apr_time_t now, apr_pool_t *p);
/* Intersection of the validity of the present certificates (0/0 if none). */
void md_reg_valid_period(apr_time_t *pfrom, apr_time_t *puntil, md_reg_t *reg,
                         const md_t *md, apr_pool_t *p);

#endif /* md_reg_h */
