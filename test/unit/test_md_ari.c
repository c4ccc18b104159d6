/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_ari.c: the renewal time drawn inside the suggested
 * window (never before it), poll bounds, merging answers (a known window
 * keeps its time) and the ari.json round trip in a temporary store.
 */
#include <string.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_ari.h"
#include "md_json.h"
#include "md_status.h"
#include "md_store.h"
#include "md_store_fs.h"
#include "md_unit.h"

#define SEC(s) apr_time_from_sec(s)

/* start, end (seconds after T0), rnd, expected offset (seconds) */
static const struct {
    long start, end;
    apr_uint64_t rnd;
    long expected;
} pick_cases[] = {
    { 0, 100, 0, 0 },                           /* the start itself */
    { 0, 100, 99, 99 },                         /* the last second */
    { 0, 100, 100, 0 },                         /* wraps, never the end */
    { 0, 100, APR_UINT64_C(0xffffffffffffffff), 15 }, /* 2^64-1 mod 100 */
    { 50, 50, 7, 50 },                          /* empty window: its start */
    { 50, 40, 7, 50 },                          /* inverted: never before start */
    { 10, 11, 12345, 10 },                      /* one second wide */
};

#define T0 apr_time_from_sec(1790000000)

START_TEST(test_pick)
{
    apr_time_t t = md_ari_pick(T0 + SEC(pick_cases[_i].start), T0 + SEC(pick_cases[_i].end),
                               pick_cases[_i].rnd);

    ck_assert_int_eq(T0 + SEC(pick_cases[_i].expected), t);
}
END_TEST

START_TEST(test_pick_uniform_inside)
{
    apr_time_t start = T0, end = T0 + SEC(7 * 24 * 3600), t;
    apr_uint64_t rnd;
    int i, low = 0, high = 0;

    for (i = 0; i < 2000; ++i) {
        apr_generate_random_bytes((unsigned char *)&rnd, sizeof(rnd));
        t = md_ari_pick(start, end, rnd);
        ck_assert(t >= start);
        ck_assert(t < end);
        if (t < start + (end - start) / 2) {
            ++low;
        }
        else {
            ++high;
        }
    }
    /* both halves get their share (fails with probability < 1e-40) */
    ck_assert_int_gt(low, 600);
    ck_assert_int_gt(high, 600);
}
END_TEST

START_TEST(test_poll_at)
{
    ck_assert_int_eq(T0 + MD_ARI_POLL_DEFAULT, md_ari_poll_at(T0, 0));
    ck_assert_int_eq(T0 + MD_ARI_POLL_MIN, md_ari_poll_at(T0, SEC(5)));
    ck_assert_int_eq(T0 + SEC(3600), md_ari_poll_at(T0, SEC(3600)));
    ck_assert_int_eq(T0 + MD_ARI_POLL_MAX, md_ari_poll_at(T0, SEC(30 * 24 * 3600)));
}
END_TEST

START_TEST(test_update)
{
    md_ari_t ari;
    md_acme_ari_t fetched;
    apr_time_t first;

    memset(&ari, 0, sizeof(ari));
    ari.cert_id = "aki.serial";
    memset(&fetched, 0, sizeof(fetched));
    fetched.start = T0 + SEC(1000);
    fetched.end = T0 + SEC(2000);
    fetched.explanation_url = "https://ca.test/why";
    fetched.retry_after = SEC(120);
    md_ari_update(&ari, &fetched, T0, 500);
    ck_assert_int_eq(T0 + SEC(1500), ari.renew_at);
    ck_assert_int_eq(T0 + SEC(120), ari.next_poll);
    ck_assert_str_eq("https://ca.test/why", ari.explanation);
    first = ari.renew_at;

    /* the same window again (sub-second differences do not count): kept */
    fetched.start += apr_time_from_msec(300);
    fetched.retry_after = 0;
    md_ari_update(&ari, &fetched, T0 + SEC(10), 1);
    ck_assert_int_eq(first, ari.renew_at);
    ck_assert_int_eq(T0 + SEC(10) + MD_ARI_POLL_DEFAULT, ari.next_poll);

    /* a moved window (e.g. the CA wants early renewal): drawn anew inside */
    fetched.start = T0 - SEC(100);
    fetched.end = T0 - SEC(50);
    fetched.explanation_url = NULL;
    md_ari_update(&ari, &fetched, T0 + SEC(20), 7);
    ck_assert_int_eq(T0 - SEC(93), ari.renew_at);
    ck_assert_ptr_null(ari.explanation);
}
END_TEST

START_TEST(test_json)
{
    md_ari_t ari, *back;
    md_json_t *json;

    memset(&ari, 0, sizeof(ari));
    ari.cert_id = "aki.serial";
    ari.start = T0;
    ari.end = T0 + SEC(3600);
    ari.explanation = "https://ca.test/why";
    ari.renew_at = T0 + SEC(42);
    ari.next_poll = T0 + SEC(60);
    json = md_ari_to_json(&ari, md_test_pool);
    back = md_ari_from_json(json, md_test_pool);
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(ari.cert_id, back->cert_id);
    ck_assert_int_eq(ari.start, back->start);
    ck_assert_int_eq(ari.end, back->end);
    ck_assert_int_eq(ari.renew_at, back->renew_at);
    ck_assert_int_eq(ari.next_poll, back->next_poll);
    ck_assert_str_eq(ari.explanation, back->explanation);

    /* no id: ignored; a bad window: no window and no renewal time */
    md_json_del(json, "id", NULL);
    ck_assert_ptr_null(md_ari_from_json(json, md_test_pool));
    md_json_sets("x", json, "id", NULL);
    md_json_set_time(T0 - SEC(1), json, MD_KEY_WINDOW, MD_KEY_END, NULL);
    back = md_ari_from_json(json, md_test_pool);
    ck_assert_int_eq(0, back->start);
    ck_assert_int_eq(0, back->renew_at);
    ck_assert_int_eq(ari.next_poll, back->next_poll);
}
END_TEST

