/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_reg.c and md_reg_staging.c: fallback files, state
 * assessment, renewal timing, activation of staged sets and renamed MDs at
 * sync.
 */
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme_order.h"
#include "md_crypto.h"
#include "md_json.h"
#include "md_job.h"
#include "md_reg.h"
#include "md_renew.h"
#include "md_result.h"
#include "md_store.h"
#include "md_status.h"
#include "md_store_fs.h"
#include "md_time.h"
#include "md_util.h"
#include "md_unit.h"

#define DAY apr_time_from_sec(MD_SECS_PER_DAY)

static md_store_t *store;
static md_reg_t *reg;

static void reg_setup(void)
{
    md_test_setup();
    ck_assert_int_eq(APR_SUCCESS, md_store_fs_open(&store, md_test_pool,
                                                   md_test_mkdtemp(md_test_pool)));
    ck_assert_int_eq(APR_SUCCESS, md_reg_create(&reg, md_test_pool, store));
}

static md_t *make_md(const char *d1, const char *d2)
{
    apr_array_header_t *domains = apr_array_make(md_test_pool, 2, sizeof(const char *));

    APR_ARRAY_PUSH(domains, const char *) = d1;
    if (d2) {
        APR_ARRAY_PUSH(domains, const char *) = d2;
    }
    return md_create(md_test_pool, domains);
}

/* Writes a self-signed certificate for md's domains (valid_for from now)
 * with a fresh key into domains/NAME; with_domains NULL = md's. */
static void put_cert(md_t *md, apr_array_header_t *with_domains,
                     apr_interval_time_t valid_for, int mismatch)
{
    md_pkey_spec_t *spec = md_pkeys_spec_get(NULL, 0);
    md_pkey_t *pkey, *other;
    md_cert_t *cert;
    apr_array_header_t *chain = apr_array_make(md_test_pool, 1, sizeof(md_cert_t *));

    ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&pkey, md_test_pool, spec));
    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "test",
                                                        with_domains ? with_domains
                                                                     : md->domains,
                                                        pkey, valid_for, md_test_pool));
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    if (mismatch) {
        ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&other, md_test_pool, spec));
        pkey = other;
    }
    ck_assert_int_eq(APR_SUCCESS, md_store_pkey_save(store, md_test_pool, MD_SG_DOMAINS,
                                                     md->name, spec, pkey, 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_chain_save(store, md_test_pool, MD_SG_DOMAINS,
                                                      md->name, spec, chain, 0));
    md_reg_forget(reg, md);
}

START_TEST(test_fallback_files)
{
    md_t *md1 = make_md("a.example.org", "www.a.example.org");
    md_t *md2 = make_md("b.example.org", NULL);
    const char *k1, *c1, *k2, *c2, *pem1, *pem2, *again;
    apr_size_t len;
    struct stat st;

    ck_assert_int_eq(APR_SUCCESS, md_reg_get_fallback_files(&k1, &c1, reg, md1, 0,
                                                            md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_fallback_files(&k2, &c2, reg, md2, 0,
                                                            md_test_pool));
    ck_assert(strstr(k1, "/domains/a.example.org/fallback-privkey.pem") != NULL);
    ck_assert_int_eq(0, stat(k1, &st));
    ck_assert_uint_eq(0600, st.st_mode & 0777);
    /* one key per key type and registry: cheap for many MDs */
    md_util_fread_all(&pem1, &len, k1, 64 * 1024, md_test_pool);
    md_util_fread_all(&pem2, &len, k2, 64 * 1024, md_test_pool);
    ck_assert_str_eq(pem1, pem2);
    /* existing files are reused */
    md_util_fread_all(&pem1, &len, c1, 64 * 1024, md_test_pool);
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_fallback_files(&k1, &c1, reg, md1, 0,
                                                            md_test_pool));
    md_util_fread_all(&again, &len, c1, 64 * 1024, md_test_pool);
    ck_assert_str_eq(pem1, again);
}
END_TEST

START_TEST(test_assess_states)
{
    md_t *md = make_md("c.example.org", "www.c.example.org");
    apr_array_header_t *partial = apr_array_make(md_test_pool, 1, sizeof(const char *));
    const char *kf, *cf;

    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_INCOMPLETE, md->state);
    ck_assert_str_eq("certificate(rsa) is missing", md->state_descr);
    ck_assert_int_ne(APR_SUCCESS, md_reg_get_cred_files(&kf, &cf, reg, md, 0, md_test_pool));

    put_cert(md, NULL, 90 * DAY, 0);
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_COMPLETE, md->state);
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_cred_files(&kf, &cf, reg, md, 0, md_test_pool));

    APR_ARRAY_PUSH(partial, const char *) = "c.example.org";
    put_cert(md, partial, 90 * DAY, 0);
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_INCOMPLETE, md->state);
    ck_assert_str_eq("certificate(rsa) does not cover all domains.", md->state_descr);

    /* a key that does not match is never handed out */
    put_cert(md, NULL, 90 * DAY, 1);
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_INCOMPLETE, md->state);
    ck_assert(strstr(md->state_descr, "does not match") != NULL);
    ck_assert_int_ne(APR_SUCCESS, md_reg_get_cred_files(&kf, &cf, reg, md, 0, md_test_pool));
}
END_TEST

START_TEST(test_renew_timing)
{
    md_t *md = make_md("d.example.org", NULL);
    apr_time_t now = apr_time_now(), renew_at, from, until;

    md_reg_assess(reg, md, md_test_pool);
    ck_assert(md_reg_renew_at(reg, md, now, md_test_pool) == now);
    ck_assert(md_reg_should_renew(reg, md, now, md_test_pool));

    put_cert(md, NULL, 100 * DAY, 0);
    md_reg_assess(reg, md, md_test_pool);
    md_reg_valid_period(&from, &until, reg, md, md_test_pool);
    renew_at = md_reg_renew_at(reg, md, now, md_test_pool);
    /* default window 33% of the actual lifetime before the end */
    ck_assert(renew_at == until - apr_time_from_sec(apr_time_sec(until - from) * 33 / 100));
    ck_assert(!md_reg_should_renew(reg, md, now, md_test_pool));
    ck_assert(md_reg_should_renew(reg, md, renew_at, md_test_pool));
    ck_assert(!md_reg_should_warn(reg, md, now, md_test_pool));
    ck_assert(md_reg_should_warn(reg, md, until - DAY, md_test_pool));
}
END_TEST

