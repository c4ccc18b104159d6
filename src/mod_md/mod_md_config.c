/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Configuration of mod_md: the defaults, the module-wide and per-server
 * settings (creation, merging), the location classes (ALL, NOT-MD, MD) that
 * every setter checks, the effective values, and the completion of MDs from
 * their section, the global values and the defaults. The setters and the
 * directive table are mod_md_config_set.c and mod_md_config_global.c; the
 * whole-configuration checks mod_md_config_check.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <apr_user.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_main.h>

#include "md.h"
#include "md_crl.h"
#include "md_crypto.h"
#include "md_idna.h"
#include "md_ip.h"
#include "md_json.h"
#include "md_time.h"
#include "md_util.h"

#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_config_int.h"

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(md);
#endif

/* --- defaults ------------------------------------------------------------------ */

static const struct {
    int transitive;
    int require_https;
    int renew_mode;
    int must_staple;
    int stapling;
    int staple_others;
    int ari_renewals;
    int profile_mandatory;
    const char *ca_url;
    const char *ca_proto;
    md_timeslice_t renew_window;
    md_timeslice_t warn_window;
} md_defaults = {
    1,                          /* MDMembers auto */
    MD_REQUIRE_OFF,
    MD_RENEW_AUTO,
    0,                          /* MDMustStaple off */
    0,                          /* MDStapling off */
    1,                          /* MDStapleOthers on */
    1,                          /* MDRenewViaARI on */
    0,                          /* MDProfileMandatory off */
    MD_CONFIG_DEFAULT_CA,
    MD_PROTO_ACME,
    { MD_TIME_LIFE_NORM, apr_time_from_sec(33 * MD_SECS_PER_DAY) },
    { MD_TIME_LIFE_NORM, apr_time_from_sec(10 * MD_SECS_PER_DAY) },
};

static const md_timeslice_t md_ocsp_renew_default = {
    MD_TIME_LIFE_NORM, apr_time_from_sec(33 * MD_SECS_PER_DAY)
};
static const md_timeslice_t md_ocsp_keep_default = {
    0, apr_time_from_sec(7 * MD_SECS_PER_DAY)
};

/* --- the module-wide configuration -------------------------------------------------- */

/* One per configuration cycle; reset when pconf is cleared. */
static md_mod_conf_t *mod_conf;

static apr_status_t mod_conf_reset(void *data)
{
    (void)data;
    mod_conf = NULL;
    return APR_SUCCESS;
}

static md_mod_conf_t *mod_conf_get(apr_pool_t *p)
{
    md_mod_conf_t *mc;

    if (mod_conf) return mod_conf;
    mc = apr_pcalloc(p, sizeof(*mc));
    mc->p = p;
    mc->mds = apr_array_make(p, 5, sizeof(md_t *));
    mc->md_sections = apr_array_make(p, 5, sizeof(md_srv_conf_t *));
    mc->local_80 = 80;
    mc->local_443 = 443;
    mc->match_mode = MD_MATCH_ALL;
    mc->dns01_version = 1;
    mc->retry_delay = apr_time_from_sec(30);
    mc->retry_failover = 13;
    mc->lock_wait_timeout = apr_time_from_sec(5);
    mc->check_interval = apr_time_from_sec(12 * MD_SECS_PER_HOUR);
    mc->server_status_enabled = 1;
    mc->certificate_status_enabled = 1;
    mc->cert_check_name = "crt.sh";
    mc->cert_check_url = "https://crt.sh?q=";
    mc->ocsp_renew_window = &md_ocsp_renew_default;
    mc->ocsp_keep_window = &md_ocsp_keep_default;
    mc->hsts_header = "max-age=15768000";
    mc->unused_names = apr_array_make(p, 5, sizeof(const char *));
    mc->watched_names = apr_array_make(p, 5, sizeof(const char *));
    mc->init_errors = apr_hash_make(p);
    mc->warnings = apr_array_make(p, 5, sizeof(const char *));
    apr_pool_cleanup_register(p, NULL, mod_conf_reset, apr_pool_cleanup_null);
    mod_conf = mc;
    return mc;
}

/* --- per-server configuration ---------------------------------------------------------- */

