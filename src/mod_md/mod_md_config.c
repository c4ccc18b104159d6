/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Configuration of mod_md: one table row per directive, short setters that
 * check the location class (ALL, NOT-MD, MD), call a pure parser and assign;
 * a generic setter for on/off, duration and timeslice directives; MD
 * sections; merging; completion of MDs from global values and defaults; and
 * the whole-configuration checks run from the check_config hook.
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
#include "md_json.h"
#include "md_time.h"
#include "md_util.h"

#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_db.h"

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(md);
#endif

#define MD_RSA_BITS_MAX     16384

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

static const char *const known_challenges[] = {
    MD_AUTHZ_TYPE_HTTP01, MD_AUTHZ_TYPE_TLSALPN01, MD_AUTHZ_TYPE_DNS01,
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

static md_srv_conf_t *srv_conf_make(apr_pool_t *p, md_mod_conf_t *mc, const char *name)
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
static void warn_value(cmd_parms *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warn_value(cmd_parms *cmd, const char *fmt, ...)
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

typedef enum {
    MD_LOC_ALL,         /* global, vhost, MD section */
    MD_LOC_NOT_MD,      /* global, vhost */
    MD_LOC_MD,          /* only inside an MD section */
} md_loc_t;

static int in_md_section(cmd_parms *cmd)
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

static const char *check_loc(cmd_parms *cmd, md_loc_t loc)
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
static md_srv_conf_t *target_conf(cmd_parms *cmd)
{
    md_srv_conf_t *sc = md_config_get(cmd->server);

    return sc->section? sc->section : sc;
}

static md_mod_conf_t *cmd_mod_conf(cmd_parms *cmd)
{
    return md_config_get(cmd->server)->mc;
}

/* "-t -D DUMP_..." only dumps the configuration: do not read files then. */
static int is_dump_mode(void)
{
    int i;

    for (i = 0; ap_server_config_defines && i < ap_server_config_defines->nelts; ++i) {
        const char *def = APR_ARRAY_IDX(ap_server_config_defines, i, const char *);
        if (def && !strncmp(def, "DUMP_", 5)) return 1;
    }
    return 0;
}

static int is_word(const char *value, const char *word)
{
    return !ap_cstr_casecmp(value, word);
}

/* --- the generic setter: flags, durations, timeslices, strings ------------------------ */

typedef enum {
    MD_VAL_FLAG,
    MD_VAL_DURATION,
    MD_VAL_TIMESLICE,
    MD_VAL_STRING,
} md_val_kind_t;

typedef enum {
    MD_IN_SRV,          /* md_srv_conf_t (or the MD section's) */
    MD_IN_MOD,          /* md_mod_conf_t */
} md_val_scope_t;

typedef const char *md_val_check_fn(cmd_parms *cmd, const void *value);

typedef struct {
    md_loc_t loc;
    md_val_kind_t kind;
    md_val_scope_t scope;
    apr_size_t offset;
    const char *def_unit;           /* durations */
    apr_interval_time_t norm;       /* timeslices */
    md_val_check_fn *check;         /* extra validation, may be NULL */
} md_setting_t;

/* With too_long set, a percentage must stay below 100 (too_long is the
 * original's text for that). Negative lengths are handled by parse_value. */
static const char *check_ts(cmd_parms *cmd, const md_timeslice_t *ts,
                            const char *too_long)
{
    if (too_long && ts->norm > 0 && ts->len >= ts->norm) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, too_long, NULL);
    }
    return NULL;
}

static const char *check_window(cmd_parms *cmd, const void *value)
{
    return check_ts(cmd, value, " a length of 100% or more is not allowed.");
}

static const char *check_ocsp_window(cmd_parms *cmd, const void *value)
{
    return check_ts(cmd, value, " with a length of 100% or more is not allowed.");
}

static const char *check_not_negative_ts(cmd_parms *cmd, const void *value)
{
    return check_ts(cmd, value, NULL);
}

static const char *check_retry_delay(cmd_parms *cmd, const void *value)
{
    return (*(const apr_interval_time_t *)value > 0)?
        NULL : "minimum delay must be greater than 0";
}

static const char *check_initial_delay(cmd_parms *cmd, const void *value)
{
    return (*(const apr_interval_time_t *)value >= 0)?
        NULL : "initial delay must not be negative";
}

static const char *check_check_interval(cmd_parms *cmd, const void *value)
{
    return (*(const apr_interval_time_t *)value >= apr_time_from_sec(1))?
        NULL : "check interval cannot be less than one second";
}

/* Any protocol is stored, as the original does; the renewal of an MD with
 * another one fails ("Unknown CA protocol"). */
static const char *check_protocol(cmd_parms *cmd, const void *value)
{
    if (ap_cstr_casecmp(value, MD_PROTO_ACME)) {
        warn_value(cmd, "%s: unknown CA protocol '%s', the only supported protocol is "
                   "'ACME': renewals of the MDs using it will fail", cmd->cmd->name,
                   (const char *)value);
    }
    return NULL;
}

/* The URL is only a link prefix in md-status pages: stored as given. */
static void check_cert_check_url(cmd_parms *cmd, const char *value)
{
    const char *err;

    if (APR_SUCCESS != md_util_abs_http_uri_check(cmd->pool, value, &err)) {
        warn_value(cmd, "%s: '%s' is not an http(s) url (%s), the status links built "
                   "from it will not work", cmd->cmd->name, value, err);
    }
}

/* The original multiplies without an overflow check and takes whatever
 * results: ours ignores such a value instead. Returns NULL (no refusal). */
static const char *warn_too_large(cmd_parms *cmd, const char *value)
{
    warn_value(cmd, "%s: '%s' is beyond the range of a duration, it is ignored",
               cmd->cmd->name, value);
    return NULL;
}

static const char *parse_value(cmd_parms *cmd, const md_setting_t *st, const char *value,
                               void *field)
{
    md_timeslice_t *ts;
    apr_interval_time_t d;
    apr_status_t rv;
    const char *err;

    switch (st->kind) {
        case MD_VAL_FLAG:
            if (is_word(value, "on")) {
                *(int *)field = 1;
            }
            else if (is_word(value, "off")) {
                *(int *)field = 0;
            }
            else {
                return apr_psprintf(cmd->pool, "unknown '%s', supported parameter "
                                    "values are 'on' and 'off'", value);
            }
            return NULL;
        case MD_VAL_DURATION:
            rv = md_duration_parse(&d, value, st->def_unit);
            if (APR_STATUS_IS_ERANGE(rv)) return warn_too_large(cmd, value);
            if (APR_SUCCESS != rv) return "unrecognized duration format";
            if (st->check && (err = st->check(cmd, &d))) return err;
            *(apr_interval_time_t *)field = d;
            return NULL;
        case MD_VAL_TIMESLICE:
            rv = md_duration_parse(&d, value, "d");
            if (APR_STATUS_IS_ERANGE(rv)) return warn_too_large(cmd, value);
            err = md_timeslice_parse(&ts, cmd->pool, value, st->norm);
            if (err) return apr_pstrcat(cmd->pool, cmd->cmd->name, " ", err, NULL);
            if (st->check && (err = st->check(cmd, ts))) return err;
            if (ts->len < 0) {
                warn_value(cmd, "%s: a negative length is not possible, '%s' is ignored",
                           cmd->cmd->name, value);
                return NULL;
            }
            *(const md_timeslice_t **)field = ts;
            return NULL;
        default:
            if (st->check && (err = st->check(cmd, value))) return err;
            *(const char **)field = apr_pstrdup(cmd->pool, value);
            return NULL;
    }
}

