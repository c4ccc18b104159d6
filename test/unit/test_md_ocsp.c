/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_ocsp: response verification against fixtures made by
 * `openssl ocsp` (test/unit/data/make-ocsp-fixtures.sh), requests, the
 * response document, renew timing, and the registry with a fake HTTP
 * transport (prime, stapled answers, refresh, errors, revocation).
 */
#include <string.h>
#include <check.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <openssl/ocsp.h>

#include "md.h"
#include "md_crypto.h"
#include "md_crypto_int.h"
#include "md_http.h"
#include "md_job.h"
#include "md_json.h"
#include "md_ocsp.h"
#include "md_result.h"
#include "md_status.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_time.h"
#include "md_util.h"
#include "md_unit.h"

#define OCSP_DATA_PATH(name) apr_pstrcat(md_test_pool, MD_TEST_DATA "/ocsp/", name, NULL)

static md_data_t *read_file(const char *name)
{
    return md_test_read_file(MD_TEST_DATA "/ocsp", name);
}

static md_cert_t *load_cert(const char *name)
{
    md_cert_t *cert;

    ck_assert_int_eq(APR_SUCCESS, md_cert_fload(&cert, md_test_pool, OCSP_DATA_PATH(name)));
    return cert;
}

/* The thisUpdate of a fixture response, read without judging the response.
 * The fixtures were made on their own dates: every check runs at a time
 * derived from them, never at the wall clock. */
static apr_time_t this_update(const char *resp)
{
    md_data_t *d = read_file(resp);
    const unsigned char *q = (const unsigned char *)d->data;
    OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &q, (long)d->len);
    OCSP_BASICRESP *bs = r ? OCSP_response_get1_basic(r) : NULL;
    OCSP_SINGLERESP *single = bs ? OCSP_resp_get0(bs, 0) : NULL;
    ASN1_GENERALIZEDTIME *thisupd = NULL;
    apr_time_t at;

    ck_assert_ptr_nonnull(single);
    OCSP_single_get0_status(single, NULL, NULL, &thisupd, NULL);
    at = md_asn1_time_get(thisupd);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(r);
    ck_assert(at > 0);
    return at;
}

/* A moment at which the response fixture resp is fresh. */
static apr_time_t fresh_at(const char *resp)
{
    return this_update(resp) + apr_time_from_sec(60);
}

/* --- verification ------------------------------------------------------------------ */

typedef enum { AT_NOW, AT_STALE, AT_EARLY, AT_NO_NEXT_LATE } check_time;

typedef struct {
    const char *resp;
    const char *req;                /* NULL: no nonce check */
    const char *leaf;
    check_time when;
    apr_status_t rv;
    md_ocsp_cert_stat_t stat;
} check_case;

static const check_case check_cases[] = {
    { "resp-good.der", "req.der", "leaf.pem", AT_NOW, APR_SUCCESS, MD_OCSP_CERT_ST_GOOD },
    { "resp-good.der", NULL, "leaf.pem", AT_NOW, APR_SUCCESS, MD_OCSP_CERT_ST_GOOD },
    { "resp-revoked.der", "req.der", "leaf.pem", AT_NOW, APR_SUCCESS,
      MD_OCSP_CERT_ST_REVOKED },
    { "resp-no-next.der", "req.der", "leaf.pem", AT_NOW, APR_SUCCESS, MD_OCSP_CERT_ST_GOOD },
    { "resp-no-nonce.der", "req.der", "leaf.pem", AT_NOW, APR_SUCCESS,
      MD_OCSP_CERT_ST_GOOD },
    { "resp-delegated.der", "req.der", "leaf.pem", AT_NOW, APR_SUCCESS,
      MD_OCSP_CERT_ST_GOOD },
    { "resp-unknown.der", "req-leaf2.der", "leaf2.pem", AT_NOW, APR_SUCCESS,
      MD_OCSP_CERT_ST_UNKNOWN },
    /* nonce of another request */
    { "resp-good.der", "req2.der", "leaf.pem", AT_NOW, APR_EINVAL, 0 },
    /* signed by a certificate the issuer did not delegate OCSP to */
    { "resp-not-delegated.der", NULL, "leaf.pem", AT_NOW, APR_EINVAL, 0 },
    /* signed by an unrelated CA */
    { "resp-other-signer.der", NULL, "leaf.pem", AT_NOW, APR_EINVAL, 0 },
    /* about another certificate */
    { "resp-unknown.der", NULL, "leaf.pem", AT_NOW, APR_EINVAL, 0 },
    { "resp-good.der", NULL, "leaf2.pem", AT_NOW, APR_EINVAL, 0 },
    /* stale, not yet valid, past thisUpdate + 12 h without nextUpdate */
    { "resp-good.der", NULL, "leaf.pem", AT_STALE, APR_EINVAL, 0 },
    { "resp-good.der", NULL, "leaf.pem", AT_EARLY, APR_EINVAL, 0 },
    { "resp-no-next.der", NULL, "leaf.pem", AT_NO_NEXT_LATE, APR_EINVAL, 0 },
};