md_srv_conf_t *srv_conf_make(apr_pool_t *p, md_mod_conf_t *mc, const char *name)
{
    md_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));

    sc->name = name;
    sc->mc = mc;
    sc->transitive = MD_CONFIG_UNSET;
    sc->require_https = MD_REQUIRE_UNSET;
    sc->renew_mode = MD_CONFIG_UNSET;
    sc->activation_live = MD_CONFIG_UNSET;
    sc->must_staple = MD_CONFIG_UNSET;
    sc->stapling = MD_CONFIG_UNSET;
    sc->staple_others = MD_CONFIG_UNSET;
    sc->ari_renewals = MD_CONFIG_UNSET;
    sc->profile_mandatory = MD_CONFIG_UNSET;
    sc->crl_check = MD_CONFIG_UNSET;
    return sc;
}

void *md_config_create_svr(apr_pool_t *pool, server_rec *s)
{
    const char *name = s->defn_name? s->defn_name : "default";
    md_srv_conf_t *sc = srv_conf_make(pool, mod_conf_get(pool), name);

    sc->s = s;
    return sc;
}

#define MERGE_INT(f)    n->f = (add->f != MD_CONFIG_UNSET)? add->f : base->f
#define MERGE_PTR(f)    n->f = add->f? add->f : base->f

void *md_config_merge_svr(apr_pool_t *pool, void *basev, void *addv)
{
    md_srv_conf_t *base = basev, *add = addv;
    md_srv_conf_t *n = srv_conf_make(pool, add->mc, add->name);

    n->s = add->s;
    MERGE_INT(transitive);
    MERGE_INT(require_https);
    MERGE_INT(renew_mode);
    MERGE_INT(activation_live);
    MERGE_INT(must_staple);
    MERGE_INT(stapling);
    MERGE_INT(staple_others);
    MERGE_INT(ari_renewals);
    MERGE_INT(profile_mandatory);
    MERGE_INT(crl_check);
    MERGE_PTR(pks);
    MERGE_PTR(renew_window);
    MERGE_PTR(warn_window);
    MERGE_PTR(ca_urls);
    MERGE_PTR(ca_contact);
    MERGE_PTR(ca_proto);
    MERGE_PTR(ca_agreement);
    MERGE_PTR(ca_challenges);
    MERGE_PTR(eab_kid);
    MERGE_PTR(eab_hmac);
    MERGE_PTR(profile);
    return n;
}

md_srv_conf_t *md_config_get(server_rec *s)
{
    return ap_get_module_config(s->module_config, &md_module);
}

md_mod_conf_t *md_config_get_mod(server_rec *s)
{
    return md_config_get(s)->mc;
}

/* A value the original module accepts but that cannot work as written. The
 * server still starts (Debian tests the config before every restart: a
 * refusal keeps a site down after an upgrade); the admin reads why in
 * "apache2 -t", on the console and in the error log of a start (see
 * md_config_log_warnings), and a renewal reports what the CA says. */
void warn_value(cmd_parms *cmd, const char *fmt, ...)
{
    md_mod_conf_t *mc = md_config_get(cmd->server)->mc;
    const ap_directive_t *d = cmd->directive;
    const char *msg;
    va_list ap;

    va_start(ap, fmt);
    msg = apr_pvsprintf(cmd->temp_pool, fmt, ap);
    va_end(ap);
    APR_ARRAY_PUSH(mc->warnings, const char *) =
        apr_psprintf(mc->p, "%s (%s line %d)", msg, d? d->filename : "unknown",
                     d? d->line_num : 0);
}

void md_config_log_warnings(server_rec *s)
{
    md_mod_conf_t *mc = md_config_get(s)->mc;
    int i;

    for (i = 0; i < mc->warnings->nelts; ++i) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10660) "%s",
                     APR_ARRAY_IDX(mc->warnings, i, const char *));
    }
}

/* --- location classes --------------------------------------------------------------- */

int in_md_section(cmd_parms *cmd)
{
    const ap_directive_t *d;

    for (d = cmd->directive? cmd->directive->parent : NULL; d; d = d->parent) {
        if (!ap_cstr_casecmp(d->directive, "<MDomainSet")
            || !ap_cstr_casecmp(d->directive, "<MDomain")) {
            return 1;
        }
    }
    return 0;
}

static const char *in_files_section(cmd_parms *cmd)
{
    const ap_directive_t *d;

    for (d = cmd->directive? cmd->directive->parent : NULL; d; d = d->parent) {
        if (!ap_cstr_casecmp(d->directive, "<Files")
            || !ap_cstr_casecmp(d->directive, "<FilesMatch")) {
            return d->directive;
        }
    }
    return NULL;
}

