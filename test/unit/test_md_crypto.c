/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_crypto.c: key generation and PEM files (encrypted with
 * a binary passphrase), chain files, certificate facts against fixtures made
 * with the openssl CLI (test/unit/data/make-crypto-fixtures.sh), generated
 * certificates and CSRs (parsed back with OpenSSL), JWK/JWS and digests.
 */
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_file_info.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "md.h"
#include "md_crypto.h"
#include "md_crypto_int.h"
#include "md_json.h"
#include "md_util.h"
#include "md_unit.h"

#define DATA(name) MD_TEST_DATA "/" name

/* File modes are APR permission bits (apr_file_perms_set), not octal. */
#define PERMS_0600 (APR_FPROT_UREAD | APR_FPROT_UWRITE)
#define PERMS_0640 (PERMS_0600 | APR_FPROT_GREAD)
#define PERMS_0644 (PERMS_0640 | APR_FPROT_WREAD)

/* --- helpers ---------------------------------------------------------------------- */

static md_cert_t *load_cert(const char *fname)
{
    md_cert_t *cert = NULL;

    ck_assert_int_eq(APR_SUCCESS, md_cert_fload(&cert, md_test_pool, fname));
    ck_assert_ptr_nonnull(cert);
    return cert;
}

static int same_key(md_pkey_t *a, md_pkey_t *b)
{
    return 1 == EVP_PKEY_eq(md_pkey_get_evp(a), md_pkey_get_evp(b));
}

static apr_array_header_t *str_array(const char *s1, const char *s2, const char *s3)
{
    apr_array_header_t *a = apr_array_make(md_test_pool, 3, sizeof(const char *));

    if (s1) {
        APR_ARRAY_PUSH(a, const char *) = s1;
    }
    if (s2) {
        APR_ARRAY_PUSH(a, const char *) = s2;
    }
    if (s3) {
        APR_ARRAY_PUSH(a, const char *) = s3;
    }
    return a;
}

static apr_fileperms_t file_perms(const char *fname)
{
    apr_finfo_t info;

    ck_assert_int_eq(APR_SUCCESS, apr_stat(&info, fname, APR_FINFO_PROT, md_test_pool));
    return info.protection;
}

static const char *file_text(const char *fname)
{
    const char *data;
    apr_size_t len;

    ck_assert_int_eq(APR_SUCCESS, md_util_fread_all(&data, &len, fname, 1024 * 1024,
                                                    md_test_pool));
    return data;
}

/* --- key generation ---------------------------------------------------------------- */

static const struct {
    md_pkey_type_t type;
    unsigned int bits;
    const char *curve;
    int rsa, ec;
    unsigned int exp_bits;
    const char *alg;        /* NULL: no JWS */
} keygen_cases[] = {
    { MD_PKEY_TYPE_DEFAULT, 0, NULL,        1, 0, 2048, "RS256" },
    { MD_PKEY_TYPE_RSA,     0, NULL,        1, 0, 2048, "RS256" },
    { MD_PKEY_TYPE_RSA,  3072, NULL,        1, 0, 3072, "RS256" },
    { MD_PKEY_TYPE_EC,      0, "P-256",     0, 1, 256,  "ES256" },
    { MD_PKEY_TYPE_EC,      0, "prime256v1", 0, 1, 256, "ES256" },
    { MD_PKEY_TYPE_EC,      0, "secp256r1", 0, 1, 256,  "ES256" },
    { MD_PKEY_TYPE_EC,      0, "secp384r1", 0, 1, 384,  "ES384" },
    { MD_PKEY_TYPE_EC,      0, "P-384",     0, 1, 384,  "ES384" },
    { MD_PKEY_TYPE_EC,      0, "P-521",     0, 1, 521,  "ES512" },
    { MD_PKEY_TYPE_EC,      0, "secp521r1", 0, 1, 521,  "ES512" },
    { MD_PKEY_TYPE_EC,      0, "brainpoolP256r1", 0, 1, 256, NULL },
    { MD_PKEY_TYPE_EC,      0, "X25519",    0, 0, 253,  NULL },
    { MD_PKEY_TYPE_EC,      0, "Ed25519",   0, 0, 256,  "EdDSA" },
};

START_TEST(test_pkey_gen)
{
    md_pkey_t *pkey = md_test_gen_key(keygen_cases[_i].type, keygen_cases[_i].bits,
                              keygen_cases[_i].curve);
    const char *alg = md_pkey_jws_alg(pkey);

    ck_assert_int_eq(keygen_cases[_i].rsa, md_pkey_is_rsa(pkey));
    ck_assert_int_eq(keygen_cases[_i].ec, md_pkey_is_ec(pkey));
    ck_assert_uint_eq(keygen_cases[_i].exp_bits, md_pkey_bits(pkey));
    if (keygen_cases[_i].alg) {
        ck_assert_str_eq(keygen_cases[_i].alg, alg);
        ck_assert_ptr_nonnull(md_pkey_get_jwk(pkey, md_test_pool));
    }
    else {
        ck_assert_ptr_null(alg);
    }
    ck_assert_int_eq(1, md_crypt_curve_known(keygen_cases[_i].curve ?
                                             keygen_cases[_i].curve : "P-256"));
}
END_TEST

