/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * A watchdog task that reschedules itself (mod_md_watchdog.h): one
 * mod_watchdog callback for every task, which turns the watchdog's states
 * into the task's run and state functions and sets the next interval.
 */
#include <apr_optional.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <mod_watchdog.h>

#include "md_time.h"
#include "mod_md_watchdog.h"

APLOG_USE_MODULE(md);

/* the shortest wait after a run: a task that asks for none (its next run
 * is due already) does not keep the thread busy */
#define MD_WATCHDOG_MIN_WAIT    apr_time_from_sec(1)

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register_callback;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_set_callback_interval) *wd_set_interval;

struct md_watchdog_task_t {
    const md_watchdog_task_def_t *def;
    void *baton;
    server_rec *s;
    ap_watchdog_t *watchdog;
};

int md_watchdog_available(void)
{
    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    wd_set_interval = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_set_callback_interval);
    return wd_get_instance && wd_register_callback && wd_set_interval;
}

static apr_status_t task_callback(int state, void *baton, apr_pool_t *ptemp)
{
    md_watchdog_task_t *task = baton;
    const md_watchdog_task_def_t *def = task->def;
    apr_interval_time_t wait = 0;

    switch (state) {
        case AP_WATCHDOG_STATE_STARTING:
        case AP_WATCHDOG_STATE_STOPPING:
            if (def->state) {
                def->state(task->baton, AP_WATCHDOG_STATE_STARTING == state);
            }
            break;
        case AP_WATCHDOG_STATE_RUNNING:
            if (APR_EAGAIN != def->run(task->baton, &wait, ptemp)) {
                if (wait < MD_WATCHDOG_MIN_WAIT) {
                    wait = MD_WATCHDOG_MIN_WAIT;
                }
                /* the AH number is the start of next_msg */
                ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, task->s, "%s%s", def->next_msg,
                             md_duration_print(ptemp, wait));
            }
            wd_set_interval(task->watchdog, wait, task, task_callback);
            break;
    }
    return APR_SUCCESS;
}

apr_status_t md_watchdog_task_create(md_watchdog_task_t **ptask,
                                     const md_watchdog_task_def_t *def, void *baton,
                                     server_rec *s, apr_pool_t *p)
{
    md_watchdog_task_t *task = apr_pcalloc(p, sizeof(*task));
    apr_status_t rv;

    task->def = def;
    task->baton = baton;
    task->s = s;
    /* a singleton in one child process, not one per child */
    rv = wd_get_instance(&task->watchdog, def->name, 0, 1, p);
    *ptask = (APR_SUCCESS == rv) ? task : NULL;
    return rv;
}

apr_status_t md_watchdog_task_start(md_watchdog_task_t *task)
{
    return wd_register_callback(task->watchdog, 0, task, task_callback);
}
