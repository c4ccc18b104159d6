/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The server-status texts (md_status.h): the ?auto lines and HTML tables of
 * Managed Certificates and Managed Staplings, rendered from the <md> and
 * stapling JSON objects and `now`; the stapling JSON object.
 */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_job.h"
#include "md_json.h"
#include "md_status.h"
#include "md_status_int.h"
#include "md_time.h"
#include "md_util.h"

/* --- server-status texts ---------------------------------------------------------------- */

typedef struct {
    md_sbuf_t b;
    const md_status_text_opts_t *opts;
    apr_pool_t *p;
    const char *prefix;             /* "ManagedDomain[i]" */
} text_ctx;

const char *md_status_ca_name(const char *url, apr_pool_t *p)
{
    const char *host = md_ca_known_name(url);

    if (host) return host;
    host = md_util_uri_host(p, url);
    return host ? host : url;
}

static const char *html_escape(const char *s, apr_pool_t *p)
{
    md_sbuf_t b;

    if (!strpbrk(s, "<>&\"")) return s;
    md_sbuf_init(&b, p, strlen(s) + 32);
    for (; *s; ++s) {
        switch (*s) {
            case '<': md_sbuf_puts(&b, "&lt;"); break;
            case '>': md_sbuf_puts(&b, "&gt;"); break;
            case '&': md_sbuf_puts(&b, "&amp;"); break;
            case '"': md_sbuf_puts(&b, "&quot;"); break;
            default: md_sbuf_putn(&b, s, 1); break;
        }
    }
    return b.data;
}

static const char *ymd(apr_time_t t, apr_pool_t *p)
{
    apr_time_exp_t texp;

    apr_time_exp_gmt(&texp, t);
    return apr_psprintf(p, "%04d-%02d-%02d", texp.tm_year + 1900, texp.tm_mon + 1,
                        texp.tm_mday);
}

/* A date cell part: ?auto "<prefix><key>: YYYY-MM-DD", HTML a span with a
 * title. */
static void print_date(text_ctx *ctx, const char *key, apr_time_t t, const char *title)
{
    if (t <= 0) return;
    if (ctx->opts->html) {
        md_sbuf_printf(&ctx->b, "<span title='%s' style='white-space: nowrap;'>%s</span>",
                       html_escape(title, ctx->p), ymd(t, ctx->p));
    }
    else {
        md_sbuf_printf(&ctx->b, "%s%s: %s\n", ctx->prefix, key, ymd(t, ctx->p));
    }
}

/* A point in time relative to now: ?auto "<prefix><key>: <seconds>", HTML
 * "<label> <span ...>" as a date (>= 4 days away) or roughly. */
static void print_time(text_ctx *ctx, const char *label, const char *key, apr_time_t t)
{
    apr_time_t now = ctx->opts->now;
    apr_interval_time_t delta;
    char ts[APR_RFC822_DATE_LEN];
    const char *sep = (label && *label) ? " " : "";

    if (t == 0) return;
    if (!ctx->opts->html) {
        md_sbuf_printf(&ctx->b, "%s%s: %" APR_TIME_T_FMT "\n", ctx->prefix, key,
                       apr_time_sec(t - now));
        return;
    }
    apr_rfc822_date(ts, t);
    delta = (t > now) ? t - now : now - t;
    if (delta >= apr_time_from_sec(4 * MD_SECS_PER_DAY)) {
        md_sbuf_printf(&ctx->b, "%s%s<span title='%s' style='white-space: nowrap;'>%s</span>",
                       label, sep, ts, ymd(t, ctx->p));
    }
    else {
        md_sbuf_printf(&ctx->b, "%s%s<span title='%s'>%s%s%s</span>", label, sep, ts,
                       (t > now) ? "in " : "", md_duration_roughly(ctx->p, delta),
                       (t > now) ? "" : " ago");
    }
}

