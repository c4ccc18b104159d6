/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Status documents: certificate facts and descriptions, the md-status and
 * certificate-status JSON, cached per-MD entries with cheap assembly of the
 * all-MDs document, and the server-status ?auto lines and HTML tables that
 * are rendered from the <md> and stapling JSON objects and `now`.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "md.h"
#include "md_ari.h"
#include "md_crl.h"
#include "md_crypto.h"
#include "md_job.h"
#include "md_json.h"
#include "md_live.h"
#include "md_log.h"
#include "md_reg.h"
#include "md_result.h"
#include "md_status.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"

/* --- certificate facts ------------------------------------------------------------------ */

apr_status_t md_cert_facts_get(md_cert_facts_t **pfacts, const md_cert_t *cert,
                               apr_pool_t *p)
{
    md_cert_facts_t *facts = apr_pcalloc(p, sizeof(*facts));
    apr_status_t rv;

    rv = md_cert_to_sha256_fingerprint(&facts->sha256_fingerprint, cert, p);
    if (APR_SUCCESS != rv) goto leave;
    facts->issuer_name = md_cert_get_issuer_name(cert, p);
    facts->issuer_uri = md_cert_get_issuer_uri(cert, p);
    facts->valid_from = md_cert_get_not_before(cert);
    facts->valid_until = md_cert_get_not_after(cert);
    facts->serial = md_cert_get_serial_number(cert, p);
    if (APR_SUCCESS != md_cert_get_ari_cert_id(&facts->ari_cert_id, cert, p)) {
        facts->ari_cert_id = NULL;
    }
    md_cert_get_scts(&facts->scts, cert, p);
leave:
    *pfacts = (APR_SUCCESS == rv) ? facts : NULL;
    return rv;
}

static void set_period(md_json_t *json, const char *key, apr_time_t from, apr_time_t until)
{
    if (from > 0) {
        md_json_set_time(from, json, key, MD_KEY_FROM, NULL);
    }
    if (until > 0) {
        md_json_set_time(until, json, key, MD_KEY_UNTIL, NULL);
    }
}

md_json_t *md_cert_facts_to_json(const md_cert_facts_t *facts, int full, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    if (full && facts->issuer_name) {
        md_json_sets(facts->issuer_name, json, MD_KEY_ISSUER_NAME, NULL);
    }
    if (full && facts->issuer_uri) {
        md_json_sets(facts->issuer_uri, json, MD_KEY_ISSUER_URI, NULL);
    }
    set_period(json, MD_KEY_VALID, facts->valid_from, facts->valid_until);
    if (facts->serial) {
        md_json_sets(facts->serial, json, MD_KEY_SERIAL, NULL);
    }
    if (facts->sha256_fingerprint) {
        md_json_sets(facts->sha256_fingerprint, json, MD_KEY_SHA256_FINGERPRINT, NULL);
    }
    if (full && facts->ari_cert_id) {
        md_json_sets(facts->ari_cert_id, json, MD_KEY_ARI_CERT_ID, NULL);
    }
    return json;
}

/* --- loading the input ------------------------------------------------------------------ */

static md_status_slot_t *slot_from_chain(const char *name, apr_status_t rv,
                                         apr_array_header_t *certs, apr_pool_t *p)
{
    md_status_slot_t *slot = apr_pcalloc(p, sizeof(*slot));
    md_cert_facts_t *facts;

    slot->name = name;
    slot->rv = rv;
    if (APR_SUCCESS == rv && (!certs || certs->nelts <= 0)) {
        slot->rv = APR_ENOENT;
    }
    if (APR_SUCCESS == slot->rv) {
        slot->rv = md_cert_facts_get(&facts, APR_ARRAY_IDX(certs, 0, md_cert_t *), p);
        slot->cert = facts;
    }
    return slot;
}

static void load_staged(md_status_input_t *in, md_store_t *store, const md_t *md,
                        apr_pool_t *p)
{
    md_pkey_spec_t *spec;
    apr_array_header_t *certs;
    apr_status_t rv;
    int i;

    for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        rv = md_store_chain_load(store, MD_SG_STAGING, md->name, spec, &certs, p);
        APR_ARRAY_PUSH(in->staged, md_status_slot_t *) =
            slot_from_chain(md_pkey_spec_name(spec), rv, certs, p);
    }
}