START_TEST(test_check_response)
{
    const check_case *c = &check_cases[_i];
    md_ocsp_answer_t answer;
    md_data_t *req = c->req ? read_file(c->req) : NULL;
    apr_time_t start = this_update(c->resp), now = start + apr_time_from_sec(60);
    const char *err = NULL;
    apr_status_t rv;

    /* the fixtures are valid for 100 years */
    if (AT_STALE == c->when) {
        now = apr_time_from_sec(5000000000LL);
    }
    else if (AT_EARLY == c->when) {
        now = start - apr_time_from_sec(MD_SECS_PER_DAY);
    }
    else if (AT_NO_NEXT_LATE == c->when) {
        now = start + apr_time_from_sec(13 * 3600);
    }
    rv = md_ocsp_check_response(&answer, &err, read_file(c->resp), load_cert(c->leaf),
                                load_cert("ca.pem"), req, now, md_test_pool);
    ck_assert_msg(c->rv == rv, "%s for %s: rv %d (%s)", c->resp, c->leaf, rv,
                  err ? err : "-");
    if (APR_SUCCESS == rv) {
        ck_assert_int_eq(c->stat, answer.stat);
        ck_assert_int_eq(start, answer.valid.start);
        ck_assert(answer.valid.end > answer.valid.start);
        if (!strcmp("resp-no-next.der", c->resp)) {
            ck_assert_int_eq(start + MD_OCSP_DEF_VALIDITY, answer.valid.end);
        }
    }
    else {
        ck_assert_ptr_nonnull(err);
    }
}
END_TEST

START_TEST(test_check_bad_bytes)
{
    md_data_t *good = read_file("resp-good.der");
    md_cert_t *leaf = load_cert("leaf.pem"), *ca = load_cert("ca.pem");
    md_ocsp_answer_t answer;
    md_data_t d;
    char *buf;
    const char *err;
    apr_size_t i;
    apr_time_t at = fresh_at("resp-good.der");

    /* garbage */
    d.data = "this is not an OCSP response";
    d.len = strlen(d.data);
    ck_assert_int_eq(APR_EINVAL, md_ocsp_check_response(&answer, &err, &d, leaf, ca, NULL,
                                                        at, md_test_pool));
    /* empty */
    d.len = 0;
    ck_assert_int_eq(APR_EINVAL, md_ocsp_check_response(&answer, &err, &d, leaf, ca, NULL,
                                                        at, md_test_pool));
    /* truncated */
    d.data = good->data;
    d.len = good->len - 10;
    ck_assert_int_eq(APR_EINVAL, md_ocsp_check_response(&answer, &err, &d, leaf, ca, NULL,
                                                        at, md_test_pool));
    /* trailing bytes */
    buf = apr_palloc(md_test_pool, good->len + 1);
    memcpy(buf, good->data, good->len);
    buf[good->len] = 0;
    d.data = buf;
    d.len = good->len + 1;
    ck_assert_int_eq(APR_EINVAL, md_ocsp_check_response(&answer, &err, &d, leaf, ca, NULL,
                                                        at, md_test_pool));
    /* a changed producedAt (the signed data) */
    buf = apr_pmemdup(md_test_pool, good->data, good->len);
    for (i = 0; i + 6 < good->len; ++i) {
        if (buf[i] == 0x18 && buf[i + 1] == 0x0f) {
            break;
        }
    }
    ck_assert(i + 6 < good->len);
    buf[i + 6] = (buf[i + 6] == '9') ? '8' : (char)(buf[i + 6] + 1);
    d.data = buf;
    d.len = good->len;
    ck_assert_int_eq(APR_EINVAL, md_ocsp_check_response(&answer, &err, &d, leaf, ca, NULL,
                                                        at, md_test_pool));
    /* too large */
    buf = apr_pcalloc(md_test_pool, MD_OCSP_MAX_RESPONSE + 1);
    memcpy(buf, good->data, good->len);
    d.data = buf;
    d.len = MD_OCSP_MAX_RESPONSE + 1;
    ck_assert_int_eq(APR_EINVAL, md_ocsp_check_response(&answer, &err, &d, leaf, ca, NULL,
                                                        at, md_test_pool));
    ck_assert_ptr_nonnull(strstr(err, "too large"));
}
END_TEST