static const char *set_value(cmd_parms *cmd, void *dc, const char *value)
{
    const md_setting_t *st = cmd->info;
    const char *err;
    char *base;

    if ((err = check_loc(cmd, st->loc))) return err;
    base = (MD_IN_MOD == st->scope)? (char *)cmd_mod_conf(cmd) : (char *)target_conf(cmd);
    return parse_value(cmd, st, value, base + st->offset);
}

#define SRV_OFF(f)  APR_OFFSETOF(md_srv_conf_t, f)
#define MOD_OFF(f)  APR_OFFSETOF(md_mod_conf_t, f)

static const md_setting_t st_must_staple = {
    MD_LOC_ALL, MD_VAL_FLAG, MD_IN_SRV, SRV_OFF(must_staple), NULL, 0, NULL };
static const md_setting_t st_stapling = {
    MD_LOC_ALL, MD_VAL_FLAG, MD_IN_SRV, SRV_OFF(stapling), NULL, 0, NULL };
static const md_setting_t st_staple_others = {
    MD_LOC_ALL, MD_VAL_FLAG, MD_IN_SRV, SRV_OFF(staple_others), NULL, 0, NULL };
static const md_setting_t st_ari = {
    MD_LOC_ALL, MD_VAL_FLAG, MD_IN_SRV, SRV_OFF(ari_renewals), NULL, 0, NULL };
static const md_setting_t st_profile_mandatory = {
    MD_LOC_ALL, MD_VAL_FLAG, MD_IN_SRV, SRV_OFF(profile_mandatory), NULL, 0, NULL };
static const md_setting_t st_base_server = {
    MD_LOC_NOT_MD, MD_VAL_FLAG, MD_IN_MOD, MOD_OFF(manage_base_server), NULL, 0, NULL };
static const md_setting_t st_server_status = {
    MD_LOC_ALL, MD_VAL_FLAG, MD_IN_MOD, MOD_OFF(server_status_enabled), NULL, 0, NULL };
static const md_setting_t st_cert_status = {
    MD_LOC_ALL, MD_VAL_FLAG, MD_IN_MOD, MOD_OFF(certificate_status_enabled), NULL, 0,
    NULL };

static const md_setting_t st_activation_delay = {
    MD_LOC_NOT_MD, MD_VAL_DURATION, MD_IN_MOD, MOD_OFF(activation_delay), "d", 0, NULL };
static const md_setting_t st_retry_delay = {
    MD_LOC_NOT_MD, MD_VAL_DURATION, MD_IN_MOD, MOD_OFF(retry_delay), "s", 0,
    check_retry_delay };
static const md_setting_t st_initial_delay = {
    MD_LOC_NOT_MD, MD_VAL_DURATION, MD_IN_MOD, MOD_OFF(initial_delay), "s", 0,
    check_initial_delay };
static const md_setting_t st_check_interval = {
    MD_LOC_NOT_MD, MD_VAL_DURATION, MD_IN_MOD, MOD_OFF(check_interval), "s", 0,
    check_check_interval };

static const md_setting_t st_renew_window = {
    MD_LOC_ALL, MD_VAL_TIMESLICE, MD_IN_SRV, SRV_OFF(renew_window), NULL,
    MD_TIME_LIFE_NORM, check_window };
static const md_setting_t st_warn_window = {
    MD_LOC_ALL, MD_VAL_TIMESLICE, MD_IN_SRV, SRV_OFF(warn_window), NULL,
    MD_TIME_LIFE_NORM, check_window };
static const md_setting_t st_ocsp_renew_window = {
    MD_LOC_ALL, MD_VAL_TIMESLICE, MD_IN_MOD, MOD_OFF(ocsp_renew_window), NULL,
    MD_TIME_LIFE_NORM, check_ocsp_window };
static const md_setting_t st_ocsp_keep = {
    MD_LOC_ALL, MD_VAL_TIMESLICE, MD_IN_MOD, MOD_OFF(ocsp_keep_window), NULL,
    MD_TIME_OCSP_KEEP_NORM, check_not_negative_ts };

static const md_setting_t st_agreement = {
    MD_LOC_ALL, MD_VAL_STRING, MD_IN_SRV, SRV_OFF(ca_agreement), NULL, 0, NULL };
static const md_setting_t st_contact = {
    MD_LOC_ALL, MD_VAL_STRING, MD_IN_SRV, SRV_OFF(ca_contact), NULL, 0, NULL };
static const md_setting_t st_profile = {
    MD_LOC_ALL, MD_VAL_STRING, MD_IN_SRV, SRV_OFF(profile), NULL, 0, NULL };
static const md_setting_t st_proto = {
    MD_LOC_ALL, MD_VAL_STRING, MD_IN_SRV, SRV_OFF(ca_proto), NULL, 0, check_protocol };

/* --- Managed Domains and their names ----------------------------------------------------- */

static int is_transitive_word(const char *value, int *ptransitive)
{
    if (is_word(value, "auto")) {
        *ptransitive = 1;
    }
    else if (is_word(value, "manual")) {
        *ptransitive = 0;
    }
    else return 0;
    return 1;
}

/* Names an MD already has: looked up linearly in the few names most MDs
 * have; an index in sec is built once an MD has many. */
#define MD_NAMES_LINEAR     8

static int md_has_name(const md_t *md, md_srv_conf_t *sec, const char *name, apr_pool_t *p)
{
    int i;

    if (!sec->names && md->domains->nelts < MD_NAMES_LINEAR) {
        return md_array_str_index(md->domains, name, 0, 1) >= 0;
    }
    if (!sec->names) {
        sec->names = apr_hash_make(p);
        for (i = 0; i < md->domains->nelts; ++i) {
            const char *d = APR_ARRAY_IDX(md->domains, i, const char *);
            apr_hash_set(sec->names, d, APR_HASH_KEY_STRING, d);
        }
    }
    return apr_hash_get(sec->names, name, APR_HASH_KEY_STRING) != NULL;
}

/* A name that a CA will refuse is still taken as written (the MD's name is
 * its store directory: converting it would re-issue an existing store's
 * certificate); the renewal then reports the CA's problem. */
static void warn_name(cmd_parms *cmd, const char *name)
{
    const char *ascii, *err;

    if (md_dns_is_non_ascii(name)) {
        if (APR_SUCCESS == md_dns_to_ascii(&ascii, &err, name, cmd->temp_pool)) {
            warn_value(cmd, "%s: '%s' is not in the ASCII form '%s' that CAs expect, "
                       "it is used as written", cmd->cmd->name, name, ascii);
        }
        else {
            warn_value(cmd, "%s: '%s' is not a valid internationalized domain name "
                       "(%s), it is used as written", cmd->cmd->name, name, err);
        }
    }
    else if (!md_dns_is_name(name, 0, 1)) {
        warn_value(cmd, "%s: '%s' is not a valid domain name, a CA will likely refuse it",
                   cmd->cmd->name, name);
    }
}

/* Adds a name to the MD as written, in lower case; empty names and
 * duplicates are dropped. */
static void add_name(cmd_parms *cmd, md_t *md, md_srv_conf_t *sec, const char *name)
{
    char *lower;

    if (!*name) return;
    lower = md_util_str_tolower(apr_pstrdup(cmd->pool, name));
    if (md_has_name(md, sec, lower, cmd->pool)) return;
    warn_name(cmd, name);
    APR_ARRAY_PUSH(md->domains, const char *) = lower;
    if (sec->names) {
        apr_hash_set(sec->names, lower, APR_HASH_KEY_STRING, lower);
    }
}

