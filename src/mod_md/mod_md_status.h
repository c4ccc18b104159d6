/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Hooks of mod_md_status.c.
 */
#ifndef mod_md_status_h
#define mod_md_status_h

#include <apr_pools.h>

#include <apr_tables.h>
#include <apr_time.h>

void md_status_register_hooks(apr_pool_t *pool);

/* Renders something from the current md-status <md> objects of all MDs
 * (md_json_t*, without logs, shared: only read them, allocate in p). */
typedef const char *md_status_render_fn(void *baton, const apr_array_header_t *mds,
                                        apr_time_t now, apr_pool_t *p);

/**
 * Calls fn with the status cache's objects of all MDs, under the cache's
 * lock, and returns its result. NULL when there is no registry.
 */
const char *md_status_render_mds(md_status_render_fn *fn, void *baton, apr_pool_t *p);

#endif /* mod_md_status_h */
