/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The unit test runner's suite list: one suite per core file.
 */
#ifndef md_unit_h
#define md_unit_h

#include <check.h>
#include <apr_pools.h>

#include "md.h"
#include "md_util.h"

/* The number of elements of a fixed-size array, as an int (loop tests). */
#define N(a) ((int)MD_ARRAY_LEN(a))

Suite *md_test_util_suite(void);
Suite *md_test_json_suite(void);
Suite *md_test_time_suite(void);
Suite *md_test_core_suite(void);
Suite *md_test_crypto_suite(void);
Suite *md_test_store_suite(void);
Suite *md_test_reg_suite(void);
Suite *md_test_status_suite(void);
Suite *md_test_jws_suite(void);
Suite *md_test_acme_suite(void);
Suite *md_test_ocsp_suite(void);
Suite *md_test_crl_suite(void);
Suite *md_test_ari_suite(void);
Suite *md_test_metrics_suite(void);
Suite *md_test_live_suite(void);
Suite *md_test_dbstore_suite(void);

/* A pool for the running test, destroyed after it (set by the fixture
 * md_test_setup/md_test_teardown, which every TCase adds). */
extern apr_pool_t *md_test_pool;
void md_test_setup(void);
void md_test_teardown(void);
/* A fresh empty directory below the build's temp dir for this test. */
const char *md_test_mkdtemp(apr_pool_t *p);

/* A new private key of the type (bits for RSA, curve for EC) in
 * md_test_pool; fails the test when it cannot be made. */
struct md_pkey_t *md_test_gen_key(md_pkey_type_t type, unsigned int bits,
                                  const char *curve);

/* A fake HTTP server for md_http: every request is answered with status
 * and the file body in dir (NULL body: connection refused); it counts the
 * requests and keeps the last url and content type (in md_test_pool).
 * md_test_http_use(dir, body) resets it and installs it for md_http;
 * md_test_http_unuse() restores the default transport. */
typedef struct {
    const char *dir;
    const char *body;
    int status;
    int requests;
    const char *url;
    const char *content_type;
} md_test_http_t;
extern md_test_http_t md_test_http;
void md_test_http_use(const char *dir, const char *body);
void md_test_http_unuse(void);
/* The bytes of file name in dir (in md_test_pool), failing the test if
 * it cannot be read. */
struct md_data_t *md_test_read_file(const char *dir, const char *name);

#endif /* md_unit_h */
