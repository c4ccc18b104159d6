/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Certificates on OpenSSL 3: PEM chain files, DER, the facts status and
 * renewal need (times, SANs, serial, fingerprints, AIA, ARI id,
 * must-staple) and whether a key matches. The X509 lives in an md_cert_t
 * whose pool cleanup frees it. Generated certificates and CSRs are
 * md_crypto_make.c.
 */
#define OPENSSL_API_COMPAT 30000

#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ct.h>
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

/* Largest chain file we read. */
#define MD_CHAIN_FILE_MAX       (1024 * 1024)
/* A chain file of this size or more must hold a certificate. */
#define MD_CHAIN_EMPTY_MAX      1024
#define MD_TLS_FEATURE_STATUS_REQUEST 5

struct md_cert_t {
    apr_pool_t *p;
    X509 *x509;
};

/* --- certificate files ------------------------------------------------------------- */

static apr_status_t cert_cleanup(void *data)
{
    md_cert_t *cert = data;

    if (cert->x509) {
        X509_free(cert->x509);
        cert->x509 = NULL;
    }
    return APR_SUCCESS;
}

md_cert_t *md_cert_wrap(apr_pool_t *p, X509 *x509)
{
    md_cert_t *cert = apr_pcalloc(p, sizeof(*cert));

    cert->p = p;
    cert->x509 = x509;
    apr_pool_cleanup_register(p, cert, cert_cleanup, apr_pool_cleanup_null);
    return cert;
}

md_cert_t *md_cert_dup(const md_cert_t *cert, apr_pool_t *p)
{
    X509_up_ref(cert->x509);
    return md_cert_wrap(p, cert->x509);
}

X509 *md_cert_get_x509(const md_cert_t *cert)
{
    return cert->x509;
}

apr_status_t md_chain_read_pem(apr_array_header_t *certs, apr_pool_t *p,
                               const char *pem, apr_size_t len)
{
    BIO *bio;
    X509 *x509;
    unsigned long err;
    apr_status_t rv = APR_SUCCESS;

    ERR_set_mark();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) {
        rv = md_crypt_log_error(p, "BIO_new_mem_buf");
        goto leave;
    }
    while (NULL != (x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        APR_ARRAY_PUSH(certs, md_cert_t *) = md_cert_wrap(p, x509);
    }
    err = ERR_peek_last_error();
    if (err && !(ERR_GET_LIB(err) == ERR_LIB_PEM
                 && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
        rv = md_crypt_error(p, MD_LOG_DEBUG, APR_EINVAL, "PEM_read_bio_X509");
    }
leave:
    ERR_pop_to_mark();
    BIO_free(bio);
    return rv;
}

apr_status_t md_chain_fload(apr_array_header_t **pcerts, apr_pool_t *p,
                            const char *fname)
{
    return md_chain_floadx(pcerts, p, fname, 0);
}

apr_status_t md_chain_floadx(apr_array_header_t **pcerts, apr_pool_t *p,
                             const char *fname, int flags)
{
    apr_array_header_t *certs = apr_array_make(p, 5, sizeof(md_cert_t *));
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    rv = md_util_fread(&data, &len, fname, MD_CHAIN_FILE_MAX, flags, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_chain_read_pem(certs, p, data, len);
    if (APR_SUCCESS != rv && certs->nelts > 0) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "AH10942: error reading certificate %d in %s", certs->nelts + 1, fname);
        goto leave;
    }
    if (0 == certs->nelts) {
        if (len >= MD_CHAIN_EMPTY_MAX) {
            rv = APR_EINVAL;
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                          "AH10943: no certificate found in %s (%lu bytes)",
                          fname, (unsigned long)len);
            goto leave;
        }
        rv = APR_SUCCESS;
    }
leave:
    *pcerts = (APR_SUCCESS == rv) ? certs : NULL;
    return rv;
}

/* 1 if the rest of bio holds only well-formed certificate blocks (PEM,
 * DER structure) besides blocks of other types, which are skipped as
 * PEM_read_bio_X509 skips them. Cheap: no key in them is decoded. */
