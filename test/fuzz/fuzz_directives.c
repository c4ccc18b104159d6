/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Fuzz target: the pure parsers behind directive values, md_duration_parse
 * (MDRenewWindow, MDRetryDelay... with "d"/"ms" default units),
 * md_timeslice_parse, md_util_abs_uri_check (MDCertificateAuthority...) and
 * md_dns_is_name (MDomain names) on the same string; the first byte picks
 * the flags and the norm of the time slice.
 */
#include "fuzz_common.h"

#include "md_time.h"
#include "md_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s, *err = NULL;
    apr_interval_time_t t;
    md_timeslice_t *ts = NULL;
    apr_interval_time_t norm;
    uint8_t sel;

    if (size < 1) return 0;
    p = fuzz_pool();
    sel = data[0];
    s = fuzz_str(data + 1, size - 1, p);
    norm = (sel & 0x08) ? 0 : apr_time_from_sec(90 * 86400);

    md_duration_parse(&t, s, (sel & 0x01) ? "d" : "ms");
    md_duration_parse(&t, s, NULL);
    if (NULL == md_timeslice_parse(&ts, p, s, norm) && ts) {
        md_timeslice_format(ts, p);
    }
    md_util_abs_uri_check(p, s, &err);
    md_dns_is_name(s, sel & 0x02, sel & 0x04);
    apr_pool_destroy(p);
    return 0;
}
