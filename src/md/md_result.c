/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The result object of long operations: setters that notify a change
 * listener, the job.json "last" form (contract.md 2.3) and the result log
 * line "md[..] while[..] problem[..] detail[..] subproblems[..]".
 */
#include <stdarg.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md.h"
#include "md_json.h"
#include "md_log.h"
#include "md_result.h"

#define MD_KEY_STATUS           "status"
#define MD_KEY_STATUS_DESCR     "status-description"
#define MD_KEY_PROBLEM          "problem"
#define MD_KEY_DETAIL           "detail"
#define MD_KEY_ACTIVITY         "activity"
#define MD_KEY_ACTIVITY_SINCE   "activity-since"
#define MD_KEY_VALID_FROM       "valid-from"
#define MD_KEY_SUBPROBLEMS      "subproblems"

static const char *dup_or_null(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

/* ACME problem types are compared and stored without whitespace. */
static const char *problem_strip(apr_pool_t *p, const char *problem)
{
    char *s, *d, *r;

    if (!problem) return NULL;
    r = s = d = apr_pstrdup(p, problem);
    for (; *s; ++s) {
        if (!apr_isspace(*s)) {
            *d++ = *s;
        }
    }
    *d = '\0';
    return r;
}

static void on_change(md_result_t *result)
{
    if (result->on_change) {
        result->on_change(result, result->on_change_data);
    }
}

md_result_t *md_result_make(apr_pool_t *p, apr_status_t status)
{
    md_result_t *result = apr_pcalloc(p, sizeof(*result));

    result->p = p;
    result->status = status;
    return result;
}

md_result_t *md_result_md_make(apr_pool_t *p, const char *md_name)
{
    md_result_t *result = md_result_make(p, APR_EAGAIN);

    result->md_name = md_name;
    return result;
}

void md_result_reset(md_result_t *result)
{
    result->status = APR_SUCCESS;
    result->problem = NULL;
    result->detail = NULL;
    result->subproblems = NULL;
    result->activity = NULL;
    result->ready_at = 0;
    on_change(result);
}

void md_result_activity_set(md_result_t *result, const char *activity)
{
    md_result_activity_setn(result, dup_or_null(result->p, activity));
}

void md_result_activity_setn(md_result_t *result, const char *activity)
{
    result->activity = activity;
    result->problem = NULL;
    result->detail = NULL;
    result->subproblems = NULL;
    on_change(result);
}

void md_result_activity_printf(md_result_t *result, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    md_result_activity_setn(result, apr_pvsprintf(result->p, fmt, ap));
    va_end(ap);
}

void md_result_set(md_result_t *result, apr_status_t status, const char *detail)
{
    result->status = status;
    result->problem = NULL;
    result->detail = dup_or_null(result->p, detail);
    result->subproblems = NULL;
    on_change(result);
}

void md_result_problem_set(md_result_t *result, apr_status_t status,
                           const char *problem, const char *detail,
                           const md_json_t *subproblems)
{
    result->status = status;
    result->problem = problem_strip(result->p, problem);
    result->detail = dup_or_null(result->p, detail);
    result->subproblems = subproblems ? md_json_clone(result->p, subproblems) : NULL;
    on_change(result);
}

void md_result_problem_printf(md_result_t *result, apr_status_t status,
                              const char *problem, const char *fmt, ...)
{
    va_list ap;

    result->status = status;
    result->problem = problem_strip(result->p, problem);
    va_start(ap, fmt);
    result->detail = apr_pvsprintf(result->p, fmt, ap);
    va_end(ap);
    result->subproblems = NULL;
    on_change(result);
}

void md_result_printf(md_result_t *result, apr_status_t status, const char *fmt, ...)
{
    va_list ap;

    result->status = status;
    result->problem = NULL;
    va_start(ap, fmt);
    result->detail = apr_pvsprintf(result->p, fmt, ap);
    va_end(ap);
    result->subproblems = NULL;
    on_change(result);
}

void md_result_delay_set(md_result_t *result, apr_time_t ready_at)
{
    result->ready_at = ready_at;
    on_change(result);
}

void md_result_assign(md_result_t *dest, const md_result_t *src)
{
    dest->status = src->status;
    dest->problem = dup_or_null(dest->p, src->problem);
    dest->detail = dup_or_null(dest->p, src->detail);
    dest->activity = dup_or_null(dest->p, src->activity);
    dest->activity_since = src->activity_since;
    dest->subproblems = src->subproblems ? md_json_clone(dest->p, src->subproblems) : NULL;
    dest->ready_at = src->ready_at;
    on_change(dest);
}

void md_result_touch(md_result_t *result)
{
    on_change(result);
}

void md_result_dup(md_result_t *dest, const md_result_t *src)
{
    if (APR_SUCCESS != src->status) {
        md_result_assign(dest, src);
    }
}

md_json_t *md_result_to_json(const md_result_t *result, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);
    char buffer[256];

    md_json_setl((long)result->status, json, MD_KEY_STATUS, NULL);
    if (result->status > 0) {
        apr_strerror(result->status, buffer, sizeof(buffer));
        md_json_sets(buffer, json, MD_KEY_STATUS_DESCR, NULL);
    }
    md_json_sets_if(result->problem, json, MD_KEY_PROBLEM, NULL);
    md_json_sets_if(result->detail, json, MD_KEY_DETAIL, NULL);
    md_json_sets_if(result->activity, json, MD_KEY_ACTIVITY, NULL);
    if (result->activity && result->activity_since > 0) {
        md_json_set_time(result->activity_since, json, MD_KEY_ACTIVITY_SINCE, NULL);
    }
    if (result->ready_at > 0) {
        md_json_set_time(result->ready_at, json, MD_KEY_VALID_FROM, NULL);
    }
    md_json_setj_if(result->subproblems, json, MD_KEY_SUBPROBLEMS, NULL);
    return json;
}

