/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * ACME accounts: account.json/account.pem in the store (contract.md 2.2),
 * the id scheme ACME-<sname>-NNNN, finding an account usable for an MD,
 * registering, validating, agreeing to terms and deactivating at the CA.
 */
#ifndef md_acme_acct_h
#define md_acme_acct_h

#include <apr_pools.h>
#include <apr_tables.h>

#include "md.h"
#include "md_crypto.h"
#include "md_result.h"
#include "md_store.h"

struct md_json_t;
struct md_acme_t;

typedef enum {
    MD_ACME_ACCT_ST_UNKNOWN,        /* no "status" member */
    MD_ACME_ACCT_ST_VALID,
    MD_ACME_ACCT_ST_DEACTIVATED,
    MD_ACME_ACCT_ST_REVOKED,
} md_acme_acct_st;

typedef struct md_acme_acct_t md_acme_acct_t;
struct md_acme_acct_t {
    const char *id;                 /* store id, NULL when not saved in accounts/ */
    md_acme_acct_st status;
    const char *url;                /* account url at the CA */
    const char *ca_url;             /* directory url of the CA */
    apr_array_header_t *contacts;   /* const char* */
    struct md_json_t *registration; /* last account object from the CA */
    const char *agreement;          /* agreed terms-of-service */
    const char *orders;             /* orders url */
    const char *eab_kid;            /* external account binding, or NULL */
    const char *eab_hmac;
};

#define MD_ACME_ACCT_PREFIX     "ACME-"

/* The "sname" of a CA directory url: its host if at most 16 characters,
 * else the last 16 characters of the host. */
const char *md_acme_acct_sname(const char *ca_url, apr_pool_t *p);

/* account.json (members in the order of 2.2) and back. from_json gives
 * APR_EINVAL when "url" or "ca-url" is missing; "contact" falls back to
 * registration.contact, "agreement" to "terms-of-service". */
struct md_json_t *md_acme_acct_to_json(const md_acme_acct_t *acct, apr_pool_t *p);
apr_status_t md_acme_acct_from_json(md_acme_acct_t **pacct, struct md_json_t *json,
                                    apr_pool_t *p);

/* 1 if the account can be used for the CA url and EAB (2.2): status valid,
 * ca-url equal, and without EAB only accounts without EAB, with EAB only
 * accounts with the same kid and hmac. eab_kid "none" counts as no EAB. */
int md_acme_acct_matches(const md_acme_acct_t *acct, const char *ca_url,
                         const char *eab_kid, const char *eab_hmac);

/* Loads account.json and account.pem from group/name (accounts/<id> or
 * staging/<md name>). acct->id is set to name for MD_SG_ACCOUNTS.
 * APR_ENOENT when absent, APR_EINVAL when unusable. */
apr_status_t md_acme_acct_load(md_acme_acct_t **pacct, md_pkey_t **ppkey,
                               md_store_t *store, md_store_group_t group,
                               const char *name, apr_pool_t *p);

/* Saves the account and key into group/name (overwriting). */
apr_status_t md_acme_acct_save_in(md_store_t *store, apr_pool_t *p,
                                  md_store_group_t group, const char *name,
                                  const md_acme_acct_t *acct, md_pkey_t *key);

/* Saves the account into accounts/. Without acct->id a new id
 * ACME-<sname>-NNNN is taken (first free of 0000..0999, exclusive create)
 * and set on acct; with an id the files are replaced. */
apr_status_t md_acme_acct_save(md_store_t *store, apr_pool_t *p,
                               md_acme_acct_t *acct, md_pkey_t *key);

/* Removes accounts/<id> (account.json and account.pem). */
apr_status_t md_acme_acct_remove(md_store_t *store, const char *id, apr_pool_t *p);

/* Finds the first stored account in accounts/ACME-<sname>-* usable for the
 * CA url and EAB (md_acme_acct_matches). APR_ENOENT if none. No CA
 * contact; callers validate it. */
apr_status_t md_acme_acct_find(md_acme_acct_t **pacct, md_pkey_t **ppkey,
                               md_store_t *store, const char *ca_url,
                               const char *eab_kid, const char *eab_hmac,
                               apr_pool_t *p);

/* Like md_acme_acct_find, and each candidate is validated at the CA; the
 * first valid one becomes the session's account. APR_ENOENT if none; a
 * validation failing for other reasons (CA unreachable) stops the search
 * with its status. */
apr_status_t md_acme_acct_find_and_use(struct md_acme_t *acme, md_store_t *store,
                                       const char *eab_kid, const char *eab_hmac,
                                       apr_pool_t *p);

/* Registers a new account (RSA 3072 key) for md's contacts, agreement and
 * EAB at the CA and makes it the session's account (not saved). Errors:
 * no contacts (APR_EINVAL, "No contact information is available for MD
 * ..."), with check_tos a CA that has terms of service while md has no
 * agreement ("the CA requires you to accept the terms-of-service as
 * specified in <url>. ..."), EAB required but not configured, EAB problems
 * (apache:eab-hmac-invalid/-fail), CA problems. Without check_tos the
 * request goes out without "termsOfServiceAgreed" when md has no agreement
 * and the CA decides (a2md acme newreg, as the original). */
apr_status_t md_acme_acct_register(struct md_acme_t *acme, const md_t *md,
                                   int check_tos, md_result_t *result, apr_pool_t *p);

/* Asks the CA about the session's account and updates it. If the CA no
 * longer accepts it, the status is cleared (unknown), a stored account
 * (acct->id set) is re-saved without status and APR_ENOENT returned. */
apr_status_t md_acme_acct_validate(struct md_acme_t *acme, md_store_t *store,
                                   md_result_t *result, apr_pool_t *p);

/* Tells the CA that the session's account agrees to the terms of service
 * (tos "accepted" or a url) and records the agreement on the account. */
apr_status_t md_acme_acct_agree(struct md_acme_t *acme, const char *tos,
                                md_result_t *result, apr_pool_t *p);

/* Deactivates the session's account at the CA. */
apr_status_t md_acme_acct_deactivate(struct md_acme_t *acme, md_result_t *result,
                                     apr_pool_t *p);

/* Replaces the session account's key by new_key at the CA (RFC 8555
 * 7.3.5 keyChange: the inner JWS over {"account", "oldKey"} signed by
 * new_key, the outer one by the current key). Only when the CA accepted
 * is new_key the session's key; the caller saves it. APR_ENOTIMPL when the
 * directory has no keyChange. */
apr_status_t md_acme_acct_key_change(struct md_acme_t *acme, md_pkey_t *new_key,
                                     md_result_t *result, apr_pool_t *p);

/* Makes the account at url with key the session's account (for an import
 * of an account created elsewhere) and asks the CA about it: APR_SUCCESS
 * when the CA knows it signed by key and it is valid (acct->id NULL, not
 * saved), APR_ENOENT when the CA does not accept it. */
apr_status_t md_acme_acct_adopt(struct md_acme_t *acme, const char *url,
                                md_pkey_t *key, md_result_t *result, apr_pool_t *p);

/* Loads accounts/<id> and makes it the session's account if it belongs to
 * the session's CA (APR_EINVAL otherwise, APR_ENOENT if absent). */
apr_status_t md_acme_use_acct(struct md_acme_t *acme, md_store_t *store,
                              const char *id, apr_pool_t *p);

#endif /* md_acme_acct_h */