static void print_valid(text_ctx *ctx, const md_json_t *json, const char *label,
                        const char *key)
{
    const char *sfrom = md_json_gets(json, key, MD_KEY_FROM, NULL);
    const char *suntil = md_json_gets(json, key, MD_KEY_UNTIL, NULL);
    apr_time_t from = sfrom ? md_time_parse_rfc(sfrom) : 0;
    apr_time_t until = suntil ? md_time_parse_rfc(suntil) : 0;

    if (from > ctx->opts->now) {
        if (ctx->opts->html) {
            md_sbuf_puts(&ctx->b, "from ");
        }
        print_date(ctx, apr_pstrcat(ctx->p, label, "From", NULL), from, sfrom);
        if (ctx->opts->html) {
            md_sbuf_puts(&ctx->b, " ");
        }
    }
    if (until) {
        if (ctx->opts->html) {
            md_sbuf_puts(&ctx->b, "until ");
        }
        print_date(ctx, apr_pstrcat(ctx->p, label, "Until", NULL), until,
                   sfrom ? apr_pstrcat(ctx->p, sfrom, " - ", suntil, NULL) : suntil);
    }
}

/* A link to url named by name: ?auto "<prefix><key>Name<idx>:" and "URL<idx>:". */
static void print_link(text_ctx *ctx, const char *key, int idx, const char *name,
                       const char *url)
{
    const char *sidx = (idx > 0) ? apr_itoa(ctx->p, idx) : "";

    if (ctx->opts->html) {
        if (idx > 0) {
            md_sbuf_puts(&ctx->b, " ");
        }
        md_sbuf_printf(&ctx->b, "<a href='%s'>%s</a>", url, name);
    }
    else {
        md_sbuf_printf(&ctx->b, "%s%sName%s: %s\n", ctx->prefix, key, sidx, name);
        md_sbuf_printf(&ctx->b, "%s%sURL%s: %s\n", ctx->prefix, key, sidx, url);
    }
}

static void print_ca(text_ctx *ctx, const md_json_t *mdj)
{
    const char *url = md_json_gets(mdj, MD_KEY_CA, MD_KEY_URL, NULL);
    apr_array_header_t *urls;
    int i;

    if (url) {
        print_link(ctx, "CA", 0, md_status_ca_name(url, ctx->p), url);
        return;
    }
    urls = apr_array_make(ctx->p, 4, sizeof(const char *));
    md_json_getsa(urls, mdj, MD_KEY_CA, MD_KEY_URLS, NULL);
    for (i = 0; i < urls->nelts; ++i) {
        url = APR_ARRAY_IDX(urls, i, const char *);
        print_link(ctx, "CA", i, md_status_ca_name(url, ctx->p), url);
    }
}

typedef struct {
    text_ctx *ctx;
    int count;
} cert_iter_ctx;

static int check_at_cb(void *baton, const char *key, md_json_t *json)
{
    cert_iter_ctx *ic = baton;
    text_ctx *ctx = ic->ctx;
    const char *fp = md_json_gets(json, MD_KEY_SHA256_FINGERPRINT, NULL);
    const char *name = ctx->opts->cert_check_name, *url = ctx->opts->cert_check_url;

    if (!fp || !strcmp(MD_KEY_VALID, key)) return 1;
    if (ctx->opts->html) {
        md_sbuf_printf(&ctx->b, "<a href=\"%s%s\">%s[%s]</a><br>", url, fp, name, key);
    }
    else {
        md_sbuf_printf(&ctx->b, "%sCheckAtType: %s\n", ctx->prefix, key);
        md_sbuf_printf(&ctx->b, "%sCheckAtName: %s\n", ctx->prefix, name);
        md_sbuf_printf(&ctx->b, "%sCheckAtURL: %s%s\n", ctx->prefix, url, fp);
        md_sbuf_printf(&ctx->b, "%sCheckAtFingerprint: %s\n", ctx->prefix, fp);
    }
    return 1;
}

static int count_certs_cb(void *baton, const char *key, md_json_t *json)
{
    cert_iter_ctx *ic = baton;

    if (strcmp(MD_KEY_VALID, key) && md_json_has_key(json, MD_KEY_SHA256_FINGERPRINT, NULL)) {
        ++ic->count;
    }
    return 1;
}

/* Iterates the members of the object at key of json with the wrappers
 * allocated in ctx->p (json itself may be shared). */
static int iter_object(md_json_iterkey_cb *cb, cert_iter_ctx *ic, const md_json_t *json,
                       const char *key1, const char *key2)
{
    md_json_t *obj = md_json_getcj(ic->ctx->p, json, key1, key2, NULL);

    if (!obj) return 1;
    return md_json_iterkey(cb, ic, obj, NULL);
}

