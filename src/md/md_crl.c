/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * CRL checks of managed certificates (MDCRLCheck): distribution points,
 * judging a CRL against the issuer (OpenSSL, through md_crypto_int.h), and
 * the registry the renewal watchdog keeps up to date. The last good CRL of
 * a certificate is stored base64url in ocsp/<name>/crl-<sha1>.json.
 */
#include <string.h>
#include <apr_strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "md.h"
#include "md_crl.h"
#include "md_crypto_int.h"
#include "md_http.h"
#include "md_json.h"
#include "md_log.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"

#define CRL_CLOCK_SKEW      apr_time_from_sec(5 * 60)
#define CRL_REFRESH         apr_time_from_sec(MD_SECS_PER_DAY)
#define CRL_RETRY           apr_time_from_sec(3600)

#define KEY_CRL             "crl"
#define KEY_URL             "url"
#define KEY_STATUS          "status"
#define KEY_THIS_UPDATE     "this-update"
#define KEY_NEXT_UPDATE     "next-update"
#define KEY_REVOKED_AT      "revoked-at"
#define KEY_CHECKED         "checked"
#define KEY_FETCHED         "fetched"
#define KEY_ERROR           "error"

/* --- pure parts ------------------------------------------------------------------------ */

apr_array_header_t *md_crl_urls(const md_cert_t *cert, apr_pool_t *p)
{
    apr_array_header_t *urls = apr_array_make(p, 1, sizeof(const char *));
    STACK_OF(DIST_POINT) *dps;
    DIST_POINT *dp;
    GENERAL_NAME *gn;
    const char *uri;
    int i, k;

    dps = X509_get_ext_d2i(md_cert_get_x509(cert), NID_crl_distribution_points, NULL, NULL);
    for (i = 0; dps && i < sk_DIST_POINT_num(dps); ++i) {
        dp = sk_DIST_POINT_value(dps, i);
        if (!dp->distpoint || 0 != dp->distpoint->type) continue;   /* fullName only */
        for (k = 0; k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); ++k) {
            gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, k);
            if (GEN_URI != gn->type) {
                continue;
            }
            uri = apr_pstrmemdup(p, (const char *)ASN1_STRING_get0_data(gn->d.ia5),
                                 (apr_size_t)ASN1_STRING_length(gn->d.ia5));
            if (!strncasecmp(uri, "http://", 7) || !strncasecmp(uri, "https://", 8)) {
                APR_ARRAY_PUSH(urls, const char *) = uri;
            }
        }
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    return urls;
}

static X509_CRL *crl_parse(const char *data, apr_size_t len)
{
    const unsigned char *der = (const unsigned char *)data;
    X509_CRL *crl;
    BIO *bio;

    crl = d2i_X509_CRL(NULL, &der, (long)len);
    if (crl) return crl;
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio) {
        crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    return crl;
}

apr_status_t md_crl_judge(md_crl_verdict_t *v, const char **pdetail, const char *data,
                          apr_size_t len, const md_cert_t *cert, const md_cert_t *issuer,
                          apr_time_t now, apr_pool_t *p)
{
    X509 *x = md_cert_get_x509(cert), *ix = md_cert_get_x509(issuer);
    X509_CRL *crl = NULL;
    X509_REVOKED *entry = NULL;
    EVP_PKEY *key;
    const char *detail = NULL;

    memset(v, 0, sizeof(*v));
    if (!data || !len || len > MD_CRL_MAX_SIZE) {
        detail = apr_psprintf(p, "CRL of %" APR_SIZE_T_FMT " bytes (at most %d)",
                              len, MD_CRL_MAX_SIZE);
        goto leave;
    }
    if (!(crl = crl_parse(data, len))) {
        detail = "not a CRL (neither DER nor PEM)";
        goto leave;
    }
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ix))) {
        detail = "CRL of another issuer";
        goto leave;
    }
    key = X509_get0_pubkey(ix);
    if (!key || 1 != X509_CRL_verify(crl, key)) {
        detail = "CRL signature does not verify with the issuer's key";
        goto leave;
    }
    v->this_update = md_asn1_time_get(X509_CRL_get0_lastUpdate(crl));
    v->next_update = md_asn1_time_get(X509_CRL_get0_nextUpdate(crl));
    if (!v->this_update || v->this_update > now + CRL_CLOCK_SKEW) {
        detail = apr_psprintf(p, "CRL not yet valid (thisUpdate %s)",
                              md_time_rfc822(p, v->this_update));
        goto leave;
    }
    if (v->next_update && v->next_update < now) {
        detail = apr_psprintf(p, "CRL outdated (nextUpdate %s)",
                              md_time_rfc822(p, v->next_update));
        goto leave;
    }
    if (1 == X509_CRL_get0_by_serial(crl, &entry,
                                     (ASN1_INTEGER *)X509_get0_serialNumber(x))) {
        v->revoked = 1;
        v->revoked_at = md_asn1_time_get(X509_REVOKED_get0_revocationDate(entry));
    }
