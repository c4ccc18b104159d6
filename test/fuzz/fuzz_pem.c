/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: PEM loading as the store does it. md_chain_read_pem on the
 * input, then every certificate fact the module reads (dates, SANs,
 * serial, issuer, AIA, ARI id, must-staple, fingerprints, chain order, key
 * match); md_pkey_read_pem (unencrypted) and the key's facts and JWK.
 */
#include "fuzz_common.h"

#include <apr_tables.h>

#include "md.h"
#include "md_json.h"
#include "md_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    apr_array_header_t *certs, *names;
    md_pkey_t *pkey = NULL;
    const char *s;
    int i;

    if (APR_SUCCESS == md_pkey_read_pem(&pkey, p, NULL, 0, (const char *)data, size)
        && pkey) {
        md_pkey_is_rsa(pkey);
        md_pkey_is_ec(pkey);
        md_pkey_bits(pkey);
        md_pkey_type_name(pkey);
        md_pkey_get_jwk(pkey, p);
    }
    certs = apr_array_make(p, 5, sizeof(md_cert_t *));
    if (APR_SUCCESS == md_chain_read_pem(certs, p, (const char *)data, size)) {
        for (i = 0; i < certs->nelts; ++i) {
            md_cert_t *cert = APR_ARRAY_IDX(certs, i, md_cert_t *);

            md_cert_get_not_before(cert);
            md_cert_get_not_after(cert);
            md_cert_has_expired(cert, apr_time_now());
            names = NULL;
            md_cert_get_alt_names(&names, cert, p);
            md_cert_covers_domain(cert, "www.fuzz.example", p);
            md_cert_get_serial_number(cert, p);
            md_cert_to_sha256_fingerprint(&s, cert, p);
            md_cert_to_sha1_hex(&s, cert, p);
            md_cert_get_issuer_name(cert, p);
            md_cert_get_issuer_uri(cert, p);
            md_cert_get_ocsp_url(cert, p);
            md_cert_get_ari_cert_id(&s, cert, p);
            md_cert_must_staple(cert);
            md_cert_to_pem(&s, cert, p);
            if (i > 0) {
                md_cert_is_issued_by(APR_ARRAY_IDX(certs, i - 1, md_cert_t *), cert);
            }
            if (pkey) {
                md_cert_check_pkey(cert, pkey);
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
