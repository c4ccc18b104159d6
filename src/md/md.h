/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The model of a managed domain (MD) and of its key specifications, as the
 * configuration produces it and as md.json stores it (contract.md 2.1).
 * Pure data: conversion to and from JSON lives in md_core.c.
 */
#ifndef md_h
#define md_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_version.h"

struct md_json_t;

/* --- states (md.json "state") ------------------------------------------- */
typedef enum {
    MD_S_UNKNOWN = 0,               /* not analysed yet */
    MD_S_INCOMPLETE = 1,            /* certificate missing or not matching */
    MD_S_COMPLETE = 2,              /* all certificates present */
    MD_S_EXPIRED_DEPRECATED = 3,    /* read as MD_S_COMPLETE */
    MD_S_ERROR = 4,
    MD_S_MISSING_INFORMATION = 5,
} md_state_t;

/* --- renew mode (md.json "renew-mode") ------------------------------------ */
#define MD_RENEW_DEFAULT  -1
#define MD_RENEW_MANUAL    0
#define MD_RENEW_AUTO      1
#define MD_RENEW_ALWAYS    2

/* --- require https (md.json "require-https") ------------------------------ */
typedef enum {
    MD_REQUIRE_UNSET = -1,
    MD_REQUIRE_OFF,
    MD_REQUIRE_TEMPORARY,
    MD_REQUIRE_PERMANENT,
} md_require_t;

/* --- challenge types ----------------------------------------------------- */
#define MD_AUTHZ_TYPE_HTTP01     "http-01"
#define MD_AUTHZ_TYPE_TLSALPN01  "tls-alpn-01"
#define MD_AUTHZ_TYPE_DNS01      "dns-01"
#define MD_PROTO_ACME            "ACME"
#define MD_PROTO_ACME_TLS_1      "acme-tls/1"

/* --- time slices: a renew/warn window ---------------------------------------
 * norm == 0: an absolute length; otherwise len is a fraction of norm and is
 * applied as a percentage of a certificate's actual lifetime. */
typedef struct md_timeslice_t {
    apr_interval_time_t norm;
    apr_interval_time_t len;
} md_timeslice_t;

/* --- private key specs (MDPrivateKeys) ------------------------------------- */
typedef enum {
    MD_PKEY_TYPE_DEFAULT,
    MD_PKEY_TYPE_RSA,
    MD_PKEY_TYPE_EC,
} md_pkey_type_t;

#define MD_PKEY_RSA_BITS_DEFAULT  2048
#define MD_PKEY_RSA_BITS_MIN      2048
#define MD_ACCOUNT_RSA_BITS       3072

typedef struct md_pkey_spec_t {
    md_pkey_type_t type;
    unsigned int bits;          /* RSA only */
    const char *curve;          /* EC only, as configured */
} md_pkey_spec_t;

/* An ordered list of md_pkey_spec_t*; never empty once normalised
 * (an empty list means the default spec). */
typedef struct md_pkeys_spec_t {
    apr_pool_t *p;
    apr_array_header_t *specs;
} md_pkeys_spec_t;

/* --- the managed domain ------------------------------------------------------ */
typedef struct md_t md_t;
struct md_t {
    const char *name;                   /* first domain, lower case */
    apr_array_header_t *domains;        /* const char*, lower case, unique */
    apr_array_header_t *contacts;       /* const char*, URIs */
    int transitive;                     /* 1 auto, 0 manual, -1 unset */

    const char *ca_account;             /* account id in the store */
    const char *ca_proto;               /* "ACME" */
    const char *ca_effective;           /* CA url in use */
    apr_array_header_t *ca_urls;        /* const char*, configured, failover order */
    const char *ca_agreement;           /* "accepted" or ToS url */
    apr_array_header_t *ca_challenges;  /* const char*, NULL = not configured */

    md_pkeys_spec_t *pks;               /* NULL = none configured (default) */
    md_state_t state;
    const char *state_descr;
    int renew_mode;
    const md_timeslice_t *renew_window; /* NULL = default 33% */
    const md_timeslice_t *warn_window;  /* NULL = default 10% */
    md_require_t require_https;
    int must_staple;
    apr_array_header_t *acme_tls_1_domains; /* const char* */
    apr_array_header_t *cert_files;     /* static MDCertificateFile, or NULL */
    apr_array_header_t *pkey_files;     /* static MDCertificateKeyFile, or NULL */
    int stapling;
    const char *dns01_cmd;
    const char *proxy_url;
    const char *ca_certs;
    const char *proxy_ca_certs;
    const char *eab_kid;                /* NULL or "none": no EAB */
    const char *eab_hmac;
    const char *profile;
    int profile_mandatory;
    int ari_renewals;