/* Whether a name can be a directory in the store (as md_store_fs checks). */
static int is_store_name(const char *name)
{
    return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* Creates an MD from names with "auto"/"manual" mixed in and registers it.
 * With all_names, those words are names too. *pmd is NULL if no name was
 * given; an MD whose name cannot be stored is returned but not registered. */
static void add_md(cmd_parms *cmd, int argc, char *const argv[], int all_names,
                   md_t **pmd, md_srv_conf_t **psec)
{
    md_mod_conf_t *mc = cmd_mod_conf(cmd);
    md_srv_conf_t *sec = srv_conf_make(cmd->pool, mc, "section");
    md_t *md = md_create_empty(cmd->pool);
    int i;

    *pmd = NULL;
    md->domains = apr_array_make(cmd->pool, argc > 0? argc : 1, sizeof(const char *));
    for (i = 0; i < argc; ++i) {
        if (!all_names && is_transitive_word(argv[i], &sec->transitive)) {
            continue;
        }
        add_name(cmd, md, sec, argv[i]);
    }
    if (md->domains->nelts == 0) return;
    md->name = APR_ARRAY_IDX(md->domains, 0, const char *);
    sec->name = md->name;
    if (cmd->directive) {
        md->defn_name = cmd->directive->filename;
        md->defn_line_number = (unsigned int)cmd->directive->line_num;
    }
    if (is_store_name(md->name)) {
        APR_ARRAY_PUSH(mc->mds, md_t *) = md;
        APR_ARRAY_PUSH(mc->md_sections, md_srv_conf_t *) = sec;
    }
    else {
        /* its store directory cannot exist: registered, it would make the
         * store sync fail and so stop the renewals of every other MD */
        warn_value(cmd, "%s: the Managed Domain '%s' is ignored, its name cannot be a "
                   "directory in the store", cmd->cmd->name, md->name);
    }
    *pmd = md;
    *psec = sec;
}

static const char *set_domain(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    md_srv_conf_t *sec;
    md_t *md;
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    add_md(cmd, argc, argv, 0, &md, &sec);
    return md? NULL : "needs at least one domain name";
}

static const char *set_section(cmd_parms *cmd, void *dc, const char *arg)
{
    md_srv_conf_t *sc = md_config_get(cmd->server), *sec;
    const char *endp, *args, *err;
    ap_directive_t *directive = cmd->directive;
    apr_array_header_t *words;
    md_t *md;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    endp = ap_strrchr_c(arg, '>');
    if (!endp) return "<MDomainSet> directive missing closing '>'";
    args = apr_pstrndup(cmd->temp_pool, arg, (apr_size_t)(endp - arg));
    words = apr_array_make(cmd->temp_pool, 5, sizeof(char *));
    while (*args) {
        char *word = ap_getword_conf(cmd->temp_pool, &args);
        if (*word) {
            APR_ARRAY_PUSH(words, char *) = word;
        }
    }
    add_md(cmd, words->nelts, (char *const *)words->elts, 0, &md, &sec);
    if (!md && words->nelts > 0) {
        /* as in the original, "<MDomain auto>" names an MD "auto" */
        add_md(cmd, words->nelts, (char *const *)words->elts, 1, &md, &sec);
    }
    if (!md) return "<MDomainSet > section must specify a unique domain name";

    sc->current = md;
    sc->section = sec;
    err = ap_walk_config(directive->first_child, cmd, cmd->context);
    sc->current = NULL;
    sc->section = NULL;
    cmd->directive = directive;
    return err;
}

static const char *set_member(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    md_srv_conf_t *sc = md_config_get(cmd->server);
    int i;

    if (!in_md_section(cmd) || !sc->current) {
        if (argc == 1) {
            if (is_transitive_word(argv[0], &target_conf(cmd)->transitive)) return NULL;
            return "unknown value, use \"auto|manual\"";
        }
        return check_loc(cmd, MD_LOC_MD);
    }
    for (i = 0; i < argc; ++i) {
        if (is_transitive_word(argv[i], &sc->section->transitive)) {
            continue;
        }
        add_name(cmd, sc->current, sc->section, argv[i]);
    }
    return NULL;
}

/* --- CA settings ---------------------------------------------------------------------- */

/* Where the original's url check is more lenient than ours (CA and proxy
 * urls): it takes a missing host, and a port that is digits and not 0 in
 * 16 bits (apr_uri_parse's apr_port_t: 99999 passes). Such a url fails
 * when it is used. */
static int is_lenient_uri_error(cmd_parms *cmd, const char *value, const char *err)
{
    apr_uri_t uri;

    if (!err) return 0;
    if (!strcmp("missing hostname", err)) return 1;
    if (strcmp("invalid port", err)) return 0;
    return APR_SUCCESS == apr_uri_parse(cmd->temp_pool, value, &uri)
           && uri.port_str && apr_isdigit(uri.port_str[0]) && uri.port != 0;
}

static const char *set_ca(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *urls;
    const char *err, *url;
    int i;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    urls = apr_array_make(cmd->pool, argc > 0? argc : 1, sizeof(const char *));
    for (i = 0; i < argc; ++i) {
        url = md_ca_known_url(argv[i]);
        if (!url) {
            if (APR_SUCCESS != md_util_abs_uri_check(cmd->pool, argv[i], &err)
                && !is_lenient_uri_error(cmd, argv[i], err)) {
                return apr_psprintf(cmd->pool, "The CA name '%s' is not known and it is "
                                    "not a URL either (%s). Known CA names are: %s.",
                                    argv[i], err, md_ca_known_names(cmd->pool));
            }
            /* the original takes any absolute URI: the renewal fails */
            if (APR_SUCCESS != md_util_abs_http_uri_check(cmd->pool, argv[i], &err)) {
                warn_value(cmd, "%s: '%s' is not an http(s) url (%s), renewals with "
                           "this CA will fail", cmd->cmd->name, argv[i], err);
            }
            url = apr_pstrdup(cmd->pool, argv[i]);
        }
        APR_ARRAY_PUSH(urls, const char *) = url;
    }
    target_conf(cmd)->ca_urls = urls;
    return NULL;
}

static const char *set_challenges(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    apr_array_header_t *types;
    const char *err, *type;
    apr_size_t k;
    int i;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    types = apr_array_make(cmd->pool, argc > 0? argc : 1, sizeof(const char *));
    for (i = 0; i < argc; ++i) {
        type = NULL;
        for (k = 0; k < MD_ARRAY_LEN(known_challenges); ++k) {
            if (is_word(argv[i], known_challenges[k])) {
                type = known_challenges[k];
            }
        }
        if (!type) {
            /* kept: the CA may offer it; if not, the renewal fails with
             * challenge-mismatch listing the configured types */
            warn_value(cmd, "%s: unknown challenge type '%s', supported are 'http-01', "
                       "'tls-alpn-01' and 'dns-01'", cmd->cmd->name, argv[i]);
            type = apr_pstrdup(cmd->pool, argv[i]);
        }
        md_array_str_add_missing(types, type, 1);
    }
    target_conf(cmd)->ca_challenges = types;
    return NULL;
}

static const char *set_renew_mode(cmd_parms *cmd, void *dc, const char *value)
{
    const char *err;
    int mode;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    if (is_word(value, "auto") || is_word(value, "automatic")) {
        mode = MD_RENEW_AUTO;
    }
    else if (is_word(value, "always")) {
        mode = MD_RENEW_ALWAYS;
    }
    else if (is_word(value, "manual") || is_word(value, "stick")) {
        mode = MD_RENEW_MANUAL;
    }
    else return apr_pstrcat(cmd->pool, "unknown MDDriveMode ", value, NULL);
    target_conf(cmd)->renew_mode = mode;
    return NULL;
}

static const char *set_activation(cmd_parms *cmd, void *dc, const char *value)
{
    const char *err;

    (void)dc;
    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    if (is_word(value, "restart")) {
        target_conf(cmd)->activation_live = 0;
    }
    else if (is_word(value, "live")) {
        target_conf(cmd)->activation_live = 1;
    }
    else {
        return apr_psprintf(cmd->pool, "unknown '%s', supported parameter values are "
                            "'restart' and 'live'", value);
    }
    return NULL;
}

static const char *set_require_https(cmd_parms *cmd, void *dc, const char *value)
{
    const char *err;
    int mode;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    if (is_word(value, "off")) {
        mode = MD_REQUIRE_OFF;
    }
    else if (is_word(value, "temporary")) {
        mode = MD_REQUIRE_TEMPORARY;
    }
    else if (is_word(value, "permanent")) {
        mode = MD_REQUIRE_PERMANENT;
    }
    else {
        return apr_psprintf(cmd->pool, "unknown '%s', supported parameter values are "
                            "'temporary' and 'permanent'", value);
    }
    target_conf(cmd)->require_https = mode;
    return NULL;
}

/* MDCRLCheck auto|on|off: whether the renewal watchdog checks the CRLs that
 * certificates name (auto: those without an OCSP URL). */
static const char *set_crl_check(cmd_parms *cmd, void *dc, const char *value)
{
    const char *err;
    int mode;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    if (is_word(value, "off")) {
        mode = MD_CRL_CHECK_OFF;
    }
    else if (is_word(value, "on")) {
        mode = MD_CRL_CHECK_ON;
    }
    else if (is_word(value, "auto")) {
        mode = MD_CRL_CHECK_AUTO;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: unknown '%s', supported parameter values "
                            "are 'auto', 'on' and 'off'", cmd->cmd->name, value);
    }
    target_conf(cmd)->crl_check = mode;
    return NULL;
}

