/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The md-metrics text: one family at a time over all MDs (OpenMetrics wants
 * the samples of a family together), values read from the md-status <md>
 * objects, so that metrics and md-status never disagree.
 */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_ari.h"
#include "md_json.h"
#include "md_job.h"
#include "md_metrics.h"
#include "md_util.h"

/* The text under construction: pieces joined once at the end. */
typedef struct {
    apr_pool_t *p;
    apr_array_header_t *parts;      /* const char* */
    int openmetrics;                /* else Prometheus' text format 0.0.4 */
} metrics_out;

static void put(metrics_out *out, const char *text)
{
    APR_ARRAY_PUSH(out->parts, const char *) = text;
}

/* A label value with \, " and newlines escaped. */
static const char *label_escape(const char *value, apr_pool_t *p)
{
    char *s, *d;

    if (!strpbrk(value, "\\\"\n")) return value;
    s = d = apr_palloc(p, 2 * strlen(value) + 1);
    for (; *value; ++value) {
        if ('\n' == *value) {
            *d++ = '\\';
            *d++ = 'n';
            continue;
        }
        if ('\\' == *value || '"' == *value) {
            *d++ = '\\';
        }
        *d++ = *value;
    }
    *d = '\0';
    return s;
}

/* The head of a family. OpenMetrics names counters and infos without the
 * suffix of their samples; the older format names the samples, knows no
 * info type (a gauge of 1 then) and no units. */
static void family(metrics_out *out, const char *name, const char *type, const char *unit,
                   const char *help)
{
    if (!out->openmetrics) {
        if (!strcmp("counter", type)) {
            name = apr_pstrcat(out->p, name, "_total", NULL);
        }
        if (!strcmp("info", type)) {
            name = apr_pstrcat(out->p, name, "_info", NULL);
            type = "gauge";
        }
        unit = NULL;
    }
    put(out, apr_psprintf(out->p, "# TYPE %s %s\n", name, type));
    if (unit) {
        put(out, apr_psprintf(out->p, "# UNIT %s %s\n", name, unit));
    }
    put(out, apr_psprintf(out->p, "# HELP %s %s\n", name, help));
}

/* One sample; labels is the text between the braces ("" for none). */
static void sample(metrics_out *out, const char *name, const char *labels, apr_int64_t v)
{
    put(out, apr_psprintf(out->p, "%s%s%s%s %" APR_INT64_T_FMT "\n", name,
                          *labels ? "{" : "", labels, *labels ? "}" : "", v));
}

static apr_int64_t secs(apr_time_t t)
{
    return (apr_int64_t)apr_time_sec(t);
}

/* --- per MD ------------------------------------------------------------------------ */

/* What the samples of one MD are taken from. */
typedef struct {
    metrics_out *out;
    const char *name;               /* the family being written */
    const char *md_label;           /* md="<escaped name>" */
    apr_time_t now;
} md_ctx;

typedef void md_family_fn(md_ctx *ctx, md_json_t *md);

/* The key spec members of a "cert" object (not its "valid"). */
typedef void cert_fn(md_ctx *ctx, const char *labels, md_json_t *cert);

typedef struct {
    md_ctx *ctx;
    cert_fn *fn;
} cert_iter;

static int cert_member(void *baton, const char *key, md_json_t *cert)
{
    cert_iter *it = baton;
    md_ctx *ctx = it->ctx;

    if (!strcmp(MD_KEY_VALID, key)) return 1;
    it->fn(ctx, apr_psprintf(ctx->out->p, "%s,key=\"%s\"", ctx->md_label,
                             label_escape(key, ctx->out->p)), cert);
    return 1;
}

static void each_cert(md_ctx *ctx, md_json_t *md, cert_fn *fn)
{
    cert_iter it;

    it.ctx = ctx;
    it.fn = fn;
    if (md_json_has_key(md, MD_KEY_CERT, NULL)) {
        md_json_iterkey(cert_member, &it, md, MD_KEY_CERT, NULL);
    }
}

static void cert_not_after(md_ctx *ctx, const char *labels, md_json_t *cert)
{
    apr_time_t t = md_json_get_time(cert, MD_KEY_VALID, MD_KEY_UNTIL, NULL);

    if (t) {
        sample(ctx->out, ctx->name, labels, secs(t));
    }
}

static void cert_not_before(md_ctx *ctx, const char *labels, md_json_t *cert)
{
    apr_time_t t = md_json_get_time(cert, MD_KEY_VALID, MD_KEY_FROM, NULL);

    if (t) {
        sample(ctx->out, ctx->name, labels, secs(t));
    }
}

static void ocsp_until(md_ctx *ctx, const char *labels, md_json_t *cert)
{
    apr_time_t t = md_json_get_time(cert, "ocsp", MD_KEY_VALID, MD_KEY_UNTIL, NULL);

    if (t) {
        sample(ctx->out, ctx->name, labels, secs(t));
    }
}