apr_status_t md_status_input_load(md_status_input_t **pin, md_reg_t *reg,
                                  const md_t *md, apr_time_t now, apr_pool_t *p)
{
    md_status_input_t *in = apr_pcalloc(p, sizeof(*in));
    md_store_t *store = md_reg_store_get(reg);
    const md_pubcert_t *pc;
    md_status_slot_t *slot;
    md_job_t *job;
    apr_status_t rv;
    int i;

    in->md = md;
    in->watched = md->watched;
    in->slots = apr_array_make(p, 4, sizeof(md_status_slot_t *));
    in->staged = apr_array_make(p, 4, sizeof(md_status_slot_t *));
    for (i = 0; i < md_reg_slot_count(md); ++i) {
        rv = md_reg_get_pubcert(&pc, reg, md, i, p);
        slot = slot_from_chain(md_reg_slot_name(md, i, p), rv, pc ? pc->certs : NULL, p);
        if (md->crl_check && APR_SUCCESS == rv && pc->certs && pc->certs->nelts > 0) {
            slot->crl = md_crl_status_json(store, md->name,
                                           APR_ARRAY_IDX(pc->certs, 0, md_cert_t *), p);
            if (slot->crl && md_json_gets(slot->crl, MD_KEY_STATUS, NULL)
                && !strcmp("revoked", md_json_gets(slot->crl, MD_KEY_STATUS, NULL))) {
                in->renewal_due = 1;
            }
        }
        APR_ARRAY_PUSH(in->slots, md_status_slot_t *) = slot;
    }
    job = md_job_make(p, store, MD_SG_STAGING, md->name, 0);
    rv = md_job_load(job);
    if (APR_SUCCESS == rv && job->finished
        && !md_job_staged_results_exist(store, md, p)) {
        rv = APR_ENOENT;            /* as the scheduler sees it: no job */
    }
    if (APR_SUCCESS == rv) {
        in->job = job;
        load_staged(in, store, md, p);
        in->staged_live = md->activation_live && md_live_is_staged(store, md, p);
    }
    else if (!APR_STATUS_IS_ENOENT(rv)) {
        in->error = rv;
    }
    in->ari = md_ari_current(reg, md, p);
    in->renewal_due = in->renewal_due       /* a CRL says revoked */
                      || md_reg_should_renew(reg, md, now, p)
                      || (in->ari && in->ari->renew_at <= now);
    *pin = in;
    return APR_SUCCESS;
}

/* --- renew-at --------------------------------------------------------------------------- */

apr_time_t md_status_renew_at(const md_status_input_t *in, apr_time_t now, int *pis_now)
{
    const md_status_slot_t *slot;
    apr_time_t renew_at = 0, start;
    int i;

    *pis_now = 0;
    if (MD_S_INCOMPLETE == in->md->state || !in->slots || in->slots->nelts <= 0) {
        goto now;
    }
    for (i = 0; i < in->slots->nelts; ++i) {
        slot = APR_ARRAY_IDX(in->slots, i, const md_status_slot_t *);
        if (APR_STATUS_IS_ENOENT(slot->rv)) goto now;
    }
    for (i = 0; i < in->slots->nelts; ++i) {
        slot = APR_ARRAY_IDX(in->slots, i, const md_status_slot_t *);
        if (!slot->cert) return 0;
        start = md_reg_cert_renew_at(in->md->renew_window, slot->cert->valid_from,
                                     slot->cert->valid_until);
        if (!renew_at || start < renew_at) {
            renew_at = start;
        }
    }
    /* the CA's advice (ARI) when it is earlier */
    if (in->ari && in->ari->renew_at && in->ari->renew_at < renew_at) {
        renew_at = in->ari->renew_at;
    }
    return renew_at;
now:
    *pis_now = 1;
    return now;
}

/* --- JSON documents --------------------------------------------------------------------- */

static void period_intersect(apr_time_t *pfrom, apr_time_t *puntil,
                             const md_cert_facts_t *cert)
{
    if (!*pfrom || cert->valid_from > *pfrom) {
        *pfrom = cert->valid_from;
    }
    if (!*puntil || cert->valid_until < *puntil) {
        *puntil = cert->valid_until;
    }
}

static md_json_t *ocsp_json(const md_status_slot_t *slot, int with_log, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(slot->ocsp_status, json, MD_KEY_STATUS, NULL);
    set_period(json, MD_KEY_VALID, slot->ocsp_valid_from, slot->ocsp_valid_until);
    if (slot->ocsp_job) {
        md_json_setj(md_job_to_json(slot->ocsp_job, with_log, p), json, MD_KEY_RENEWAL, NULL);
    }
    return json;
}

