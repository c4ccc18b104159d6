/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Keys, certificates and CSRs on OpenSSL 3 (EVP and X509 APIs only, no
 * deprecated low-level calls). OpenSSL objects live in md_pkey_t/md_cert_t
 * wrappers whose pool cleanup frees them. Sections: errors and digests,
 * private keys, JWS helpers, certificate files, certificate facts,
 * generated certificates and CSRs.
 */
#define OPENSSL_API_COMPAT 30000

#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "md.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_log.h"
#include "md_util.h"

/* Largest PEM/DER file we read (keys, chains). */
#define MD_CRYPT_FILE_MAX       (1024 * 1024)
/* A chain file of this size or more must hold a certificate. */
#define MD_CHAIN_EMPTY_MAX      1024
#define MD_ACME_ID_OID          "1.3.6.1.5.5.7.1.31"
#define MD_TLS_FEATURE_STATUS_REQUEST 5

struct md_pkey_t {
    apr_pool_t *p;
    EVP_PKEY *pkey;
};

struct md_cert_t {
    apr_pool_t *p;
    X509 *x509;
};

/* --- errors, init, random, digests ------------------------------------------------ */

static apr_status_t crypt_error(apr_pool_t *p, md_log_level_t level,
                                apr_status_t rv, const char *call)
{
    char buf[256];
    const char *msg = "", *data;
    unsigned long e;
    int flags;

    while (0 != (e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags))) {
        ERR_error_string_n(e, buf, sizeof(buf));
        if ((flags & ERR_TXT_STRING) && data && *data) {
            msg = apr_psprintf(p, "%s%s%s (%s)", msg, *msg ? "; " : "", buf, data);
        }
        else {
            msg = apr_psprintf(p, "%s%s%s", msg, *msg ? "; " : "", buf);
        }
    }
    md_log_perror(MD_LOG_MARK, level, rv, p, "%s failed: %s", call,
                  *msg ? msg : "no OpenSSL error reported");
    return rv;
}

apr_status_t md_crypt_log_error(apr_pool_t *p, const char *call)
{
    return crypt_error(p, MD_LOG_ERR, APR_EGENERAL, call);
}

apr_status_t md_crypt_init(apr_pool_t *pool)
{
    (void)pool;
    if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS
                             | OPENSSL_INIT_ADD_ALL_CIPHERS
                             | OPENSSL_INIT_ADD_ALL_DIGESTS, NULL)) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t md_rand_bytes(unsigned char *buf, apr_size_t len, apr_pool_t *p)
{
    if (1 != RAND_bytes(buf, (int)len)) return md_crypt_log_error(p, "RAND_bytes");
    return APR_SUCCESS;
}

static apr_status_t sha256(unsigned char md[EVP_MAX_MD_SIZE], unsigned int *pmdlen,
                           const char *data, apr_size_t len, apr_pool_t *p)
{
    if (1 != EVP_Digest(data, len, md, pmdlen, EVP_sha256(), NULL)) {
        return md_crypt_log_error(p, "EVP_Digest(sha256)");
    }
    return APR_SUCCESS;
}

apr_status_t md_crypt_sha256_digest64(const char **pdigest64, apr_pool_t *p,
                                      const md_data_t *data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    apr_status_t rv;

    rv = sha256(md, &mdlen, data->data, data->len, p);
    *pdigest64 = (APR_SUCCESS == rv) ?
        md_util_base64url_encode((const char *)md, mdlen, p) : NULL;
    return rv;
}

apr_status_t md_crypt_sha256_digest_hex(const char **pdigesthex, apr_pool_t *p,
                                        const md_data_t *data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    apr_status_t rv;

    rv = sha256(md, &mdlen, data->data, data->len, p);
    *pdigesthex = (APR_SUCCESS == rv) ? md_util_hex(md, mdlen, p) : NULL;
    return rv;
}