static void print_check_at(text_ctx *ctx, const md_json_t *mdj)
{
    cert_iter_ctx ic;

    if (!ctx->opts->cert_check_name || !ctx->opts->cert_check_url) return;
    ic.ctx = ctx;
    ic.count = 0;
    iter_object(check_at_cb, &ic, mdj, MD_KEY_CERT, NULL);
}

/* The job summary of the object at key (staging or OCSP job). sep starts the
 * HTML text; in ?auto a non-empty sep makes "Activity: Ongoing" appear when
 * no future run is known. */
static void print_job_summary(text_ctx *ctx, const md_json_t *json, const char *key,
                              const char *sep)
{
    int finished = md_json_getb(json, key, MD_KEY_FINISHED, NULL);
    apr_status_t rv = (apr_status_t)md_json_getl(json, key, MD_KEY_LAST, MD_KEY_STATUS, NULL);
    const char *problem, *detail, *line = sep;
    int html = ctx->opts->html;
    char errbuf[256];
    cert_iter_ctx ic;
    apr_time_t t;

    if (APR_SUCCESS != rv) {
        apr_strerror(rv, errbuf, sizeof(errbuf));
        problem = md_json_gets(json, key, MD_KEY_LAST, MD_KEY_PROBLEM, NULL);
        if (html) {
            line = apr_psprintf(ctx->p, "%s Error[%s]: %s", line, errbuf,
                                problem ? problem : "");
        }
        else {
            md_sbuf_printf(&ctx->b, "%sActivityLastStatus: %s\n", ctx->prefix, errbuf);
            md_sbuf_printf(&ctx->b, "%sActivityLastProblem: %s\n", ctx->prefix,
                           problem ? problem : "(null)");
        }
    }
    if (!html) {
        md_sbuf_printf(&ctx->b, "%sActivityFinished: %s\n", ctx->prefix, finished ? "yes" : "no");
    }
    if (finished) {
        ic.ctx = ctx;
        ic.count = 0;
        iter_object(count_certs_cb, &ic, json, key, MD_KEY_CERT);
        if (!html) {
            md_sbuf_printf(&ctx->b, "%sActivityNewStaged: %d\n", ctx->prefix, ic.count);
        }
        else if (ic.count > 0) {
            line = apr_psprintf(ctx->p, "%s  finished, %d new certificate%s staged.",
                                line, ic.count, (ic.count > 1) ? "s" : "");
        }
        else {
            line = apr_pstrcat(ctx->p, line, "  finished successfully.", NULL);
        }
    }
    else if ((detail = md_json_gets(json, key, MD_KEY_LAST, MD_KEY_DETAIL, NULL))) {
        if (html) {
            line = apr_pstrcat(ctx->p, line, " ", detail, NULL);
        }
        else {
            md_sbuf_printf(&ctx->b, "%sActivityLastDetail: %s\n", ctx->prefix, detail);
        }
    }
    if (html) {
        md_sbuf_puts(&ctx->b, line);
    }
    t = md_json_get_time(json, key, MD_KEY_NEXT_RUN, NULL);
    if (t > ctx->opts->now && !finished) {
        print_time(ctx, "\nNext run", "ActivityNextRun", t);
    }
    else if (line[0]) {
        if (html) {
            md_sbuf_puts(&ctx->b, "\nOngoing...");
        }
        else {
            md_sbuf_printf(&ctx->b, "%sActivity: Ongoing\n", ctx->prefix);
        }
    }
}

static void print_md_activity(text_ctx *ctx, const md_json_t *mdj)
{
    apr_time_t t;
    const char *text = NULL;

    if (md_json_has_key(mdj, MD_KEY_RENEWAL, NULL)) {
        print_job_summary(ctx, mdj, MD_KEY_RENEWAL, "");
        return;
    }
    t = md_json_get_time(mdj, MD_KEY_RENEW_AT, NULL);
    if (t > ctx->opts->now) {
        print_time(ctx, "Renew", "ActivityRenew", t);
        return;
    }
    if (t) {
        text = "Pending";
    }
    else if (MD_RENEW_MANUAL == md_json_getl(mdj, MD_KEY_RENEW_MODE, NULL)) {
        text = "Manual renew";
    }
    if (!text) return;
    if (ctx->opts->html) {
        md_sbuf_puts(&ctx->b, text);
    }
    else {
        md_sbuf_printf(&ctx->b, "%sActivity: %s\n", ctx->prefix, text);
    }
}

