/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Runs all core unit suites. CK_RUN_SUITE / CK_RUN_CASE select a part,
 * MD_UNIT_VERBOSE=1 prints every test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "md_crypto.h"
#include "md_http.h"
#include "md_log.h"
#include "md_util.h"
#include "md_unit.h"

apr_pool_t *md_test_pool;
static apr_pool_t *global_pool;
static unsigned int tmp_counter;

/* The directories md_test_mkdtemp made in this process, removed when it
 * exits (Check runs each test in a process of its own), unless
 * MD_UNIT_KEEP is set. A process forked by a test does not own them. */
#define MAX_TMP_DIRS 1024
static char *tmp_dirs[MAX_TMP_DIRS];
static pid_t tmp_owner[MAX_TMP_DIRS];
static int tmp_ndirs;

void md_test_setup(void)
{
    apr_pool_create(&md_test_pool, global_pool);
}

void md_test_teardown(void)
{
    apr_pool_destroy(md_test_pool);
    md_test_pool = NULL;
}

/* --- a fake HTTP server ------------------------------------------------------------ */

md_test_http_t md_test_http;

md_data_t *md_test_read_file(const char *dir, const char *name)
{
    md_data_t *d = apr_pcalloc(md_test_pool, sizeof(*d));
    const char *data;
    apr_size_t len;

    ck_assert_int_eq(APR_SUCCESS, md_util_fread_all(&data, &len,
                                                    apr_pstrcat(md_test_pool, dir, "/",
                                                                name, NULL),
                                                    1024 * 1024, md_test_pool));
    d->data = data;
    d->len = len;
    return d;
}

static apr_status_t fake_init(void)
{
    return APR_SUCCESS;
}

/* The next answer of the script for req. */
static apr_status_t script_perform(md_http_request_t *req, md_http_response_t *resp)
{
    const md_test_answer_t *a;
    const char *body;

    ck_assert_msg(md_test_http.next < md_test_http.count, "unexpected request %s %s",
                  req->method, req->url);
    a = &md_test_http.answers[md_test_http.next++];
    ck_assert_msg(!strcmp(a->method, req->method)
                  && !strcmp(apr_pstrcat(md_test_pool, md_test_http.base, a->path, NULL),
                             req->url),
                  "request %d: expected %s %s%s, got %s %s", md_test_http.next, a->method,
                  md_test_http.base, a->path, req->method, req->url);
    if (a->transport) return a->transport;
    resp->status = a->status;
    if (md_test_http.nonces && strcmp("GET", req->method)) {
        apr_table_setn(resp->headers, "Replay-Nonce",
                       apr_psprintf(req->pool, "nonce-%d", ++md_test_http.nonce));
    }
    if (a->ctype) {
        apr_table_setn(resp->headers, "Content-Type", a->ctype);
    }
    if (a->location) {
        apr_table_setn(resp->headers, "Location",
                       apr_pstrcat(req->pool, md_test_http.base, a->location, NULL));
    }
    if (a->retry_after) {
        apr_table_setn(resp->headers, "Retry-After", a->retry_after);
    }
    body = a->body_fn ? a->body_fn(req) : a->body;
    if (body) {
        resp->body.data = apr_pstrdup(req->pool, body);
        resp->body.len = strlen(body);
    }
    return APR_SUCCESS;
}

static apr_status_t fake_perform(md_http_request_t *req, md_http_response_t *resp)
{
    md_data_t *d;

    ++md_test_http.requests;
    md_test_http.url = apr_pstrdup(md_test_pool, req->url);
    md_test_http.content_type = apr_pstrdup(md_test_pool, req->content_type);
    APR_ARRAY_PUSH(md_test_http.bodies, const char *) =
        req->body ? apr_pstrmemdup(md_test_pool, req->body->data, req->body->len) : "";
    if (md_test_http.answers) return script_perform(req, resp);
    if (!md_test_http.body) return APR_ECONNREFUSED;
    d = md_test_read_file(md_test_http.dir, md_test_http.body);
    resp->status = md_test_http.status;
    resp->body.data = apr_pmemdup(req->pool, d->data, d->len);
    resp->body.len = d->len;
    return APR_SUCCESS;
}

static const md_http_impl_t fake_impl = {
    fake_init, fake_perform, NULL, NULL,
};

static void fake_reset(void)
{
    memset(&md_test_http, 0, sizeof(md_test_http));
    md_test_http.bodies = apr_array_make(md_test_pool, 20, sizeof(const char *));
    md_http_use_implementation(&fake_impl);
}

void md_test_http_use(const char *dir, const char *body)
{
    fake_reset();
    md_test_http.dir = dir;
    md_test_http.body = body;
    md_test_http.status = 200;
}

