/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The managed domain model: creation, comparison, key specs and the md.json
 * form (contract.md 2.1), written in the original's member order and read
 * leniently (unknown members ignored, odd values taken as unset).
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_cstr.h>
#include <apr_lib.h>

#include "md.h"
#include "md_json.h"
#include "md_time.h"
#include "md_util.h"

/* --- creation and comparison -------------------------------------------------------- */

md_t *md_create_empty(apr_pool_t *p)
{
    md_t *md = apr_pcalloc(p, sizeof(*md));

    md->domains = apr_array_make(p, 5, sizeof(const char *));
    md->contacts = apr_array_make(p, 5, sizeof(const char *));
    md->acme_tls_1_domains = apr_array_make(p, 5, sizeof(const char *));
    md->transitive = -1;
    md->renew_mode = MD_RENEW_DEFAULT;
    md->require_https = MD_REQUIRE_UNSET;
    md->must_staple = -1;
    md->stapling = -1;
    md->profile_mandatory = -1;
    md->ari_renewals = -1;
    md->ca_proto = MD_PROTO_ACME;
    md->defn_name = "unknown";
    return md;
}

md_t *md_create(apr_pool_t *p, apr_array_header_t *domains)
{
    md_t *md;

    if (!domains || domains->nelts <= 0) return NULL;
    md = md_create_empty(p);
    md->domains = md_array_str_compact(p, domains, 0);
    md->name = APR_ARRAY_IDX(md->domains, 0, const char *);
    return md;
}

static apr_array_header_t *str_array_clone(apr_pool_t *p, const apr_array_header_t *a)
{
    return a ? md_array_str_clone(p, a) : NULL;
}

static const md_timeslice_t *ts_clone(apr_pool_t *p, const md_timeslice_t *ts)
{
    md_timeslice_t *c;

    if (!ts) return NULL;
    c = apr_palloc(p, sizeof(*c));
    *c = *ts;
    return c;
}

md_t *md_copy(apr_pool_t *p, const md_t *src)
{
    md_t *md;

    if (!src) return NULL;
    md = apr_palloc(p, sizeof(*md));
    *md = *src;
    md->name = apr_pstrdup(p, src->name);
    md->domains = md_array_str_clone(p, src->domains);
    md->contacts = md_array_str_clone(p, src->contacts);
    md->acme_tls_1_domains = md_array_str_clone(p, src->acme_tls_1_domains);
    md->ca_urls = str_array_clone(p, src->ca_urls);
    md->ca_challenges = str_array_clone(p, src->ca_challenges);
    md->cert_files = str_array_clone(p, src->cert_files);
    md->pkey_files = str_array_clone(p, src->pkey_files);
    md->pks = src->pks ? md_pkeys_spec_clone(p, src->pks) : NULL;
    md->renew_window = ts_clone(p, src->renew_window);
    md->warn_window = ts_clone(p, src->warn_window);
    return md;
}

int md_contains(const md_t *md, const char *domain, int with_wildcard)
{
    int i;

    for (i = 0; i < md->domains->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(md->domains, i, const char *);
        if (with_wildcard ? md_dns_matches(name, domain)
                          : !apr_cstr_casecmp(name, domain)) {
            return 1;
        }
    }
    return 0;
}

const char *md_common_name(const md_t *md1, const md_t *md2)
{
    int i, j;

    if (!md1 || !md2) return NULL;
    for (i = 0; i < md1->domains->nelts; ++i) {
        const char *n1 = APR_ARRAY_IDX(md1->domains, i, const char *);
        for (j = 0; j < md2->domains->nelts; ++j) {
            const char *n2 = APR_ARRAY_IDX(md2->domains, j, const char *);
            if (md_dns_domains_match(n1, n2)) return n1;
        }
    }
    return NULL;
}

int md_domains_overlap(const md_t *md1, const md_t *md2)
{
    return md_common_name(md1, md2) != NULL;
}