    /* Run-time only, never stored. */
    const char *defn_name;              /* config file of the definition */
    unsigned int defn_line_number;
    int watched;
    int stapling_set;                   /* stapling configured for this MD */
    int activation_live;                /* MDActivation live (md_live.h) */
    int crl_check;                      /* MDCRLCheck: MD_CRL_CHECK_*, 0 = off */
};

/* Create an empty MD with all members at their "unset" values. */
md_t *md_create_empty(apr_pool_t *p);

/* Create an MD for the given domain names (lower-cased, deduplicated, order
 * kept; the first is the name). Returns NULL for an empty list. */
md_t *md_create(apr_pool_t *p, apr_array_header_t *domains);

/* Deep copy into pool p. */
md_t *md_copy(apr_pool_t *p, const md_t *src);

/* 1 if the MD contains the name (case-insensitive; with wildcard match when
 * with_wildcard is set: "*.x.org" contains "a.x.org"). */
int md_contains(const md_t *md, const char *domain, int with_wildcard);

/* The first domain of md1 that md2 also contains (or matches by wildcard),
 * NULL if they do not overlap. */
const char *md_common_name(const md_t *md1, const md_t *md2);
int md_domains_overlap(const md_t *md1, const md_t *md2);

/* Number of domains the two MDs share. */
apr_size_t md_common_name_count(const md_t *md1, const md_t *md2);

/* 1 if two MDs differ in anything the store keeps (contract.md 2.1,
 * "rewritten at startup only when something changed"). */
int md_equal_domains(const md_t *md1, const md_t *md2, int case_sensitive);
int md_config_differs(const md_t *md1, const md_t *md2);

/* md.json <-> md_t. md_to_json writes members in the order of
 * contract.md 2.1. md_from_json never fails on unknown/odd members. */
struct md_json_t *md_to_json(const md_t *md, apr_pool_t *p);
md_t *md_from_json(struct md_json_t *json, apr_pool_t *p);

/* --- key specs -------------------------------------------------------------- */
md_pkeys_spec_t *md_pkeys_spec_make(apr_pool_t *p);
void md_pkeys_spec_add_default(md_pkeys_spec_t *pks);
int md_pkeys_spec_contains_rsa(const md_pkeys_spec_t *pks);
void md_pkeys_spec_add_rsa(md_pkeys_spec_t *pks, unsigned int bits);
int md_pkeys_spec_contains_ec(const md_pkeys_spec_t *pks, const char *curve);
void md_pkeys_spec_add_ec(md_pkeys_spec_t *pks, const char *curve);
int md_pkeys_spec_count(const md_pkeys_spec_t *pks);   /* NULL/empty: 1 */
/* The i-th spec; for NULL/empty lists the default spec. */
md_pkey_spec_t *md_pkeys_spec_get(const md_pkeys_spec_t *pks, int i);
int md_pkeys_spec_eq(const md_pkeys_spec_t *a, const md_pkeys_spec_t *b);
md_pkeys_spec_t *md_pkeys_spec_clone(apr_pool_t *p, const md_pkeys_spec_t *pks);

/* Spec name: "rsa" for Default/RSA, the curve name as configured for EC. */
const char *md_pkey_spec_name(const md_pkey_spec_t *spec);
/* Activity form: "default", "rsa-<bits>", "ec-<curve>". */
const char *md_pkey_spec_activity_name(const md_pkey_spec_t *spec, apr_pool_t *p);

/* JSON of one spec / of the list (single object or array, contract.md 2.1). */
struct md_json_t *md_pkey_spec_to_json(const md_pkey_spec_t *spec, apr_pool_t *p);
md_pkey_spec_t *md_pkey_spec_from_json(struct md_json_t *json, apr_pool_t *p);
struct md_json_t *md_pkeys_spec_to_json(const md_pkeys_spec_t *pks, apr_pool_t *p);
md_pkeys_spec_t *md_pkeys_spec_from_json(struct md_json_t *json, apr_pool_t *p);

/* Store file name for a key spec: "<base>.pem" for rsa, else
 * "<base>.<spec>.pem", all lower case (contract.md 1.3). */
