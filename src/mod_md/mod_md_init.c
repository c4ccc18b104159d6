/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * post_config of mod_md: sets up the store (modes, ownership, lock),
 * completes the configured MDs, assigns them to virtual hosts (linear in
 * the number of names), syncs them with the store, activates staged
 * certificates and publishes the run-time state for the other hooks.
 * The store's steps are in mod_md_init_store.c, the sync and activation
 * in mod_md_init_sync.c (mod_md_init_int.h is what the three share).
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <ap_listen.h>
#include <util_cfgtree.h>
#include <unixd.h>

#include "md.h"
#include "md_acme.h"
#include "md_crl.h"
#include "md_crypto.h"
#include "md_event.h"
#include "md_json.h"
#include "md_log.h"
#include "md_reg.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"
#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_init.h"
#include "mod_md_init_int.h"

APLOG_USE_MODULE(md);

static md_mod_rt_t *current_rt;

static const char *settings_server_contact(server_rec *s)
{
    return md_config_gets(md_config_get(s), MD_CONFIG_CA_CONTACT);
}

static apr_status_t settings_load(init_settings *set, server_rec *s, apr_pool_t *pconf,
                                  apr_pool_t *ptemp)
{
    md_srv_conf_t *sc = md_config_get(s);
    md_mod_conf_t *mc = sc->mc;
    apr_status_t rv;

    set->store_dir = md_config_base_dir(mc, pconf);
    set->manage_base_server = md_config_geti(sc, MD_CONFIG_BASE_SERVER);
    set->match_servernames = (MD_MATCH_SERVERNAMES == md_config_geti(sc, MD_CONFIG_MATCH_MODE));
    set->local_http_port = md_config_geti(sc, MD_CONFIG_LOCAL_80);
    set->local_https_port = md_config_geti(sc, MD_CONFIG_LOCAL_443);
    set->store_locks = md_config_geti(sc, MD_CONFIG_STORE_LOCKS);
    set->lock_wait = mc->lock_wait_timeout;
    set->ocsp_keep = mc->ocsp_keep_window ? mc->ocsp_keep_window->len
                                          : apr_time_from_sec(7 * 24 * 60 * 60);
    rv = md_config_check(s, ptemp);
    if (APR_SUCCESS != rv) return rv;
    set->mds = mc->mds;
    return APR_SUCCESS;
}

md_event_t *md_mod_events_make(const md_mod_rt_t *rt, apr_pool_t *p)
{
    md_mod_conf_t *mc = md_config_get_mod(rt->base_server);
    md_event_t *events = md_event_make(p, mc->message_cmd, mc->notify_cmd);
    const char *dir = rt->store ? md_store_base_dir(rt->store) : NULL;

    if (dir) {
        dir = ap_server_root_relative(p, dir);
    }
    md_event_set_env_context(events, dir, rt->mds);
    return events;
}

md_mod_rt_t *md_mod_rt_get(void)
{
    return current_rt;
}

static apr_array_header_t *rt_server_mds(md_mod_rt_t *rt, server_rec *s)
{
    return apr_hash_get(rt->server_mds, &s, sizeof(s));
}

apr_array_header_t *md_mod_server_mds(server_rec *s)
{
    return current_rt ? rt_server_mds(current_rt, s) : NULL;
}

md_t *md_mod_server_md(server_rec *s)
{
    apr_array_header_t *mds = md_mod_server_mds(s);

    return (mds && 1 == mds->nelts) ? APR_ARRAY_IDX(mds, 0, md_t *) : NULL;
}

static md_t *domain_lookup(apr_hash_t *by_domain, const char *host, apr_pool_t *p)
{
    const char *dot;
    md_t *md;

    md = apr_hash_get(by_domain, host, APR_HASH_KEY_STRING);
    if (md || md_dns_is_wildcard(host)) return md;
    dot = strchr(host, '.');
    if (!dot || !dot[1]) return NULL;
    return apr_hash_get(by_domain, apr_pstrcat(p, "*", dot, NULL), APR_HASH_KEY_STRING);
}