START_TEST(test_drop_certs)
{
    md_t *md = make_md("e.example.org", NULL);
    const md_pubcert_t *pc;
    const char *kf, *cf, *serial;
    apr_time_t now = apr_time_now(), renew_at, from, until;

    put_cert(md, NULL, 100 * DAY, 0);
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_COMPLETE, md->state);
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_pubcert(&pc, reg, md, 0, md_test_pool));
    serial = md_cert_get_serial_number(APR_ARRAY_IDX(pc->certs, 0, md_cert_t *),
                                       md_test_pool);
    md_reg_valid_period(&from, &until, reg, md, md_test_pool);
    renew_at = md_reg_renew_at(reg, md, now, md_test_pool);

    /* dropped: what was learned stays, the leaf is parsed again when asked for */
    md_reg_drop_certs(reg);
    ck_assert_ptr_null(pc->certs);
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_cred_files(&kf, &cf, reg, md, 0, md_test_pool));
    ck_assert(strstr(cf, "/domains/e.example.org/pubcert.pem") != NULL);
    ck_assert_ptr_null(pc->certs);
    ck_assert(md_reg_renew_at(reg, md, now, md_test_pool) == renew_at);
    ck_assert(!md_reg_should_renew(reg, md, now, md_test_pool));
    ck_assert(md_reg_should_warn(reg, md, until - DAY, md_test_pool));
    ck_assert_ptr_null(pc->certs);
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_pubcert(&pc, reg, md, 0, md_test_pool));
    ck_assert_int_eq(1, pc->certs->nelts);
    ck_assert_str_eq(serial, md_cert_get_serial_number(APR_ARRAY_IDX(pc->certs, 0, md_cert_t *),
                                                       md_test_pool));
    /* from memory, not the file (child processes may not read domains/) */
    md_reg_drop_certs(reg);
    ck_assert_int_eq(0, remove(cf));
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_pubcert(&pc, reg, md, 0, md_test_pool));
    ck_assert_str_eq(serial, md_cert_get_serial_number(APR_ARRAY_IDX(pc->certs, 0, md_cert_t *),
                                                       md_test_pool));
}
END_TEST

/* Stages a complete set for md in staging/ (key encrypted by the store). */
static void stage_set(md_t *md, int finished)
{
    md_pkey_spec_t *spec = md_pkeys_spec_get(NULL, 0);
    apr_array_header_t *chain = apr_array_make(md_test_pool, 1, sizeof(md_cert_t *));
    md_pkey_t *pkey;
    md_cert_t *cert;
    md_json_t *job = md_json_create(md_test_pool);
    md_t *staged = md_copy(md_test_pool, md);

    staged->ca_effective = "https://ca.example.org/dir";
    ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&pkey, md_test_pool, spec));
    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "staged", md->domains, pkey,
                                                        90 * DAY, md_test_pool));
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    ck_assert_int_eq(APR_SUCCESS, md_store_md_save(store, md_test_pool, MD_SG_STAGING,
                                                   staged, 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_pkey_save(store, md_test_pool, MD_SG_STAGING,
                                                     md->name, spec, pkey, 0));
    ck_assert_int_eq(APR_SUCCESS, md_store_chain_save(store, md_test_pool, MD_SG_STAGING,
                                                      md->name, spec, chain, 0));
    md_json_sets(md->name, job, "name", NULL);
    md_json_setb(finished, job, "finished", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_STAGING,
                                                     md->name, MD_FN_JOB, job, 0));
}

START_TEST(test_activate_staging)
{
    md_t *md = make_md("e.example.org", NULL);
    md_json_t *job;

    ck_assert_int_eq(APR_ENOENT, md_reg_activate_staging(reg, md, apr_time_now(), &job,
                                                          md_test_pool));
    stage_set(md, 0);
    /* a renewal still in progress is left alone */
    ck_assert_int_eq(APR_ENOENT, md_reg_activate_staging(reg, md, apr_time_now(), &job,
                                                          md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_STAGING, md->name, MD_FN_MD, md_test_pool));

    put_cert(md, NULL, 10 * DAY, 0);
    stage_set(md, 1);
    md_store_remove(store, MD_SG_STAGING, md->name, MD_FN_JOB, md_test_pool, 1);
    stage_set(md, 1);
    ck_assert_int_eq(APR_SUCCESS, md_reg_activate_staging(reg, md, apr_time_now(), &job,
                                                          md_test_pool));
    ck_assert_ptr_nonnull(job);
    ck_assert(!md_store_exists(store, MD_SG_STAGING, md->name, MD_FN_MD, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_DOMAINS, md->name, MD_FN_PRIVKEY, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_ARCHIVE, "e.example.org.1", MD_FN_PUBCERT,
                              md_test_pool));
    ck_assert_str_eq("https://ca.example.org/dir", md->ca_effective);
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_COMPLETE, md->state);
}
END_TEST

START_TEST(test_activate_broken_staging)
{
    md_t *md = make_md("f.example.org", NULL);
    md_json_t *job;
    const char *fname;

    put_cert(md, NULL, 10 * DAY, 0);
    stage_set(md, 1);
    md_store_get_fname(&fname, store, MD_SG_STAGING, md->name, MD_FN_PUBCERT, md_test_pool);
    md_text_freplace(fname, 0x0644, md_test_pool, "not a certificate");
    md_store_remove(store, MD_SG_STAGING, md->name, MD_FN_PRIVKEY, md_test_pool, 1);
    ck_assert_int_ne(APR_SUCCESS, md_reg_activate_staging(reg, md, apr_time_now(), &job,
                                                          md_test_pool));
    /* the live set is untouched */
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_COMPLETE, md->state);
}
END_TEST

START_TEST(test_activate_write_error)
{
    /* a staged set that cannot be written to domains/ (here: all 999
     * archive slots taken) stays staged and is activated once that works;
     * it used to be purged, and the next renewal ordered anew */
    md_t *md = make_md("g.example.org", NULL);
    const char *adir = md_store_get_dir(store, MD_SG_ARCHIVE, NULL, md_test_pool);
    md_json_t *job;
    int i;

    put_cert(md, NULL, 10 * DAY, 0);
    stage_set(md, 1);
    for (i = 1; i <= 999; ++i) {
        ck_assert_int_eq(APR_SUCCESS, md_util_mkdir(apr_psprintf(md_test_pool,
                                                                 "%s/%s.%d", adir,
                                                                 md->name, i),
                                                    0x0700, md_test_pool));
    }
    ck_assert_int_ne(APR_SUCCESS, md_reg_activate_staging(reg, md, apr_time_now(), &job,
                                                          md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_STAGING, md->name, MD_FN_MD, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_STAGING, md->name, MD_FN_PUBCERT,
                              md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_TMP, md->name, MD_FN_MD, md_test_pool));
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_COMPLETE, md->state);

    /* a slot freed (the next restart): the staged certificate goes live */
    ck_assert_int_eq(APR_SUCCESS, md_util_rm_recursive(apr_psprintf(md_test_pool,
                                                                    "%s/%s.7", adir,
                                                                    md->name),
                                                       md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_reg_activate_staging(reg, md, apr_time_now(), &job,
                                                          md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_STAGING, md->name, MD_FN_MD, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_ARCHIVE, "g.example.org.7", MD_FN_PUBCERT,
                              md_test_pool));
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_COMPLETE, md->state);
}
END_TEST