START_TEST(test_pkey_gen_errors)
{
    md_pkey_spec_t spec;
    md_pkey_t *pkey = (md_pkey_t *)1;

    spec.type = MD_PKEY_TYPE_EC;
    spec.bits = 0;
    spec.curve = "nosuchcurve";
    ck_assert_int_eq(APR_ENOTIMPL, md_pkey_gen(&pkey, md_test_pool, &spec));
    ck_assert_ptr_null(pkey);
    ck_assert_int_eq(0, md_crypt_curve_known("nosuchcurve"));
    ck_assert_int_eq(0, md_crypt_curve_known(""));
    ck_assert_int_eq(0, md_crypt_curve_known(NULL));
    ck_assert_int_eq(0, md_crypt_curve_known("sha256"));
    ck_assert_int_eq(1, md_crypt_curve_known("p-384"));
    ck_assert_int_eq(1, md_crypt_curve_known("SECP384R1"));
    spec.type = MD_PKEY_TYPE_RSA;
    spec.bits = 1024;
    ck_assert_int_eq(APR_EINVAL, md_pkey_gen(&pkey, md_test_pool, &spec));
}
END_TEST

/* --- key files ----------------------------------------------------------------------- */

/* 48 bytes as md_store.json's key gives them, with NULs inside. */
static const char test_pass[48] = {
    'a', 'b', '\0', 'c', (char)0xff, 0x01, '\0', 'x', 1, 2, 3, 4, 5, 6, 7, 8,
    9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
};

START_TEST(test_pkey_encrypted)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = md_util_path_join(md_test_pool, dir, "privkey.pem", NULL);
    md_pkey_t *pkey = md_test_gen_key(_i ? MD_PKEY_TYPE_RSA : MD_PKEY_TYPE_EC, 0, "P-256");
    md_pkey_t *loaded = NULL;
    char wrong[48];
    const char *text;

    ck_assert_int_eq(APR_SUCCESS, md_pkey_fsave(pkey, md_test_pool, test_pass,
                                                sizeof(test_pass), fname, PERMS_0640));
    ck_assert_int_eq(PERMS_0640, file_perms(fname));
    text = file_text(fname);
    ck_assert(!strncmp("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", text, 38));

    ck_assert_int_eq(APR_SUCCESS, md_pkey_fload(&loaded, md_test_pool, test_pass,
                                                sizeof(test_pass), fname));
    ck_assert(same_key(pkey, loaded));

    memcpy(wrong, test_pass, sizeof(wrong));
    wrong[47] ^= 0x01;
    ck_assert_int_eq(APR_EINVAL, md_pkey_fload(&loaded, md_test_pool, wrong,
                                               sizeof(wrong), fname));
    ck_assert_ptr_null(loaded);
    /* a passphrase cut at the first NUL must not work */
    ck_assert_int_ne(APR_SUCCESS, md_pkey_fload(&loaded, md_test_pool, test_pass,
                                                strlen(test_pass), fname));
    ck_assert_int_ne(APR_SUCCESS, md_pkey_fload(&loaded, md_test_pool, NULL, 0, fname));
}
END_TEST

START_TEST(test_pkey_plain)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = md_util_path_join(md_test_pool, dir, "privkey.pem", NULL);
    md_pkey_t *pkey = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "secp384r1");
    md_pkey_t *loaded = NULL;

    ck_assert_int_eq(APR_SUCCESS, md_pkey_fsave(pkey, md_test_pool, NULL, 0, fname, PERMS_0600));
    ck_assert_int_eq(PERMS_0600, file_perms(fname));
    ck_assert(!strncmp("-----BEGIN PRIVATE KEY-----\n", file_text(fname), 28));
    /* a passphrase given for a plain key is not needed */
    ck_assert_int_eq(APR_SUCCESS, md_pkey_fload(&loaded, md_test_pool, test_pass,
                                                sizeof(test_pass), fname));
    ck_assert(same_key(pkey, loaded));
    /* replacing works */
    ck_assert_int_eq(APR_SUCCESS, md_pkey_fsave(loaded, md_test_pool, NULL, 0, fname, PERMS_0600));
    ck_assert_int_eq(APR_ENOENT, md_pkey_fload(&loaded, md_test_pool, NULL, 0,
                                               DATA("nosuchfile.pem")));
    ck_assert_int_eq(APR_EINVAL, md_pkey_fload(&loaded, md_test_pool, NULL, 0,
                                               DATA("crypto-leaf1.pem")));
}
END_TEST

START_TEST(test_pkey_traditional)
{
    md_pkey_t *rsa = NULL, *ec = NULL;

    ck_assert_int_eq(APR_SUCCESS, md_pkey_fload(&rsa, md_test_pool, NULL, 0,
                                                DATA("crypto-rsa-trad.key")));
    ck_assert(md_pkey_is_rsa(rsa));
    ck_assert_uint_eq(2048, md_pkey_bits(rsa));
    ck_assert_int_eq(APR_SUCCESS, md_pkey_fload(&ec, md_test_pool, NULL, 0,
                                                DATA("crypto-ec-trad.key")));
    ck_assert(md_pkey_is_ec(ec));
    ck_assert_str_eq("prime256v1", md_pkey_type_name(ec));
    ck_assert_int_eq(APR_SUCCESS,
                     md_cert_check_pkey(load_cert(DATA("crypto-leaf1.pem")), rsa));
    ck_assert_int_eq(APR_SUCCESS,
                     md_cert_check_pkey(load_cert(DATA("crypto-leaf2.pem")), ec));
    ck_assert_int_eq(APR_EINVAL,
                     md_cert_check_pkey(load_cert(DATA("crypto-leaf2.pem")), rsa));
}
END_TEST

/* --- chains ------------------------------------------------------------------------- */

static const struct {
    const char *file;
    apr_status_t rv;
    int count;
} chain_cases[] = {
    { "crypto-chain.pem",       APR_SUCCESS, 2 },
    { "crypto-leaf2.pem",       APR_SUCCESS, 1 },
    { "crypto-small-junk.pem",  APR_SUCCESS, 0 },   /* < 1024 bytes: empty */
    { "crypto-large-junk.pem",  APR_EINVAL,  0 },   /* >= 1024 bytes: error */
    { "crypto-rsa-trad.key",    APR_EINVAL,  0 },   /* a key, 1679 bytes */
    { "nosuchfile.pem",         APR_ENOENT,  0 },
};