apr_size_t md_common_name_count(const md_t *md1, const md_t *md2)
{
    apr_size_t hits = 0;
    int i;

    for (i = 0; i < md1->domains->nelts; ++i) {
        if (md_contains(md2, APR_ARRAY_IDX(md1->domains, i, const char *), 0)) {
            ++hits;
        }
    }
    return hits;
}

int md_equal_domains(const md_t *md1, const md_t *md2, int case_sensitive)
{
    return md_array_str_eq(md1->domains, md2->domains, case_sensitive);
}

static int str_eq(const char *s1, const char *s2)
{
    if (s1 == s2) return 1;
    if (!s1 || !s2) return 0;
    return !strcmp(s1, s2);
}

int md_config_differs(const md_t *md1, const md_t *md2)
{
    return md1->state != md2->state
        || !md_array_str_eq(md1->ca_urls, md2->ca_urls, 0)
        || !str_eq(md1->ca_proto, md2->ca_proto)
        || !str_eq(md1->ca_agreement, md2->ca_agreement)
        || md1->transitive != md2->transitive
        || !md_equal_domains(md1, md2, 1)
        || md1->renew_mode != md2->renew_mode
        || !md_timeslice_eq(md1->renew_window, md2->renew_window)
        || !md_timeslice_eq(md1->warn_window, md2->warn_window)
        || !md_pkeys_spec_eq(md1->pks, md2->pks)
        || md1->require_https != md2->require_https
        || md1->must_staple != md2->must_staple
        || !md_array_str_eq(md1->acme_tls_1_domains, md2->acme_tls_1_domains, 0)
        || md1->stapling != md2->stapling
        || md1->profile_mandatory != md2->profile_mandatory
        || md1->ari_renewals != md2->ari_renewals
        || !md_array_str_eq(md1->contacts, md2->contacts, 0)
        || !md_array_str_eq(md1->cert_files, md2->cert_files, 0)
        || !md_array_str_eq(md1->pkey_files, md2->pkey_files, 0)
        || !md_array_str_eq(md1->ca_challenges, md2->ca_challenges, 0)
        || !str_eq(md1->profile, md2->profile)
        || !str_eq(md1->dns01_cmd, md2->dns01_cmd)
        || !str_eq(md1->proxy_url, md2->proxy_url)
        || !str_eq(md1->ca_certs, md2->ca_certs)
        || !str_eq(md1->proxy_ca_certs, md2->proxy_ca_certs)
        || !str_eq(md1->eab_kid, md2->eab_kid)
        || !str_eq(md1->eab_hmac, md2->eab_hmac);
}

/* --- key specs ------------------------------------------------------------------------ */

md_pkeys_spec_t *md_pkeys_spec_make(apr_pool_t *p)
{
    md_pkeys_spec_t *pks = apr_pcalloc(p, sizeof(*pks));

    pks->p = p;
    pks->specs = apr_array_make(p, 2, sizeof(md_pkey_spec_t *));
    return pks;
}

static void pks_push(md_pkeys_spec_t *pks, md_pkey_type_t type, unsigned int bits,
                     const char *curve)
{
    md_pkey_spec_t *spec = apr_pcalloc(pks->p, sizeof(*spec));

    spec->type = type;
    spec->bits = bits;
    spec->curve = curve ? apr_pstrdup(pks->p, curve) : NULL;
    APR_ARRAY_PUSH(pks->specs, md_pkey_spec_t *) = spec;
}

void md_pkeys_spec_add_default(md_pkeys_spec_t *pks)
{
    pks_push(pks, MD_PKEY_TYPE_DEFAULT, 0, NULL);
}

int md_pkeys_spec_contains_rsa(const md_pkeys_spec_t *pks)
{
    int i;

    for (i = 0; pks && i < pks->specs->nelts; ++i) {
        md_pkey_type_t type = APR_ARRAY_IDX(pks->specs, i, md_pkey_spec_t *)->type;
        if (MD_PKEY_TYPE_RSA == type || MD_PKEY_TYPE_DEFAULT == type) return 1;
    }
    return 0;
}

void md_pkeys_spec_add_rsa(md_pkeys_spec_t *pks, unsigned int bits)
{
    pks_push(pks, MD_PKEY_TYPE_RSA, bits, NULL);
}