/* --- MDPrivateKeys ------------------------------------------------------------------------ */

/* The original's refusals stay (below 2048, INT_MAX and above); a length it
 * takes but that is no usable RSA key length is warned about and *pbits
 * set to 0: the key type is ignored. */
static const char *parse_rsa_bits(cmd_parms *cmd, const char *s, unsigned int *pbits)
{
    apr_int64_t bits;
    char *endp;

    *pbits = 0;
    errno = 0;
    bits = apr_strtoi64(s, &endp, 10);
    if (!apr_isdigit(*s) || *endp) {
        warn_value(cmd, "%s: '%s' is not a valid RSA key length, the RSA key is ignored",
                   cmd->cmd->name, s);
        return NULL;
    }
    if (errno || bits >= INT_MAX) return "is too large for an RSA key length.";
    if (bits < MD_PKEY_RSA_BITS_MIN) {
        return "must be 2048 or higher in order to be considered safe.";
    }
    if (bits > MD_RSA_BITS_MAX) {
        warn_value(cmd, "%s: %s bits is too large for an RSA key length (at most %d), "
                   "the RSA key is ignored", cmd->cmd->name, s, MD_RSA_BITS_MAX);
        return NULL;
    }
    *pbits = (unsigned int)bits;
    return NULL;
}

static const char *set_pkeys(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    md_pkeys_spec_t *pks;
    unsigned int bits;
    const char *err;
    int i, kept = 0;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    if (argc <= 0) return "needs to specify the private key type";
    pks = md_pkeys_spec_make(cmd->pool);
    for (i = 0; i < argc; ++i) {
        const char *arg = argv[i];
        if (is_word(arg, "Default")) {
            if (argc > 1) return "'Default' allows no other parameter";
            md_pkeys_spec_add_default(pks);
            ++kept;
        }
        else if (!ap_cstr_casecmpn(arg, "rsa", 3)) {
            bits = MD_PKEY_RSA_BITS_DEFAULT;
            if (arg[3]) {
                err = parse_rsa_bits(cmd, arg + 3, &bits);
            }
            else if (i + 1 < argc && apr_isdigit(argv[i + 1][0])) {
                err = parse_rsa_bits(cmd, argv[++i], &bits);
            }
            if (err) return err;
            if (md_pkeys_spec_contains_rsa(pks)) {
                return "two keys of type 'RSA' are not possible.";
            }
            if (bits) {
                md_pkeys_spec_add_rsa(pks, bits);
                ++kept;
            }
        }
        else {
            if (md_pkeys_spec_contains_ec(pks, arg)) {
                return apr_psprintf(cmd->pool, "two keys of type '%s' are not possible.",
                                    arg);
            }
            if (!md_crypt_curve_known(arg)) {
                warn_value(cmd, "%s: unknown key type '%s' is ignored, use 'Default', "
                           "'RSA [bits]' or the name of an elliptic curve (e.g. P-256, "
                           "P-384, X25519)", cmd->cmd->name, arg);
                continue;
            }
            md_pkeys_spec_add_ec(pks, apr_pstrdup(cmd->pool, arg));
            ++kept;
        }
    }
    /* with every key type ignored, so is the directive */
    if (kept > 0) {
        target_conf(cmd)->pks = pks;
    }
    return NULL;
}

/* --- MDExternalAccountBinding ---------------------------------------------------------- */

/* Any HMAC is stored, as the original does: the registration uses what
 * decodes before the first bad character, and fails with
 * apache:eab-hmac-invalid if that is nothing. The value is never logged. */
static void check_hmac(cmd_parms *cmd, const char *hmac, const char *where)
{
    if (md_util_is_base64url(hmac)) return;
    warn_value(cmd, "%s: the hmac value%s is not base64url encoded, registering an "
               "account with it will likely fail", cmd->cmd->name, where);
}

static const char *read_eab_file(cmd_parms *cmd, md_srv_conf_t *sc, const char *arg)
{
    const char *path, *kid, *hmac;
    md_json_t *json;

    path = ap_server_root_relative(cmd->pool, arg);
    if (!path) {
        return apr_psprintf(cmd->pool, "%s: Invalid file path %s", cmd->cmd->name, arg);
    }
    if (!md_util_is_file(path, cmd->pool)) {
        return apr_psprintf(cmd->pool, "%s: file not found: %s", cmd->cmd->name, path);
    }
    if (APR_SUCCESS != md_json_readf(&json, cmd->pool, path)) {
        return apr_psprintf(cmd->pool, "%s: error reading JSON file %s",
                            cmd->cmd->name, path);
    }
    kid = md_json_gets(json, MD_KEY_KID, NULL);
    if (!kid || !*kid) {
        return apr_psprintf(cmd->pool, "%s: JSON does not contain 'kid' element in "
                            "file %s", cmd->cmd->name, path);
    }
    hmac = md_json_gets(json, MD_KEY_HMAC, NULL);
    if (!hmac || !*hmac) {
        return apr_psprintf(cmd->pool, "%s: JSON does not contain 'hmac' element in "
                            "file %s", cmd->cmd->name, path);
    }
    check_hmac(cmd, hmac, apr_pstrcat(cmd->pool, " in file ", path, NULL));
    sc->eab_kid = apr_pstrdup(cmd->pool, kid);
    sc->eab_hmac = apr_pstrdup(cmd->pool, hmac);
    return NULL;
}