md_result_t *md_result_from_json(const md_json_t *json, apr_pool_t *p)
{
    md_result_t *result = md_result_make(p, APR_SUCCESS);
    md_json_t *sub;

    result->status = (apr_status_t)md_json_getl(json, MD_KEY_STATUS, NULL);
    result->problem = md_json_dups(p, json, MD_KEY_PROBLEM, NULL);
    result->detail = md_json_dups(p, json, MD_KEY_DETAIL, NULL);
    result->activity = md_json_dups(p, json, MD_KEY_ACTIVITY, NULL);
    result->activity_since = md_json_get_time(json, MD_KEY_ACTIVITY_SINCE, NULL);
    result->ready_at = md_json_get_time(json, MD_KEY_VALID_FROM, NULL);
    sub = md_json_getj(json, MD_KEY_SUBPROBLEMS, NULL);
    result->subproblems = sub ? md_json_clone(p, sub) : NULL;
    return result;
}

const char *md_result_log_text(const md_result_t *result, apr_pool_t *p)
{
    const char *text;

    text = apr_psprintf(p, "md[%s]", result->md_name ? result->md_name : "");
    if (result->activity) {
        text = apr_psprintf(p, "%s while[%s]", text, result->activity);
    }
    if (result->problem) {
        text = apr_psprintf(p, "%s problem[%s]", text, result->problem);
    }
    if (result->detail) {
        text = apr_psprintf(p, "%s detail[%s]", text, result->detail);
    }
    if (result->subproblems) {
        text = apr_psprintf(p, "%s subproblems[%s]", text,
                            md_json_writep(result->subproblems, p, MD_JSON_FMT_COMPACT));
    }
    return text;
}

void md_result_log(md_result_t *result, md_log_level_t level)
{
    if (md_log_is_level(result->p, level)) {
        md_log_perror(MD_LOG_MARK, level, result->status, result->p, "%s",
                      md_result_log_text(result, result->p));
    }
}

void md_result_on_change(md_result_t *result, md_result_change_cb *cb, void *data)
{
    result->on_change = cb;
    result->on_change_data = data;
}
