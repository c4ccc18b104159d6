/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: ACME Renewal Information (RFC 9773). The input is a
 * renewalInfo document as a CA sends it, or one entry of ari.json as the
 * store keeps it: md_acme_ari_parse (RFC 3339 window, explanationURL), the
 * window drawn from (md_ari_update), the JSON round trip of the entry, and
 * the whole input as an RFC 3339 timestamp. fuzz-seconds-max: 8
 */
#include "fuzz_common.h"

#include "md.h"
#include "md_acme.h"
#include "md_ari.h"
#include "md_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *text = fuzz_str(data, size, p);
    apr_time_t now = apr_time_from_sec(1780000000);
    md_acme_ari_t fetched;
    md_ari_t *ari;
    md_json_t *json;

    md_acme_parse_rfc3339(text);
    if (APR_SUCCESS == md_json_readd(&json, p, text, strlen(text))) {
        memset(&fetched, 0, sizeof(fetched));
        if (APR_SUCCESS == md_acme_ari_parse(&fetched, json, p)) {
            if (fetched.start >= fetched.end) {
                abort();
            }
            fetched.retry_after = apr_time_from_sec(size);
            ari = apr_pcalloc(p, sizeof(*ari));
            ari->cert_id = "fuzz.id";
            md_ari_update(ari, &fetched, now, size * 2654435761u);
            if (ari->renew_at && (ari->renew_at < fetched.start
                                  || ari->renew_at > fetched.end)) {
                abort();
            }
            md_json_writep(md_ari_to_json(ari, p), p, MD_JSON_FMT_COMPACT);
        }
        ari = md_ari_from_json(json, p);
        if (ari) {
            md_json_writep(md_ari_to_json(ari, p), p, MD_JSON_FMT_COMPACT);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