int md_pkeys_spec_contains_ec(const md_pkeys_spec_t *pks, const char *curve)
{
    int i;

    for (i = 0; pks && i < pks->specs->nelts; ++i) {
        const md_pkey_spec_t *spec = APR_ARRAY_IDX(pks->specs, i, md_pkey_spec_t *);
        if (MD_PKEY_TYPE_EC == spec->type && !apr_cstr_casecmp(spec->curve, curve)) {
            return 1;
        }
    }
    return 0;
}

void md_pkeys_spec_add_ec(md_pkeys_spec_t *pks, const char *curve)
{
    pks_push(pks, MD_PKEY_TYPE_EC, 0, curve);
}

int md_pkeys_spec_count(const md_pkeys_spec_t *pks)
{
    return (pks && pks->specs->nelts > 0) ? pks->specs->nelts : 1;
}

static md_pkey_spec_t default_spec = { MD_PKEY_TYPE_DEFAULT, 0, NULL };

md_pkey_spec_t *md_pkeys_spec_get(const md_pkeys_spec_t *pks, int i)
{
    if (!pks || pks->specs->nelts <= 0) return &default_spec;
    if (i < 0 || i >= pks->specs->nelts) return NULL;
    return APR_ARRAY_IDX(pks->specs, i, md_pkey_spec_t *);
}

static int spec_eq(const md_pkey_spec_t *a, const md_pkey_spec_t *b)
{
    if (a->type != b->type) return 0;
    switch (a->type) {
        case MD_PKEY_TYPE_RSA: return a->bits == b->bits;
        case MD_PKEY_TYPE_EC: return !apr_cstr_casecmp(a->curve, b->curve);
        default: return 1;
    }
}

int md_pkeys_spec_eq(const md_pkeys_spec_t *a, const md_pkeys_spec_t *b)
{
    int i, na = a ? a->specs->nelts : 0, nb = b ? b->specs->nelts : 0;

    if (na != nb) return 0;
    for (i = 0; i < na; ++i) {
        if (!spec_eq(APR_ARRAY_IDX(a->specs, i, md_pkey_spec_t *),
                     APR_ARRAY_IDX(b->specs, i, md_pkey_spec_t *))) {
            return 0;
        }
    }
    return 1;
}

md_pkeys_spec_t *md_pkeys_spec_clone(apr_pool_t *p, const md_pkeys_spec_t *pks)
{
    md_pkeys_spec_t *c = md_pkeys_spec_make(p);
    int i;

    for (i = 0; pks && i < pks->specs->nelts; ++i) {
        const md_pkey_spec_t *spec = APR_ARRAY_IDX(pks->specs, i, md_pkey_spec_t *);
        pks_push(c, spec->type, spec->bits, spec->curve);
    }
    return c;
}

const char *md_pkey_spec_name(const md_pkey_spec_t *spec)
{
    if (!spec || MD_PKEY_TYPE_EC != spec->type || !spec->curve) return "rsa";
    return spec->curve;
}

const char *md_pkey_spec_activity_name(const md_pkey_spec_t *spec, apr_pool_t *p)
{
    switch (spec ? spec->type : MD_PKEY_TYPE_DEFAULT) {
        case MD_PKEY_TYPE_RSA:
            return spec->bits ? apr_psprintf(p, "rsa-%u", spec->bits) : "rsa";
        case MD_PKEY_TYPE_EC:
            return spec->curve ? apr_psprintf(p, "ec-%s", spec->curve) : "ec";
        default:
            return "default";
    }
}

md_json_t *md_pkey_spec_to_json(const md_pkey_spec_t *spec, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    switch (spec->type) {
        case MD_PKEY_TYPE_RSA:
            md_json_sets("RSA", json, MD_KEY_TYPE, NULL);
            if (spec->bits >= MD_PKEY_RSA_BITS_MIN) {
                md_json_setl((long)spec->bits, json, MD_KEY_BITS, NULL);
            }
            break;
        case MD_PKEY_TYPE_EC:
            md_json_sets("EC", json, MD_KEY_TYPE, NULL);
            if (spec->curve) {
                md_json_sets(spec->curve, json, MD_KEY_CURVE, NULL);
            }
            break;
        default:
            md_json_sets("Default", json, MD_KEY_TYPE, NULL);
            break;
    }
    return json;
}

