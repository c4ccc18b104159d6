/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Metrics in the OpenMetrics text format (also read by Prometheus as its
 * plain text format), rendered from the md-status <md> objects the status
 * cache keeps and from counters the host keeps for the whole server. The
 * metric names and their meaning are documented in docs/metrics.md.
 */
#ifndef md_metrics_h
#define md_metrics_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* Counters of the whole server since its (re)start, shared by its
 * processes; read with atomic loads by the host before rendering. */
typedef struct md_metrics_counters_t {
    apr_uint64_t orders_ok;         /* renewals that staged a certificate */
    apr_uint64_t orders_failed;     /* renewals that ended with an error */
    apr_uint64_t order_msecs;       /* their summed duration, milliseconds */
    apr_uint64_t lock_failures;     /* MDStoreLocks: an MD's lock not had */
} md_metrics_counters_t;

/* Content types: OpenMetrics when the client asks for it, else Prometheus'
 * text format. */
#define MD_METRICS_CT_OPENMETRICS \
    "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define MD_METRICS_CT_TEXT          "text/plain; version=0.0.4; charset=utf-8"

/**
 * The metrics text of the MDs (md-status <md> objects, md_json_t*, without
 * logs; only read) and the counters (NULL: none kept) at now: OpenMetrics
 * (ending with "# EOF") when openmetrics is set, else Prometheus' text
 * format 0.0.4. All allocation is in p.
 */
const char *md_metrics_text(const apr_array_header_t *mds,
                            const md_metrics_counters_t *counters, apr_time_t now,
                            int openmetrics, apr_pool_t *p);

#endif /* md_metrics_h */
