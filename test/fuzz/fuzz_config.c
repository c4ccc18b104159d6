/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: the real directive handlers of mod_md (src/mod_md/
 * mod_md_config*.c, linked as they are) called through the md_cmds table,
 * as httpd's configuration reader would, then md_config_check (completion
 * of the MDs and the checks of "apache2 -t"). httpd itself is not linked:
 * the few ap_* functions the handlers call are small stand-ins below
 * (word splitting as ap_getword_conf, the section walk, the context check,
 * logging that formats its message and drops it).
 * The input after byte 0 is a configuration file: one directive a line;
 * "<Name args>" opens a section closed by "</Name>" (MD sections run their
 * handler; others, e.g. <Directory> or <Files>, only nest). Byte 0: bit 0
 * "apache2 -t" (config test run mode), bit 1 a DUMP_ define (-D
 * DUMP_CONFIG), bit 2 skip md_config_check. Then the effective values are
 * read for the server and a virtual host merged with it. MDStoreDB is not fuzzed here
 * (its handler is a stand-in that accepts everything).
 * fuzz-httpd-sources: mod_md_config.c mod_md_config_set.c
 * fuzz-httpd-sources: mod_md_config_global.c mod_md_config_check.c
 * fuzz-seconds-max: 8
 */
#include "fuzz_common.h"

#include <ctype.h>
#include <strings.h>

#include <apr_file_info.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_main.h>

#include "mod_md_config.h"

#define FUZZ_MAX_DEPTH  8

module AP_MODULE_DECLARE_DATA md_module = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL, md_config_create_svr, md_config_merge_svr, NULL, NULL,
};

static int fuzz_run_mode = AP_SQ_RM_NORMAL;
static apr_pool_t *fuzz_log_pool;

/* --- stand-ins of httpd's functions ------------------------------------------------- */

AP_DECLARE_DATA apr_array_header_t *ap_server_config_defines;

AP_DECLARE(int) ap_cstr_casecmp(const char *s1, const char *s2)
{
    return strcasecmp(s1, s2);
}

AP_DECLARE(int) ap_cstr_casecmpn(const char *s1, const char *s2, apr_size_t n)
{
    return strncasecmp(s1, s2, n);
}

/* A word of a configuration line: quoted ('...' or "..." with the quote
 * escaped by a backslash) or up to white space; *line moves past it and
 * the white space after it. */
AP_DECLARE(char *) ap_getword_conf(apr_pool_t *p, const char **line)
{
    const char *s = *line, *start;
    char *word, *w, quote;

    while (*s && isspace((unsigned char)*s)) ++s;
    if (*s == '"' || *s == '\'') {
        quote = *s++;
        word = w = apr_palloc(p, strlen(s) + 1);
        while (*s && *s != quote) {
            if (*s == '\\' && s[1] == quote) {
                ++s;
            }
            *w++ = *s++;
        }
        *w = '\0';
        if (*s) {
            ++s;
        }
    }
    else {
        start = s;
        while (*s && !isspace((unsigned char)*s)) ++s;
        word = apr_pstrmemdup(p, start, (apr_size_t)(s - start));
    }
    while (*s && isspace((unsigned char)*s)) ++s;
    *line = s;
    return word;
}

AP_DECLARE(void) ap_log_error_(const char *file, int line, int module_index, int level,
                               apr_status_t status, const server_rec *s, const char *fmt,
                               ...)
{
    va_list ap;

    (void)file; (void)line; (void)module_index; (void)level; (void)status; (void)s;
    va_start(ap, fmt);
    apr_pvsprintf(fuzz_log_pool, fmt, ap);      /* the arguments must fit the format */
    va_end(ap);
}

AP_DECLARE(char *) ap_server_root_relative(apr_pool_t *p, const char *fname)
{
    char *path = NULL;

    if (APR_SUCCESS != apr_filepath_merge(&path, "/tmp/md-fuzz-server-root", fname,
                                          APR_FILEPATH_TRUENAME, p)) {
        return NULL;
    }
    return path;
}