static int rest_are_certs(BIO *bio)
{
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    const unsigned char *q;
    ASN1_SEQUENCE_ANY *seq;
    unsigned long err;
    long len;
    int ok = 1;

    while (ok && PEM_read_bio(bio, &name, &header, &der, &len)) {
        if (!strcmp(PEM_STRING_X509, name) || !strcmp(PEM_STRING_X509_OLD, name)
            || !strcmp(PEM_STRING_X509_TRUSTED, name)) {
            q = der;
            seq = d2i_ASN1_SEQUENCE_ANY(NULL, &q, len);
            /* Certificate: tbsCertificate, signatureAlgorithm, signature */
            ok = seq && 3 == sk_ASN1_TYPE_num(seq) && q == der + len;
            sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        name = header = NULL;
        der = NULL;
    }
    err = ERR_peek_last_error();
    if (ok && err && !(ERR_GET_LIB(err) == ERR_LIB_PEM
                       && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
        ok = 0;
    }
    return ok;
}

apr_status_t md_chain_fload_leaf(md_cert_t **pleaf, apr_pool_t *p, const char *fname)
{
    const char *data;
    apr_size_t len;
    X509 *x509 = NULL;
    BIO *bio = NULL;
    apr_status_t rv;

    *pleaf = NULL;
    rv = md_util_fread_all(&data, &len, fname, MD_CHAIN_FILE_MAX, p);
    if (APR_SUCCESS != rv) return rv;
    ERR_set_mark();
    bio = BIO_new_mem_buf(data, (int)len);
    if (!bio) {
        rv = md_crypt_log_error(p, "BIO_new_mem_buf");
        goto leave;
    }
    x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (!x509) {
        rv = (len >= MD_CHAIN_EMPTY_MAX) ? APR_EINVAL : APR_ENOENT;
        md_log_perror(MD_LOG_MARK, APR_STATUS_IS_ENOENT(rv) ? MD_LOG_DEBUG : MD_LOG_ERR,
                      rv, p, "AH10944: no certificate found in %s (%lu bytes)", fname,
                      (unsigned long)len);
        goto leave;
    }
    if (!rest_are_certs(bio)) {
        rv = APR_EINVAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "AH10945: error reading a certificate after the first in %s", fname);
        X509_free(x509);
        goto leave;
    }
    *pleaf = md_cert_wrap(p, x509);
leave:
    ERR_pop_to_mark();
    BIO_free(bio);
    return rv;
}

apr_status_t md_cert_fload(md_cert_t **pcert, apr_pool_t *p, const char *fname)
{
    apr_array_header_t *certs;
    apr_status_t rv;

    *pcert = NULL;
    rv = md_chain_fload(&certs, p, fname);
    if (APR_SUCCESS != rv) return rv;
    if (certs->nelts < 1) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, APR_ENOENT, p,
                      "AH10946: no certificate in %s", fname);
        return APR_ENOENT;
    }
    *pcert = APR_ARRAY_IDX(certs, 0, md_cert_t *);
    return APR_SUCCESS;
}

apr_status_t md_cert_to_pem(const char **ppem, const md_cert_t *cert, apr_pool_t *p)
{
    BIO *bio = BIO_new(BIO_s_mem());
    apr_status_t rv = APR_SUCCESS;

    *ppem = NULL;
    if (!bio) return md_crypt_log_error(p, "BIO_new");
    if (!PEM_write_bio_X509(bio, cert->x509)) {
        rv = md_crypt_log_error(p, "PEM_write_bio_X509");
        goto leave;
    }
    *ppem = md_crypt_bio_pstr(bio, p);
leave:
    BIO_free(bio);
    return rv;
}

apr_status_t md_chain_to_pem(const char **ppem, apr_array_header_t *certs, apr_pool_t *p)
{
    const char *pem, *all = "";
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < certs->nelts; ++i) {
        rv = md_cert_to_pem(&pem, APR_ARRAY_IDX(certs, i, const md_cert_t *), p);
        if (APR_SUCCESS != rv) goto leave;
        all = apr_pstrcat(p, all, pem, NULL);
    }
leave:
    *ppem = (APR_SUCCESS == rv) ? all : NULL;
    return rv;
}

apr_status_t md_chain_fsave(apr_array_header_t *certs, apr_pool_t *p,
                            const char *fname, apr_fileperms_t perms)
{
    const char *pem;
    apr_status_t rv;

    rv = md_chain_to_pem(&pem, certs, p);
    if (APR_SUCCESS == rv) {
        rv = md_text_freplace(fname, perms, p, pem);
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10947: writing certificates to %s", fname);
    }
    return rv;
}

