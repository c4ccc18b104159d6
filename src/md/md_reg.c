/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The registry: configured MDs meet the store. Start-up sync (renames,
 * carried-over data, md.json rewrite), state assessment, credential files
 * for mod_ssl and renewal timing. The activation of staged sets is in
 * md_reg_staging.c, the registry object in md_reg_int.h.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>

#include "md.h"
#include "md_crypto.h"
#include "md_log.h"
#include "md_reg.h"
#include "md_reg_int.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_time.h"
#include "md_util.h"

#define MD_FALLBACK_CN        "Apache Managed Domain Fallback"
#define MD_FALLBACK_VALID     apr_time_from_sec(14 * MD_SECS_PER_DAY)

static const md_timeslice_t default_renew_window = { 100 * APR_USEC_PER_SEC * MD_SECS_PER_DAY,
                                                     33 * APR_USEC_PER_SEC * MD_SECS_PER_DAY };
static const md_timeslice_t default_warn_window = { 100 * APR_USEC_PER_SEC * MD_SECS_PER_DAY,
                                                    10 * APR_USEC_PER_SEC * MD_SECS_PER_DAY };

static apr_status_t lp_cleanup(void *data)
{
    apr_pool_destroy(data);
    return APR_SUCCESS;
}

apr_status_t md_reg_create(md_reg_t **preg, apr_pool_t *p, md_store_t *store)
{
    md_reg_t *reg = apr_pcalloc(p, sizeof(*reg));
    apr_status_t rv;

    reg->p = p;
    reg->store = store;
    rv = apr_pool_create_unmanaged_ex(&reg->lp, NULL, NULL);
    if (APR_SUCCESS != rv) goto leave;
    apr_pool_cleanup_register(p, reg->lp, lp_cleanup, apr_pool_cleanup_null);
    reg->pubcerts = apr_hash_make(reg->lp);
    reg->fallback_keys = apr_hash_make(reg->lp);
    rv = apr_pool_create(&reg->certs_p, reg->lp);
    if (APR_SUCCESS == rv) {
        rv = apr_thread_mutex_create(&reg->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    }
leave:
    *preg = (APR_SUCCESS == rv) ? reg : NULL;
    return rv;
}

md_store_t *md_reg_store_get(md_reg_t *reg)
{
    return reg->store;
}

void md_reg_set_dns01(md_reg_t *reg, const char *dns01_cmd, int dns01_version)
{
    reg->dns01_cmd = dns01_cmd;
    reg->dns01_version = dns01_version;
}

/* --- slots ------------------------------------------------------------------------- */

static int has_static_files(const md_t *md)
{
    return md->cert_files && md->cert_files->nelts > 0;
}

int md_reg_slot_count(const md_t *md)
{
    return has_static_files(md) ? md->cert_files->nelts : md_pkeys_spec_count(md->pks);
}

const char *md_reg_slot_name(const md_t *md, int i, apr_pool_t *p)
{
    if (has_static_files(md)) return apr_itoa(p, i);
    return md_pkey_spec_name(md_pkeys_spec_get(md->pks, i));
}

/* --- loading chains --------------------------------------------------------------- */

/* Parses the leaf of pc's chain file in p (the certificates after it are
 * checked for form: a broken issuer makes the slot unusable, as mod_ssl
 * would refuse it) and keeps it in certs_p. */
static apr_status_t leaf_load(md_pubcert_t *pc, md_reg_t *reg, apr_pool_t *p)
{
    md_cert_t *leaf;
    apr_status_t rv;

    pc->certs = NULL;
    rv = md_chain_fload_leaf(&leaf, p, pc->cert_file);
    if (APR_SUCCESS != rv) return rv;
    leaf = md_cert_dup(leaf, reg->certs_p);
    rv = md_cert_to_der(&pc->leaf_der, leaf, reg->lp);
    if (APR_SUCCESS != rv) return rv;
    pc->certs = apr_array_make(reg->certs_p, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(pc->certs, md_cert_t *) = leaf;
    pc->not_before = md_cert_get_not_before(leaf);
    pc->not_after = md_cert_get_not_after(leaf);
    return APR_SUCCESS;
}

/* pc's leaf again after md_reg_drop_certs. */
static apr_status_t leaf_reload(md_pubcert_t *pc, md_reg_t *reg)
{
    md_cert_t *leaf;
    apr_status_t rv;

    rv = md_cert_read_der(&leaf, reg->certs_p, pc->leaf_der.data, pc->leaf_der.len);
    if (APR_SUCCESS != rv) return rv;
    pc->certs = apr_array_make(reg->certs_p, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(pc->certs, md_cert_t *) = leaf;
    return APR_SUCCESS;
}

static void pubcert_load(md_pubcert_t *pc, md_reg_t *reg, const md_t *md, int i,
                         apr_pool_t *p)
{
    md_pkey_spec_t *spec;
    apr_status_t rv;
    int match;

    if (has_static_files(md)) {
        pc->cert_file = APR_ARRAY_IDX(md->cert_files, i, const char *);
        pc->key_file = (md->pkey_files && i < md->pkey_files->nelts)
            ? APR_ARRAY_IDX(md->pkey_files, i, const char *) : NULL;
    }
    else {
        /* mod_ssl takes files: a store without local files has none */
        spec = md_pkeys_spec_get(md->pks, i);
        rv = md_store_get_fname(&pc->cert_file, reg->store, MD_SG_DOMAINS, md->name,
                                md_chain_filename(spec, p), reg->lp);
        if (APR_SUCCESS == rv) {
            rv = md_store_get_fname(&pc->key_file, reg->store, MD_SG_DOMAINS, md->name,
                                    md_pkey_filename(spec, p), reg->lp);
        }
        if (APR_SUCCESS != rv) {
            pc->rv = rv;
            pc->error = "the store keeps no certificate files";
            return;
        }
    }
    rv = leaf_load(pc, reg, p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        pc->rv = APR_ENOENT;
        return;
    }
    if (APR_SUCCESS != rv) {
        pc->rv = rv;
        pc->error = apr_psprintf(reg->lp, "certificate file %s cannot be read", pc->cert_file);
        return;
    }
    if (!pc->key_file) {
        pc->rv = APR_ENOENT;
        pc->error = "no key file";
        return;
    }
    rv = md_cert_fcheck_pkey(&match, APR_ARRAY_IDX(pc->certs, 0, md_cert_t *), pc->key_file,
                             p);
    if (APR_SUCCESS != rv) {
        pc->rv = APR_STATUS_IS_ENOENT(rv) ? APR_ENOENT : rv;
        pc->error = apr_psprintf(reg->lp, "private key file %s cannot be read", pc->key_file);
        return;
    }
    if (!match) {
        pc->rv = APR_EINVAL;
        pc->error = apr_psprintf(reg->lp, "private key %s does not match certificate %s",
                                 pc->key_file, pc->cert_file);
        return;
    }
    pc->rv = APR_SUCCESS;
}

/* The slot's record; with_certs: its leaf parsed again if dropped. */
static apr_status_t pubcert_get(const md_pubcert_t **ppubcert, md_reg_t *reg,
                                const md_t *md, int i, int with_certs, apr_pool_t *p)
{
    const char *key = apr_psprintf(p, "%s\n%d", md->name, i);
    md_pubcert_t *pc;
    apr_pool_t *ptemp;
    apr_status_t rv;

    *ppubcert = NULL;
    if (i < 0 || i >= md_reg_slot_count(md)) return APR_EINVAL;
    apr_thread_mutex_lock(reg->mutex);
    pc = apr_hash_get(reg->pubcerts, key, APR_HASH_KEY_STRING);
    if (!pc) {
        pc = apr_pcalloc(reg->lp, sizeof(*pc));
        apr_pool_create(&ptemp, p);
        pubcert_load(pc, reg, md, i, ptemp);
        apr_pool_destroy(ptemp);
        apr_hash_set(reg->pubcerts, apr_pstrdup(reg->lp, key), APR_HASH_KEY_STRING, pc);
    }
    rv = pc->rv;
    if (APR_SUCCESS == rv && with_certs && !pc->certs) {
        rv = leaf_reload(pc, reg);
    }
    apr_thread_mutex_unlock(reg->mutex);
    *ppubcert = pc;
    return rv;
}

apr_status_t md_reg_get_pubcert(const md_pubcert_t **ppubcert, md_reg_t *reg,
                                const md_t *md, int i, apr_pool_t *p)
{
    return pubcert_get(ppubcert, reg, md, i, 1, p);
}

void md_reg_drop_certs(md_reg_t *reg)
{
    apr_hash_index_t *hi;
    md_pubcert_t *pc;

    apr_thread_mutex_lock(reg->mutex);
    for (hi = apr_hash_first(NULL, reg->pubcerts); hi; hi = apr_hash_next(hi)) {
        pc = apr_hash_this_val(hi);
        pc->certs = NULL;
    }
    apr_pool_clear(reg->certs_p);
    apr_thread_mutex_unlock(reg->mutex);
}

void md_reg_forget(md_reg_t *reg, const md_t *md)
{
    char key[512];
    int i;

    apr_thread_mutex_lock(reg->mutex);
    for (i = 0; i < md_reg_slot_count(md); ++i) {
        apr_snprintf(key, sizeof(key), "%s\n%d", md->name, i);
        apr_hash_set(reg->pubcerts, key, APR_HASH_KEY_STRING, NULL);
    }
    apr_thread_mutex_unlock(reg->mutex);
}

void md_reg_use_chains(md_reg_t *reg, const md_t *md, apr_array_header_t *chains)
{
    const char *key;
    md_pubcert_t *pc, *old;
    md_cert_t *leaf;
    int i;

    apr_thread_mutex_lock(reg->mutex);
    for (i = 0; i < chains->nelts && i < md_reg_slot_count(md); ++i) {
        leaf = APR_ARRAY_IDX(APR_ARRAY_IDX(chains, i, apr_array_header_t *), 0,
                             md_cert_t *);
        key = apr_psprintf(reg->p, "%s\n%d", md->name, i);
        old = apr_hash_get(reg->pubcerts, key, APR_HASH_KEY_STRING);
        pc = apr_pcalloc(reg->p, sizeof(*pc));
        if (old) {
            pc->cert_file = old->cert_file;
            pc->key_file = old->key_file;
        }
        /* the leaf is parsed again from its DER on demand (leaf_reload) */
        if (APR_SUCCESS != md_cert_to_der(&pc->leaf_der, leaf, reg->p)) {
            continue;
        }
        pc->not_before = md_cert_get_not_before(leaf);
        pc->not_after = md_cert_get_not_after(leaf);
        pc->rv = APR_SUCCESS;
        /* readers may still hold the old record: it stays in reg->p */
        apr_hash_set(reg->pubcerts, key, APR_HASH_KEY_STRING, pc);
    }
    apr_thread_mutex_unlock(reg->mutex);
}

apr_status_t md_reg_get_cred_files(const char **pkeyfile, const char **pcertfile,
                                   md_reg_t *reg, const md_t *md, int i, apr_pool_t *p)
{
    const md_pubcert_t *pc;
    apr_status_t rv;

    *pkeyfile = *pcertfile = NULL;
    rv = pubcert_get(&pc, reg, md, i, 0, p);
    if (APR_SUCCESS == rv) {
        *pkeyfile = pc->key_file;
        *pcertfile = pc->cert_file;
    }
    return rv;
}

/* --- fallback certificates -------------------------------------------------------- */

/* One fallback key per key spec and generation, with its PEM text: with
 * thousands of MDs neither key generation nor PEM encoding is repeated. */
typedef struct {
    md_pkey_t *pkey;
    const char *pem;
} fallback_key_t;

static apr_status_t fallback_key_get(const fallback_key_t **pfk, md_reg_t *reg,
                                     const md_pkey_spec_t *spec, apr_pool_t *p)
{
    const char *kname = md_pkey_spec_activity_name(spec, p);
    fallback_key_t *fk;
    md_pkey_t *pkey;
    const char *pem;
    apr_status_t rv = APR_SUCCESS;

    apr_thread_mutex_lock(reg->mutex);
    fk = apr_hash_get(reg->fallback_keys, kname, APR_HASH_KEY_STRING);
    if (!fk) {
        rv = md_pkey_gen(&pkey, reg->lp, spec);
        if (APR_SUCCESS == rv) {
            rv = md_pkey_to_pem(&pem, pkey, reg->lp, NULL, 0);
        }
        if (APR_SUCCESS == rv) {
            fk = apr_pcalloc(reg->lp, sizeof(*fk));
            fk->pkey = pkey;
            fk->pem = pem;
            apr_hash_set(reg->fallback_keys, apr_pstrdup(reg->lp, kname),
                         APR_HASH_KEY_STRING, fk);
        }
    }
    apr_thread_mutex_unlock(reg->mutex);
    *pfk = (APR_SUCCESS == rv) ? fk : NULL;
    return rv;
}

void md_reg_defer_sync(md_reg_t *reg, int defer)
{
    reg->sync_deferred = defer;
    if (reg->store) {
        md_store_defer_sync(reg->store, defer);
    }
}

apr_status_t md_reg_sync(md_reg_t *reg)
{
    apr_status_t rv = APR_SUCCESS;

    md_reg_defer_sync(reg, 0);
    if (reg->store) {
        rv = md_store_sync(reg->store);
    }
    if (APR_SUCCESS == rv && reg->fallback_dir && md_util_is_dir(reg->fallback_dir, reg->p)) {
        rv = md_util_syncfs(reg->fallback_dir);
    }
    return rv;
}

void md_reg_set_fallback_dir(md_reg_t *reg, const char *dir)
{
    reg->fallback_dir = dir ? apr_pstrdup(reg->p, dir) : NULL;
}

apr_status_t md_reg_get_fallback_files(const char **pkeyfile, const char **pcertfile,
                                       md_reg_t *reg, const md_t *md, int i,
                                       apr_pool_t *p)
{
    md_pkey_spec_t *spec = md_pkeys_spec_get(md->pks, has_static_files(md) ? 0 : i);
    const char *kfile, *cfile;
    const fallback_key_t *fk;
    md_cert_t *cert;
    apr_array_header_t *chain;
    const char *pem;
    apr_status_t rv;
    int flags;

    *pkeyfile = *pcertfile = NULL;
    if (!spec) return APR_EINVAL;
    if (reg->fallback_dir) {
        kfile = md_util_path_join(p, reg->fallback_dir, md->name,
                                  md_pkey_spec_filename(spec, MD_FN_FALLBACK_PKEY, p), NULL);
        cfile = md_util_path_join(p, reg->fallback_dir, md->name,
                                  md_pkey_spec_filename(spec, MD_FN_FALLBACK_CERT, p), NULL);
        rv = md_util_mkdir(md_util_path_join(p, reg->fallback_dir, md->name, NULL),
                           MD_FPROT_D_UONLY, p);
        if (APR_SUCCESS != rv) return rv;
    }
    else {
        rv = md_store_get_fname(&kfile, reg->store, MD_SG_DOMAINS, md->name,
                                md_pkey_spec_filename(spec, MD_FN_FALLBACK_PKEY, p), p);
        if (APR_SUCCESS != rv) return rv;
        rv = md_store_get_fname(&cfile, reg->store, MD_SG_DOMAINS, md->name,
                                md_pkey_spec_filename(spec, MD_FN_FALLBACK_CERT, p), p);
        if (APR_SUCCESS != rv) return rv;
    }
    if (md_util_is_file(kfile, p) && md_util_is_file(cfile, p)) goto leave_ok;

    if (!reg->fallback_dir) {
        rv = md_store_make_dir(reg->store, MD_SG_DOMAINS, md->name, p);
        if (APR_SUCCESS != rv) return rv;
    }
    rv = fallback_key_get(&fk, reg, spec, p);
    if (APR_SUCCESS != rv) return rv;
    rv = md_cert_make_fallback(&cert, MD_FALLBACK_CN, md->domains, fk->pkey,
                               MD_FALLBACK_VALID, p);
    if (APR_SUCCESS != rv) return rv;
    flags = reg->sync_deferred ? MD_FWRITE_NOSYNC : 0;
    rv = md_util_fwrite(kfile, MD_FPROT_F_UONLY, fk->pem, flags, p);
    if (APR_SUCCESS != rv) return rv;
    chain = apr_array_make(p, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    rv = md_chain_to_pem(&pem, chain, p);
    if (APR_SUCCESS == rv) {
        rv = md_util_fwrite(cfile, MD_FPROT_F_UONLY, pem, flags, p);
    }
    if (APR_SUCCESS != rv) return rv;
leave_ok:
    *pkeyfile = kfile;
    *pcertfile = cfile;
    return APR_SUCCESS;
}

/* --- state ------------------------------------------------------------------------------ */

apr_status_t md_reg_assess(md_reg_t *reg, md_t *md, apr_pool_t *p)
{
    const md_pubcert_t *pc;
    md_cert_t *cert;
    const char *sname;
    apr_status_t rv;
    int i;

    md->state = MD_S_COMPLETE;
    md->state_descr = NULL;
    for (i = 0; i < md_reg_slot_count(md); ++i) {
        sname = md_reg_slot_name(md, i, p);
        rv = md_reg_get_pubcert(&pc, reg, md, i, p);
        if (APR_STATUS_IS_ENOENT(rv) && !pc->error) {
            md->state = MD_S_INCOMPLETE;
            md->state_descr = apr_psprintf(reg->p, "certificate(%s) is missing", sname);
            break;
        }
        if (APR_SUCCESS != rv) {
            md->state = MD_S_INCOMPLETE;
            md->state_descr = apr_psprintf(reg->p, "certificate(%s) is not usable: %s",
                                           sname, pc->error ? pc->error : "unknown");
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10960: %s: %s", md->name,
                          md->state_descr);
            break;
        }
        cert = APR_ARRAY_IDX(pc->certs, 0, md_cert_t *);
        if (has_static_files(md)) {
            continue;
        }
        if (!md_cert_covers_md(cert, md, p)) {
            md->state = MD_S_INCOMPLETE;
            md->state_descr = apr_psprintf(reg->p, "certificate(%s) does not cover all domains.",
                                           sname);
            break;
        }
        if ((md->must_staple > 0) != (md_cert_must_staple(cert) != 0)) {
            md->state = MD_S_INCOMPLETE;
            md->state_descr = (md->must_staple > 0)
                ? apr_psprintf(reg->p, "'must-staple' is requested, but certificate(%s) "
                               "has it not enabled.", sname)
                : apr_psprintf(reg->p, "'must-staple' is not requested, but certificate(%s) "
                               "has it enabled.", sname);
            break;
        }
    }
    return APR_SUCCESS;
}

/* --- sync ----------------------------------------------------------------------------- */

static int stored_md_cb(void *baton, const char *name, const char *aspect,
                        md_store_vtype_t vtype, void *value, apr_pool_t *ptemp)
{
    md_reg_t *reg = baton;
    md_t *md;

    (void)aspect; (void)vtype; (void)ptemp;
    md = md_from_json(value, apr_hash_pool_get(reg->stored));
    if (md && md->name && !strcmp(md->name, name)) {
        apr_hash_set(reg->stored, md->name, APR_HASH_KEY_STRING, md);
    }
    return 1;
}

/* The unclaimed stored MD that a renamed configured md most likely was. */
static md_t *find_renamed(md_reg_t *reg, const md_t *md, apr_hash_t *claimed,
                          apr_pool_t *p)
{
    apr_hash_index_t *hi;
    md_t *best = NULL, *smd;
    apr_size_t best_count = 0, count;

    for (hi = apr_hash_first(p, reg->stored); hi; hi = apr_hash_next(hi)) {
        smd = apr_hash_this_val(hi);
        if (apr_hash_get(claimed, smd->name, APR_HASH_KEY_STRING)) {
            continue;
        }
        count = md_common_name_count(md, smd);
        if (count == (apr_size_t)md->domains->nelts) return smd;
        if (count > best_count) {
            best = smd;
            best_count = count;
        }
    }
    return best;
}

static apr_status_t stored_cleanup(void *data)
{
    ((md_reg_t *)data)->stored = NULL;
    return APR_SUCCESS;
}

apr_status_t md_reg_sync_start(md_reg_t *reg, apr_array_header_t *mds, apr_pool_t *p)
{
    apr_hash_t *claimed = apr_hash_make(p);
    md_t *md, *smd;
    apr_status_t rv;
    int i;

    reg->stored = apr_hash_make(p);
    apr_pool_cleanup_register(p, reg, stored_cleanup, apr_pool_cleanup_null);
    rv = md_store_iter(stored_md_cb, reg, reg->store, p, MD_SG_DOMAINS, "*",
                       MD_FN_MD, MD_SV_JSON);
    if (APR_SUCCESS != rv && !APR_STATUS_IS_ENOENT(rv)) return rv;
    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, md_t *);
        apr_hash_set(claimed, md->name, APR_HASH_KEY_STRING, md);
    }
    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, md_t *);
        smd = apr_hash_get(reg->stored, md->name, APR_HASH_KEY_STRING);
        if (!smd && (smd = find_renamed(reg, md, claimed, p))) {
            md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p,
                          "AH10961: %s: renaming stored managed domain %s", md->name, smd->name);
            rv = md_store_rename(reg->store, p, MD_SG_DOMAINS, smd->name, md->name);
            if (APR_SUCCESS != rv) return rv;
            md_store_rename(reg->store, p, MD_SG_STAGING, smd->name, md->name);
            apr_hash_set(claimed, smd->name, APR_HASH_KEY_STRING, md);
            apr_hash_set(reg->stored, smd->name, APR_HASH_KEY_STRING, NULL);
            smd->name = md->name;
            apr_hash_set(reg->stored, md->name, APR_HASH_KEY_STRING, smd);
        }
        if (!smd) {
            continue;
        }
        if ((!md->contacts || md->contacts->nelts == 0) && smd->contacts) {
            md->contacts = md_array_str_clone(reg->p, smd->contacts);
        }
        if (!md->ca_effective && smd->ca_effective
            && md_array_str_index(md->ca_urls, smd->ca_effective, 0, 1) >= 0) {
            md->ca_effective = apr_pstrdup(reg->p, smd->ca_effective);
        }
        if (!md->ca_account && smd->ca_account) {
            md->ca_account = apr_pstrdup(reg->p, smd->ca_account);
        }
    }
    return APR_SUCCESS;
}