const char *md_status_state_text(const md_json_t *mdj, apr_time_t now, apr_pool_t *p)
{
    const char *descr;
    apr_time_t until;

    switch (md_json_getl(mdj, MD_KEY_STATE, NULL)) {
        case MD_S_INCOMPLETE:
            descr = md_json_gets(mdj, MD_KEY_STATE_DESCR, NULL);
            return descr ? apr_pstrcat(p, "incomplete: ", descr, NULL) : "incomplete";
        case MD_S_COMPLETE:
        case MD_S_EXPIRED_DEPRECATED:
            until = md_json_get_time(mdj, MD_KEY_CERT, MD_KEY_VALID, MD_KEY_UNTIL, NULL);
            return (until > 0 && until < now) ? "expired" : "good";
        case MD_S_ERROR:
            return "error";
        case MD_S_MISSING_INFORMATION:
            return "missing information";
        default:
            return "unknown";
    }
}

/* ?auto lines of one MD but the activity */
static void md_auto_lines_static(text_ctx *ctx, const md_json_t *mdj)
{
    apr_array_header_t *domains = apr_array_make(ctx->p, 5, sizeof(const char *));
    int j;

    md_sbuf_printf(&ctx->b, "%sDomain: %s\n", ctx->prefix, md_json_gets(mdj, MD_KEY_NAME, NULL));
    md_json_getsa(domains, mdj, MD_KEY_DOMAINS, NULL);
    for (j = 0; j < domains->nelts; ++j) {
        md_sbuf_printf(&ctx->b, "%sNames[%d]: %s\n", ctx->prefix, j,
                       APR_ARRAY_IDX(domains, j, const char *));
    }
    md_sbuf_printf(&ctx->b, "%sStatus: %s\n", ctx->prefix,
                   md_status_state_text(mdj, ctx->opts->now, ctx->p));
    print_valid(ctx, md_json_getcj(ctx->p, mdj, MD_KEY_CERT, NULL), "Valid", MD_KEY_VALID);
    print_ca(ctx, mdj);
    if (md_json_getb(mdj, MD_KEY_STAPLING, NULL)) {
        md_sbuf_printf(&ctx->b, "%sStapling: on\n", ctx->prefix);
    }
    print_check_at(ctx, mdj);
}

static void md_auto_lines(text_ctx *ctx, const md_json_t *mdj)
{
    md_auto_lines_static(ctx, mdj);
    print_md_activity(ctx, mdj);
}

/* HTML cells of one MD up to the activity cell's content */
static void md_html_cells(text_ctx *ctx, const md_json_t *mdj)
{
    apr_array_header_t *domains = apr_array_make(ctx->p, 5, sizeof(const char *));

    md_json_getsa(domains, mdj, MD_KEY_DOMAINS, NULL);
    md_sbuf_printf(&ctx->b, "<td>%s</td>", md_json_gets(mdj, MD_KEY_NAME, NULL));
    md_sbuf_printf(&ctx->b, "<td><div style=\"max-width:400px;\">%s</div></td>",
                   md_array_str_join(domains, " ", ctx->p));
    md_sbuf_printf(&ctx->b, "<td>%s</td>", md_status_state_text(mdj, ctx->opts->now, ctx->p));
    md_sbuf_puts(&ctx->b, "<td>");
    print_valid(ctx, md_json_getcj(ctx->p, mdj, MD_KEY_CERT, NULL), "Valid", MD_KEY_VALID);
    md_sbuf_puts(&ctx->b, "</td><td>");
    print_ca(ctx, mdj);
    md_sbuf_printf(&ctx->b, "</td><td>%s</td><td>",
                   md_json_getb(mdj, MD_KEY_STAPLING, NULL) ? "on" : "");
    print_check_at(ctx, mdj);
    md_sbuf_puts(&ctx->b, "</td><td>");
}

static void row_start(text_ctx *ctx, int index)
{
    md_sbuf_puts(&ctx->b, (index % 2) ? "<tr class=\"odd\">" : "<tr class=\"even\">");
}

