/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The checks that need the whole configuration, run from the check_config
 * hook (so also for "apache2 -t"): overlapping or same-named MDs, static
 * certificate files, wildcards and addresses without a challenge type
 * that can validate them, CAs that left ACME.
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>

#include "md.h"
#include "md_ip.h"
#include "md_util.h"

#include "mod_md.h"
#include "mod_md_config.h"

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(md);
#endif

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

static int allows(const md_t *md, const char *type)
{
    return md_array_str_index(md->ca_challenges, type, 0, 0) >= 0;
}

/* An address can only be validated with http-01 or tls-alpn-01 (RFC 8738
 * 7) and has no wildcard form. The original starts with such an MD (and
 * orders the address as a DNS name, which CAs refuse): ours starts too,
 * tells the admin now, and the renewal fails before ordering. */
static void check_addresses(server_rec *s, const md_t *md, apr_pool_t *p)
{
    const char *name;
    int i;

    if ((md->cert_files && md->cert_files->nelts > 0)
        || MD_RENEW_MANUAL == md->renew_mode) {
        return;
    }
    for (i = 0; i < md->domains->nelts; ++i) {
        name = APR_ARRAY_IDX(md->domains, i, const char *);
        if (md_dns_is_wildcard(name) && md_ip_is_address(name + 2)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10802)
                         "%s: '%s' is a wildcard of the address '%s', which no CA "
                         "can validate (definition in %s(line %d)): renewals will "
                         "fail", md->name, name, name + 2, defn_file(md),
                         (int)md->defn_line_number);
        }
        else if (md_ip_is_address(name) && md->ca_challenges
                 && md->ca_challenges->nelts > 0
                 && !allows(md, MD_AUTHZ_TYPE_HTTP01)
                 && !allows(md, MD_AUTHZ_TYPE_TLSALPN01)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10800)
                         "%s: the address '%s' can only be validated with the "
                         "challenge types 'http-01' or 'tls-alpn-01', but "
                         "MDCAChallenges allows '%s' (definition in %s(line %d)): "
                         "renewals will fail", md->name, name,
                         md_array_str_join(md->ca_challenges, " ", p),
                         defn_file(md), (int)md->defn_line_number);
        }
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
        check_addresses(base_server, md, p);
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
