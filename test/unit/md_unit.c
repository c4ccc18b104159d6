/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Runs all core unit suites. CK_RUN_SUITE / CK_RUN_CASE select a part,
 * MD_UNIT_VERBOSE=1 prints every test.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "md_crypto.h"
#include "md_http.h"
#include "md_util.h"
#include "md_unit.h"

apr_pool_t *md_test_pool;
static apr_pool_t *global_pool;
static unsigned int tmp_counter;

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

static apr_status_t fake_perform(md_http_request_t *req, md_http_response_t *resp)
{
    md_data_t *d;

    ++md_test_http.requests;
    md_test_http.url = apr_pstrdup(md_test_pool, req->url);
    md_test_http.content_type = apr_pstrdup(md_test_pool, req->content_type);
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

void md_test_http_use(const char *dir, const char *body)
{
    memset(&md_test_http, 0, sizeof(md_test_http));
    md_test_http.dir = dir;
    md_test_http.body = body;
    md_test_http.status = 200;
    md_http_use_implementation(&fake_impl);
}

void md_test_http_unuse(void)
{
    md_http_use_implementation(NULL);
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
    return dir;
}

int main(void)
{
    SRunner *sr;
    int failed;
    const char *verbose = getenv("MD_UNIT_VERBOSE");

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&global_pool, NULL);
    md_crypt_init(global_pool);

    sr = srunner_create(md_test_util_suite());
    srunner_add_suite(sr, md_test_json_suite());
    srunner_add_suite(sr, md_test_time_suite());
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
    srunner_add_suite(sr, md_test_dbstore_suite());

    srunner_run_all(sr, (verbose && *verbose == '1') ? CK_VERBOSE : CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
