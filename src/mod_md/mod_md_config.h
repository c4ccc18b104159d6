/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Configuration: the directive table, the module-wide settings
 * (md_mod_conf_t), the per-server settings (md_srv_conf_t, merged for
 * virtual hosts), the list of configured Managed Domains, their completion
 * from global values and defaults, and the checks that need the whole
 * configuration (run from the check_config hook, i.e. also for "-t").
 */
#ifndef mod_md_config_h
#define mod_md_config_h

#include <apr_hash.h>
#include <apr_user.h>
#include <httpd.h>
#include <http_config.h>

#include "md.h"

struct md_reg_t;
struct md_ocsp_reg_t;
struct md_crl_reg_t;

#define MD_CONFIG_UNSET     (-1)

typedef enum {
    MD_MATCH_ALL,           /* ServerName and ServerAlias select MDs */
    MD_MATCH_SERVERNAMES,   /* only ServerName; overlapping MDs allowed */
} md_match_mode_t;

/* Module-wide settings: one instance per configuration cycle, shared by all
 * servers. Values are final after the configuration has been read ("last
 * one read wins"). */
typedef struct md_mod_conf_t md_mod_conf_t;
struct md_mod_conf_t {
    apr_pool_t *p;                      /* pconf of this cycle */
    apr_array_header_t *mds;            /* md_t*, in order of definition */

    const char *base_dir;               /* MDStoreDir, absolute; NULL = "md"
                                         * (use md_config_base_dir()) */
    const char *store_group;            /* MDStoreGroup as given, NULL = unset */
    apr_gid_t store_gid;                /* its group id (when set) */
    int local_80;                       /* MDPortMap: local port for 80, -1 none */
    int local_443;                      /* local port for 443, -1 none */
    int manage_base_server;             /* MDBaseServer */
    md_match_mode_t match_mode;         /* MDMatchNames */

    const char *proxy_url;              /* global MDHttpProxy */
    const char *ca_certs;               /* global MDCACertificateFile, NULL default */
    const char *proxy_ca_certs;         /* global MDHttpProxyCACertificateFile */
    const char *dns01_cmd;              /* global MDChallengeDns01 */
    int dns01_version;                  /* MDChallengeDns01Version: 1 or 2 */
    const char *notify_cmd;             /* MDNotifyCmd, raw */
    const char *message_cmd;            /* MDMessageCmd, raw */

    apr_interval_time_t activation_delay;   /* MDActivationDelay */
    apr_interval_time_t retry_delay;        /* MDRetryDelay */
    int retry_failover;                     /* MDRetryFailover */
    int use_store_locks;                    /* MDStoreLocks */
    apr_interval_time_t lock_wait_timeout;  /* MDStoreLocks <duration> */
    apr_interval_time_t initial_delay;      /* MDInitialDelay */
    apr_interval_time_t check_interval;     /* MDCheckInterval */

    int server_status_enabled;          /* MDServerStatus */
    int certificate_status_enabled;     /* MDCertificateStatus */
    const char *cert_check_name;        /* MDCertificateCheck name */
    const char *cert_check_url;         /* MDCertificateCheck url prefix */
    const md_timeslice_t *ocsp_renew_window;  /* MDStaplingRenewWindow */
    const md_timeslice_t *ocsp_keep_window;   /* MDStaplingKeepResponse */
    const char *hsts_header;            /* value of Strict-Transport-Security */

    /* Run-time state, owned and filled by the init code at post_config. */
    int dry_run;
    struct md_reg_t *reg;
    struct md_ocsp_reg_t *ocsp;
    struct md_crl_reg_t *crl;           /* MDCRLCheck certificates, NULL: none */
    apr_array_header_t *unused_names;   /* names of MDs without a vhost */
    apr_array_header_t *watched_names;  /* names of MDs being renewed */
    apr_hash_t *init_errors;            /* md name -> error text */
    apr_array_header_t *warnings;       /* const char*: values accepted with a
                                         * warning (md_config_log_warnings) */
    /* completion: copies shared by MDs with the same settings (read-only) */
    const apr_array_header_t *completed_urls_src;
    apr_array_header_t *completed_urls;
    const char *completed_contact_src;
    apr_array_header_t *completed_contacts;