/* --- requests, documents, timing ------------------------------------------------------ */

START_TEST(test_request_make)
{
    md_cert_t *leaf = load_cert("leaf.pem"), *ca = load_cert("ca.pem");
    md_data_t der, der2;
    const unsigned char *bytes;
    OCSP_REQUEST *req;

    ck_assert_int_eq(APR_SUCCESS, md_ocsp_request_make(&der, leaf, ca, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_request_make(&der2, leaf, ca, md_test_pool));
    ck_assert(der.len > 0 && der.len == der2.len);
    /* a fresh nonce each time */
    ck_assert(memcmp(der.data, der2.data, der.len));
    bytes = (const unsigned char *)der.data;
    req = d2i_OCSP_REQUEST(NULL, &bytes, (long)der.len);
    ck_assert_ptr_nonnull(req);
    ck_assert_int_eq(1, OCSP_request_onereq_count(req));
    ck_assert_int_ge(OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1), 0);
    OCSP_REQUEST_free(req);
}
END_TEST

START_TEST(test_resp_json)
{
    md_data_t *good = read_file("resp-good.der"), der;
    md_ocsp_answer_t answer;
    md_json_t *json;
    const char *text;

    answer.stat = MD_OCSP_CERT_ST_REVOKED;
    answer.valid.start = apr_time_from_sec(1796039852);
    answer.valid.end = answer.valid.start + apr_time_from_sec(7200);
    json = md_ocsp_resp_to_json(good, &answer, md_test_pool);
    text = md_json_writep(json, md_test_pool, MD_JSON_FMT_COMPACT);
    ck_assert_ptr_nonnull(strstr(text, "\"status\":\"revoked\",\"valid\":{\"from\":"));
    ck_assert_str_eq("Mon, 30 Nov 2026 11:57:32 GMT",
                     md_json_gets(json, MD_KEY_VALID, MD_KEY_FROM, NULL));
    ck_assert_str_eq("Mon, 30 Nov 2026 13:57:32 GMT",
                     md_json_gets(json, MD_KEY_VALID, MD_KEY_UNTIL, NULL));
    ck_assert(!strchr(md_json_gets(json, MD_KEY_RESPONSE, NULL), '='));
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_resp_from_json(&der, json, md_test_pool));
    ck_assert_int_eq(good->len, der.len);
    ck_assert(!memcmp(good->data, der.data, der.len));

    md_json_del(json, MD_KEY_RESPONSE, NULL);
    ck_assert_int_eq(APR_ENOENT, md_ocsp_resp_from_json(&der, json, md_test_pool));
    md_json_sets("not*base64", json, MD_KEY_RESPONSE, NULL);
    ck_assert_int_eq(APR_EINVAL, md_ocsp_resp_from_json(&der, json, md_test_pool));
}
END_TEST

START_TEST(test_stat_names)
{
    ck_assert_str_eq("good", md_ocsp_cert_stat_name(MD_OCSP_CERT_ST_GOOD));
    ck_assert_str_eq("revoked", md_ocsp_cert_stat_name(MD_OCSP_CERT_ST_REVOKED));
    ck_assert_str_eq("unknown", md_ocsp_cert_stat_name(MD_OCSP_CERT_ST_UNKNOWN));
    ck_assert_int_eq(MD_OCSP_CERT_ST_GOOD, md_ocsp_cert_stat_value("GOOD"));
    ck_assert_int_eq(MD_OCSP_CERT_ST_REVOKED, md_ocsp_cert_stat_value("revoked"));
    ck_assert_int_eq(MD_OCSP_CERT_ST_UNKNOWN, md_ocsp_cert_stat_value("bad"));
    ck_assert_int_eq(MD_OCSP_CERT_ST_UNKNOWN, md_ocsp_cert_stat_value(NULL));
}
END_TEST