md_pkey_spec_t *md_pkey_spec_from_json(md_json_t *json, apr_pool_t *p)
{
    md_pkey_spec_t *spec = apr_pcalloc(p, sizeof(*spec));
    const char *type = md_json_gets(json, MD_KEY_TYPE, NULL);
    long bits;

    spec->type = MD_PKEY_TYPE_DEFAULT;
    if (!type || !apr_cstr_casecmp("Default", type)) return spec;
    if (!apr_cstr_casecmp("RSA", type)) {
        spec->type = MD_PKEY_TYPE_RSA;
        bits = md_json_getl(json, MD_KEY_BITS, NULL);
        spec->bits = (bits >= MD_PKEY_RSA_BITS_MIN) ? (unsigned int)bits
                                                    : MD_PKEY_RSA_BITS_DEFAULT;
    }
    else if (!apr_cstr_casecmp("EC", type)) {
        spec->type = MD_PKEY_TYPE_EC;
        spec->curve = md_json_dups(p, json, MD_KEY_CURVE, NULL);
    }
    return spec;
}

md_json_t *md_pkeys_spec_to_json(const md_pkeys_spec_t *pks, apr_pool_t *p)
{
    md_json_t *json;
    int i;

    if (pks->specs->nelts == 1) {
        return md_pkey_spec_to_json(APR_ARRAY_IDX(pks->specs, 0, md_pkey_spec_t *), p);
    }
    json = md_json_create_array(p);
    for (i = 0; i < pks->specs->nelts; ++i) {
        md_json_addj(md_pkey_spec_to_json(APR_ARRAY_IDX(pks->specs, i, md_pkey_spec_t *), p),
                     json, NULL);
    }
    return json;
}

static int pks_add_cb(void *baton, apr_size_t index, md_json_t *json)
{
    md_pkeys_spec_t *pks = baton;

    (void)index;
    APR_ARRAY_PUSH(pks->specs, md_pkey_spec_t *) = md_pkey_spec_from_json(json, pks->p);
    return 1;
}

md_pkeys_spec_t *md_pkeys_spec_from_json(md_json_t *json, apr_pool_t *p)
{
    md_pkeys_spec_t *pks = md_pkeys_spec_make(p);

    if (MD_JSON_TYPE_ARRAY == md_json_type(json)) {
        md_json_itera(pks_add_cb, pks, json, NULL);
    }
    else if (MD_JSON_TYPE_OBJECT == md_json_type(json)) {
        APR_ARRAY_PUSH(pks->specs, md_pkey_spec_t *) = md_pkey_spec_from_json(json, p);
    }
    return pks;
}

const char *md_pkey_spec_filename(const md_pkey_spec_t *spec, const char *base,
                                  apr_pool_t *p)
{
    const char *name = md_pkey_spec_name(spec);
    const char *ext = strrchr(base, '.');
    char *fname;

    if (!apr_cstr_casecmp("rsa", name)) {
        fname = apr_pstrdup(p, base);
    }
    else if (ext) {
        fname = apr_psprintf(p, "%.*s.%s%s", (int)(ext - base), base, name, ext);
    }
    else {
        fname = apr_psprintf(p, "%s.%s", base, name);
    }
    return md_util_str_tolower(fname);
}

const char *md_pkey_filename(const md_pkey_spec_t *spec, apr_pool_t *p)
{
    return md_pkey_spec_filename(spec, MD_FN_PRIVKEY, p);
}

const char *md_chain_filename(const md_pkey_spec_t *spec, apr_pool_t *p)
{
    return md_pkey_spec_filename(spec, MD_FN_PUBCERT, p);
}

