/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Private to the post_config files of the module: mod_md_init.c (the
 * settings, the run-time state and its lookups, MDs to virtual hosts,
 * reachability, the hook), mod_md_init_store.c (the store opened, repaired,
 * checked for the child, MDStoreGroup, a store that cannot be used) and
 * mod_md_init_sync.c (the sync with the store and the activation of staged
 * sets). The module exports md_module alone, so none of these names leaves
 * mod_md.so.
 */
#ifndef mod_md_init_int_h
#define mod_md_init_int_h

#include <apr_pools.h>
#include <httpd.h>

#include "mod_md_init.h"

/* What post_config needs from the configuration, read in one place. */
typedef struct {
    const char *store_dir;              /* absolute */
    int manage_base_server;
    int match_servernames;
    int local_http_port;                /* -1: not reachable */
    int local_https_port;
    int store_locks;
    apr_interval_time_t lock_wait;
    apr_interval_time_t ocsp_keep;
    apr_array_header_t *mds;            /* completed md_t* copies */
} init_settings;

/* --- mod_md_init_store.c -------------------------------------------------- */

/* Opens the store and prepares its groups for the child. On failure
 * *pwhat says which step failed (rt->store may then be NULL; *pwhat NULL:
 * the dry run already said why). */
apr_status_t setup_store(md_mod_rt_t *rt, const init_settings *set, server_rec *s,
                         const char **pwhat, apr_pool_t *p);
/* The store cannot be used (what failed, NULL: already said): the server
 * starts with what domains/ holds and renews nothing. */
void store_unusable(md_mod_rt_t *rt, const init_settings *set, server_rec *s,
                    apr_status_t rv, const char *what);
/* With an unusable store: the MDs' states from what domains/ holds. */
void serve_as_is(md_mod_rt_t *rt, apr_pool_t *ptemp);

/* --- mod_md_init_sync.c --------------------------------------------------- */

/* Syncs the MDs with the store and activates staged sets, in pools of an
 * allocator of its own. */
apr_status_t sync_store(md_mod_rt_t *rt, const init_settings *set, server_rec *s,
                        apr_pool_t *ptemp);

#endif /* mod_md_init_int_h */
