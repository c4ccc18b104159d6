/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * A watchdog task that reschedules itself: a named mod_watchdog instance
 * (one thread in one child) whose callback runs the task, then waits as
 * long as the task asks, at least a second. The renewals ("_md_renew_",
 * mod_md_drive.c) and the OCSP stapling ("_md_ocsp_", mod_md_ocsp.c) are
 * such tasks. The tasks log their own start, runs and failures; the
 * helper logs the wait after each run.
 */
#ifndef mod_md_watchdog_h
#define mod_md_watchdog_h

#include <apr_pools.h>
#include <apr_time.h>
#include <httpd.h>

typedef struct md_watchdog_task_t md_watchdog_task_t;

/* One turn of a task; *pwait: the time until the next turn.
 * APR_SUCCESS (or an error): the task ran; it waits at least a second and
 * the wait is logged. APR_EAGAIN: the task only waited (a start-up delay,
 * a store not yet writable): *pwait stands as given, nothing is logged. */
typedef apr_status_t md_watchdog_run_fn(void *baton, apr_interval_time_t *pwait,
                                        apr_pool_t *ptemp);

/* The watchdog thread starts (starting = 1) or stops (0). */
typedef void md_watchdog_state_fn(void *baton, int starting);

typedef struct {
    const char *name;               /* the mod_watchdog instance */
    /* the debug line after each run, with its AH number, followed by the
     * wait, e.g. APLOGNO(nnnnn) "next run in " */
    const char *next_msg;
    md_watchdog_run_fn *run;
    md_watchdog_state_fn *state;    /* may be NULL */
} md_watchdog_task_def_t;

/* 1 when mod_watchdog's functions are there (looked up at each call, from
 * post_config: mod_watchdog registers them when it is loaded). */
int md_watchdog_available(void);

/* The task of def with baton (both must live as long as p), its watchdog
 * instance created from p. Only after md_watchdog_available(). */
apr_status_t md_watchdog_task_create(md_watchdog_task_t **ptask,
                                     const md_watchdog_task_def_t *def, void *baton,
                                     server_rec *s, apr_pool_t *p);

/* Registers the task with its watchdog: its thread runs it from now on. */
apr_status_t md_watchdog_task_start(md_watchdog_task_t *task);

#endif /* mod_md_watchdog_h */
