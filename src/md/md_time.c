/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Durations, timeslices and periods: parsing, the written form used in
 * md.json and the log, the human forms used in status pages, and the
 * computation of renew/warn windows from a certificate's validity.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_date.h>

#include "md_time.h"

#define MD_MSEC_USEC            APR_INT64_C(1000)
#define MD_SEC_USEC             APR_INT64_C(1000000)
#define MD_MIN_USEC             (60 * MD_SEC_USEC)
#define MD_HOUR_USEC            (60 * MD_MIN_USEC)
#define MD_DAY_USEC             (24 * MD_HOUR_USEC)

/* Microseconds per unit for a unit text, 0 if unknown. Only the first
 * character(s) count: "d", "h", "s", "mi", "ms". */
static apr_int64_t unit_factor(const char *unit)
{
    switch (apr_tolower(unit[0])) {
        case 'd': return MD_DAY_USEC;
        case 'h': return MD_HOUR_USEC;
        case 's': return MD_SEC_USEC;
        case 'm':
            switch (apr_tolower(unit[1])) {
                case 'i': return MD_MIN_USEC;
                case 's': return MD_MSEC_USEC;
                default: return 0;
            }
        default: return 0;
    }
}

apr_status_t md_duration_parse(apr_interval_time_t *ptimeout, const char *value,
                               const char *def_unit)
{
    apr_int64_t n, factor;
    char *endp;

    *ptimeout = 0;
    if (!value || !*value) return APR_EINVAL;
    /* a number must follow the optional sign directly */
    if (!apr_isdigit(value[0])
        && !((value[0] == '-' || value[0] == '+') && apr_isdigit(value[1]))) {
        return APR_EINVAL;
    }
    errno = 0;
    n = apr_strtoi64(value, &endp, 10);
    if (errno) return APR_EINVAL;
    factor = unit_factor(*endp? endp : (def_unit? def_unit : "s"));
    if (!factor) return APR_EINVAL;
    if (n > APR_INT64_MAX / factor || n < -(APR_INT64_MAX / factor)) {
        return APR_ERANGE;      /* well-formed, but beyond 64-bit microseconds */
    }
    *ptimeout = n * factor;
    return APR_SUCCESS;
}

const char *md_duration_format(apr_pool_t *p, apr_interval_time_t duration)
{
    if (duration % MD_DAY_USEC == 0) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "d", duration / MD_DAY_USEC);
    }
    if (duration % MD_HOUR_USEC == 0) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "h", duration / MD_HOUR_USEC);
    }
    if (duration % MD_MIN_USEC == 0) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "mi", duration / MD_MIN_USEC);
    }
    if (duration % MD_SEC_USEC == 0) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "s", duration / MD_SEC_USEC);
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT "ms", duration / MD_MSEC_USEC);
}

/* The parts of a non-negative duration. */
typedef struct {
    apr_int64_t days, hours, minutes, seconds, msecs;
} duration_parts_t;

static duration_parts_t duration_split(apr_interval_time_t d)
{
    duration_parts_t parts;

    parts.days = d / MD_DAY_USEC;
    parts.hours = (d % MD_DAY_USEC) / MD_HOUR_USEC;
    parts.minutes = (d % MD_HOUR_USEC) / MD_MIN_USEC;
    parts.seconds = (d % MD_MIN_USEC) / MD_SEC_USEC;
    parts.msecs = (d % MD_SEC_USEC) / MD_MSEC_USEC;
    return parts;
}

static const char *append_part(apr_pool_t *p, const char *s, apr_int64_t n,
                               const char *unit)
{
    if (n <= 0) return s;
    return apr_psprintf(p, "%s%s%" APR_INT64_T_FMT " %s", s, *s? " " : "", n, unit);
}

const char *md_duration_print(apr_pool_t *p, apr_interval_time_t duration)
{
    duration_parts_t parts;
    const char *s = "";

    if (duration < 0) {
        /* avoid overflow on negation of the minimum */
        if (duration == APR_INT64_MIN) {
            duration += 1;
        }
        return apr_pstrcat(p, "-", md_duration_print(p, -duration), NULL);
    }
    parts = duration_split(duration);
    s = append_part(p, s, parts.days, "days");
    s = append_part(p, s, parts.hours, "hours");
    s = append_part(p, s, parts.minutes, "minutes");
    s = append_part(p, s, parts.seconds, "seconds");
    if (!*s) {
        s = duration? apr_psprintf(p, "%" APR_INT64_T_FMT " ms", parts.msecs)
                    : "0 seconds";
    }
    return s;
}

const char *md_duration_roughly(apr_pool_t *p, apr_interval_time_t duration)
{
    duration_parts_t parts;

    if (duration < 0) {
        if (duration == APR_INT64_MIN) {
            duration += 1;
        }
        duration = -duration;
    }
    parts = duration_split(duration);
    if (parts.days) return apr_psprintf(p, "~%" APR_INT64_T_FMT " days", parts.days);
    if (parts.hours) return apr_psprintf(p, "~%" APR_INT64_T_FMT " hours", parts.hours);
    if (parts.minutes) {
        return apr_psprintf(p, "~%" APR_INT64_T_FMT " minutes", parts.minutes);
    }
    if (parts.seconds) {
        return apr_psprintf(p, "~%" APR_INT64_T_FMT " seconds", parts.seconds);
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT " ms", parts.msecs);  /* no "~" (as the original) */
}

