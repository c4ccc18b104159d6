/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Certificates and CSRs made here on OpenSSL 3: the generated certificates
 * of contract.md 8.2 (fallback, tls-alpn-01) and the CSR of an order.
 * Reading certificates and their facts is md_crypto_cert.c.
 */
#define OPENSSL_API_COMPAT 30000

#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "md.h"
#include "md_crypto.h"
#include "md_crypto_int.h"
#include "md_log.h"
#include "md_time.h"
#include "md_util.h"

#define MD_ACME_ID_OID          "1.3.6.1.5.5.7.1.31"

/* --- generated certificates and CSRs ------------------------------------------------ */

/* The SAN GENERAL_NAMES for domains (IP literals as iPAddress). */
static GENERAL_NAMES *san_make(apr_array_header_t *domains)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gn;
    ASN1_OCTET_STRING *ip;
    ASN1_IA5STRING *dns;
    const char *name;
    int i;

    for (i = 0; gens && i < domains->nelts; ++i) {
        name = APR_ARRAY_IDX(domains, i, const char *);
        if (!(gn = GENERAL_NAME_new())) goto fail;
        if (NULL != (ip = a2i_IPADDRESS(name))) {
            GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        }
        else {
            dns = ASN1_IA5STRING_new();
            if (!dns || !ASN1_STRING_set(dns, name, (int)strlen(name))) {
                ASN1_IA5STRING_free(dns);
                GENERAL_NAME_free(gn);
                goto fail;
            }
            GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
        }
        if (!sk_GENERAL_NAME_push(gens, gn)) {
            GENERAL_NAME_free(gn);
            goto fail;
        }
    }
    ERR_clear_error();  /* a2i_IPADDRESS failures on DNS names */
    return gens;
fail:
    GENERAL_NAMES_free(gens);
    return NULL;
}

static const EVP_MD *sign_md(const EVP_PKEY *key)
{
    return md_crypt_is_eddsa(key) ? NULL : EVP_sha256();
}

static apr_status_t check_signing_key(md_pkey_t *pkey, const char *what, apr_pool_t *p)
{
    const EVP_PKEY *key = md_pkey_get_evp(pkey);

    if (EVP_PKEY_is_a(key, "X25519") || EVP_PKEY_is_a(key, "X448")) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_ENOTIMPL, p,
                      "AH10948: %s: a %s key cannot sign", what, md_pkey_type_name(pkey));
        return APR_ENOTIMPL;
    }
    return APR_SUCCESS;
}

static int name_set_cn(X509_NAME *name, const char *cn)
{
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                      (const unsigned char *)cn, -1, -1, 0);
}

static int add_ext_conf(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int rc;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (!ext) return 0;
    rc = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return rc;
}

/* A self-signed v3 skeleton: random positive 160-bit serial, subject =
 * issuer = CN cn, the key, valid from now for valid_for, SANs. */
