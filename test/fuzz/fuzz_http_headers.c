/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: response headers as a CA or responder sends them. The input
 * is a header block ("Name: value" lines); it goes into the response's
 * header table and through what reads headers: Retry-After (seconds or an
 * HTTP date, md_http_resp_retry_after), the ARI poll time built on it,
 * Replay-Nonce / Location / Link / Content-Type look-ups, and each value as
 * an RFC 3339 timestamp. fuzz-seconds-max: 8
 */
#include "fuzz_common.h"

#include <apr_tables.h>

#include "md.h"
#include "md_acme.h"
#include "md_ari.h"
#include "md_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *names[] = { "Retry-After", "Replay-Nonce", "Location", "Link",
                                   "Content-Type" };
    apr_pool_t *p = fuzz_pool();
    md_http_response_t resp;
    char *text = apr_pstrmemdup(p, (const char *)data, size), *line, *last, *colon;
    apr_interval_time_t after;
    const char *value;
    size_t i;

    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    resp.headers = apr_table_make(p, 5);
    for (line = apr_strtok(text, "\r\n", &last); line; line = apr_strtok(NULL, "\r\n",
                                                                          &last)) {
        colon = strchr(line, ':');
        if (!colon) {
            continue;
        }
        *colon++ = '\0';
        while (*colon == ' ' || *colon == '\t') ++colon;
        apr_table_add(resp.headers, line, colon);
    }
    after = md_http_resp_retry_after(&resp, apr_time_from_sec(7));
    if (after < 0) {
        abort();
    }
    md_ari_poll_at(apr_time_now(), after);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        value = md_http_resp_header(&resp, names[i]);
        if (value) {
            md_acme_parse_rfc3339(value);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
