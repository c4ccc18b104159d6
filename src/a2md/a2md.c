/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md main: global options (apr_getopt_long), usage texts, the stderr log
 * sink, the -j output document and dispatch of (sub) commands
 * (contract.md 6). Exit codes: 0 success, 1 failure, 2 usage (-h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_crypto.h"
#include "md_ip.h"
#include "md_json.h"
#include "md_log.h"
#include "md_util.h"
#include "md_version.h"
#include "a2md.h"

#define A2MD_EXIT_USAGE     2
#define OPT_DNS01_CMD       256
#define OPT_DNS01_VERSION   257

static md_log_level_t active_level = MD_LOG_INFO;

/* --- logging to stderr ------------------------------------------------------------ */

static int log_is_level(void *baton, md_log_level_t level)
{
    (void)baton;
    return level <= active_level;
}

static void log_print(const char *file, int line, md_log_level_t level,
                      apr_status_t rv, void *baton, apr_pool_t *p,
                      const char *fmt, va_list ap)
{
    char text[16 * 1024], err[256];
    const char *base = strrchr(file, '/');

    (void)baton;
    (void)p;
    base = base ? base + 1 : file;
    apr_vsnprintf(text, sizeof(text), fmt, ap);
    if (APR_SUCCESS == rv) {
        if (active_level <= MD_LOG_INFO) {
            fprintf(stderr, "%s\n", text);
        }
        else {
            fprintf(stderr, "[%s:%d %s][ok] %s\n", base, line,
                    md_log_level_name(level), text);
        }
    }
    else {
        fprintf(stderr, "[%s:%d %s][%d(%s)] %s\n", base, line,
                md_log_level_name(level), rv, apr_strerror(rv, err, sizeof(err)),
                text);
    }
    fflush(stderr);
}

/* --- usage and output ------------------------------------------------------------- */

static const apr_getopt_option_t no_opts[] = {
    { NULL, 0, 0, NULL },
};

void a2md_usage(const a2md_cmd_t *cmd, const char *msg)
{
    const apr_getopt_option_t *opt;
    int i;

    if (msg) {
        fprintf(stderr, "%s\n", msg);
    }
    fprintf(stderr, "usage: %s\n", cmd->synopsis);
    if (cmd->description) {
        fprintf(stderr, "\t%s\n", cmd->description);
    }
    if (cmd->opts && cmd->opts[0].name) {
        fprintf(stderr, "  with the following options:\n");
        for (opt = cmd->opts; opt->name; ++opt) {
            if (opt->optch > 255 || !opt->description) continue;  /* hidden */
            fprintf(stderr, "  -%c | --%s    %s\t%s\n", opt->optch, opt->name,
                    opt->has_arg ? "arg" : "", opt->description);
        }
    }
    if (cmd->sub_cmds && cmd->sub_cmds[0]) {
        fprintf(stderr, "  using one of the following commands:\n");
        for (i = 0; cmd->sub_cmds[i]; ++i) {
            fprintf(stderr, "  \t%s\n", cmd->sub_cmds[i]->synopsis);
            fprintf(stderr, "  \t\t%s\n", cmd->sub_cmds[i]->description);
        }
    }
}

void a2md_print_md(a2md_ctx_t *ctx, const md_t *md, int with_renew, int renew)
{
    md_json_t *json;
    const char *domains;

    if (ctx->json_out) {
        json = md_to_json(md, ctx->p);
        if (with_renew) {
            md_json_setb(renew, json, MD_KEY_RENEW, NULL);
        }
        md_json_addj(json, ctx->output, NULL);
        return;
    }
    domains = md->domains ? md_array_str_join(md->domains, ", ", ctx->p) : "";
    fprintf(stdout, "md: %s [%s]\n", md->name, domains);
}

/* --- names as arguments ---------------------------------------------------------- */

const char *a2md_name_arg(a2md_ctx_t *ctx, const char *arg)
{
    const char *ip;

    return (APR_SUCCESS == md_ip_normalize(&ip, NULL, arg, ctx->p)) ? ip : arg;
}

apr_status_t a2md_domains_arg(apr_array_header_t **pdomains, a2md_ctx_t *ctx,
                              const a2md_cmd_t *cmd, int start)
{
    apr_array_header_t *domains = apr_array_make(ctx->p, 5, sizeof(const char *));
    apr_status_t rv = APR_SUCCESS;
    const char *name, *ip;
    int i, zoned;

    for (i = start; i < ctx->argc; ++i) {
        name = ctx->argv[i];
        if (APR_SUCCESS == md_ip_normalize(&ip, &zoned, name, ctx->p)) {
            if (zoned) {
                /* the module drops it with a warning: here it can be fixed */
                md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, ctx->p, "%s: the "
                              "address '%s' has a zone id, which names an interface "
                              "of this host and no certificate can: give '%s'",
                              cmd->name, name, ip);
                rv = APR_EINVAL;
                goto leave;
            }
            name = ip;
        }
        else if (md_dns_is_wildcard(name) && md_ip_is_address(name + 2)) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_EINVAL, ctx->p, "%s: '%s' is a "
                          "wildcard of the address '%s', which no CA can validate",
                          cmd->name, name, name + 2);
            rv = APR_EINVAL;
            goto leave;
        }
        APR_ARRAY_PUSH(domains, const char *) = name;
    }