AP_DECLARE(int) ap_state_query(int query)
{
    switch (query) {
        case AP_SQ_RUN_MODE:
            return fuzz_run_mode;
        case AP_SQ_MAIN_STATE:
            return AP_SQ_MS_CREATE_CONFIG;
        default:
            return AP_SQ_NOT_SUPPORTED;
    }
}

AP_DECLARE(const char *) ap_check_cmd_context(cmd_parms *cmd, unsigned forbidden)
{
    const ap_directive_t *d;

    for (d = cmd->directive ? cmd->directive->parent : NULL; d; d = d->parent) {
        if (((forbidden & NOT_IN_DIRECTORY) && !strncasecmp(d->directive, "<Directory", 10))
            || ((forbidden & NOT_IN_LOCATION) && !strncasecmp(d->directive, "<Location", 9))) {
            return apr_pstrcat(cmd->pool, cmd->cmd->name, " cannot occur within ",
                               d->directive, "> section", NULL);
        }
    }
    return NULL;
}

AP_DECLARE(void) ap_hook_check_config(ap_HOOK_check_config_t *pf, const char *const *pre,
                                      const char *const *succ, int order)
{
    (void)pf; (void)pre; (void)succ; (void)order;
}

/* mod_md_db.c is not linked (it needs the DBD provider). */
const char *md_db_set_store(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    (void)cmd; (void)dc; (void)argc; (void)argv;
    return NULL;
}

/* --- the configuration reader ------------------------------------------------------- */

static const command_rec *find_cmd(const char *name)
{
    const command_rec *c;

    for (c = md_cmds; c->name; ++c) {
        if (!strcasecmp(c->name, name)) return c;
    }
    return NULL;
}

/* The handler's call with the line's words, as httpd's invoke_cmd does it. */
static const char *invoke(const command_rec *c, cmd_parms *parms, const char *args)
{
    apr_array_header_t *argv;
    const char *w1, *w2;

    parms->info = c->cmd_data;
    parms->cmd = c;
    switch (c->args_how) {
        case RAW_ARGS:
            return c->AP_RAW_ARGS(parms, NULL, args);
        case TAKE_ARGV:
            argv = apr_array_make(parms->temp_pool, 5, sizeof(char *));
            while (*args) {
                APR_ARRAY_PUSH(argv, char *) = ap_getword_conf(parms->pool, &args);
            }
            return c->AP_TAKE_ARGV(parms, NULL, argv->nelts, (char *const *)argv->elts);
        case TAKE1:
            w1 = ap_getword_conf(parms->pool, &args);
            if (!*w1 || *args) return "takes one argument";
            return c->AP_TAKE1(parms, NULL, w1);
        case TAKE2:
        case TAKE12:
            w1 = ap_getword_conf(parms->pool, &args);
            w2 = ap_getword_conf(parms->pool, &args);
            if (!*w1 || *args || (c->args_how == TAKE2 && !*w2)) {
                return "takes one or two arguments";
            }
            return c->AP_TAKE2(parms, NULL, w1, *w2 ? w2 : NULL);
        default:
            return "unexpected argument kind";
    }
}

static const char *walk_one(ap_directive_t *d, cmd_parms *parms)
{
    const command_rec *c = find_cmd(d->directive);

    parms->directive = d;
    if (c) return invoke(c, parms, d->args);
    /* a section of another module: its content is still read */
    return ap_walk_config(d->first_child, parms, NULL);
}

/* As httpd: the first error ends the walk (of an MD section here). */
AP_DECLARE(const char *) ap_walk_config(ap_directive_t *current, cmd_parms *parms,
                                        ap_conf_vector_t *section_vector)
{
    const char *err;

    (void)section_vector;
    for (; current; current = current->next) {
        if ((err = walk_one(current, parms))) return err;
    }
    return NULL;
}