static apr_status_t cert_start(X509 **px, const char *cn, apr_array_header_t *domains,
                               md_pkey_t *pkey, apr_interval_time_t valid_for,
                               apr_pool_t *p)
{
    unsigned char sbytes[20];
    time_t now = (time_t)apr_time_sec(apr_time_now());
    BIGNUM *bn = NULL;
    GENERAL_NAMES *gens = NULL;
    X509 *x;
    const char *call = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (!(x = X509_new())) return md_crypt_log_error(p, "X509_new");
    if (APR_SUCCESS != (rv = md_rand_bytes(sbytes, sizeof(sbytes), p))) goto leave;
    sbytes[0] = (unsigned char)((sbytes[0] & 0x7f) | 0x40); /* positive, full 160 bits */
    sbytes[sizeof(sbytes) - 1] |= 0x01;
    if (!X509_set_version(x, X509_VERSION_3)) {
        call = "X509_set_version";
    }
    else if (!(bn = BN_bin2bn(sbytes, sizeof(sbytes), NULL))) {
        call = "BN_bin2bn";
    }
    else if (!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
        call = "BN_to_ASN1_INTEGER";
    }
    else if (!name_set_cn(X509_get_subject_name(x), cn)) {
        call = "X509_NAME_add_entry";
    }
    else if (!X509_set_issuer_name(x, X509_get_subject_name(x))) {
        call = "X509_set_issuer_name";
    }
    else if (!X509_set_pubkey(x, md_pkey_get_evp(pkey))) {
        call = "X509_set_pubkey";
    }
    else if (!ASN1_TIME_set(X509_getm_notBefore(x), now)) {
        call = "ASN1_TIME_set(notBefore)";
    }
    else if (!ASN1_TIME_set(X509_getm_notAfter(x),
                            now + (time_t)apr_time_sec(valid_for))) {
        call = "ASN1_TIME_set(notAfter)";
    }
    else if (!(gens = san_make(domains))) {
        call = "GENERAL_NAMES(SAN)";
    }
    else if (1 != X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT)) {
        call = "X509_add1_ext_i2d(SAN)";
    }
    else if (!add_ext_conf(x, NID_basic_constraints, "critical,CA:FALSE")) {
        call = "X509V3_EXT_nconf(basicConstraints)";
    }
    if (call) {
        rv = md_crypt_log_error(p, call);
    }
leave:
    GENERAL_NAMES_free(gens);
    BN_free(bn);
    if (APR_SUCCESS != rv) {
        X509_free(x);
        x = NULL;
    }
    *px = x;
    return rv;
}

static apr_status_t cert_finish(md_cert_t **pcert, X509 *x, md_pkey_t *pkey,
                                apr_pool_t *p)
{
    if (!X509_sign(x, md_pkey_get_evp(pkey), sign_md(md_pkey_get_evp(pkey)))) {
        X509_free(x);
        *pcert = NULL;
        return md_crypt_log_error(p, "X509_sign");
    }
    *pcert = md_cert_wrap(p, x);
    return APR_SUCCESS;
}

apr_status_t md_cert_make_fallback(md_cert_t **pcert, const char *cn,
                                   apr_array_header_t *domains, md_pkey_t *pkey,
                                   apr_interval_time_t valid_for, apr_pool_t *p)
{
    X509 *x = NULL;
    apr_status_t rv;

    *pcert = NULL;
    rv = check_signing_key(pkey, "fallback certificate", p);
    if (APR_SUCCESS != rv) return rv;
    rv = cert_start(&x, cn ? cn : MD_FALLBACK_CN, domains, pkey, valid_for, p);
    if (APR_SUCCESS != rv) return rv;
    if (!add_ext_conf(x, NID_key_usage, "critical,digitalSignature")
        || !add_ext_conf(x, NID_ext_key_usage, "serverAuth")) {
        X509_free(x);
        return md_crypt_log_error(p, "X509V3_EXT_nconf(keyUsage)");
    }
    return cert_finish(pcert, x, pkey, p);
}

/* The critical id-pe-acmeIdentifier extension with SHA-256(acme_id). */
static apr_status_t add_acme_id_ext(X509 *x, const char *acme_id, apr_pool_t *p)
{
    unsigned char value[2 + EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    ASN1_OBJECT *obj = NULL;
    ASN1_OCTET_STRING *os = NULL;
    X509_EXTENSION *ext = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (1 != EVP_Digest(acme_id, strlen(acme_id), value + 2, &mdlen, EVP_sha256(), NULL)) {
        return md_crypt_log_error(p, "EVP_Digest(acmeIdentifier)");
    }
    value[0] = V_ASN1_OCTET_STRING;
    value[1] = (unsigned char)mdlen;
    if (!(obj = OBJ_txt2obj(MD_ACME_ID_OID, 1))
        || !(os = ASN1_OCTET_STRING_new())
        || !ASN1_OCTET_STRING_set(os, value, (int)mdlen + 2)
        || !(ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os))
        || !X509_add_ext(x, ext, -1)) {
        rv = md_crypt_log_error(p, "X509_add_ext(acmeIdentifier)");
    }
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return rv;
}