apr_status_t md_chain_fappend(apr_array_header_t *certs, apr_pool_t *p, const char *fname)
{
    apr_fileperms_t perms = APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD
                            | APR_FPROT_WREAD;
    apr_array_header_t *all = apr_array_make(p, 5, sizeof(md_cert_t *));
    apr_finfo_t info;
    apr_status_t rv;

    /* the old and the new certificates written anew: a reader never sees
     * half a file */
    if (APR_SUCCESS == apr_stat(&info, fname, APR_FINFO_PROT, p)) {
        perms = info.protection;
        rv = md_chain_fload(&all, p, fname);
        if (APR_SUCCESS != rv) return rv;
    }
    apr_array_cat(all, certs);
    return md_chain_fsave(all, p, fname, perms);
}

apr_status_t md_cert_to_der(md_data_t *der, const md_cert_t *cert, apr_pool_t *p)
{
    unsigned char *buf = NULL;
    int len;

    der->data = NULL;
    der->len = 0;
    len = i2d_X509(cert->x509, &buf);
    if (len <= 0) return md_crypt_log_error(p, "i2d_X509");
    der->data = apr_pmemdup(p, buf, (apr_size_t)len);
    der->len = (apr_size_t)len;
    OPENSSL_free(buf);
    return APR_SUCCESS;
}

apr_status_t md_cert_read_der(md_cert_t **pcert, apr_pool_t *p,
                              const char *der, apr_size_t len)
{
    const unsigned char *q = (const unsigned char *)der;
    X509 *x509;

    *pcert = NULL;
    x509 = d2i_X509(NULL, &q, (long)len);
    if (!x509) return md_crypt_error(p, MD_LOG_ERR, APR_EINVAL, "d2i_X509");
    *pcert = md_cert_wrap(p, x509);
    return APR_SUCCESS;
}

/* --- certificate facts ------------------------------------------------------------ */

apr_time_t md_asn1_time_get(const ASN1_TIME *t)
{
    struct tm tm;
    apr_time_exp_t exp;
    apr_time_t at;

    memset(&tm, 0, sizeof(tm));
    if (!t || !ASN1_TIME_to_tm(t, &tm)) return 0;
    memset(&exp, 0, sizeof(exp));
    exp.tm_sec = tm.tm_sec;
    exp.tm_min = tm.tm_min;
    exp.tm_hour = tm.tm_hour;
    exp.tm_mday = tm.tm_mday;
    exp.tm_mon = tm.tm_mon;
    exp.tm_year = tm.tm_year;
    if (APR_SUCCESS != apr_time_exp_gmt_get(&at, &exp)) return 0;
    return at;
}

apr_time_t md_cert_get_not_before(const md_cert_t *cert)
{
    return md_asn1_time_get(X509_get0_notBefore(cert->x509));
}

apr_time_t md_cert_get_not_after(const md_cert_t *cert)
{
    return md_asn1_time_get(X509_get0_notAfter(cert->x509));
}

int md_cert_has_expired(const md_cert_t *cert, apr_time_t now)
{
    return md_cert_get_not_after(cert) < now;
}

static const char *ip_to_str(const ASN1_OCTET_STRING *ip, apr_pool_t *p)
{
    char buf[INET6_ADDRSTRLEN];
    const unsigned char *d = ASN1_STRING_get0_data(ip);
    int len = ASN1_STRING_length(ip);

    if (4 == len && inet_ntop(AF_INET, d, buf, sizeof(buf))) return apr_pstrdup(p, buf);
    if (16 == len && inet_ntop(AF_INET6, d, buf, sizeof(buf))) return apr_pstrdup(p, buf);
    return NULL;
}

apr_status_t md_cert_get_alt_names(apr_array_header_t **pnames, const md_cert_t *cert,
                                   apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 5, sizeof(const char *));
    GENERAL_NAMES *gens;
    const GENERAL_NAME *gn;
    const char *s;
    int i;

    gens = X509_get_ext_d2i(cert->x509, NID_subject_alt_name, NULL, NULL);
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); ++i) {
        gn = sk_GENERAL_NAME_value(gens, i);
        s = NULL;
        if (GEN_DNS == gn->type) {
            s = apr_pstrmemdup(p, (const char *)ASN1_STRING_get0_data(gn->d.dNSName),
                               (apr_size_t)ASN1_STRING_length(gn->d.dNSName));
        }
        else if (GEN_IPADD == gn->type) {
            s = ip_to_str(gn->d.iPAddress, p);
        }
        if (s) {
            APR_ARRAY_PUSH(names, const char *) = s;
        }
    }
    GENERAL_NAMES_free(gens);
    *pnames = names;
    return APR_SUCCESS;
}