leave:
    *pdomains = (APR_SUCCESS == rv) ? domains : NULL;
    return rv;
}

apr_status_t a2md_add_md_arg(md_t **pmd, a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_array_header_t *domains;
    apr_status_t rv;
    md_t *md;

    *pmd = NULL;
    if (ctx->argc <= 0) {
        a2md_usage(cmd, "add needs at least one domain name as argument");
        return APR_EINVAL;
    }
    rv = a2md_domains_arg(&domains, ctx, cmd, 0);
    if (APR_SUCCESS != rv) return rv;
    md = md_create(ctx->p, domains);
    if (ctx->ca_url) {
        md->ca_urls = apr_array_make(ctx->p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(md->ca_urls, const char *) = ctx->ca_url;
    }
    *pmd = md;
    return APR_SUCCESS;
}

static void print_json_output(a2md_ctx_t *ctx, apr_status_t rv)
{
    md_json_t *json = md_json_create(ctx->p);
    char buffer[256];

    md_json_setj(ctx->output, json, "output", NULL);
    md_json_setl((long)rv, json, "status", NULL);
    if (APR_SUCCESS != rv) {
        md_json_sets(apr_strerror(rv, buffer, sizeof(buffer)), json, "description",
                     NULL);
    }
    fprintf(stdout, "%s\n", md_json_writep(json, ctx->p, MD_JSON_FMT_INDENT));
}

/* --- global options ---------------------------------------------------------------- */

static const apr_getopt_option_t main_opts[] = {
    { "acme",    'a', 1, "the url of the ACME server directory" },
    { "cafile",  'C', 1, "file with root certificates (PEM format)" },
    { "dir",     'd', 1, "directory for file data" },
    { "help",    'h', 0, "print usage information" },
    { "json",    'j', 0, "produce json output" },
    { "proxy",   'p', 1, "use the HTTP proxy url" },
    { "quiet",   'q', 0, "produce less output" },
    { "terms",   't', 1, "you agree to the terms of services (url)" },
    { "verbose", 'v', 0, "produce more output" },
    { "version", 'V', 0, "print version" },
    { "dns01-cmd", OPT_DNS01_CMD, 1, NULL },
    { "dns01-version", OPT_DNS01_VERSION, 1, NULL },
    { NULL, 0, 0, NULL },
};

static apr_status_t main_opt(a2md_ctx_t *ctx, int option, const char *arg)
{
    switch (option) {
        case 'a': ctx->ca_url = arg; break;
        case 'C': ctx->ca_file = arg; break;
        case 'd': ctx->base_dir = arg; break;
        case 'j': ctx->json_out = 1; break;
        case 'p': ctx->proxy_url = arg; break;
        case 'q': if (active_level > MD_LOG_EMERG) --active_level; break;
        case 't': ctx->tos = arg; break;
        case 'v': if (active_level < MD_LOG_TRACE8) ++active_level; break;
        case 'V':
            fprintf(stdout, "version: %s\n", MOD_MD_VERSION);
            exit(0);
        case OPT_DNS01_CMD: ctx->dns01_cmd = arg; break;
        case OPT_DNS01_VERSION: ctx->dns01_version = atoi(arg); break;
        default:
            return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static const a2md_cmd_t *const main_sub_cmds[] = {
    &a2md_acme_cmd,
    &a2md_add_cmd,
    &a2md_update_cmd,
    &a2md_drive_cmd,
    &a2md_list_cmd,
    &a2md_store_cmd,
    &a2md_renew_cmd,
    &a2md_revoke_cmd,
    &a2md_account_cmd,
    &a2md_doctor_cmd,
    &a2md_db_cmd,
    NULL,
};

static const a2md_cmd_t main_cmd = {
    "a2md", 0, main_opt, NULL, main_opts, main_sub_cmds,
    "a2md [options] cmd [cmd options] [args]",
    "Show and manipulate Apache Managed Domains",
};

/* --- dispatch ---------------------------------------------------------------------- */

apr_status_t a2md_acme_open(a2md_ctx_t *ctx)
{
    apr_status_t rv;

    if (ctx->acme) return APR_SUCCESS;
    rv = md_acme_create(&ctx->acme, ctx->p, ctx->ca_url, ctx->proxy_url, ctx->ca_file);
    if (APR_SUCCESS != rv) return rv;
    rv = md_acme_setup(ctx->acme, md_result_make(ctx->p, APR_SUCCESS));
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "contacting %s",
                      ctx->ca_url);
    }
    return rv;
}

static apr_status_t cmd_prepare(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_status_t rv = APR_SUCCESS;

    if ((cmd->flags & (A2MD_NEED_STORE|A2MD_NEED_ACME)) && !ctx->store) {
        if (!ctx->base_dir) {
            fprintf(stderr, "need store directory for command: %s\n", cmd->name);
            return APR_EINVAL;
        }
        if ((cmd->flags & A2MD_STORE_EXISTS)
            && !md_util_is_file(md_util_path_join(ctx->p, ctx->base_dir,
                                                  "md_store.json", NULL), ctx->p)) {
            fprintf(stderr, "%s: no store at %s (no md_store.json)\n", cmd->name,
                    ctx->base_dir);
            return APR_ENOENT;
        }
        rv = md_store_fs_open(&ctx->store, ctx->p, ctx->base_dir);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "loading store from %s",
                          ctx->base_dir);
            return rv;
        }
    }
    if (cmd->flags & A2MD_NEED_ACME) {
        if (!ctx->ca_url) {
            fprintf(stderr, "need ACME url for command: %s\n", cmd->name);
            return APR_EINVAL;
        }
        rv = a2md_acme_open(ctx);
    }
    return rv;
}