START_TEST(test_chain_fload)
{
    apr_array_header_t *certs = NULL;
    const char *fname = apr_pstrcat(md_test_pool, MD_TEST_DATA "/", chain_cases[_i].file,
                                    NULL);

    ck_assert_int_eq(chain_cases[_i].rv, md_chain_fload(&certs, md_test_pool, fname));
    if (APR_SUCCESS == chain_cases[_i].rv) {
        ck_assert_int_eq(chain_cases[_i].count, certs->nelts);
    }
    else {
        ck_assert_ptr_null(certs);
    }
}
END_TEST

START_TEST(test_chain_fload_leaf)
{
    md_cert_t *leaf = NULL;
    const char *fname = apr_pstrcat(md_test_pool, MD_TEST_DATA "/", chain_cases[_i].file,
                                    NULL);
    apr_array_header_t *certs = NULL;
    apr_status_t rv = md_chain_fload_leaf(&leaf, md_test_pool, fname);

    /* as md_chain_fload, a file without certificates is APR_ENOENT */
    if (APR_SUCCESS == chain_cases[_i].rv && 0 == chain_cases[_i].count) {
        ck_assert_int_eq(APR_ENOENT, rv);
    }
    else {
        ck_assert_int_eq(chain_cases[_i].rv, rv);
    }
    if (APR_SUCCESS == rv) {
        ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&certs, md_test_pool, fname));
        ck_assert_str_eq(md_cert_get_serial_number(APR_ARRAY_IDX(certs, 0, md_cert_t *),
                                                   md_test_pool),
                         md_cert_get_serial_number(leaf, md_test_pool));
    }
    else {
        ck_assert_ptr_null(leaf);
    }
}
END_TEST

/* what comes after the leaf: well-formed certificates, other blocks skipped */
START_TEST(test_chain_fload_leaf_rest)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = md_util_path_join(md_test_pool, dir, "chain.pem", NULL);
    const char *leaf_pem = file_text(DATA("crypto-leaf1.pem"));
    const char *key_pem = file_text(DATA("crypto-rsa-trad.key"));
    const char *chain_pem = file_text(DATA("crypto-chain.pem"));
    md_cert_t *leaf;
    struct {
        const char *text;
        apr_status_t rv;
    } cases[] = {
        { apr_pstrcat(md_test_pool, leaf_pem, chain_pem, NULL), APR_SUCCESS },
        { apr_pstrcat(md_test_pool, leaf_pem, key_pem, NULL), APR_SUCCESS },
        { apr_pstrcat(md_test_pool, leaf_pem, "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n"
                      "-----END CERTIFICATE-----\n", NULL), APR_EINVAL },
        { apr_pstrcat(md_test_pool, leaf_pem, "-----BEGIN CERTIFICATE-----\n%%%%\n"
                      "-----END CERTIFICATE-----\n", NULL), APR_EINVAL },
        { apr_pstrcat(md_test_pool, leaf_pem, "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n",
                      NULL), APR_EINVAL },
    };
    size_t i;

    for (i = 0; i < MD_ARRAY_LEN(cases); ++i) {
        ck_assert_int_eq(APR_SUCCESS, md_text_freplace(fname, PERMS_0644, md_test_pool,
                                                       cases[i].text));
        leaf = NULL;
        ck_assert_msg(cases[i].rv == md_chain_fload_leaf(&leaf, md_test_pool, fname),
                      "case %d", (int)i);
        ck_assert_int_eq(cases[i].rv == APR_SUCCESS, leaf != NULL);
    }
}
END_TEST

START_TEST(test_chain_fsave)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *fname = md_util_path_join(md_test_pool, dir, "pubcert.pem", NULL);
    const char *old = md_util_path_join(md_test_pool, dir, "old.pem", NULL);
    apr_array_header_t *certs, *loaded, *one;
    const char *fp1, *fp2;

    ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&certs, md_test_pool,
                                                 DATA("crypto-chain.pem")));
    ck_assert_int_eq(APR_SUCCESS, md_chain_fsave(certs, md_test_pool, fname, PERMS_0644));
    ck_assert_int_eq(PERMS_0644, file_perms(fname));
    ck_assert_str_eq(file_text(DATA("crypto-chain.pem")), file_text(fname));
    ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&loaded, md_test_pool, fname));
    ck_assert_int_eq(2, loaded->nelts);
    md_cert_to_sha256_fingerprint(&fp1, APR_ARRAY_IDX(certs, 1, md_cert_t *), md_test_pool);
    md_cert_to_sha256_fingerprint(&fp2, APR_ARRAY_IDX(loaded, 1, md_cert_t *), md_test_pool);
    ck_assert_str_eq(fp1, fp2);

    /* a shorter chain replaces the file (a new one: what holds the old one,
     * here a hard link, still reads it whole), chmod applies */
    ck_assert_int_eq(0, link(fname, old));
    one = apr_array_make(md_test_pool, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(one, md_cert_t *) = APR_ARRAY_IDX(certs, 0, md_cert_t *);
    ck_assert_int_eq(APR_SUCCESS, md_chain_fsave(one, md_test_pool, fname, PERMS_0600));
    ck_assert_int_eq(PERMS_0600, file_perms(fname));
    ck_assert_str_eq(file_text(DATA("crypto-leaf1.pem")), file_text(fname));
    ck_assert_str_eq(file_text(DATA("crypto-chain.pem")), file_text(old));
    ck_assert_int_eq(APR_SUCCESS, md_chain_fappend(one, md_test_pool, fname));
    ck_assert_int_eq(APR_SUCCESS, md_chain_fload(&loaded, md_test_pool, fname));
    ck_assert_int_eq(2, loaded->nelts);
    ck_assert_int_eq(PERMS_0600, file_perms(fname));
    ck_assert_str_eq(file_text(DATA("crypto-chain.pem")), file_text(old));
}
END_TEST

