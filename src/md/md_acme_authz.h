/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * ACME authorizations of one identifier: fetching their state, choosing a
 * challenge type, setting up the challenge data (http-01 file, tls-alpn-01
 * certificates, dns-01 command), telling the CA, and tearing the data down
 * again from the set-up tokens that order.json records (contract.md 2.4).
 */
#ifndef md_acme_authz_h
#define md_acme_authz_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_result.h"
#include "md_store.h"

struct md_json_t;
struct md_acme_t;

/* Problem ids of challenge failures (job.json "last.problem"). */
#define MD_PROBLEM_CHALLENGE_MISMATCH   "challenge-mismatch"
#define MD_PROBLEM_CHALLENGE_SETUP      "challenge-setup-failure"

typedef enum {
    MD_ACME_AUTHZ_S_UNKNOWN,
    MD_ACME_AUTHZ_S_PENDING,
    MD_ACME_AUTHZ_S_VALID,
    MD_ACME_AUTHZ_S_INVALID,
} md_acme_authz_state_t;

typedef struct md_acme_authz_t md_acme_authz_t;
struct md_acme_authz_t {
    const char *url;
    const char *domain;             /* identifier value ("*." removed by the CA) */
    int wildcard;
    md_acme_authz_state_t state;
    const char *status;             /* the CA's status text */
    struct md_json_t *resource;     /* the authorization object */
    apr_interval_time_t retry_after; /* from the last answer, 0 if none */
};

/* Called after the data of a challenge is in place and before the CA is
 * told to validate (the host fires "challenge-setup:<type>:<domain>"
 * there). A non-zero return aborts this challenge set-up; other types are
 * then tried. */
typedef int md_acme_challenge_setup_cb(void *baton, const char *md_name,
                                       const char *type, const char *domain,
                                       apr_pool_t *p);

/* What challenge set-up needs to know. */
typedef struct md_acme_authz_env_t {
    md_store_t *store;
    const md_t *md;
    apr_array_header_t *types;      /* usable types, preference order (const char*) */
    const char *dns01_cmd;          /* effective MDChallengeDns01, or NULL */
    md_acme_challenge_setup_cb *on_setup;
    void *on_setup_baton;
} md_acme_authz_env_t;

/* Fetches the authorization at url (POST-as-GET). */
apr_status_t md_acme_authz_retrieve(md_acme_authz_t **pauthz, struct md_acme_t *acme,
                                    const char *url, md_result_t *result,
                                    apr_pool_t *p);
/* Refreshes it; sets retry_after from the answer. */
apr_status_t md_acme_authz_update(md_acme_authz_t *authz, struct md_acme_t *acme,
                                  md_result_t *result, apr_pool_t *p);

/* Sets up one challenge for a pending authorization and tells the CA to
 * validate it. Types are tried in env->types order among those the CA
 * offers and that apply to the domain (tls-alpn-01 only when a domain of
 * the MD is in md->acme_tls_1_domains, dns-01 only with a command). Each
 * set-up raises env->on_setup, also when the stored data did not change.
 * *psetup is the
 * set-up token ("http-01:<domain>", "tls-alpn-01:<domain>",
 * "dns-01:<domain> <digest>") for later teardown.
 * Errors: challenge-mismatch (APR_EINVAL) when no offered type is usable,
 * challenge-setup-failure (APR_EGENERAL) when none could be set up. */
apr_status_t md_acme_authz_respond(const char **psetup, md_acme_authz_t *authz,
                                   struct md_acme_t *acme,
                                   const md_acme_authz_env_t *env,
                                   md_result_t *result, apr_pool_t *p);

/* The state of the authorization as a status: APR_SUCCESS when valid,
 * APR_EAGAIN while pending/processing, else an error with the challenge's
 * problem (or the authorization's status) in result. */
apr_status_t md_acme_authz_check(md_acme_authz_t *authz, md_result_t *result,
                                 apr_pool_t *p);

/* 1 if an authorization for domain (wildcard: the CA's "wildcard" flag)
 * belongs to md: a name of it (or "*." domain is one), not starting with
 * '-' and without space, control characters or '/'. Names chosen by the CA
 * or read from order.json select a directory and become command
 * arguments. */
int md_acme_authz_domain_ok(const md_t *md, const char *domain, int wildcard,
                            apr_pool_t *p);

/* Removes what a set-up token created: the challenges/<domain> data, or
 * for dns-01 runs "<cmd> teardown <domain>" (dns01_version 1) or
 * "<cmd> teardown <domain> <token>" (2). Failures are logged only.
 * Tokens naming a domain that md_acme_authz_domain_ok refuses, or a
 * digest that is not base64url, are refused (APR_EINVAL). */
apr_status_t md_acme_authz_teardown(md_store_t *store, const char *setup,
                                    const md_t *md, const char *dns01_cmd,
                                    int dns01_version, apr_pool_t *p);

#endif /* md_acme_authz_h */