apr_status_t md_crypt_hmac64(const char **pmac64, const md_data_t *key,
                             apr_pool_t *p, const char *data, apr_size_t len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;

    *pmac64 = NULL;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key->data, key->len,
                   (const unsigned char *)data, len, mac, sizeof(mac), &maclen)) {
        return md_crypt_log_error(p, "EVP_Q_mac(HMAC-SHA256)");
    }
    *pmac64 = md_util_base64url_encode((const char *)mac, maclen, p);
    return APR_SUCCESS;
}

/* --- curves ------------------------------------------------------------------------- */

/* Names as users configure them that OpenSSL does not resolve itself. */
static const struct {
    const char *name;
    int nid;
} curve_aliases[] = {
    { "P-192",      NID_X9_62_prime192v1 },
    { "secp192r1",  NID_X9_62_prime192v1 },
    { "P-224",      NID_secp224r1 },
    { "P-256",      NID_X9_62_prime256v1 },
    { "secp256r1",  NID_X9_62_prime256v1 },
    { "P-384",      NID_secp384r1 },
    { "P-521",      NID_secp521r1 },
    { "X25519",     NID_X25519 },
    { "X448",       NID_X448 },
    { "Ed25519",    NID_ED25519 },
    { "Ed448",      NID_ED448 },
};

static int is_raw_key_nid(int nid)
{
    return NID_X25519 == nid || NID_X448 == nid
        || NID_ED25519 == nid || NID_ED448 == nid;
}

static int is_builtin_ec_nid(int nid)
{
    EC_builtin_curve *curves;
    size_t i, n = EC_get_builtin_curves(NULL, 0);
    int found = 0;

    curves = OPENSSL_malloc(n * sizeof(*curves));
    if (!curves) return 0;
    n = EC_get_builtin_curves(curves, n);
    for (i = 0; i < n && !found; ++i) {
        found = (curves[i].nid == nid);
    }
    OPENSSL_free(curves);
    return found;
}

/* The OpenSSL NID for a configured curve name, NID_undef if unknown. */
static int curve_nid(const char *curve)
{
    char lower[64];
    size_t i;
    int nid;

    if (!curve || !*curve) return NID_undef;
    for (i = 0; i < sizeof(curve_aliases)/sizeof(curve_aliases[0]); ++i) {
        if (!apr_strnatcasecmp(curve_aliases[i].name, curve)) {
            return curve_aliases[i].nid;
        }
    }
    nid = EC_curve_nist2nid(curve);
    if (NID_undef == nid) nid = OBJ_sn2nid(curve);
    if (NID_undef == nid) nid = OBJ_ln2nid(curve);
    if (NID_undef == nid && strlen(curve) < sizeof(lower)) {
        apr_cpystrn(lower, curve, sizeof(lower));
        md_util_str_tolower(lower);
        nid = OBJ_sn2nid(lower);
    }
    if (NID_undef == nid) return NID_undef;
    if (is_raw_key_nid(nid) || is_builtin_ec_nid(nid)) return nid;
    return NID_undef;
}

int md_crypt_curve_known(const char *curve)
{
    return NID_undef != curve_nid(curve);
}

/* --- private keys ------------------------------------------------------------------- */

static apr_status_t pkey_cleanup(void *data)
{
    md_pkey_t *pkey = data;

    if (pkey->pkey) {
        EVP_PKEY_free(pkey->pkey);
        pkey->pkey = NULL;
    }
    return APR_SUCCESS;
}

/* Wraps key (taking ownership) into a pool-managed md_pkey_t. */
static md_pkey_t *pkey_wrap(apr_pool_t *p, EVP_PKEY *key)
{
    md_pkey_t *pkey = apr_pcalloc(p, sizeof(*pkey));

    pkey->p = p;
    pkey->pkey = key;
    apr_pool_cleanup_register(p, pkey, pkey_cleanup, apr_pool_cleanup_null);
    return pkey;
}

md_pkey_t *md_pkey_make(apr_pool_t *p, void *evp_pkey)
{
    return pkey_wrap(p, evp_pkey);
}