/* --- known CAs ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    const char *url;
    const char *gone;       /* since when it no longer issues via ACME */
} known_cas[] = {
    { "LetsEncrypt", "https://acme-v02.api.letsencrypt.org/directory", NULL },
    { "LetsEncrypt-Test", "https://acme-staging-v02.api.letsencrypt.org/directory", NULL },
    /* names stay accepted (configurations keep loading), with a warning */
    { "Buypass", "https://api.buypass.com/acme/directory", "2025-10" },
    { "Buypass-Test", "https://api.test4.buypass.no/acme/directory", "2025-10" },
};

#define KNOWN_CA_COUNT (MD_ARRAY_LEN(known_cas))

const char *md_ca_known_url(const char *name)
{
    apr_size_t i;

    for (i = 0; name && i < KNOWN_CA_COUNT; ++i) {
        if (!apr_cstr_casecmp(known_cas[i].name, name)) return known_cas[i].url;
    }
    return NULL;
}

const char *md_ca_known_name(const char *url)
{
    apr_size_t i;

    for (i = 0; url && i < KNOWN_CA_COUNT; ++i) {
        if (!apr_cstr_casecmp(known_cas[i].url, url)) return known_cas[i].name;
    }
    return NULL;
}

const char *md_ca_known_gone(const char *url)
{
    apr_size_t i;

    for (i = 0; url && i < KNOWN_CA_COUNT; ++i) {
        if (!apr_cstr_casecmp(known_cas[i].url, url)) return known_cas[i].gone;
    }
    return NULL;
}

const char *md_ca_known_names(apr_pool_t *p)
{
    const char *s = "";
    apr_size_t i;

    for (i = 0; i < KNOWN_CA_COUNT; ++i) {
        s = apr_pstrcat(p, s, i ? " " : "", known_cas[i].name, NULL);
    }
    return s;
}

/* --- md.json ------------------------------------------------------------------------------ */

static const char *require_https_str(md_require_t req)
{
    switch (req) {
        case MD_REQUIRE_TEMPORARY: return "temporary";
        case MD_REQUIRE_PERMANENT: return "permanent";
        default: return NULL;
    }
}

static void set_opt_s(md_json_t *json, const char *key, const char *value)
{
    if (value) {
        md_json_sets(value, json, key, NULL);
    }
}

static void set_opt_sa(md_json_t *json, const char *key, const apr_array_header_t *a)
{
    if (a && a->nelts > 0) {
        md_json_setsa(a, json, key, NULL);
    }
}

static md_json_t *ca_to_json(const md_t *md, apr_pool_t *p)
{
    md_json_t *ca = md_json_create(p);

    set_opt_s(ca, MD_KEY_ACCOUNT, md->ca_account);
    md_json_sets(md->ca_proto ? md->ca_proto : MD_PROTO_ACME, ca, MD_KEY_PROTO, NULL);
    set_opt_s(ca, MD_KEY_URL, md->ca_effective);
    set_opt_sa(ca, MD_KEY_URLS, md->ca_urls);
    set_opt_s(ca, MD_KEY_AGREEMENT, md->ca_agreement);
    if (md->ca_challenges && md->ca_challenges->nelts > 0) {
        md_json_setsa(md_array_str_compact(p, md->ca_challenges, 1), ca,
                      MD_KEY_CHALLENGES, NULL);
    }
    return ca;
}