/* A script that appends its arguments to marker; its path. */
static const char *marker_script(const char *dir, const char *name, const char **pmarker)
{
    const char *script = apr_pstrcat(md_test_pool, dir, "/", name, ".sh", NULL);

    *pmarker = apr_pstrcat(md_test_pool, dir, "/", name, ".marker", NULL);
    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(script, 0x0700, md_test_pool,
        apr_psprintf(md_test_pool, "#!/bin/sh\necho \"$@\" >> %s\n", *pmarker)));
    return script;
}

static const char *file_text(const char *path)
{
    const char *text = NULL;
    apr_size_t len;

    if (APR_SUCCESS != md_util_fread_all(&text, &len, path, 8192, md_test_pool)) return NULL;
    return text;
}

/* what a dns-01 set-up records: a SHA-256 digest in base64url */
#define DIGEST "Z4lAh1pJ8UzKvdUB-7KXGi0NcqzE2o_eMv9T3-JCzVs"

/* staging/ is writable by the httpd User, activation runs in the parent
 * (root): the dns-01 command is the configured one, whatever the staged
 * md.json names, and order.json's teardown arguments must be the MD's. */
START_TEST(test_activate_staged_cmd)
{
    md_t *md = make_md("g.example.org", NULL), *staged;
    const char *dir = md_test_mkdtemp(md_test_pool), *evil, *good, *text;
    md_acme_order_t *order = md_acme_order_create(md_test_pool);
    md_json_t *job;

    put_cert(md, NULL, 10 * DAY, 0);
    stage_set(md, 1);
    ck_assert_int_eq(APR_SUCCESS, md_store_md_load(store, MD_SG_STAGING, md->name,
                                                   &staged, md_test_pool));
    staged->dns01_cmd = marker_script(dir, "staged", &evil);
    ck_assert_int_eq(APR_SUCCESS, md_store_md_save(store, md_test_pool, MD_SG_STAGING,
                                                   staged, 0));
    APR_ARRAY_PUSH(order->challenge_setups, const char *) = "dns-01:g.example.org " DIGEST;
    APR_ARRAY_PUSH(order->challenge_setups, const char *) = "dns-01:-rf " DIGEST;
    APR_ARRAY_PUSH(order->challenge_setups, const char *) = "dns-01:g.example.org --x";
    APR_ARRAY_PUSH(order->challenge_setups, const char *) =
        "dns-01:other.example.net " DIGEST;
    ck_assert_int_eq(APR_SUCCESS, md_acme_order_save(store, md_test_pool, MD_SG_STAGING,
                                                     md->name, order));
    md_reg_set_dns01(reg, marker_script(dir, "configured", &good), 2);

    ck_assert_int_eq(APR_SUCCESS, md_reg_activate_staging(reg, md, apr_time_now(), &job,
                                                          md_test_pool));
    ck_assert_msg(!md_util_is_file(evil, md_test_pool), "the staged command ran");
    text = file_text(good);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq("teardown g.example.org " DIGEST "\n", text);
    /* what is saved to domains/ is the configuration */
    ck_assert_int_eq(APR_SUCCESS, md_store_md_load(store, MD_SG_DOMAINS, md->name,
                                                   &staged, md_test_pool));
    ck_assert_ptr_null(staged->dns01_cmd);
}
END_TEST

/* A staged md.json that differs from the configuration in what the set is
 * for is not activated; the live set stays. */
typedef enum { STAGED_DOMAINS, STAGED_KEYS, STAGED_CA } staged_change;

START_TEST(test_activate_staged_mismatch)
{
    md_t *md = make_md("h.example.org", NULL), *staged;
    md_json_t *job;

    md->ca_urls = apr_array_make(md_test_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_urls, const char *) = "https://ca.example.org/dir";
    put_cert(md, NULL, 10 * DAY, 0);
    stage_set(md, 1);
    ck_assert_int_eq(APR_SUCCESS, md_store_md_load(store, MD_SG_STAGING, md->name,
                                                   &staged, md_test_pool));
    switch ((staged_change)_i) {
        case STAGED_DOMAINS:
            APR_ARRAY_PUSH(staged->domains, const char *) = "evil.example.net";
            break;
        case STAGED_KEYS:
            staged->pks = md_pkeys_spec_make(md_test_pool);
            md_pkeys_spec_add_ec(staged->pks, "P-256");
            break;
        case STAGED_CA:
            staged->ca_effective = "https://evil.example.net/dir";
            break;
    }
    ck_assert_int_eq(APR_SUCCESS, md_store_md_save(store, md_test_pool, MD_SG_STAGING,
                                                   staged, 0));
    ck_assert_int_eq(APR_EINVAL, md_reg_activate_staging(reg, md, apr_time_now(), &job,
                                                         md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_STAGING, md->name, MD_FN_MD, md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_ARCHIVE, "h.example.org.1", MD_FN_PUBCERT,
                               md_test_pool));
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_COMPLETE, md->state);
}
END_TEST

/* A staged certificate that is not for the MD (names, issuer, time) is
 * not activated, whoever put it there; the working one stays. */
START_TEST(test_activate_staged_bad_cert)
{
    md_t *md = make_md("i.example.org", "www.i.example.org");
    md_pkey_spec_t *spec = md_pkeys_spec_get(NULL, 0);
    apr_array_header_t *chain = apr_array_make(md_test_pool, 2, sizeof(md_cert_t *));
    apr_array_header_t *names = apr_array_make(md_test_pool, 2, sizeof(const char *));
    apr_time_t now = apr_time_now();
    md_pkey_t *pkey, *other;
    md_cert_t *cert;
    md_json_t *job;

    put_cert(md, NULL, 10 * DAY, 0);
    stage_set(md, 1);
    ck_assert_int_eq(APR_SUCCESS, md_store_pkey_load(store, MD_SG_STAGING, md->name, spec,
                                                     &pkey, md_test_pool));
    APR_ARRAY_PUSH(names, const char *) = "i.example.org";
    switch (_i) {
        case 0:     /* one name of the MD missing */
            break;
        case 1:     /* one name more */
            APR_ARRAY_PUSH(names, const char *) = "www.i.example.org";
            APR_ARRAY_PUSH(names, const char *) = "evil.example.net";
            break;
        default:
            APR_ARRAY_PUSH(names, const char *) = "www.i.example.org";
            break;
    }
    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "staged", names, pkey,
                                                        90 * DAY, md_test_pool));
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    if (2 == _i) {      /* the next certificate did not sign it */
        ck_assert_int_eq(APR_SUCCESS, md_pkey_gen(&other, md_test_pool, spec));
        ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, "staged", names, other,
                                                            90 * DAY, md_test_pool));
        APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    }
    if (3 == _i) now += 91 * DAY;   /* expired at the activation's 'now' */
    ck_assert_int_eq(APR_SUCCESS, md_store_chain_save(store, md_test_pool, MD_SG_STAGING,
                                                      md->name, spec, chain, 0));
    ck_assert_int_eq(APR_EINVAL, md_reg_activate_staging(reg, md, now, &job,
                                                         md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_ARCHIVE, "i.example.org.1", MD_FN_PUBCERT,
                               md_test_pool));
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(MD_S_COMPLETE, md->state);
}
END_TEST

