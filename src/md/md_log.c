/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Forwards core log messages to the sink installed by the host process.
 */
#include "md_log.h"
#include "md_util.h"

static const char *level_names[] = {
    "emergency", "alert", "crit", "err", "warning", "notice", "info", "debug",
    "trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7",
    "trace8",
};

static md_log_level_cb *log_level_cb;
static md_log_print_cb *log_print_cb;
static void *log_baton;

const char *md_log_level_name(md_log_level_t level)
{
    if ((int)level >= 0
        && (size_t)level < MD_ARRAY_LEN(level_names)) {
        return level_names[level];
    }
    return "unknown";
}

void md_log_set(md_log_level_cb *level_cb, md_log_print_cb *print_cb, void *baton)
{
    log_level_cb = level_cb;
    log_print_cb = print_cb;
    log_baton = baton;
}

int md_log_is_level(apr_pool_t *p, md_log_level_t level)
{
    (void)p;
    return log_level_cb && log_level_cb(log_baton, level);
}

void md_log_perror(const char *file, int line, md_log_level_t level,
                   apr_status_t rv, apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;

    if (!log_print_cb || !md_log_is_level(p, level)) return;
    va_start(ap, fmt);
    log_print_cb(file, line, level, rv, log_baton, p, fmt, ap);
    va_end(ap);
}