leave:
    if (crl) {
        X509_CRL_free(crl);
    }
    ERR_clear_error();
    *pdetail = detail;
    return detail ? APR_EINVAL : APR_SUCCESS;
}

/* --- the registry ------------------------------------------------------------------------ */

typedef struct {
    const char *md_name;
    md_cert_t *cert;
    md_cert_t *issuer;
    const char *url;
    const char *fname;              /* crl-<sha1 of cert>.json */
    const char *serial;
    int loaded;                     /* the stored state was read */
    md_data_t der;                  /* the last good CRL (malloc'ed: thread pools) */
    md_crl_verdict_t verdict;       /* of der, valid while have */
    int have;
    int said;                       /* revocation logged */
    apr_time_t fetched;             /* of der */
    apr_time_t checked;             /* last fetch attempt */
    const char *error;              /* of the last attempt, in reg->p */
    apr_time_t next_fetch;
} crl_entry;

struct md_crl_reg_t {
    apr_pool_t *p;
    md_store_t *store;
    const char *user_agent;
    const char *proxy_url;
    const char *ca_file;
    apr_array_header_t *entries;    /* crl_entry*; changed by md_crl_update only,
                                     * which runs before the renewal threads */
};

static apr_status_t reg_cleanup(void *data)
{
    md_crl_reg_t *reg = data;
    int i;

    for (i = 0; i < reg->entries->nelts; ++i) {
        crl_entry *e = APR_ARRAY_IDX(reg->entries, i, crl_entry *);
        free((void *)e->der.data);
        e->der.data = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t md_crl_reg_create(md_crl_reg_t **preg, apr_pool_t *p, md_store_t *store,
                               const char *user_agent, const char *proxy_url,
                               const char *ca_file)
{
    md_crl_reg_t *reg = apr_pcalloc(p, sizeof(*reg));

    reg->p = p;
    reg->store = store;
    reg->user_agent = user_agent;
    reg->proxy_url = proxy_url;
    reg->ca_file = ca_file;
    reg->entries = apr_array_make(p, 5, sizeof(crl_entry *));
    apr_pool_cleanup_register(p, reg, reg_cleanup, apr_pool_cleanup_null);
    *preg = reg;
    return APR_SUCCESS;
}

apr_status_t md_crl_reg_add(md_crl_reg_t *reg, const char *md_name, const md_cert_t *cert,
                            const md_cert_t *issuer, apr_pool_t *p)
{
    apr_array_header_t *urls = md_crl_urls(cert, p);
    const char *hex;
    crl_entry *e;
    apr_status_t rv;

    if (urls->nelts < 1) return APR_ENOENT;
    rv = md_cert_to_sha1_hex(&hex, cert, p);
    if (APR_SUCCESS != rv) return rv;
    e = apr_pcalloc(reg->p, sizeof(*e));
    e->md_name = apr_pstrdup(reg->p, md_name);
    e->cert = md_cert_dup(cert, reg->p);
    e->issuer = md_cert_dup(issuer, reg->p);
    e->url = apr_pstrdup(reg->p, APR_ARRAY_IDX(urls, 0, const char *));
    e->fname = apr_pstrcat(reg->p, "crl-", hex, ".json", NULL);
    e->serial = md_cert_get_serial_number(cert, reg->p);
    APR_ARRAY_PUSH(reg->entries, crl_entry *) = e;
    return APR_SUCCESS;
}

int md_crl_reg_count(md_crl_reg_t *reg)
{
    return reg ? reg->entries->nelts : 0;
}

/* Takes der (copied) as the entry's CRL when it is good at now. */
static apr_status_t entry_take(crl_entry *e, const char *data, apr_size_t len,
                               apr_time_t now, const char **pdetail, apr_pool_t *p)
{
    md_crl_verdict_t v;
    apr_status_t rv;
    char *copy;

    rv = md_crl_judge(&v, pdetail, data, len, e->cert, e->issuer, now, p);
    if (APR_SUCCESS != rv) return rv;
    if (!(copy = malloc(len))) return APR_ENOMEM;
    memcpy(copy, data, len);
    free((void *)e->der.data);
    e->der.data = copy;
    e->der.len = len;
    e->verdict = v;
    e->have = 1;
    return APR_SUCCESS;
}

static void entry_load(md_crl_reg_t *reg, crl_entry *e, apr_time_t now, apr_pool_t *p)
{
    md_json_t *json;
    md_data_t der;
    const char *s, *detail;

    e->loaded = 1;
    if (APR_SUCCESS != md_store_load_json(reg->store, MD_SG_OCSP, e->md_name, e->fname,
                                          &json, p)) {
        return;
    }
    s = md_json_gets(json, KEY_URL, NULL);
    if (!s || strcmp(s, e->url)) return;        /* another distribution point */
    e->fetched = md_json_get_time(json, KEY_FETCHED, NULL);
    e->checked = md_json_get_time(json, KEY_CHECKED, NULL);
    s = md_json_gets(json, KEY_CRL, NULL);
    if (s && APR_SUCCESS == md_util_base64url_decode(&der, s, p)) {
        entry_take(e, der.data, der.len, now, &detail, p);
    }
}

/* The kept CRL judged again at now: once outdated it is no longer good. */
static void entry_rejudge(md_crl_reg_t *reg, crl_entry *e, apr_time_t now, apr_pool_t *p)
{
    const char *detail;

    if (APR_SUCCESS == md_crl_judge(&e->verdict, &detail, e->der.data, e->der.len,
                                    e->cert, e->issuer, now, p)) {
        return;
    }
    e->have = 0;
    e->error = apr_pstrdup(reg->p, detail);
}

/* When the entry is fetched next: at nextUpdate or a day after the last
 * fetch, whichever comes first; an hour after a failure. */
static apr_time_t entry_next_fetch(const crl_entry *e)
{
    apr_time_t at;

    if (!e->have) return e->checked ? e->checked + CRL_RETRY : 0;
    at = e->fetched + CRL_REFRESH;
    if (e->verdict.next_update && e->verdict.next_update < at) {
        at = e->verdict.next_update;
    }
    if (e->error && e->checked + CRL_RETRY > at) {
        at = e->checked + CRL_RETRY;
    }
    return at;
}

static void entry_fetch(md_crl_reg_t *reg, crl_entry *e, md_http_t *http, apr_time_t now,
                        apr_pool_t *p)
{
    md_http_response_t *resp = NULL;
    const char *detail = NULL;
    char buf[256];
    apr_status_t rv;

    e->checked = now;
    rv = md_http_GET(&resp, http, e->url, NULL, p);
    if (APR_SUCCESS != rv || !resp) {
        detail = apr_psprintf(p, "unable to get the CRL: %s",
                              apr_strerror(rv, buf, sizeof(buf)));
    }
    else if (resp->status != 200) {
        detail = apr_psprintf(p, "HTTP status %d", resp->status);
    }
    else if (APR_SUCCESS == entry_take(e, resp->body.data, resp->body.len, now, &detail, p)) {
        e->fetched = now;
    }
    e->error = detail ? apr_pstrdup(reg->p, detail) : NULL;
    if (detail) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, 0, p, "AH10744: md(%s): CRL check of "
                      "certificate %s: %s: %s%s", e->md_name, e->serial, e->url, detail,
                      e->have ? " (keeping the last good CRL)" : "");
    }
}

