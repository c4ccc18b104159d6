/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Runs all core unit suites. CK_RUN_SUITE / CK_RUN_CASE select a part,
 * MD_UNIT_VERBOSE=1 prints every test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "md_crypto.h"
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

const char *md_test_mkdtemp(apr_pool_t *p)
{
    const char *base = getenv("MD_UNIT_TMP");
    const char *dir;

    if (!base) base = "/tmp";
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
    srunner_add_suite(sr, md_test_ari_suite());
    srunner_add_suite(sr, md_test_metrics_suite());
    srunner_add_suite(sr, md_test_live_suite());

    srunner_run_all(sr, (verbose && *verbose == '1') ? CK_VERBOSE : CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
