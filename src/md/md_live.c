/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Live activation: staging/NAME -> live/NAME (checked), live/NAME loaded
 * and checked again by each serving process, and back to staging at the
 * next start when a later renewal has replaced the staged set meanwhile.
 */
#include <string.h>
#include <apr_strings.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "md.h"
#include "md_crypto.h"
#include "md_crypto_int.h"
#include "md_json.h"
#include "md_live.h"
#include "md_log.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"

/* A certificate that starts to be valid this little after the local clock
 * is taken: the CA's clock may run a bit ahead of ours. */
#define MD_LIVE_CLOCK_LEEWAY    apr_time_from_sec(5 * 60)

/* Files of a staged set besides keys and chains that go along with it. */
#define MD_FN_ACCOUNT_JSON      "account.json"
#define MD_FN_ACCOUNT_PEM       "account.pem"

struct md_live_set_t {
    apr_array_header_t *pkeys;      /* md_pkey_t*, spec order */
    apr_array_header_t *chains;     /* apr_array_header_t* of md_cert_t* */
    STACK_OF(X509) **extra;         /* per spec: the chain after the leaf */
};

/* Reads the key and chain of every spec of md from group/name. */
static apr_status_t set_read(apr_array_header_t **ppkeys, apr_array_header_t **pchains,
                             md_store_t *store, md_store_group_t group, const char *name,
                             const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *pkeys, *chains, *chain;
    md_pkey_spec_t *spec;
    md_pkey_t *pkey;
    apr_status_t rv;
    int i, n = md_pkeys_spec_count(md->pks);

    pkeys = apr_array_make(p, n, sizeof(md_pkey_t *));
    chains = apr_array_make(p, n, sizeof(apr_array_header_t *));
    for (i = 0; i < n; ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        rv = md_store_chain_load(store, group, name, spec, &chain, p);
        if (APR_SUCCESS != rv) return rv;
        if (chain->nelts <= 0) return APR_ENOENT;
        rv = md_store_pkey_load(store, group, name, spec, &pkey, p);
        if (APR_SUCCESS != rv) return rv;
        APR_ARRAY_PUSH(pkeys, md_pkey_t *) = pkey;
        APR_ARRAY_PUSH(chains, apr_array_header_t *) = chain;
    }
    *ppkeys = pkeys;
    *pchains = chains;
    return APR_SUCCESS;
}

static md_cert_t *leaf_of(apr_array_header_t *chains, int i)
{
    return APR_ARRAY_IDX(APR_ARRAY_IDX(chains, i, apr_array_header_t *), 0, md_cert_t *);
}

apr_status_t md_live_check(const md_t *md, apr_array_header_t *pkeys,
                           apr_array_header_t *chains, apr_time_t now,
                           const char **perr, apr_pool_t *p)
{
    apr_array_header_t *chain;
    const char *spec, *why, *err = NULL;
    md_cert_t *leaf;
    int i;

    *perr = NULL;
    if (pkeys->nelts != md_pkeys_spec_count(md->pks) || chains->nelts != pkeys->nelts) {
        *perr = "the set does not have a certificate for every key type of the MD";
        return APR_EINVAL;
    }
    for (i = 0; i < chains->nelts && !err; ++i) {
        spec = md_pkey_spec_name(md_pkeys_spec_get(md->pks, i));
        chain = APR_ARRAY_IDX(chains, i, apr_array_header_t *);
        leaf = leaf_of(chains, i);
        if (APR_SUCCESS != md_cert_check_pkey(leaf, APR_ARRAY_IDX(pkeys, i, md_pkey_t *))) {
            err = apr_psprintf(p, "the %s private key does not match its certificate", spec);
        }
        else if (APR_SUCCESS != md_chain_check_for_md(&why, chain, md, now, p)) {
            /* the names, the expiry and the issuer, as before staging */
            err = apr_psprintf(p, "the %s certificate is not usable: %s", spec, why);
        }
        else if (md_cert_get_not_before(leaf) > now + MD_LIVE_CLOCK_LEEWAY) {
            err = apr_psprintf(p, "the %s certificate is not valid yet (valid from %s)",
                               spec, md_time_rfc822(p, md_cert_get_not_before(leaf)));
        }
    }
    *perr = err;
    return err ? APR_EINVAL : APR_SUCCESS;
}

/* 1 when the leaves of group/name are those of chains. */
static int same_leaves(md_store_t *store, md_store_group_t group, const char *name,
                       const md_t *md, apr_array_header_t *chains, apr_pool_t *p)
{
    apr_array_header_t *chain;
    const char *fp1, *fp2;
    int i;

    for (i = 0; i < chains->nelts; ++i) {
        if (APR_SUCCESS != md_store_chain_load(store, group, name,
                                               md_pkeys_spec_get(md->pks, i), &chain, p)
            || chain->nelts <= 0
            || APR_SUCCESS != md_cert_to_sha256_fingerprint(&fp1, leaf_of(chains, i), p)
            || APR_SUCCESS != md_cert_to_sha256_fingerprint(
                   &fp2, APR_ARRAY_IDX(chain, 0, md_cert_t *), p)
            || strcmp(fp1, fp2)) {
            return 0;
        }
    }
    return chains->nelts > 0;
}