void *md_pkey_get_EVP_PKEY(const md_pkey_t *pkey)
{
    return pkey->pkey;
}

static apr_status_t gen_rsa(EVP_PKEY **pkey, unsigned int bits, apr_pool_t *p)
{
    if (0 == bits) bits = MD_PKEY_RSA_BITS_DEFAULT;
    if (bits < MD_PKEY_RSA_BITS_MIN) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p,
                      "RSA key size %u is smaller than %u", bits, MD_PKEY_RSA_BITS_MIN);
        return APR_EINVAL;
    }
    *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (!*pkey) return md_crypt_log_error(p, "EVP_PKEY_Q_keygen(RSA)");
    return APR_SUCCESS;
}

static apr_status_t gen_curve(EVP_PKEY **pkey, const char *curve, apr_pool_t *p)
{
    int nid = curve_nid(curve);

    if (NID_undef == nid) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_ENOTIMPL, p,
                      "unknown curve '%s': not supported by OpenSSL",
                      curve ? curve : "(none)");
        return APR_ENOTIMPL;
    }
    if (is_raw_key_nid(nid)) {
        *pkey = EVP_PKEY_Q_keygen(NULL, NULL, OBJ_nid2sn(nid));
    }
    else {
        *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", OBJ_nid2sn(nid));
    }
    if (!*pkey) {
        crypt_error(p, MD_LOG_ERR, APR_ENOTIMPL,
                    apr_psprintf(p, "EVP_PKEY_Q_keygen(curve %s)", curve));
        return APR_ENOTIMPL;
    }
    return APR_SUCCESS;
}

apr_status_t md_pkey_gen(md_pkey_t **ppkey, apr_pool_t *p, const md_pkey_spec_t *spec)
{
    EVP_PKEY *key = NULL;
    apr_status_t rv;

    switch (spec ? spec->type : MD_PKEY_TYPE_DEFAULT) {
        case MD_PKEY_TYPE_RSA:
            rv = gen_rsa(&key, spec->bits, p);
            break;
        case MD_PKEY_TYPE_EC:
            rv = gen_curve(&key, spec->curve, p);
            break;
        default:
            rv = gen_rsa(&key, MD_PKEY_RSA_BITS_DEFAULT, p);
            break;
    }
    *ppkey = (APR_SUCCESS == rv) ? pkey_wrap(p, key) : NULL;
    return rv;
}

typedef struct {
    const char *pass;
    apr_size_t len;
} pass_ctx;

/* Hands OpenSSL exactly len raw bytes (they may contain NUL); fails
 * without a passphrase so OpenSSL never prompts on a terminal. */
static int pass_cb(char *buf, int size, int rwflag, void *baton)
{
    pass_ctx *ctx = baton;

    (void)rwflag;
    if (!ctx || !ctx->pass || !ctx->len || ctx->len > (apr_size_t)size) return -1;
    memcpy(buf, ctx->pass, ctx->len);
    return (int)ctx->len;
}

apr_status_t md_pkey_read_pem(md_pkey_t **ppkey, apr_pool_t *p,
                              const char *pass, apr_size_t pass_len,
                              const char *pem, apr_size_t len)
{
    pass_ctx ctx;
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;
    apr_status_t rv = APR_SUCCESS;

    ctx.pass = pass;
    ctx.len = pass ? pass_len : 0;
    ERR_set_mark();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) {
        rv = md_crypt_log_error(p, "BIO_new_mem_buf");
        goto leave;
    }
    key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &ctx);
    if (!key) {
        rv = crypt_error(p, MD_LOG_ERR, APR_EINVAL, ctx.len ?
                         "PEM_read_bio_PrivateKey (encrypted or not)" :
                         "PEM_read_bio_PrivateKey (without passphrase)");
        goto leave;
    }
leave:
    ERR_pop_to_mark();
    BIO_free(bio);
    *ppkey = (APR_SUCCESS == rv) ? pkey_wrap(p, key) : NULL;
    return rv;
}