/* Request and renewal threads load certificates through the registry:
 * that must not allocate from the pool it was created with (the server's,
 * used by other threads without the registry's lock). */
START_TEST(test_reg_runtime_pool)
{
    md_t *md = make_md("j.example.org", NULL);
    const md_pubcert_t *pc;
    const char *kf, *cf;
    apr_pool_t *server_pool;
    md_reg_t *sreg;
    char *before, *after;

    put_cert(md, NULL, 10 * DAY, 0);
    ck_assert_int_eq(APR_SUCCESS, apr_pool_create(&server_pool, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_reg_create(&sreg, server_pool, store));
    before = apr_palloc(server_pool, 8);
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_pubcert(&pc, sreg, md, 0, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_fallback_files(&kf, &cf, sreg, md, 0,
                                                            md_test_pool));
    md_reg_drop_certs(sreg);
    ck_assert_int_eq(APR_SUCCESS, md_reg_get_pubcert(&pc, sreg, md, 0, md_test_pool));
    after = apr_palloc(server_pool, 8);
    ck_assert_msg(after == before + 8, "the registry took %ld bytes from the server's "
                  "pool", (long)(after - before - 8));
    apr_pool_destroy(server_pool);
}
END_TEST

START_TEST(test_sync_renamed)
{
    md_t *old = make_md("old.example.org", "www.example.org");
    md_t *cfg = make_md("www.example.org", NULL);
    apr_array_header_t *mds = apr_array_make(md_test_pool, 1, sizeof(md_t *));

    old->ca_account = "ACME-ca-0000";
    ck_assert_int_eq(APR_SUCCESS, md_store_md_save(store, md_test_pool, MD_SG_DOMAINS,
                                                   old, 0));
    APR_ARRAY_PUSH(mds, md_t *) = cfg;
    ck_assert_int_eq(APR_SUCCESS, md_reg_sync_start(reg, mds, md_test_pool));
    ck_assert(md_store_exists(store, MD_SG_DOMAINS, "www.example.org", MD_FN_MD,
                              md_test_pool));
    ck_assert(!md_store_exists(store, MD_SG_DOMAINS, "old.example.org", MD_FN_MD,
                               md_test_pool));
    ck_assert_str_eq("ACME-ca-0000", cfg->ca_account);
    ck_assert_int_eq(APR_SUCCESS, md_reg_sync_finish(reg, cfg, md_test_pool));
}
END_TEST

/* --- the scheduler (md_renew.c) with a fake drive --------------------------------- */

static volatile int drive_calls;
static volatile int drive_saw_request;

static apr_status_t fake_drive(const md_renew_opts_t *opts, md_t *md, md_job_t *job,
                               md_result_t *result, apr_pool_t *p)
{
    apr_status_t rv = *(apr_status_t *)opts->drive_baton;
    apr_array_header_t *chain;
    md_pkey_spec_t *spec;
    int i;

    (void)job;
    __sync_fetch_and_add(&drive_calls, 1);
    if (md_store_exists(opts->store, MD_SG_STAGING, md->name, MD_FN_RENEW_REQUEST, p)) {
        drive_saw_request = 1;
    }
    md_result_activity_printf(result, "Driving %s", md->name);
    /* a success stages md.json and, for an MD with certificates in domains/,
     * a chain per key spec (a staged job without them counts as absent) */
    if (APR_SUCCESS == rv) {
        rv = md_store_md_save(opts->store, p, MD_SG_STAGING, md, 0);
    }
    for (i = 0; APR_SUCCESS == rv && i < md_pkeys_spec_count(md->pks); ++i) {
        spec = md_pkeys_spec_get(md->pks, i);
        if (APR_SUCCESS == md_store_chain_load(opts->store, MD_SG_DOMAINS, md->name, spec,
                                               &chain, p)) {
            rv = md_store_chain_save(opts->store, p, MD_SG_STAGING, md->name, spec, chain,
                                     0);
        }
    }
    if (APR_SUCCESS == rv) {
        md_result_set(result, rv, "renewed");
    }
    else md_result_problem_set(result, rv, "urn:ietf:params:acme:error:rateLimited",
                               "too many", NULL);
    return rv;
}

static void renew_opts(md_renew_opts_t *opts, apr_status_t *outcome)
{
    memset(opts, 0, sizeof(*opts));
    opts->reg = reg;
    opts->store = store;
    opts->drive = fake_drive;
    opts->drive_baton = outcome;
    opts->retry_delay = apr_time_from_sec(30);
    opts->check_interval = apr_time_from_sec(12 * 3600);
    opts->max_parallel = 3;
}

START_TEST(test_renew_parallel_success)
{
    apr_array_header_t *mds = apr_array_make(md_test_pool, 10, sizeof(md_t *));
    apr_status_t outcome = APR_SUCCESS;
    md_renew_opts_t opts;
    apr_time_t next_run;
    md_job_t *job;
    int i;

    for (i = 0; i < 10; ++i) {
        md_t *md = make_md(apr_psprintf(md_test_pool, "r%d.example.org", i), NULL);
        md->renew_mode = MD_RENEW_AUTO;
        md_reg_assess(reg, md, md_test_pool);
        APR_ARRAY_PUSH(mds, md_t *) = md;
    }
    renew_opts(&opts, &outcome);
    drive_calls = 0;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now(), &next_run,
                                                  md_test_pool));
    ck_assert_int_eq(10, drive_calls);
    job = md_job_make(md_test_pool, store, MD_SG_STAGING, "r3.example.org", 0);
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job));
    ck_assert(job->finished);
    ck_assert(job->notified_renewed);
    /* a finished renewal is not driven again before activation */
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now(), &next_run,
                                                  md_test_pool));
    ck_assert_int_eq(10, drive_calls);
}
END_TEST

/* A staged job claiming success without its results in staging counts as
 * absent: no md.json in staging, or a domains/ set while staging lacks the
 * chain of a key type. The MD is renewed as if there was no job. */