md_json_t *md_status_certs_json(const apr_array_header_t *slots, int with_log,
                                apr_pool_t *p)
{
    md_json_t *json = md_json_create(p), *cj;
    const md_status_slot_t *slot;
    apr_time_t from = 0, until = 0;
    int i, n = 0;

    for (i = 0; slots && i < slots->nelts; ++i) {
        slot = APR_ARRAY_IDX(slots, i, const md_status_slot_t *);
        if (!slot->cert) {
            continue;
        }
        cj = md_cert_facts_to_json(slot->cert, 1, p);
        if (slot->ocsp_status) {
            md_json_setj(ocsp_json(slot, with_log, p), cj, MD_KEY_OCSP, NULL);
        }
        if (slot->crl) {
            md_json_setj(slot->crl, cj, "crl", NULL);
        }
        md_json_setj(cj, json, slot->name, NULL);
        period_intersect(&from, &until, slot->cert);
        ++n;
    }
    if (n > 0) {
        set_period(json, MD_KEY_VALID, from, until);
    }
    return json;
}

/* "ari": {"window": {"start", "end"}, "explanation"?, "renew-at"} */
static md_json_t *ari_json(const md_ari_t *ari, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_set_time(ari->start, json, MD_KEY_WINDOW, MD_KEY_START, NULL);
    md_json_set_time(ari->end, json, MD_KEY_WINDOW, MD_KEY_END, NULL);
    if (ari->explanation) {
        md_json_sets(ari->explanation, json, MD_KEY_EXPLANATION, NULL);
    }
    md_json_set_time(ari->renew_at, json, MD_KEY_RENEW_AT, NULL);
    return json;
}

static const char *mask_cb(void *baton, const char *s)
{
    return md_util_mask_credentials(baton, s);
}

/* Status output is readable by whoever may see the handlers: the password of
 * a proxy or CA URL (in the MD, in activity and error texts) is shown as
 * "***" (the hmac of the EAB is replaced as a whole). */
static void mask_credentials(md_json_t *json, apr_pool_t *p)
{
    md_json_strings_map(json, mask_cb, p);
}

md_json_t *md_status_md_json(const md_status_input_t *in, int with_log, apr_time_t now,
                             apr_pool_t *p)
{
    md_json_t *json = md_to_json(in->md, p), *jrenewal;
    apr_time_t renew_at;
    int is_now;

    if (md_json_has_key(json, MD_KEY_EAB, MD_KEY_HMAC, NULL)) {
        md_json_sets("***", json, MD_KEY_EAB, MD_KEY_HMAC, NULL);
    }
    md_json_setj(md_status_certs_json(in->slots, with_log, p), json, MD_KEY_CERT, NULL);
    renew_at = md_status_renew_at(in, now, &is_now);
    if (renew_at > 0) {
        md_json_set_time(renew_at, json, MD_KEY_RENEW_AT, NULL);
    }
    if (in->ari) {
        md_json_setj(ari_json(in->ari, p), json, MD_KEY_ARI, NULL);
    }
    md_json_setb(in->md->stapling > 0, json, MD_KEY_STAPLING, NULL);
    md_json_setb(in->watched, json, MD_KEY_WATCHED, NULL);
    if (in->md->activation_live) {
        md_json_sets("live", json, MD_KEY_ACTIVATION, NULL);
    }
    if ((in->job && !in->staged_live) || in->renewal_due) {
        md_json_setb(1, json, MD_KEY_RENEW, NULL);
    }
    if (in->job) {
        jrenewal = md_job_to_json(in->job, with_log, p);
        md_json_setj(md_status_certs_json(in->staged, with_log, p), jrenewal,
                     MD_KEY_CERT, NULL);
        if (in->staged_live) {
            md_json_setb(1, jrenewal, MD_KEY_LIVE, NULL);
        }
        md_json_setj(jrenewal, json, MD_KEY_RENEWAL, NULL);
    }
    if (APR_SUCCESS != in->error) {
        md_json_setl((long)in->error, json, MD_KEY_ERROR, NULL);
    }
    mask_credentials(json, p);
    return json;
}

static const md_status_slot_t *slot_find(const apr_array_header_t *slots, const char *name)
{
    const md_status_slot_t *slot;
    int i;

    for (i = 0; slots && i < slots->nelts; ++i) {
        slot = APR_ARRAY_IDX(slots, i, const md_status_slot_t *);
        if (slot->cert && !strcmp(name, slot->name)) return slot;
    }
    return NULL;
}

/* "scts" of the staged certificates (as the original's user guide shows
 * them), only when there are any. */