apr_status_t md_pkey_fload(md_pkey_t **ppkey, apr_pool_t *p,
                           const char *pass, apr_size_t pass_len, const char *fname)
{
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    *ppkey = NULL;
    rv = md_util_fread_all(&data, &len, fname, MD_CRYPT_FILE_MAX, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_pkey_read_pem(ppkey, p, pass, pass_len, data, len);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "error loading private key %s",
                      fname);
    }
leave:
    return rv;
}

/* The bytes written into a memory BIO as a pool string. */
static const char *bio_pstr(BIO *bio, apr_pool_t *p)
{
    char *data;
    long len = BIO_get_mem_data(bio, &data);

    return (len > 0) ? apr_pstrmemdup(p, data, (apr_size_t)len) : "";
}

apr_status_t md_pkey_to_pem(const char **ppem, md_pkey_t *pkey, apr_pool_t *p,
                            const char *pass, apr_size_t pass_len)
{
    pass_ctx ctx;
    BIO *bio;
    const EVP_CIPHER *cipher = NULL;
    apr_status_t rv = APR_SUCCESS;

    *ppem = NULL;
    ctx.pass = pass;
    ctx.len = pass ? pass_len : 0;
    if (ctx.len) cipher = EVP_aes_256_cbc();
    bio = BIO_new(BIO_s_mem());
    if (!bio) return md_crypt_log_error(p, "BIO_new");
    if (!PEM_write_bio_PKCS8PrivateKey(bio, pkey->pkey, cipher, NULL, 0,
                                       ctx.len ? pass_cb : NULL, ctx.len ? &ctx : NULL)) {
        rv = md_crypt_log_error(p, "PEM_write_bio_PKCS8PrivateKey");
        goto leave;
    }
    *ppem = bio_pstr(bio, p);
leave:
    BIO_free(bio);
    return rv;
}

static apr_status_t write_text_cb(void *baton, apr_file_t *f, apr_pool_t *p)
{
    const char *text = baton;
    apr_size_t written;

    (void)p;
    return apr_file_write_full(f, text, strlen(text), &written);
}

apr_status_t md_pkey_fsave(md_pkey_t *pkey, apr_pool_t *p,
                           const char *pass, apr_size_t pass_len,
                           const char *fname, apr_fileperms_t perms)
{
    const char *pem;
    apr_status_t rv;

    rv = md_pkey_to_pem(&pem, pkey, p, pass, pass_len);
    if (APR_SUCCESS != rv) return rv;
    return md_util_freplace(fname, perms, p, write_text_cb, (void *)pem);
}

int md_pkey_is_rsa(const md_pkey_t *pkey)
{
    return pkey && EVP_PKEY_is_a(pkey->pkey, "RSA");
}

int md_pkey_is_ec(const md_pkey_t *pkey)
{
    return pkey && EVP_PKEY_is_a(pkey->pkey, "EC");
}

unsigned int md_pkey_bits(const md_pkey_t *pkey)
{
    int bits = pkey ? EVP_PKEY_get_bits(pkey->pkey) : 0;

    return (bits > 0) ? (unsigned int)bits : 0;
}

static int pkey_is_eddsa(const EVP_PKEY *key)
{
    return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448");
}

static int pkey_can_sign(const EVP_PKEY *key)
{
    return !EVP_PKEY_is_a(key, "X25519") && !EVP_PKEY_is_a(key, "X448");
}

const char *md_pkey_type_name(const md_pkey_t *pkey)
{
    char name[80];
    int nid;

    if (md_pkey_is_rsa(pkey)) return "RSA";
    if (md_pkey_is_ec(pkey)) {
        if (!EVP_PKEY_get_group_name(pkey->pkey, name, sizeof(name), NULL)) return "EC";
        nid = OBJ_sn2nid(name);
        return (NID_undef != nid) ? OBJ_nid2sn(nid) : "EC";
    }
    return pkey ? EVP_PKEY_get0_type_name(pkey->pkey) : NULL;
}

/* --- JWS helpers ---------------------------------------------------------------------- */