int md_live_is_staged(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *pkeys, *chains;

    if (APR_SUCCESS != set_read(&pkeys, &chains, store, MD_SG_STAGING, md->name, md, p)) {
        return 0;
    }
    return same_leaves(store, MD_SG_LIVE, md->name, md, chains, p);
}

/* Copies aspect from one group/name to another when it exists. */
static apr_status_t copy_json(md_store_t *store, md_store_group_t from, const char *fname,
                              md_store_group_t to, const char *tname, const char *aspect,
                              apr_pool_t *p)
{
    md_json_t *json;
    apr_status_t rv;

    rv = md_store_load_json(store, from, fname, aspect, &json, p);
    if (APR_STATUS_IS_ENOENT(rv)) return APR_SUCCESS;
    if (APR_SUCCESS != rv) return rv;
    return md_store_save_json(store, p, to, tname, aspect, json, 1);
}

static apr_status_t copy_account_key(md_store_t *store, md_store_group_t from,
                                     const char *fname, md_store_group_t to,
                                     const char *tname, apr_pool_t *p)
{
    void *pkey;
    apr_status_t rv;

    rv = md_store_load(store, from, fname, MD_FN_ACCOUNT_PEM, MD_SV_PKEY, &pkey, p);
    if (APR_STATUS_IS_ENOENT(rv)) return APR_SUCCESS;
    if (APR_SUCCESS != rv) return rv;
    return md_store_save(store, p, to, tname, MD_FN_ACCOUNT_PEM, MD_SV_PKEY, pkey, 1);
}

/* Writes a whole set (md.json, account files, keys, chains) read from
 * from/fname to to/tname, which is purged first. */
static apr_status_t set_copy(md_store_t *store, const md_t *md, md_store_group_t from,
                             const char *fname, md_store_group_t to, const char *tname,
                             apr_array_header_t *pkeys, apr_array_header_t *chains,
                             apr_pool_t *p)
{
    md_pkey_spec_t *spec;
    apr_status_t rv;
    int i;

    rv = md_store_purge(store, p, to, tname);
    if (APR_SUCCESS != rv && !APR_STATUS_IS_ENOENT(rv)) return rv;
    rv = copy_json(store, from, fname, to, tname, MD_FN_MD, p);
    if (APR_SUCCESS == rv) {
        rv = copy_json(store, from, fname, to, tname, MD_FN_ACCOUNT_JSON, p);
    }
    if (APR_SUCCESS == rv) {
        rv = copy_account_key(store, from, fname, to, tname, p);
    }
    for (i = 0; APR_SUCCESS == rv && i < pkeys->nelts; ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        rv = md_store_pkey_save(store, p, to, tname, spec,
                                APR_ARRAY_IDX(pkeys, i, md_pkey_t *), 1);
        if (APR_SUCCESS == rv) {
            rv = md_store_chain_save(store, p, to, tname, spec,
                                     APR_ARRAY_IDX(chains, i, apr_array_header_t *), 1);
        }
    }
    return rv;
}

apr_status_t md_live_publish(md_store_t *store, const md_t *md, apr_time_t now,
                             const char **perr, apr_pool_t *p)
{
    apr_array_header_t *pkeys, *chains;
    const char *tmp = apr_pstrcat(p, md->name, "~", NULL);
    apr_status_t rv;

    *perr = NULL;
    rv = set_read(&pkeys, &chains, store, MD_SG_STAGING, md->name, md, p);
    if (APR_SUCCESS != rv) {
        *perr = "the staged set is not complete";
        return APR_STATUS_IS_ENOENT(rv) ? APR_ENOENT : rv;
    }
    if (same_leaves(store, MD_SG_LIVE, md->name, md, chains, p)) return APR_EEXIST;
    rv = md_live_check(md, pkeys, chains, now, perr, p);
    if (APR_SUCCESS != rv) return rv;
    rv = set_copy(store, md, MD_SG_STAGING, md->name, MD_SG_LIVE, tmp, pkeys, chains, p);
    if (APR_SUCCESS == rv) {
        rv = md_store_purge(store, p, MD_SG_LIVE, md->name);
        if (APR_STATUS_IS_ENOENT(rv)) {
            rv = APR_SUCCESS;
        }
    }
    if (APR_SUCCESS == rv) {
        rv = md_store_rename(store, p, MD_SG_LIVE, tmp, md->name);
    }
    if (APR_SUCCESS != rv) {
        *perr = "writing the set to live/ failed";
        md_store_purge(store, p, MD_SG_LIVE, tmp);
    }
    return rv;
}

/* --- serving ------------------------------------------------------------------------ */