static const char *set_eab(cmd_parms *cmd, void *dc, const char *arg1, const char *arg2)
{
    md_srv_conf_t *sc = target_conf(cmd);
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    if (arg2) {
        check_hmac(cmd, arg2, "");
        sc->eab_kid = arg1;
        sc->eab_hmac = arg2;
        return NULL;
    }
    if (is_word(arg1, "none")) {
        sc->eab_kid = "none";
        sc->eab_hmac = NULL;
        return NULL;
    }
    if (is_dump_mode()) return NULL;
    return read_eab_file(cmd, sc, arg1);
}

/* --- proxy, CA files, commands ------------------------------------------------------------ */

static const char *set_proxy(cmd_parms *cmd, void *dc, const char *value)
{
    md_srv_conf_t *sc = md_config_get(cmd->server);
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    if (APR_SUCCESS != md_util_abs_http_uri_check(cmd->pool, value, &err)) {
        if (!is_lenient_uri_error(cmd, value, err)) return err;
        warn_value(cmd, "%s: '%s' is not usable as a proxy (%s), requests through it "
                   "will fail", cmd->cmd->name, value, err);
    }
    if (sc->section) {
        sc->section->proxy_url = value;
    }
    else {
        sc->mc->proxy_url = value;
    }
    return NULL;
}

/* A file may appear after the server started (the original stores the path
 * unchecked): a missing one is reported here and again where it is used. */
static void warn_missing_file(cmd_parms *cmd, const char *path)
{
    if (is_dump_mode() || md_util_is_file(path, cmd->temp_pool)) return;
    warn_value(cmd, "%s: file '%s' does not exist (yet) or is not a regular file",
               cmd->cmd->name, path);
}

/* MDCACertificateFile / MDHttpProxyCACertificateFile: cmd->info is
 * "proxy" for the latter. "none" means the default. */
static const char *set_ca_file(cmd_parms *cmd, void *dc, const char *value)
{
    md_srv_conf_t *sc = md_config_get(cmd->server);
    int for_proxy = (cmd->info != NULL);
    const char *err, *path = NULL, **field;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    if (!is_word(value, "none")) {
        path = ap_server_root_relative(cmd->pool, value);
        if (!path) {
            return apr_psprintf(cmd->pool, "%s: invalid file path %s", cmd->cmd->name,
                                value);
        }
        warn_missing_file(cmd, path);
    }
    if (sc->section) {
        field = for_proxy? &sc->section->proxy_ca_certs : &sc->section->ca_certs;
    }
    else {
        field = for_proxy? &sc->mc->proxy_ca_certs : &sc->mc->ca_certs;
    }
    *field = path;
    return NULL;
}

/* The argument text without surrounding white space, NULL if empty. */
static const char *trimmed_or_null(apr_pool_t *p, const char *s)
{
    const char *end;

    if (!s) return NULL;
    while (*s && apr_isspace(*s)) ++s;
    end = s + strlen(s);
    while (end > s && apr_isspace(end[-1])) --end;
    return (end > s)? apr_pstrndup(p, s, (apr_size_t)(end - s)) : NULL;
}

static const char *set_dns01_cmd(cmd_parms *cmd, void *dc, const char *args)
{
    md_srv_conf_t *sc = md_config_get(cmd->server);
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    if (sc->section) {
        sc->section->dns01_cmd = trimmed_or_null(cmd->pool, args);
    }
    else {
        sc->mc->dns01_cmd = trimmed_or_null(cmd->pool, args);
    }
    return NULL;
}

/* MDNotifyCmd / MDMessageCmd: cmd->info is the offset in md_mod_conf_t. */
static const char *set_cmd(cmd_parms *cmd, void *dc, const char *args)
{
    apr_size_t offset = (apr_size_t)(apr_uintptr_t)cmd->info;
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    *(const char **)((char *)cmd_mod_conf(cmd) + offset) = trimmed_or_null(cmd->pool, args);
    return NULL;
}

static const char *set_dns01_version(cmd_parms *cmd, void *dc, const char *value)
{
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    if (!strcmp("1", value)) {
        cmd_mod_conf(cmd)->dns01_version = 1;
    }
    else if (!strcmp("2", value)) {
        cmd_mod_conf(cmd)->dns01_version = 2;
    }
    else return "Only versions `1` and `2` are supported";
    return NULL;
}

/* MDCertificateFile / MDCertificateKeyFile: cmd->info non-NULL for keys. */
static const char *set_cert_file(cmd_parms *cmd, void *dc, const char *value)
{
    md_srv_conf_t *sc = md_config_get(cmd->server);
    apr_array_header_t **pfiles;
    const char *err, *path;

    if ((err = check_loc(cmd, MD_LOC_MD))) return err;
    if (!sc->current) return check_loc(cmd, MD_LOC_MD);
    path = ap_server_root_relative(cmd->pool, value);
    if (!path) {
        return apr_psprintf(cmd->pool, "%s: invalid file path %s", cmd->cmd->name, value);
    }
    warn_missing_file(cmd, path);
    pfiles = cmd->info? &sc->current->pkey_files : &sc->current->cert_files;
    if (!*pfiles) {
        *pfiles = apr_array_make(cmd->pool, 3, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*pfiles, const char *) = path;
    return NULL;
}

/* --- module-wide settings ------------------------------------------------------------------ */

static const char *set_store_dir(cmd_parms *cmd, void *dc, const char *value)
{
    const char *err, *path;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    path = ap_server_root_relative(cmd->pool, value);
    if (!path || !*value) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, value);
    }
    /* An existing non-directory is reported by "apache2 -t"; a real start
     * goes on, serves what it can and renews nothing (AH10630), so that a
     * broken store never keeps a server down. */
    if (AP_SQ_RM_CONFIG_TEST == ap_state_query(AP_SQ_RUN_MODE)) {
        apr_finfo_t info;

        if (APR_SUCCESS == apr_stat(&info, path, APR_FINFO_TYPE, cmd->pool)
            && APR_DIR != info.filetype) {
            return apr_psprintf(cmd->pool, "%s: '%s' exists but is not a directory",
                                cmd->cmd->name, path);
        }
    }
    cmd_mod_conf(cmd)->base_dir = path;
    return NULL;
}

/* Like the original, the local port is the leading number ("+" allowed);
 * *pjunk is set when something follows it. */
static const char *parse_port_map(const char *value, int *pnet, int *plocal, int *pjunk)
{
    apr_int64_t n;
    char *endp;

    if (!ap_cstr_casecmpn(value, "https:", 6)) {
        *pnet = 443;
        value += 6;
    }
    else if (!ap_cstr_casecmpn(value, "http:", 5)) {
        *pnet = 80;
        value += 5;
    }
    else {
        errno = 0;
        n = apr_strtoi64(value, &endp, 10);
        if (errno) return "unable to parse first port number";
        if (':' != *endp) return "no ':' after first port number";
        if (n != 80 && n != 443) return "mapped port number must be 80 or 443";
        *pnet = (int)n;
        value = endp + 1;
    }
    if (!strcmp("-", value)) {
        *plocal = -1;
        return NULL;
    }
    errno = 0;
    n = apr_strtoi64(value, &endp, 10);
    if (errno) return "unable to parse second port number";
    if (!(apr_isdigit(*value) || ('+' == *value && apr_isdigit(value[1])))
        || n <= 0 || n > 65535) {
        return "invalid number for port map, must be in ]0,65535]";
    }
    *plocal = (int)n;
    *pjunk = ('\0' != *endp);
    return NULL;
}