int md_cert_covers_domain(const md_cert_t *cert, const char *domain, apr_pool_t *p)
{
    apr_array_header_t *names;
    int i;

    if (APR_SUCCESS != md_cert_get_alt_names(&names, cert, p)) return 0;
    for (i = 0; i < names->nelts; ++i) {
        if (md_dns_matches(APR_ARRAY_IDX(names, i, const char *), domain)) return 1;
    }
    return 0;
}

int md_cert_covers_md(const md_cert_t *cert, const md_t *md, apr_pool_t *p)
{
    int i;

    if (!md->domains || md->domains->nelts < 1) return 0;
    for (i = 0; i < md->domains->nelts; ++i) {
        if (!md_cert_covers_domain(cert, APR_ARRAY_IDX(md->domains, i, const char *), p)) {
            return 0;
        }
    }
    return 1;
}

static const char *name_oneline(const X509_NAME *name, apr_pool_t *p);

apr_status_t md_chain_check_for_md(const char **pwhy, const apr_array_header_t *chain,
                                   const md_t *md, apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *names;
    const md_cert_t *leaf;
    const char *name, *why = NULL;
    char date[APR_RFC822_DATE_LEN];
    apr_time_t t;
    int i;

    if (!chain || chain->nelts < 1) {
        why = "no certificate";
        goto leave;
    }
    leaf = APR_ARRAY_IDX(chain, 0, const md_cert_t *);
    if (APR_SUCCESS != md_cert_get_alt_names(&names, leaf, p)) {
        names = NULL;
    }
    for (i = 0; names && !why && i < names->nelts; ++i) {
        name = APR_ARRAY_IDX(names, i, const char *);
        if (md_array_str_index(md->domains, name, 0, 0) < 0) {
            why = apr_psprintf(p, "it is for '%s', which is not a name of the MD", name);
        }
    }
    for (i = 0; !why && i < md->domains->nelts; ++i) {
        name = APR_ARRAY_IDX(md->domains, i, const char *);
        if (!names || !md_cert_covers_domain(leaf, name, p)) {
            why = apr_psprintf(p, "it does not cover '%s'", name);
        }
    }
    if (why) goto leave;
    t = md_cert_get_not_after(leaf);
    if (t <= now) {
        apr_rfc822_date(date, t);
        why = apr_psprintf(p, "it expired on %s", date);
        goto leave;
    }
    /* a start a little ahead is a clock difference that activation waits
     * for; far ahead it is not the certificate that was asked for */
    t = md_cert_get_not_before(leaf);
    if (t > now + apr_time_from_sec(MD_SECS_PER_DAY)) {
        apr_rfc822_date(date, t);
        why = apr_psprintf(p, "it is valid only from %s on", date);
        goto leave;
    }
    if (chain->nelts > 1
        && !md_cert_is_issued_by(leaf, APR_ARRAY_IDX(chain, 1, const md_cert_t *))) {
        why = apr_psprintf(p, "it is not signed by the next certificate of the chain "
                           "(issuer %s, next is %s)", md_cert_get_issuer_name(leaf, p),
                           name_oneline(X509_get_subject_name(APR_ARRAY_IDX(
                               chain, 1, const md_cert_t *)->x509), p));
    }
leave:
    *pwhy = why;
    return why ? APR_EINVAL : APR_SUCCESS;
}

const char *md_cert_get_serial_number(const md_cert_t *cert, apr_pool_t *p)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert->x509), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    const char *s = hex ? apr_pstrdup(p, hex) : NULL;

    OPENSSL_free(hex);
    BN_free(bn);
    return s;
}

static apr_status_t cert_digest_hex(const char **phex, const md_cert_t *cert,
                                    const EVP_MD *md, apr_pool_t *p)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len;

    *phex = NULL;
    if (!X509_digest(cert->x509, md, buf, &len)) return md_crypt_log_error(p, "X509_digest");
    *phex = md_util_hex(buf, len, p);
    return APR_SUCCESS;
}

