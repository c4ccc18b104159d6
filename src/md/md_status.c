/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Status documents (md_status.h): certificate facts and descriptions, the
 * input of an MD's status loaded from the registry and store, renew-at, and
 * the md-status and certificate-status JSON. The cached per-MD entries are in
 * md_status_cache.c, the server-status texts in md_status_text.c.
 */
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
#include "md_status_int.h"
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

void md_status_set_period(md_json_t *json, const char *key, apr_time_t from, apr_time_t until)
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
    md_status_set_period(json, MD_KEY_VALID, facts->valid_from, facts->valid_until);
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
    md_status_set_period(json, MD_KEY_VALID, slot->ocsp_valid_from, slot->ocsp_valid_until);
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
        md_status_set_period(json, MD_KEY_VALID, from, until);
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
void md_status_mask_credentials(md_json_t *json, apr_pool_t *p)
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
    md_status_mask_credentials(json, p);
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
            if (sct->timestamp) {
                md_json_set_time(sct->timestamp, jsct, MD_KEY_SIGNED, NULL);
            }
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
        md_status_set_period(json, MD_KEY_VALID, from, until);
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

int md_status_json_name_cmp(const void *a, const void *b)
{
    const char *n1 = md_json_gets(*(md_json_t *const *)a, MD_KEY_NAME, NULL);
    const char *n2 = md_json_gets(*(md_json_t *const *)b, MD_KEY_NAME, NULL);

    return strcmp(n1 ? n1 : "", n2 ? n2 : "");
}

apr_array_header_t *md_status_sorted_copy(const apr_array_header_t *a,
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
    apr_array_header_t *sorted = md_status_sorted_copy(mds, md_status_json_name_cmp, p);
    int i;

    md_json_sets(version, json, MD_KEY_VERSION, NULL);
    for (i = 0; i < sorted->nelts; ++i) {
        md_json_addj(APR_ARRAY_IDX(sorted, i, md_json_t *), jmds, NULL);
    }
    md_json_setj(jmds, json, MD_KEY_MDS, NULL);
    return json;
}