apr_status_t md_cert_make_tls_alpn_01(md_cert_t **pcert, const char *domain,
                                      const char *acme_id, md_pkey_t *pkey,
                                      apr_interval_time_t valid_for, apr_pool_t *p)
{
    apr_array_header_t *domains = apr_array_make(p, 1, sizeof(const char *));
    X509 *x = NULL;
    apr_status_t rv;

    *pcert = NULL;
    rv = check_signing_key(pkey, "tls-alpn-01 certificate", p);
    if (APR_SUCCESS != rv) return rv;
    APR_ARRAY_PUSH(domains, const char *) = domain;
    rv = cert_start(&x, MD_TLS_ALPN_01_CN, domains, pkey, valid_for, p);
    if (APR_SUCCESS != rv) return rv;
    rv = add_acme_id_ext(x, acme_id, p);
    if (APR_SUCCESS != rv) {
        X509_free(x);
        return rv;
    }
    return cert_finish(pcert, x, pkey, p);
}

/* The CSR extensions: SAN and, if asked for, the TLS feature status_request. */
static apr_status_t req_add_exts(X509_REQ *req, apr_array_header_t *domains,
                                 int must_staple, apr_pool_t *p)
{
    static const unsigned char tlsf_der[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
    STACK_OF(X509_EXTENSION) *exts = NULL;
    GENERAL_NAMES *gens = san_make(domains);
    ASN1_OCTET_STRING *os = NULL;
    X509_EXTENSION *ext = NULL;
    const char *call = NULL;

    if (!gens) {
        call = "GENERAL_NAMES(SAN)";
    }
    else if (1 != X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT)) {
        call = "X509V3_add1_i2d(SAN)";
    }
    else if (must_staple
             && (!(os = ASN1_OCTET_STRING_new())
                 || !ASN1_OCTET_STRING_set(os, tlsf_der, sizeof(tlsf_der))
                 || !(ext = X509_EXTENSION_create_by_NID(NULL, NID_tlsfeature, 0, os))
                 || !X509v3_add_ext(&exts, ext, -1))) {
        call = "X509_EXTENSION_create(tlsfeature)";
    }
    else if (!X509_REQ_add_extensions(req, exts)) {
        call = "X509_REQ_add_extensions";
    }
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return call ? md_crypt_log_error(p, call) : APR_SUCCESS;
}

apr_status_t md_cert_req_create(const char **pcsr64, const char *name,
                                apr_array_header_t *domains, int must_staple,
                                md_pkey_t *pkey, apr_pool_t *p)
{
    X509_REQ *req = NULL;
    unsigned char *der = NULL;
    const char *call = NULL;
    int len = 0;
    apr_status_t rv;

    *pcsr64 = NULL;
    rv = check_signing_key(pkey, "certificate request", p);
    if (APR_SUCCESS != rv) return rv;
    if (!(req = X509_REQ_new())) return md_crypt_log_error(p, "X509_REQ_new");
    if (!X509_REQ_set_version(req, X509_REQ_VERSION_1)) {
        call = "X509_REQ_set_version";
    }
    else if (name && strlen(name) < 64
             && !name_set_cn(X509_REQ_get_subject_name(req), name)) {
        call = "X509_NAME_add_entry(CN)";
    }
    else if (APR_SUCCESS != (rv = req_add_exts(req, domains, must_staple, p))) goto leave;
    else if (!X509_REQ_set_pubkey(req, md_pkey_get_evp(pkey))) {
        call = "X509_REQ_set_pubkey";
    }
    else if (!X509_REQ_sign(req, md_pkey_get_evp(pkey), sign_md(md_pkey_get_evp(pkey)))) {
        call = "X509_REQ_sign";
    }
    else if ((len = i2d_X509_REQ(req, &der)) <= 0) {
        call = "i2d_X509_REQ";
    }
    if (call) {
        rv = md_crypt_log_error(p, call);
        goto leave;
    }
    *pcsr64 = md_util_base64url_encode((const char *)der, (apr_size_t)len, p);
leave:
    OPENSSL_free(der);
    X509_REQ_free(req);
    return rv;
}