static const a2md_cmd_t *find_cmd(const a2md_cmd_t *const *cmds, const char *name)
{
    int i;

    for (i = 0; cmds[i]; ++i) {
        if (!strcmp(name, cmds[i]->name)) return cmds[i];
    }
    return NULL;
}

/* Parses the options of cmd from argv (argv[0] is the command name), then
 * runs it or its sub command. */
static apr_status_t cmd_process(a2md_ctx_t *ctx, const a2md_cmd_t *cmd,
                                int argc, const char *const *argv)
{
    const a2md_cmd_t *sub;
    apr_getopt_t *os;
    const char *optarg;
    apr_status_t rv;
    int opt;

    apr_getopt_init(&os, ctx->p, argc, argv);
    while (APR_SUCCESS == (rv = apr_getopt_long(os, cmd->opts ? cmd->opts : no_opts,
                                                &opt, &optarg))) {
        if ('h' == opt && cmd == &main_cmd) {
            a2md_usage(cmd, NULL);
            exit(A2MD_EXIT_USAGE);
        }
        rv = cmd->opt_fn ? cmd->opt_fn(ctx, opt, optarg) : APR_EINVAL;
        if (APR_SUCCESS != rv) {
            a2md_usage(cmd, NULL);
            return rv;
        }
    }
    if (APR_EOF != rv) {
        a2md_usage(cmd, NULL);
        return APR_EINVAL;
    }
    argc = os->argc - os->ind;
    argv = os->argv + os->ind;
    if (cmd->sub_cmds) {
        if (argc <= 0) {
            a2md_usage(cmd, "sub command is missing");
            return APR_EINVAL;
        }
        sub = find_cmd(cmd->sub_cmds, argv[0]);
        if (!sub) {
            fprintf(stderr, "unknown cmd: %s\n", argv[0]);
            return APR_EINVAL;
        }
        return cmd_process(ctx, sub, argc, argv);
    }
    ctx->argc = argc;
    ctx->argv = argv;
    rv = cmd_prepare(ctx, cmd);
    if (APR_SUCCESS != rv) return rv;
    return cmd->do_fn(ctx, cmd);
}

int main(int argc, const char *const *argv)
{
    a2md_ctx_t ctx;
    apr_pool_t *pool;
    apr_status_t rv;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    md_log_set(log_is_level, log_print, NULL);
    md_crypt_init(pool);
    rv = md_acme_init(pool, "apachemd/" MOD_MD_VERSION);
    if (APR_SUCCESS != rv) {
        fprintf(stderr, "unable to initialize the HTTP client\n");
        return 1;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.p = pool;
    ctx.dns01_version = 1;
    ctx.reason = -1;
    ctx.output = md_json_create_array(pool);

    rv = cmd_process(&ctx, &main_cmd, argc, argv);
    if (ctx.json_out) {
        print_json_output(&ctx, rv);
    }
    if (APR_SUCCESS == rv && ctx.exit_code) {
        return ctx.exit_code;
    }
    return (APR_SUCCESS == rv) ? 0 : 1;
}
