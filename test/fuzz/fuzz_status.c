/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: status rendering from store content. The input after byte 0
 * is split at NULs into md.json, job.json, a certificate PEM (leaf of
 * every slot, active and staged) and ari.json (also the slots' CRL
 * state); each part may be missing or broken. From them an
 * md_status_input_t is built as md_status_input_load would, and rendered
 * through every document: md-status (single and all-MDs, direct and from
 * the cache entry), certificate-status, server-status (?auto and HTML, with
 * and without MDCertificateCheck), "Managed Staplings" and the metrics
 * (OpenMetrics and Prometheus text). The md.json and job.json parts are
 * also rendered as they are, as <md> and stapling objects.
 * Byte 0: bit 0 staged set live, bit 1 renewal due, bit 2 watched, bit 3
 * a load error, bit 4 OCSP data on the slots, bit 5 job missing, bit 6
 * no certificate in every second slot.
 * Checked: the cached entry texts equal the documents built directly.
 * fuzz-seconds-max: 8
 */
#include "fuzz_common.h"

#include <apr_tables.h>

#include "md.h"
#include "md_ari.h"
#include "md_job.h"
#include "md_json.h"
#include "md_metrics.h"
#include "md_status.h"

/* Mon, 30 Nov 2026 12:02:26 GMT, as the unit tests' status time */
#define T_NOW apr_time_from_sec(1796040146)

/* The next NUL-terminated part of [*pdata, end), NULL when none is left. */
static const char *next_part(const uint8_t **pdata, const uint8_t *end, apr_size_t *plen,
                             apr_pool_t *p)
{
    const uint8_t *s = *pdata, *nul;

    if (s >= end) return NULL;
    nul = memchr(s, 0, (size_t)(end - s));
    *plen = nul ? (apr_size_t)(nul - s) : (apr_size_t)(end - s);
    *pdata = nul ? nul + 1 : end;
    return apr_pstrmemdup(p, (const char *)s, *plen);
}

static md_json_t *part_json(const uint8_t **pdata, const uint8_t *end, apr_pool_t *p)
{
    md_json_t *json = NULL;
    const char *s;
    apr_size_t len;

    s = next_part(pdata, end, &len, p);
    if (s && APR_SUCCESS != md_json_readd(&json, p, s, len)) {
        json = NULL;
    }
    return json;
}

static apr_array_header_t *slots_of(const md_t *md, const md_cert_facts_t *facts,
                                    md_job_t *job, md_json_t *crl, uint8_t sel,
                                    apr_pool_t *p)
{
    apr_array_header_t *slots = apr_array_make(p, 2, sizeof(md_status_slot_t *));
    md_status_slot_t *slot;
    int i, n = md_pkeys_spec_count(md->pks);

    for (i = 0; i < n && i < 4; ++i) {
        slot = apr_pcalloc(p, sizeof(*slot));
        slot->name = md_pkey_spec_name(md_pkeys_spec_get(md->pks, i));
        slot->cert = (i % 2 && (sel & 0x40)) ? NULL : facts;
        slot->rv = slot->cert ? APR_SUCCESS : APR_ENOENT;
        if (sel & 0x10) {
            slot->ocsp_status = (i % 2) ? "revoked" : "good";
            slot->ocsp_valid_from = T_NOW - apr_time_from_sec(3600);
            slot->ocsp_valid_until = T_NOW + apr_time_from_sec(86400);
            slot->ocsp_job = job;
        }
        slot->crl = crl;
        APR_ARRAY_PUSH(slots, md_status_slot_t *) = slot;
    }
    return slots;
}

static void check_same(const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b))) {
        abort();            /* cached and direct documents differ */
    }
}

