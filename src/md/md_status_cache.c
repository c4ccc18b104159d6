/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Cached per-MD status entries (md_status.h): each MD's documents serialised
 * once, the all-MDs md-status text assembled from them with only renew-at
 * patched to `now`.
 */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_status.h"
#include "md_status_int.h"

/* --- cached entries ---------------------------------------------------------------------- */

#define RENEW_AT_MARK   "\n  \"renew-at\": \""
#define RFC822_LEN      (APR_RFC822_DATE_LEN - 1)

/* Offset of the renew-at time string in text, -1 if absent or odd. */
static apr_ssize_t renew_at_offset(const char *text)
{
    const char *s = strstr(text, RENEW_AT_MARK);

    if (!s) return -1;
    s += strlen(RENEW_AT_MARK);
    if (strlen(s) < RFC822_LEN + 1 || s[RFC822_LEN] != '"') return -1;
    return s - text;
}

apr_status_t md_status_entry_make(md_status_entry_t **pentry, const md_status_input_t *in,
                                  apr_time_t now, apr_pool_t *p)
{
    md_status_entry_t *e = apr_pcalloc(p, sizeof(*e));
    md_json_t *jlog;
    apr_time_t renew_at;
    int is_now;
    apr_status_t rv = APR_SUCCESS;

    e->p = p;
    e->counts = -1;
    e->name = apr_pstrdup(p, in->md->name);
    e->json = md_status_md_json(in, 0, now, p);
    jlog = md_status_md_json(in, 1, now, p);
    e->text_nolog = md_json_writep(e->json, p, MD_JSON_FMT_INDENT);
    e->text_log = md_json_writep(jlog, p, MD_JSON_FMT_INDENT);
    e->cert_status_text = md_json_writep(md_status_cert_status_json(in, p), p,
                                         MD_JSON_FMT_INDENT);
    if (!e->text_nolog || !e->text_log || !e->cert_status_text) {
        rv = APR_EINVAL;
        goto leave;
    }
    renew_at = md_status_renew_at(in, now, &is_now);
    e->at_nolog = e->at_log = -1;
    if (is_now) {
        e->at_nolog = renew_at_offset(e->text_nolog);
        e->at_log = renew_at_offset(e->text_log);
    }
    else if (renew_at > now && !in->job && !in->renewal_due) {
        e->expires = renew_at;
    }
leave:
    *pentry = (APR_SUCCESS == rv) ? e : NULL;
    return rv;
}

const char *md_status_entry_name(const md_status_entry_t *entry)
{
    return entry->name;
}

apr_time_t md_status_entry_expires(const md_status_entry_t *entry)
{
    return entry->expires;
}

const md_json_t *md_status_entry_json(const md_status_entry_t *entry)
{
    return entry->json;
}

const char *md_status_entry_cert_status_text(const md_status_entry_t *entry)
{
    return entry->cert_status_text;
}

/* Appends text, each line prefixed by indent (none for the first when
 * indent is NULL), with the RFC 822 now at offset at (if >= 0). */
void md_status_put_patched(md_sbuf_t *b, const char *text, apr_ssize_t at, const char *now822,
                           const char *indent)
{
    const char *s = text, *nl;
    apr_size_t pos;

    if (indent) {
        md_sbuf_puts(b, indent);
    }
    while (*s) {
        nl = strchr(s, '\n');
        pos = b->len;
        md_sbuf_putn(b, s, nl ? (apr_size_t)(nl - s + 1) : strlen(s));
        if (at >= 0 && at >= s - text && (!nl || at < nl - text)) {
            memcpy(b->data + pos + (at - (s - text)), now822, RFC822_LEN);
        }
        if (!nl) {
            break;
        }
        s = nl + 1;
        if (indent && *s) {
            md_sbuf_puts(b, indent);
        }
    }
}

const char *md_status_entry_md_text(const md_status_entry_t *entry, apr_time_t now,
                                    apr_pool_t *p)
{
    char now822[APR_RFC822_DATE_LEN];
    md_sbuf_t b;

    if (entry->at_log < 0) return apr_pstrdup(p, entry->text_log);
    apr_rfc822_date(now822, now);
    md_sbuf_init(&b, p, strlen(entry->text_log) + 1);
    md_status_put_patched(&b, entry->text_log, entry->at_log, now822, NULL);
    return b.data;
}

int md_status_entry_name_cmp(const void *a, const void *b)
{
    return strcmp((*(md_status_entry_t *const *)a)->name,
                  (*(md_status_entry_t *const *)b)->name);
}

const char *md_status_mds_text(const apr_array_header_t *entries, const char *version,
                               apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *sorted = md_status_sorted_copy(entries, md_status_entry_name_cmp, p);
    const md_status_entry_t *e;
    char now822[APR_RFC822_DATE_LEN];
    apr_size_t size = 128;
    md_sbuf_t b;
    int i;

    apr_rfc822_date(now822, now);
    for (i = 0; i < sorted->nelts; ++i) {
        size += 2 * strlen(APR_ARRAY_IDX(sorted, i, md_status_entry_t *)->text_nolog);
    }
    md_sbuf_init(&b, p, size);
    md_sbuf_printf(&b, "{\n  \"version\": %s,\n  \"managed-domains\": ",
                   md_json_writep(md_json_create_s(p, version), p, MD_JSON_FMT_COMPACT));
    if (sorted->nelts <= 0) {
        md_sbuf_puts(&b, "[]\n}");
        return b.data;
    }
    md_sbuf_puts(&b, "[\n");
    for (i = 0; i < sorted->nelts; ++i) {
        e = APR_ARRAY_IDX(sorted, i, md_status_entry_t *);
        if (i > 0) {
            md_sbuf_puts(&b, ",\n");
        }
        md_status_put_patched(&b, e->text_nolog, e->at_nolog, now822, "    ");
    }
    md_sbuf_puts(&b, "\n  ]\n}");
    return b.data;
}
