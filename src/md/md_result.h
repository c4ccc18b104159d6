/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The result of a long operation (a renewal, an OCSP refresh, a command):
 * status, ACME problem type, detail, current activity and subproblems.
 * md-status, job.json ("last"), events and the log all report from it.
 */
#ifndef md_result_h
#define md_result_h

#include <apr_pools.h>
#include <apr_time.h>

#include "md_log.h"

struct md_json_t;
struct md_t;

typedef struct md_result_t md_result_t;

/* Called whenever the result changes (for progress log entries). */
typedef void md_result_change_cb(md_result_t *result, void *baton);

struct md_result_t {
    apr_pool_t *p;
    const char *md_name;
    apr_status_t status;
    const char *problem;            /* ACME problem type, whitespace removed */
    const char *detail;
    struct md_json_t *subproblems;
    const char *activity;
    apr_time_t activity_since;      /* when the activity began (set by a job), 0 */
    apr_time_t ready_at;            /* "valid-from" */
    md_result_change_cb *on_change;
    void *on_change_data;
};

/* A result with status APR_EAGAIN ("not yet run"), for the MD of the name
 * (may be NULL). */
md_result_t *md_result_make(apr_pool_t *p, apr_status_t status);
md_result_t *md_result_md_make(apr_pool_t *p, const char *md_name);
void md_result_reset(md_result_t *result);

void md_result_activity_set(md_result_t *result, const char *activity);
void md_result_activity_setn(md_result_t *result, const char *activity);
void md_result_activity_printf(md_result_t *result, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void md_result_set(md_result_t *result, apr_status_t status, const char *detail);
void md_result_problem_set(md_result_t *result, apr_status_t status,
                           const char *problem, const char *detail,
                           const struct md_json_t *subproblems);
void md_result_problem_printf(md_result_t *result, apr_status_t status,
                              const char *problem, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void md_result_printf(md_result_t *result, apr_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void md_result_delay_set(md_result_t *result, apr_time_t ready_at);
/* Tells the observer that the operation goes on without a change (a poll
 * round): progress it held back is saved now. */
void md_result_touch(md_result_t *result);
/* Copies status, problem, detail, activity (and since), subproblems and
 * ready_at. */
void md_result_assign(md_result_t *dest, const md_result_t *src);
/* Copies the outcome of src unless src succeeded. */
void md_result_dup(md_result_t *dest, const md_result_t *src);

/* JSON "last" member form (contract.md 2.3) and back. */
struct md_json_t *md_result_to_json(const md_result_t *result, apr_pool_t *p);
md_result_t *md_result_from_json(const struct md_json_t *json, apr_pool_t *p);

/* "md[<name>][ while[<activity>]][ problem[<p>]][ detail[<d>]][ subproblems[..]]" */
const char *md_result_log_text(const md_result_t *result, apr_pool_t *p);
/* Logs the text above at level with the result's status. */
void md_result_log(md_result_t *result, md_log_level_t level);

void md_result_on_change(md_result_t *result, md_result_change_cb *cb, void *data);

#endif /* md_result_h */