apr_status_t md_reg_sync_finish(md_reg_t *reg, md_t *md, apr_pool_t *p)
{
    md_t *smd = reg->stored ? apr_hash_get(reg->stored, md->name, APR_HASH_KEY_STRING)
                            : NULL;
    apr_status_t rv;

    rv = md_reg_assess(reg, md, p);
    if (APR_SUCCESS != rv) return rv;
    if (smd && !md_config_differs(md, smd)) return APR_SUCCESS;
    rv = md_store_md_save(reg->store, p, MD_SG_DOMAINS, md, 0);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10172: md[%s]: error syncing to store",
                      md->name);
    }
    return rv;
}

/* --- renewal timing --------------------------------------------------------------------- */

void md_reg_default_windows(md_t *md, apr_pool_t *p)
{
    if (!md->renew_window) {
        md->renew_window = apr_pmemdup(p, &default_renew_window,
                                       sizeof(default_renew_window));
    }
    if (!md->warn_window) {
        md->warn_window = apr_pmemdup(p, &default_warn_window, sizeof(default_warn_window));
    }
}

apr_time_t md_reg_cert_renew_at(const md_timeslice_t *window, apr_time_t from,
                                apr_time_t until)
{
    apr_time_t start = md_timeslice_start(window ? window : &default_renew_window,
                                          from, until);
    apr_interval_time_t lifetime = until - from;

    /* short-lived: renew at half at the latest, and an absolute window as
     * long as the lifetime does not renew each new certificate at once */
    if (lifetime > 0 && lifetime < MD_SHORT_LIFETIME
        && (start > from + lifetime / 2 || start <= from)) {
        start = from + lifetime / 2;
    }
    return start;
}

