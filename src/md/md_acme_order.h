/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * ACME orders: creation (newOrder with identifiers, profile, replaces),
 * order.json in the store (contract.md 2.4), starting the challenges of
 * its authorizations, waiting for authorizations and for the order states
 * ready/valid, finalizing with a CSR, and the purge with challenge teardown.
 */
#ifndef md_acme_order_h
#define md_acme_order_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md.h"
#include "md_result.h"
#include "md_store.h"
#include "md_acme_authz.h"

struct md_json_t;
struct md_acme_t;

typedef enum {
    MD_ACME_ORDER_ST_PENDING,
    MD_ACME_ORDER_ST_READY,
    MD_ACME_ORDER_ST_PROCESSING,
    MD_ACME_ORDER_ST_VALID,
    MD_ACME_ORDER_ST_INVALID,
} md_acme_order_st;

typedef struct md_acme_order_t md_acme_order_t;
struct md_acme_order_t {
    apr_pool_t *p;
    const char *url;                    /* NULL until the CA created it */
    md_acme_order_st status;
    apr_array_header_t *authz_urls;     /* const char* */
    apr_array_header_t *challenge_setups; /* const char* set-up tokens */
    const char *finalize;
    const char *certificate;
    struct md_json_t *json;             /* the last order object from the CA */
    apr_interval_time_t retry_after;    /* of the last answer, 0 if none */
};

/* An empty order (status pending, no urls) in pool p. */
md_acme_order_t *md_acme_order_create(apr_pool_t *p);

/* order.json and back (members of 2.4). */
struct md_json_t *md_acme_order_to_json(const md_acme_order_t *order, apr_pool_t *p);
md_acme_order_t *md_acme_order_from_json(struct md_json_t *json, apr_pool_t *p);

/* "pending", "ready", ... and back (unknown texts: invalid). */
const char *md_acme_order_st_str(md_acme_order_st status);
md_acme_order_st md_acme_order_st_parse(const char *s);

/* order.json in group/name (APR_ENOENT if absent). */
apr_status_t md_acme_order_load(md_acme_order_t **porder, md_store_t *store,
                                md_store_group_t group, const char *name,
                                apr_pool_t *p);
apr_status_t md_acme_order_save(md_store_t *store, apr_pool_t *p,
                                md_store_group_t group, const char *name,
                                const md_acme_order_t *order);

/* Tears down the challenges recorded in group/md->name/order.json and
 * removes the file (activation step 3 of contract.md 1.9). dns01_cmd is
 * the global MDChallengeDns01; md->dns01_cmd wins when set. APR_SUCCESS
 * when there was no order. */
apr_status_t md_acme_order_purge(md_store_t *store, apr_pool_t *p,
                                 md_store_group_t group, const md_t *md,
                                 const char *dns01_cmd, int dns01_version);

/* The identifiers to order for md: its domains without those covered by a
 * wildcard domain of the same MD. */
apr_array_header_t *md_acme_order_domains(const md_t *md, apr_pool_t *p);

/* Creates a new order for domains at the CA (newOrder); an address is an
 * identifier of type "ip", any other name of type "dns". profile and
 * replaces (ARI certificate id) are added when not NULL. */
apr_status_t md_acme_order_register(md_acme_order_t **porder, struct md_acme_t *acme,
                                    apr_array_header_t *domains, const char *profile,
                                    const char *replaces, md_result_t *result,
                                    apr_pool_t *p);

/* Refreshes the order from the CA (POST-as-GET of its url). */
apr_status_t md_acme_order_update(md_acme_order_t *order, struct md_acme_t *acme,
                                  md_result_t *result, apr_pool_t *p);

/* 1 if the order (as last seen at the CA) is for exactly these domains. */
int md_acme_order_covers(const md_acme_order_t *order, apr_array_header_t *domains);

/* For every pending authorization: set up a challenge and tell the CA
 * (md_acme_authz_respond). Each new set-up token is recorded in the order
 * and the order saved to group/name right away, so that teardown finds
 * it. */
apr_status_t md_acme_order_start_challenges(md_acme_order_t *order,
                                            struct md_acme_t *acme,
                                            const md_acme_authz_env_t *env,
                                            md_store_group_t group, const char *name,
                                            md_result_t *result, apr_pool_t *p);

/* Polls the authorizations until all are valid (APR_SUCCESS), one fails
 * (its problem in result) or timeout passes (APR_TIMEUP). */
apr_status_t md_acme_order_monitor_authzs(md_acme_order_t *order, struct md_acme_t *acme,
                                          apr_interval_time_t timeout,
                                          md_result_t *result, apr_pool_t *p);

/* Polls the order until it is ready (or beyond: processing/valid). */
apr_status_t md_acme_order_await_ready(md_acme_order_t *order, struct md_acme_t *acme,
                                       apr_interval_time_t timeout,
                                       md_result_t *result, apr_pool_t *p);

/* Sends the CSR (base64url DER) to the order's finalize url. */
apr_status_t md_acme_order_finalize(md_acme_order_t *order, struct md_acme_t *acme,
                                    const char *csr64, md_result_t *result,
                                    apr_pool_t *p);

/* Polls the order until it is valid and has a certificate url. */
apr_status_t md_acme_order_await_valid(md_acme_order_t *order, struct md_acme_t *acme,
                                       apr_interval_time_t timeout,
                                       md_result_t *result, apr_pool_t *p);

#endif /* md_acme_order_h */