const char *check_loc(cmd_parms *cmd, md_loc_t loc)
{
    const char *err, *files;

    switch (loc) {
        case MD_LOC_NOT_MD:
            if (in_md_section(cmd)) {
                return apr_pstrcat(cmd->pool, cmd->cmd->name,
                                   " is not allowed inside an '<MDomainSet' context", NULL);
            }
            return NULL;
        case MD_LOC_MD:
            if (!in_md_section(cmd)) {
                return apr_pstrcat(cmd->pool, cmd->cmd->name,
                                   " is only valid inside a '<MDomainSet' context, not here",
                                   NULL);
            }
            return NULL;
        default:
            err = ap_check_cmd_context(cmd, NOT_IN_DIRECTORY | NOT_IN_LOCATION
                                            | NOT_IN_HTACCESS);
            if (err) return err;
            if ((files = in_files_section(cmd))) {
                warn_value(cmd, "%s inside a %s> section applies to the whole server",
                           cmd->cmd->name, files);
            }
            return NULL;
    }
}

/* The settings a directive writes to: the MD section's while inside one,
 * else the server's. */
md_srv_conf_t *target_conf(cmd_parms *cmd)
{
    md_srv_conf_t *sc = md_config_get(cmd->server);

    return sc->section? sc->section : sc;
}

md_mod_conf_t *cmd_mod_conf(cmd_parms *cmd)
{
    return md_config_get(cmd->server)->mc;
}

/* "-t -D DUMP_..." only dumps the configuration: do not read files then. */
int is_dump_mode(void)
{
    int i;

    for (i = 0; ap_server_config_defines && i < ap_server_config_defines->nelts; ++i) {
        const char *def = APR_ARRAY_IDX(ap_server_config_defines, i, const char *);
        if (def && !strncmp(def, "DUMP_", 5)) return 1;
    }
    return 0;
}

int is_word(const char *value, const char *word)
{
    return !ap_cstr_casecmp(value, word);
}

/* --- effective values ----------------------------------------------------------------------- */

static int int_or(int value, int def)
{
    return (MD_CONFIG_UNSET != value)? value : def;
}

int md_config_geti(const md_srv_conf_t *sc, md_config_var_t var)
{
    const md_mod_conf_t *mc = sc->mc;

    switch (var) {
        case MD_CONFIG_TRANSITIVE: return int_or(sc->transitive, md_defaults.transitive);
        case MD_CONFIG_REQUIRE_HTTPS:
            return int_or(sc->require_https, md_defaults.require_https);
        case MD_CONFIG_RENEW_MODE: return int_or(sc->renew_mode, md_defaults.renew_mode);
        case MD_CONFIG_MUST_STAPLE:
            return int_or(sc->must_staple, md_defaults.must_staple);
        case MD_CONFIG_STAPLING: return int_or(sc->stapling, md_defaults.stapling);
        case MD_CONFIG_STAPLE_OTHERS:
            return int_or(sc->staple_others, md_defaults.staple_others);
        case MD_CONFIG_ARI_RENEWALS:
            return int_or(sc->ari_renewals, md_defaults.ari_renewals);
        case MD_CONFIG_PROFILE_MANDATORY:
            return int_or(sc->profile_mandatory, md_defaults.profile_mandatory);
        case MD_CONFIG_SERVER_STATUS: return mc->server_status_enabled;
        case MD_CONFIG_CERT_STATUS: return mc->certificate_status_enabled;
        case MD_CONFIG_BASE_SERVER: return mc->manage_base_server;
        case MD_CONFIG_LOCAL_80: return mc->local_80;
        case MD_CONFIG_LOCAL_443: return mc->local_443;
        case MD_CONFIG_DNS01_VERSION: return mc->dns01_version;
        case MD_CONFIG_RETRY_FAILOVER: return mc->retry_failover;
        case MD_CONFIG_MATCH_MODE: return (int)mc->match_mode;
        case MD_CONFIG_STORE_LOCKS: return mc->use_store_locks;
        default: return MD_CONFIG_UNSET;
    }
}