/* --- certificate facts (values read with the openssl CLI, see crypto-facts.txt) ---- */

static const struct {
    const char *file;
    const char *serial;
    const char *sha256;
    const char *ari_id;
    const char *issuer_uri;
    const char *ocsp_url;
    int must_staple;
    apr_int64_t not_before, not_after;      /* seconds since the epoch */
    const char *alt_names;
} fact_cases[] = {
    { "crypto-leaf1.pem", "249CC7FFC64154B5",
      "10509f0e10b1027e04bdd9e5f35cf07092a961ca68b01db07d469d234a72da01",
      "kpXiXeCAQJL1gztPUOlIzRr6Y8Q.JJzH_8ZBVLU",
      "http://ca.example.org/ca.cer", "http://ocsp.example.org/", 1,
      1796047751, 4949647751,
      "example.org www.example.org *.wild.example.org 192.0.2.7 2001:db8::1" },
    { "crypto-leaf2.pem", "80FF0001",
      "6ccf051fb9ff331c598e0642ad77c63d83b43f1d20f8b50ac01c16d59486bfe6",
      "kpXiXeCAQJL1gztPUOlIzRr6Y8Q.AID_AAE", NULL, NULL, 0,
      1796047751, 4949647751, "b.example.org" },
    { "crypto-ca.pem", "1000",
      "9779c95ac48260e2f481892571a92df1ad5166ffa894a1797acbffdb6cd64d0c",
      "kpXiXeCAQJL1gztPUOlIzRr6Y8Q.EAA", NULL, NULL, 0,
      1796047750, 4949647750, "" },
};

