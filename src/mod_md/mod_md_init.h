/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * post_config (mod_md_init*.c): store set-up, registry sync and
 * activation, MDs assigned to virtual hosts. Also the run-time state the
 * other module files read (store, registry, MDs per server, MD lookup by
 * host name).
 */
#ifndef mod_md_init_h
#define mod_md_init_h

#include <apr_pools.h>
#include <apr_hash.h>
#include <httpd.h>

#include "md.h"

struct md_reg_t;
struct md_store_t;

/* Run-time state of one configuration generation (lives in pconf). */
typedef struct md_mod_rt_t {
    apr_pool_t *p;
    struct md_store_t *store;       /* NULL if the store could not be set up */
    struct md_reg_t *reg;
    apr_array_header_t *mds;        /* md_t*, completed, sorted by name */
    apr_hash_t *by_name;            /* md name -> md_t* */
    apr_hash_t *by_domain;          /* domain (and "*.x" wildcards) -> md_t* */
    apr_hash_t *server_mds;         /* server_rec* -> apr_array_header_t* of md_t* */
    apr_hash_t *ssl_servers;        /* server_rec* -> "" for servers with TLS */
    server_rec *base_server;
    int dry_run;                    /* first config pass / apache2 -t */
    int http_reachable;             /* a listener on the local port for 80 */
    int https_reachable;            /* a listener on the local port for 443 */
    const char *store_error;        /* the store is not usable: serve what
                                     * domains/ holds, renew nothing (why) */
    apr_uint32_t *store_changes;    /* changes through the store by any
                                     * process of this generation; NULL unknown */
    apr_array_header_t *store_notices; /* md_result_t*: what start-up found
                                     * wrong in the store and md-status shows
                                     * on every MD (a lost store key, paths the
                                     * child cannot use); NULL none */
} md_mod_rt_t;

void md_init_register_hooks(apr_pool_t *pool);

/* The MDMessageCmd / MDNotifyCmd configuration with the environment
 * context of rt (store dir and MDs), in p. */
struct md_event_t *md_mod_events_make(const md_mod_rt_t *rt, apr_pool_t *p);

/* MDStoreGroup: hands domains/, its MD directories (0750) and their files
 * (0640) to the configured group; nothing when unset. At every start-up,
 * after activation, by the parent. */
void md_init_store_group(md_mod_rt_t *rt, server_rec *s, apr_pool_t *p);

/* The state of the current generation; NULL before post_config ran. */
md_mod_rt_t *md_mod_rt_get(void);

/* MDs assigned to server s (NULL if none). */
apr_array_header_t *md_mod_server_mds(server_rec *s);
/* The one MD assigned to s, NULL when none or several. */
md_t *md_mod_server_md(server_rec *s);
/* The configured MD that contains host (wildcards match), NULL if none. */
md_t *md_mod_md_for_host(const char *host);
/* The configured MD of that name, NULL if none. */
md_t *md_mod_md_by_name(const char *name);

#endif /* mod_md_init_h */
