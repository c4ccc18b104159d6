/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md, the command-line tool on the core library (contract.md 6): the
 * shared context, the command table shape and output helpers used by the
 * store, registry and ACME command files.
 */
#ifndef a2md_h
#define a2md_h

#include <apr_pools.h>
#include <apr_getopt.h>
#include <apr_tables.h>

#include "md.h"
#include "md_result.h"
#include "md_store.h"

struct md_json_t;
struct md_acme_t;
struct md_reg_t;
struct md_acme_drive_opts_t;

typedef struct a2md_ctx_t a2md_ctx_t;
typedef struct a2md_cmd_t a2md_cmd_t;

/* Command flags */
#define A2MD_NEED_STORE     0x01    /* -d is required */
#define A2MD_NEED_ACME      0x02    /* -a is required, session is set up */
#define A2MD_STORE_EXISTS   0x04    /* -d must be a store already (not created) */

/* Handles one option of the command (from its opts table). */
typedef apr_status_t a2md_opt_cb(a2md_ctx_t *ctx, int option, const char *arg);
/* Runs the command with the remaining arguments in ctx->argc/argv. */
typedef apr_status_t a2md_do_cb(a2md_ctx_t *ctx, const a2md_cmd_t *cmd);

struct a2md_cmd_t {
    const char *name;
    int flags;
    a2md_opt_cb *opt_fn;
    a2md_do_cb *do_fn;
    const apr_getopt_option_t *opts;    /* terminated by a NULL name */
    const a2md_cmd_t *const *sub_cmds;  /* NULL terminated, or NULL */
    const char *synopsis;
    const char *description;
};

struct a2md_ctx_t {
    apr_pool_t *p;
    const char *base_dir;           /* -d */
    const char *ca_url;             /* -a */
    const char *ca_file;            /* -C */
    const char *proxy_url;          /* -p */
    const char *tos;                /* -t */
    const char *dns01_cmd;          /* --dns01-cmd (hidden) */
    int dns01_version;              /* --dns01-version (hidden) */
    int json_out;                   /* -j */
    md_store_t *store;
    struct md_acme_t *acme;
    struct md_json_t *output;       /* array of printed objects (-j) */
    int argc;                       /* arguments after the command (options removed) */
    const char *const *argv;
    /* drive options */
    const char *challenge;
    int force;
    int reset;
    /* renew, revoke and account options (a2md_ops.c) */
    int dry_run;
    const char *op_ca_url;          /* renew --dry-run --ca */
    int reason;                     /* revoke --reason, -1: none */
    int no_renew;                   /* revoke --no-renew */
    int use_cert_key;               /* revoke --cert-key */
    const char *key_type;           /* account rollover --key-type */
    const char *acct_url;           /* account import --url */
    /* doctor options (a2md_doctor.c) */
    int http_port;                  /* --http-port, 0: 80 */
    int https_port;                 /* --https-port, 0: 443 */
    const char *server_addr;        /* --server: address the probes connect to */
    const char *dns_server;         /* --dns-server addr[:port] */
    const char *status_url;         /* --status: the server's md-status url */
    int exit_code;                  /* non-zero: exit with it although rv is fine */
};

/* The commands of the three command files. */
extern const a2md_cmd_t a2md_store_cmd;
extern const a2md_cmd_t a2md_acme_cmd;
extern const a2md_cmd_t a2md_add_cmd;
extern const a2md_cmd_t a2md_update_cmd;
extern const a2md_cmd_t a2md_drive_cmd;
extern const a2md_cmd_t a2md_list_cmd;
extern const a2md_cmd_t a2md_renew_cmd;
extern const a2md_cmd_t a2md_revoke_cmd;
extern const a2md_cmd_t a2md_account_cmd;
extern const a2md_cmd_t a2md_doctor_cmd;
extern const a2md_cmd_t a2md_db_cmd;

/* Prints the usage of cmd (with msg first, if not NULL) on stderr. */
void a2md_usage(const a2md_cmd_t *cmd, const char *msg);

/* Output an MD: "md: <name> [<d1>, <d2>]" or its md.json into the -j
 * output (with "renew" when with_renew). */
void a2md_print_md(a2md_ctx_t *ctx, const md_t *md, int with_renew, int renew);

/* Reports what happened to name: the text as a line on stdout, or with -j
 * {"name", "result", "message"} into the output document. */
void a2md_say(a2md_ctx_t *ctx, const char *name, const char *result,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* An MD name or domain given as argument in the form MDs hold it: an
 * address in its normal form (md_ip.h), anything else as given. */
const char *a2md_name_arg(a2md_ctx_t *ctx, const char *arg);

/* The names ctx->argv[start..] for an MD (add, update domains), addresses
 * in their normal form. An address with a zone id or a wildcard of an
 * address, which the module warns about, is refused: an ERR line naming
 * the command and the value, APR_EINVAL. */
apr_status_t a2md_domains_arg(apr_array_header_t **pdomains, a2md_ctx_t *ctx,
                              const a2md_cmd_t *cmd, int start);

/* The new MD of an add command (store add, add): named by ctx->argv (at
 * least one, as a2md_domains_arg takes them), with the CA url of -a when
 * given; the caller sets what else its command sets. */
apr_status_t a2md_add_md_arg(md_t **pmd, a2md_ctx_t *ctx, const a2md_cmd_t *cmd);

/* All MDs in domains/, sorted by name. */
apr_array_header_t *a2md_load_all(a2md_ctx_t *ctx);
/* The registry on ctx->store (errors logged). */
apr_status_t a2md_open_reg(struct md_reg_t **preg, a2md_ctx_t *ctx);
/* "drive" of one MD: renewal when due (or ctx->force) and activation. */
apr_status_t a2md_drive_md(a2md_ctx_t *ctx, struct md_reg_t *reg, md_t *md);
/* The ACME drive options from ctx (challenge, dns-01 command, -C, -p). */
struct md_acme_drive_opts_t *a2md_drive_opts(a2md_ctx_t *ctx);

/* A session with the CA at url, its directory fetched (errors logged). The
 * CA's TLS is checked with -C, else with ca_file (an MD's own ca-certs),
 * else with the system's roots. */
apr_status_t a2md_open_ca(struct md_acme_t **pacme, a2md_ctx_t *ctx, const char *url,
                          const char *ca_file);
/* Logs the result's detail (unless it is a problem document, which the
 * ACME client logged already) and then what failed, as ERR. */
void a2md_log_failure(a2md_ctx_t *ctx, md_result_t *result, apr_status_t rv,
                      const char *what);

/* Opens the ACME session for -a (setup of the directory included). */
apr_status_t a2md_acme_open(a2md_ctx_t *ctx);

#endif /* a2md_h */