static void md_html_row(text_ctx *ctx, const md_json_t *mdj, int index)
{
    row_start(ctx, index);
    md_html_cells(ctx, mdj);
    print_md_activity(ctx, mdj);
    md_sbuf_puts(&ctx->b, "</td></tr>");
}

static void table_start(text_ctx *ctx, const char *title, const char *cls,
                        const char *const *columns)
{
    md_sbuf_printf(&ctx->b, "<hr>\n<h3>%s</h3>\n<table class='%s'><thead><tr>\n", title, cls);
    for (; *columns; ++columns) {
        md_sbuf_printf(&ctx->b, "<th class=\"%s\">%s</th>", *columns, *columns);
    }
    md_sbuf_puts(&ctx->b, "</tr>\n</thead><tbody>");
}

static void table_end(text_ctx *ctx)
{
    md_sbuf_puts(&ctx->b, "</td></tr>\n</tbody>\n</table>\n");
}

static void text_ctx_init(text_ctx *ctx, const md_status_text_opts_t *opts, apr_pool_t *p)
{
    md_sbuf_init(&ctx->b, p, 4096);
    ctx->opts = opts;
    ctx->p = p;
    ctx->prefix = "";
}

#define COUNT_OK        0x01
#define COUNT_RENEW     0x02
#define COUNT_ERRORED   0x04
#define COUNT_READY     0x08

/* What one MD adds to the ?auto totals. */
static int md_count_bits(const md_json_t *mdj)
{
    int bits = 0;

    switch (md_json_getl(mdj, MD_KEY_STATE, NULL)) {
        case MD_S_COMPLETE:
        case MD_S_EXPIRED_DEPRECATED:
            bits |= COUNT_OK;
            /* fall through */
        case MD_S_INCOMPLETE:
            if (md_json_getb(mdj, MD_KEY_RENEW, NULL)) {
                bits |= COUNT_RENEW;
            }
            if (!md_json_has_key(mdj, MD_KEY_RENEWAL, NULL)) {
                break;
            }
            if (md_json_getl(mdj, MD_KEY_RENEWAL, MD_KEY_ERRORS, NULL) > 0
                || md_json_getl(mdj, MD_KEY_RENEWAL, MD_KEY_LAST, MD_KEY_STATUS, NULL)) {
                bits |= COUNT_ERRORED;
            }
            else if (md_json_getb(mdj, MD_KEY_RENEWAL, MD_KEY_FINISHED, NULL)) {
                bits |= COUNT_READY;
            }
            break;
        default:
            bits |= COUNT_ERRORED;
            break;
    }
    return bits;
}

static void put_counts(text_ctx *ctx, const int *bits, int n)
{
    int i, ok = 0, renew = 0, errored = 0, ready = 0;

    for (i = 0; i < n; ++i) {
        if (bits[i] & COUNT_OK) {
            ++ok;
        }
        if (bits[i] & COUNT_RENEW) {
            ++renew;
        }
        if (bits[i] & COUNT_ERRORED) {
            ++errored;
        }
        if (bits[i] & COUNT_READY) {
            ++ready;
        }
    }
    md_sbuf_printf(&ctx->b, "ManagedCertificatesTotal: %d\n", n);
    md_sbuf_printf(&ctx->b, "ManagedCertificatesOK: %d\n", ok);
    md_sbuf_printf(&ctx->b, "ManagedCertificatesRenew: %d\n", renew);
    md_sbuf_printf(&ctx->b, "ManagedCertificatesErrored: %d\n", errored);
    md_sbuf_printf(&ctx->b, "ManagedCertificatesReady: %d\n", ready);
}

static void md_counts(text_ctx *ctx, const apr_array_header_t *mds)
{
    int *bits = apr_pcalloc(ctx->p, sizeof(int) * (apr_size_t)(mds->nelts + 1));
    int i;

    for (i = 0; i < mds->nelts; ++i) {
        bits[i] = md_count_bits(APR_ARRAY_IDX(mds, i, const md_json_t *));
    }
    put_counts(ctx, bits, mds->nelts);
}

/* What a server-status table lists: how its items sort and are counted,
 * their ?auto lines (under prefix[i]) and HTML rows. */