md_t *md_mod_md_for_host(const char *host)
{
    char buf[256];
    const char *dot;
    apr_size_t len;
    md_t *md;

    if (!current_rt || !host) return NULL;
    len = strlen(host);
    if (len >= sizeof(buf)) return NULL;
    memcpy(buf, host, len + 1);
    md_util_str_tolower(buf);
    md = apr_hash_get(current_rt->by_domain, buf, APR_HASH_KEY_STRING);
    if (md) return md;
    dot = strchr(buf, '.');
    if (!dot || dot == buf) return NULL;
    buf[0] = '*';
    memmove(buf + 1, dot, strlen(dot) + 1);
    return apr_hash_get(current_rt->by_domain, buf, APR_HASH_KEY_STRING);
}

md_t *md_mod_md_by_name(const char *name)
{
    return current_rt ? apr_hash_get(current_rt->by_name, name, APR_HASH_KEY_STRING) : NULL;
}

/* --- core logging into httpd's error log ------------------------------------------- */

static int log_is_level(void *baton, md_log_level_t level)
{
    server_rec *s = baton;

    return APLOG_IS_LEVEL(s, (int)level);
}

#define LOG_BUF_LEN 16 * 1024

static void log_print(const char *file, int line, md_log_level_t level,
                      apr_status_t rv, void *baton, apr_pool_t *p,
                      const char *fmt, va_list ap)
{
    server_rec *s = baton;
    char buffer[LOG_BUF_LEN];

    (void)file; (void)line;
    apr_vsnprintf(buffer, sizeof(buffer), fmt, ap);
    ap_log_error(file, line, APLOG_MODULE_INDEX, (int)level, rv, s, "%s", buffer);
    (void)p;
}

/* --- servers and their names --------------------------------------------------------- */

/* 1 if the <VirtualHost> defining s (or the global config for the base
 * server) says "SSLEngine on". */
static void collect_ssl_sections(apr_hash_t *ssl_defs, ap_directive_t *node,
                                 const ap_directive_t *vhost, apr_pool_t *p)
{
    for (; node; node = node->next) {
        if (!strcasecmp(node->directive, "<VirtualHost")) {
            collect_ssl_sections(ssl_defs, node->first_child, node, p);
        }
        else if (!strcasecmp(node->directive, "SSLEngine") && node->args
                 && !strcasecmp(node->args, "on")) {
            const char *key = vhost ? apr_psprintf(p, "%s:%d", vhost->filename,
                                                   vhost->line_num) : "";
            apr_hash_set(ssl_defs, key, APR_HASH_KEY_STRING, "");
        }
        else if (node->first_child && strcasecmp(node->directive, "<MDomain")
                 && strcasecmp(node->directive, "<MDomainSet")) {
            collect_ssl_sections(ssl_defs, node->first_child, vhost, p);
        }
    }
}

static int server_uses_port(server_rec *s, apr_port_t port)
{
    server_addr_rec *sa;

    for (sa = s->addrs; sa; sa = sa->next) {
        if (sa->host_port == port) return 1;
    }
    return 0;
}

static int server_is_ssl(server_rec *s, server_rec *base, apr_hash_t *ssl_defs,
                         int https_port, apr_pool_t *p)
{
    const char *key = (s == base) ? ""
        : apr_psprintf(p, "%s:%d", s->defn_name ? s->defn_name : "", s->defn_line_number);

    if (apr_hash_get(ssl_defs, key, APR_HASH_KEY_STRING)) return 1;
    return s != base && https_port > 0 && server_uses_port(s, (apr_port_t)https_port);
}

static void set_server_flag(apr_hash_t *h, server_rec *s, apr_pool_t *p)
{
    server_rec **key = apr_palloc(p, sizeof(*key));

    *key = s;
    apr_hash_set(h, key, sizeof(*key), "");
}

static void add_server_md(md_mod_rt_t *rt, server_rec *s, md_t *md)
{
    apr_array_header_t *mds = apr_hash_get(rt->server_mds, &s, sizeof(s));
    server_rec **key;
    int i;

    if (!mds) {
        mds = apr_array_make(rt->p, 1, sizeof(md_t *));
        key = apr_palloc(rt->p, sizeof(*key));
        *key = s;
        apr_hash_set(rt->server_mds, key, sizeof(*key), mds);
    }
    for (i = 0; i < mds->nelts; ++i) {
        if (APR_ARRAY_IDX(mds, i, md_t *) == md) return;
    }
    APR_ARRAY_PUSH(mds, md_t *) = md;
}

/* MDs that a vhost name designates: the exact name, an MD wildcard for it,
 * or, for a vhost wildcard alias, all MD names it matches. */