/* The NIST name ("P-256") of an EC key's curve, NULL for other keys. */
static const char *pkey_nist_curve(const md_pkey_t *pkey)
{
    char name[80];
    int nid;

    if (!md_pkey_is_ec(pkey)) return NULL;
    if (!EVP_PKEY_get_group_name(pkey->pkey, name, sizeof(name), NULL)) return NULL;
    nid = OBJ_sn2nid(name);
    return (NID_undef != nid) ? EC_curve_nid2nist(nid) : NULL;
}

/* base64url of a BIGNUM parameter, left-padded with zeros to pad bytes
 * (0 = minimal length). */
static const char *bn_param64(const EVP_PKEY *key, const char *param, int pad,
                              apr_pool_t *p)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    const char *s = NULL;
    int len;

    if (!EVP_PKEY_get_bn_param(key, param, &bn)) goto leave;
    len = (pad > 0) ? pad : BN_num_bytes(bn);
    if (len <= 0) goto leave;
    buf = apr_palloc(p, (apr_size_t)len);
    if (BN_bn2binpad(bn, buf, len) != len) goto leave;
    s = md_util_base64url_encode((const char *)buf, (apr_size_t)len, p);
leave:
    BN_free(bn);
    return s;
}

static md_json_t *jwk_okp(const md_pkey_t *pkey, apr_pool_t *p)
{
    unsigned char buf[128];
    size_t len = sizeof(buf);
    md_json_t *jwk;

    if (!EVP_PKEY_get_raw_public_key(pkey->pkey, buf, &len)) return NULL;
    jwk = md_json_create(p);
    md_json_sets(EVP_PKEY_is_a(pkey->pkey, "ED25519") ? "Ed25519" : "Ed448",
                 jwk, "crv", NULL);
    md_json_sets("OKP", jwk, "kty", NULL);
    md_json_sets(md_util_base64url_encode((const char *)buf, len, p), jwk, "x", NULL);
    return jwk;
}

md_json_t *md_pkey_get_jwk(md_pkey_t *pkey, apr_pool_t *p)
{
    md_json_t *jwk = NULL;
    const char *a, *b, *crv;
    int size;

    if (md_pkey_is_rsa(pkey)) {
        a = bn_param64(pkey->pkey, OSSL_PKEY_PARAM_RSA_E, 0, p);
        b = bn_param64(pkey->pkey, OSSL_PKEY_PARAM_RSA_N, 0, p);
        if (!a || !b) goto leave;
        jwk = md_json_create(p);
        md_json_sets(a, jwk, "e", NULL);
        md_json_sets("RSA", jwk, "kty", NULL);
        md_json_sets(b, jwk, "n", NULL);
    }
    else if (NULL != (crv = pkey_nist_curve(pkey))) {
        size = (EVP_PKEY_get_bits(pkey->pkey) + 7) / 8;
        a = bn_param64(pkey->pkey, OSSL_PKEY_PARAM_EC_PUB_X, size, p);
        b = bn_param64(pkey->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, size, p);
        if (!a || !b) goto leave;
        jwk = md_json_create(p);
        md_json_sets(crv, jwk, "crv", NULL);
        md_json_sets("EC", jwk, "kty", NULL);
        md_json_sets(a, jwk, "x", NULL);
        md_json_sets(b, jwk, "y", NULL);
    }
    else if (pkey && pkey_is_eddsa(pkey->pkey)) {
        jwk = jwk_okp(pkey, p);
    }
leave:
    ERR_clear_error();
    return jwk;
}

apr_status_t md_pkey_jwk_thumbprint(const char **pthumb64, md_pkey_t *pkey,
                                    apr_pool_t *p)
{
    md_json_t *jwk = md_pkey_get_jwk(pkey, p);
    md_data_t data;

    *pthumb64 = NULL;
    if (!jwk) return APR_ENOTIMPL;
    data.data = md_json_writep(jwk, p, MD_JSON_FMT_COMPACT);
    if (!data.data) return APR_EINVAL;
    data.len = strlen(data.data);
    return md_crypt_sha256_digest64(pthumb64, p, &data);
}

