/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Answers ACME challenges and enforces MDRequireHttps: http-01 files under
 * /.well-known/acme-challenge/, tls-alpn-01 certificates on connections
 * that negotiated "acme-tls/1", redirects to https: and the HSTS header.
 */
#include <string.h>
#include <apr_strings.h>
#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_ssl.h>
#include <http_vhost.h>

#include "md.h"
#include "md_ip.h"
#include "md_store.h"
#include "md_util.h"
#include "mod_md.h"
#include "mod_md_challenge.h"
#include "mod_md_db.h"
#include "mod_md_init.h"

APLOG_USE_MODULE(md);

#define WELL_KNOWN_PREFIX   "/.well-known/"
#define ACME_CHALLENGE_PREFIX "/.well-known/acme-challenge/"
#define HSTS_HEADER         "Strict-Transport-Security"
#define HSTS_VALUE          "max-age=15768000"

/* --- http-01 ---------------------------------------------------------------------------- */

static int challenge_allowed(const md_t *md, const char *type)
{
    if (!md || !md->ca_challenges || md->ca_challenges->nelts == 0) return 1;
    return md_array_str_index(md->ca_challenges, type, 0, 0) >= 0;
}

static int may_decline_missing(const md_t *md)
{
    if (!md || MD_RENEW_MANUAL == md->renew_mode) return 1;
    return md->cert_files && md->cert_files->nelts > 0 && MD_RENEW_AUTO == md->renew_mode;
}

/* The name of the challenge directory for a request's host: an address in
 * its normal form (a Host header may bracket or expand it), a DNS name as
 * given; NULL for anything else. */
static const char *challenge_host(request_rec *r)
{
    const char *ip;

    if (!r->hostname) return NULL;
    if (APR_SUCCESS == md_ip_normalize(&ip, NULL, r->hostname, r->pool)) return ip;
    return md_dns_is_name(r->hostname, 0, 0) ? r->hostname : NULL;
}

static int http_challenge(request_rec *r)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    const char *token, *text, *host;
    apr_status_t rv;
    md_t *md;

    if (!rt || !rt->store || !r->parsed_uri.path
        || strncmp(ACME_CHALLENGE_PREFIX, r->parsed_uri.path,
                   sizeof(ACME_CHALLENGE_PREFIX) - 1)) {
        return DECLINED;
    }
    host = challenge_host(r);
    md = host ? md_mod_md_for_host(host) : NULL;
    if (!challenge_allowed(md, MD_AUTHZ_TYPE_HTTP01)) return DECLINED;
    token = r->parsed_uri.path + sizeof(ACME_CHALLENGE_PREFIX) - 1;
    if (!*token || strchr(token, '/') || !host) {
        return DECLINED;
    }
    rv = md_store_load(rt->store, MD_SG_CHALLENGES, host, MD_FN_HTTP01,
                       MD_SV_TEXT, (void **)&text, r->pool);
    if (APR_STATUS_IS_ENOENT(rv)) {
        /* another cluster node may have set it up (MDStoreDB) */
        rv = md_db_challenge_get(&text, r->hostname, MD_FN_HTTP01, r->pool);
    }
    if (APR_SUCCESS == rv) {
        if (M_GET != r->method_number) return HTTP_NOT_IMPLEMENTED;
        ap_set_content_length(r, (apr_off_t)strlen(text));
        r->status = HTTP_OK;
        ap_rwrite(text, (int)strlen(text), r);
        ap_finalize_request_protocol(r);
        return DONE;
    }
    if (APR_STATUS_IS_ENOENT(rv)) {
        return may_decline_missing(md) ? DECLINED : HTTP_NOT_FOUND;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, APLOGNO(10081)
                  "loading challenge %s from store", token);
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* --- MDRequireHttps -------------------------------------------------------------------- */