static const char *set_port_map(cmd_parms *cmd, void *dc, const char *v1, const char *v2)
{
    md_mod_conf_t *mc = cmd_mod_conf(cmd);
    const char *err, *values[2];
    int i, net, local, junk = 0;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    values[0] = v1;
    values[1] = v2;
    for (i = 0; i < 2 && values[i]; ++i) {
        if ((err = parse_port_map(values[i], &net, &local, &junk))) return err;
        if (junk) {
            warn_value(cmd, "%s: '%s' has more than a port number after ':', %d is "
                       "used", cmd->cmd->name, values[i], local);
        }
        if (80 == net) {
            mc->local_80 = local;
        }
        else {
            mc->local_443 = local;
        }
    }
    return NULL;
}

static const char *set_retry_failover(cmd_parms *cmd, void *dc, const char *value)
{
    const char *err;
    apr_int64_t n;
    char *endp;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    errno = 0;
    n = apr_strtoi64(value, &endp, 10);
    if (endp == value || n <= 0) return "invalid argument, must be a number > 0";
    /* the original reads the leading number: "3x" is 3 */
    if (errno || *endp || n > INT_MAX) {
        n = (errno || n > INT_MAX)? INT_MAX : n;
        warn_value(cmd, "%s: '%s' is not a plain number > 0, %d is used",
                   cmd->cmd->name, value, (int)n);
    }
    cmd_mod_conf(cmd)->retry_failover = (int)n;
    return NULL;
}

/* MDStoreGroup: a group name (or number) that exists here; a typo is a
 * configuration error, else the daemons meant to read domains/ would
 * silently not. */
static const char *set_store_group(cmd_parms *cmd, void *dc, const char *value)
{
    md_mod_conf_t *mc = cmd_mod_conf(cmd);
    const char *err, *end;
    apr_gid_t gid;
    apr_int64_t n;

    (void)dc;
    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    if (!*value) return apr_psprintf(cmd->pool, "%s: empty group name", cmd->cmd->name);
    if (APR_SUCCESS != apr_gid_get(&gid, value, cmd->pool)) {
        n = apr_strtoi64(value, (char **)&end, 10);
        if (*end || n < 0 || n >= INT_MAX || !apr_isdigit(*value)) {
            return apr_psprintf(cmd->pool, "%s: unknown group '%s'", cmd->cmd->name,
                                value);
        }
        gid = (apr_gid_t)n;
    }
    mc->store_group = apr_pstrdup(cmd->pool, value);
    mc->store_gid = gid;
    return NULL;
}

static const char *set_store_locks(cmd_parms *cmd, void *dc, const char *value)
{
    md_mod_conf_t *mc = cmd_mod_conf(cmd);
    apr_interval_time_t wait;
    apr_status_t rv;
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    if (is_word(value, "on")) {
        mc->use_store_locks = 1;
    }
    else if (is_word(value, "off")) {
        mc->use_store_locks = 0;
    }
    else if (APR_STATUS_IS_ERANGE(rv = md_duration_parse(&wait, value, "s"))) {
        warn_too_large(cmd, value);
    }
    else if (APR_SUCCESS == rv) {
        if (wait < 0) {
            warn_value(cmd, "%s: a negative lock wait time is not possible, '%s' is "
                       "ignored", cmd->cmd->name, value);
            return NULL;
        }
        mc->use_store_locks = (wait != 0);
        if (wait) {
            mc->lock_wait_timeout = wait;
        }
    }
    else return "neither 'on', 'off' or a duration specified";
    return NULL;
}

static const char *set_match_names(cmd_parms *cmd, void *dc, const char *value)
{
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    if (is_word(value, "all")) {
        cmd_mod_conf(cmd)->match_mode = MD_MATCH_ALL;
    }
    else if (is_word(value, "servernames")) {
        cmd_mod_conf(cmd)->match_mode = MD_MATCH_SERVERNAMES;
    }
    else return "invalid argument, must be a 'all' or 'servernames'";
    return NULL;
}

static const char *set_cert_check(cmd_parms *cmd, void *dc, const char *name,
                                  const char *url)
{
    md_mod_conf_t *mc = cmd_mod_conf(cmd);
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_ALL))) return err;
    check_cert_check_url(cmd, url);
    mc->cert_check_name = name;
    mc->cert_check_url = url;
    return NULL;
}

/* --- the directive table ---------------------------------------------------------------------- */

#define SETTING(s)  ((void *)&(s))

