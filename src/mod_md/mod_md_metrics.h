/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The md-metrics handler (SetHandler md-metrics): the OpenMetrics text of
 * docs/metrics.md from the status cache, and the server-wide counters it
 * shows (kept in memory shared by all processes of a server generation).
 */
#ifndef mod_md_mod_md_metrics_h
#define mod_md_mod_md_metrics_h

#include <apr_time.h>

/* A renewal (ACME order) ended: ok or failed, after took. */
void md_metrics_order_done(int ok, apr_interval_time_t took);

/* The counter of store lock failures (MDStoreLocks), NULL before the
 * counters exist; incremented atomically by the scheduler. */
apr_uint64_t *md_metrics_lock_failures(void);

void md_metrics_register_hooks(apr_pool_t *pool);

#endif /* mod_md_mod_md_metrics_h */