const char *md_config_gets(const md_srv_conf_t *sc, md_config_var_t var)
{
    const md_mod_conf_t *mc = sc->mc;

    switch (var) {
        case MD_CONFIG_CA_CONTACT: return sc->ca_contact;
        case MD_CONFIG_CA_PROTO: return sc->ca_proto? sc->ca_proto : md_defaults.ca_proto;
        case MD_CONFIG_CA_AGREEMENT: return sc->ca_agreement;
        case MD_CONFIG_PROFILE: return sc->profile;
        case MD_CONFIG_EAB_KID: return sc->eab_kid;
        case MD_CONFIG_EAB_HMAC: return sc->eab_hmac;
        case MD_CONFIG_BASE_DIR: return md_config_base_dir(sc->mc, sc->mc->p);
        case MD_CONFIG_PROXY: return mc->proxy_url;
        case MD_CONFIG_CA_CERTS: return mc->ca_certs;
        case MD_CONFIG_PROXY_CA_CERTS: return mc->proxy_ca_certs;
        case MD_CONFIG_DNS01_CMD: return mc->dns01_cmd;
        case MD_CONFIG_NOTIFY_CMD: return mc->notify_cmd;
        case MD_CONFIG_MESSAGE_CMD: return mc->message_cmd;
        case MD_CONFIG_CERT_CHECK_NAME: return mc->cert_check_name;
        case MD_CONFIG_CERT_CHECK_URL: return mc->cert_check_url;
        case MD_CONFIG_HSTS_HEADER: return mc->hsts_header;
        default: return NULL;
    }
}

const md_timeslice_t *md_config_get_window(const md_srv_conf_t *sc, int warn)
{
    if (warn) return sc->warn_window? sc->warn_window : &md_defaults.warn_window;
    return sc->renew_window? sc->renew_window : &md_defaults.renew_window;
}

const char *md_config_base_dir(md_mod_conf_t *mc, apr_pool_t *p)
{
    if (mc->base_dir) return mc->base_dir;
    return ap_server_root_relative(p, "md");
}

const char *md_config_dns01_cmd(const md_t *md, const md_mod_conf_t *mc)
{
    return md->dns01_cmd? md->dns01_cmd : mc->dns01_cmd;
}

/* --- completion of MDs ------------------------------------------------------------------------ */

/* The first set value of section, global, or the default. */
static int pick_int(const md_srv_conf_t *sec, const md_srv_conf_t *glob, apr_size_t off,
                    int def)
{
    int v = sec? *(const int *)((const char *)sec + off) : MD_CONFIG_UNSET;

    if (MD_CONFIG_UNSET != v) return v;
    v = *(const int *)((const char *)glob + off);
    return (MD_CONFIG_UNSET != v)? v : def;
}

static const void *pick_ptr(const md_srv_conf_t *sec, const md_srv_conf_t *glob,
                            apr_size_t off)
{
    const void *v = sec? *(const void *const *)((const char *)sec + off) : NULL;

    return v? v : *(const void *const *)((const char *)glob + off);
}

#define PICK_INT(f, def)    pick_int(sec, glob, SRV_OFF(f), def)
#define PICK_PTR(f)         pick_ptr(sec, glob, SRV_OFF(f))

/* The contact of an MD without its own: MDContactEmail (section, else
 * main server), else the main server's ServerAdmin unless it is the
 * compiled-in default. NULL leaves it to the first matching vhost. */
static const char *pick_contact(const md_srv_conf_t *sec, const md_srv_conf_t *glob,
                                const char *admin)
{
    const char *contact = PICK_PTR(ca_contact);

    if (contact) return contact;
    return (admin && strcmp(DEFAULT_ADMIN, admin))? admin : NULL;
}