void md_test_http_script(const char *base, const md_test_answer_t *answers, int count)
{
    fake_reset();
    md_test_http.base = base;
    md_test_http.answers = answers;
    md_test_http.count = count;
}

void md_test_http_unuse(void)
{
    md_http_use_implementation(NULL);
}

/* --- captured log lines ------------------------------------------------------------ */

static char log_text[16384];
static md_log_level_t log_level;

static int log_level_cb(void *baton, md_log_level_t level)
{
    (void)baton;
    return level <= log_level;
}

static void log_print_cb(const char *file, int line, md_log_level_t level,
                         apr_status_t rv, void *baton, apr_pool_t *p,
                         const char *fmt, va_list ap)
{
    size_t len = strlen(log_text);

    (void)file; (void)line; (void)level; (void)rv; (void)baton; (void)p;
    vsnprintf(log_text + len, sizeof(log_text) - len, fmt, ap);
    len = strlen(log_text);
    if (len + 1 < sizeof(log_text)) {
        strcpy(log_text + len, "\n");
    }
}

void md_test_log_start(md_log_level_t level)
{
    log_text[0] = '\0';
    log_level = level;
    md_log_set(log_level_cb, log_print_cb, NULL);
}

void md_test_log_stop(void)
{
    md_log_set(NULL, NULL, NULL);
}

const char *md_test_log_text(void)
{
    return log_text;
}

struct md_pkey_t *md_test_gen_key(md_pkey_type_t type, unsigned int bits,
                                  const char *curve)
{
    md_pkey_spec_t spec;
    md_pkey_t *pkey = NULL;

    spec.type = type;
    spec.bits = bits;
    spec.curve = curve;
    ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&pkey, md_test_pool, &spec));
    ck_assert_ptr_nonnull(pkey);
    return pkey;
}

const char *md_test_mkdtemp(apr_pool_t *p)
{
    const char *base = getenv("MD_UNIT_TMP");
    const char *dir;

    if (!base) {
        base = "/tmp";
    }
    dir = apr_psprintf(p, "%s/md-unit-%d-%u", base, (int)getpid(), ++tmp_counter);
    md_util_rm_recursive(dir, p);
    md_util_mkdir(dir, 0x0755, p);  /* apr_fileperms_t bits are hex */
    if (tmp_ndirs < MAX_TMP_DIRS && (tmp_dirs[tmp_ndirs] = strdup(dir))) {
        tmp_owner[tmp_ndirs++] = getpid();
    }
    return dir;
}

static void remove_tmp_dirs(void)
{
    const char *keep = getenv("MD_UNIT_KEEP");
    apr_pool_t *p;
    int i;

    if ((keep && *keep) || APR_SUCCESS != apr_pool_create(&p, NULL)) return;
    for (i = 0; i < tmp_ndirs; ++i) {
        if (tmp_owner[i] == getpid()) {
            md_util_rm_recursive(tmp_dirs[i], p);
        }
        free(tmp_dirs[i]);
    }
    tmp_ndirs = 0;
    apr_pool_destroy(p);
}

int main(void)
{
    SRunner *sr;
    int failed;
    const char *verbose = getenv("MD_UNIT_VERBOSE");

    apr_initialize();
    atexit(apr_terminate);
    atexit(remove_tmp_dirs);        /* runs before apr_terminate */
    apr_pool_create(&global_pool, NULL);
    md_crypt_init(global_pool);

    sr = srunner_create(md_test_util_suite());
    srunner_add_suite(sr, md_test_json_suite());
    srunner_add_suite(sr, md_test_time_suite());
    srunner_add_suite(sr, md_test_ip_suite());
    srunner_add_suite(sr, md_test_core_suite());
    srunner_add_suite(sr, md_test_crypto_suite());
    srunner_add_suite(sr, md_test_store_suite());
    srunner_add_suite(sr, md_test_reg_suite());
    srunner_add_suite(sr, md_test_status_suite());
    srunner_add_suite(sr, md_test_jws_suite());
    srunner_add_suite(sr, md_test_acme_suite());
    srunner_add_suite(sr, md_test_ocsp_suite());
    srunner_add_suite(sr, md_test_crl_suite());
    srunner_add_suite(sr, md_test_ari_suite());
    srunner_add_suite(sr, md_test_metrics_suite());
    srunner_add_suite(sr, md_test_live_suite());
    srunner_add_suite(sr, md_test_doctor_suite());
    srunner_add_suite(sr, md_test_keyloss_suite());
    srunner_add_suite(sr, md_test_dbstore_suite());

    srunner_run_all(sr, (verbose && *verbose == '1') ? CK_VERBOSE : CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