static void match_name(md_mod_rt_t *rt, server_rec *s, const char *name, int exact_only,
                       apr_pool_t *p)
{
    char *lname = md_util_str_tolower(apr_pstrdup(p, name));
    md_t *md;
    int i, j;

    if (strchr(lname, '*') || strchr(lname, '?')) {
        for (i = 0; i < rt->mds->nelts; ++i) {
            md = APR_ARRAY_IDX(rt->mds, i, md_t *);
            for (j = 0; j < md->domains->nelts; ++j) {
                if (ap_strcasecmp_match(APR_ARRAY_IDX(md->domains, j, const char *),
                                        lname) == 0) {
                    add_server_md(rt, s, md);
                    break;
                }
            }
        }
        return;
    }
    md = exact_only ? apr_hash_get(rt->by_domain, lname, APR_HASH_KEY_STRING)
                    : domain_lookup(rt->by_domain, lname, p);
    if (md) {
        add_server_md(rt, s, md);
    }
}

static void assign_server(md_mod_rt_t *rt, server_rec *s, int servernames_only,
                          apr_pool_t *p)
{
    int i;

    if (s->server_hostname) {
        match_name(rt, s, s->server_hostname, servernames_only, p);
        if (servernames_only && !rt_server_mds(rt, s)) {
            match_name(rt, s, s->server_hostname, 0, p);
        }
    }
    if (servernames_only) return;
    for (i = 0; s->names && i < s->names->nelts; ++i) {
        match_name(rt, s, APR_ARRAY_IDX(s->names, i, const char *), 0, p);
    }
    for (i = 0; s->wild_names && i < s->wild_names->nelts; ++i) {
        match_name(rt, s, APR_ARRAY_IDX(s->wild_names, i, const char *), 0, p);
    }
}

/* Adds the names of SSL vhost s to its only md (MDMembers auto) or warns. */
static void add_transitive_names(md_mod_rt_t *rt, server_rec *s, md_t *md, apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 5, sizeof(const char *));
    const char *name;
    int i;

    if (s->server_hostname) {
        APR_ARRAY_PUSH(names, const char *) = s->server_hostname;
    }
    for (i = 0; s->names && i < s->names->nelts; ++i) {
        APR_ARRAY_PUSH(names, const char *) = APR_ARRAY_IDX(s->names, i, const char *);
    }
    for (i = 0; i < names->nelts; ++i) {
        name = md_util_str_tolower(apr_pstrdup(rt->p, APR_ARRAY_IDX(names, i, const char *)));
        if (md_contains(md, name, 1)) {
            continue;
        }
        if (md->transitive > 0) {
            APR_ARRAY_PUSH(md->domains, const char *) = name;
            if (!apr_hash_get(rt->by_domain, name, APR_HASH_KEY_STRING)) {
                apr_hash_set(rt->by_domain, name, APR_HASH_KEY_STRING, md);
            }
        }
        else if (!rt->dry_run) {
            /* as the original: the vhost's ServerName and port, once per start */
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10040)
                         "Virtual Host %s:%d matches Managed Domain '%s', but the "
                         "name/alias %s itself is not managed. A requested MD "
                         "certificate will not match ServerName.",
                         s->server_hostname, s->port, md->name, name);
        }
    }
}

/* Contact from the vhost when the MD has none. */
static void add_vhost_contact(md_t *md, server_rec *s, apr_pool_t *p)
{
    const char *email;

    if (md->contacts && md->contacts->nelts > 0) return;
    email = settings_server_contact(s);
    if (email) {
        APR_ARRAY_PUSH(md->contacts, const char *) = md_util_schemify(p, email, "mailto");
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10044)
                     "%s: added contact %s", md->name, email);
    }
    else if (s->server_admin && strcmp(DEFAULT_ADMIN, s->server_admin)) {
        APR_ARRAY_PUSH(md->contacts, const char *) =
            md_util_schemify(p, s->server_admin, "mailto");
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10237)
                     "%s: added contact %s", md->name, s->server_admin);
    }
}

static int compare_md_names(const void *a, const void *b)
{
    return strcmp((*(md_t *const *)a)->name, (*(md_t *const *)b)->name);
}