apr_status_t md_cert_to_sha256_fingerprint(const char **pfp, const md_cert_t *cert,
                                           apr_pool_t *p)
{
    return cert_digest_hex(pfp, cert, EVP_sha256(), p);
}

apr_status_t md_cert_to_sha1_hex(const char **phex, const md_cert_t *cert,
                                 apr_pool_t *p)
{
    return cert_digest_hex(phex, cert, EVP_sha1(), p);
}

static const char *name_oneline(const X509_NAME *name, apr_pool_t *p)
{
    char *line = X509_NAME_oneline(name, NULL, 0);
    const char *s = line ? apr_pstrdup(p, line) : NULL;

    OPENSSL_free(line);
    return s;
}

const char *md_cert_get_issuer_name(const md_cert_t *cert, apr_pool_t *p)
{
    return name_oneline(X509_get_issuer_name(cert->x509), p);
}

/* The first URI of the AIA entries with access method nid. */
static const char *aia_uri(const md_cert_t *cert, int nid, apr_pool_t *p)
{
    AUTHORITY_INFO_ACCESS *aia;
    const ACCESS_DESCRIPTION *ad;
    const char *uri = NULL;
    int i;

    aia = X509_get_ext_d2i(cert->x509, NID_info_access, NULL, NULL);
    for (i = 0; aia && !uri && i < sk_ACCESS_DESCRIPTION_num(aia); ++i) {
        ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        if (OBJ_obj2nid(ad->method) == nid && GEN_URI == ad->location->type) {
            uri = apr_pstrmemdup(
                p, (const char *)ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier),
                (apr_size_t)ASN1_STRING_length(ad->location->d.uniformResourceIdentifier));
        }
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    return uri;
}

const char *md_cert_get_issuer_uri(const md_cert_t *cert, apr_pool_t *p)
{
    return aia_uri(cert, NID_ad_ca_issuers, p);
}

const char *md_cert_get_ocsp_url(const md_cert_t *cert, apr_pool_t *p)
{
    return aia_uri(cert, NID_ad_OCSP, p);
}

/* The content octets of the serial's DER INTEGER (two's complement). */
static apr_status_t serial_der_content(md_data_t *out, const md_cert_t *cert,
                                       apr_pool_t *p)
{
    unsigned char *der = NULL;
    int len, hlen;
    apr_status_t rv = APR_SUCCESS;

    len = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert->x509), &der);
    if (len < 3) {
        rv = md_crypt_log_error(p, "i2d_ASN1_INTEGER");
        goto leave;
    }
    hlen = 2;   /* tag, then short or long form length */
    if (der[1] & 0x80) {
        hlen += der[1] & 0x7f;
    }
    if (hlen >= len) {
        rv = APR_EINVAL;
        goto leave;
    }
    out->data = apr_pmemdup(p, der + hlen, (apr_size_t)(len - hlen));
    out->len = (apr_size_t)(len - hlen);
leave:
    OPENSSL_free(der);
    return rv;
}

apr_status_t md_cert_get_ari_cert_id(const char **pid, const md_cert_t *cert,
                                     apr_pool_t *p)
{
    const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(cert->x509);
    md_data_t serial = { NULL, 0 };
    apr_status_t rv;

    *pid = NULL;
    if (!akid) return APR_ENOENT;
    rv = serial_der_content(&serial, cert, p);
    if (APR_SUCCESS != rv) return rv;
    *pid = apr_pstrcat(
        p, md_util_base64url_encode((const char *)ASN1_STRING_get0_data(akid),
                                    (apr_size_t)ASN1_STRING_length(akid), p),
        ".", md_util_base64url_encode(serial.data, serial.len, p), NULL);
    return APR_SUCCESS;
}

/* The last millisecond of 9999-12-31 UTC: an SCT says when a log signed,
 * in ms of uint64; later values (a CA's junk) would overflow apr_time_t or
 * print as no date, so they become 0 (unknown). */
#define MD_SCT_MAX_MS   APR_UINT64_C(253402300799999)

static apr_time_t sct_time(uint64_t ms)
{
    return (ms > MD_SCT_MAX_MS) ? 0 : (apr_time_t)ms * 1000;
}

