/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Keys on OpenSSL 3 (EVP APIs only, no deprecated low-level calls): error
 * reporting, digests, curve names, key generation and PEM files, JWK and
 * JWS signatures. The EVP_PKEY lives in an md_pkey_t whose pool cleanup
 * frees it. Certificates are in md_crypto_cert.c, CSRs in md_crypto_make.c.
 */
#define OPENSSL_API_COMPAT 30000

#include <string.h>

#include <apr_strings.h>
#include <apr_cstr.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "md.h"
#include "md_crypto.h"
#include "md_crypto_int.h"
#include "md_json.h"
#include "md_log.h"
#include "md_util.h"

/* Largest key file we read. */

struct md_pkey_t {
    apr_pool_t *p;
    EVP_PKEY *pkey;
};

/* --- errors, init, random, digests ------------------------------------------------ */

apr_status_t md_crypt_error(apr_pool_t *p, md_log_level_t level, apr_status_t rv,
                            const char *call)
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
    return md_crypt_error(p, MD_LOG_ERR, APR_EGENERAL, call);
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

/* *pdigest = the SHA-256 digest of data (allocated from p; empty on failure) */
static apr_status_t sha256(md_data_t *pdigest, const md_data_t *data, apr_pool_t *p)
{
    unsigned char *md = apr_palloc(p, EVP_MAX_MD_SIZE);
    unsigned int mdlen;

    pdigest->data = NULL;
    pdigest->len = 0;
    if (1 != EVP_Digest(data->data, data->len, md, &mdlen, EVP_sha256(), NULL)) {
        return md_crypt_log_error(p, "EVP_Digest(sha256)");
    }
    pdigest->data = (const char *)md;
    pdigest->len = mdlen;
    return APR_SUCCESS;
}

apr_status_t md_crypt_sha256_digest64(const char **pdigest64, apr_pool_t *p,
                                      const md_data_t *data)
{
    md_data_t digest;
    apr_status_t rv = sha256(&digest, data, p);

    *pdigest64 = (APR_SUCCESS == rv) ?
        md_util_base64url_encode(digest.data, digest.len, p) : NULL;
    return rv;
}

apr_status_t md_crypt_sha256_digest_hex(const char **pdigesthex, apr_pool_t *p,
                                        const md_data_t *data)
{
    md_data_t digest;
    apr_status_t rv = sha256(&digest, data, p);

    *pdigesthex = (APR_SUCCESS == rv) ?
        md_util_hex((const unsigned char *)digest.data, digest.len, p) : NULL;
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
    for (i = 0; i < MD_ARRAY_LEN(curve_aliases); ++i) {
        if (!apr_cstr_casecmp(curve_aliases[i].name, curve)) {
            return curve_aliases[i].nid;
        }
    }
    nid = EC_curve_nist2nid(curve);
    if (NID_undef == nid) {
        nid = OBJ_sn2nid(curve);
    }
    if (NID_undef == nid) {
        nid = OBJ_ln2nid(curve);
    }
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

md_pkey_t *md_pkey_wrap(apr_pool_t *p, EVP_PKEY *key)
{
    md_pkey_t *pkey = apr_pcalloc(p, sizeof(*pkey));

    pkey->p = p;
    pkey->pkey = key;
    apr_pool_cleanup_register(p, pkey, pkey_cleanup, apr_pool_cleanup_null);
    return pkey;
}

EVP_PKEY *md_pkey_get_evp(const md_pkey_t *pkey)
{
    return pkey->pkey;
}

static apr_status_t gen_rsa(EVP_PKEY **pkey, unsigned int bits, apr_pool_t *p)
{
    if (0 == bits) {
        bits = MD_PKEY_RSA_BITS_DEFAULT;
    }
    if (bits < MD_PKEY_RSA_BITS_MIN) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, p,
                      "AH10938: RSA key size %u is smaller than %u", bits, MD_PKEY_RSA_BITS_MIN);
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
                      "AH10939: unknown curve '%s': not supported by OpenSSL",
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
        md_crypt_error(p, MD_LOG_ERR, APR_ENOTIMPL,
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
    *ppkey = (APR_SUCCESS == rv) ? md_pkey_wrap(p, key) : NULL;
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
        rv = md_crypt_error(p, MD_LOG_ERR, APR_EINVAL, ctx.len ?
                         "PEM_read_bio_PrivateKey (encrypted or not)" :
                         "PEM_read_bio_PrivateKey (without passphrase)");
        goto leave;
    }
leave:
    ERR_pop_to_mark();
    BIO_free(bio);
    *ppkey = (APR_SUCCESS == rv) ? md_pkey_wrap(p, key) : NULL;
    return rv;
}

apr_status_t md_pkey_fload(md_pkey_t **ppkey, apr_pool_t *p,
                           const char *pass, apr_size_t pass_len, const char *fname)
{
    return md_pkey_floadx(ppkey, p, pass, pass_len, fname, 0);
}

apr_status_t md_pkey_floadx(md_pkey_t **ppkey, apr_pool_t *p, const char *pass,
                            apr_size_t pass_len, const char *fname, int flags)
{
    const char *data;
    apr_size_t len;
    apr_status_t rv;

    *ppkey = NULL;
    rv = md_util_fread(&data, &len, fname, MD_PKEY_FILE_MAX, flags, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_pkey_read_pem(ppkey, p, pass, pass_len, data, len);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10940: error loading private key %s",
                      fname);
    }
leave:
    return rv;
}

const char *md_crypt_bio_pstr(BIO *bio, apr_pool_t *p)
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
    if (ctx.len) {
        cipher = EVP_aes_256_cbc();
    }
    bio = BIO_new(BIO_s_mem());
    if (!bio) return md_crypt_log_error(p, "BIO_new");
    if (!PEM_write_bio_PKCS8PrivateKey(bio, pkey->pkey, cipher, NULL, 0,
                                       ctx.len ? pass_cb : NULL, ctx.len ? &ctx : NULL)) {
        rv = md_crypt_log_error(p, "PEM_write_bio_PKCS8PrivateKey");
        goto leave;
    }
    *ppem = md_crypt_bio_pstr(bio, p);
leave:
    BIO_free(bio);
    return rv;
}

apr_status_t md_pkey_fsave(md_pkey_t *pkey, apr_pool_t *p,
                           const char *pass, apr_size_t pass_len,
                           const char *fname, apr_fileperms_t perms)
{
    const char *pem;
    apr_status_t rv;

    rv = md_pkey_to_pem(&pem, pkey, p, pass, pass_len);
    if (APR_SUCCESS != rv) return rv;
    return md_text_freplace(fname, perms, p, pem);
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

int md_crypt_is_eddsa(const EVP_PKEY *key)
{
    return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448");
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
    else if (pkey && md_crypt_is_eddsa(pkey->pkey)) {
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
    if (pkey && md_crypt_is_eddsa(pkey->pkey)) return "EdDSA";
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
                      "AH10941: no JWS algorithm for key type %s", md_pkey_type_name(pkey));
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