static void complete_ca(md_t *md, const md_srv_conf_t *sec, const md_srv_conf_t *glob,
                        const char *admin, apr_pool_t *p)
{
    const apr_array_header_t *urls = PICK_PTR(ca_urls);
    const apr_array_header_t *challenges = PICK_PTR(ca_challenges);
    const char *contact = pick_contact(sec, glob, admin);
    const char *proto = PICK_PTR(ca_proto);

    md_mod_conf_t *mc = glob->mc;

    /* MDs mostly share the global values: their copies are shared too */
    if (urls && urls->nelts > 0) {
        if (urls != mc->completed_urls_src) {
            mc->completed_urls_src = urls;
            mc->completed_urls = md_array_str_clone(p, urls);
        }
        md->ca_urls = mc->completed_urls;
    }
    else {
        md->ca_urls = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(md->ca_urls, const char *) = md_defaults.ca_url;
    }
    /* the only protocol, accepted in any case, written as "ACME" */
    md->ca_proto = md_defaults.ca_proto;
    if (proto && ap_cstr_casecmp(proto, MD_PROTO_ACME)) {
        md->ca_proto = proto;
    }
    md->ca_agreement = PICK_PTR(ca_agreement);
    md->ca_challenges = (challenges && challenges->nelts > 0)?
        md_array_str_compact(p, challenges, 0) : NULL;
    if (contact && !(md->contacts && md->contacts->nelts > 0)) {
        if (contact != mc->completed_contact_src) {
            mc->completed_contact_src = contact;
            mc->completed_contacts = apr_array_make(p, 1, sizeof(const char *));
            APR_ARRAY_PUSH(mc->completed_contacts, const char *) =
                md_util_schemify(p, contact, "mailto");
        }
        md->contacts = mc->completed_contacts;
    }
    /* kid and hmac always come from the same place */
    if (sec && sec->eab_kid) {
        md->eab_kid = sec->eab_kid;
        md->eab_hmac = sec->eab_hmac;
    }
    else {
        md->eab_kid = glob->eab_kid;
        md->eab_hmac = glob->eab_hmac;
    }
}

static void complete_md(md_t *md, const md_srv_conf_t *sec, const md_srv_conf_t *glob,
                        const char *admin, apr_pool_t *p)
{
    const md_pkeys_spec_t *pks;

    md->transitive = PICK_INT(transitive, md_defaults.transitive);
    md->require_https = (md_require_t)PICK_INT(require_https, md_defaults.require_https);
    md->renew_mode = PICK_INT(renew_mode, md_defaults.renew_mode);
    md->activation_live = PICK_INT(activation_live, 0);
    if (MD_RENEW_AUTO == md->renew_mode && md->cert_files && md->cert_files->nelts > 0) {
        md->renew_mode = MD_RENEW_MANUAL;
    }
    md->must_staple = PICK_INT(must_staple, md_defaults.must_staple);
    md->stapling = PICK_INT(stapling, md_defaults.stapling);
    md->stapling_set = (sec && MD_CONFIG_UNSET != sec->stapling)
                       || MD_CONFIG_UNSET != glob->stapling;
    md->ari_renewals = PICK_INT(ari_renewals, md_defaults.ari_renewals);
    md->profile_mandatory = PICK_INT(profile_mandatory, md_defaults.profile_mandatory);
    md->crl_check = PICK_INT(crl_check, MD_CRL_CHECK_OFF);
    md->profile = PICK_PTR(profile);
    md->renew_window = PICK_PTR(renew_window);
    if (!md->renew_window) {
        md->renew_window = &md_defaults.renew_window;
    }
    md->warn_window = PICK_PTR(warn_window);
    if (!md->warn_window) {
        md->warn_window = &md_defaults.warn_window;
    }
    pks = PICK_PTR(pks);
    md->pks = pks? md_pkeys_spec_clone(p, pks) : NULL;
    complete_ca(md, sec, glob, admin, p);
    if (sec) {
        md->proxy_url = sec->proxy_url;
        md->ca_certs = sec->ca_certs;
        md->proxy_ca_certs = sec->proxy_ca_certs;
        md->dns01_cmd = sec->dns01_cmd;
    }
}

apr_status_t md_config_complete_md(md_t *md, server_rec *base_server, apr_pool_t *p)
{
    const md_srv_conf_t *glob = md_config_get(base_server);
    const apr_array_header_t *mds = glob->mc->mds;
    int i;

    for (i = 0; i < mds->nelts; ++i) {
        if (APR_ARRAY_IDX(mds, i, md_t *) != md) {
            continue;
        }
        complete_md(md, APR_ARRAY_IDX(glob->mc->md_sections, i, md_srv_conf_t *), glob,
                    base_server->server_admin, p);
        return APR_SUCCESS;
    }
    complete_md(md, NULL, glob, base_server->server_admin, p);
    return APR_SUCCESS;
}

apr_status_t md_config_complete_all(server_rec *base_server, apr_pool_t *p)
{
    const md_srv_conf_t *glob = md_config_get(base_server);
    md_mod_conf_t *mc = glob->mc;
    int i;

    for (i = 0; i < mc->mds->nelts; ++i) {
        complete_md(APR_ARRAY_IDX(mc->mds, i, md_t *),
                    APR_ARRAY_IDX(mc->md_sections, i, md_srv_conf_t *), glob,
                    base_server->server_admin, p);
    }
    return APR_SUCCESS;
}