START_TEST(test_renew_staged_job_without_results)
{
    apr_array_header_t *mds = apr_array_make(md_test_pool, 1, sizeof(md_t *));
    md_t *md = make_md("g.example.org", NULL);
    apr_status_t outcome = APR_SUCCESS;
    md_renew_opts_t opts;
    apr_time_t next_run;
    md_json_t *json;

    md->renew_mode = MD_RENEW_AUTO;
    APR_ARRAY_PUSH(mds, md_t *) = md;
    renew_opts(&opts, &outcome);
    drive_calls = 0;
    /* the whole set staged: left for activation */
    stage_set(md, 1);
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now(), &next_run,
                                                  md_test_pool));
    ck_assert_int_eq(0, drive_calls);

    /* staging lacks md.json: renewed */
    md_store_remove(store, MD_SG_STAGING, md->name, MD_FN_MD, md_test_pool, 1);
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now(), &next_run,
                                                  md_test_pool));
    ck_assert_int_eq(1, drive_calls);

    /* a live set in domains/ and no staged chain: renewed */
    put_cert(md, NULL, 2 * DAY, 0);
    md_reg_assess(reg, md, md_test_pool);
    stage_set(md, 1);
    md_store_remove(store, MD_SG_STAGING, md->name, MD_FN_PUBCERT, md_test_pool, 1);
    ck_assert_int_eq(APR_SUCCESS, md_store_load_json(store, MD_SG_STAGING, md->name,
                                                     MD_FN_JOB, &json, md_test_pool));
    ck_assert(md_json_getb(json, "finished", NULL));
    /* at a time when the live certificate is due */
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now() + 3 * DAY,
                                                  &next_run, md_test_pool));
    ck_assert_int_eq(2, drive_calls);
}
END_TEST

/* The run decides at the time it is given, not at the system clock: the same
 * MD with a 100-day certificate is left alone today and renewed at a `now`
 * inside its renew window; the next run is planned from that `now`. */
START_TEST(test_renew_at_given_now)
{
    apr_array_header_t *mds = apr_array_make(md_test_pool, 1, sizeof(md_t *));
    apr_status_t outcome = APR_SUCCESS;
    md_renew_opts_t opts;
    md_t *md = make_md("at.example.org", NULL);
    apr_time_t next_run, now = apr_time_now(), renew_at;

    md->renew_mode = MD_RENEW_AUTO;
    put_cert(md, NULL, 100 * DAY, 0);
    md_reg_assess(reg, md, md_test_pool);
    APR_ARRAY_PUSH(mds, md_t *) = md;
    renew_at = md_reg_renew_at(reg, md, now, md_test_pool);
    ck_assert(renew_at > now + 60 * DAY);
    renew_opts(&opts, &outcome);
    drive_calls = 0;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now, &next_run, md_test_pool));
    ck_assert_int_eq(0, drive_calls);
    /* at most the check interval (12 h +-50%) after the given now */
    ck_assert(next_run > now && next_run <= now + apr_time_from_sec(18 * 3600));
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, renew_at + DAY, &next_run,
                                               md_test_pool));
    ck_assert_int_eq(1, drive_calls);
    ck_assert(next_run > renew_at + DAY);
}
END_TEST

static void put_request(const char *name)
{
    ck_assert_int_eq(APR_SUCCESS, md_store_save_json(store, md_test_pool, MD_SG_STAGING,
                                                     name, MD_FN_RENEW_REQUEST,
                                                     md_json_create(md_test_pool), 0));
}

static int has_request(const char *name)
{
    return md_store_exists(store, MD_SG_STAGING, name, MD_FN_RENEW_REQUEST, md_test_pool);
}

/* staging/NAME/renew-request (a2md renew on a running server): the MD is
 * renewed although it is not due, also in manual mode and during a
 * back-off, and the request is gone afterwards; without one nothing runs. */
START_TEST(test_renew_request)
{
    apr_array_header_t *mds = apr_array_make(md_test_pool, 1, sizeof(md_t *));
    apr_status_t outcome = APR_EAGAIN;
    md_renew_opts_t opts;
    md_t *md = make_md("req.example.org", NULL);
    apr_time_t next_run, now = apr_time_now();

    md->renew_mode = MD_RENEW_MANUAL;
    put_cert(md, NULL, 100 * DAY, 0);
    md_reg_assess(reg, md, md_test_pool);
    APR_ARRAY_PUSH(mds, md_t *) = md;
    renew_opts(&opts, &outcome);
    drive_calls = 0;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now, &next_run, md_test_pool));
    ck_assert_int_eq(0, drive_calls);
    put_request(md->name);
    drive_saw_request = 0;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now, &next_run, md_test_pool));
    ck_assert_int_eq(1, drive_calls);
    /* taken when the run ends: a renewal cut short leaves it for the next */
    ck_assert(drive_saw_request);
    ck_assert(!has_request(md->name));
    /* failed: backing off; a new request does not wait for that */
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now, &next_run, md_test_pool));
    ck_assert_int_eq(1, drive_calls);
    put_request(md->name);
    outcome = APR_SUCCESS;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now, &next_run, md_test_pool));
    ck_assert_int_eq(2, drive_calls);
    ck_assert(!has_request(md->name));
    /* a finished set waiting for activation fulfils the next request */
    put_request(md->name);
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now, &next_run, md_test_pool));
    ck_assert_int_eq(2, drive_calls);
    ck_assert(!has_request(md->name));
    /* with a certificate from MDCertificateFile, a request is only dropped */
    md->cert_files = apr_array_make(md_test_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(md->cert_files, const char *) = "/etc/ssl/x.pem";
    md_store_purge(store, md_test_pool, MD_SG_STAGING, md->name);
    put_request(md->name);
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now, &next_run, md_test_pool));
    ck_assert_int_eq(2, drive_calls);
    ck_assert(!has_request(md->name));
}
END_TEST

START_TEST(test_renew_backoff_and_manual)
{
    apr_array_header_t *mds = apr_array_make(md_test_pool, 2, sizeof(md_t *));
    apr_status_t outcome = APR_EGENERAL;
    md_renew_opts_t opts;
    apr_time_t next_run, now = apr_time_now();
    md_t *failing = make_md("fail.example.org", NULL), *manual = make_md("m.example.org", NULL);
    md_job_t *job;

    failing->renew_mode = MD_RENEW_AUTO;
    manual->renew_mode = MD_RENEW_MANUAL;
    md_reg_assess(reg, failing, md_test_pool);
    md_reg_assess(reg, manual, md_test_pool);
    APR_ARRAY_PUSH(mds, md_t *) = failing;
    APR_ARRAY_PUSH(mds, md_t *) = manual;
    renew_opts(&opts, &outcome);
    drive_calls = 0;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now(), &next_run,
                                                  md_test_pool));
    ck_assert_int_eq(1, drive_calls);
    /* rateLimited is not a bad-input problem: retry after ~MDRetryDelay +-50% */
    ck_assert(next_run >= now + apr_time_from_sec(14));
    ck_assert(next_run <= now + apr_time_from_sec(46));
    job = md_job_make(md_test_pool, store, MD_SG_STAGING, failing->name, 0);
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job));
    ck_assert_int_eq(1, job->error_runs);
    ck_assert(!job->finished);
    /* not due again before next-run */
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now(), &next_run,
                                                  md_test_pool));
    ck_assert_int_eq(1, drive_calls);
    ck_assert(!md_renew_is_watched(failing, 0));
    ck_assert(md_renew_is_watched(manual, 0));
}
END_TEST

