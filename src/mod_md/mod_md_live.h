/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * MDActivation live in the module: a certificate callback on the TLS
 * contexts of the MDs' virtual hosts (through mod_ssl's init_server hook)
 * serves the set in live/NAME once the watchdog has published it; a
 * generation counter per MD in memory shared by the server's processes
 * tells each process to load it (once, not per handshake). docs/live.md.
 */
#ifndef mod_md_mod_md_live_h
#define mod_md_mod_md_live_h

#include <apr_pools.h>

#include "md.h"
#include "md_renew.h"

/* The scheduler's go_live hook (md_renew_opts_t): publishes md's staged
 * set, announces it to all processes, raises the "live" event. */
apr_status_t md_live_go(const md_renew_opts_t *opts, const md_t *md, struct md_job_t *job,
                        struct md_result_t *result, apr_pool_t *p);

/* Makes this process use the current live set of md (if there is a newer
 * one): for its handshakes, renewal timing and status. Cheap when nothing
 * changed (one atomic read). */
void md_live_refresh(const md_t *md);

/* md_live_refresh for every MD with MDActivation live. */
void md_live_refresh_all(void);

/* 1 when md is served live in this server generation (a set was made
 * live since the start). */
int md_live_is_serving(const md_t *md);

void md_live_register_hooks(apr_pool_t *pool);

#endif /* mod_md_mod_md_live_h */