static void add_scts(md_json_t *json, const apr_array_header_t *slots, apr_pool_t *p)
{
    const md_status_slot_t *slot;
    const md_sct_t *sct;
    md_json_t *jsct;
    int i, j;

    for (i = 0; slots && i < slots->nelts; ++i) {
        slot = APR_ARRAY_IDX(slots, i, const md_status_slot_t *);
        for (j = 0; slot->cert && slot->cert->scts && j < slot->cert->scts->nelts; ++j) {
            sct = APR_ARRAY_IDX(slot->cert->scts, j, const md_sct_t *);
            jsct = md_json_create(p);
            md_json_sets(sct->logid_hex, jsct, MD_KEY_LOGID, NULL);
            md_json_set_time(sct->timestamp, jsct, MD_KEY_SIGNED, NULL);
            md_json_sets(sct->signature_hex, jsct, MD_KEY_SIGNATURE, NULL);
            md_json_sets(sct->signature_type, jsct, MD_KEY_SIGNATURE_TYPE, NULL);
            md_json_addj(jsct, json, MD_KEY_SCTS, NULL);
        }
    }
}

md_json_t *md_status_cert_status_json(const md_status_input_t *in, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p), *jrenewal;
    const md_status_slot_t *slot;
    const char *name;
    apr_time_t from = 0, until = 0;
    int i;

    for (i = 0; in->slots && i < in->slots->nelts; ++i) {
        slot = APR_ARRAY_IDX(in->slots, i, const md_status_slot_t *);
        if (slot->cert) {
            period_intersect(&from, &until, slot->cert);
        }
    }
    if (from || until) {
        set_period(json, MD_KEY_VALID, from, until);
    }
    /* slots are named by key spec even for static files (quirk kept) */
    for (i = 0; i < md_pkeys_spec_count(in->md->pks); ++i) {
        name = md_pkey_spec_name(md_pkeys_spec_get(in->md->pks, i));
        slot = slot_find(in->slots, name);
        md_json_setj(slot ? md_cert_facts_to_json(slot->cert, 0, p) : md_json_create(p),
                     json, name, NULL);
    }
    if (in->job) {
        jrenewal = md_json_create(p);
        md_json_setj(md_status_certs_json(in->staged, 0, p), jrenewal, MD_KEY_CERT, NULL);
        add_scts(jrenewal, in->staged, p);
        md_json_setj(jrenewal, json, MD_KEY_RENEWAL, NULL);
    }
    return json;
}

static int json_name_cmp(const void *a, const void *b)
{
    const char *n1 = md_json_gets(*(md_json_t *const *)a, MD_KEY_NAME, NULL);
    const char *n2 = md_json_gets(*(md_json_t *const *)b, MD_KEY_NAME, NULL);

    return strcmp(n1 ? n1 : "", n2 ? n2 : "");
}

static apr_array_header_t *sorted_copy(const apr_array_header_t *a,
                                       int (*cmp)(const void *, const void *),
                                       apr_pool_t *p)
{
    apr_array_header_t *sorted = apr_array_copy(p, a);
    int i;

    /* callers mostly pass sorted input: n-1 comparisons instead of n log n */
    for (i = 1; i < sorted->nelts; ++i) {
        if (cmp(sorted->elts + (i - 1) * sorted->elt_size,
                sorted->elts + i * sorted->elt_size) > 0) {
            qsort(sorted->elts, (size_t)sorted->nelts, sorted->elt_size, cmp);
            break;
        }
    }
    return sorted;
}

md_json_t *md_status_mds_json(const apr_array_header_t *mds, const char *version,
                              apr_pool_t *p)
{
    md_json_t *json = md_json_create(p), *jmds = md_json_create_array(p);
    apr_array_header_t *sorted = sorted_copy(mds, json_name_cmp, p);
    int i;

    md_json_sets(version, json, MD_KEY_VERSION, NULL);
    for (i = 0; i < sorted->nelts; ++i) {
        md_json_addj(APR_ARRAY_IDX(sorted, i, md_json_t *), jmds, NULL);
    }
    md_json_setj(jmds, json, MD_KEY_MDS, NULL);
    return json;
}

/* --- text buffer -------------------------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    char *data;
    apr_size_t len;
    apr_size_t cap;
} sbuf_t;

static void sbuf_init(sbuf_t *b, apr_pool_t *p, apr_size_t cap)
{
    b->p = p;
    b->cap = (cap < 256) ? 256 : cap;
    b->len = 0;
    b->data = apr_palloc(p, b->cap);
    b->data[0] = '\0';
}

static void sbuf_putn(sbuf_t *b, const char *s, apr_size_t len)
{
    char *ndata;

    if (b->len + len + 1 > b->cap) {
        while (b->len + len + 1 > b->cap) b->cap *= 2;
        ndata = apr_palloc(b->p, b->cap);
        memcpy(ndata, b->data, b->len);
        b->data = ndata;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void sbuf_puts(sbuf_t *b, const char *s)
{
    sbuf_putn(b, s, strlen(s));
}

static void sbuf_printf(sbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sbuf_printf(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    const char *s;

    va_start(ap, fmt);
    s = apr_pvsprintf(b->p, fmt, ap);
    va_end(ap);
    sbuf_puts(b, s);
}

/* --- cached entries ---------------------------------------------------------------------- */

