/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Private to the OpenSSL files of the core (md_crypto.c, md_crypto_cert.c,
 * md_crypto_make.c, md_crypto_tls.c, md_ocsp.c, md_crl.c) and the crypto
 * unit tests: the OpenSSL objects inside md_pkey_t and md_cert_t, and the
 * shared error helper. Nothing else includes this.
 */
#ifndef md_crypto_int_h
#define md_crypto_int_h

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "md_crypto.h"
#include "md_log.h"

/* Largest private key file we read. */
#define MD_PKEY_FILE_MAX        (1024 * 1024)

/* Logs "<call> failed: <drained OpenSSL error queue>" at level and returns
 * rv (md_crypt_log_error is this at ERR with APR_EGENERAL). */
apr_status_t md_crypt_error(apr_pool_t *p, md_log_level_t level, apr_status_t rv,
                            const char *call);

/* The bytes written into a memory BIO, as a pool string. */
const char *md_crypt_bio_pstr(BIO *bio, apr_pool_t *p);

/* Wrap key / x509, taking ownership: freed with p. */
md_pkey_t *md_pkey_wrap(apr_pool_t *p, EVP_PKEY *key);
md_cert_t *md_cert_wrap(apr_pool_t *p, X509 *x509);
/* The wrapped objects, owned by their wrapper. */
EVP_PKEY *md_pkey_get_evp(const md_pkey_t *pkey);
X509 *md_cert_get_x509(const md_cert_t *cert);

/* An ASN.1 UTCTime/GeneralizedTime as apr time (UTC), 0 if t is NULL or
 * cannot be read. */
apr_time_t md_asn1_time_get(const ASN1_TIME *t);

/* 1 for Ed25519/Ed448 keys (signatures without a separate digest). */
int md_crypt_is_eddsa(const EVP_PKEY *key);

#endif /* md_crypto_int_h */