md_json_t *md_to_json(const md_t *md, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(md->name, json, MD_KEY_NAME, NULL);
    md_json_setsa(md->domains, json, MD_KEY_DOMAINS, NULL);
    md_json_setsa(md->contacts, json, MD_KEY_CONTACTS, NULL);
    md_json_setl(md->transitive, json, MD_KEY_TRANSITIVE, NULL);
    md_json_setj(ca_to_json(md, p), json, MD_KEY_CA, NULL);
    if (md->pks && md->pks->specs->nelts > 0) {
        md_json_setj(md_pkeys_spec_to_json(md->pks, p), json, MD_KEY_PRIVKEY, NULL);
    }
    md_json_setl(md->state, json, MD_KEY_STATE, NULL);
    set_opt_s(json, MD_KEY_STATE_DESCR, md->state_descr);
    md_json_setl(md->renew_mode, json, MD_KEY_RENEW_MODE, NULL);
    if (md->renew_window) {
        md_json_sets(md_timeslice_format(md->renew_window, p), json,
                     MD_KEY_RENEW_WINDOW, NULL);
    }
    if (md->warn_window) {
        md_json_sets(md_timeslice_format(md->warn_window, p), json,
                     MD_KEY_WARN_WINDOW, NULL);
    }
    set_opt_s(json, MD_KEY_REQUIRE_HTTPS, require_https_str(md->require_https));
    md_json_setb(md->must_staple > 0, json, MD_KEY_MUST_STAPLE, NULL);
    md_json_setsa(md->acme_tls_1_domains, json, MD_KEY_PROTO, MD_TLSALPN01_PROTO, NULL);
    set_opt_sa(json, MD_KEY_CERT_FILES, md->cert_files);
    set_opt_sa(json, MD_KEY_PKEY_FILES, md->pkey_files);
    md_json_setb(md->stapling > 0, json, MD_KEY_STAPLING, NULL);
    set_opt_s(json, MD_KEY_CMD_DNS01, md->dns01_cmd);
    set_opt_s(json, MD_KEY_PROXY_URL, md->proxy_url);
    set_opt_s(json, MD_KEY_CA_CERTS, md->ca_certs);
    set_opt_s(json, MD_KEY_PROXY_CA_CERTS, md->proxy_ca_certs);
    if (md->eab_kid && strcmp("none", md->eab_kid)) {
        md_json_sets(md->eab_kid, json, MD_KEY_EAB, MD_KEY_KID, NULL);
        set_opt_s(md_json_getj(json, MD_KEY_EAB, NULL), MD_KEY_HMAC, md->eab_hmac);
    }
    set_opt_s(json, MD_KEY_PROFILE, md->profile);
    md_json_setb(md->profile_mandatory > 0, json, MD_KEY_PROFILE_MANDATORY, NULL);
    md_json_setb(md->ari_renewals > 0, json, MD_KEY_ARI_RENEWALS, NULL);
    return json;
}

static apr_array_header_t *get_sa(md_json_t *json, apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 5, sizeof(const char *));
    md_json_t *j = json;
    const char *key;
    va_list ap;

    va_start(ap, p);
    while (j && (key = va_arg(ap, const char *))) j = md_json_getj(j, key, NULL);
    va_end(ap);
    if (j) {
        md_json_getsa(a, j, NULL);
    }
    return a;
}

static const md_timeslice_t *ts_from_json(md_json_t *json, const char *key,
                                          apr_interval_time_t norm, apr_pool_t *p)
{
    const char *s = md_json_gets(json, key, NULL);
    md_timeslice_t *ts = NULL;

    if (!s || md_timeslice_parse(&ts, p, s, norm)) return NULL;
    return ts;
}

static md_require_t require_https_parse(const char *s)
{
    if (s && !apr_cstr_casecmp("temporary", s)) return MD_REQUIRE_TEMPORARY;
    if (s && !apr_cstr_casecmp("permanent", s)) return MD_REQUIRE_PERMANENT;
    return MD_REQUIRE_OFF;
}

static apr_array_header_t *opt_sa(md_json_t *json, const char *key, apr_pool_t *p)
{
    apr_array_header_t *a;

    if (!md_json_has_key(json, key, NULL)) return NULL;
    a = apr_array_make(p, 3, sizeof(const char *));
    md_json_getsa(a, json, key, NULL);
    return a;
}