/* Builds rt->mds/by_name/by_domain from the completed configured MDs. */
static void index_mds(md_mod_rt_t *rt, apr_array_header_t *mds)
{
    md_t *md;
    int i, j;

    rt->mds = apr_array_copy(rt->p, mds);
    qsort(rt->mds->elts, (size_t)rt->mds->nelts, sizeof(md_t *), compare_md_names);
    for (i = 0; i < rt->mds->nelts; ++i) {
        md = APR_ARRAY_IDX(rt->mds, i, md_t *);
        apr_hash_set(rt->by_name, md->name, APR_HASH_KEY_STRING, md);
        for (j = 0; j < md->domains->nelts; ++j) {
            const char *d = APR_ARRAY_IDX(md->domains, j, const char *);
            if (!apr_hash_get(rt->by_domain, d, APR_HASH_KEY_STRING)) {
                apr_hash_set(rt->by_domain, d, APR_HASH_KEY_STRING, md);
            }
        }
    }
}

/* Assigns MDs to servers, adds transitive names and contacts, checks SSL
 * conflicts. Returns APR_EINVAL on a conflict that must stop the start. */
static apr_status_t assign_mds(md_mod_rt_t *rt, const init_settings *mset,
                               apr_hash_t *md_ssl, server_rec *base, apr_pool_t *p)
{
    apr_hash_t *ssl_defs = apr_hash_make(p);
    apr_hash_t *used = apr_hash_make(p);
    apr_array_header_t *mds, *servers;
    apr_status_t rv = APR_SUCCESS;
    server_rec *s;
    md_t *md;
    int i, is_ssl;

    collect_ssl_sections(ssl_defs, ap_conftree, NULL, p);
    for (s = base; s; s = s->next) {
        if (s == base && !mset->manage_base_server) {
            continue;
        }
        assign_server(rt, s, mset->match_servernames, p);
        if (!(mds = rt_server_mds(rt, s))) {
            continue;
        }
        is_ssl = server_is_ssl(s, base, ssl_defs, mset->local_https_port, p);
        if (is_ssl) {
            set_server_flag(rt->ssl_servers, s, rt->p);
        }
        if (is_ssl && 1 == mds->nelts) {
            md = APR_ARRAY_IDX(mds, 0, md_t *);
            servers = apr_hash_get(md_ssl, md->name, APR_HASH_KEY_STRING);
            if (!servers) {
                servers = apr_array_make(p, 1, sizeof(server_rec *));
                apr_hash_set(md_ssl, md->name, APR_HASH_KEY_STRING, servers);
            }
            APR_ARRAY_PUSH(servers, server_rec *) = s;
        }
        for (i = 0; i < mds->nelts; ++i) {
            md = APR_ARRAY_IDX(mds, i, md_t *);
            apr_hash_set(used, md->name, APR_HASH_KEY_STRING, md);
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, base, APLOGNO(10041)
                         "Server %s:%d matches md %s (config %s, match-mode=%d) for "
                         "domain %s, has now %d MDs", s->server_hostname,
                         s->port, md->name, md->defn_name, mset->match_servernames,
                         s->server_hostname, mds->nelts);
            add_vhost_contact(md, s, rt->p);
        }
        if (is_ssl && mds->nelts > 1) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, base, APLOGNO(10042)
                         "conflict: %d MDs match to SSL VirtualHost %s, there can at "
                         "most be one.", mds->nelts, s->server_hostname);
            rv = APR_EINVAL;
        }
        else if (is_ssl) {
            add_transitive_names(rt, s, APR_ARRAY_IDX(mds, 0, md_t *), p);
        }
    }
    for (i = 0; i < rt->mds->nelts; ++i) {
        md = APR_ARRAY_IDX(rt->mds, i, md_t *);
        if (!rt->dry_run && !apr_hash_get(used, md->name, APR_HASH_KEY_STRING)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, base, APLOGNO(10045)
                         "No VirtualHost matches Managed Domain %s", md->name);
        }
    }
    return rv;
}

