/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Setting directives: the generic setter (flags, durations, timeslices,
 * strings, described by an md_setting_t), Managed Domains and their names
 * (MDomain, <MDomainSet>, MDMembers), CA settings, MDPrivateKeys,
 * MDExternalAccountBinding, and the directive table. The setters of the
 * proxy, CA files, commands and module-wide settings are
 * mod_md_config_global.c.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include <httpd.h>
#include <http_config.h>

#include "md.h"
#include "md_crl.h"
#include "md_crypto.h"
#include "md_idna.h"
#include "md_ip.h"
#include "md_json.h"
#include "md_time.h"
#include "md_util.h"

#include "mod_md_config.h"
#include "mod_md_config_int.h"
#include "mod_md_db.h"

#define MD_RSA_BITS_MAX     16384

static const char *const known_challenges[] = {
    MD_AUTHZ_TYPE_HTTP01, MD_AUTHZ_TYPE_TLSALPN01, MD_AUTHZ_TYPE_DNS01,
};

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
void check_cert_check_url(cmd_parms *cmd, const char *value)
{
    const char *err;

    if (APR_SUCCESS != md_util_abs_http_uri_check(cmd->pool, value, &err)) {
        warn_value(cmd, "%s: '%s' is not an http(s) url (%s), the status links built "
                   "from it will not work", cmd->cmd->name, value, err);
    }
}

/* The original multiplies without an overflow check and takes whatever
 * results: ours ignores such a value instead. Returns NULL (no refusal). */
const char *warn_too_large(cmd_parms *cmd, const char *value)
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

/* Adds a name to the MD as written, in lower case, an address in its
 * normal form (RFC 8738 names it so); empty names and duplicates are
 * dropped. */
static void add_name(cmd_parms *cmd, md_t *md, md_srv_conf_t *sec, const char *name)
{
    const char *ip;
    char *lower;
    int zoned;

    if (!*name) return;
    if (APR_SUCCESS == md_ip_normalize(&ip, &zoned, name, cmd->temp_pool)) {
        if (zoned) {
            warn_value(cmd, "%s: the zone id of the address '%s' is dropped, a "
                       "certificate names '%s'", cmd->cmd->name, name, ip);
        }
        lower = apr_pstrdup(cmd->pool, ip);
    }
    else {
        lower = md_util_str_tolower(apr_pstrdup(cmd->pool, name));
    }
    if (md_has_name(md, sec, lower, cmd->pool)) return;
    if (!md_ip_is_address(lower)) {
        warn_name(cmd, name);
    }
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
int is_lenient_uri_error(cmd_parms *cmd, const char *value, const char *err)
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