const char *md_pkey_jws_alg(const md_pkey_t *pkey)
{
    const char *crv;

    if (md_pkey_is_rsa(pkey)) return "RS256";
    if (NULL != (crv = pkey_nist_curve(pkey))) {
        if (!strcmp("P-256", crv)) return "ES256";
        if (!strcmp("P-384", crv)) return "ES384";
        if (!strcmp("P-521", crv)) return "ES512";
        return NULL;
    }
    if (pkey && pkey_is_eddsa(pkey->pkey)) return "EdDSA";
    return NULL;
}

static const EVP_MD *jws_md(const char *alg)
{
    if (!strcmp("ES384", alg)) return EVP_sha384();
    if (!strcmp("ES512", alg)) return EVP_sha512();
    if (!strcmp("EdDSA", alg)) return NULL;
    return EVP_sha256();
}

/* DER ECDSA-Sig-Value to JWS R||S, each half size bytes. */
static apr_status_t ecdsa_der_to_raw(md_data_t *raw, const unsigned char *der,
                                     size_t len, int size, apr_pool_t *p)
{
    const unsigned char *q = der;
    const BIGNUM *r, *s;
    ECDSA_SIG *sig;
    unsigned char *buf;
    apr_status_t rv = APR_SUCCESS;

    sig = d2i_ECDSA_SIG(NULL, &q, (long)len);
    if (!sig) return md_crypt_log_error(p, "d2i_ECDSA_SIG");
    ECDSA_SIG_get0(sig, &r, &s);
    buf = apr_palloc(p, 2 * (apr_size_t)size);
    if (BN_bn2binpad(r, buf, size) != size || BN_bn2binpad(s, buf + size, size) != size) {
        rv = md_crypt_log_error(p, "BN_bn2binpad(ECDSA signature)");
        goto leave;
    }
    raw->data = (const char *)buf;
    raw->len = 2 * (apr_size_t)size;
leave:
    ECDSA_SIG_free(sig);
    return rv;
}

apr_status_t md_pkey_jws_sign(const char **psig64, md_pkey_t *pkey, apr_pool_t *p,
                              const char *data, apr_size_t len)
{
    const char *alg = md_pkey_jws_alg(pkey);
    EVP_MD_CTX *ctx = NULL;
    unsigned char *sig;
    size_t siglen = 0;
    md_data_t out = { NULL, 0 };
    apr_status_t rv = APR_SUCCESS;

    *psig64 = NULL;
    if (!alg) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_ENOTIMPL, p,
                      "no JWS algorithm for key type %s", md_pkey_type_name(pkey));
        return APR_ENOTIMPL;
    }
    ctx = EVP_MD_CTX_new();
    if (!ctx) return md_crypt_log_error(p, "EVP_MD_CTX_new");
    if (1 != EVP_DigestSignInit(ctx, NULL, jws_md(alg), NULL, pkey->pkey)
        || 1 != EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)data, len)) {
        rv = md_crypt_log_error(p, "EVP_DigestSignInit");
        goto leave;
    }
    sig = apr_palloc(p, siglen);
    if (1 != EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)data, len)) {
        rv = md_crypt_log_error(p, "EVP_DigestSign");
        goto leave;
    }
    if (md_pkey_is_ec(pkey)) {
        rv = ecdsa_der_to_raw(&out, sig, siglen,
                              (EVP_PKEY_get_bits(pkey->pkey) + 7) / 8, p);
        if (APR_SUCCESS != rv) goto leave;
    }
    else {
        out.data = (const char *)sig;
        out.len = siglen;
    }
    *psig64 = md_util_base64url_encode(out.data, out.len, p);
leave:
    EVP_MD_CTX_free(ctx);
    return rv;
}

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