START_TEST(test_renew_at)
{
    md_timeperiod_t valid;
    md_timeslice_t *ts;

    valid.start = apr_time_from_sec(1000000);
    valid.end = valid.start + apr_time_from_sec(300 * 60);
    ck_assert_ptr_null(md_timeslice_parse(&ts, md_test_pool, "33%", MD_TIME_LIFE_NORM));
    /* a third of 5 hours left: 99 minutes before the end */
    ck_assert_int_eq(valid.end - apr_time_from_sec(99 * 60), md_ocsp_renew_at(&valid, ts));
    ck_assert_ptr_null(md_timeslice_parse(&ts, md_test_pool, "2h", MD_TIME_LIFE_NORM));
    ck_assert_int_eq(valid.end - apr_time_from_sec(2 * 3600), md_ocsp_renew_at(&valid, ts));
    /* an absolute window longer than the validity: renew right away */
    ck_assert_ptr_null(md_timeslice_parse(&ts, md_test_pool, "2d", MD_TIME_LIFE_NORM));
    ck_assert(md_ocsp_renew_at(&valid, ts) <= valid.start);
}
END_TEST

START_TEST(test_recheck_interval)
{
    ck_assert_int_eq(apr_time_from_sec(3600),
                     md_ocsp_recheck_interval(apr_time_from_sec(2 * MD_SECS_PER_DAY)));
    ck_assert_int_eq(apr_time_from_sec(3600),
                     md_ocsp_recheck_interval(apr_time_from_sec(MD_SECS_PER_DAY)));
    ck_assert_int_eq(apr_time_from_sec(60), md_ocsp_recheck_interval(apr_time_from_sec(600)));
    ck_assert_int_eq(apr_time_from_sec(60), md_ocsp_recheck_interval(apr_time_from_sec(60)));
    ck_assert_int_eq(apr_time_from_sec(1), md_ocsp_recheck_interval(apr_time_from_sec(59)));
    ck_assert_int_eq(apr_time_from_sec(1), md_ocsp_recheck_interval(-1));
}
END_TEST

/* --- the registry with a fake responder ----------------------------------------------- */

static md_store_t *store;
static md_ocsp_reg_t *reg;
static void reg_setup(void)
{
    md_timeslice_t *window;

    md_test_setup();
    md_test_http_use(MD_TEST_DATA "/ocsp", "resp-no-nonce.der");
    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, md_test_pool,
                                                   md_test_mkdtemp(md_test_pool)));
    md_timeslice_parse(&window, md_test_pool, "33%", MD_TIME_LIFE_NORM);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_reg_make(&reg, md_test_pool, store, window,
                                                   "Apache/2.4.71", NULL,
                                                   apr_time_from_sec(5)));
}

static void reg_teardown(void)
{
    md_test_http_unuse();
    md_test_teardown();
}

typedef struct {
    apr_size_t len;
    int calls;
} copy_rec;

static void copy_cb(const unsigned char *der, apr_size_t der_len, void *baton)
{
    copy_rec *rec = baton;

    ++rec->calls;
    rec->len = der ? der_len : 0;
}

static const char *leaf_hexid(void)
{
    const char *hex;

    ck_assert_int_eq(APR_SUCCESS, md_cert_to_sha1_hex(&hex, load_cert("leaf.pem"),
                                                      md_test_pool));
    return hex;
}

static void prime_leaf(const char *name)
{
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_prime(reg, "id-leaf", 7, load_cert("leaf.pem"),
                                                load_cert("ca.pem"), name, apr_time_now(),
                                                md_test_pool));
}

/* Certificates that go live while the server runs are primed while other
 * threads look up ids: the lookups keep working and find the new ones. */
typedef struct {
    md_ocsp_reg_t *reg;
    volatile int stop;
    int found;
} lookup_ctx;