static int require_https(request_rec *r)
{
    apr_array_header_t *mds = md_mod_server_mds(r->server);
    const char *host = r->hostname ? r->hostname : r->server->server_hostname, *ip;
    md_t *md = NULL;
    int i, is_ssl;

    /* an MD has an address in its normal form only */
    if (host && APR_SUCCESS == md_ip_normalize(&ip, NULL, host, r->pool)) {
        host = ip;
    }
    if (!mds || !host || (r->parsed_uri.path
                          && !strncmp(WELL_KNOWN_PREFIX, r->parsed_uri.path,
                                      sizeof(WELL_KNOWN_PREFIX) - 1))) {
        return DECLINED;
    }
    for (i = 0; i < mds->nelts && !md; ++i) {
        md_t *m = APR_ARRAY_IDX(mds, i, md_t *);
        if (md_contains(m, host, 1)) {
            md = m;
        }
    }
    if (!md || md->require_https <= MD_REQUIRE_OFF) return DECLINED;
    is_ssl = ap_ssl_conn_is_ssl(r->connection);
    if (is_ssl) {
        if (MD_REQUIRE_PERMANENT == md->require_https
            && !apr_table_get(r->headers_out, HSTS_HEADER)) {
            apr_table_set(r->headers_out, HSTS_HEADER, HSTS_VALUE);
        }
        return DECLINED;
    }
    /* httpd gives an IPv6 Host without its brackets; a URL needs them */
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, "https://", md_ip_url_host(host, r->pool),
                               r->parsed_uri.path,
                               r->parsed_uri.query ? "?" : "",
                               r->parsed_uri.query ? r->parsed_uri.query : "", NULL));
    if (MD_REQUIRE_PERMANENT == md->require_https) {
        return (M_GET == r->method_number) ? HTTP_MOVED_PERMANENTLY
                                           : HTTP_PERMANENT_REDIRECT;
    }
    return (M_GET == r->method_number) ? HTTP_MOVED_TEMPORARILY
                                       : HTTP_TEMPORARY_REDIRECT;
}

/* --- tls-alpn-01 ------------------------------------------------------------------------ */

typedef struct {
    const char *protocol;           /* "acme-tls/1" once switched */
} md_conn_ctx;

static md_conn_ctx *conn_ctx(const conn_rec *c, int create)
{
    md_conn_ctx *ctx = ap_get_module_config(c->conn_config, &md_module);

    if (!ctx && create) {
        ctx = apr_pcalloc(c->pool, sizeof(*ctx));
        ap_set_module_config(((conn_rec *)c)->conn_config, &md_module, ctx);
    }
    return ctx;
}

static int md_protocol_propose(conn_rec *c, request_rec *r, server_rec *s,
                               const apr_array_header_t *offers,
                               apr_array_header_t *proposals)
{
    (void)s;
    if (!r && offers && ap_ssl_conn_is_ssl(c)
        && ap_array_str_contains(offers, MD_TLSALPN01_PROTO)) {
        APR_ARRAY_PUSH(proposals, const char *) = MD_TLSALPN01_PROTO;
    }
    return DECLINED;
}

static int md_protocol_switch(conn_rec *c, request_rec *r, server_rec *s,
                              const char *protocol)
{
    (void)s;
    if (!r && ap_ssl_conn_is_ssl(c) && !strcmp(MD_TLSALPN01_PROTO, protocol)) {
        conn_ctx(c, 1)->protocol = MD_TLSALPN01_PROTO;
        c->keepalive = AP_CONN_CLOSE;
        return OK;
    }
    return DECLINED;
}

static const char *md_protocol_get(const conn_rec *c)
{
    md_conn_ctx *ctx = conn_ctx(c, 0);

    return ctx ? ctx->protocol : NULL;
}

/* The key file name of a challenge certificate file name, NULL when it is
 * none. */
static const char *alpn_key_name(const char *cert_name, apr_pool_t *p)
{
    apr_size_t prefix = sizeof(MD_FN_TLSALPN01_CERT) - sizeof(".pem");

    if (strncmp(cert_name, MD_FN_TLSALPN01_CERT, prefix)) return NULL;
    return apr_psprintf(p, "%.*s%s", (int)(sizeof(MD_FN_TLSALPN01_PKEY) - sizeof(".pem")),
                        MD_FN_TLSALPN01_PKEY, cert_name + prefix);
}

/* Reads the certificate and key of one challenge file name (the cert's
 * name; the key's is derived) from the store, or with from_db from the
 * cluster store (MDStoreDB: set up by another node). 1 when both were
 * read. */