START_TEST(test_cert_facts)
{
    md_cert_t *cert = load_cert(apr_pstrcat(md_test_pool, MD_TEST_DATA "/",
                                            fact_cases[_i].file, NULL));
    apr_array_header_t *names;
    const char *s;
    apr_time_t nb = apr_time_from_sec(fact_cases[_i].not_before);
    apr_time_t na = apr_time_from_sec(fact_cases[_i].not_after);

    ck_assert_str_eq(fact_cases[_i].serial, md_cert_get_serial_number(cert, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_cert_to_sha256_fingerprint(&s, cert, md_test_pool));
    ck_assert_str_eq(fact_cases[_i].sha256, s);
    ck_assert_int_eq(APR_SUCCESS, md_cert_get_ari_cert_id(&s, cert, md_test_pool));
    ck_assert_str_eq(fact_cases[_i].ari_id, s);
    ck_assert_str_eq("/CN=MD Test CA", md_cert_get_issuer_name(cert, md_test_pool));
    ck_assert_pstr_eq(fact_cases[_i].issuer_uri, md_cert_get_issuer_uri(cert, md_test_pool));
    ck_assert_pstr_eq(fact_cases[_i].ocsp_url, md_cert_get_ocsp_url(cert, md_test_pool));
    ck_assert_int_eq(fact_cases[_i].must_staple, md_cert_must_staple(cert));
    ck_assert(nb == md_cert_get_not_before(cert));
    ck_assert(na == md_cert_get_not_after(cert));
    ck_assert_int_eq(0, md_cert_has_expired(cert, nb));
    ck_assert_int_eq(1, md_cert_has_expired(cert, na + 1));
    ck_assert_int_eq(APR_SUCCESS, md_cert_get_alt_names(&names, cert, md_test_pool));
    ck_assert_str_eq(fact_cases[_i].alt_names, md_array_str_join(names, " ", md_test_pool));
}
END_TEST

static const struct {
    const char *domain;
    int covered;
} cover_cases[] = {
    { "example.org", 1 },
    { "WWW.Example.org", 1 },
    { "a.wild.example.org", 1 },
    { "*.wild.example.org", 1 },
    { "wild.example.org", 0 },
    { "b.a.wild.example.org", 0 },
    { "other.example.org", 0 },
    { "org", 0 },
};

START_TEST(test_cert_covers)
{
    md_cert_t *cert = load_cert(DATA("crypto-leaf1.pem"));

    ck_assert_int_eq(cover_cases[_i].covered,
                     md_cert_covers_domain(cert, cover_cases[_i].domain, md_test_pool));
}
END_TEST

START_TEST(test_cert_misc)
{
    md_cert_t *leaf = load_cert(DATA("crypto-leaf1.pem"));
    md_cert_t *ca = load_cert(DATA("crypto-ca.pem"));
    md_cert_t *copy = NULL;
    md_t *md;
    md_data_t der;
    const char *pem, *fp1, *fp2, *hex;

    ck_assert_int_eq(1, md_cert_is_issued_by(leaf, ca));
    ck_assert_int_eq(0, md_cert_is_issued_by(ca, leaf));
    ck_assert_int_eq(1, md_cert_is_issued_by(ca, ca));

    md = md_create(md_test_pool, str_array("example.org", "x.wild.example.org", NULL));
    ck_assert_int_eq(1, md_cert_covers_md(leaf, md, md_test_pool));
    md = md_create(md_test_pool, str_array("example.org", "example.net", NULL));
    ck_assert_int_eq(0, md_cert_covers_md(leaf, md, md_test_pool));

    ck_assert_int_eq(APR_SUCCESS, md_cert_to_der(&der, leaf, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_cert_read_der(&copy, md_test_pool, der.data, der.len));
    md_cert_to_sha256_fingerprint(&fp1, leaf, md_test_pool);
    md_cert_to_sha256_fingerprint(&fp2, copy, md_test_pool);
    ck_assert_str_eq(fp1, fp2);
    ck_assert_int_eq(APR_EINVAL, md_cert_read_der(&copy, md_test_pool, "junk", 4));
    ck_assert_int_eq(APR_SUCCESS, md_cert_to_pem(&pem, leaf, md_test_pool));
    ck_assert_str_eq(file_text(DATA("crypto-leaf1.pem")), pem);
    ck_assert_int_eq(APR_SUCCESS, md_cert_to_sha1_hex(&hex, leaf, md_test_pool));
    ck_assert_uint_eq(40, strlen(hex));
}
END_TEST

/* --- generated certificates --------------------------------------------------------- */

static const struct {
    md_pkey_type_t type;
    const char *curve;
} gen_cases[] = {
    { MD_PKEY_TYPE_DEFAULT, NULL },
    { MD_PKEY_TYPE_EC, "P-256" },
    { MD_PKEY_TYPE_EC, "secp384r1" },
    { MD_PKEY_TYPE_EC, "Ed25519" },
};

/* The extension's criticality, -1 if missing. */
static int ext_critical(X509 *x, int nid)
{
    int idx = X509_get_ext_by_NID(x, nid, -1);

    return (idx < 0) ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

START_TEST(test_cert_fallback)
{
    md_pkey_t *pkey = md_test_gen_key(gen_cases[_i].type, 0, gen_cases[_i].curve);
    apr_array_header_t *domains = str_array("a.example.org", "*.b.example.org", "192.0.2.1");
    apr_array_header_t *names;
    md_cert_t *cert = NULL;
    X509 *x;
    const char *serial;
    apr_time_t start = apr_time_now(), nb;
    int i;

    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, NULL, domains, pkey,
                                                        apr_time_from_sec(14 * 86400),
                                                        md_test_pool));
    /* cheap given a key (about a millisecond each; the bound leaves room
     * for valgrind and busy machines) */
    for (i = 0; i < 20; ++i) {
        md_cert_t *c2;
        ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(
            &c2, NULL, domains, pkey, apr_time_from_sec(60), md_test_pool));
    }
    ck_assert(apr_time_now() - start < apr_time_from_sec(5));
    x = md_cert_get_x509(cert);
    ck_assert_int_eq(X509_VERSION_3, X509_get_version(x));
    ck_assert_str_eq("/CN=Apache Managed Domain Fallback",
                     md_cert_get_issuer_name(cert, md_test_pool));
    ck_assert_int_eq(0, X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)));
    serial = md_cert_get_serial_number(cert, md_test_pool);
    ck_assert(strlen(serial) > 30 && strlen(serial) <= 40);
    ck_assert(serial[0] < '8');         /* positive */
    ck_assert_int_eq(APR_SUCCESS, md_cert_get_alt_names(&names, cert, md_test_pool));
    ck_assert_str_eq("a.example.org *.b.example.org 192.0.2.1",
                     md_array_str_join(names, " ", md_test_pool));
    nb = md_cert_get_not_before(cert);
    ck_assert(nb >= apr_time_from_sec(apr_time_sec(start)) && nb <= apr_time_now());
    ck_assert(md_cert_get_not_after(cert) - nb == apr_time_from_sec(14 * 86400));
    ck_assert_int_eq(1, ext_critical(x, NID_basic_constraints));
    ck_assert_int_eq(0, X509_check_ca(x));
    ck_assert_int_eq(1, ext_critical(x, NID_key_usage));
    ck_assert_uint_eq(KU_DIGITAL_SIGNATURE, X509_get_key_usage(x));
    ck_assert_int_eq(0, ext_critical(x, NID_ext_key_usage));
    ck_assert_uint_eq(XKU_SSL_SERVER, X509_get_extended_key_usage(x));
    ck_assert_int_eq(0, md_cert_must_staple(cert));
    ck_assert_int_eq(1, md_cert_is_issued_by(cert, cert));
    ck_assert_int_eq(APR_SUCCESS, md_cert_check_pkey(cert, pkey));
    if (MD_PKEY_TYPE_EC == gen_cases[_i].type && md_pkey_is_ec(pkey)) {
        ck_assert_int_eq(NID_ecdsa_with_SHA256, X509_get_signature_nid(x));
    }
    else if (md_pkey_is_rsa(pkey)) {
        ck_assert_int_eq(NID_sha256WithRSAEncryption, X509_get_signature_nid(x));
    }
    else {
        ck_assert_int_eq(NID_ED25519, X509_get_signature_nid(x));
    }
    ck_assert_int_eq(APR_ENOENT, md_cert_get_ari_cert_id(&serial, cert, md_test_pool));
}
END_TEST

/* key files checked against certificates without loading the key */
static const char *saved_key(md_pkey_t *pkey, const char *dir, const char *name)
{
    const char *fname = md_util_path_join(md_test_pool, dir, name, NULL);

    ck_assert_int_eq(APR_SUCCESS, md_pkey_fsave(pkey, md_test_pool, NULL, 0, fname,
                                                PERMS_0600));
    return fname;
}

static md_cert_t *cert_for(md_pkey_t *pkey)
{
    md_cert_t *cert = NULL;

    ck_assert_int_eq(APR_SUCCESS, md_cert_make_fallback(&cert, NULL,
                                                        str_array("a.example.org", NULL, NULL),
                                                        pkey, apr_time_from_sec(60),
                                                        md_test_pool));
    return cert;
}

static int fmatch(const md_cert_t *cert, const char *fname)
{
    int match = -1;

    ck_assert_int_eq(APR_SUCCESS, md_cert_fcheck_pkey(&match, cert, fname, md_test_pool));
    return match;
}

