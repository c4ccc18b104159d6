/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: the file readers of certificate slots. The input after
 * byte 0 is split at its first NUL into a chain file (leaf first) and a
 * key file (none without a NUL), written to a temporary directory; the
 * chain file goes through md_chain_fload, md_chain_floadx (no symlink
 * followed), md_chain_fload_leaf (the leaf plus the DER form check of the
 * rest) and md_cert_fload, the key file through md_cert_fcheck_pkey
 * against the leaf and every certificate of the chain (the DER walkers
 * that compare a key's public parts without loading it). Byte 0, bit 0:
 * the key file is missing even with a NUL.
 * Checked: the readers agree on the leaf, and a key the cheap walk calls a
 * match is one md_cert_check_pkey accepts once loaded. fuzz-seconds-max: 8
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_tables.h>

#include "md.h"
#include "md_util.h"

static const char *fuzz_dir;

static void remove_dir(void)
{
    apr_pool_t *p = fuzz_pool();

    apr_file_remove(apr_pstrcat(p, fuzz_dir, "/chain.pem", NULL), p);
    apr_file_remove(apr_pstrcat(p, fuzz_dir, "/key.pem", NULL), p);
    apr_dir_remove(fuzz_dir, p);
    apr_pool_destroy(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char tmpl[] = "/tmp/md-fuzz-chain-XXXXXX";

    (void)argc;
    (void)argv;
    fuzz_init();
    if (!mkdtemp(tmpl)) {
        perror("fuzz_chain_key: mkdtemp");
        abort();
    }
    fuzz_dir = apr_pstrdup(fuzz_init(), tmpl);
    atexit(remove_dir);
    return 0;
}

static const char *write_file(const char *name, const uint8_t *data, size_t len,
                              apr_pool_t *p)
{
    const char *fname = apr_pstrcat(p, fuzz_dir, "/", name, NULL);
    apr_file_t *f;
    apr_size_t n = len;

    if (APR_SUCCESS != apr_file_open(&f, fname, APR_FOPEN_WRITE | APR_FOPEN_CREATE
                                     | APR_FOPEN_TRUNCATE, APR_FPROT_OS_DEFAULT, p)
        || (len && APR_SUCCESS != apr_file_write_full(f, data, len, &n))) {
        abort();
    }
    apr_file_close(f);
    return fname;
}

static int same_cert(const md_cert_t *a, const md_cert_t *b, apr_pool_t *p)
{
    md_data_t da, db;

    return APR_SUCCESS == md_cert_to_der(&da, a, p) && APR_SUCCESS == md_cert_to_der(&db, b, p)
           && da.len == db.len && !memcmp(da.data, db.data, da.len);
}

/* The key file against cert: a cheap "match" must hold for the loaded key. */
static void check_key(const md_cert_t *cert, const char *kfile, apr_pool_t *p)
{
    md_pkey_t *pkey;
    const char *data;
    apr_size_t len;
    int match;

    if (APR_SUCCESS != md_cert_fcheck_pkey(&match, cert, kfile, p) || !match) return;
    if (APR_SUCCESS == md_util_fread_all(&data, &len, kfile, 1024 * 1024, p)
        && APR_SUCCESS == md_pkey_read_pem(&pkey, p, NULL, 0, data, len)
        && APR_SUCCESS != md_cert_check_pkey(cert, pkey)) {
        abort();            /* the walk said "same key", the key says no */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_array_header_t *chain = NULL, *chainx = NULL;
    md_cert_t *leaf = NULL, *first = NULL;
    const uint8_t *nul;
    const char *cfile, *kfile;
    size_t clen;
    int i;

    if (size < 1) return 0;
    p = fuzz_pool();
    nul = memchr(data + 1, 0, size - 1);
    clen = nul ? (size_t)(nul - (data + 1)) : size - 1;
    cfile = write_file("chain.pem", data + 1, clen, p);
    kfile = apr_pstrcat(p, fuzz_dir, "/key.pem", NULL);
    if (nul && !(data[0] & 0x01)) {
        write_file("key.pem", nul + 1, size - 1 - clen - 1, p);
    }
    else {
        unlink(kfile);
    }

    md_chain_fload(&chain, p, cfile);
    md_chain_floadx(&chainx, p, cfile, MD_FREAD_NOFOLLOW);
    if ((chain == NULL) != (chainx == NULL)
        || (chain && chain->nelts != chainx->nelts)) {
        abort();            /* a regular file reads the same either way */
    }
    md_chain_fload_leaf(&leaf, p, cfile);
    md_cert_fload(&first, p, cfile);
    if (leaf && first && !same_cert(leaf, first, p)) {
        abort();            /* two readers, two leaves */
    }
    if (leaf) {
        check_key(leaf, kfile, p);
    }
    for (i = 0; chain && i < chain->nelts && i < 4; ++i) {
        check_key(APR_ARRAY_IDX(chain, i, md_cert_t *), kfile, p);
    }
    apr_pool_destroy(p);
    return 0;
}