static void render(const md_status_input_t *in, md_json_t *raw_md, md_json_t *raw_job,
                   const md_cert_facts_t *facts, apr_pool_t *p)
{
    apr_array_header_t *entries = apr_array_make(p, 1, sizeof(md_status_entry_t *));
    apr_array_header_t *mds = apr_array_make(p, 2, sizeof(md_json_t *));
    apr_array_header_t *staplings = apr_array_make(p, 2, sizeof(md_json_t *));
    md_status_text_opts_t opts = { T_NOW, 0, NULL, NULL };
    md_metrics_counters_t counters = { 3, 1, 12345, 2 };
    md_status_stapling_t st;
    md_status_entry_t *entry;
    md_json_t *mdj;
    int is_now, html;

    md_status_renew_at(in, T_NOW, &is_now);
    md_status_cert_status_json(in, p);
    mdj = md_status_md_json(in, 0, T_NOW, p);
    md_status_state_text(mdj, T_NOW, p);
    if (APR_SUCCESS != md_status_entry_make(&entry, in, T_NOW, p)) return;
    md_status_entry_name(entry);
    md_status_entry_expires(entry);
    check_same(md_json_writep(md_status_md_json(in, 1, T_NOW, p), p, MD_JSON_FMT_INDENT),
               md_status_entry_md_text(entry, T_NOW, p));
    check_same(md_json_writep(md_status_cert_status_json(in, p), p, MD_JSON_FMT_INDENT),
               md_status_entry_cert_status_text(entry));
    APR_ARRAY_PUSH(entries, md_status_entry_t *) = entry;
    APR_ARRAY_PUSH(mds, md_json_t *) = mdj;
    check_same(md_json_writep(md_status_mds_json(mds, "2.7.0", p), p, MD_JSON_FMT_INDENT),
               md_status_mds_text(entries, "2.7.0", T_NOW, p));
    md_status_entry_md_text(entry, T_NOW + apr_time_from_sec(86400), p);

    apr_array_clear(mds);
    APR_ARRAY_PUSH(mds, md_json_t *) = md_json_copy(p, md_status_entry_json(entry));
    for (html = 0; html < 2; ++html) {
        opts.html = html;
        opts.cert_check_name = html ? "crt.sh" : NULL;
        opts.cert_check_url = html ? "https://crt.sh?q=" : NULL;
        check_same(md_status_mds_server_text(mds, &opts, p),
                   md_status_entries_server_text(entries, &opts, p));
    }
    md_metrics_text(mds, &counters, T_NOW, 1, p);
    md_metrics_text(mds, NULL, T_NOW, 0, p);

    /* md.json as it is in place of a built <md> object */
    if (raw_md) {
        APR_ARRAY_PUSH(mds, md_json_t *) = raw_md;
        md_status_state_text(raw_md, T_NOW, p);
        md_status_mds_server_text(mds, &opts, p);
        md_metrics_text(mds, &counters, T_NOW, 1, p);
    }

    memset(&st, 0, sizeof(st));
    st.domain = in->md->name ? in->md->name : "other";
    st.id = "0123456789abcdef0123456789abcdef01234567";
    st.status = "good";
    st.cert_fingerprint = facts ? facts->sha256_fingerprint : NULL;
    st.url = "http://ocsp.fuzz.example";
    st.valid_from = T_NOW;
    st.valid_until = T_NOW + apr_time_from_sec(86400);
    st.renew_at = T_NOW + apr_time_from_sec(3600);
    st.job = in->job;
    APR_ARRAY_PUSH(staplings, md_json_t *) = md_status_stapling_json(&st, 0, p);
    md_status_stapling_json(&st, 1, p);
    if (raw_job) {
        APR_ARRAY_PUSH(staplings, md_json_t *) = raw_job;
    }
    for (html = 0; html < 2; ++html) {
        opts.html = html;
        md_status_ocsp_server_text(staplings, &opts, p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const uint8_t *q, *end = data + size;
    md_json_t *jmd, *jjob, *jari;
    md_status_input_t in;
    md_cert_facts_t *facts = NULL;
    apr_array_header_t *certs;
    md_job_t *job = NULL;
    const char *pem;
    apr_size_t len;
    md_t *md;
    uint8_t sel;

    if (size < 1) return 0;
    p = fuzz_pool();
    sel = data[0];
    q = data + 1;
    jmd = part_json(&q, end, p);
    jjob = part_json(&q, end, p);
    pem = next_part(&q, end, &len, p);
    jari = part_json(&q, end, p);

    md = jmd ? md_from_json(jmd, p) : NULL;
    if (!md || !md->name) goto leave;
    certs = apr_array_make(p, 2, sizeof(md_cert_t *));
    if (pem && APR_SUCCESS == md_chain_read_pem(certs, p, pem, len) && certs->nelts > 0
        && APR_SUCCESS != md_cert_facts_get(&facts, APR_ARRAY_IDX(certs, 0, md_cert_t *),
                                            p)) {
        facts = NULL;
    }
    if (jjob && !(sel & 0x20)) {
        job = md_job_make(p, NULL, MD_SG_STAGING, md->name, 0);
        md_job_from_json(job, jjob, p);
    }
    memset(&in, 0, sizeof(in));
    in.md = md;
    in.slots = slots_of(md, facts, job, jari, sel, p);
    in.job = job;
    in.staged = job ? slots_of(md, facts, NULL, NULL, sel, p) : NULL;
    in.staged_live = job && (sel & 0x01);
    in.renewal_due = !!(sel & 0x02);
    in.watched = !!(sel & 0x04);
    in.error = (sel & 0x08) ? APR_EINVAL : APR_SUCCESS;
    in.ari = jari ? md_ari_from_json(jari, p) : NULL;
    render(&in, jmd, jjob, facts, p);
leave:
    apr_pool_destroy(p);
    return 0;
}
