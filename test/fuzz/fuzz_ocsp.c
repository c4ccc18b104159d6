/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: OCSP response parsing and checking. The input is a DER OCSP
 * response checked with md_ocsp_check_response against a fixed leaf and
 * issuer (test/unit/data/ocsp, path from MD_FUZZ_OCSP_DATA or the build
 * default), with and without the request it answers.
 */
#include "fuzz_common.h"

#include <stdio.h>

#include "md.h"
#include "md_json.h"
#include "md_ocsp.h"
#include "md_util.h"

#ifndef MD_FUZZ_OCSP_DATA
#define MD_FUZZ_OCSP_DATA "test/unit/data/ocsp"
#endif

static md_cert_t *leaf, *issuer;
static md_data_t req;

static md_cert_t *load(const char *name)
{
    const char *dir = getenv("MD_FUZZ_OCSP_DATA");
    md_cert_t *cert = NULL;

    if (APR_SUCCESS != md_cert_fload(&cert, fuzz_init(), apr_pstrcat(
            fuzz_init(), dir ? dir : MD_FUZZ_OCSP_DATA, "/", name, NULL))) {
        fprintf(stderr, "fuzz_ocsp: cannot load %s (set MD_FUZZ_OCSP_DATA)\n", name);
        abort();
    }
    return cert;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("MD_FUZZ_OCSP_DATA");
    const char *data;
    apr_size_t len;

    (void)argc;
    (void)argv;
    fuzz_init();
    leaf = load("leaf.pem");
    issuer = load("ca.pem");
    if (APR_SUCCESS == md_util_fread_all(&data, &len, apr_pstrcat(
            fuzz_root_pool, dir ? dir : MD_FUZZ_OCSP_DATA, "/req.der", NULL),
            64 * 1024, fuzz_root_pool)) {
        req.data = data;
        req.len = len;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    md_ocsp_answer_t answer;
    md_data_t der;
    const char *err = NULL;

    memset(&answer, 0, sizeof(answer));
    der.data = (const char *)data;
    der.len = size;
    md_ocsp_check_response(&answer, &err, &der, leaf, issuer, NULL, apr_time_now(), p);
    if (req.data) {
        md_ocsp_check_response(&answer, &err, &der, leaf, issuer, &req, apr_time_now(), p);
    }
    md_json_writep(md_ocsp_resp_to_json(&der, &answer, p), p, MD_JSON_FMT_COMPACT);
    apr_pool_destroy(p);
    return 0;
}