const char *md_pkey_filename(const md_pkey_spec_t *spec, apr_pool_t *p);
const char *md_chain_filename(const md_pkey_spec_t *spec, apr_pool_t *p);
const char *md_pkey_spec_filename(const md_pkey_spec_t *spec, const char *base,
                                  apr_pool_t *p);

/* --- known CA names (MDCertificateAuthority, contract.md 7.6) ---------------- */
/* The directory url of a known CA name (case-insensitive), NULL if unknown. */
const char *md_ca_known_url(const char *name);
/* The known name of a CA directory url (case-insensitive), NULL if none. */
const char *md_ca_known_name(const char *url);
/* The known names separated by single spaces ("LetsEncrypt LetsEncrypt-Test ..."). */
const char *md_ca_known_names(apr_pool_t *p);
/* When the known CA at url stopped issuing certificates via ACME ("2025-10"),
 * NULL if it still does or is not known. Its name stays accepted. */
const char *md_ca_known_gone(const char *url);

/* --- names of store entries and JSON keys --------------------------------------- */
#define MD_FN_MD            "md.json"
#define MD_FN_JOB           "job.json"
#define MD_FN_ORDER         "order.json"
#define MD_FN_HTTPD_JSON    "httpd.json"
#define MD_FN_ACCOUNT       "account.json"
#define MD_FN_ACCT_KEY      "account.pem"
#define MD_FN_PRIVKEY       "privkey.pem"
#define MD_FN_PUBCERT       "pubcert.pem"
#define MD_FN_FALLBACK_PKEY "fallback-privkey.pem"
#define MD_FN_FALLBACK_CERT "fallback-pubcert.pem"
#define MD_FN_HTTP01        "acme-http-01.txt"
#define MD_FN_TLSALPN01_PKEY "acme-tls-alpn-01-privkey.pem"
#define MD_FN_TLSALPN01_CERT "acme-tls-alpn-01-pubcert.pem"

#define MD_KEY_NAME             "name"
#define MD_KEY_DOMAINS          "domains"
#define MD_KEY_CONTACTS         "contacts"
#define MD_KEY_TRANSITIVE       "transitive"
#define MD_KEY_CA               "ca"
#define MD_KEY_ACCOUNT          "account"
#define MD_KEY_PROTO            "proto"
#define MD_KEY_URL              "url"
#define MD_KEY_URLS             "urls"
#define MD_KEY_AGREEMENT        "agreement"
#define MD_KEY_CHALLENGES       "challenges"
#define MD_KEY_PRIVKEY          "privkey"
#define MD_KEY_STATE            "state"
#define MD_KEY_STATE_DESCR      "state-descr"
#define MD_KEY_RENEW_MODE       "renew-mode"
#define MD_KEY_RENEW_WINDOW     "renew-window"
#define MD_KEY_WARN_WINDOW      "warn-window"
#define MD_KEY_REQUIRE_HTTPS    "require-https"
#define MD_KEY_MUST_STAPLE      "must-staple"
#define MD_KEY_CERT_FILES       "cert-files"
#define MD_KEY_PKEY_FILES       "pkey-files"
#define MD_KEY_STAPLING         "stapling"
#define MD_KEY_CMD_DNS01        "cmd-dns-01"
#define MD_KEY_PROXY_URL        "proxy-url"
#define MD_KEY_CA_CERTS         "ca-certs"
#define MD_KEY_PROXY_CA_CERTS   "proxy-ca-certs"
#define MD_KEY_EAB              "eab"
#define MD_KEY_KID              "kid"
#define MD_KEY_HMAC             "hmac"
#define MD_KEY_PROFILE          "profile"
#define MD_KEY_PROFILE_MANDATORY "profile-mandatory"
#define MD_KEY_ARI_RENEWALS     "ari-renewals"
#define MD_KEY_TYPE             "type"
#define MD_KEY_BITS             "bits"
#define MD_KEY_CURVE            "curve"
#define MD_KEY_VALID            "valid"
#define MD_KEY_FROM             "from"
#define MD_KEY_UNTIL            "until"
#define MD_KEY_CERT             "cert"
#define MD_KEY_RENEW_AT         "renew-at"
#define MD_KEY_RENEW            "renew"
#define MD_KEY_RENEWAL          "renewal"
#define MD_KEY_WATCHED          "watched"
#define MD_KEY_VERSION          "version"
#define MD_KEY_STORE            "store"
#define MD_KEY_KEY              "key"

#define MD_TLSALPN01_PROTO      "acme-tls/1"

#endif /* md_h */