static void *APR_THREAD_FUNC lookups(apr_thread_t *thread, void *data)
{
    lookup_ctx *ctx = data;
    copy_rec rec = { 0, 0 };
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    while (!ctx->stop) {
        if (APR_SUCCESS == md_ocsp_get_status(copy_cb, &rec, ctx->reg, "id-live-99", 10,
                                              apr_time_now(), p)) {
            ctx->found = 1;
        }
        md_ocsp_get_status(copy_cb, &rec, ctx->reg, "id-leaf", 7, apr_time_now(), p);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    /* a plain return: pthread_exit's unwinding upsets ASan's thread exit */
    (void)thread;
    return NULL;
}

START_TEST(test_reg_prime_while_serving)
{
    lookup_ctx ctx = { reg, 0, 0 };
    md_cert_t *leaf = load_cert("leaf.pem"), *leaf2 = load_cert("leaf2.pem");
    md_cert_t *ca = load_cert("ca.pem");
    apr_thread_t *thread;
    apr_status_t trv;
    copy_rec rec = { 0, 0 };
    char id[16];
    int i;

    prime_leaf("example.org");
    ck_assert_int_eq(APR_SUCCESS, apr_thread_create(&thread, NULL, lookups, &ctx,
                                                    md_test_pool));
    for (i = 0; i < 100; ++i) {
        apr_snprintf(id, sizeof(id), "id-live-%02d", i);
        ck_assert_int_eq(APR_SUCCESS, md_ocsp_prime(reg, id, 10, (i % 2) ? leaf2 : leaf, ca,
                                                    "example.org", apr_time_now(),
                                                    md_test_pool));
    }
    ctx.stop = 1;
    apr_thread_join(&trv, thread);
    /* two certificates, each once, under 101 ids */
    ck_assert_int_eq(2, md_ocsp_count(reg));
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, reg, "id-live-99", 10,
                                                     apr_time_now(), md_test_pool));
    ck_assert_int_eq(1, rec.calls);
}
END_TEST

START_TEST(test_reg_prime)
{
    copy_rec rec = { 0, 0 };

    ck_assert_int_eq(APR_ENOENT, md_ocsp_prime(reg, "id-x", 4, load_cert("noocsp.pem"),
                                               load_cert("ca.pem"), NULL, apr_time_now(),
                                               md_test_pool));
    ck_assert_int_eq(0, md_ocsp_count(reg));
    prime_leaf("example.org");
    /* the same certificate under another id */
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_prime(reg, "id-2", 4, load_cert("leaf.pem"),
                                                load_cert("ca.pem"), NULL, apr_time_now(),
                                                md_test_pool));
    ck_assert_int_eq(1, md_ocsp_count(reg));
    ck_assert_int_eq(APR_ENOENT, md_ocsp_get_status(copy_cb, &rec, reg, "nope", 4,
                                                    apr_time_now(), md_test_pool));
    ck_assert_int_eq(0, rec.calls);
    /* nothing fetched yet: no response, and no waiting */
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, reg, "id-2", 4,
                                                     apr_time_now(), md_test_pool));
    ck_assert_int_eq(1, rec.calls);
    ck_assert_int_eq(0, rec.len);
    ck_assert_int_eq(0, md_test_http.requests);
    ck_assert(!md_ocsp_is_revoked(reg, "example.org", apr_time_now(), md_test_pool));
}
END_TEST

/* A certificate of an MD whose CA runs no OCSP: claimed (mod_ssl's own
 * stapling would log errors), handed out as "no response", never fetched,
 * no job, not counted as a stapling, not revoked. */
START_TEST(test_reg_prime_md_without_url)
{
    copy_rec rec = { 0, 0 };
    apr_array_header_t *staplings;
    apr_time_t next = 0;

    ck_assert_int_eq(APR_SUCCESS, md_ocsp_prime(reg, "id-x", 4, load_cert("noocsp.pem"),
                                                load_cert("ca.pem"), "example.org",
                                                apr_time_now(), md_test_pool));
    /* a second host with the same certificate */
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_prime(reg, "id-x", 4, load_cert("noocsp.pem"),
                                                load_cert("ca.pem"), "example.org",
                                                apr_time_now(), md_test_pool));
    ck_assert_int_eq(0, md_ocsp_count(reg));
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, reg, "id-x", 4,
                                                     apr_time_now(), md_test_pool));
    ck_assert_int_eq(1, rec.calls);
    ck_assert_int_eq(0, rec.len);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_renew(reg, apr_time_now(), md_test_pool, &next));
    ck_assert_int_eq(0, md_test_http.requests);
    ck_assert(!md_store_exists(store, MD_SG_OCSP, "example.org", MD_FN_JOB, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_staplings(&staplings, reg, apr_time_now(),
                                                        md_test_pool));
    ck_assert_int_eq(0, staplings->nelts);
    ck_assert(!md_ocsp_is_revoked(reg, "example.org", apr_time_now(), md_test_pool));
}
END_TEST