#define RENEW_AT_MARK   "\n  \"renew-at\": \""
#define RFC822_LEN      (APR_RFC822_DATE_LEN - 1)

/* The part of an MD's server-status text that does not move with the
 * clock (all but the activity), rendered once per output kind. */
typedef struct {
    const char *check_name;         /* the options it was rendered with */
    const char *check_url;
    const char *text;               /* NULL: not rendered yet */
    apr_time_t since;               /* valid from the time it was rendered */
    apr_time_t until;               /* to when "expired"/"from" change; 0 never */
} row_cache_t;

struct md_status_entry_t {
    apr_pool_t *p;
    const char *name;
    md_json_t *json;                /* <md> without logs */
    const char *text_nolog;         /* serialised at depth 0 */
    const char *text_log;
    apr_ssize_t at_nolog;           /* offset of the renew-at value to patch, -1 */
    apr_ssize_t at_log;
    const char *cert_status_text;
    apr_time_t expires;
    row_cache_t rows[2];            /* [0] ?auto lines, [1] HTML cells */
    int counts;                     /* COUNT_* bits for the ?auto totals, -1 unset */
};

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
static void put_patched(sbuf_t *b, const char *text, apr_ssize_t at, const char *now822,
                        const char *indent)
{
    const char *s = text, *nl;
    apr_size_t pos;

    if (indent) {
        sbuf_puts(b, indent);
    }
    while (*s) {
        nl = strchr(s, '\n');
        pos = b->len;
        sbuf_putn(b, s, nl ? (apr_size_t)(nl - s + 1) : strlen(s));
        if (at >= 0 && at >= s - text && (!nl || at < nl - text)) {
            memcpy(b->data + pos + (at - (s - text)), now822, RFC822_LEN);
        }
        if (!nl) {
            break;
        }
        s = nl + 1;
        if (indent && *s) {
            sbuf_puts(b, indent);
        }
    }
}

const char *md_status_entry_md_text(const md_status_entry_t *entry, apr_time_t now,
                                    apr_pool_t *p)
{
    char now822[APR_RFC822_DATE_LEN];
    sbuf_t b;

    if (entry->at_log < 0) return apr_pstrdup(p, entry->text_log);
    apr_rfc822_date(now822, now);
    sbuf_init(&b, p, strlen(entry->text_log) + 1);
    put_patched(&b, entry->text_log, entry->at_log, now822, NULL);
    return b.data;
}

static int entry_name_cmp(const void *a, const void *b)
{
    return strcmp((*(md_status_entry_t *const *)a)->name,
                  (*(md_status_entry_t *const *)b)->name);
}

const char *md_status_mds_text(const apr_array_header_t *entries, const char *version,
                               apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *sorted = sorted_copy(entries, entry_name_cmp, p);
    const md_status_entry_t *e;
    char now822[APR_RFC822_DATE_LEN];
    apr_size_t size = 128;
    sbuf_t b;
    int i;

    apr_rfc822_date(now822, now);
    for (i = 0; i < sorted->nelts; ++i) {
        size += 2 * strlen(APR_ARRAY_IDX(sorted, i, md_status_entry_t *)->text_nolog);
    }
    sbuf_init(&b, p, size);
    sbuf_printf(&b, "{\n  \"version\": %s,\n  \"managed-domains\": ",
                md_json_writep(md_json_create_s(p, version), p, MD_JSON_FMT_COMPACT));
    if (sorted->nelts <= 0) {
        sbuf_puts(&b, "[]\n}");
        return b.data;
    }
    sbuf_puts(&b, "[\n");
    for (i = 0; i < sorted->nelts; ++i) {
        e = APR_ARRAY_IDX(sorted, i, md_status_entry_t *);
        if (i > 0) {
            sbuf_puts(&b, ",\n");
        }
        put_patched(&b, e->text_nolog, e->at_nolog, now822, "    ");
    }
    sbuf_puts(&b, "\n  ]\n}");
    return b.data;
}

/* --- server-status texts ---------------------------------------------------------------- */