const command_rec md_cmds[] = {
    /* the CA and the account */
    AP_INIT_TAKE_ARGV("MDCertificateAuthority", set_ca, NULL, RSRC_CONF,
                      "URL(s) or known name(s) of CA issuing the certificates"),
    AP_INIT_TAKE1("MDCertificateAgreement", set_value, SETTING(st_agreement), RSRC_CONF,
                  "either 'accepted' or the URL of CA Terms-of-Service agreement you accept"),
    AP_INIT_TAKE_ARGV("MDCAChallenges", set_challenges, NULL, RSRC_CONF,
                      "A list of challenge types to be used."),
    AP_INIT_TAKE1("MDCertificateProtocol", set_value, SETTING(st_proto), RSRC_CONF,
                  "Protocol used to obtain/renew certificates"),
    AP_INIT_TAKE1("MDContactEmail", set_value, SETTING(st_contact), RSRC_CONF,
                  "Email address used for account registration"),
    AP_INIT_TAKE1("MDDriveMode", set_renew_mode, NULL, RSRC_CONF,
                  "deprecated, older name for MDRenewMode"),
    AP_INIT_TAKE1("MDActivation", set_activation, NULL, RSRC_CONF,
                  "when renewed certificates are used: at the next restart (restart, "
                  "the default) or at once, without a restart (live)"),
    AP_INIT_TAKE1("MDRenewMode", set_renew_mode, NULL, RSRC_CONF,
                  "Controls how renewal of Managed Domain certificates shall be handled."),
    /* domains */
    AP_INIT_TAKE_ARGV("MDomain", set_domain, NULL, RSRC_CONF,
                      "A group of server names with one certificate"),
    AP_INIT_RAW_ARGS("<MDomainSet", set_section, NULL, RSRC_CONF,
                     "Container for a managed domain with common settings and certificate."),
    AP_INIT_RAW_ARGS("<MDomain", set_section, NULL, RSRC_CONF,
                     "Short form for <MDomainSet> container."),
    AP_INIT_TAKE_ARGV("MDMember", set_member, NULL, RSRC_CONF,
                      "Define domain name(s) part of the Managed Domain. Use 'auto' or "
                      "'manual' to enable/disable auto adding names from virtual hosts."),
    AP_INIT_TAKE_ARGV("MDMembers", set_member, NULL, RSRC_CONF,
                      "Define domain name(s) part of the Managed Domain. Use 'auto' or "
                      "'manual' to enable/disable auto adding names from virtual hosts."),
    /* certificates and keys */
    AP_INIT_TAKE1("MDMustStaple", set_value, SETTING(st_must_staple), RSRC_CONF,
                  "Enable/Disable the Must-Staple flag for new certificates."),
    AP_INIT_TAKE12("MDPortMap", set_port_map, NULL, RSRC_CONF,
                   "Declare the mapped ports 80 and 443 on the local server. E.g. 80:8000 "
                   "to indicate that the server port 8000 is reachable as port 80 from the "
                   "internet. Use 80:- to indicate that port 80 is not reachable from "
                   "the outside."),
    AP_INIT_TAKE_ARGV("MDPrivateKeys", set_pkeys, NULL, RSRC_CONF,
                      "set the type and parameters for private key generation"),
    AP_INIT_TAKE1("MDHttpProxy", set_proxy, NULL, RSRC_CONF,
                  "URL of a HTTP(S) proxy to use for outgoing connections"),
    AP_INIT_TAKE1("MDStoreDir", set_store_dir, NULL, RSRC_CONF,
                  "the directory for file system storage of managed domain data."),
    AP_INIT_TAKE1("MDStoreGroup", set_store_group, NULL, RSRC_CONF,
                  "the group that may read the certificates and keys in domains/."),
    AP_INIT_TAKE1("MDRenewWindow", set_value, SETTING(st_renew_window), RSRC_CONF,
                  "Time length for renewal before certificate expires (defaults to days)."),
    AP_INIT_TAKE1("MDRequireHttps", set_require_https, NULL, RSRC_CONF | OR_AUTHCFG,
                  "Redirect non-secure requests to the https: equivalent."),
    AP_INIT_RAW_ARGS("MDNotifyCmd", set_cmd, (void *)(apr_uintptr_t)MOD_OFF(notify_cmd), RSRC_CONF,
                     "Set the command to run when signup/renew of domain is complete."),
    AP_INIT_TAKE1("MDBaseServer", set_value, SETTING(st_base_server), RSRC_CONF,
                  "Allow managing of base server outside virtual hosts."),
    AP_INIT_RAW_ARGS("MDChallengeDns01", set_dns01_cmd, NULL, RSRC_CONF,
                     "Set the command for setup/teardown of dns-01 challenges"),
    AP_INIT_TAKE1("MDChallengeDns01Version", set_dns01_version, NULL, RSRC_CONF,
                  "Set the type of arguments to call `MDChallengeDns01` with"),
    AP_INIT_TAKE1("MDCertificateFile", set_cert_file, NULL, RSRC_CONF,
                  "set the static certificate (chain) file to use for this domain."),
    AP_INIT_TAKE1("MDCertificateKeyFile", set_cert_file, (void *)"key", RSRC_CONF,
                  "set the static private key file to use for this domain."),
    /* status and monitoring */
    AP_INIT_TAKE1("MDServerStatus", set_value, SETTING(st_server_status), RSRC_CONF,
                  "On to see Managed Domains in server-status."),
    AP_INIT_TAKE1("MDCertificateStatus", set_value, SETTING(st_cert_status), RSRC_CONF,
                  "On to see Managed Domain expose /.httpd/certificate-status."),
    AP_INIT_TAKE1("MDWarnWindow", set_value, SETTING(st_warn_window), RSRC_CONF,
                  "When less time remains for a certificate, send our/log a warning "
                  "(defaults to days)"),
    AP_INIT_RAW_ARGS("MDMessageCmd", set_cmd, (void *)(apr_uintptr_t)MOD_OFF(message_cmd), RSRC_CONF,
                     "Set the command run when a message about a domain is issued."),
    /* stapling */
    AP_INIT_TAKE1("MDStapling", set_value, SETTING(st_stapling), RSRC_CONF,
                  "Enable/Disable OCSP Stapling for this/all Managed Domain(s)."),
    AP_INIT_TAKE1("MDStapleOthers", set_value, SETTING(st_staple_others), RSRC_CONF,
                  "Enable/Disable OCSP Stapling for certificates not in Managed Domains."),
    AP_INIT_TAKE1("MDStaplingKeepResponse", set_value, SETTING(st_ocsp_keep), RSRC_CONF,
                  "The amount of time to keep an OCSP response in the store."),
    AP_INIT_TAKE1("MDStaplingRenewWindow", set_value, SETTING(st_ocsp_renew_window),
                  RSRC_CONF,
                  "Time length for renewal before OCSP responses expire (defaults to days)."),
    AP_INIT_TAKE1("MDCRLCheck", set_crl_check, NULL, RSRC_CONF,
                  "Check the CRLs that certificates name: auto (those without an OCSP "
                  "URL), on or off (default)."),
    AP_INIT_TAKE2("MDCertificateCheck", set_cert_check, NULL, RSRC_CONF,
                  "Set name and URL pattern for a certificate monitoring site."),
    AP_INIT_TAKE2("MDCertificateMonitor", set_cert_check, NULL, RSRC_CONF,
                  "Set name and URL pattern for a certificate monitoring site "
                  "(alias of MDCertificateCheck)."),
    /* timing, connections, accounts */
    AP_INIT_TAKE1("MDActivationDelay", set_value, SETTING(st_activation_delay), RSRC_CONF,
                  "How long to delay activation of new certificates"),
    AP_INIT_TAKE1("MDCACertificateFile", set_ca_file, NULL, RSRC_CONF,
                  "Set the CA file to use for connections"),
    AP_INIT_TAKE1("MDHttpProxyCACertificateFile", set_ca_file, (void *)"proxy", RSRC_CONF,
                  "Set the CA file to use for connections to the HTTP(S) proxy"),
    AP_INIT_TAKE12("MDExternalAccountBinding", set_eab, NULL, RSRC_CONF,
                   "Set the external account binding keyid and hmac values to use at CA"),
    AP_INIT_TAKE1("MDRetryDelay", set_value, SETTING(st_retry_delay), RSRC_CONF,
                  "Time length for first retry, doubled on every consecutive error."),
    AP_INIT_TAKE1("MDRetryFailover", set_retry_failover, NULL, RSRC_CONF,
                  "The number of errors before a failover to another CA is triggered."),
    AP_INIT_TAKE1("MDStoreLocks", set_store_locks, NULL, RSRC_CONF,
                  "Configure locking of store for updates."),
    AP_INIT_TAKE_ARGV("MDStoreDB", md_db_set_store, NULL, RSRC_CONF,
                      "A database the nodes of a cluster share (docs/cluster.md)."),
    AP_INIT_TAKE1("MDMatchNames", set_match_names, NULL, RSRC_CONF,
                  "Determines how DNS names are matched to vhosts."),
    AP_INIT_TAKE1("MDInitialDelay", set_value, SETTING(st_initial_delay), RSRC_CONF,
                  "How long to delay the first certificate check."),
    AP_INIT_TAKE1("MDCheckInterval", set_value, SETTING(st_check_interval), RSRC_CONF,
                  "Time between certificate checks."),
    AP_INIT_TAKE1("MDProfile", set_value, SETTING(st_profile), RSRC_CONF,
                  "The name of an CA profile to order certificates for."),
    AP_INIT_TAKE1("MDProfileMandatory", set_value, SETTING(st_profile_mandatory), RSRC_CONF,
                  "Determines if a configured CA profile is mandatory."),
    AP_INIT_TAKE1("MDRenewViaARI", set_value, SETTING(st_ari), RSRC_CONF,
                  "Enable/Disable ACME ARI (RFC 9773) to trigger renewals."),
    AP_INIT_TAKE1(NULL, NULL, NULL, RSRC_CONF, NULL)
};

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

/* --- whole configuration checks ------------------------------------------------------------ */

#define MD_CHECK_MAX_REPORTS 10

static const char *defn_file(const md_t *md)
{
    return md->defn_name? md->defn_name : "unknown";
}

static void report_overlap(server_rec *s, const char *domain, const md_t *md1,
                           const md_t *md2)
{
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10038)
                 "two Managed Domains have an overlap in domain '%s', first definition "
                 "in %s(line %d), second in %s(line %d)", domain, defn_file(md1),
                 (int)md1->defn_line_number, defn_file(md2), (int)md2->defn_line_number);
}

/* Overlaps between MDs: the same name in two MDs, or a name matched by
 * another MD's wildcard. Uses a name index, linear in the number of names. */