START_TEST(test_load_save)
{
    md_store_t *store;
    apr_array_header_t *aris;
    md_ari_t *a, *b;

    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, md_test_pool,
                                                   md_test_mkdtemp(md_test_pool)));
    aris = md_ari_load(store, "a.test", md_test_pool);
    ck_assert_int_eq(0, aris->nelts);
    a = apr_pcalloc(md_test_pool, sizeof(*a));
    a->cert_id = "id-1";
    a->start = T0;
    a->end = T0 + SEC(100);
    a->renew_at = T0 + SEC(5);
    a->next_poll = T0 + SEC(60);
    b = apr_pcalloc(md_test_pool, sizeof(*b));
    b->cert_id = "id-2";
    b->next_poll = T0 + SEC(3600);
    APR_ARRAY_PUSH(aris, md_ari_t *) = a;
    APR_ARRAY_PUSH(aris, md_ari_t *) = b;
    ck_assert_int_eq(APR_SUCCESS, md_ari_save(store, "a.test", aris, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_STAGING, "a.test", MD_FN_ARI, md_test_pool));
    /* no job.json: the file alone is no renewal in progress */
    ck_assert(!md_store_exists(store, MD_SG_STAGING, "a.test", "job.json", md_test_pool));

    aris = md_ari_load(store, "a.test", md_test_pool);
    ck_assert_int_eq(2, aris->nelts);
    ck_assert_int_eq(T0 + SEC(5), md_ari_find(aris, "id-1")->renew_at);
    ck_assert_int_eq(0, md_ari_find(aris, "id-2")->start);
    ck_assert_int_eq(T0 + SEC(3600), md_ari_find(aris, "id-2")->next_poll);
    ck_assert_ptr_null(md_ari_find(aris, "id-3"));
}
END_TEST

/* md-status: ARI's time wins when it is earlier than the renew window's */
START_TEST(test_status_renew_at)
{
    md_status_input_t in;
    md_status_slot_t slot;
    md_cert_facts_t facts;
    md_ari_t ari;
    md_t *md = md_create_empty(md_test_pool);
    md_json_t *json;
    apr_time_t window_at;
    int is_now;

    memset(&in, 0, sizeof(in));
    memset(&slot, 0, sizeof(slot));
    memset(&facts, 0, sizeof(facts));
    memset(&ari, 0, sizeof(ari));
    md->name = "a.test";
    md->state = MD_S_COMPLETE;
    in.md = md;
    in.slots = apr_array_make(md_test_pool, 1, sizeof(md_status_slot_t *));
    in.staged = apr_array_make(md_test_pool, 1, sizeof(md_status_slot_t *));
    facts.valid_from = T0;
    facts.valid_until = T0 + SEC(90 * 86400);
    facts.serial = "1000";
    facts.sha256_fingerprint = "00";
    slot.name = "rsa";
    slot.cert = &facts;
    APR_ARRAY_PUSH(in.slots, md_status_slot_t *) = &slot;
    window_at = md_status_renew_at(&in, T0, &is_now);
    /* 33 % of 90 days before the end */
    ck_assert_int_eq(T0 + SEC(90 * 86400) - SEC(90 * 86400 * 33 / 100), window_at);

    ari.cert_id = "x.y";
    ari.start = T0 + SEC(10 * 86400);
    ari.end = T0 + SEC(11 * 86400);
    ari.renew_at = T0 + SEC(10 * 86400 + 3600);
    ari.explanation = "https://ca.test/why";
    in.ari = &ari;
    ck_assert_int_eq(ari.renew_at, md_status_renew_at(&in, T0, &is_now));
    ck_assert_int_eq(0, is_now);
    json = md_status_md_json(&in, 0, T0, md_test_pool);
    ck_assert_int_eq(ari.renew_at, md_json_get_time(json, "renew-at", NULL));
    ck_assert_int_eq(ari.renew_at, md_json_get_time(json, "ari", "renew-at", NULL));
    ck_assert_int_eq(ari.start, md_json_get_time(json, "ari", "window", "start", NULL));
    ck_assert_int_eq(ari.end, md_json_get_time(json, "ari", "window", "end", NULL));
    ck_assert_str_eq(ari.explanation, md_json_gets(json, "ari", "explanation", NULL));

    /* later than the renew window: the window's time stays */
    ari.renew_at = T0 + SEC(80 * 86400);
    ck_assert_int_eq(window_at, md_status_renew_at(&in, T0, &is_now));
}
END_TEST

Suite *md_test_ari_suite(void)
{
    Suite *s = suite_create("md_ari");
    TCase *tc = tcase_create("ari");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, test_pick, 0, N(pick_cases));
    tcase_add_test(tc, test_pick_uniform_inside);
    tcase_add_test(tc, test_poll_at);
    tcase_add_test(tc, test_update);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_load_save);
    tcase_add_test(tc, test_status_renew_at);
    suite_add_tcase(s, tc);
    return s;
}