START_TEST(test_reg_renew_good)
{
    copy_rec rec = { 0, 0 };
    apr_time_t next = 0;
    md_json_t *json;
    md_job_t *job;
    apr_array_header_t *staplings;
    const char *fname = apr_pstrcat(md_test_pool, "ocsp-", leaf_hexid(), ".json", NULL);

    prime_leaf("example.org");
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_renew(reg, apr_time_now(), md_test_pool, &next));
    ck_assert_int_eq(1, md_test_http.requests);
    ck_assert_str_eq("application/ocsp-request", md_test_http.content_type);
    /* valid for 100 years: next run at most a day ahead */
    ck_assert(next > apr_time_now() + apr_time_from_sec(MD_SECS_PER_DAY - 10));
    ck_assert(next <= apr_time_now() + apr_time_from_sec(MD_SECS_PER_DAY));
    ck_assert_int_eq(APR_SUCCESS, md_store_load_json(store, MD_SG_OCSP, "example.org", fname,
                                                     &json, md_test_pool));
    ck_assert_str_eq("good", md_json_gets(json, MD_KEY_STATUS, NULL));
    ck_assert_ptr_nonnull(md_json_gets(json, MD_KEY_VALID, MD_KEY_UNTIL, NULL));
    job = md_job_make(md_test_pool, store, MD_SG_OCSP, "example.org", 0);
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job));
    ck_assert(job->finished);
    ck_assert(!job->notified);
    ck_assert_int_eq(0, job->error_runs);
    ck_assert_ptr_nonnull(strstr(job->last->detail, "certificate status is GOOD, status "
                                                    "valid "));
    ck_assert_str_eq(apr_pstrcat(md_test_pool, "status of certid ", leaf_hexid(),
                                 ", reading response", NULL), job->last->activity);
    ck_assert(md_job_log_get_time_of_latest(job, "message-ocsp-renewed") > 0);
    /* handed out at once */
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, reg, "id-leaf", 7,
                                                     apr_time_now(), md_test_pool));
    ck_assert_int_eq(read_file("resp-no-nonce.der")->len, rec.len);
    /* nothing due now */
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_renew(reg, apr_time_now(), md_test_pool, &next));
    ck_assert_int_eq(1, md_test_http.requests);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_staplings(&staplings, reg, apr_time_now(),
                                                        md_test_pool));
    ck_assert_int_eq(1, staplings->nelts);
    json = APR_ARRAY_IDX(staplings, 0, md_json_t *);
    ck_assert_str_eq("example.org", md_json_gets(json, "domain", NULL));
    ck_assert_str_eq(leaf_hexid(), md_json_gets(json, "id", NULL));
    ck_assert_str_eq("good", md_json_gets(json, "status", NULL));
    ck_assert_str_eq("http://127.0.0.1:9/ocsp", md_json_gets(json, "url", NULL));
}
END_TEST

START_TEST(test_reg_reload)
{
    md_ocsp_reg_t *reg1 = reg;
    copy_rec rec = { 0, 0 };
    apr_time_t next;
    md_timeslice_t *window;

    /* a stored response is used by a new registry (a reload) at once */
    prime_leaf(NULL);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_renew(reg1, apr_time_now(), md_test_pool, &next));
    md_timeslice_parse(&window, md_test_pool, "33%", MD_TIME_LIFE_NORM);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_reg_make(&reg, md_test_pool, store, window,
                                                   "Apache/2.4.71", NULL, 0));
    md_test_http.body = NULL;
    prime_leaf(NULL);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, reg, "id-leaf", 7,
                                                     apr_time_now(), md_test_pool));
    ck_assert(rec.len > 0);
    ck_assert_int_eq(1, md_test_http.requests);
    ck_assert(md_store_exists(store, MD_SG_OCSP, MD_OCSP_OTHER, MD_FN_JOB, md_test_pool));
}
END_TEST

/* Another process (the watchdog) saved a response: a process with none
 * staples it at its next handshake when the stores share a change counter
 * (not a second later); without a counter it waits for the recheck. */
