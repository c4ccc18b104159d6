/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The core's one logging function. The host (module, a2md, unit tests)
 * installs a sink once per process; without one, nothing is logged.
 */
#ifndef md_log_h
#define md_log_h

#include <stdarg.h>
#include <apr_pools.h>

typedef enum {
    MD_LOG_EMERG,
    MD_LOG_ALERT,
    MD_LOG_CRIT,
    MD_LOG_ERR,
    MD_LOG_WARNING,
    MD_LOG_NOTICE,
    MD_LOG_INFO,
    MD_LOG_DEBUG,
    MD_LOG_TRACE1,
    MD_LOG_TRACE2,
    MD_LOG_TRACE3,
    MD_LOG_TRACE4,
    MD_LOG_TRACE5,
    MD_LOG_TRACE6,
    MD_LOG_TRACE7,
    MD_LOG_TRACE8,
} md_log_level_t;

#define MD_LOG_MARK __FILE__, __LINE__

/* Name of a level: "emergency", "alert", ..., "trace8". */
const char *md_log_level_name(md_log_level_t level);

typedef int md_log_level_cb(void *baton, md_log_level_t level);
typedef void md_log_print_cb(const char *file, int line, md_log_level_t level,
                             apr_status_t rv, void *baton, apr_pool_t *p,
                             const char *fmt, va_list ap);

/* Install the sink (not thread-safe: call once at process start). */
void md_log_set(md_log_level_cb *level_cb, md_log_print_cb *print_cb, void *baton);

/* 1 if messages of the level would be printed. Use it to guard costly
 * formatting. */
int md_log_is_level(apr_pool_t *p, md_log_level_t level);

void md_log_perror(const char *file, int line, md_log_level_t level,
                   apr_status_t rv, apr_pool_t *p, const char *fmt, ...)
                   __attribute__((format(printf, 6, 7)));

#endif /* md_log_h */