/* 1 if domain is the ServerName or a ServerAlias (patterns match) of s. */
static int server_has_name(server_rec *s, const char *domain)
{
    int i;

    if (s->server_hostname && !strcasecmp(s->server_hostname, domain)) return 1;
    for (i = 0; s->names && i < s->names->nelts; ++i) {
        if (!strcasecmp(APR_ARRAY_IDX(s->names, i, const char *), domain)) return 1;
    }
    for (i = 0; s->wild_names && i < s->wild_names->nelts; ++i) {
        if (!ap_strcasecmp_match(domain, APR_ARRAY_IDX(s->wild_names, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

/* Domains of md whose https vhost allows "acme-tls/1"; warns about
 * MDRequireHttps without any https vhost. */
static void check_protocols(md_mod_rt_t *rt, md_t *md, server_rec *base,
                            apr_array_header_t *ssl_servers)
{
    server_rec *s, *https_s;
    const char *domain;
    int i, j;

    apr_array_clear(md->acme_tls_1_domains);
    for (i = 0; i < md->domains->nelts; ++i) {
        domain = APR_ARRAY_IDX(md->domains, i, const char *);
        https_s = NULL;
        for (j = 0; ssl_servers && j < ssl_servers->nelts && !https_s; ++j) {
            s = APR_ARRAY_IDX(ssl_servers, j, server_rec *);
            if (server_has_name(s, domain)) {
                https_s = s;
            }
        }
        if (!https_s) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, base, APLOGNO(10168)
                         "%s: no https server_rec found for %s", md->name, domain);
            continue;
        }
        if (!ap_is_allowed_protocol(NULL, NULL, https_s, MD_TLSALPN01_PROTO)) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, base, APLOGNO(10169)
                         "%s: https server_rec for %s does not have protocol %s enabled",
                         md->name, domain, MD_TLSALPN01_PROTO);
            continue;
        }
        APR_ARRAY_PUSH(md->acme_tls_1_domains, const char *) = domain;
    }
    if (!rt->dry_run && (!ssl_servers || ssl_servers->nelts == 0)
        && md->require_https > MD_REQUIRE_OFF) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, base, APLOGNO(10105)
                     "MD %s does not match any VirtualHost with 'SSLEngine on', but is "
                     "configured to require https. This cannot work.", md->name);
    }
}

/* --- reachability ------------------------------------------------------------------ */

static int listens_on(int port)
{
    ap_listen_rec *lr;

    if (port <= 0) return 0;
    for (lr = ap_listeners; lr; lr = lr->next) {
        if (lr->protocol && strncasecmp("http", lr->protocol, 4)) {
            continue;
        }
        if (lr->bind_addr && lr->bind_addr->port == port) return 1;
    }
    return 0;
}

/* Records in httpd.json whether ports 80/443 are reachable (when changed). */
static void update_reachability(md_mod_rt_t *rt, const init_settings *set, server_rec *s,
                                apr_pool_t *p)
{
    int http = listens_on(set->local_http_port);
    int https = listens_on(set->local_https_port);
    md_json_t *json;
    apr_status_t rv;

    rt->http_reachable = http;
    rt->https_reachable = https;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10037)
                 "server seems%s reachable via http: and%s reachable via https:",
                 http ? "" : " not", https ? "" : " not");
    rv = md_store_load_json(rt->store, MD_SG_NONE, NULL, MD_FN_HTTPD_JSON, &json, p);
    if (APR_SUCCESS == rv) {
        if (md_json_getb(json, "proto", "http", NULL) == http
            && md_json_getb(json, "proto", "https", NULL) == https) {
            return;
        }
    }
    else if (APR_STATUS_IS_ENOENT(rv)) {
        if (http && https) return;
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, rv, s, "removing md/httpd.json on error "
                     "loading it");
        md_store_remove(rt->store, MD_SG_NONE, NULL, MD_FN_HTTPD_JSON, p, 1);
    }
    json = md_json_create(p);
    md_json_setb(http, json, "proto", "http", NULL);
    md_json_setb(https, json, "proto", "https", NULL);
    md_store_save_json(rt->store, p, MD_SG_NONE, NULL, MD_FN_HTTPD_JSON, json, 0);
}

/* --- post_config ---------------------------------------------------------------------- */

static apr_status_t rt_cleanup(void *data)
{
    if (current_rt == data) {
        current_rt = NULL;
    }
    return APR_SUCCESS;
}

/* MDMustStaple on, but the current certificate names no OCSP responder:
 * its CA has (probably) stopped OCSP, nothing can be stapled, and clients
 * honouring a Must-Staple extension refuse the certificate. */