typedef struct {
    sbuf_t b;
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
    sbuf_t b;

    if (!strpbrk(s, "<>&\"")) return s;
    sbuf_init(&b, p, strlen(s) + 32);
    for (; *s; ++s) {
        switch (*s) {
            case '<': sbuf_puts(&b, "&lt;"); break;
            case '>': sbuf_puts(&b, "&gt;"); break;
            case '&': sbuf_puts(&b, "&amp;"); break;
            case '"': sbuf_puts(&b, "&quot;"); break;
            default: sbuf_putn(&b, s, 1); break;
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
        sbuf_printf(&ctx->b, "<span title='%s' style='white-space: nowrap;'>%s</span>",
                    html_escape(title, ctx->p), ymd(t, ctx->p));
    }
    else {
        sbuf_printf(&ctx->b, "%s%s: %s\n", ctx->prefix, key, ymd(t, ctx->p));
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
        sbuf_printf(&ctx->b, "%s%s: %" APR_TIME_T_FMT "\n", ctx->prefix, key,
                    apr_time_sec(t - now));
        return;
    }
    apr_rfc822_date(ts, t);
    delta = (t > now) ? t - now : now - t;
    if (delta >= apr_time_from_sec(4 * MD_SECS_PER_DAY)) {
        sbuf_printf(&ctx->b, "%s%s<span title='%s' style='white-space: nowrap;'>%s</span>",
                    label, sep, ts, ymd(t, ctx->p));
    }
    else {
        sbuf_printf(&ctx->b, "%s%s<span title='%s'>%s%s%s</span>", label, sep, ts,
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
            sbuf_puts(&ctx->b, "from ");
        }
        print_date(ctx, apr_pstrcat(ctx->p, label, "From", NULL), from, sfrom);
        if (ctx->opts->html) {
            sbuf_puts(&ctx->b, " ");
        }
    }
    if (until) {
        if (ctx->opts->html) {
            sbuf_puts(&ctx->b, "until ");
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
            sbuf_puts(&ctx->b, " ");
        }
        sbuf_printf(&ctx->b, "<a href='%s'>%s</a>", url, name);
    }
    else {
        sbuf_printf(&ctx->b, "%s%sName%s: %s\n", ctx->prefix, key, sidx, name);
        sbuf_printf(&ctx->b, "%s%sURL%s: %s\n", ctx->prefix, key, sidx, url);
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
        sbuf_printf(&ctx->b, "<a href=\"%s%s\">%s[%s]</a><br>", url, fp, name, key);
    }
    else {
        sbuf_printf(&ctx->b, "%sCheckAtType: %s\n", ctx->prefix, key);
        sbuf_printf(&ctx->b, "%sCheckAtName: %s\n", ctx->prefix, name);
        sbuf_printf(&ctx->b, "%sCheckAtURL: %s%s\n", ctx->prefix, url, fp);
        sbuf_printf(&ctx->b, "%sCheckAtFingerprint: %s\n", ctx->prefix, fp);
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
            sbuf_printf(&ctx->b, "%sActivityLastStatus: %s\n", ctx->prefix, errbuf);
            sbuf_printf(&ctx->b, "%sActivityLastProblem: %s\n", ctx->prefix,
                        problem ? problem : "(null)");
        }
    }
    if (!html) {
        sbuf_printf(&ctx->b, "%sActivityFinished: %s\n", ctx->prefix, finished ? "yes" : "no");
    }
    if (finished) {
        ic.ctx = ctx;
        ic.count = 0;
        iter_object(count_certs_cb, &ic, json, key, MD_KEY_CERT);
        if (!html) {
            sbuf_printf(&ctx->b, "%sActivityNewStaged: %d\n", ctx->prefix, ic.count);
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
            sbuf_printf(&ctx->b, "%sActivityLastDetail: %s\n", ctx->prefix, detail);
        }
    }
    if (html) {
        sbuf_puts(&ctx->b, line);
    }
    t = md_json_get_time(json, key, MD_KEY_NEXT_RUN, NULL);
    if (t > ctx->opts->now && !finished) {
        print_time(ctx, "\nNext run", "ActivityNextRun", t);
    }
    else if (line[0]) {
        if (html) {
            sbuf_puts(&ctx->b, "\nOngoing...");
        }
        else {
            sbuf_printf(&ctx->b, "%sActivity: Ongoing\n", ctx->prefix);
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
        sbuf_puts(&ctx->b, text);
    }
    else {
        sbuf_printf(&ctx->b, "%sActivity: %s\n", ctx->prefix, text);
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

    sbuf_printf(&ctx->b, "%sDomain: %s\n", ctx->prefix, md_json_gets(mdj, MD_KEY_NAME, NULL));
    md_json_getsa(domains, mdj, MD_KEY_DOMAINS, NULL);
    for (j = 0; j < domains->nelts; ++j) {
        sbuf_printf(&ctx->b, "%sNames[%d]: %s\n", ctx->prefix, j,
                    APR_ARRAY_IDX(domains, j, const char *));
    }
    sbuf_printf(&ctx->b, "%sStatus: %s\n", ctx->prefix,
                md_status_state_text(mdj, ctx->opts->now, ctx->p));
    print_valid(ctx, md_json_getcj(ctx->p, mdj, MD_KEY_CERT, NULL), "Valid", MD_KEY_VALID);
    print_ca(ctx, mdj);
    if (md_json_getb(mdj, MD_KEY_STAPLING, NULL)) {
        sbuf_printf(&ctx->b, "%sStapling: on\n", ctx->prefix);
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
    sbuf_printf(&ctx->b, "<td>%s</td>", md_json_gets(mdj, MD_KEY_NAME, NULL));
    sbuf_printf(&ctx->b, "<td><div style=\"max-width:400px;\">%s</div></td>",
                md_array_str_join(domains, " ", ctx->p));
    sbuf_printf(&ctx->b, "<td>%s</td>", md_status_state_text(mdj, ctx->opts->now, ctx->p));
    sbuf_puts(&ctx->b, "<td>");
    print_valid(ctx, md_json_getcj(ctx->p, mdj, MD_KEY_CERT, NULL), "Valid", MD_KEY_VALID);
    sbuf_puts(&ctx->b, "</td><td>");
    print_ca(ctx, mdj);
    sbuf_printf(&ctx->b, "</td><td>%s</td><td>",
                md_json_getb(mdj, MD_KEY_STAPLING, NULL) ? "on" : "");
    print_check_at(ctx, mdj);
    sbuf_puts(&ctx->b, "</td><td>");
}

static void row_start(text_ctx *ctx, int index)
{
    sbuf_puts(&ctx->b, (index % 2) ? "<tr class=\"odd\">" : "<tr class=\"even\">");
}

static void md_html_row(text_ctx *ctx, const md_json_t *mdj, int index)
{
    row_start(ctx, index);
    md_html_cells(ctx, mdj);
    print_md_activity(ctx, mdj);
    sbuf_puts(&ctx->b, "</td></tr>");
}

static void table_start(text_ctx *ctx, const char *title, const char *cls,
                        const char *const *columns)
{
    sbuf_printf(&ctx->b, "<hr>\n<h3>%s</h3>\n<table class='%s'><thead><tr>\n", title, cls);
    for (; *columns; ++columns) {
        sbuf_printf(&ctx->b, "<th class=\"%s\">%s</th>", *columns, *columns);
    }
    sbuf_puts(&ctx->b, "</tr>\n</thead><tbody>");
}

static void table_end(text_ctx *ctx)
{
    sbuf_puts(&ctx->b, "</td></tr>\n</tbody>\n</table>\n");
}

static void text_ctx_init(text_ctx *ctx, const md_status_text_opts_t *opts, apr_pool_t *p)
{
    sbuf_init(&ctx->b, p, 4096);
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
    sbuf_printf(&ctx->b, "ManagedCertificatesTotal: %d\n", n);
    sbuf_printf(&ctx->b, "ManagedCertificatesOK: %d\n", ok);
    sbuf_printf(&ctx->b, "ManagedCertificatesRenew: %d\n", renew);
    sbuf_printf(&ctx->b, "ManagedCertificatesErrored: %d\n", errored);
    sbuf_printf(&ctx->b, "ManagedCertificatesReady: %d\n", ready);
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

static const char *const md_columns[] = {
    "Domain", "Names", "Status", "Valid", "CA", "Stapling", "CheckAt", "Activity", NULL
};

const char *md_status_mds_server_text(const apr_array_header_t *mds,
                                      const md_status_text_opts_t *opts, apr_pool_t *p)
{
    apr_array_header_t *sorted = sorted_copy(mds, json_name_cmp, p);
    text_ctx ctx;
    int i;

    text_ctx_init(&ctx, opts, p);
    if (!opts->html) {
        md_counts(&ctx, sorted);
    }
    else if (sorted->nelts > 0) table_start(&ctx, "Managed Certificates", "md_status",
                                            md_columns);
    for (i = 0; i < sorted->nelts; ++i) {
        ctx.prefix = apr_psprintf(p, "ManagedDomain[%d]", i);
        if (opts->html) {
            md_html_row(&ctx, APR_ARRAY_IDX(sorted, i, const md_json_t *), i);
        }
        else {
            md_auto_lines(&ctx, APR_ARRAY_IDX(sorted, i, const md_json_t *));
        }
    }
    if (opts->html && sorted->nelts > 0) {
        table_end(&ctx);
    }
    return ctx.b.data;
}

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
    row_cache_t *rc = &e->rows[opts->html ? 1 : 0];
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
    apr_array_header_t *sorted = sorted_copy(entries, entry_name_cmp, p);
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
    sbuf_init(&ctx.b, p, size);
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
            sbuf_puts(&ctx.b, entry_row(e, opts, p));
            print_md_activity(&ctx, mdj);
            sbuf_puts(&ctx.b, "</td></tr>");
        }
        else {
            ctx.prefix = apr_psprintf(p, "ManagedDomain[%d]", i);
            put_patched(&ctx.b, entry_row(e, opts, p), -1, NULL, ctx.prefix);
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
    set_period(json, MD_KEY_VALID, st->valid_from, st->valid_until);
    if (st->renew_at > 0) {
        md_json_set_time(st->renew_at, json, MD_KEY_RENEW_AT, NULL);
    }
    if (st->job) {
        md_json_setj(md_job_to_json(st->job, with_log, p), json, MD_KEY_RENEWAL, NULL);
    }
    mask_credentials(json, p);
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
    sbuf_printf(&ctx->b, "%sDomain: %s\n", ctx->prefix, s ? s : "");
    s = md_json_gets(sj, MD_KEY_ID, NULL);
    sbuf_printf(&ctx->b, "%sCertificateID: %s\n", ctx->prefix, s ? s : "");
    s = md_json_gets(sj, MD_KEY_STATUS, NULL);
    sbuf_printf(&ctx->b, "%sOCSPStatus: %s\n", ctx->prefix, s ? s : "");
    print_valid(ctx, sj, "StaplingValid", MD_KEY_VALID);
    print_responder(ctx, sj);
    print_ocsp_activity(ctx, sj);
}

static void ocsp_html_row(text_ctx *ctx, const md_json_t *sj, int index)
{
    const char *s;

    sbuf_printf(&ctx->b, "<tr class=\"%s\">", (index % 2) ? "odd" : "even");
    s = md_json_gets(sj, MD_KEY_DOMAIN, NULL);
    sbuf_printf(&ctx->b, "<td>%s</td>", s ? s : "");
    s = md_json_gets(sj, MD_KEY_ID, NULL);
    sbuf_printf(&ctx->b, "<td>%s</td>", s ? s : "");
    s = md_json_gets(sj, MD_KEY_STATUS, NULL);
    sbuf_printf(&ctx->b, "<td>%s</td><td>", s ? s : "");
    print_valid(ctx, sj, "StaplingValid", MD_KEY_VALID);
    sbuf_puts(&ctx->b, "</td><td>");
    print_responder(ctx, sj);
    sbuf_puts(&ctx->b, "</td><td>");
    print_ocsp_activity(ctx, sj);
    sbuf_puts(&ctx->b, "</td></tr>");
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
    sbuf_printf(&ctx->b, "ManagedStaplingsTotal: %d\n", staplings->nelts);
    sbuf_printf(&ctx->b, "ManagedStaplingsOK: %d\n", good);
    sbuf_printf(&ctx->b, "ManagedStaplingsRenew: %d\n", revoked);
    sbuf_printf(&ctx->b, "ManagedStaplingsErrored: %d\n", unknown);
}

static const char *const ocsp_columns[] = {
    "Domain", "CertificateID", "OCSPStatus", "StaplingValid", "Responder", "Activity", NULL
};

const char *md_status_ocsp_server_text(const apr_array_header_t *staplings,
                                       const md_status_text_opts_t *opts, apr_pool_t *p)
{
    apr_array_header_t *sorted = sorted_copy(staplings, stapling_cmp, p);
    text_ctx ctx;
    int i;

    text_ctx_init(&ctx, opts, p);
    if (!opts->html) {
        ocsp_counts(&ctx, sorted);
    }
    else if (sorted->nelts > 0) table_start(&ctx, "Managed Staplings", "md_ocsp_status",
                                            ocsp_columns);
    for (i = 0; i < sorted->nelts; ++i) {
        ctx.prefix = apr_psprintf(p, "ManagedStapling[%d]", i);
        if (opts->html) {
            ocsp_html_row(&ctx, APR_ARRAY_IDX(sorted, i, const md_json_t *), i);
        }
        else {
            ocsp_auto_lines(&ctx, APR_ARRAY_IDX(sorted, i, const md_json_t *));
        }
    }
    if (opts->html && sorted->nelts > 0) {
        table_end(&ctx);
    }
    return ctx.b.data;
}