START_TEST(test_cert_fcheck_pkey)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    md_pkey_t *rsa1 = md_test_gen_key(MD_PKEY_TYPE_RSA, 2048, NULL);
    md_pkey_t *rsa2 = md_test_gen_key(MD_PKEY_TYPE_RSA, 2048, NULL);
    md_pkey_t *ec1 = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-256");
    md_pkey_t *ec2 = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-256");
    md_pkey_t *ec3 = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-384");
    const char *frsa1 = saved_key(rsa1, dir, "rsa1.pem"), *frsa2 = saved_key(rsa2, dir, "rsa2.pem");
    const char *fec1 = saved_key(ec1, dir, "ec1.pem"), *fec2 = saved_key(ec2, dir, "ec2.pem");
    const char *fec3 = saved_key(ec3, dir, "ec3.pem");
    md_cert_t *crsa1 = cert_for(rsa1), *cec1 = cert_for(ec1), *cec3 = cert_for(ec3);
    int match = -1;

    /* PKCS#8 files as mod_md writes them */
    ck_assert_int_eq(1, fmatch(crsa1, frsa1));
    ck_assert_int_eq(0, fmatch(crsa1, frsa2));
    ck_assert_int_eq(0, fmatch(crsa1, fec1));
    ck_assert_int_eq(1, fmatch(cec1, fec1));
    ck_assert_int_eq(0, fmatch(cec1, fec2));
    ck_assert_int_eq(0, fmatch(cec1, fec3));
    ck_assert_int_eq(0, fmatch(cec1, frsa1));
    ck_assert_int_eq(1, fmatch(cec3, fec3));
    ck_assert_int_eq(0, fmatch(cec3, fec1));
    /* traditional RSA and EC files */
    ck_assert_int_eq(1, fmatch(load_cert(DATA("crypto-leaf1.pem")), DATA("crypto-rsa-trad.key")));
    ck_assert_int_eq(1, fmatch(load_cert(DATA("crypto-leaf2.pem")), DATA("crypto-ec-trad.key")));
    ck_assert_int_eq(0, fmatch(load_cert(DATA("crypto-leaf2.pem")), DATA("crypto-rsa-trad.key")));
    ck_assert_int_eq(0, fmatch(crsa1, DATA("crypto-rsa-trad.key")));
    ck_assert_int_eq(0, fmatch(cec1, DATA("crypto-ec-trad.key")));
    /* missing, not a key, encrypted (needs a passphrase this check has not) */
    ck_assert_int_eq(APR_ENOENT, md_cert_fcheck_pkey(&match, crsa1, DATA("nosuchfile.pem"),
                                                     md_test_pool));
    ck_assert_int_eq(0, match);
    ck_assert_int_eq(APR_EINVAL, md_cert_fcheck_pkey(&match, crsa1, DATA("crypto-leaf1.pem"),
                                                     md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_pkey_fsave(rsa1, md_test_pool, test_pass, sizeof(test_pass),
                                                frsa2, PERMS_0600));
    ck_assert_int_eq(APR_EINVAL, md_cert_fcheck_pkey(&match, crsa1, frsa2, md_test_pool));
}
END_TEST

START_TEST(test_cert_no_signing_key)
{
    md_pkey_t *pkey = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "X25519");
    md_cert_t *cert = (md_cert_t *)1;
    const char *csr = "x";

    ck_assert_int_eq(APR_ENOTIMPL, md_cert_make_fallback(
        &cert, NULL, str_array("a.example.org", NULL, NULL), pkey,
        apr_time_from_sec(60), md_test_pool));
    ck_assert_ptr_null(cert);
    ck_assert_int_eq(APR_ENOTIMPL, md_cert_req_create(
        &csr, "a.example.org", str_array("a.example.org", NULL, NULL), 0, pkey,
        md_test_pool));
    ck_assert_ptr_null(csr);
    ck_assert_int_eq(APR_ENOTIMPL, md_pkey_jwk_thumbprint(&csr, pkey, md_test_pool));
}
END_TEST

START_TEST(test_cert_tls_alpn_01)
{
    const char *keyauth = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
                          "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";
    md_pkey_t *pkey = md_test_gen_key(MD_PKEY_TYPE_EC, 0, "P-256");
    md_cert_t *cert = NULL;
    unsigned char expected[34];
    unsigned int mdlen;
    const ASN1_OCTET_STRING *value;
    ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    X509_EXTENSION *ext;
    X509 *x;
    int idx;

    ck_assert_int_eq(APR_SUCCESS, md_cert_make_tls_alpn_01(
        &cert, "a.example.org", keyauth, pkey, apr_time_from_sec(7 * 86400),
        md_test_pool));
    x = md_cert_get_x509(cert);
    ck_assert_str_eq("/CN=tls-alpn-01-challenge", md_cert_get_issuer_name(cert, md_test_pool));
    ck_assert_int_eq(1, md_cert_covers_domain(cert, "a.example.org", md_test_pool));
    ck_assert_int_eq(0, md_cert_covers_domain(cert, "b.example.org", md_test_pool));
    ck_assert_int_eq(1, ext_critical(x, NID_basic_constraints));
    ck_assert(md_cert_get_not_after(cert) - md_cert_get_not_before(cert)
              == apr_time_from_sec(7 * 86400));

    idx = X509_get_ext_by_OBJ(x, obj, -1);
    ASN1_OBJECT_free(obj);
    ck_assert_int_ge(idx, 0);
    ext = X509_get_ext(x, idx);
    ck_assert_int_eq(1, X509_EXTENSION_get_critical(ext));
    value = X509_EXTENSION_get_data(ext);
    expected[0] = 0x04;
    expected[1] = 0x20;
    EVP_Digest(keyauth, strlen(keyauth), expected + 2, &mdlen, EVP_sha256(), NULL);
    ck_assert_int_eq(34, ASN1_STRING_length(value));
    ck_assert_mem_eq(expected, ASN1_STRING_get0_data(value), 34);
}
END_TEST