START_TEST(test_renew_unsaved_job)
{
    apr_array_header_t *mds = apr_array_make(md_test_pool, 1, sizeof(md_t *));
    apr_status_t outcome = APR_EGENERAL;
    md_renew_opts_t opts;
    apr_time_t next_run;
    md_t *md = make_md("unsaved.example.org", NULL);
    md_json_t *json;
    const char *fname;

    md->renew_mode = MD_RENEW_AUTO;
    md_reg_assess(reg, md, md_test_pool);
    APR_ARRAY_PUSH(mds, md_t *) = md;
    /* staging/NAME is a file: job.json cannot be saved */
    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_STAGING, NULL,
                                                    md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_get_fname(&fname, store, MD_SG_STAGING,
                                                     md->name, NULL, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(fname, 0644, md_test_pool, "x"));
    renew_opts(&opts, &outcome);
    opts.retry_delay = apr_time_from_msec(2);
    opts.store_locks = 1;
    ck_assert_int_eq(APR_SUCCESS, md_renew_memo_create(&opts.memo, md_test_pool));
    ck_assert_ptr_null(md_renew_memo_get(opts.memo, md->name, md_test_pool));
    drive_calls = 0;
    md_test_log_start(MD_LOG_WARNING);
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now(), &next_run,
                                                  md_test_pool));
    md_test_log_stop();
    ck_assert_msg(strstr(md_test_log_text(), "AH10902: unsaved.example.org: unable to "
                         "save the renewal job in "), "log: %s", md_test_log_text());
    json = md_renew_memo_get(opts.memo, md->name, md_test_pool);
    ck_assert_ptr_nonnull(json);
    ck_assert_int_eq(1, md_json_getl(json, MD_KEY_ERRORS, NULL));
    apr_sleep(apr_time_from_msec(20));
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now(), &next_run,
                                                  md_test_pool));
    ck_assert_int_eq(2, drive_calls);
    /* the error count grew from memory, not from the missing job.json */
    json = md_renew_memo_get(opts.memo, md->name, md_test_pool);
    ck_assert_int_eq(2, md_json_getl(json, MD_KEY_ERRORS, NULL));
    ck_assert_str_eq("urn:ietf:params:acme:error:rateLimited",
                     md_json_gets(json, MD_KEY_LAST, MD_KEY_PROBLEM, NULL));
    /* the store works again: the next save drops the memo */
    apr_file_remove(fname, md_test_pool);
    apr_sleep(apr_time_from_msec(30));
    outcome = APR_SUCCESS;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, apr_time_now(), &next_run,
                                                  md_test_pool));
    ck_assert_ptr_null(md_renew_memo_get(opts.memo, md->name, md_test_pool));
}
END_TEST

/* --- the per-MD lock: a renewal in a child, the activation in the parent ------------ */

/* A renewal run of md in a process of its own, as the watchdog's child does
 * it, without MDStoreLocks; the exit status is the number of drive calls. */