apr_time_t md_reg_renew_at(md_reg_t *reg, const md_t *md, apr_time_t now, apr_pool_t *p)
{
    const md_pubcert_t *pc;
    apr_time_t renew_at = 0, start;
    apr_status_t rv;
    int i;

    if (MD_S_INCOMPLETE == md->state) return now;
    for (i = 0; i < md_reg_slot_count(md); ++i) {
        rv = pubcert_get(&pc, reg, md, i, 0, p);
        if (APR_SUCCESS != rv) return now;
        start = md_reg_cert_renew_at(md->renew_window, pc->not_before, pc->not_after);
        if (!renew_at || start < renew_at) {
            renew_at = start;
        }
    }
    return renew_at;
}

int md_reg_should_renew(md_reg_t *reg, const md_t *md, apr_time_t now, apr_pool_t *p)
{
    apr_time_t renew_at = md_reg_renew_at(reg, md, now, p);

    return renew_at && renew_at <= now;
}

apr_time_t md_reg_warn_at(md_reg_t *reg, const md_t *md, apr_pool_t *p)
{
    const md_timeslice_t *window = md->warn_window ? md->warn_window
                                                   : &default_warn_window;
    const md_pubcert_t *pc;
    apr_time_t warn_at = 0, start;
    int i;

    for (i = 0; i < md_reg_slot_count(md); ++i) {
        if (APR_SUCCESS != pubcert_get(&pc, reg, md, i, 0, p)) {
            continue;
        }
        start = md_timeslice_start(window, pc->not_before, pc->not_after);
        if (!warn_at || start < warn_at) {
            warn_at = start;
        }
    }
    return warn_at;
}

int md_reg_should_warn(md_reg_t *reg, const md_t *md, apr_time_t now, apr_pool_t *p)
{
    apr_time_t warn_at = md_reg_warn_at(reg, md, p);

    return warn_at && warn_at <= now;
}

void md_reg_valid_period(apr_time_t *pfrom, apr_time_t *puntil, md_reg_t *reg,
                         const md_t *md, apr_pool_t *p)
{
    const md_pubcert_t *pc;
    apr_time_t from = 0, until = 0, t;
    int i;

    for (i = 0; i < md_reg_slot_count(md); ++i) {
        if (APR_SUCCESS != pubcert_get(&pc, reg, md, i, 0, p)) {
            continue;
        }
        t = pc->not_before;
        if (!from || t > from) {
            from = t;
        }
        t = pc->not_after;
        if (!until || t < until) {
            until = t;
        }
    }
    *pfrom = from;
    *puntil = until;
}
