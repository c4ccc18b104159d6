/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * JSON Web Signatures as ACME needs them (RFC 7515 flattened JSON form,
 * RFC 8555 6.2): requests signed with the account key (jwk or kid), and the
 * HS256 inner JWS of an External Account Binding (RFC 8555 7.3.4).
 */
#ifndef md_jws_h
#define md_jws_h

#include <apr_pools.h>

#include "md_crypto.h"

struct md_json_t;
struct md_data_t;

/* Problem ids for EAB failures (job.json "last.problem"). */
#define MD_PROBLEM_EAB_HMAC_INVALID  "apache:eab-hmac-invalid"
#define MD_PROBLEM_EAB_HMAC_FAIL     "apache:eab-hmac-fail"

/* Signs payload (len bytes; "" with len 0 is ACME's POST-as-GET) with pkey.
 * The protected header carries "alg", then "jwk" (kid == NULL) or "kid",
 * then "nonce" and "url" (each only when not NULL). The result is
 * {"protected": .., "payload": .., "signature": ..} in pool p. */
apr_status_t md_jws_sign(struct md_json_t **pmsg, apr_pool_t *p,
                         const char *payload, apr_size_t len,
                         const char *nonce, const char *url,
                         md_pkey_t *pkey, const char *kid);

/* The External Account Binding object for a newAccount request: an HS256
 * JWS over the account key's JWK, protected header {"alg": "HS256",
 * "kid": eab_kid, "url": url}, keyed by the base64url-decoded eab_hmac.
 * On failure *pproblem is MD_PROBLEM_EAB_HMAC_INVALID (the hmac does not
 * decode, APR_EINVAL) or MD_PROBLEM_EAB_HMAC_FAIL (signing failed). */
apr_status_t md_jws_eab(struct md_json_t **peab, const char **pproblem,
                        apr_pool_t *p, md_pkey_t *acct_key, const char *eab_kid,
                        const char *eab_hmac, const char *url);

/* The key authorization of a challenge token: "<token>.<JWK thumbprint>". */
apr_status_t md_jws_key_authz(const char **pauthz, apr_pool_t *p, md_pkey_t *acct_key,
                              const char *token);

#endif /* md_jws_h */
