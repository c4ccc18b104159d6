/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The checks behind "a2md doctor" that need no server: the verdict model,
 * the judgement of store file modes, jobs in back-off, staged sets, the
 * clock and CAA record sets (RFC 8659), and the DNS look-ups (names and
 * CAA, through the system's resolver or one given server). The probes
 * through a running server are in a2md_doctor.c.
 */
#ifndef md_doctor_h
#define md_doctor_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_store.h"

struct md_json_t;

typedef enum {
    MD_DOCTOR_OK,
    MD_DOCTOR_WARN,
    MD_DOCTOR_FAIL,
    MD_DOCTOR_SKIPPED,              /* could not run; detail says why */
} md_doctor_verdict_t;

typedef struct md_doctor_check_t {
    const char *id;                 /* stable: "store.permissions", "dns.name", ... */
    const char *subject;            /* MD, domain or store path, NULL: global */
    md_doctor_verdict_t verdict;
    const char *detail;             /* what was found */
    const char *fix;                /* one line, NULL when nothing to do */
} md_doctor_check_t;

/* "ok", "warn", "fail", "skipped". */
const char *md_doctor_verdict_name(md_doctor_verdict_t verdict);

/* Appends a check to checks (an array of md_doctor_check_t), strings
 * referenced, not copied. */
md_doctor_check_t *md_doctor_add(apr_array_header_t *checks, const char *id,
                                 const char *subject, md_doctor_verdict_t verdict,
                                 const char *detail, const char *fix);

/* {"id", "subject"?, "verdict", "detail", "fix"?} */
struct md_json_t *md_doctor_to_json(const md_doctor_check_t *check, apr_pool_t *p);

/* 1 if one of the checks failed. */
int md_doctor_any_failed(const apr_array_header_t *checks);

/* --- pure judgements ------------------------------------------------------------ */

/* The mode and owner of one store entry at relpath (relative to the store,
 * "domains/a.org/privkey.pem"; path is where the fix finds it), in group. group_uid is the owner of the
 * group directory (the server's User for staging/, challenges/, ocsp/).
 * mode holds the permission bits as stat() gives them (0644).
 * FAIL with *pwhy and *pfix when the entry keeps renewals from working or
 * exposes a secret, WARN for modes wider than the store gives (contract.md
 * 1.7), else OK. */
md_doctor_verdict_t md_doctor_judge_mode(const char **pwhy, const char **pfix,
                                         const char *relpath, const char *path,
                                         md_store_group_t group,
                                         int is_dir, unsigned int mode,
                                         long uid, long group_uid, apr_pool_t *p);

/* The renewal job of an MD (job.json content, NULL if none) at now: a
 * "renew.backoff" FAIL when runs failed (count, next run, last problem and
 * a fix for it), a "renew.staged" WARN when a finished set waits for a
 * restart (staged says whether staging holds it), else nothing (NULL). */
md_doctor_check_t *md_doctor_judge_job(const char *name, const struct md_json_t *job,
                                       int staged, apr_time_t now, apr_pool_t *p);

/* The CA's clock against ours: skew = CA time - local time. */
md_doctor_verdict_t md_doctor_judge_clock(apr_interval_time_t skew);

/* --- CAA (RFC 8659) ----------------------------------------------------------------- */

typedef struct md_caa_rr_t {
    int critical;                   /* flag bit 128 */
    const char *tag;                /* lower case: "issue", "issuewild", ... */
    const char *value;
} md_caa_rr_t;

/* Parses the RDATA of a CAA record. APR_EINVAL when malformed. */
apr_status_t md_caa_parse(md_caa_rr_t *rr, const unsigned char *data, apr_size_t len,
                          apr_pool_t *p);

/* Whether the relevant record set rrs (md_caa_rr_t, as found at the
 * closest name that has CAA records; empty: none anywhere) lets a CA that
 * names itself with one of identities (caaIdentities) issue for domain
 * (a wildcard "*.x" uses issuewild when present). *pwhy says why not.
 * identities NULL or empty: the CA is unknown, then WARN/SKIPPED is
 * given where records restrict issuance. */
md_doctor_verdict_t md_caa_judge(const char **pwhy, const apr_array_header_t *rrs,
                                 const char *domain, const apr_array_header_t *identities,
                                 apr_pool_t *p);

/* The relevant CAA record set for domain: climbs the labels until a name
 * has CAA records (*powner that name). APR_SUCCESS with an empty array
 * when no name has any, APR_EAGAIN (or another error) when no resolver
 * answered. dns_server "addr[:port]" asks that server (IPv4) instead of the
 * system's. */
apr_status_t md_caa_lookup(apr_array_header_t **prrs, const char **powner,
                           const char *domain, const char *dns_server, apr_pool_t *p);

/* --- addresses ---------------------------------------------------------------------- */

/* The addresses name resolves to (strings, numeric). APR_ENOENT when the
 * name does not exist, APR_EAGAIN when no resolver answered. With
 * dns_server, A and AAAA records are asked of that server. */
apr_status_t md_doctor_resolve(apr_array_header_t **paddrs, const char *name,
                               const char *dns_server, apr_pool_t *p);

/* The addresses of this host's interfaces (strings, numeric). */
apr_status_t md_doctor_local_addrs(apr_array_header_t **paddrs, apr_pool_t *p);

/* 1 if addr is a loopback address (127/8, ::1). */
int md_doctor_is_loopback(const char *addr);

#endif /* md_doctor_h */
