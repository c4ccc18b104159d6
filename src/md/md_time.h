/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Time values as the configuration and the status outputs know them:
 * durations ("30d", "12h", "90mi"), timeslices (renew/warn windows,
 * "33%" or a duration), their written and human readable forms, time
 * periods (certificate validity) and RFC 822 dates. Pure functions only.
 */
#ifndef md_time_h
#define md_time_h

#include <apr_pools.h>
#include <apr_time.h>

#include "md.h"

#define MD_SECS_PER_HOUR        (60 * 60)
#define MD_SECS_PER_DAY         (24 * MD_SECS_PER_HOUR)

/* The norm a percentage refers to: 100 days for certificate lifetimes,
 * 7 days for MDStaplingKeepResponse. */
#define MD_TIME_LIFE_NORM       (apr_time_from_sec(100 * MD_SECS_PER_DAY))
#define MD_TIME_OCSP_KEEP_NORM  (apr_time_from_sec(7 * MD_SECS_PER_DAY))

/* --- durations ------------------------------------------------------------ */

/**
 * Parse a duration: optional sign, decimal integer, optional unit. The unit
 * is recognised by its first character(s), case-insensitive: "d" days,
 * "h" hours, "s" seconds, "mi" minutes, "ms" milliseconds ("10days" and
 * "3mins" work; "m" alone does not). Without a unit, def_unit applies (same
 * spelling; NULL means seconds).
 * @param ptimeout  receives the duration (set to 0 on error)
 * @return APR_SUCCESS, APR_EINVAL on bad format (a number beyond 64 bits
 *         included), APR_ERANGE when the number times its unit overflows
 */
apr_status_t md_duration_parse(apr_interval_time_t *ptimeout, const char *value,
                               const char *def_unit);

/**
 * The written form of a duration, in the largest exact unit: "<n>d",
 * "<n>h", "<n>mi", "<n>s", else "<n>ms".
 */
const char *md_duration_format(apr_pool_t *p, apr_interval_time_t duration);

/**
 * Human text: "1 days 2 hours 3 minutes 4 seconds" with zero parts omitted,
 * "0 seconds" for zero, "<n> ms" below one second. Negative durations get
 * a leading '-'.
 */
const char *md_duration_print(apr_pool_t *p, apr_interval_time_t duration);

/**
 * The "roughly" form: "~<n> <unit>" with only the largest non-zero unit of
 * days, hours, minutes, seconds ("~3 hours"), "<n> ms" (no "~") below one
 * second.
 * The sign is ignored (callers add "in"/"ago").
 */
const char *md_duration_roughly(apr_pool_t *p, apr_interval_time_t duration);

/* --- timeslices ------------------------------------------------------------ */

/** A timeslice with the given norm (0 = absolute) and length. */
md_timeslice_t *md_timeslice_make(apr_pool_t *p, apr_interval_time_t norm,
                                  apr_interval_time_t len);

/**
 * Parse a timeslice: "<n>%" (integer n >= 0, taken of norm) or a duration
 * with default unit days (then norm is 0 = absolute).
 * @param pts  receives the timeslice, NULL on error
 * @return NULL on success, else an error text meant to follow the
 *         directive name: "has unrecognized format" or
 *         "percent must be less than 100" (negative percentages)
 */
const char *md_timeslice_parse(md_timeslice_t **pts, apr_pool_t *p,
                               const char *value, apr_interval_time_t norm);

/** The written form: "<p>%" for relative, md_duration_format otherwise. */
const char *md_timeslice_format(const md_timeslice_t *ts, apr_pool_t *p);

/** 1 if both are NULL or equal in norm and length. */
int md_timeslice_eq(const md_timeslice_t *ts1, const md_timeslice_t *ts2);

/**
 * The length of the timeslice applied to a lifetime: a percentage is taken
 * of the lifetime in whole seconds (truncated), an absolute length is used
 * as is.
 */
apr_interval_time_t md_timeslice_length(const md_timeslice_t *ts,
                                        apr_interval_time_t lifetime);

/**
 * Start of the window for a certificate valid from..until: until minus the
 * timeslice length. An empty or inverted validity gives a zero lifetime.
 */
apr_time_t md_timeslice_start(const md_timeslice_t *ts, apr_time_t from,
                              apr_time_t until);

/* --- periods ------------------------------------------------------------------ */

typedef struct md_timeperiod_t {
    apr_time_t start;
    apr_time_t end;
} md_timeperiod_t;

/** Length of the period, 0 if it is inverted. */
apr_interval_time_t md_timeperiod_length(const md_timeperiod_t *period);
/** 1 if start <= t < end. */
int md_timeperiod_contains(const md_timeperiod_t *period, apr_time_t t);
/** The part of the period that the timeslice cuts off before its end. */
md_timeperiod_t md_timeperiod_slice_before_end(const md_timeperiod_t *period,
                                               const md_timeslice_t *ts);
/** "<start rfc822> - <end rfc822>". */
const char *md_timeperiod_print(apr_pool_t *p, const md_timeperiod_t *period);

/* --- RFC 822 dates ----------------------------------------------------------- */

/** "Mon, 30 Nov 2026 11:54:24 GMT" (apr_rfc822_date), "" for t == 0. */
const char *md_time_rfc822(apr_pool_t *p, apr_time_t t);
/** Parse RFC 822/1123 and similar forms; 0 if not parseable or NULL. */
apr_time_t md_time_parse_rfc(const char *s);

#endif /* md_time_h */