static void entry_save(md_crl_reg_t *reg, crl_entry *e, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(e->url, json, KEY_URL, NULL);
    if (e->have) {
        md_json_sets(e->verdict.revoked ? "revoked" : "good", json, KEY_STATUS, NULL);
        md_json_set_time(e->verdict.this_update, json, KEY_THIS_UPDATE, NULL);
        if (e->verdict.next_update) {
            md_json_set_time(e->verdict.next_update, json, KEY_NEXT_UPDATE, NULL);
        }
        if (e->verdict.revoked) {
            md_json_set_time(e->verdict.revoked_at, json, KEY_REVOKED_AT, NULL);
        }
        md_json_set_time(e->fetched, json, KEY_FETCHED, NULL);
    }
    md_json_set_time(e->checked, json, KEY_CHECKED, NULL);
    if (e->error) {
        md_json_sets(e->error, json, KEY_ERROR, NULL);
    }
    if (e->have) {
        md_json_sets(md_util_base64url_encode(e->der.data, e->der.len, p), json, KEY_CRL,
                     NULL);
    }
    md_store_save_json(reg->store, p, MD_SG_OCSP, e->md_name, e->fname, json, 0);
}

apr_status_t md_crl_update(md_crl_reg_t *reg, apr_time_t now, apr_time_t *pnext,
                           apr_pool_t *p)
{
    apr_time_t next = 0, at;
    md_http_t *http = NULL;
    apr_status_t rv = APR_SUCCESS;
    crl_entry *e;
    int i;

    for (i = 0; i < reg->entries->nelts; ++i) {
        e = APR_ARRAY_IDX(reg->entries, i, crl_entry *);
        if (!e->loaded) {
            entry_load(reg, e, now, p);
        }
        if (e->have) {
            entry_rejudge(reg, e, now, p);
        }
        at = entry_next_fetch(e);
        if (at <= now) {
            if (!http) {
                rv = md_http_create(&http, p, reg->user_agent, reg->proxy_url);
                if (APR_SUCCESS != rv) {
                    break;
                }
                if (reg->ca_file) {
                    md_http_set_ca_file(http, reg->ca_file);
                }
                md_http_set_response_limit(http, MD_CRL_MAX_SIZE);
                md_http_set_connect_timeout_default(http, apr_time_from_sec(5));
                md_http_set_timeout_default(http, apr_time_from_sec(60));
            }
            entry_fetch(reg, e, http, now, p);
            entry_save(reg, e, p);
            at = entry_next_fetch(e);
        }
        if (e->have && e->verdict.revoked && !e->said) {
            e->said = 1;
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, 0, p, "AH10743: md(%s): the CRL at %s "
                          "lists certificate %s as revoked (since %s), renewing",
                          e->md_name, e->url, e->serial,
                          md_time_rfc822(p, e->verdict.revoked_at));
        }
        if (!next || at < next) {
            next = at;
        }
    }
    *pnext = next;
    return rv;
}

int md_crl_is_revoked(md_crl_reg_t *reg, const char *md_name)
{
    crl_entry *e;
    int i, revoked = 0;

    if (!reg) return 0;
    for (i = 0; i < reg->entries->nelts && !revoked; ++i) {
        e = APR_ARRAY_IDX(reg->entries, i, crl_entry *);
        revoked = !strcmp(md_name, e->md_name) && e->have && e->verdict.revoked;
    }
    return revoked;
}

md_json_t *md_crl_status_json(md_store_t *store, const char *md_name, const md_cert_t *cert,
                              apr_pool_t *p)
{
    md_json_t *json;
    const char *hex;

    if (APR_SUCCESS != md_cert_to_sha1_hex(&hex, cert, p)
        || APR_SUCCESS != md_store_load_json(store, MD_SG_OCSP, md_name,
                                             apr_pstrcat(p, "crl-", hex, ".json", NULL),
                                             &json, p)) {
        return NULL;
    }
    md_json_del(json, KEY_CRL, NULL);
    return json;
}
