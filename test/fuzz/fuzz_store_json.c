/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: the store's JSON loaders. The input is parsed with
 * md_json_readd and, when it is JSON, handed to every from_json function of
 * the store files (md.json, job.json with its result, account.json,
 * order.json, key specs, ocsp-<id>.json); md.json and job.json are written
 * back out as a round trip.
 */
#include "fuzz_common.h"

#include "md.h"
#include "md_json.h"
#include "md_job.h"
#include "md_ocsp.h"
#include "md_result.h"
#include "md_util.h"
#include "md_acme_acct.h"
#include "md_acme_order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    md_json_t *json = NULL;
    md_t *md;
    md_job_t *job;
    md_acme_acct_t *acct = NULL;
    md_acme_order_t *order;
    md_data_t der;

    if (APR_SUCCESS != md_json_readd(&json, p, (const char *)data, size) || !json) {
        goto leave;
    }
    md = md_from_json(json, p);
    if (md) {
        md_json_writep(md_to_json(md, p), p, MD_JSON_FMT_INDENT);
    }
    job = md_job_make(p, NULL, MD_SG_STAGING, "fuzz.example", 0);
    md_job_from_json(job, json, p);
    md_json_writep(md_job_to_json(job, 1, p), p, MD_JSON_FMT_COMPACT);
    md_result_from_json(json, p);
    md_acme_acct_from_json(&acct, json, p);
    if (acct) {
        md_json_writep(md_acme_acct_to_json(acct, p), p, MD_JSON_FMT_COMPACT);
    }
    order = md_acme_order_from_json(json, p);
    if (order) {
        md_json_writep(md_acme_order_to_json(order, p), p, MD_JSON_FMT_COMPACT);
    }
    md_pkeys_spec_from_json(json, p);
    md_pkey_spec_from_json(json, p);
    memset(&der, 0, sizeof(der));
    md_ocsp_resp_from_json(&der, json, p);
leave:
    apr_pool_destroy(p);
    return 0;
}