typedef struct {
    int (*cmp)(const void *a, const void *b);
    void (*counts)(text_ctx *ctx, const apr_array_header_t *items);
    const char *title;
    const char *cls;
    const char *const *columns;
    const char *prefix;
    void (*html_row)(text_ctx *ctx, const md_json_t *item, int index);
    void (*auto_lines)(text_ctx *ctx, const md_json_t *item);
} table_kind;

/* The server-status text (?auto lines or an HTML table) of items */
static const char *server_text(const table_kind *kind, const apr_array_header_t *items,
                               const md_status_text_opts_t *opts, apr_pool_t *p)
{
    apr_array_header_t *sorted = md_status_sorted_copy(items, kind->cmp, p);
    text_ctx ctx;
    int i;

    text_ctx_init(&ctx, opts, p);
    if (!opts->html) {
        kind->counts(&ctx, sorted);
    }
    else if (sorted->nelts > 0) {
        table_start(&ctx, kind->title, kind->cls, kind->columns);
    }
    for (i = 0; i < sorted->nelts; ++i) {
        ctx.prefix = apr_psprintf(p, "%s[%d]", kind->prefix, i);
        if (opts->html) {
            kind->html_row(&ctx, APR_ARRAY_IDX(sorted, i, const md_json_t *), i);
        }
        else {
            kind->auto_lines(&ctx, APR_ARRAY_IDX(sorted, i, const md_json_t *));
        }
    }
    if (opts->html && sorted->nelts > 0) {
        table_end(&ctx);
    }
    return ctx.b.data;
}

static const char *const md_columns[] = {
    "Domain", "Names", "Status", "Valid", "CA", "Stapling", "CheckAt", "Activity", NULL
};