static void check_must_staple(md_mod_rt_t *rt, server_rec *s, apr_pool_t *p)
{
    const md_pubcert_t *pc;
    const md_cert_t *cert;
    int i, k;

    for (i = 0; i < rt->mds->nelts; ++i) {
        md_t *md = APR_ARRAY_IDX(rt->mds, i, md_t *);

        if (md->must_staple <= 0) {
            continue;
        }
        for (k = 0; k < md_reg_slot_count(md); ++k) {
            if (APR_SUCCESS != md_reg_get_pubcert(&pc, rt->reg, md, k, p)
                || !pc->certs || pc->certs->nelts < 1) {
                continue;
            }
            cert = APR_ARRAY_IDX(pc->certs, 0, const md_cert_t *);
            if (md_cert_get_ocsp_url(cert, p)) {
                continue;
            }
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10741)
                         "%s: MDMustStaple is on, but its certificate (serial %s) "
                         "names no OCSP responder: its CA %s may no longer run OCSP, "
                         "no response can be stapled%s. Switch MDMustStaple off for "
                         "this MD.", md->name, md_cert_get_serial_number(cert, p),
                         md->ca_effective ? md->ca_effective : "(unknown)",
                         md_cert_must_staple(cert)
                         ? " and clients that honour the certificate's Must-Staple "
                           "extension refuse it" : "");
        }
    }
}

/* The certificates whose CRLs the renewal watchdog checks (MDCRLCheck on,
 * or auto and no OCSP URL), with their issuers from the chain files that
 * only the parent may read. Nothing for configurations without it. */
static void setup_crl(md_mod_rt_t *rt, server_rec *s, apr_pool_t *p)
{
    md_mod_conf_t *mc = md_config_get_mod(s);
    apr_array_header_t *chain;
    const md_pubcert_t *pc;
    const md_cert_t *leaf;
    apr_status_t rv;
    int i, k;

    mc->crl = NULL;
    for (i = 0; i < rt->mds->nelts; ++i) {
        md_t *md = APR_ARRAY_IDX(rt->mds, i, md_t *);

        if (MD_CRL_CHECK_OFF == md->crl_check) {
            continue;
        }
        for (k = 0; k < md_reg_slot_count(md); ++k) {
            if (APR_SUCCESS != md_reg_get_pubcert(&pc, rt->reg, md, k, p)
                || APR_SUCCESS != md_chain_fload(&chain, p, pc->cert_file)
                || chain->nelts < 2) {
                continue;
            }
            leaf = APR_ARRAY_IDX(chain, 0, const md_cert_t *);
            if (MD_CRL_CHECK_AUTO == md->crl_check && md_cert_get_ocsp_url(leaf, p)) {
                continue;
            }
            if (!mc->crl && APR_SUCCESS != md_crl_reg_create(&mc->crl, rt->p, rt->store,
                                                             AP_SERVER_BASEVERSION,
                                                             mc->proxy_url, mc->ca_certs)) {
                return;
            }
            rv = md_crl_reg_add(mc->crl, md->name, leaf,
                                APR_ARRAY_IDX(chain, 1, const md_cert_t *), p);
            ap_log_error(APLOG_MARK, APLOG_DEBUG, rv, s, APLOGNO(10745)
                         "%s: CRL check of certificate %s: %s", md->name,
                         md_cert_get_serial_number(leaf, p),
                         APR_SUCCESS == rv ? "watching its CRL"
                                           : "it names no http CRL distribution point");
        }
    }
}

static int is_first_pass(server_rec *s)
{
    static const char *key = "mod_md_post_config_done";
    void *data = NULL;

    apr_pool_userdata_get(&data, key, s->process->pool);
    if (data) return 0;
    apr_pool_userdata_set((const void *)1, key, apr_pool_cleanup_null, s->process->pool);
    return 1;
}

/* The parent holds a shared lock on md_store.json while it runs: a2md asks
 * whether a server uses the store (renew then leaves a request for the
 * watchdog instead of renewing itself). The file stays open in the process
 * pool; the lock is taken again after every start of the store, since
 * opening and closing md_store.json elsewhere in this process drops it. */
static void mark_server_running(md_mod_rt_t *rt, server_rec *s)
{
    static const char *key = "mod_md_server_mark";
    apr_file_t *f = NULL;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&f, key, s->process->pool);
    rv = md_store_server_mark(&f, rt->store, s->process->pool);
    if (f) {
        apr_pool_userdata_set(f, key, apr_pool_cleanup_null, s->process->pool);
    }
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, rv, s, APLOGNO(10720)
                     "store: md_store.json not marked as in use by this server");
    }
}