static md_cert_t *cert_wrap(apr_pool_t *p, X509 *x509)
{
    md_cert_t *cert = apr_pcalloc(p, sizeof(*cert));

    cert->p = p;
    cert->x509 = x509;
    apr_pool_cleanup_register(p, cert, cert_cleanup, apr_pool_cleanup_null);
    return cert;
}

md_cert_t *md_cert_make(apr_pool_t *p, void *x509)
{
    return cert_wrap(p, x509);
}

void *md_cert_get_X509(const md_cert_t *cert)
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
        APR_ARRAY_PUSH(certs, md_cert_t *) = cert_wrap(p, x509);
    }
    err = ERR_peek_last_error();
    if (err && !(ERR_GET_LIB(err) == ERR_LIB_PEM
                 && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
        rv = crypt_error(p, MD_LOG_DEBUG, APR_EINVAL, "PEM_read_bio_X509");
    }
leave:
    ERR_pop_to_mark();
    BIO_free(bio);
    return rv;
}

apr_status_t md_chain_fload(apr_array_header_t **pcerts, apr_pool_t *p,
                            const char *fname)
{
    apr_array_header_t *certs = apr_array_make(p, 5, sizeof(md_cert_t *));
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    rv = md_util_fread_all(&data, &len, fname, MD_CRYPT_FILE_MAX, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_chain_read_pem(certs, p, data, len);
    if (APR_SUCCESS != rv && certs->nelts > 0) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "error reading certificate %d in %s", certs->nelts + 1, fname);
        goto leave;
    }
    if (0 == certs->nelts) {
        if (len >= MD_CHAIN_EMPTY_MAX) {
            rv = APR_EINVAL;
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                          "no certificate found in %s (%lu bytes)",
                          fname, (unsigned long)len);
            goto leave;
        }
        rv = APR_SUCCESS;
    }
leave:
    *pcerts = (APR_SUCCESS == rv) ? certs : NULL;
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
                      "no certificate in %s", fname);
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
    *ppem = bio_pstr(bio, p);
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

static apr_status_t chain_write(apr_array_header_t *certs, apr_pool_t *p,
                                const char *fname, apr_int32_t flags,
                                apr_fileperms_t perms)
{
    apr_file_t *f;
    const char *pem;
    apr_size_t written;
    apr_status_t rv, rv2;

    rv = md_chain_to_pem(&pem, certs, p);
    if (APR_SUCCESS != rv) return rv;
    rv = apr_file_open(&f, fname, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_BINARY
                       | flags, perms, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = apr_file_write_full(f, pem, strlen(pem), &written);
    rv2 = apr_file_close(f);
    if (APR_SUCCESS == rv) rv = rv2;
leave:
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "writing certificates to %s", fname);
    }
    return rv;
}

apr_status_t md_chain_fsave(apr_array_header_t *certs, apr_pool_t *p,
                            const char *fname, apr_fileperms_t perms)
{
    apr_status_t rv;

    rv = chain_write(certs, p, fname, APR_FOPEN_TRUNCATE, perms);
    if (APR_SUCCESS != rv) return rv;
    rv = apr_file_perms_set(fname, perms);
    return APR_STATUS_IS_ENOTIMPL(rv) ? APR_SUCCESS : rv;
}

apr_status_t md_chain_fappend(apr_array_header_t *certs, apr_pool_t *p, const char *fname)
{
    return chain_write(certs, p, fname, APR_FOPEN_APPEND, APR_FPROT_OS_DEFAULT);
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
    if (!x509) return crypt_error(p, MD_LOG_ERR, APR_EINVAL, "d2i_X509");
    *pcert = cert_wrap(p, x509);
    return APR_SUCCESS;
}

/* --- certificate facts ------------------------------------------------------------ */

static apr_time_t asn1_time_get(const ASN1_TIME *t)
{
    struct tm tm;
    apr_time_exp_t exp;
    apr_time_t at;

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
    return asn1_time_get(X509_get0_notBefore(cert->x509));
}