static int renew_in_child(md_t *md)
{
    pid_t pid = fork();
    int status;

    ck_assert_int_ge(pid, 0);
    if (0 == pid) {
        apr_array_header_t *mds = apr_array_make(md_test_pool, 1, sizeof(md_t *));
        apr_status_t outcome = APR_SUCCESS;
        md_renew_opts_t opts;
        apr_time_t next_run;

        APR_ARRAY_PUSH(mds, md_t *) = md;
        renew_opts(&opts, &outcome);
        drive_calls = 0;
        md_renew_run(&opts, mds, apr_time_now(), &next_run, md_test_pool);
        _exit(drive_calls);
    }
    ck_assert_int_eq(pid, waitpid(pid, &status, 0));
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(test_lock_activation_defers_renewal)
{
    md_t *md = make_md("lock1.example.org", NULL);
    md_reg_lock_t *lock;

    md->renew_mode = MD_RENEW_AUTO;
    md_reg_assess(reg, md, md_test_pool);
    ck_assert_int_eq(APR_SUCCESS, md_reg_lock_md(&lock, reg, md->name, md_test_pool));
    ck_assert_ptr_nonnull(lock);
    ck_assert_int_eq(0, renew_in_child(md));
    md_reg_unlock_md(lock);
    ck_assert_int_eq(1, renew_in_child(md));
}
END_TEST

/* Forks a process that takes the lock a renewal holds on name's staging
 * (what md_renew.c takes while it drives the MD) and keeps it until a byte
 * arrives on release_fd (release_fd < 0: for hold, then it exits). Returns
 * once the lock is held. */
static pid_t hold_lock_in_child(const char *name, int release_fd, apr_interval_time_t hold)
{
    int to_parent[2];
    char c = 0;
    pid_t pid;

    ck_assert_int_eq(0, pipe(to_parent));
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (0 == pid) {
        md_store_lock_t *held;

        if (APR_SUCCESS != md_store_lock_name(&held, store, MD_SG_STAGING, name,
                                              md_test_pool)
            || 1 != write(to_parent[1], "L", 1)) {
            _exit(2);
        }
        if (release_fd >= 0) {
            _exit(1 == read(release_fd, &c, 1) ? 0 : 2);
        }
        apr_sleep(hold);
        _exit(0);                   /* the lock goes with the process */
    }
    ck_assert_int_eq(1, read(to_parent[0], &c, 1));
    close(to_parent[0]);
    close(to_parent[1]);
    return pid;
}

START_TEST(test_lock_renewal_defers_activation)
{
    md_t *md = make_md("lock2.example.org", NULL);
    md_reg_lock_t *lock;
    int to_child[2];
    pid_t pid;
    int status;

    ck_assert_int_eq(0, pipe(to_child));
    pid = hold_lock_in_child(md->name, to_child[0], 0);
    ck_assert_int_eq(APR_EAGAIN, md_reg_lock_md(&lock, reg, md->name, md_test_pool));
    ck_assert_ptr_null(lock);
    ck_assert_int_eq(1, write(to_child[1], "g", 1));
    ck_assert_int_eq(pid, waitpid(pid, &status, 0));
    ck_assert_int_eq(0, status);
    ck_assert_int_eq(APR_SUCCESS, md_reg_lock_md(&lock, reg, md->name, md_test_pool));
    md_reg_unlock_md(lock);
    md_reg_unlock_md(NULL);
    close(to_child[0]);
    close(to_child[1]);
}
END_TEST

/* A renewal that is finishing (saving its job, running its `renewed`
 * event) lets go of the lock within moments: the activation waits for it
 * instead of leaving the set to the restart after next. */
START_TEST(test_lock_finishing_renewal_waited_for)
{
    md_t *md = make_md("lock3.example.org", NULL);
    md_reg_lock_t *lock;
    apr_time_t start;
    pid_t pid;
    int status;

    pid = hold_lock_in_child(md->name, -1, apr_time_from_msec(400));
    start = apr_time_now();
    ck_assert_int_eq(APR_SUCCESS, md_reg_lock_md(&lock, reg, md->name, md_test_pool));
    ck_assert_ptr_nonnull(lock);
    ck_assert_int_ge(apr_time_now() - start, apr_time_from_msec(300));
    ck_assert_int_eq(pid, waitpid(pid, &status, 0));
    ck_assert_int_eq(0, status);
    md_reg_unlock_md(lock);
}
END_TEST

START_TEST(test_lock_link_not_followed)
{
    const char *fname, *target;
    md_reg_lock_t *lock;
    struct stat st;
    apr_status_t rv;

    ck_assert_int_eq(APR_SUCCESS, md_store_make_dir(store, MD_SG_STAGING, NULL,
                                                    md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_store_get_fname(&fname, store, MD_SG_STAGING, NULL,
                                                     "l.example.org.lock", md_test_pool));
    target = apr_pstrcat(md_test_pool, fname, "-target", NULL);
    ck_assert_int_eq(0, symlink(target, fname));
    rv = md_reg_lock_md(&lock, reg, "l.example.org", md_test_pool);
    ck_assert_int_ne(APR_SUCCESS, rv);
    ck_assert(!APR_STATUS_IS_EAGAIN(rv));
    ck_assert_ptr_null(lock);
    ck_assert_int_ne(0, lstat(target, &st));        /* nothing made through it */
}
END_TEST

static const struct {
    const char *effective;
    int errors;
    const char *expected;
} failover_cases[] = {
    { NULL, 0, "https://a/dir" }, { NULL, 1, "https://a/dir" },
    { NULL, 2, "https://b/dir" }, { NULL, 5, "https://c/dir" },
    { NULL, 6, "https://a/dir" }, { "https://b/dir", 0, "https://b/dir" },
    { "https://b/dir", 2, "https://c/dir" }, { "https://x/dir", 2, "https://b/dir" },
};

START_TEST(test_failover_url)
{
    md_t *md = make_md("g.example.org", NULL);

    md->ca_urls = apr_array_make(md_test_pool, 3, sizeof(const char *));
    APR_ARRAY_PUSH(md->ca_urls, const char *) = "https://a/dir";
    APR_ARRAY_PUSH(md->ca_urls, const char *) = "https://b/dir";
    APR_ARRAY_PUSH(md->ca_urls, const char *) = "https://c/dir";
    md->ca_effective = failover_cases[_i].effective;
    ck_assert_str_eq(failover_cases[_i].expected,
                     md_renew_ca_url(md, failover_cases[_i].errors, 2));
}
END_TEST

/* --- short and long lifetimes (issue 15) ------------------------------------------ */

typedef struct {
    int days;                       /* lifetime of the certificate */
    const char *window;             /* MDRenewWindow, NULL: default 33% */
    apr_interval_time_t renew_after; /* expected renew-at - notBefore */
} lifetime_case;

#define HOUR apr_time_from_sec(3600)
static const lifetime_case lifetime_cases[] = {
    /* 33% of 90 days is 29.7 days: renew after 60.3 days */
    { 90, NULL, apr_time_from_sec(90 * MD_SECS_PER_DAY * 67 / 100) },
    { 45, NULL, apr_time_from_sec(45 * MD_SECS_PER_DAY * 67 / 100) },
    /* 67% of 6 days would be day 4.02: under 10 days at half at the latest */
    { 6, NULL, 3 * DAY },
    { 6, "20%", 3 * DAY },
    { 6, "60%", apr_time_from_sec(6 * MD_SECS_PER_DAY * 40 / 100) },
    /* absolute windows: taken from notAfter; one covering a short lifetime
     * means half, not renewing every new certificate at once */
    { 90, "7d", 83 * DAY },
    { 6, "1d", 3 * DAY },
    { 6, "4d", 2 * DAY },
    { 6, "7d", 3 * DAY },
    { 9, "12h", apr_time_from_sec(9 * MD_SECS_PER_DAY / 2) },
    { 10, NULL, apr_time_from_sec(10 * MD_SECS_PER_DAY * 67 / 100) },
};

/* renews after 244 days: later than any case */
static const lifetime_case year = { 365, NULL, 0 };

static md_t *lifetime_md(const lifetime_case *c, const char *name)
{
    md_t *md = make_md(name, NULL);
    md_timeslice_t *window;

    md->renew_mode = MD_RENEW_AUTO;
    if (c->window) {
        ck_assert_ptr_null(md_timeslice_parse(&window, md_test_pool, c->window,
                                              MD_TIME_LIFE_NORM));
        md->renew_window = window;
    }
    put_cert(md, NULL, c->days * DAY, 0);
    md_reg_assess(reg, md, md_test_pool);
    return md;
}

/* renew-at of a certificate with the lifetime and window of the case:
 * registry, md-status and the pure function agree */
START_TEST(test_lifetime_renew_at)
{
    const lifetime_case *c = &lifetime_cases[_i];
    md_t *md = lifetime_md(c, "life.example.org");
    apr_time_t from, until, at, now = apr_time_now();
    md_status_input_t *in;
    int is_now;

    md_reg_valid_period(&from, &until, reg, md, md_test_pool);
    ck_assert(until - from == c->days * DAY);
    at = md_reg_renew_at(reg, md, now, md_test_pool);
    ck_assert_msg(at - from == c->renew_after, "%d days, window %s: renew after %s",
                  c->days, c->window ? c->window : "default",
                  md_duration_print(md_test_pool, at - from));
    ck_assert(at == md_reg_cert_renew_at(md->renew_window, from, until));
    ck_assert_int_eq(APR_SUCCESS, md_status_input_load(&in, reg, md, now, md_test_pool));
    ck_assert(at == md_status_renew_at(in, now, &is_now));
    ck_assert_int_eq(0, is_now);
    ck_assert_int_eq(0, md_reg_should_renew(reg, md, at - 1, md_test_pool));
    ck_assert_int_eq(1, md_reg_should_renew(reg, md, at, md_test_pool));
}
END_TEST

/* The watchdog comes back at renew-at even when the check interval is
 * longer, and renews then (not a second before). */
START_TEST(test_lifetime_next_run)
{
    const lifetime_case *c = &lifetime_cases[_i];
    apr_array_header_t *mds = apr_array_make(md_test_pool, 2, sizeof(md_t *));
    apr_status_t outcome = APR_SUCCESS;
    md_renew_opts_t opts;
    md_t *md = lifetime_md(c, "next.example.org");
    md_t *later = lifetime_md(&year, "later.example.org");
    apr_time_t next_run, now = apr_time_now(), at;

    /* a warn window shorter than every renew window: an 'expiring' run
     * before renew-at is another matter */
    md->warn_window = md_timeslice_make(md_test_pool, 0, HOUR);
    APR_ARRAY_PUSH(mds, md_t *) = later;
    APR_ARRAY_PUSH(mds, md_t *) = md;
    at = md_reg_renew_at(reg, md, now, md_test_pool);
    renew_opts(&opts, &outcome);
    opts.check_interval = 200 * DAY;
    drive_calls = 0;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now, &next_run, md_test_pool));
    ck_assert_int_eq(0, drive_calls);
    ck_assert_msg(next_run == at, "next run in %s, renew in %s",
                  md_duration_print(md_test_pool, next_run - now),
                  md_duration_print(md_test_pool, at - now));
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, at - 1, &next_run,
                                               md_test_pool));
    ck_assert_int_eq(0, drive_calls);
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, at, &next_run, md_test_pool));
    ck_assert_int_eq(1, drive_calls);
}
END_TEST