md_t *md_from_json(md_json_t *json, apr_pool_t *p)
{
    md_t *md = md_create_empty(p);
    md_json_t *privkey;
    long state;

    md->name = md_json_dups(p, json, MD_KEY_NAME, NULL);
    md->domains = md_array_str_compact(p, get_sa(json, p, MD_KEY_DOMAINS, NULL), 0);
    md->contacts = get_sa(json, p, MD_KEY_CONTACTS, NULL);
    md->transitive = (int)md_json_getl(json, MD_KEY_TRANSITIVE, NULL);
    md->ca_account = md_json_dups(p, json, MD_KEY_CA, MD_KEY_ACCOUNT, NULL);
    md->ca_proto = md_json_dups(p, json, MD_KEY_CA, MD_KEY_PROTO, NULL);
    md->ca_effective = md_json_dups(p, json, MD_KEY_CA, MD_KEY_URL, NULL);
    if (md_json_has_key(json, MD_KEY_CA, MD_KEY_URLS, NULL)) {
        md->ca_urls = get_sa(json, p, MD_KEY_CA, MD_KEY_URLS, NULL);
    }
    else if (md->ca_effective) {
        md->ca_urls = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(md->ca_urls, const char *) = md->ca_effective;
    }
    md->ca_agreement = md_json_dups(p, json, MD_KEY_CA, MD_KEY_AGREEMENT, NULL);
    if (md_json_has_key(json, MD_KEY_CA, MD_KEY_CHALLENGES, NULL)) {
        md->ca_challenges = get_sa(json, p, MD_KEY_CA, MD_KEY_CHALLENGES, NULL);
    }
    privkey = md_json_getj(json, MD_KEY_PRIVKEY, NULL);
    if (privkey) {
        md->pks = md_pkeys_spec_from_json(privkey, p);
    }
    state = md_json_getl(json, MD_KEY_STATE, NULL);
    md->state = (MD_S_EXPIRED_DEPRECATED == state) ? MD_S_COMPLETE
              : (state >= 0 && state <= MD_S_MISSING_INFORMATION) ? (md_state_t)state
              : MD_S_UNKNOWN;
    md->state_descr = md_json_dups(p, json, MD_KEY_STATE_DESCR, NULL);
    md->renew_mode = md_json_has_key(json, MD_KEY_RENEW_MODE, NULL)
        ? (int)md_json_getl(json, MD_KEY_RENEW_MODE, NULL) : MD_RENEW_DEFAULT;
    md->renew_window = ts_from_json(json, MD_KEY_RENEW_WINDOW, MD_TIME_LIFE_NORM, p);
    md->warn_window = ts_from_json(json, MD_KEY_WARN_WINDOW, MD_TIME_LIFE_NORM, p);
    md->require_https = require_https_parse(md_json_gets(json, MD_KEY_REQUIRE_HTTPS, NULL));
    md->must_staple = md_json_getb(json, MD_KEY_MUST_STAPLE, NULL);
    md->acme_tls_1_domains = get_sa(json, p, MD_KEY_PROTO, MD_TLSALPN01_PROTO, NULL);
    md->cert_files = opt_sa(json, MD_KEY_CERT_FILES, p);
    md->pkey_files = opt_sa(json, MD_KEY_PKEY_FILES, p);
    md->stapling = md_json_getb(json, MD_KEY_STAPLING, NULL);
    md->dns01_cmd = md_json_dups(p, json, MD_KEY_CMD_DNS01, NULL);
    md->proxy_url = md_json_dups(p, json, MD_KEY_PROXY_URL, NULL);
    md->ca_certs = md_json_dups(p, json, MD_KEY_CA_CERTS, NULL);
    md->proxy_ca_certs = md_json_dups(p, json, MD_KEY_PROXY_CA_CERTS, NULL);
    md->eab_kid = md_json_dups(p, json, MD_KEY_EAB, MD_KEY_KID, NULL);
    md->eab_hmac = md_json_dups(p, json, MD_KEY_EAB, MD_KEY_HMAC, NULL);
    md->profile = md_json_dups(p, json, MD_KEY_PROFILE, NULL);
    md->profile_mandatory = md_json_getb(json, MD_KEY_PROFILE_MANDATORY, NULL);
    md->ari_renewals = md_json_getb(json, MD_KEY_ARI_RENEWALS, NULL);
    if (!md->name && md->domains->nelts > 0) {
        md->name = APR_ARRAY_IDX(md->domains, 0, const char *);
    }
    return md;
}