/* --- CSR ------------------------------------------------------------------------------- */

static X509_REQ *csr_parse(const char *csr64)
{
    md_data_t der;
    const unsigned char *q;
    X509_REQ *req;

    ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&der, csr64, md_test_pool));
    q = (const unsigned char *)der.data;
    req = d2i_X509_REQ(NULL, &q, (long)der.len);
    ck_assert_ptr_nonnull(req);
    return req;
}

static const char *req_sans(STACK_OF(X509_EXTENSION) *exts)
{
    GENERAL_NAMES *gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
    const char *s = "";
    int i;

    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); ++i) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
        ck_assert_int_eq(GEN_DNS, gn->type);
        s = apr_pstrcat(md_test_pool, s, *s ? " " : "",
                        (const char *)ASN1_STRING_get0_data(gn->d.dNSName), NULL);
    }
    GENERAL_NAMES_free(gens);
    return s;
}

static const char *long_name =
    "a-very-long-first-label-that-makes-this-name-longer.than-64.example.org";

static const struct {
    const char *name;
    int must_staple;
    const char *subject;
} csr_cases[] = {
    { "a.example.org", 0, "/CN=a.example.org" },
    { "a.example.org", 1, "/CN=a.example.org" },
    { NULL, 0, "" },      /* long name: empty subject */
};

START_TEST(test_csr)
{
    static const unsigned char tlsf[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
    md_pkey_t *pkey = md_test_gen_key(_i ? MD_PKEY_TYPE_EC : MD_PKEY_TYPE_RSA, 0, "P-256");
    const char *name = csr_cases[_i].name ? csr_cases[_i].name : long_name;
    const char *csr64 = NULL;
    STACK_OF(X509_EXTENSION) *exts;
    X509_REQ *req;
    char *subject;
    int idx;

    ck_assert_int_eq(APR_SUCCESS, md_cert_req_create(
        &csr64, name, str_array(name, "b.example.org", "*.c.example.org"),
        csr_cases[_i].must_staple, pkey, md_test_pool));
    ck_assert(md_util_is_base64url(csr64));
    ck_assert_ptr_null(strchr(csr64, '='));
    req = csr_parse(csr64);
    ck_assert_int_eq(1, X509_REQ_verify(req, X509_REQ_get0_pubkey(req)));
    ck_assert_int_eq(1, EVP_PKEY_eq(X509_REQ_get0_pubkey(req), md_pkey_get_evp(pkey)));
    ck_assert_int_eq(_i ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption,
                     X509_REQ_get_signature_nid(req));
    subject = X509_NAME_oneline(X509_REQ_get_subject_name(req), NULL, 0);
    ck_assert_str_eq(csr_cases[_i].subject, subject);
    OPENSSL_free(subject);

    exts = X509_REQ_get_extensions(req);
    ck_assert_str_eq(apr_pstrcat(md_test_pool, name, " b.example.org *.c.example.org", NULL),
                     req_sans(exts));
    idx = X509v3_get_ext_by_NID(exts, NID_tlsfeature, -1);
    if (csr_cases[_i].must_staple) {
        const ASN1_OCTET_STRING *v;
        ck_assert_int_ge(idx, 0);
        v = X509_EXTENSION_get_data(X509v3_get_ext(exts, idx));
        ck_assert_int_eq(5, ASN1_STRING_length(v));
        ck_assert_mem_eq(tlsf, ASN1_STRING_get0_data(v), 5);
    }
    else {
        ck_assert_int_lt(idx, 0);
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
}
END_TEST

/* --- JWK / JWS ----------------------------------------------------------------------- */

/* RFC 7638 section 3.1 example key. */
static const char *rfc7638_n =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7"
    "aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXA"
    "rwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7"
    "d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lF"
    "d2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

static BIGNUM *bn_from64(const char *s64)
{
    md_data_t d;

    ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&d, s64, md_test_pool));
    return BN_bin2bn((const unsigned char *)d.data, (int)d.len, NULL);
}

static md_pkey_t *rsa_public_key(const char *n64, const char *e64)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = bn_from64(n64), *e = bn_from64(e64);
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *key = NULL;

    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    params = OSSL_PARAM_BLD_to_param(bld);
    ck_assert_int_eq(1, EVP_PKEY_fromdata_init(ctx));
    ck_assert_int_eq(1, EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params));
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(e);
    return md_pkey_wrap(md_test_pool, key);
}

START_TEST(test_jwk_thumbprint)
{
    md_pkey_t *pkey = rsa_public_key(rfc7638_n, "AQAB");
    const char *thumb = NULL;
    md_json_t *jwk = md_pkey_get_jwk(pkey, md_test_pool);

    ck_assert_str_eq(apr_pstrcat(md_test_pool, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"",
                                 rfc7638_n, "\"}", NULL),
                     md_json_writep(jwk, md_test_pool, MD_JSON_FMT_COMPACT));
    ck_assert_int_eq(APR_SUCCESS, md_pkey_jwk_thumbprint(&thumb, pkey, md_test_pool));
    ck_assert_str_eq("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", thumb);
}
END_TEST

static const struct {
    md_pkey_type_t type;
    const char *curve;
    const char *alg;
    apr_size_t coord_len;   /* EC: bytes of x, y and each signature half */
} jws_cases[] = {
    { MD_PKEY_TYPE_EC, "P-256", "ES256", 32 },
    { MD_PKEY_TYPE_EC, "secp384r1", "ES384", 48 },
    { MD_PKEY_TYPE_EC, "P-521", "ES512", 66 },
    { MD_PKEY_TYPE_RSA, NULL, "RS256", 0 },
    { MD_PKEY_TYPE_EC, "Ed25519", "EdDSA", 0 },
};