/* A warn window longer than the renew window: the 'expiring' run comes
 * first and ends finished, and the renewal still runs when it is due. */
START_TEST(test_lifetime_expiring_then_renew)
{
    apr_array_header_t *mds = apr_array_make(md_test_pool, 1, sizeof(md_t *));
    apr_status_t outcome = APR_SUCCESS;
    md_renew_opts_t opts;
    md_t *md = lifetime_md(&lifetime_cases[2], "expiring.example.org");
    apr_time_t next_run, now = apr_time_now(), at;
    md_job_t *job;

    md->warn_window = md_timeslice_make(md_test_pool, 0, 5 * DAY);
    APR_ARRAY_PUSH(mds, md_t *) = md;
    at = md_reg_renew_at(reg, md, now, md_test_pool);
    renew_opts(&opts, &outcome);
    drive_calls = 0;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now + 2 * DAY, &next_run,
                                               md_test_pool));
    ck_assert_int_eq(0, drive_calls);
    job = md_job_make(md_test_pool, store, MD_SG_STAGING, md->name, 0);
    ck_assert_int_eq(APR_SUCCESS, md_job_load(job));
    ck_assert(job->finished);
    ck_assert(md_job_log_get_time_of_latest(job, "message-expiring") > 0);
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, at, &next_run, md_test_pool));
    ck_assert_int_eq(1, drive_calls);
    /* then it waits for activation */
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, at + 1, &next_run,
                                               md_test_pool));
    ck_assert_int_eq(1, drive_calls);
}
END_TEST

/* An MD that is not renewed here (manual) is looked at again when its
 * warn window starts. */
START_TEST(test_lifetime_warn_run)
{
    apr_array_header_t *mds = apr_array_make(md_test_pool, 1, sizeof(md_t *));
    apr_status_t outcome = APR_SUCCESS;
    md_renew_opts_t opts;
    md_t *md = lifetime_md(&lifetime_cases[2], "warn.example.org");
    apr_time_t next_run, now = apr_time_now(), from, until;

    md->renew_mode = MD_RENEW_MANUAL;
    APR_ARRAY_PUSH(mds, md_t *) = md;
    md_reg_valid_period(&from, &until, reg, md, md_test_pool);
    renew_opts(&opts, &outcome);
    opts.check_interval = 200 * DAY;
    ck_assert_int_eq(APR_SUCCESS, md_renew_run(&opts, mds, now, &next_run, md_test_pool));
    /* default warn window 10% of 6 days */
    ck_assert(next_run == until - apr_time_from_sec(6 * MD_SECS_PER_DAY / 10));
    ck_assert(next_run == md_reg_warn_at(reg, md, md_test_pool));
}
END_TEST

Suite *md_test_reg_suite(void)
{
    Suite *s = suite_create("md_reg");
    TCase *tc = tcase_create("reg");

    tcase_add_checked_fixture(tc, reg_setup, md_test_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_fallback_files);
    tcase_add_test(tc, test_assess_states);
    tcase_add_test(tc, test_renew_timing);
    tcase_add_test(tc, test_drop_certs);
    tcase_add_test(tc, test_activate_staging);
    tcase_add_test(tc, test_activate_write_error);
    tcase_add_test(tc, test_activate_broken_staging);
    tcase_add_test(tc, test_activate_staged_cmd);
    tcase_add_loop_test(tc, test_activate_staged_bad_cert, 0, 4);
    tcase_add_loop_test(tc, test_activate_staged_mismatch, STAGED_DOMAINS, STAGED_CA + 1);
    tcase_add_test(tc, test_sync_renamed);
    tcase_add_test(tc, test_reg_runtime_pool);
    suite_add_tcase(s, tc);
    tc = tcase_create("renew");
    tcase_add_checked_fixture(tc, reg_setup, md_test_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_renew_parallel_success);
    tcase_add_test(tc, test_renew_staged_job_without_results);
    tcase_add_test(tc, test_renew_at_given_now);
    tcase_add_test(tc, test_renew_backoff_and_manual);
    tcase_add_test(tc, test_renew_request);
    tcase_add_test(tc, test_renew_unsaved_job);
    tcase_add_test(tc, test_lock_activation_defers_renewal);
    tcase_add_test(tc, test_lock_renewal_defers_activation);
    tcase_add_test(tc, test_lock_finishing_renewal_waited_for);
    tcase_add_test(tc, test_lock_link_not_followed);
    tcase_add_loop_test(tc, test_failover_url, 0,
                        MD_ARRAY_LEN(failover_cases));
    suite_add_tcase(s, tc);
    tc = tcase_create("lifetime");
    tcase_add_checked_fixture(tc, reg_setup, md_test_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_lifetime_renew_at, 0,
                        MD_ARRAY_LEN(lifetime_cases));
    tcase_add_loop_test(tc, test_lifetime_next_run, 0,
                        MD_ARRAY_LEN(lifetime_cases));
    tcase_add_test(tc, test_lifetime_warn_run);
    tcase_add_test(tc, test_lifetime_expiring_then_renew);
    suite_add_tcase(s, tc);
    return s;
}