static void ocsp_revoked(md_ctx *ctx, const char *labels, md_json_t *cert)
{
    const char *status = md_json_gets(cert, "ocsp", "status", NULL);

    if (status) {
        sample(ctx->out, ctx->name, labels, !strcmp("revoked", status));
    }
}

static void md_not_after(md_ctx *ctx, md_json_t *md)
{
    each_cert(ctx, md, cert_not_after);
}

static void md_not_before(md_ctx *ctx, md_json_t *md)
{
    each_cert(ctx, md, cert_not_before);
}

static void md_ocsp_until(md_ctx *ctx, md_json_t *md)
{
    each_cert(ctx, md, ocsp_until);
}

static void md_ocsp_revoked(md_ctx *ctx, md_json_t *md)
{
    each_cert(ctx, md, ocsp_revoked);
}

static void md_state(md_ctx *ctx, md_json_t *md)
{
    sample(ctx->out, ctx->name, ctx->md_label, md_json_getl(md, MD_KEY_STATE, NULL));
}

static void md_watched(md_ctx *ctx, md_json_t *md)
{
    sample(ctx->out, ctx->name, ctx->md_label, md_json_getb(md, MD_KEY_WATCHED, NULL));
}

static void md_renew_at(md_ctx *ctx, md_json_t *md)
{
    apr_time_t t = md_json_get_time(md, MD_KEY_RENEW_AT, NULL);

    if (t) {
        sample(ctx->out, ctx->name, ctx->md_label, secs(t));
    }
}

static void md_ari_start(md_ctx *ctx, md_json_t *md)
{
    apr_time_t t = md_json_get_time(md, MD_KEY_ARI, MD_KEY_WINDOW, MD_KEY_START, NULL);

    if (t) {
        sample(ctx->out, ctx->name, ctx->md_label, secs(t));
    }
}

static void md_ari_end(md_ctx *ctx, md_json_t *md)
{
    apr_time_t t = md_json_get_time(md, MD_KEY_ARI, MD_KEY_WINDOW, MD_KEY_END, NULL);

    if (t) {
        sample(ctx->out, ctx->name, ctx->md_label, secs(t));
    }
}

/* Consecutive failed renewal runs: 0 without a renewal job. */
static void md_errors(md_ctx *ctx, md_json_t *md)
{
    sample(ctx->out, ctx->name, ctx->md_label,
           md_json_getl(md, MD_KEY_RENEWAL, MD_KEY_ERRORS, NULL));
}

/* 1 if the last renewal run succeeded, 0 if it failed; none without one. */
static void md_last_ok(md_ctx *ctx, md_json_t *md)
{
    if (!md_json_has_key(md, MD_KEY_RENEWAL, MD_KEY_LAST, MD_KEY_STATUS, NULL)) return;
    sample(ctx->out, ctx->name, ctx->md_label,
           0 == md_json_getl(md, MD_KEY_RENEWAL, MD_KEY_LAST, MD_KEY_STATUS, NULL));
}

/* How long a finished renewal has been waiting for its activation. */
static void md_staged_age(md_ctx *ctx, md_json_t *md)
{
    apr_time_t since;

    if (!md_json_getb(md, MD_KEY_RENEWAL, MD_KEY_FINISHED, NULL)) return;
    since = md_json_get_time(md, MD_KEY_RENEWAL, MD_KEY_VALID_FROM, NULL);
    if (!since) {
        since = md_json_get_time(md, MD_KEY_RENEWAL, MD_KEY_LAST_RUN, NULL);
    }
    if (!since) return;
    sample(ctx->out, ctx->name, ctx->md_label,
           ctx->now > since ? secs(ctx->now - since) : 0);
}

/* The CA the MD uses (the effective one, else the first configured). */
static void md_ca(md_ctx *ctx, md_json_t *md)
{
    const char *url = md_json_gets(md, MD_KEY_CA, MD_KEY_URL, NULL);
    apr_array_header_t *urls;

    if (!url) {
        urls = apr_array_make(ctx->out->p, 2, sizeof(const char *));
        md_json_getsa(urls, md, MD_KEY_CA, MD_KEY_URLS, NULL);
        if (urls->nelts > 0) {
            url = APR_ARRAY_IDX(urls, 0, const char *);
        }
    }
    if (!url) return;
    /* the status objects are masked already; a caller's own may not be */
    url = md_util_mask_credentials(ctx->out->p, url);
    sample(ctx->out, ctx->name, apr_psprintf(ctx->out->p, "%s,url=\"%s\"", ctx->md_label,
                                             label_escape(url, ctx->out->p)), 1);
}

typedef struct {
    const char *name;
    const char *type;
    const char *unit;
    const char *help;
    md_family_fn *fn;
} md_family;

