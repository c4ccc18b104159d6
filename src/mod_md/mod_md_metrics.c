/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * md-metrics: counters in anonymous shared memory made by the parent at
 * each start (children inherit them; a restart starts them at 0, which
 * Prometheus reads as a counter reset), and the handler that renders them
 * with the status cache's <md> objects.
 */
#include <string.h>
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include "md.h"
#include "md_metrics.h"
#include "mod_md.h"
#include "mod_md_metrics.h"
#include "mod_md_status.h"

APLOG_USE_MODULE(md);

#define MD_METRICS_HANDLER      "md-metrics"

static md_metrics_counters_t *counters;

static apr_status_t counters_reset(void *data)
{
    (void)data;
    counters = NULL;
    return APR_SUCCESS;
}

static int metrics_post_config(apr_pool_t *p, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv;

    (void)plog; (void)ptemp;
    rv = apr_shm_create(&shm, sizeof(*counters), NULL, p);
    if (APR_SUCCESS != rv) {
        /* metrics then show the MDs without the counters */
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, APLOGNO(10710)
                     "md-metrics: no shared memory for the order counters");
        return OK;
    }
    counters = apr_shm_baseaddr_get(shm);
    memset(counters, 0, sizeof(*counters));
    apr_pool_cleanup_register(p, NULL, counters_reset, apr_pool_cleanup_null);
    return OK;
}

void md_metrics_order_done(int ok, apr_interval_time_t took)
{
    if (!counters) return;
    apr_atomic_inc64(ok ? &counters->orders_ok : &counters->orders_failed);
    apr_atomic_add64(&counters->order_msecs, (apr_uint64_t)apr_time_as_msec(took));
}

apr_uint64_t *md_metrics_lock_failures(void)
{
    return counters ? &counters->lock_failures : NULL;
}

static const char *render(void *baton, const apr_array_header_t *mds, apr_time_t now,
                          apr_pool_t *p)
{
    const int *openmetrics = baton;
    md_metrics_counters_t snapshot, *c = NULL;

    if (counters) {
        snapshot.orders_ok = apr_atomic_read64(&counters->orders_ok);
        snapshot.orders_failed = apr_atomic_read64(&counters->orders_failed);
        snapshot.order_msecs = apr_atomic_read64(&counters->order_msecs);
        snapshot.lock_failures = apr_atomic_read64(&counters->lock_failures);
        c = &snapshot;
    }
    return md_metrics_text(mds, c, now, *openmetrics, p);
}

static int metrics_handler(request_rec *r)
{
    const char *accept, *text;
    int openmetrics;
    apr_size_t len;

    if (!r->handler || strcmp(MD_METRICS_HANDLER, r->handler)) return DECLINED;
    if (M_GET != r->method_number) return HTTP_NOT_IMPLEMENTED;
    accept = apr_table_get(r->headers_in, "Accept");
    openmetrics = accept && ap_strstr_c(accept, "application/openmetrics-text") != NULL;
    text = md_status_render_mds(render, &openmetrics, r->pool);
    if (!text) return HTTP_SERVICE_UNAVAILABLE;
    len = strlen(text);
    ap_set_content_type(r, openmetrics ? MD_METRICS_CT_OPENMETRICS : MD_METRICS_CT_TEXT);
    ap_set_content_length(r, (apr_off_t)len);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
    }
    return OK;
}

void md_metrics_register_hooks(apr_pool_t *pool)
{
    (void)pool;
    ap_hook_post_config(metrics_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
