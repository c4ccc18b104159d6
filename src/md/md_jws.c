/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Builds ACME's flattened JWS messages: protected header and payload are
 * base64url encoded, the signing input "<protected>.<payload>" is signed by
 * md_crypto (account key) or HMAC-SHA256 (EAB). No key material is logged.
 */
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md_json.h"
#include "md_log.h"
#include "md_util.h"
#include "md_jws.h"

#define MD_KEY_ALG          "alg"
#define MD_KEY_JWK          "jwk"
#define MD_KEY_NONCE        "nonce"
#define MD_KEY_PROTECTED    "protected"
#define MD_KEY_PAYLOAD      "payload"
#define MD_KEY_SIGNATURE    "signature"

static md_json_t *jws_message(apr_pool_t *p, const char *prot64, const char *pay64,
                              const char *sig64)
{
    md_json_t *msg = md_json_create(p);

    md_json_sets(prot64, msg, MD_KEY_PROTECTED, NULL);
    md_json_sets(pay64, msg, MD_KEY_PAYLOAD, NULL);
    md_json_sets(sig64, msg, MD_KEY_SIGNATURE, NULL);
    return msg;
}

static const char *b64_json(md_json_t *json, apr_pool_t *p)
{
    const char *s = md_json_writep(json, p, MD_JSON_FMT_COMPACT);

    return s ? md_util_base64url_encode(s, strlen(s), p) : NULL;
}

apr_status_t md_jws_sign(md_json_t **pmsg, apr_pool_t *p,
                         const char *payload, apr_size_t len,
                         const char *nonce, const char *url,
                         md_pkey_t *pkey, const char *kid)
{
    md_json_t *prot = md_json_create(p), *jwk;
    const char *alg, *prot64, *pay64, *input, *sig64 = NULL;
    apr_status_t rv = APR_SUCCESS;

    alg = md_pkey_jws_alg(pkey);
    if (!alg) {
        rv = APR_ENOTIMPL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10955: jws: unsupported key type");
        goto leave;
    }
    md_json_sets(alg, prot, MD_KEY_ALG, NULL);
    if (kid) {
        md_json_sets(kid, prot, MD_KEY_KID, NULL);
    }
    else {
        jwk = md_pkey_get_jwk(pkey, p);
        if (!jwk) {
            rv = APR_EINVAL;
            goto leave;
        }
        md_json_setj(jwk, prot, MD_KEY_JWK, NULL);
    }
    if (nonce) {
        md_json_sets(nonce, prot, MD_KEY_NONCE, NULL);
    }
    if (url) {
        md_json_sets(url, prot, MD_KEY_URL, NULL);
    }

    prot64 = b64_json(prot, p);
    pay64 = len ? md_util_base64url_encode(payload, len, p) : "";
    input = apr_pstrcat(p, prot64, ".", pay64, NULL);
    rv = md_pkey_jws_sign(&sig64, pkey, p, input, strlen(input));
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10956: jws: signing with %s failed", alg);
    }
leave:
    *pmsg = (APR_SUCCESS == rv) ? jws_message(p, prot64, pay64, sig64) : NULL;
    return rv;
}

/* The HMAC key, decoded as the original does: the leading base64url
 * characters, up to the first one outside the alphabet ("ab$$" is "ab").
 * APR_EINVAL when that leaves no byte: then nothing goes to the CA. */
static apr_status_t decode_hmac(md_data_t *key, const char *hmac, apr_pool_t *p)
{
    apr_size_t n = 0;
    apr_status_t rv;

    while (hmac && (apr_isalnum(hmac[n]) || '-' == hmac[n] || '_' == hmac[n])) ++n;
    if (1 == n % 4) --n;        /* a lone trailing character is no byte */
    rv = md_util_base64url_decode(key, apr_pstrndup(p, hmac ? hmac : "", n), p);
    return (APR_SUCCESS == rv && key->len > 0) ? APR_SUCCESS : APR_EINVAL;
}

apr_status_t md_jws_eab(md_json_t **peab, const char **pproblem,
                        apr_pool_t *p, md_pkey_t *acct_key, const char *eab_kid,
                        const char *eab_hmac, const char *url)
{
    md_json_t *prot = md_json_create(p), *jwk;
    const char *prot64 = NULL, *pay64 = NULL, *input, *sig64 = NULL, *s;
    const char *problem = NULL;
    md_data_t key;
    apr_status_t rv;

    rv = decode_hmac(&key, eab_hmac, p);
    if (APR_SUCCESS != rv) {
        problem = MD_PROBLEM_EAB_HMAC_INVALID;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "AH10957: external account binding: the hmac value of kid '%s' "
                      "is not valid base64url", eab_kid ? eab_kid : "");
        goto leave;
    }
    jwk = md_pkey_get_jwk(acct_key, p);
    if (!jwk) {
        rv = APR_EINVAL;
        problem = MD_PROBLEM_EAB_HMAC_FAIL;
        goto leave;
    }
    md_json_sets("HS256", prot, MD_KEY_ALG, NULL);
    md_json_sets(eab_kid, prot, MD_KEY_KID, NULL);
    md_json_sets(url, prot, MD_KEY_URL, NULL);
    prot64 = b64_json(prot, p);
    s = md_json_writep(jwk, p, MD_JSON_FMT_COMPACT);
    pay64 = md_util_base64url_encode(s, strlen(s), p);
    input = apr_pstrcat(p, prot64, ".", pay64, NULL);
    rv = md_crypt_hmac64(&sig64, &key, p, input, strlen(input));
    if (APR_SUCCESS != rv) {
        problem = MD_PROBLEM_EAB_HMAC_FAIL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "AH10958: external account binding: hmac of kid '%s' failed", eab_kid);
    }
leave:
    *pproblem = problem;
    *peab = (APR_SUCCESS == rv) ? jws_message(p, prot64, pay64, sig64) : NULL;
    return rv;
}

apr_status_t md_jws_key_authz(const char **pauthz, apr_pool_t *p, md_pkey_t *acct_key,
                              const char *token)
{
    const char *thumb;
    apr_status_t rv;

    rv = md_pkey_jwk_thumbprint(&thumb, acct_key, p);
    *pauthz = (APR_SUCCESS == rv) ? apr_pstrcat(p, token, ".", thumb, NULL) : NULL;
    return rv;
}