static const md_family md_families[] = {
    { "mod_md_domain_state", "gauge", NULL, "State of the managed domain as in md.json "
      "(1 incomplete, 2 complete, 4 error, 5 missing information).", md_state },
    { "mod_md_domain_watched", "gauge", NULL, "1 when the renewal watchdog looks after "
      "the managed domain.", md_watched },
    { "mod_md_ca", "info", NULL, "The ACME CA the managed domain uses.", md_ca },
    { "mod_md_certificate_not_after_seconds", "gauge", "seconds", "End of the validity "
      "of the active certificate (Unix time).", md_not_after },
    { "mod_md_certificate_not_before_seconds", "gauge", "seconds", "Start of the "
      "validity of the active certificate (Unix time).", md_not_before },
    { "mod_md_renew_at_seconds", "gauge", "seconds", "When the renewal of the managed "
      "domain is due (Unix time; in the past: due now).", md_renew_at },
    { "mod_md_ari_window_start_seconds", "gauge", "seconds", "Start of the renewal "
      "window the CA suggests (ARI, Unix time).", md_ari_start },
    { "mod_md_ari_window_end_seconds", "gauge", "seconds", "End of the renewal window "
      "the CA suggests (ARI, Unix time).", md_ari_end },
    { "mod_md_renewal_errors", "gauge", NULL, "Consecutive failed renewal runs.",
      md_errors },
    { "mod_md_renewal_last_success", "gauge", NULL, "1 if the last renewal run "
      "succeeded, 0 if it failed.", md_last_ok },
    { "mod_md_renewal_staged_age_seconds", "gauge", "seconds", "How long a renewed "
      "certificate has been waiting for its activation (a graceful restart).",
      md_staged_age },
    { "mod_md_ocsp_valid_until_seconds", "gauge", "seconds", "End of the validity of "
      "the stapled OCSP response (Unix time).", md_ocsp_until },
    { "mod_md_ocsp_revoked", "gauge", NULL, "1 if the stapled OCSP response says the "
      "certificate is revoked.", md_ocsp_revoked },
};

/* --- server-wide ------------------------------------------------------------------- */

static void counters_out(metrics_out *out, const md_metrics_counters_t *c, int n_mds)
{
    family(out, "mod_md_managed_domains", "gauge", NULL, "Number of managed domains.");
    sample(out, "mod_md_managed_domains", "", n_mds);
    if (!c) return;
    family(out, "mod_md_orders", "counter", NULL, "Renewals (ACME orders) run since the "
           "server started, by result.");
    sample(out, "mod_md_orders_total", "result=\"ok\"", (apr_int64_t)c->orders_ok);
    sample(out, "mod_md_orders_total", "result=\"failed\"", (apr_int64_t)c->orders_failed);
    family(out, "mod_md_order_duration_seconds", "summary", "seconds", "Time the "
           "renewals took.");
    put(out, apr_psprintf(out->p, "mod_md_order_duration_seconds_sum %.3f\n",
                          (double)c->order_msecs / 1000.0));
    sample(out, "mod_md_order_duration_seconds_count", "",
           (apr_int64_t)(c->orders_ok + c->orders_failed));
    family(out, "mod_md_store_lock_failures", "counter", NULL, "Renewals skipped because "
           "the MD's store lock was held elsewhere (MDStoreLocks).");
    sample(out, "mod_md_store_lock_failures_total", "", (apr_int64_t)c->lock_failures);
}

const char *md_metrics_text(const apr_array_header_t *mds,
                            const md_metrics_counters_t *counters, apr_time_t now,
                            int openmetrics, apr_pool_t *p)
{
    metrics_out out;
    md_ctx ctx;
    md_json_t **copies;
    const char **labels, *name;
    apr_size_t f;
    int i;

    out.p = p;
    out.openmetrics = openmetrics;
    out.parts = apr_array_make(p, 64 + 16 * mds->nelts, sizeof(const char *));
    copies = apr_pcalloc(p, sizeof(*copies) * (apr_size_t)(mds->nelts + 1));
    labels = apr_pcalloc(p, sizeof(*labels) * (apr_size_t)(mds->nelts + 1));
    for (i = 0; i < mds->nelts; ++i) {
        /* a wrapper in p: the objects are shared and only read */
        copies[i] = md_json_getcj(p, APR_ARRAY_IDX(mds, i, const md_json_t *), NULL);
        name = copies[i] ? md_json_gets(copies[i], MD_KEY_NAME, NULL) : NULL;
        labels[i] = apr_psprintf(p, "md=\"%s\"", label_escape(name ? name : "", p));
    }
    counters_out(&out, counters, mds->nelts);
    ctx.out = &out;
    ctx.now = now;
    for (f = 0; f < MD_ARRAY_LEN(md_families); ++f) {
        family(&out, md_families[f].name, md_families[f].type, md_families[f].unit,
               md_families[f].help);
        ctx.name = md_families[f].name;
        if (!strcmp("info", md_families[f].type)) {
            ctx.name = apr_pstrcat(p, md_families[f].name, "_info", NULL);
        }
        for (i = 0; i < mds->nelts; ++i) {
            if (!copies[i]) {
                continue;
            }
            ctx.md_label = labels[i];
            md_families[f].fn(&ctx, copies[i]);
        }
    }
    if (openmetrics) {
        put(&out, "# EOF\n");
    }
    return apr_array_pstrcat(p, out.parts, 0);
}