static int md_post_config_before_ssl(apr_pool_t *pconf, apr_pool_t *plog,
                                     apr_pool_t *ptemp, server_rec *s)
{
    init_settings set;
    md_mod_rt_t *rt;
    apr_hash_t *md_ssl;
    const char *what = NULL;
    apr_status_t rv;
    int i;

    (void)plog;
    md_log_set(log_is_level, log_print, s);
    md_acme_init(pconf, AP_SERVER_BASEPRODUCT "/" AP_SERVER_BASEREVISION);
    rt = apr_pcalloc(pconf, sizeof(*rt));
    rt->p = pconf;
    rt->base_server = s;
    rt->dry_run = is_first_pass(s);
    rt->by_name = apr_hash_make(pconf);
    rt->by_domain = apr_hash_make(pconf);
    rt->server_mds = apr_hash_make(pconf);
    rt->ssl_servers = apr_hash_make(pconf);
    if (rt->dry_run) {
        ap_log_error(APLOG_MARK, APLOG_TRACE1, 0, s, APLOGNO(10070)
                     "initializing post config dry run");
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, APLOGNO(10071)
                     "mod_md (v%s), initializing...", MOD_MD_VERSION);
        md_config_log_warnings(s);
    }
    rv = settings_load(&set, s, pconf, ptemp);
    if (APR_SUCCESS != rv) return HTTP_INTERNAL_SERVER_ERROR;
    index_mds(rt, set.mds);
    md_ssl = apr_hash_make(ptemp);
    if (APR_SUCCESS != assign_mds(rt, &set, md_ssl, s, ptemp)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (i = 0; i < rt->mds->nelts; ++i) {
        md_t *md = APR_ARRAY_IDX(rt->mds, i, md_t *);
        check_protocols(rt, md, s, apr_hash_get(md_ssl, md->name, APR_HASH_KEY_STRING));
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, APLOGNO(10039)
                     "Completed MD[%s, CA=%s, Proto=%s, Agreement=%s, renew-mode=%d "
                     "renew_window=%s, warn_window=%s", md->name,
                     md->ca_effective ? md->ca_effective : "(null)", md->ca_proto,
                     md->ca_agreement ? md->ca_agreement : "(null)", md->renew_mode,
                     md->renew_window ? md_timeslice_format(md->renew_window, ptemp) : "",
                     md->warn_window ? md_timeslice_format(md->warn_window, ptemp) : "");
    }
    if (!rt->dry_run) {
        md_config_warn_gone_cas(s);
    }
    current_rt = rt;
    apr_pool_cleanup_register(pconf, rt, rt_cleanup, apr_pool_cleanup_null);
    /* also without any MDomain: challenges that a2md (or a former config)
     * set up in the store are answered from it */
    rv = setup_store(rt, &set, s, &what, ptemp);
    if (APR_SUCCESS == rv) {
        update_reachability(rt, &set, s, ptemp);
        if (!rt->dry_run) {
            mark_server_running(rt, s);
        }
    }
    else {
        store_unusable(rt, &set, s, rv, what);
        /* for renewals once the store can be written (mod_md_drive.c) */
        rt->http_reachable = listens_on(set.local_http_port);
        rt->https_reachable = listens_on(set.local_https_port);
    }
    rv = md_reg_create(&rt->reg, pconf, rt->store);
    if (APR_SUCCESS != rv) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, APLOGNO(10072) "setup md registry");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    md_reg_set_dns01(rt->reg, md_config_get_mod(s)->dns01_cmd,
                     md_config_get_mod(s)->dns01_version);
    /* one sync for the start-up's writes, after mod_ssl made the fallbacks
     * (md_post_config_after_ssl) */
    md_reg_defer_sync(rt->reg, 1);
    if (!rt->store_error) {
        rv = sync_store(rt, &set, s, ptemp);
        if (APR_SUCCESS != rv) {
            store_unusable(rt, &set, s, rv, "syncing the MDs with it");
        }
    }
    if (rt->store_error) {
        serve_as_is(rt, ptemp);
    }
    if (!rt->dry_run) {
        check_must_staple(rt, s, ptemp);
    }
    if (!rt->dry_run && !rt->store_error) {
        setup_crl(rt, s, ptemp);
    }
    /* mod_ssl loads the files next; children parse a leaf again on demand */
    md_reg_drop_certs(rt->reg);
    return OK;
}

void md_init_register_hooks(apr_pool_t *pool)
{
    static const char *const mod_ssl[] = { "mod_ssl.c", NULL };

    (void)pool;
    ap_hook_post_config(md_post_config_before_ssl, NULL, mod_ssl, APR_HOOK_MIDDLE);
}