apr_time_t md_cert_get_not_after(const md_cert_t *cert)
{
    return asn1_time_get(X509_get0_notAfter(cert->x509));
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
        if (s) APR_ARRAY_PUSH(names, const char *) = s;
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

const char *md_cert_get_issuer_name(const md_cert_t *cert, apr_pool_t *p)
{
    char *line = X509_NAME_oneline(X509_get_issuer_name(cert->x509), NULL, 0);
    const char *s = line ? apr_pstrdup(p, line) : NULL;

    OPENSSL_free(line);
    return s;
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
    if (der[1] & 0x80) hlen += der[1] & 0x7f;
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
    int rc = pub && pkey && (1 == EVP_PKEY_eq(pub, pkey->pkey));

    ERR_clear_error();
    return rc ? APR_SUCCESS : APR_EINVAL;
}

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
    return pkey_is_eddsa(key) ? NULL : EVP_sha256();
}

static apr_status_t check_signing_key(md_pkey_t *pkey, const char *what, apr_pool_t *p)
{
    if (!pkey_can_sign(pkey->pkey)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_ENOTIMPL, p,
                      "%s: a %s key cannot sign", what, md_pkey_type_name(pkey));
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
    sbytes[0] &= 0x7f;
    sbytes[sizeof(sbytes) - 1] |= 0x01;
    if (!X509_set_version(x, X509_VERSION_3)) call = "X509_set_version";
    else if (!(bn = BN_bin2bn(sbytes, sizeof(sbytes), NULL))) call = "BN_bin2bn";
    else if (!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) call = "BN_to_ASN1_INTEGER";
    else if (!name_set_cn(X509_get_subject_name(x), cn)) call = "X509_NAME_add_entry";
    else if (!X509_set_issuer_name(x, X509_get_subject_name(x))) call = "X509_set_issuer_name";
    else if (!X509_set_pubkey(x, pkey->pkey)) call = "X509_set_pubkey";
    else if (!ASN1_TIME_set(X509_getm_notBefore(x), now)) call = "ASN1_TIME_set(notBefore)";
    else if (!ASN1_TIME_set(X509_getm_notAfter(x),
                            now + (time_t)apr_time_sec(valid_for))) {
        call = "ASN1_TIME_set(notAfter)";
    }
    else if (!(gens = san_make(domains))) call = "GENERAL_NAMES(SAN)";
    else if (1 != X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT)) {
        call = "X509_add1_ext_i2d(SAN)";
    }
    else if (!add_ext_conf(x, NID_basic_constraints, "critical,CA:FALSE")) {
        call = "X509V3_EXT_nconf(basicConstraints)";
    }
    if (call) rv = md_crypt_log_error(p, call);
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
    if (!X509_sign(x, pkey->pkey, sign_md(pkey->pkey))) {
        X509_free(x);
        *pcert = NULL;
        return md_crypt_log_error(p, "X509_sign");
    }
    *pcert = cert_wrap(p, x);
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
    apr_status_t rv;

    rv = sha256(value + 2, &mdlen, acme_id, strlen(acme_id), p);
    if (APR_SUCCESS != rv) return rv;
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

    if (!gens) call = "GENERAL_NAMES(SAN)";
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
    else if (!X509_REQ_add_extensions(req, exts)) call = "X509_REQ_add_extensions";
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
    if (!X509_REQ_set_version(req, X509_REQ_VERSION_1)) call = "X509_REQ_set_version";
    else if (name && strlen(name) < 64
             && !name_set_cn(X509_REQ_get_subject_name(req), name)) {
        call = "X509_NAME_add_entry(CN)";
    }
    else if (APR_SUCCESS != (rv = req_add_exts(req, domains, must_staple, p))) goto leave;
    else if (!X509_REQ_set_pubkey(req, pkey->pkey)) call = "X509_REQ_set_pubkey";
    else if (!X509_REQ_sign(req, pkey->pkey, sign_md(pkey->pkey))) call = "X509_REQ_sign";
    else if ((len = i2d_X509_REQ(req, &der)) <= 0) call = "i2d_X509_REQ";
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