START_TEST(test_reg_saved_elsewhere)
{
    md_ocsp_reg_t *handshakes = reg, *watchdog;
    md_store_t *other;
    apr_uint32_t changes = 0;
    copy_rec rec = { 0, 0 };
    apr_time_t next, now = apr_time_now();
    md_timeslice_t *window;
    int counted = _i;

    md_timeslice_parse(&window, md_test_pool, "33%", MD_TIME_LIFE_NORM);
    if (counted) {
        md_store_set_change_counter(store, &changes);
    }
    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&other, md_test_pool,
                                                   md_store_base_dir(store)));
    if (counted) {
        md_store_set_change_counter(other, &changes);
    }
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_reg_make(&watchdog, md_test_pool, other, window,
                                                   "Apache/2.4.71", NULL, 0));
    prime_leaf("example.org");
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_prime(watchdog, "id-leaf", 7,
                                                load_cert("leaf.pem"), load_cert("ca.pem"),
                                                "example.org", now, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, handshakes, "id-leaf",
                                                     7, now, md_test_pool));
    ck_assert_int_eq(0, rec.len);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_renew(watchdog, now, md_test_pool, &next));
    ck_assert_int_eq(1, md_test_http.requests);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, handshakes, "id-leaf",
                                                     7, now + 1000, md_test_pool));
    ck_assert_int_eq(counted ? read_file("resp-no-nonce.der")->len : 0, rec.len);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, handshakes, "id-leaf",
                                                     7, now + apr_time_from_sec(2),
                                                     md_test_pool));
    ck_assert_int_eq(read_file("resp-no-nonce.der")->len, rec.len);
}
END_TEST

START_TEST(test_reg_revoked)
{
    copy_rec rec = { 0, 0 };
    apr_time_t next;

    md_test_http.body = "resp-revoked.der";
    prime_leaf("example.org");
    /* the fixture carries a nonce of another request: rejected */
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_renew(reg, apr_time_now(), md_test_pool, &next));
    ck_assert(!md_ocsp_is_revoked(reg, "example.org", apr_time_now(), md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, reg, "id-leaf", 7,
                                                     apr_time_now(), md_test_pool));
    ck_assert_int_eq(0, rec.len);
}
END_TEST

typedef struct {
    const char *body;               /* NULL: connection refused */
    int status;
    const char *detail_part;
    apr_status_t rv;
} error_case;

static const error_case error_cases[] = {
    { NULL, 0, "unable to contact OCSP responder at http://127.0.0.1:9/ocsp",
      APR_ECONNREFUSED },
    { "resp-no-nonce.der", 500, "answered with HTTP status 500", APR_EGENERAL },
    { "req.der", 200, "invalid OCSP response from http://127.0.0.1:9/ocsp", APR_EINVAL },
    { "resp-other-signer.der", 200, "signature does not verify", APR_EINVAL },
    { "resp-good.der", 200, "nonce does not match", APR_EINVAL },
};

START_TEST(test_reg_errors)
{
    const error_case *c = &error_cases[_i];
    copy_rec rec = { 0, 0 };
    apr_time_t next, now = apr_time_now();
    md_job_t *job;

    md_test_http.body = c->body;
    md_test_http.status = c->status;
    prime_leaf("example.org");
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_renew(reg, apr_time_now(), md_test_pool, &next));
    job = md_job_make(md_test_pool, store, MD_SG_OCSP, "example.org", 0);
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job));
    ck_assert(!job->finished);
    ck_assert_int_eq(1, job->error_runs);
    ck_assert_int_eq(c->rv, job->last->status);
    ck_assert_msg(strstr(job->last->detail, c->detail_part), "%s", job->last->detail);
    /* back-off: 5 s +-50%, job.json keeps whole seconds */
    ck_assert(job->next_run >= now + apr_time_from_msec(1400));
    ck_assert(job->next_run <= now + apr_time_from_sec(8));
    ck_assert_int_eq(apr_time_sec(job->next_run), apr_time_sec(next));
    ck_assert(md_job_log_get_time_of_latest(job, MD_JOB_LOG_OCSP_ERR) > 0);
    ck_assert(md_job_log_get_time_of_latest(job, "message-ocsp-errored") > 0);
    /* not retried before the back-off */
    md_test_http.requests = 0;
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_renew(reg, apr_time_now(), md_test_pool, &next));
    ck_assert_int_eq(0, md_test_http.requests);
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_get_status(copy_cb, &rec, reg, "id-leaf", 7,
                                                     apr_time_now(), md_test_pool));
    ck_assert_int_eq(0, rec.len);
    ck_assert(!md_store_exists(store, MD_SG_OCSP, "example.org",
                               apr_pstrcat(md_test_pool, "ocsp-", leaf_hexid(), ".json",
                                           NULL), md_test_pool));
}
END_TEST

