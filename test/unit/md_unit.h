/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The unit test runner's suite list: one suite per core file.
 */
#ifndef md_unit_h
#define md_unit_h

#include <check.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "md.h"
#include "md_log.h"
#include "md_util.h"

/* The number of elements of a fixed-size array, as an int (loop tests). */
#define N(a) ((int)MD_ARRAY_LEN(a))

Suite *md_test_util_suite(void);
Suite *md_test_json_suite(void);
Suite *md_test_time_suite(void);
Suite *md_test_ip_suite(void);
Suite *md_test_core_suite(void);
Suite *md_test_crypto_suite(void);
Suite *md_test_store_suite(void);
/* The store's dispatch over a test backend (test_md_store_backend.c). */
TCase *md_test_store_backend_tcase(void);
Suite *md_test_reg_suite(void);
Suite *md_test_status_suite(void);
Suite *md_test_jws_suite(void);
Suite *md_test_acme_suite(void);
Suite *md_test_ocsp_suite(void);
Suite *md_test_crl_suite(void);
Suite *md_test_ari_suite(void);
Suite *md_test_metrics_suite(void);
Suite *md_test_live_suite(void);
Suite *md_test_doctor_suite(void);
Suite *md_test_keyloss_suite(void);
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

/* A fake HTTP server for md_http, in one of two modes:
 * - files, md_test_http_use(dir, body): every request is answered with
 *   status and the file body in dir (NULL body: connection refused);
 * - a script, md_test_http_script(base, answers, count): the requests must
 *   come in the order of answers (method and base + path, else the test
 *   fails), each gets its answer; with nonces set, every answer to a
 *   request other than GET carries a fresh Replay-Nonce (as an ACME CA).
 * Either resets the state and installs the fake for md_http; it counts the
 * requests and keeps the last url and content type and every request body
 * (in md_test_pool). md_test_http_unuse() restores the default transport. */
struct md_http_request_t;
typedef struct {
    const char *method;
    const char *path;           /* url = base + path */
    apr_status_t transport;     /* != 0: fail the request with it */
    int status;
    const char *ctype;
    const char *location;       /* path below base, or NULL */
    const char *body;
    /* produces the body at request time (NULL: body) */
    const char *(*body_fn)(struct md_http_request_t *req);
    const char *retry_after;
} md_test_answer_t;

typedef struct {
    const char *dir;
    const char *body;
    int status;
    int requests;
    const char *url;
    const char *content_type;
    apr_array_header_t *bodies;         /* the request bodies, "" for none */
    const char *base;                   /* a script: */
    const md_test_answer_t *answers;
    int count;
    int next;                           /* index of the next answer */
    int nonces;                         /* set: Replay-Nonce "nonce-N" */
    int nonce;                          /* the last N handed out */
} md_test_http_t;
extern md_test_http_t md_test_http;
void md_test_http_use(const char *dir, const char *body);
void md_test_http_script(const char *base, const md_test_answer_t *answers, int count);
void md_test_http_unuse(void);
/* The core's log lines of level and more important, logged between
 * md_test_log_start(level) and md_test_log_stop(), each followed by a
 * newline; md_test_log_text() is "" when there were none. */
void md_test_log_start(md_log_level_t level);
void md_test_log_stop(void);
const char *md_test_log_text(void);

/* The bytes of file name in dir (in md_test_pool), failing the test if
 * it cannot be read. */
struct md_data_t *md_test_read_file(const char *dir, const char *name);

#endif /* md_unit_h */