/* Verifies a JWS signature with OpenSSL, converting R||S back to DER. */
static int jws_verify(md_pkey_t *pkey, const char *alg, const char *data,
                      const md_data_t *sig, apr_size_t half)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = !strcmp("ES384", alg) ? EVP_sha384() :
                       !strcmp("ES512", alg) ? EVP_sha512() :
                       !strcmp("EdDSA", alg) ? NULL : EVP_sha256();
    const unsigned char *s = (const unsigned char *)sig->data;
    unsigned char *der = NULL;
    size_t der_len = sig->len;
    int rc;

    if (half) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        ck_assert_uint_eq(2 * half, sig->len);
        ECDSA_SIG_set0(es, BN_bin2bn(s, (int)half, NULL), BN_bin2bn(s + half, (int)half, NULL));
        der_len = (size_t)i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        s = der;
    }
    rc = EVP_DigestVerifyInit(ctx, NULL, md, NULL, md_pkey_get_evp(pkey))
         && 1 == EVP_DigestVerify(ctx, s, der_len, (const unsigned char *)data, strlen(data));
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    return rc;
}

START_TEST(test_jws_sign)
{
    const char *data = "eyJhbGciOiJFUzI1NiJ9.eyJoZWxsbyI6IndvcmxkIn0";
    md_pkey_t *pkey = md_test_gen_key(jws_cases[_i].type, 0, jws_cases[_i].curve);
    const char *sig64 = NULL, *x;
    md_json_t *jwk = md_pkey_get_jwk(pkey, md_test_pool);
    md_data_t sig, bytes;

    ck_assert_str_eq(jws_cases[_i].alg, md_pkey_jws_alg(pkey));
    ck_assert_int_eq(APR_SUCCESS, md_pkey_jws_sign(&sig64, pkey, md_test_pool,
                                                   data, strlen(data)));
    ck_assert(md_util_is_base64url(sig64));
    ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&sig, sig64, md_test_pool));
    ck_assert(jws_verify(pkey, jws_cases[_i].alg, data, &sig, jws_cases[_i].coord_len));
    /* a modified message does not verify */
    ck_assert(!jws_verify(pkey, jws_cases[_i].alg, "x", &sig, jws_cases[_i].coord_len));

    if (jws_cases[_i].coord_len) {
        ck_assert_str_eq("EC", md_json_gets(jwk, "kty", NULL));
        x = md_json_gets(jwk, "x", NULL);
        ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&bytes, x, md_test_pool));
        ck_assert_uint_eq(jws_cases[_i].coord_len, bytes.len);
        x = md_json_gets(jwk, "y", NULL);
        ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&bytes, x, md_test_pool));
        ck_assert_uint_eq(jws_cases[_i].coord_len, bytes.len);
        ck_assert(!strncmp("{\"crv\":\"P-", md_json_writep(jwk, md_test_pool,
                                                           MD_JSON_FMT_COMPACT), 10));
    }
}
END_TEST

/* --- digests ----------------------------------------------------------------------- */

START_TEST(test_digests)
{
    md_data_t abc = { "abc", 3 }, key = { "Jefe", 4 };
    const char *s;
    const char *msg = "what do ya want for nothing?";

    ck_assert_int_eq(APR_SUCCESS, md_crypt_sha256_digest_hex(&s, md_test_pool, &abc));
    ck_assert_str_eq("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", s);
    ck_assert_int_eq(APR_SUCCESS, md_crypt_sha256_digest64(&s, md_test_pool, &abc));
    ck_assert_str_eq("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0", s);
    /* RFC 4231 test case 2 */
    ck_assert_int_eq(APR_SUCCESS, md_crypt_hmac64(&s, &key, md_test_pool, msg, strlen(msg)));
    ck_assert_str_eq("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM", s);
}
END_TEST


Suite *md_test_crypto_suite(void)
{
    Suite *s = suite_create("md_crypto");
    TCase *tc;

    tc = tcase_create("keys");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_pkey_gen, 0, N(keygen_cases));
    tcase_add_test(tc, test_pkey_gen_errors);
    tcase_add_loop_test(tc, test_pkey_encrypted, 0, 2);
    tcase_add_test(tc, test_pkey_plain);
    tcase_add_test(tc, test_pkey_traditional);
    suite_add_tcase(s, tc);

    tc = tcase_create("certs");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, test_chain_fload, 0, N(chain_cases));
    tcase_add_loop_test(tc, test_chain_fload_leaf, 0, N(chain_cases));
    tcase_add_test(tc, test_chain_fload_leaf_rest);
    tcase_add_test(tc, test_chain_fsave);
    tcase_add_loop_test(tc, test_cert_facts, 0, N(fact_cases));
    tcase_add_loop_test(tc, test_cert_covers, 0, N(cover_cases));
    tcase_add_test(tc, test_cert_misc);
    suite_add_tcase(s, tc);

    tc = tcase_create("generated");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_cert_fallback, 0, N(gen_cases));
    tcase_add_test(tc, test_cert_fcheck_pkey);
    tcase_add_test(tc, test_cert_no_signing_key);
    tcase_add_test(tc, test_cert_tls_alpn_01);
    tcase_add_loop_test(tc, test_csr, 0, N(csr_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("jws");
    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_jwk_thumbprint);
    tcase_add_loop_test(tc, test_jws_sign, 0, N(jws_cases));
    tcase_add_test(tc, test_digests);
    suite_add_tcase(s, tc);
    return s;
}