static apr_status_t stacks_free(void *data)
{
    md_live_set_t *set = data;
    int i;

    for (i = 0; i < set->chains->nelts; ++i) {
        if (set->extra[i]) {
            sk_X509_pop_free(set->extra[i], X509_free);
        }
    }
    return APR_SUCCESS;
}

apr_status_t md_live_load(md_live_set_t **pset, md_store_t *store, const md_t *md,
                          apr_time_t now, const char **perr, apr_pool_t *p)
{
    apr_array_header_t *pkeys, *chains, *chain;
    md_live_set_t *set;
    X509 *x;
    apr_status_t rv;
    int i, j;

    *pset = NULL;
    *perr = NULL;
    rv = set_read(&pkeys, &chains, store, MD_SG_LIVE, md->name, md, p);
    if (APR_STATUS_IS_ENOENT(rv)) return APR_ENOENT;
    if (APR_SUCCESS != rv) {
        *perr = "the live set cannot be read";
        return rv;
    }
    rv = md_live_check(md, pkeys, chains, now, perr, p);
    if (APR_SUCCESS != rv) return rv;
    set = apr_pcalloc(p, sizeof(*set));
    set->pkeys = pkeys;
    set->chains = chains;
    set->extra = apr_pcalloc(p, sizeof(*set->extra) * (apr_size_t)chains->nelts);
    apr_pool_cleanup_register(p, set, stacks_free, apr_pool_cleanup_null);
    for (i = 0; i < chains->nelts; ++i) {
        chain = APR_ARRAY_IDX(chains, i, apr_array_header_t *);
        if (!(set->extra[i] = sk_X509_new_null())) return APR_ENOMEM;
        for (j = 1; j < chain->nelts; ++j) {
            x = md_cert_get_x509(APR_ARRAY_IDX(chain, j, md_cert_t *));
            if (!X509_up_ref(x)) return APR_ENOMEM;
            if (!sk_X509_push(set->extra[i], x)) {
                X509_free(x);
                return APR_ENOMEM;
            }
        }
    }
    *pset = set;
    return APR_SUCCESS;
}

apr_array_header_t *md_live_chains(const md_live_set_t *set)
{
    return set->chains;
}

const char *md_live_serial(const md_live_set_t *set, apr_pool_t *p)
{
    return md_cert_get_serial_number(leaf_of(set->chains, 0), p);
}

int md_live_apply(const md_live_set_t *set, void *ssl)
{
    int i, ok = 1;

    for (i = 0; i < set->chains->nelts; ++i) {
        /* up-references what it keeps: the set stays untouched */
        ok &= (1 == SSL_use_cert_and_key(ssl, md_cert_get_x509(leaf_of(set->chains, i)),
                                         md_pkey_get_evp(APR_ARRAY_IDX(set->pkeys, i,
                                                                       md_pkey_t *)),
                                         set->extra[i], 1));
    }
    return ok;
}

/* --- the next start ----------------------------------------------------------------- */

/* notAfter of the first leaf in domains/NAME, 0 when there is none. */
static apr_time_t domains_until(md_store_t *store, const md_t *md, apr_pool_t *p)
{
    apr_array_header_t *chain;

    if (APR_SUCCESS != md_store_chain_load(store, MD_SG_DOMAINS, md->name,
                                           md_pkeys_spec_get(md->pks, 0), &chain, p)
        || chain->nelts <= 0) {
        return 0;
    }
    return md_cert_get_not_after(APR_ARRAY_IDX(chain, 0, md_cert_t *));
}

int md_live_restage(md_store_t *store, const md_t *md, apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *pkeys, *chains;
    const char *err = NULL;
    apr_status_t rv;
    int restaged = 0;

    if (!md_store_exists(store, MD_SG_LIVE, md->name, NULL, p)) return 0;
    rv = set_read(&pkeys, &chains, store, MD_SG_LIVE, md->name, md, p);
    if (APR_SUCCESS == rv) {
        rv = md_live_check(md, pkeys, chains, now, &err, p);
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, rv, p, "AH10905: %s: the live set is "
                      "not usable (%s), removing it", md->name, err ? err : "unreadable");
    }
    else if (same_leaves(store, MD_SG_STAGING, md->name, md, chains, p)) {
        /* staging still holds it: activated as a staged set */
    }
    else if (md_cert_get_not_after(leaf_of(chains, 0)) > domains_until(store, md, p)) {
        rv = set_copy(store, md, MD_SG_LIVE, md->name, MD_SG_STAGING, md->name, pkeys,
                      chains, p);
        restaged = (APR_SUCCESS == rv);
        md_log_perror(MD_LOG_MARK, restaged ? MD_LOG_DEBUG : MD_LOG_WARNING, rv, p,
                      "AH10906: %s: the live set %s staging for activation", md->name,
                      restaged ? "goes back to" : "could not be written to");
    }
    md_store_purge(store, p, MD_SG_LIVE, md->name);
    return restaged;
}