apr_status_t md_cert_get_scts(apr_array_header_t **pscts, const md_cert_t *cert,
                              apr_pool_t *p)
{
    apr_array_header_t *scts = apr_array_make(p, 3, sizeof(md_sct_t *));
    STACK_OF(SCT) *list;
    const unsigned char *data;
    apr_size_t len;
    md_sct_t *sct;
    SCT *s;
    int i, nid;

    list = X509_get_ext_d2i(cert->x509, NID_ct_precert_scts, NULL, NULL);
    for (i = 0; list && i < sk_SCT_num(list); ++i) {
        s = sk_SCT_value(list, i);
        sct = apr_pcalloc(p, sizeof(*sct));
        sct->version = (int)SCT_get_version(s);
        len = SCT_get0_log_id(s, (unsigned char **)&data);
        sct->logid_hex = md_util_hex(data, len, p);
        sct->timestamp = sct_time(SCT_get_timestamp(s));
        len = SCT_get0_signature(s, (unsigned char **)&data);
        sct->signature_hex = md_util_hex(data, len, p);
        nid = SCT_get_signature_nid(s);
        sct->signature_type = (NID_undef != nid) ? OBJ_nid2sn(nid) : "undef";
        APR_ARRAY_PUSH(scts, md_sct_t *) = sct;
    }
    SCT_LIST_free(list);
    ERR_clear_error();
    *pscts = scts;
    return APR_SUCCESS;
}

int md_cert_must_staple(const md_cert_t *cert)
{
    TLS_FEATURE *features;
    int i, found = 0;

    features = X509_get_ext_d2i(cert->x509, NID_tlsfeature, NULL, NULL);
    for (i = 0; features && !found && i < sk_ASN1_INTEGER_num(features); ++i) {
        found = (MD_TLS_FEATURE_STATUS_REQUEST
                 == ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i)));
    }
    TLS_FEATURE_free(features);
    ERR_clear_error();
    return found;
}

int md_cert_is_issued_by(const md_cert_t *cert, const md_cert_t *issuer)
{
    EVP_PKEY *ikey = X509_get0_pubkey(issuer->x509);
    int rc = !X509_NAME_cmp(X509_get_issuer_name(cert->x509),
                            X509_get_subject_name(issuer->x509))
        && ikey && (1 == X509_verify(cert->x509, ikey));

    ERR_clear_error();
    return rc;
}

apr_status_t md_cert_check_pkey(const md_cert_t *cert, md_pkey_t *pkey)
{
    EVP_PKEY *pub = X509_get0_pubkey(cert->x509);
    int rc = pub && pkey && (1 == EVP_PKEY_eq(pub, md_pkey_get_evp(pkey)));

    ERR_clear_error();
    return rc ? APR_SUCCESS : APR_EINVAL;
}

/* Matching a key file without loading the key: OpenSSL 3 decodes a PEM
 * private key through its decoder chain (~0.4 ms for RSA-2048 here, ~50x
 * the DER parse), which at start-up with thousands of MDs costs seconds.
 * The public parts a private key file carries (RSA n and e, the EC point)
 * are compared with the certificate's SubjectPublicKeyInfo instead.
 * KEY_SAME only when the file surely holds the public key of the cert;
 * everything else (other formats, other key types, odd encodings, a
 * mismatch) is KEY_UNSURE and gets the full check. */
typedef enum { KEY_UNSURE, KEY_SAME } key_verdict;

/* 1 if count INTEGERs from index a1 of the DER SEQUENCE der1 equal those
 * from index a2 of der2. */
static int seq_ints_equal(const unsigned char *der1, long len1, int a1,
                          const unsigned char *der2, long len2, int a2, int count)
{
    ASN1_SEQUENCE_ANY *s1 = d2i_ASN1_SEQUENCE_ANY(NULL, &der1, len1);
    ASN1_SEQUENCE_ANY *s2 = d2i_ASN1_SEQUENCE_ANY(NULL, &der2, len2);
    ASN1_TYPE *t1, *t2;
    int i, same = s1 && s2 && sk_ASN1_TYPE_num(s1) >= a1 + count
                  && sk_ASN1_TYPE_num(s2) >= a2 + count;

    for (i = 0; same && i < count; ++i) {
        t1 = sk_ASN1_TYPE_value(s1, a1 + i);
        t2 = sk_ASN1_TYPE_value(s2, a2 + i);
        same = V_ASN1_INTEGER == t1->type && V_ASN1_INTEGER == t2->type
               && !ASN1_INTEGER_cmp(t1->value.integer, t2->value.integer);
    }
    sk_ASN1_TYPE_pop_free(s1, ASN1_TYPE_free);
    sk_ASN1_TYPE_pop_free(s2, ASN1_TYPE_free);
    return same;
}