/* --- timeslices -------------------------------------------------------------- */

md_timeslice_t *md_timeslice_make(apr_pool_t *p, apr_interval_time_t norm,
                                  apr_interval_time_t len)
{
    md_timeslice_t *ts = apr_pcalloc(p, sizeof(*ts));

    ts->norm = norm;
    ts->len = len;
    return ts;
}

/* "<digits>%" with an optional sign: APR_SUCCESS, APR_EINVAL when it is not
 * a percentage at all, APR_BADARG when it is negative. */
static apr_status_t percentage_parse(const char *value, apr_int64_t *ppercent)
{
    apr_int64_t n;
    char *endp;

    if (!apr_isdigit(value[0])
        && !((value[0] == '-' || value[0] == '+') && apr_isdigit(value[1]))) {
        return APR_EINVAL;
    }
    errno = 0;
    n = apr_strtoi64(value, &endp, 10);
    if (errno || endp[0] != '%' || endp[1]) return APR_EINVAL;
    if (n < 0) return APR_BADARG;
    *ppercent = n;
    return APR_SUCCESS;
}

const char *md_timeslice_parse(md_timeslice_t **pts, apr_pool_t *p,
                               const char *value, apr_interval_time_t norm)
{
    apr_interval_time_t len;
    apr_int64_t percent = 0;
    apr_status_t rv;

    *pts = NULL;
    if (!value) return "has unrecognized format";
    if (APR_SUCCESS == md_duration_parse(&len, value, "d")) {
        *pts = md_timeslice_make(p, 0, len);
        return NULL;
    }
    rv = percentage_parse(value, &percent);
    if (APR_BADARG == rv) return "percent must be less than 100";
    if (APR_SUCCESS != rv || norm <= 0) return "has unrecognized format";
    if (percent > APR_INT64_MAX / apr_time_sec(norm) / MD_SEC_USEC) {
        /* large enough to be rejected as >= 100% by callers */
        percent = 1000;
    }
    *pts = md_timeslice_make(p, norm,
                             apr_time_from_sec(apr_time_sec(norm) * percent / 100));
    return NULL;
}

const char *md_timeslice_format(const md_timeslice_t *ts, apr_pool_t *p)
{
    if (ts->norm > 0) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "%%", ts->len * 100 / ts->norm);
    }
    return md_duration_format(p, ts->len);
}

int md_timeslice_eq(const md_timeslice_t *ts1, const md_timeslice_t *ts2)
{
    if (ts1 == ts2) return 1;
    if (!ts1 || !ts2) return 0;
    return ts1->norm == ts2->norm && ts1->len == ts2->len;
}

apr_interval_time_t md_timeslice_length(const md_timeslice_t *ts,
                                        apr_interval_time_t lifetime)
{
    apr_int64_t percent, secs;

    if (ts->norm <= 0) return ts->len;
    if (lifetime <= 0) return 0;
    percent = apr_time_sec(ts->len) * 100 / apr_time_sec(ts->norm);
    secs = apr_time_sec(lifetime);
    if (percent > 0 && secs > APR_INT64_MAX / MD_SEC_USEC / percent) {
        return lifetime;
    }
    return apr_time_from_sec(secs * percent / 100);
}

apr_time_t md_timeslice_start(const md_timeslice_t *ts, apr_time_t from,
                              apr_time_t until)
{
    apr_interval_time_t lifetime = (until > from)? until - from : 0;

    return until - md_timeslice_length(ts, lifetime);
}

/* --- periods ------------------------------------------------------------------- */

apr_interval_time_t md_timeperiod_length(const md_timeperiod_t *period)
{
    return (period->end > period->start)? period->end - period->start : 0;
}

int md_timeperiod_contains(const md_timeperiod_t *period, apr_time_t t)
{
    return period->start <= t && t < period->end;
}

md_timeperiod_t md_timeperiod_slice_before_end(const md_timeperiod_t *period,
                                               const md_timeslice_t *ts)
{
    md_timeperiod_t r;

    r.end = period->end;
    r.start = md_timeslice_start(ts, period->start, period->end);
    if (r.start < period->start && ts->norm > 0) {
        r.start = period->start;
    }
    return r;
}

const char *md_timeperiod_print(apr_pool_t *p, const md_timeperiod_t *period)
{
    return apr_pstrcat(p, md_time_rfc822(p, period->start), " - ",
                       md_time_rfc822(p, period->end), NULL);
}

/* --- RFC 822 ---------------------------------------------------------------------- */

const char *md_time_rfc822(apr_pool_t *p, apr_time_t t)
{
    char *buf;

    if (!t) return "";
    buf = apr_pcalloc(p, APR_RFC822_DATE_LEN);
    if (APR_SUCCESS != apr_rfc822_date(buf, t)) return "";
    return buf;
}

apr_time_t md_time_parse_rfc(const char *s)
{
    if (!s || !*s) return 0;
    return apr_date_parse_rfc(s);
}