    /* Private to mod_md_config*.c: the section settings (md_srv_conf_t*) of
     * each MD of mds, same index. */
    apr_array_header_t *md_sections;
};

/* Per-server settings of the ALL class (global, <VirtualHost>, MD section).
 * Unset values are MD_CONFIG_UNSET / NULL; md_config_geti()/gets() apply
 * the defaults. The same struct holds the values given inside an MD
 * section (then s is NULL). */
typedef struct md_srv_conf_t md_srv_conf_t;
struct md_srv_conf_t {
    const char *name;                   /* server or MD name, for debugging */
    server_rec *s;                      /* NULL for MD section settings */
    md_mod_conf_t *mc;

    int transitive;                     /* MDMembers auto(1)/manual(0) */
    int require_https;                  /* md_require_t */
    int renew_mode;                     /* MD_RENEW_* */
    int activation_live;                /* MDActivation: 0 restart, 1 live */
    int must_staple;
    int stapling;                       /* MDStapling */
    int staple_others;                  /* MDStapleOthers */
    int ari_renewals;                   /* MDRenewViaARI */
    int profile_mandatory;
    int crl_check;                      /* MDCRLCheck: MD_CRL_CHECK_* */
    md_pkeys_spec_t *pks;               /* MDPrivateKeys */
    const md_timeslice_t *renew_window;
    const md_timeslice_t *warn_window;
    apr_array_header_t *ca_urls;        /* const char*; empty = default CA */
    const char *ca_contact;             /* MDContactEmail as written */
    const char *ca_proto;
    const char *ca_agreement;
    apr_array_header_t *ca_challenges;  /* const char*; empty = any */
    const char *eab_kid;                /* "none" = explicitly no EAB */
    const char *eab_hmac;
    const char *profile;

    /* Only used inside MD sections (outside they go to md_mod_conf_t). */
    const char *proxy_url;
    const char *ca_certs;
    const char *proxy_ca_certs;
    const char *dns01_cmd;

    /* While reading an MD section: the MD and the settings it receives. */
    md_t *current;
    md_srv_conf_t *section;
    apr_hash_t *names;                  /* section settings: names of the MD */

    /* Run-time: md_t* assigned to this server (filled by the init code). */
    apr_array_header_t *assigned;
};

/* Values for md_config_geti()/md_config_gets(). */
typedef enum {
    MD_CONFIG_TRANSITIVE,
    MD_CONFIG_REQUIRE_HTTPS,
    MD_CONFIG_RENEW_MODE,
    MD_CONFIG_MUST_STAPLE,
    MD_CONFIG_STAPLING,
    MD_CONFIG_STAPLE_OTHERS,
    MD_CONFIG_ARI_RENEWALS,
    MD_CONFIG_PROFILE_MANDATORY,
    MD_CONFIG_SERVER_STATUS,
    MD_CONFIG_CERT_STATUS,
    MD_CONFIG_BASE_SERVER,
    MD_CONFIG_LOCAL_80,
    MD_CONFIG_LOCAL_443,
    MD_CONFIG_DNS01_VERSION,
    MD_CONFIG_RETRY_FAILOVER,
    MD_CONFIG_MATCH_MODE,
    MD_CONFIG_STORE_LOCKS,
    /* strings */
    MD_CONFIG_CA_CONTACT,
    MD_CONFIG_CA_PROTO,
    MD_CONFIG_CA_AGREEMENT,
    MD_CONFIG_PROFILE,
    MD_CONFIG_EAB_KID,
    MD_CONFIG_EAB_HMAC,
    MD_CONFIG_BASE_DIR,
    MD_CONFIG_PROXY,
    MD_CONFIG_CA_CERTS,
    MD_CONFIG_PROXY_CA_CERTS,
    MD_CONFIG_DNS01_CMD,
    MD_CONFIG_NOTIFY_CMD,
    MD_CONFIG_MESSAGE_CMD,
    MD_CONFIG_CERT_CHECK_NAME,
    MD_CONFIG_CERT_CHECK_URL,
    MD_CONFIG_HSTS_HEADER,
} md_config_var_t;