/* 1 if the DER ECPrivateKey der[0..len) has the public point pub. */
static int ec_priv_has_point(const unsigned char *der, long len,
                             const unsigned char *pub, int publen)
{
    const unsigned char *q = der, *end;
    long l;
    int tag, cls;

    if (0x80 & ASN1_get_object(&q, &l, &tag, &cls, len) || V_ASN1_SEQUENCE != tag) return 0;
    for (end = q + l; q < end; q += l) {
        if (0x80 & ASN1_get_object(&q, &l, &tag, &cls, end - q)) return 0;
        if (V_ASN1_CONTEXT_SPECIFIC == cls && 1 == tag) {
            /* [1] EXPLICIT BIT STRING: no unused bits, then the point */
            if (0x80 & ASN1_get_object(&q, &l, &tag, &cls, end - q)
                || V_ASN1_BIT_STRING != tag || l != publen + 1 || q[0] != 0) {
                return 0;
            }
            return !memcmp(q + 1, pub, (size_t)publen);
        }
    }
    return 0;
}

static key_verdict pkey_pem_verdict(const md_cert_t *cert, const char *pem, apr_size_t len)
{
    X509_PUBKEY *xpub = X509_get_X509_PUBKEY(cert->x509);
    const unsigned char *pub, *priv, *q;
    const X509_ALGOR *cert_alg, *key_alg;
    ASN1_OBJECT *cert_obj;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    int publen, privlen;
    long derlen;
    BIO *bio;
    key_verdict verdict = KEY_UNSURE;

    if (!xpub || !X509_PUBKEY_get0_param(&cert_obj, &pub, &publen, (X509_ALGOR **)&cert_alg,
                                         xpub)) {
        return KEY_UNSURE;
    }
    ERR_set_mark();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio || !PEM_read_bio(bio, &name, &header, &der, &derlen)) goto leave;
    if (!strcmp(PEM_STRING_PKCS8INF, name)) {
        q = der;
        p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, derlen);
        if (!p8 || !PKCS8_pkey_get0(NULL, &priv, &privlen, &key_alg, p8)
            || X509_ALGOR_cmp(cert_alg, key_alg)) {
            goto leave;
        }
    }
    else if (!strcmp(PEM_STRING_RSA, name) && NID_rsaEncryption == OBJ_obj2nid(cert_obj)) {
        priv = der;
        privlen = (int)derlen;
    }
    else {
        goto leave;
    }
    switch (OBJ_obj2nid(cert_obj)) {
        case NID_rsaEncryption:
            /* RSAPrivateKey: version, n, e, ...; RSAPublicKey: n, e */
            if (seq_ints_equal(priv, privlen, 1, pub, publen, 0, 2)) {
                verdict = KEY_SAME;
            }
            break;
        case NID_X9_62_id_ecPublicKey:
            /* the curve is in the algorithm parameters compared above */
            if (ec_priv_has_point(priv, privlen, pub, publen)) {
                verdict = KEY_SAME;
            }
            break;
        default:
            break;
    }
leave:
    PKCS8_PRIV_KEY_INFO_free(p8);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    ERR_pop_to_mark();
    return verdict;
}

apr_status_t md_cert_fcheck_pkey(int *pmatch, const md_cert_t *cert, const char *fname,
                                 apr_pool_t *p)
{
    md_pkey_t *pkey;
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    *pmatch = 0;
    rv = md_util_fread_all(&data, &len, fname, MD_PKEY_FILE_MAX, p);
    if (APR_SUCCESS != rv) return rv;
    if (KEY_SAME == pkey_pem_verdict(cert, data, len)) {
        *pmatch = 1;
        return APR_SUCCESS;
    }
    rv = md_pkey_read_pem(&pkey, p, NULL, 0, data, len);
    if (APR_SUCCESS != rv) return rv;
    *pmatch = (APR_SUCCESS == md_cert_check_pkey(cert, pkey));
    return APR_SUCCESS;
}
