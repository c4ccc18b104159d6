/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Certificates for mod_ssl through httpd's ssl hooks: those of the MD's
 * real credentials that exist, parse and match, generated fallback
 * certificates when none does (mod_ssl then answers 503).
 */
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_ssl.h>

#include "md.h"
#include "md_reg.h"
#include "mod_md.h"
#include "mod_md_certs.h"
#include "mod_md_init.h"

APLOG_USE_MODULE(md);

/* The MD whose certificates s uses; logs conflicts. */
static md_t *server_md(server_rec *s)
{
    apr_array_header_t *mds = md_mod_server_mds(s);

    if (!mds || mds->nelts == 0) return NULL;
    if (mds->nelts > 1) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10238)
                     "conflict: %d MDs match Virtualhost %s which uses SSL, however "
                     "there can be at most 1.", mds->nelts, s->server_hostname);
        return NULL;
    }
    return APR_ARRAY_IDX(mds, 0, md_t *);
}

static int md_add_cert_files(server_rec *s, apr_pool_t *p,
                             apr_array_header_t *cert_files,
                             apr_array_header_t *key_files)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    const char *keyfile, *certfile;
    apr_array_header_t *certs, *keys;
    md_t *md;
    int i;

    if (!rt || !rt->reg || !(md = server_md(s))) return DECLINED;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10113)
                 "get_certificates called for vhost %s.", s->server_hostname);
    if (cert_files->nelts > 0) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10084)
                     "host '%s' is covered by a Managed Domain, but certificate/key "
                     "files are already configured for it (most likely via "
                     "SSLCertificateFile).", s->server_hostname);
    }
    certs = apr_array_make(p, 2, sizeof(const char *));
    keys = apr_array_make(p, 2, sizeof(const char *));
    /* the certificates that exist (a key type added to MDPrivateKeys has
     * none until the renewal): fallbacks only when there is none at all */
    for (i = 0; i < md_reg_slot_count(md); ++i) {
        if (APR_SUCCESS != md_reg_get_cred_files(&keyfile, &certfile, rt->reg, md, i, p)) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10670)
                         "%s: no usable %s certificate for server %s", md->name,
                         md_reg_slot_name(md, i, p), s->server_hostname);
            continue;
        }
        APR_ARRAY_PUSH(certs, const char *) = certfile;
        APR_ARRAY_PUSH(keys, const char *) = keyfile;
    }
    if (certs->nelts == 0) return DECLINED;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10077)
                 "%s[state=%d]: providing certificates for server %s",
                 md->name, md->state, s->server_hostname);
    apr_array_cat(cert_files, certs);
    apr_array_cat(key_files, keys);
    return DONE;
}

static int md_add_fallback_cert_files(server_rec *s, apr_pool_t *p,
                                      apr_array_header_t *cert_files,
                                      apr_array_header_t *key_files)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    const char *keyfile, *certfile;
    apr_status_t rv;
    md_t *md;
    int i, n;

    if (!rt || !rt->reg || !(md = server_md(s))) return DECLINED;
    n = md->cert_files && md->cert_files->nelts > 0 ? 1 : md_reg_slot_count(md);
    for (i = 0; i < n; ++i) {
        rv = md_reg_get_fallback_files(&keyfile, &certfile, rt->reg, md, i, p);
        if (APR_SUCCESS != rv) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10174)
                         "%s: make fallback %s certificate", md->name,
                         md_reg_slot_name(md, i, p));
            return DECLINED;
        }
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10116)
                     "%s: providing %s fallback certificate for server %s", md->name,
                     md_reg_slot_name(md, i, p), s->server_hostname);
        APR_ARRAY_PUSH(cert_files, const char *) = certfile;
        APR_ARRAY_PUSH(key_files, const char *) = keyfile;
    }
    return DONE;
}

void md_certs_register_hooks(apr_pool_t *pool)
{
    (void)pool;
    ap_hook_ssl_add_cert_files(md_add_cert_files, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_add_fallback_cert_files(md_add_fallback_cert_files, NULL, NULL,
                                        APR_HOOK_MIDDLE);
}
