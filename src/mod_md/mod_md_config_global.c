/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Setting directives: the proxy, CA files and commands (MDHttpProxy,
 * MDCACertificateFile, MDChallengeDns01, MDNotifyCmd, MDCertificateFile,
 * ...) and the module-wide settings (MDStoreDir, MDPortMap,
 * MDRetryFailover, MDStoreGroup, MDStoreLocks, MDMatchNames,
 * MDCertificateCheck). Their rows are in the directive table of
 * mod_md_config_set.c.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_user.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>

#include "md.h"
#include "md_time.h"
#include "md_util.h"

#include "mod_md_config.h"
#include "mod_md_config_int.h"

/* --- proxy, CA files, commands ------------------------------------------------------------ */

const char *set_proxy(cmd_parms *cmd, void *dc, const char *value)
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
const char *set_ca_file(cmd_parms *cmd, void *dc, const char *value)
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

const char *set_dns01_cmd(cmd_parms *cmd, void *dc, const char *args)
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
const char *set_cmd(cmd_parms *cmd, void *dc, const char *args)
{
    apr_size_t offset = (apr_size_t)(apr_uintptr_t)cmd->info;
    const char *err;

    if ((err = check_loc(cmd, MD_LOC_NOT_MD))) return err;
    *(const char **)((char *)cmd_mod_conf(cmd) + offset) = trimmed_or_null(cmd->pool, args);
    return NULL;
}

const char *set_dns01_version(cmd_parms *cmd, void *dc, const char *value)
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
const char *set_cert_file(cmd_parms *cmd, void *dc, const char *value)
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

const char *set_store_dir(cmd_parms *cmd, void *dc, const char *value)
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

const char *set_port_map(cmd_parms *cmd, void *dc, const char *v1, const char *v2)
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

const char *set_retry_failover(cmd_parms *cmd, void *dc, const char *value)
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
const char *set_store_group(cmd_parms *cmd, void *dc, const char *value)
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

const char *set_store_locks(cmd_parms *cmd, void *dc, const char *value)
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

const char *set_match_names(cmd_parms *cmd, void *dc, const char *value)
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

const char *set_cert_check(cmd_parms *cmd, void *dc, const char *name,
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
