/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Keys, certificates and certificate requests: generation, PEM files (with
 * the store's PKCS#8 encryption), the certificate facts that status and
 * renewal need, JWS signatures and digests. Implemented in md_crypto.c
 * (keys, JWS, digests), md_crypto_cert.c (certificates) and md_crypto_make.c
 * (CSRs, generated certificates); only they, md_ocsp.c and md_crypto_int.h
 * (their private OpenSSL-typed part) include OpenSSL headers; no OpenSSL
 * type appears here.
 */
#ifndef md_crypto_h
#define md_crypto_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_file_io.h>

#include "md.h"

struct md_json_t;
struct md_data_t;

typedef struct md_pkey_t md_pkey_t;     /* opaque, freed with its pool */
typedef struct md_cert_t md_cert_t;     /* opaque, freed with its pool */

/* Subjects of the generated certificates (contract.md 8.2). */
#define MD_FALLBACK_CN      "Apache Managed Domain Fallback"
#define MD_TLS_ALPN_01_CN   "tls-alpn-01-challenge"

/* Once per process, before any other call. All other functions are
 * thread-safe as long as an object is not used by two threads at once. */
apr_status_t md_crypt_init(apr_pool_t *pool);

apr_status_t md_rand_bytes(unsigned char *buf, apr_size_t len, apr_pool_t *p);

/* --- digests ---------------------------------------------------------------------- */
/* base64url (no padding) of SHA-256 over data. */
apr_status_t md_crypt_sha256_digest64(const char **pdigest64, apr_pool_t *p,
                                      const struct md_data_t *data);
/* lower-case hex of SHA-256 over data. */
apr_status_t md_crypt_sha256_digest_hex(const char **pdigesthex, apr_pool_t *p,
                                        const struct md_data_t *data);
/* base64url HMAC-SHA256 of data under the raw key (EAB, RFC 8555 7.3.4). */
apr_status_t md_crypt_hmac64(const char **pmac64, const struct md_data_t *key,
                             apr_pool_t *p, const char *data, apr_size_t len);

/* --- private keys ------------------------------------------------------------------- */
/* 1 if OpenSSL can generate a key on the configured curve name: NIST names
 * ("P-256", "P-384", "P-521"), "secp256r1", any OpenSSL EC short name
 * ("secp384r1", "prime256v1", "brainpoolP256r1"), X25519, X448, Ed25519,
 * Ed448 (case-insensitive for the names listed here). For config checks. */
int md_crypt_curve_known(const char *curve);

/* Generates a key for the spec (Default/RSA bits/EC curve; NULL = default).
 * RSA bits 0 means 2048; fewer than 2048 is APR_EINVAL. Unknown curves give
 * APR_ENOTIMPL (logged with the curve name). The key is freed with p. */
apr_status_t md_pkey_gen(md_pkey_t **ppkey, apr_pool_t *p, const md_pkey_spec_t *spec);

/* Loads a PEM key (PKCS#8 plain or encrypted, or traditional RSA/EC). pass
 * is the raw passphrase (may contain NUL), NULL/0 for plain keys; OpenSSL
 * never prompts. APR_ENOENT if the file is missing, APR_EINVAL if it is
 * no key or the passphrase is wrong (logged at ERR). Freed with p. */
apr_status_t md_pkey_fload(md_pkey_t **ppkey, apr_pool_t *p,
                           const char *pass, apr_size_t pass_len, const char *fname);
/* md_pkey_fload with md_util_fread flags (MD_FREAD_NOFOLLOW). */
apr_status_t md_pkey_floadx(md_pkey_t **ppkey, apr_pool_t *p, const char *pass,
                            apr_size_t pass_len, const char *fname, int flags);
apr_status_t md_pkey_read_pem(md_pkey_t **ppkey, apr_pool_t *p,
                              const char *pass, apr_size_t pass_len,
                              const char *pem, apr_size_t len);
/* Saves as PKCS#8 PEM; with pass: encrypted with PBES2/PBKDF2-HMAC-SHA256
 * (2048 iterations) and AES-256-CBC (contract.md 1.6). Atomic replace
 * (md_util_freplace) with perms = APR permission bits (APR_FPROT_*, i.e.
 * 0x0600, not octal 0600). */
apr_status_t md_pkey_fsave(md_pkey_t *pkey, apr_pool_t *p,
                           const char *pass, apr_size_t pass_len,
                           const char *fname, apr_fileperms_t perms);
apr_status_t md_pkey_to_pem(const char **ppem, md_pkey_t *pkey, apr_pool_t *p,
                            const char *pass, apr_size_t pass_len);

/* Type facts about a key. md_pkey_is_ec is 1 only for EC (NIST etc.)
 * curves, not for X25519/Ed25519. md_pkey_type_name: "RSA", the curve's
 * OpenSSL short name ("prime256v1", "secp384r1"), or the OpenSSL key type
 * ("X25519", "ED25519"). */
int md_pkey_is_rsa(const md_pkey_t *pkey);
int md_pkey_is_ec(const md_pkey_t *pkey);
unsigned int md_pkey_bits(const md_pkey_t *pkey);
const char *md_pkey_type_name(const md_pkey_t *pkey);

/* JWS: the public JWK ({"e","kty","n"} or {"crv","kty","x","y"}, members in
 * RFC 7638 order; {"crv","kty","x"} OKP for Ed25519/Ed448; NULL for keys
 * without a JWS form, e.g. X25519 or non-NIST curves), its RFC 7638
 * thumbprint (base64url SHA-256; APR_ENOTIMPL without JWK), the "alg" to use
 * (RS256, ES256, ES384, ES512, EdDSA; NULL if none) and the base64url
 * signature over data in JWS form (PKCS#1 v1.5 for RSA, raw R||S with
 * halves padded to the curve size for ECDSA). */
struct md_json_t *md_pkey_get_jwk(md_pkey_t *pkey, apr_pool_t *p);
apr_status_t md_pkey_jwk_thumbprint(const char **pthumb64, md_pkey_t *pkey,
                                    apr_pool_t *p);
const char *md_pkey_jws_alg(const md_pkey_t *pkey);
apr_status_t md_pkey_jws_sign(const char **psig64, md_pkey_t *pkey, apr_pool_t *p,
                              const char *data, apr_size_t len);

/* --- certificates --------------------------------------------------------------------- */
/* Another reference to cert's certificate, owned by p. */
md_cert_t *md_cert_dup(const md_cert_t *cert, apr_pool_t *p);
/* The leaf of a chain file, checking without decoding them that the
 * certificates after it are well-formed: APR_ENOENT when the file holds no
 * certificate and is small, APR_EINVAL for larger junk or a broken
 * certificate after the first. Cheaper than md_chain_fload. */
apr_status_t md_chain_fload_leaf(md_cert_t **pleaf, apr_pool_t *p, const char *fname);
/* Loads the first certificate of a PEM file (rules of md_chain_fload;
 * APR_ENOENT also when the file holds no certificate). */
apr_status_t md_cert_fload(md_cert_t **pcert, apr_pool_t *p, const char *fname);
/* Loads all certificates of a PEM file into certs (md_cert_t*). A file of
 * 1024 bytes or more without any certificate is APR_EINVAL; a smaller one
 * gives an empty array (APR_SUCCESS). APR_ENOENT if missing. */
apr_status_t md_chain_fload(apr_array_header_t **pcerts, apr_pool_t *p,
                            const char *fname);
/* md_chain_fload with md_util_fread flags (MD_FREAD_NOFOLLOW). */
apr_status_t md_chain_floadx(apr_array_header_t **pcerts, apr_pool_t *p,
                             const char *fname, int flags);
apr_status_t md_chain_read_pem(apr_array_header_t *certs, apr_pool_t *p,
                               const char *pem, apr_size_t len);
/* Writes the chain to a temp file and renames it over fname (md_util_freplace:
 * fsynced, mode perms = APR permission bits). fappend writes the file's
 * certificates and certs the same way (keeping its mode; 0644 when new). */
apr_status_t md_chain_fsave(apr_array_header_t *certs, apr_pool_t *p,
                            const char *fname, apr_fileperms_t perms);
apr_status_t md_chain_fappend(apr_array_header_t *certs, apr_pool_t *p, const char *fname);
apr_status_t md_cert_to_pem(const char **ppem, const md_cert_t *cert, apr_pool_t *p);
apr_status_t md_chain_to_pem(const char **ppem, apr_array_header_t *certs, apr_pool_t *p);
/* DER bytes, and DER from base64url. */
apr_status_t md_cert_to_der(struct md_data_t *der, const md_cert_t *cert, apr_pool_t *p);
apr_status_t md_cert_read_der(md_cert_t **pcert, apr_pool_t *p,
                              const char *der, apr_size_t len);

apr_time_t md_cert_get_not_before(const md_cert_t *cert);
apr_time_t md_cert_get_not_after(const md_cert_t *cert);
int md_cert_has_expired(const md_cert_t *cert, apr_time_t now);
/* Subject alternative DNS names (and IP addresses as text), in certificate
 * order; empty array without SAN extension. */
apr_status_t md_cert_get_alt_names(apr_array_header_t **pnames, const md_cert_t *cert,
                                   apr_pool_t *p);
/* 1 if the certificate's SANs cover the name (wildcard SANs match one label). */
int md_cert_covers_domain(const md_cert_t *cert, const char *domain, apr_pool_t *p);
/* 1 if it covers every domain of md. */
int md_cert_covers_md(const md_cert_t *cert, const md_t *md, apr_pool_t *p);
/* Whether chain (leaf first) is what an order for md must bring:
 * the leaf's SANs are names of md and cover all of them, it has not
 * expired at now and does not start more than a day after now, and the
 * next certificate (when there is one) signed it. APR_EINVAL with *pwhy
 * naming what did not match ("it is for 'x.org', ..."), else NULL. */
apr_status_t md_chain_check_for_md(const char **pwhy, const apr_array_header_t *chain,
                                   const md_t *md, apr_time_t now, apr_pool_t *p);
/* Serial as upper-case hex without leading zeros (BN_bn2hex). */
const char *md_cert_get_serial_number(const md_cert_t *cert, apr_pool_t *p);
/* Lower-case hex SHA-256 / SHA-1 of the DER certificate. */
apr_status_t md_cert_to_sha256_fingerprint(const char **pfp, const md_cert_t *cert,
                                           apr_pool_t *p);
apr_status_t md_cert_to_sha1_hex(const char **phex, const md_cert_t *cert,
                                 apr_pool_t *p);
/* Issuer in OpenSSL one-line form ("/CN=..."). */
const char *md_cert_get_issuer_name(const md_cert_t *cert, apr_pool_t *p);
/* First AIA "CA Issuers" / "OCSP" URI, NULL when absent. */
const char *md_cert_get_issuer_uri(const md_cert_t *cert, apr_pool_t *p);
const char *md_cert_get_ocsp_url(const md_cert_t *cert, apr_pool_t *p);
/* ARI certificate id: base64url(AKI keyid) "." base64url(serial bytes);
 * APR_ENOENT without AKI. */
apr_status_t md_cert_get_ari_cert_id(const char **pid, const md_cert_t *cert,
                                     apr_pool_t *p);
/* One signed certificate timestamp of a certificate's CT extension
 * (1.3.6.1.4.1.11129.2.4.2), as certificate-status shows it. */
typedef struct md_sct_t {
    int version;                    /* SCT version, 0 = v1 */
    const char *logid_hex;          /* lower-case hex of the log id */
    apr_time_t timestamp;           /* when the log signed it, 0 if not a date */
    const char *signature_hex;      /* lower-case hex of the signature */
    const char *signature_type;     /* OpenSSL short name, e.g. "ecdsa-with-SHA256" */
} md_sct_t;
/* The SCTs embedded in cert (md_sct_t*, in extension order) allocated in p;
 * an empty array when it has none or the extension cannot be parsed.
 * Always APR_SUCCESS. */
apr_status_t md_cert_get_scts(apr_array_header_t **pscts, const md_cert_t *cert,
                              apr_pool_t *p);
/* 1 if it carries the TLS feature (must-staple) extension. */
int md_cert_must_staple(const md_cert_t *cert);
/* 1 if cert's issuer name matches issuer's subject and issuer signed it. */
int md_cert_is_issued_by(const md_cert_t *cert, const md_cert_t *issuer);
/* APR_SUCCESS if the public key of the leaf (first) certificate belongs to
 * pkey, APR_EINVAL otherwise. */
apr_status_t md_cert_check_pkey(const md_cert_t *cert, md_pkey_t *pkey);
/* The same check for the unencrypted PEM key in file fname, cheap for the
 * PKCS#8 and RSA files mod_md and certbot write (the public parts are
 * compared without loading the key; other files are loaded). APR_SUCCESS
 * with *pmatch 1 if it belongs to cert, 0 if not; APR_ENOENT if the file
 * is missing, another error if it cannot be read or parsed. */
apr_status_t md_cert_fcheck_pkey(int *pmatch, const md_cert_t *cert, const char *fname,
                                 apr_pool_t *p);

/* --- generated certificates (contract.md 8.2) ----------------------------------------- */
/* The self-signed fallback: CN cn (NULL = MD_FALLBACK_CN), SAN = domains,
 * valid from now for valid_for. X25519/X448 keys give APR_ENOTIMPL (they
 * cannot sign). Cheap: one signature with the given key. */
apr_status_t md_cert_make_fallback(md_cert_t **pcert, const char *cn,
                                   apr_array_header_t *domains, md_pkey_t *pkey,
                                   apr_interval_time_t valid_for, apr_pool_t *p);
/* The RFC 8737 tls-alpn-01 certificate for domain; acme_id is the
 * key authorization (hashed with SHA-256 into the acmeIdentifier). */
apr_status_t md_cert_make_tls_alpn_01(md_cert_t **pcert, const char *domain,
                                      const char *acme_id, md_pkey_t *pkey,
                                      apr_interval_time_t valid_for, apr_pool_t *p);
/* A CSR for the domains (CN = name if shorter than 64 characters), with
 * must-staple if requested, base64url DER in *pcsr64. */
apr_status_t md_cert_req_create(const char **pcsr64, const char *name,
                                apr_array_header_t *domains, int must_staple,
                                md_pkey_t *pkey, apr_pool_t *p);

/* --- a TLS probe (md_crypto_tls.c) ------------------------------------------------------ */
/* A TLS handshake with addr:port (numeric address) for servername (SNI),
 * offering the one ALPN protocol alpn (NULL: none), nothing verified: what
 * answers there. *palpn is the protocol the server selected ("" none,
 * also when it refused the offer with the no_application_protocol alert),
 * *pcert its leaf certificate (NULL none). Connection errors are returned
 * (APR_ECONNREFUSED, APR_TIMEUP, ...), a failed handshake is APR_EGENERAL
 * with the OpenSSL error in *perr. Waits at most timeout per step. */
apr_status_t md_tls_probe(const char **palpn, md_cert_t **pcert, const char **perr,
                          const char *addr, int port, const char *servername,
                          const char *alpn, apr_interval_time_t timeout, apr_pool_t *p);

/* Logs the failing OpenSSL call with the drained error queue at ERR and
 * returns APR_EGENERAL. */
apr_status_t md_crypt_log_error(apr_pool_t *p, const char *call);

#endif /* md_crypto_h */
