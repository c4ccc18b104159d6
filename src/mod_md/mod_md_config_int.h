/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Private to the configuration files of the module: mod_md_config.c
 * (defaults, module and server settings, location classes, effective
 * values, completion of MDs), mod_md_config_set.c (the generic setter, MD,
 * CA, key and EAB setters, the directive table), mod_md_config_global.c
 * (proxy, CA files, commands, module-wide setters) and
 * mod_md_config_check.c (the whole-configuration checks). The module
 * exports md_module alone, so none of these names leaves mod_md.so.
 */
#ifndef mod_md_config_int_h
#define mod_md_config_int_h

#include <stddef.h>

#include <httpd.h>
#include <http_config.h>

#include "mod_md_config.h"

/* Where a directive may stand; check_loc() refuses it elsewhere. */
typedef enum {
    MD_LOC_ALL,         /* global, vhost, MD section */
    MD_LOC_NOT_MD,      /* global, vhost */
    MD_LOC_MD,          /* only inside an MD section */
} md_loc_t;

/* Offsets of a setting in md_srv_conf_t / md_mod_conf_t, for the generic
 * setter and the completion of MDs. offsetof itself: APR_OFFSETOF falls
 * back to a member access through NULL (undefined behaviour, reported by
 * UBSan in fuzz_config) where stddef.h came after apr_general.h. */
#define SRV_OFF(f)  offsetof(md_srv_conf_t, f)
#define MOD_OFF(f)  offsetof(md_mod_conf_t, f)

/* --- mod_md_config.c ------------------------------------------------------ */

/* Server settings with every value unset. */
md_srv_conf_t *srv_conf_make(apr_pool_t *p, md_mod_conf_t *mc, const char *name);

/* Records a warning about the value of the directive being read (AH10660
 * at check_config, see md_config_log_warnings). */
void warn_value(cmd_parms *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether the directive being read stands inside an MD section. */
int in_md_section(cmd_parms *cmd);
/* NULL if the directive may stand where it is, else the error text. */
const char *check_loc(cmd_parms *cmd, md_loc_t loc);
/* The settings a directive writes to (the MD section's inside one). */
md_srv_conf_t *target_conf(cmd_parms *cmd);
md_mod_conf_t *cmd_mod_conf(cmd_parms *cmd);
/* 1 when httpd only dumps the configuration ("-t -D DUMP_..."). */
int is_dump_mode(void);
/* Case-insensitive equality of a directive argument and a keyword. */
int is_word(const char *value, const char *word);

/* --- mod_md_config_set.c -------------------------------------------------- */

/* Warns that a duration is out of range; NULL (it is ignored). */
const char *warn_too_large(cmd_parms *cmd, const char *value);
/* Warns when the MDCertificateCheck url is not an http(s) url. */
void check_cert_check_url(cmd_parms *cmd, const char *value);
/* Whether err is a url error that the original module lets pass. */
int is_lenient_uri_error(cmd_parms *cmd, const char *value, const char *err);

/* --- mod_md_config_global.c: setters of the directive table --------------- */

const char *set_proxy(cmd_parms *cmd, void *dc, const char *value);
const char *set_ca_file(cmd_parms *cmd, void *dc, const char *value);
const char *set_dns01_cmd(cmd_parms *cmd, void *dc, const char *args);
const char *set_cmd(cmd_parms *cmd, void *dc, const char *args);
const char *set_dns01_version(cmd_parms *cmd, void *dc, const char *value);
const char *set_cert_file(cmd_parms *cmd, void *dc, const char *value);
const char *set_store_dir(cmd_parms *cmd, void *dc, const char *value);
const char *set_port_map(cmd_parms *cmd, void *dc, const char *v1, const char *v2);
const char *set_retry_failover(cmd_parms *cmd, void *dc, const char *value);
const char *set_store_group(cmd_parms *cmd, void *dc, const char *value);
const char *set_store_locks(cmd_parms *cmd, void *dc, const char *value);
const char *set_match_names(cmd_parms *cmd, void *dc, const char *value);
const char *set_cert_check(cmd_parms *cmd, void *dc, const char *name,
                           const char *url);

#endif /* mod_md_config_int_h */