static int check_overlaps(server_rec *s, md_mod_conf_t *mc, apr_pool_t *p)
{
    apr_hash_t *owner = apr_hash_make(p);
    int i, j, errors = 0, wildcards = 0;

    for (i = 0; i < mc->mds->nelts; ++i) {
        const md_t *md = APR_ARRAY_IDX(mc->mds, i, const md_t *);
        for (j = 0; j < md->domains->nelts; ++j) {
            const char *name = APR_ARRAY_IDX(md->domains, j, const char *);
            const md_t *other = apr_hash_get(owner, name, APR_HASH_KEY_STRING);
            if (other && other != md) {
                if (++errors <= MD_CHECK_MAX_REPORTS) {
                    report_overlap(s, name, other, md);
                }
            }
            else {
                apr_hash_set(owner, name, APR_HASH_KEY_STRING, md);
            }
            if ('*' == name[0]) {
                wildcards = 1;
            }
        }
    }
    for (i = 0; wildcards && i < mc->mds->nelts; ++i) {
        const md_t *md = APR_ARRAY_IDX(mc->mds, i, const md_t *);
        for (j = 0; j < md->domains->nelts; ++j) {
            const char *name = APR_ARRAY_IDX(md->domains, j, const char *);
            const char *dot = strchr(name, '.');
            const md_t *other;
            if (md_dns_is_wildcard(name) || !dot) {
                continue;
            }
            other = apr_hash_get(owner, apr_pstrcat(p, "*", dot, NULL), APR_HASH_KEY_STRING);
            if (other && other != md && ++errors <= MD_CHECK_MAX_REPORTS) {
                report_overlap(s, name, other, md);
            }
        }
    }
    return errors;
}

/* With MDMatchNames servernames overlaps are fine, but two MDs with the same
 * name would share one store entry. The original starts with them: the
 * first definition is used, a later one is dropped with a warning. */
static void drop_duplicate_names(server_rec *s, md_mod_conf_t *mc, apr_pool_t *p)
{
    apr_hash_t *seen = apr_hash_make(p);
    int i, kept = 0, reports = 0;

    for (i = 0; i < mc->mds->nelts; ++i) {
        md_t *md = APR_ARRAY_IDX(mc->mds, i, md_t *);
        const md_t *other = apr_hash_get(seen, md->name, APR_HASH_KEY_STRING);
        if (!other) {
            apr_hash_set(seen, md->name, APR_HASH_KEY_STRING, md);
            APR_ARRAY_IDX(mc->mds, kept, md_t *) = md;
            APR_ARRAY_IDX(mc->md_sections, kept, md_srv_conf_t *) =
                APR_ARRAY_IDX(mc->md_sections, i, md_srv_conf_t *);
            ++kept;
            continue;
        }
        if (++reports <= MD_CHECK_MAX_REPORTS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10600)
                         "two Managed Domains have the same name '%s', first definition "
                         "in %s(line %d), second in %s(line %d): the second is ignored",
                         md->name, defn_file(other), (int)other->defn_line_number,
                         defn_file(md), (int)md->defn_line_number);
        }
    }
    mc->mds->nelts = kept;
    mc->md_sections->nelts = kept;
}

static int check_static_files(server_rec *s, const md_t *md)
{
    int ncerts = md->cert_files? md->cert_files->nelts : 0;
    int nkeys = md->pkey_files? md->pkey_files->nelts : 0;

    if (ncerts > 0 && ncerts != nkeys) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10170)
                     "The Managed Domain '%s' needs one MDCertificateKeyFile for each "
                     "MDCertificateFile.", md->name);
        return 1;
    }
    if (ncerts == 0 && nkeys > 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, APLOGNO(10171)
                     "The Managed Domain '%s' has MDCertificateKeyFile(s) but no "
                     "MDCertificateFile.", md->name);
        return 1;
    }
    return 0;
}

/* A wildcard name can only be validated with dns-01: it must be allowed by
 * MDCAChallenges and have an MDChallengeDns01 command. Without, the server
 * starts (as the original does) and the renewal fails with
 * challenge-mismatch: the admin is told now. */
static void check_wildcard(server_rec *s, const md_t *md, const md_mod_conf_t *mc)
{
    const char *wildcard = NULL;
    int i;

    if ((md->cert_files && md->cert_files->nelts > 0)
        || MD_RENEW_MANUAL == md->renew_mode) {
        return;
    }
    for (i = 0; i < md->domains->nelts && !wildcard; ++i) {
        const char *name = APR_ARRAY_IDX(md->domains, i, const char *);
        if (md_dns_is_wildcard(name)) {
            wildcard = name;
        }
    }
    if (!wildcard) return;
    if (md->ca_challenges
        && md_array_str_index(md->ca_challenges, MD_AUTHZ_TYPE_DNS01, 0, 0) < 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10601)
                     "%s: the wildcard domain '%s' can only be validated with the "
                     "challenge type 'dns-01', but MDCAChallenges does not include it "
                     "(definition in %s(line %d)): renewals will fail", md->name,
                     wildcard, defn_file(md), (int)md->defn_line_number);
    }
    else if (!md_config_dns01_cmd(md, mc)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10602)
                     "%s: the wildcard domain '%s' can only be validated with the "
                     "challenge type 'dns-01', but no MDChallengeDns01 command is "
                     "configured (definition in %s(line %d)): renewals will fail",
                     md->name, wildcard, defn_file(md), (int)md->defn_line_number);
    }
}

apr_status_t md_config_check(server_rec *base_server, apr_pool_t *p)
{
    md_mod_conf_t *mc = md_config_get_mod(base_server);
    int i, errors = 0;

    md_config_complete_all(base_server, mc->p);
    if (MD_MATCH_ALL == mc->match_mode) {
        errors += check_overlaps(base_server, mc, p);
    }
    else {
        drop_duplicate_names(base_server, mc, p);
    }
    for (i = 0; i < mc->mds->nelts; ++i) {
        const md_t *md = APR_ARRAY_IDX(mc->mds, i, const md_t *);
        errors += check_static_files(base_server, md);
        check_wildcard(base_server, md, mc);
    }
    return errors? APR_EINVAL : APR_SUCCESS;
}

void md_config_warn_gone_cas(server_rec *base_server)
{
    md_mod_conf_t *mc = md_config_get_mod(base_server);
    const char *url, *gone;
    int i, k;

    for (i = 0; i < mc->mds->nelts; ++i) {
        const md_t *md = APR_ARRAY_IDX(mc->mds, i, const md_t *);

        for (k = 0; md->ca_urls && k < md->ca_urls->nelts; ++k) {
            url = APR_ARRAY_IDX(md->ca_urls, k, const char *);
            if (!(gone = md_ca_known_gone(url))) {
                continue;
            }
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, base_server, APLOGNO(10740)
                         "%s: the CA %s (%s) no longer issues certificates via ACME "
                         "(since %s), renewals from it will fail. Configure a current "
                         "CA with MDCertificateAuthority, e.g. LetsEncrypt "
                         "(definition in %s(line %d))", md->name, md_ca_known_name(url),
                         url, gone, defn_file(md), (int)md->defn_line_number);
        }
    }
}

static int md_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    md_config_log_warnings(s);
    if (APR_SUCCESS != md_config_check(s, ptemp)) return !OK;
    /* a real start says it in the error log, from post_config */
    if (AP_SQ_RM_CONFIG_TEST == ap_state_query(AP_SQ_RUN_MODE)) {
        md_config_warn_gone_cas(s);
    }
    return OK;
}

void md_config_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(md_check_config, NULL, NULL, APR_HOOK_MIDDLE);
}