static int alpn_read_pair(md_store_t *store, int from_db, const char *host,
                          const char *cert_name, const char **pcert_pem,
                          const char **pkey_pem, apr_pool_t *p)
{
    const char *key_name = alpn_key_name(cert_name, p);

    if (!key_name) return 0;
    if (from_db) {
        return APR_SUCCESS == md_db_challenge_get(pcert_pem, host, cert_name, p)
               && APR_SUCCESS == md_db_challenge_get(pkey_pem, host, key_name, p);
    }
    return APR_SUCCESS == md_store_load(store, MD_SG_CHALLENGES, host, cert_name,
                                        MD_SV_TEXT, (void **)pcert_pem, p)
           && APR_SUCCESS == md_store_load(store, MD_SG_CHALLENGES, host, key_name,
                                           MD_SV_TEXT, (void **)pkey_pem, p);
}

static int collect_name(void *baton, const char *name, apr_pool_t *p)
{
    apr_array_header_t *names = baton;

    (void)p;
    APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(names->pool, name);
    return 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The challenge certificate names to try, best first: the RSA one (the
 * connection's RSA slot must not keep the vhost's certificate), then the
 * MD's key types in its order; for a host of no configured MD (set up by
 * a2md) the other files sorted by name. Never directory order. */
static apr_array_header_t *alpn_candidates(md_store_t *store, const char *host,
                                           apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *files;
    md_t *md = md_mod_md_for_host(host);
    int i;

    APR_ARRAY_PUSH(names, const char *) = MD_FN_TLSALPN01_CERT;
    if (md) {
        for (i = 0; i < md_pkeys_spec_count(md->pks); ++i) {
            APR_ARRAY_PUSH(names, const char *) = md_pkey_spec_filename(
                md_pkeys_spec_get(md->pks, i), MD_FN_TLSALPN01_CERT, p);
        }
        return names;
    }
    files = apr_array_make(p, 4, sizeof(const char *));
    md_store_iter_aspects(collect_name, files, store, p, MD_SG_CHALLENGES, host,
                          "acme-tls-alpn-01-pubcert.*.pem");
    qsort(files->elts, (size_t)files->nelts, sizeof(const char *), compare_names);
    apr_array_cat(names, files);
    return names;
}

static int md_answer_challenge(conn_rec *c, const char *servername,
                               const char **pcert_pem, const char **pkey_pem)
{
    md_mod_rt_t *rt = md_mod_rt_get();
    apr_array_header_t *names;
    const char *host;
    int i, from_db;

    if (!rt || !rt->store || !servername || !md_protocol_get(c)
        || !md_dns_is_name(servername, 0, 0)) {
        return DECLINED;
    }
    /* an address is validated with its reverse-DNS name as SNI (RFC 8738
     * 6); its challenge is stored under the address */
    host = md_ip_from_reverse_name(servername, c->pool);
    if (!host) {
        host = servername;
    }
    names = alpn_candidates(rt->store, host, c->pool);
    /* the node's own challenges first, then those of another cluster node
     * (MDStoreDB), in the same order of key types */
    for (from_db = 0; from_db < 2; ++from_db) {
        for (i = 0; i < names->nelts; ++i) {
            if (alpn_read_pair(rt->store, from_db, host,
                               APR_ARRAY_IDX(names, i, const char *), pcert_pem,
                               pkey_pem, c->pool)) {
                return OK;
            }
        }
    }
    ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c, APLOGNO(10080)
                  "%s: unknown tls-alpn-01 challenge host", servername);
    return DECLINED;
}

void md_challenge_register_hooks(apr_pool_t *pool)
{
    static const char *const mod_ssl[] = { "mod_ssl.c", NULL };

    (void)pool;
    ap_hook_post_read_request(http_challenge, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(require_https, mod_ssl, NULL, APR_HOOK_MIDDLE);
    ap_hook_protocol_propose(md_protocol_propose, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_protocol_switch(md_protocol_switch, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_protocol_get(md_protocol_get, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_answer_challenge(md_answer_challenge, NULL, NULL, APR_HOOK_MIDDLE);
}