/* The default CA (Let's Encrypt production). */
#define MD_CONFIG_DEFAULT_CA  "https://acme-v02.api.letsencrypt.org/directory"

extern const command_rec md_cmds[];

/** Server config creator/merger of the module record. */
void *md_config_create_svr(apr_pool_t *pool, server_rec *s);
void *md_config_merge_svr(apr_pool_t *pool, void *basev, void *addv);

/** Registers the check_config hook (md_config_check on "-t" and start). */
void md_config_register_hooks(apr_pool_t *p);

/** The (merged) settings of a server; never NULL after configuration. */
md_srv_conf_t *md_config_get(server_rec *s);
/** The module-wide settings. */
md_mod_conf_t *md_config_get_mod(server_rec *s);

/**
 * Effective value of a setting for a server: its own (merged) value, else
 * the default. Module-wide settings (status, ports, ...) come from
 * md_mod_conf_t. Integers: flags 0/1, enums as in md.h; strings may be NULL.
 * MD_CONFIG_BASE_DIR is the absolute store directory.
 */
int md_config_geti(const md_srv_conf_t *sc, md_config_var_t var);
const char *md_config_gets(const md_srv_conf_t *sc, md_config_var_t var);
/** Effective renew (warn = 0) or warn (warn = 1) window of a server. */
const md_timeslice_t *md_config_get_window(const md_srv_conf_t *sc, int warn);

/** The absolute store directory (MDStoreDir, default ServerRoot/md). */
const char *md_config_base_dir(md_mod_conf_t *mc, apr_pool_t *p);

/**
 * Fill every MD property from (a) the MD's own section, else (b) the base
 * server's settings, else (c) the defaults: transitive, CA urls/proto/
 * agreement/challenges, contacts (only when configured), key specs, renew
 * mode (auto becomes manual with static cert files), windows, require-https,
 * must-staple, stapling (+ stapling_set), EAB, profile, ARI, and the per-MD
 * proxy/ca-certs/dns-01 command (section values only; global ones stay in
 * md_mod_conf_t). Idempotent; domains, state and files are not touched.
 * @return APR_SUCCESS
 */
apr_status_t md_config_complete_md(md_t *md, server_rec *base_server, apr_pool_t *p);
/** md_config_complete_md for all configured MDs. */
apr_status_t md_config_complete_all(server_rec *base_server, apr_pool_t *p);

/**
 * Checks that need the whole configuration: completes all MDs, then checks
 * overlapping/duplicate MD names (AH10038, file:line of both), static
 * certificate/key file pairs (AH10170/AH10171) and that wildcard MDs can
 * use dns-01. Errors are logged on base_server.
 * @return APR_SUCCESS or APR_EINVAL if any check failed
 */
apr_status_t md_config_check(server_rec *base_server, apr_pool_t *p);
/* Warns (AH10740) for each CA of an MD that no longer issues via ACME
 * (md_ca_known_gone): on "apache2 -t" and once at a real start. */
void md_config_warn_gone_cas(server_rec *base_server);

/**
 * Logs the warnings about directive values that were accepted although they
 * cannot work as written (AH10660, level warn, with file and line). Called
 * from check_config ("apache2 -t", the console at start) and from
 * post_config outside the dry run (the error log).
 */
void md_config_log_warnings(server_rec *s);

/** The effective dns-01 command for an MD (its own or the global one). */
const char *md_config_dns01_cmd(const md_t *md, const md_mod_conf_t *mc);

#endif /* mod_md_config_h */