START_TEST(test_reg_stored_revoked)
{
    md_ocsp_answer_t answer;
    md_json_t *json;
    md_data_t *der = read_file("resp-revoked.der");
    md_status_input_t in;
    md_status_slot_t slot, *pslot = &slot;
    md_cert_facts_t *facts;
    md_t md;
    const char *fname = apr_pstrcat(md_test_pool, "ocsp-", leaf_hexid(), ".json", NULL);

    /* a stored revoked response (as the watchdog of another process wrote it) */
    ck_assert_int_eq(APR_SUCCESS, md_ocsp_check_response(&answer, NULL, der,
                                                         load_cert("leaf.pem"),
                                                         load_cert("ca.pem"), NULL,
                                                         fresh_at("resp-revoked.der"),
                                                         md_test_pool));
    json = md_ocsp_resp_to_json(der, &answer, md_test_pool);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_OCSP,
                                                     "example.org", fname, json, 0));
    prime_leaf("example.org");
    ck_assert(md_ocsp_is_revoked(reg, "example.org", apr_time_now(), md_test_pool));
    ck_assert(!md_ocsp_is_revoked(reg, "other.org", apr_time_now(), md_test_pool));
    ck_assert(!md_ocsp_is_revoked(NULL, "example.org", apr_time_now(), md_test_pool));

    /* md-status members */
    memset(&md, 0, sizeof(md));
    md.name = "example.org";
    md.stapling = 1;
    memset(&in, 0, sizeof(in));
    memset(&slot, 0, sizeof(slot));
    ck_assert_int_eq(APR_SUCCESS, md_cert_facts_get(&facts, load_cert("leaf.pem"),
                                                    md_test_pool));
    slot.name = "rsa";
    slot.cert = facts;
    in.md = &md;
    in.slots = apr_array_make(md_test_pool, 1, sizeof(md_status_slot_t *));
    APR_ARRAY_PUSH(in.slots, md_status_slot_t *) = pslot;
    md_ocsp_status_fill(reg, &in, apr_time_now(), md_test_pool);
    ck_assert_str_eq("revoked", slot.ocsp_status);
    ck_assert_int_eq(answer.valid.start, slot.ocsp_valid_from);
    ck_assert(in.renewal_due);
    /* not for MDs without stapling */
    slot.ocsp_status = NULL;
    md.stapling = 0;
    md_ocsp_status_fill(reg, &in, apr_time_now(), md_test_pool);
    ck_assert_ptr_null(slot.ocsp_status);
}
END_TEST

Suite *md_test_ocsp_suite(void)
{
    Suite *s = suite_create("md_ocsp");
    TCase *tc;

    tc = tcase_create("verify");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, test_check_response, 0,
                        (int)(MD_ARRAY_LEN(check_cases)));
    tcase_add_test(tc, test_check_bad_bytes);
    tcase_add_test(tc, test_request_make);
    tcase_add_test(tc, test_resp_json);
    tcase_add_test(tc, test_stat_names);
    tcase_add_test(tc, test_renew_at);
    tcase_add_test(tc, test_recheck_interval);
    suite_add_tcase(s, tc);

    tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, reg_setup, reg_teardown);
    tcase_add_test(tc, test_reg_prime);
    tcase_add_test(tc, test_reg_prime_while_serving);
    tcase_add_test(tc, test_reg_prime_md_without_url);
    tcase_add_test(tc, test_reg_renew_good);
    tcase_add_test(tc, test_reg_reload);
    tcase_add_test(tc, test_reg_revoked);
    tcase_add_loop_test(tc, test_reg_saved_elsewhere, 0, 2);
    tcase_add_loop_test(tc, test_reg_errors, 0,
                        (int)(MD_ARRAY_LEN(error_cases)));
    tcase_add_test(tc, test_reg_stored_revoked);
    suite_add_tcase(s, tc);
    return s;
}