/* The input's lines as httpd's tree: "<X a>" opens X, "</X>" closes it. */
static ap_directive_t *parse(const char *text, apr_pool_t *p)
{
    ap_directive_t *root = NULL, *last[FUZZ_MAX_DEPTH + 1], *parent = NULL, *d;
    const char *line, *eol, *args;
    char *name;
    int depth = 0, n = 0;

    memset(last, 0, sizeof(last));
    for (line = text; *line; line = *eol ? eol + 1 : eol) {
        eol = line + strcspn(line, "\n");
        ++n;
        args = apr_pstrmemdup(p, line, (apr_size_t)(eol - line));
        name = ap_getword_conf(p, &args);
        if (!*name) {
            continue;
        }
        if (name[0] == '<' && name[1] == '/') {
            if (depth > 0) {
                parent = parent->parent;
                --depth;
            }
            continue;
        }
        d = apr_pcalloc(p, sizeof(*d));
        d->directive = name;
        d->args = args;
        d->filename = "fuzz.conf";
        d->line_num = n;
        d->parent = parent;
        if (name[0] == '<' && strchr(name, '>')) {
            /* "<MDomain>": no argument, the '>' goes to the arguments */
            *strchr(name, '>') = '\0';
            d->args = apr_pstrcat(p, ">", args, NULL);
        }
        if (last[depth]) {
            last[depth]->next = d;
        }
        else if (parent) {
            parent->first_child = d;
        }
        else {
            root = d;
        }
        last[depth] = d;
        if (name[0] == '<' && depth < FUZZ_MAX_DEPTH) {
            parent = d;
            last[++depth] = NULL;
        }
    }
    return root;
}

static void read_values(const md_srv_conf_t *sc, apr_pool_t *p)
{
    int v;

    for (v = MD_CONFIG_TRANSITIVE; v <= MD_CONFIG_STORE_LOCKS; ++v) {
        md_config_geti(sc, (md_config_var_t)v);
    }
    for (v = MD_CONFIG_CA_CONTACT; v <= MD_CONFIG_HSTS_HEADER; ++v) {
        md_config_gets(sc, (md_config_var_t)v);
    }
    md_config_get_window(sc, 0);
    md_config_get_window(sc, 1);
    md_config_base_dir(sc->mc, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pconf, *ptemp;
    server_rec *s;
    cmd_parms parms;
    ap_directive_t *d;
    void **vector;

    if (size < 1) return 0;
    pconf = fuzz_pool();
    apr_pool_create(&ptemp, pconf);
    fuzz_log_pool = ptemp;
    fuzz_run_mode = (data[0] & 0x01) ? AP_SQ_RM_CONFIG_TEST : AP_SQ_RM_NORMAL;
    ap_server_config_defines = apr_array_make(pconf, 1, sizeof(const char *));
    if (data[0] & 0x02) {
        APR_ARRAY_PUSH(ap_server_config_defines, const char *) = "DUMP_CONFIG";
    }
    md_module.module_index = 0;

    s = apr_pcalloc(pconf, sizeof(*s));
    s->defn_name = "fuzz.conf";
    s->server_hostname = "fuzz.example";
    s->server_admin = "admin@fuzz.example";
    s->log.level = APLOG_TRACE8;
    vector = apr_pcalloc(pconf, sizeof(void *));
    s->module_config = (ap_conf_vector_t *)vector;
    vector[0] = md_config_create_svr(pconf, s);

    memset(&parms, 0, sizeof(parms));
    parms.pool = pconf;
    parms.temp_pool = ptemp;
    parms.server = s;
    parms.override = RSRC_CONF;
    parms.limited = -1;
    /* unlike httpd, past an error: the directives after it are read too */
    for (d = parse(fuzz_str(data + 1, size - 1, ptemp), ptemp); d; d = d->next) {
        walk_one(d, &parms);
    }
    if (!(data[0] & 0x04)) {
        md_config_check(s, ptemp);
        md_config_warn_gone_cas(s);
    }
    md_config_log_warnings(s);
    /* the effective values, of the server and of a vhost merged with it */
    read_values(md_config_get(s), pconf);
    read_values(md_config_merge_svr(pconf, vector[0], md_config_create_svr(pconf, s)), pconf);
    apr_pool_destroy(pconf);        /* also resets the module-wide settings */
    return 0;
}