static int same_opt(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* The earliest future time at which the static part of mdj's row changes:
 * the certificate's start ("from" shown) and end ("expired"). */
static apr_time_t row_until(const md_json_t *mdj, apr_time_t now)
{
    apr_time_t t, until = 0;
    const char *keys[] = { MD_KEY_FROM, MD_KEY_UNTIL };
    int i;

    for (i = 0; i < 2; ++i) {
        t = md_json_get_time(mdj, MD_KEY_CERT, MD_KEY_VALID, keys[i], NULL);
        if (t > now && (!until || t < until)) {
            until = t;
        }
    }
    return until;
}

/* The static part of e's row for opts: cached in the entry while valid. */
static const char *entry_row(md_status_entry_t *e, const md_status_text_opts_t *opts,
                             apr_pool_t *p)
{
    md_status_row_cache_t *rc = &e->rows[opts->html ? 1 : 0];
    int same = same_opt(rc->check_name, opts->cert_check_name)
               && same_opt(rc->check_url, opts->cert_check_url);
    const md_json_t *mdj;
    text_ctx ctx;

    if (rc->text && same && rc->since <= opts->now
        && (!rc->until || rc->until > opts->now)) {
        return rc->text;
    }
    text_ctx_init(&ctx, opts, p);
    mdj = md_json_getcj(p, e->json, NULL);
    if (opts->html) {
        md_html_cells(&ctx, mdj);
    }
    else {
        md_auto_lines_static(&ctx, mdj);
    }
    if (!rc->text || same) {
        /* first rendering or expired: keep it (other options: this request only) */
        rc->check_name = opts->cert_check_name ? apr_pstrdup(e->p, opts->cert_check_name)
                                               : NULL;
        rc->check_url = opts->cert_check_url ? apr_pstrdup(e->p, opts->cert_check_url)
                                             : NULL;
        rc->since = opts->now;
        rc->until = row_until(mdj, opts->now);
        rc->text = apr_pstrmemdup(e->p, ctx.b.data, ctx.b.len);
    }
    return ctx.b.data;
}

const char *md_status_entries_server_text(apr_array_header_t *entries,
                                          const md_status_text_opts_t *opts, apr_pool_t *p)
{
    apr_array_header_t *sorted = md_status_sorted_copy(entries, md_status_entry_name_cmp, p);
    md_status_entry_t *e;
    const md_json_t *mdj;
    apr_size_t size = 4096;
    int i, *bits;
    text_ctx ctx;

    for (i = 0; i < sorted->nelts; ++i) {
        e = APR_ARRAY_IDX(sorted, i, md_status_entry_t *);
        if (e->rows[opts->html ? 1 : 0].text) {
            size += strlen(e->rows[opts->html ? 1 : 0].text) + 256;
        }
    }
    text_ctx_init(&ctx, opts, p);
    md_sbuf_init(&ctx.b, p, size);
    if (!opts->html) {
        bits = apr_pcalloc(p, sizeof(int) * (apr_size_t)(sorted->nelts + 1));
        for (i = 0; i < sorted->nelts; ++i) {
            e = APR_ARRAY_IDX(sorted, i, md_status_entry_t *);
            if (e->counts < 0) {
                e->counts = md_count_bits(md_json_getcj(p, e->json, NULL));
            }
            bits[i] = e->counts;
        }
        put_counts(&ctx, bits, sorted->nelts);
    }
    else if (sorted->nelts > 0) {
        table_start(&ctx, "Managed Certificates", "md_status", md_columns);
    }
    for (i = 0; i < sorted->nelts; ++i) {
        e = APR_ARRAY_IDX(sorted, i, md_status_entry_t *);
        mdj = md_json_getcj(p, e->json, NULL);
        if (opts->html) {
            row_start(&ctx, i);
            md_sbuf_puts(&ctx.b, entry_row(e, opts, p));
            print_md_activity(&ctx, mdj);
            md_sbuf_puts(&ctx.b, "</td></tr>");
        }
        else {
            ctx.prefix = apr_psprintf(p, "ManagedDomain[%d]", i);
            md_status_put_patched(&ctx.b, entry_row(e, opts, p), -1, NULL, ctx.prefix);
            print_md_activity(&ctx, mdj);
        }
    }
    if (opts->html && sorted->nelts > 0) {
        table_end(&ctx);
    }
    return ctx.b.data;
}

/* --- staplings -------------------------------------------------------------------------- */

md_json_t *md_status_stapling_json(const md_status_stapling_t *st, int with_log,
                                   apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    if (st->domain) {
        md_json_sets(st->domain, json, MD_KEY_DOMAIN, NULL);
    }
    if (st->id) {
        md_json_sets(st->id, json, MD_KEY_ID, NULL);
    }
    md_json_sets(st->status ? st->status : "unknown", json, MD_KEY_STATUS, NULL);
    if (st->cert_fingerprint) {
        md_json_sets(st->cert_fingerprint, json, MD_KEY_CERT, MD_KEY_SHA256_FINGERPRINT, NULL);
    }
    if (st->url) {
        md_json_sets(st->url, json, MD_KEY_URL, NULL);
    }
    md_status_set_period(json, MD_KEY_VALID, st->valid_from, st->valid_until);
    if (st->renew_at > 0) {
        md_json_set_time(st->renew_at, json, MD_KEY_RENEW_AT, NULL);
    }
    if (st->job) {
        md_json_setj(md_job_to_json(st->job, with_log, p), json, MD_KEY_RENEWAL, NULL);
    }
    md_status_mask_credentials(json, p);
    return json;
}

static int stapling_cmp(const void *a, const void *b)
{
    const md_json_t *j1 = *(md_json_t *const *)a, *j2 = *(md_json_t *const *)b;
    const char *d1 = md_json_gets(j1, MD_KEY_DOMAIN, NULL);
    const char *d2 = md_json_gets(j2, MD_KEY_DOMAIN, NULL);
    const char *i1 = md_json_gets(j1, MD_KEY_ID, NULL);
    const char *i2 = md_json_gets(j2, MD_KEY_ID, NULL);
    int rv = strcmp(d1 ? d1 : "", d2 ? d2 : "");

    return rv ? rv : strcmp(i1 ? i1 : "", i2 ? i2 : "");
}

static void print_ocsp_activity(text_ctx *ctx, const md_json_t *sj)
{
    apr_time_t t = md_json_get_time(sj, MD_KEY_RENEW_AT, NULL);
    const char *status = md_json_gets(sj, MD_KEY_STATUS, NULL);

    print_time(ctx, "Refresh", "ActivityRefresh", t);
    if (md_json_has_key(sj, MD_KEY_RENEWAL, NULL)
        && ((status && !strcmp("unknown", status)) || t <= ctx->opts->now)) {
        print_job_summary(ctx, sj, MD_KEY_RENEWAL, ": ");
    }
}

static void print_responder(text_ctx *ctx, const md_json_t *sj)
{
    const char *url = md_json_gets(sj, MD_KEY_URL, NULL);
    const char *host;

    if (!url) return;
    host = md_util_uri_host(ctx->p, url);
    print_link(ctx, "Responder", 0, host ? host : url, url);
}

static void ocsp_auto_lines(text_ctx *ctx, const md_json_t *sj)
{
    const char *s;

    s = md_json_gets(sj, MD_KEY_DOMAIN, NULL);
    md_sbuf_printf(&ctx->b, "%sDomain: %s\n", ctx->prefix, s ? s : "");
    s = md_json_gets(sj, MD_KEY_ID, NULL);
    md_sbuf_printf(&ctx->b, "%sCertificateID: %s\n", ctx->prefix, s ? s : "");
    s = md_json_gets(sj, MD_KEY_STATUS, NULL);
    md_sbuf_printf(&ctx->b, "%sOCSPStatus: %s\n", ctx->prefix, s ? s : "");
    print_valid(ctx, sj, "StaplingValid", MD_KEY_VALID);
    print_responder(ctx, sj);
    print_ocsp_activity(ctx, sj);
}

static void ocsp_html_row(text_ctx *ctx, const md_json_t *sj, int index)
{
    const char *s;

    md_sbuf_printf(&ctx->b, "<tr class=\"%s\">", (index % 2) ? "odd" : "even");
    s = md_json_gets(sj, MD_KEY_DOMAIN, NULL);
    md_sbuf_printf(&ctx->b, "<td>%s</td>", s ? s : "");
    s = md_json_gets(sj, MD_KEY_ID, NULL);
    md_sbuf_printf(&ctx->b, "<td>%s</td>", s ? s : "");
    s = md_json_gets(sj, MD_KEY_STATUS, NULL);
    md_sbuf_printf(&ctx->b, "<td>%s</td><td>", s ? s : "");
    print_valid(ctx, sj, "StaplingValid", MD_KEY_VALID);
    md_sbuf_puts(&ctx->b, "</td><td>");
    print_responder(ctx, sj);
    md_sbuf_puts(&ctx->b, "</td><td>");
    print_ocsp_activity(ctx, sj);
    md_sbuf_puts(&ctx->b, "</td></tr>");
}

static void ocsp_counts(text_ctx *ctx, const apr_array_header_t *staplings)
{
    int i, good = 0, revoked = 0, unknown = 0;
    const char *s;

    for (i = 0; i < staplings->nelts; ++i) {
        s = md_json_gets(APR_ARRAY_IDX(staplings, i, const md_json_t *), MD_KEY_STATUS, NULL);
        if (s && !strcmp("good", s)) {
            ++good;
        }
        else if (s && !strcmp("revoked", s)) {
            ++revoked;
        }
        else {
            ++unknown;
        }
    }
    md_sbuf_printf(&ctx->b, "ManagedStaplingsTotal: %d\n", staplings->nelts);
    md_sbuf_printf(&ctx->b, "ManagedStaplingsOK: %d\n", good);
    md_sbuf_printf(&ctx->b, "ManagedStaplingsRenew: %d\n", revoked);
    md_sbuf_printf(&ctx->b, "ManagedStaplingsErrored: %d\n", unknown);
}

static const char *const ocsp_columns[] = {
    "Domain", "CertificateID", "OCSPStatus", "StaplingValid", "Responder", "Activity", NULL
};

/* --- the two server-status tables ------------------------------------------------------ */

static const table_kind md_table = {
    md_status_json_name_cmp, md_counts, "Managed Certificates", "md_status", md_columns,
    "ManagedDomain", md_html_row, md_auto_lines,
};

static const table_kind ocsp_table = {
    stapling_cmp, ocsp_counts, "Managed Staplings", "md_ocsp_status", ocsp_columns,
    "ManagedStapling", ocsp_html_row, ocsp_auto_lines,
};

const char *md_status_mds_server_text(const apr_array_header_t *mds,
                                      const md_status_text_opts_t *opts, apr_pool_t *p)
{
    return server_text(&md_table, mds, opts, p);
}

const char *md_status_ocsp_server_text(const apr_array_header_t *staplings,
                                       const md_status_text_opts_t *opts, apr_pool_t *p)
{
    return server_text(&ocsp_table, staplings, opts, p);
}
