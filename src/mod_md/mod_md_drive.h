/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Hooks of mod_md_drive.c.
 */
#ifndef mod_md_drive_h
#define mod_md_drive_h

#include <apr_pools.h>

struct md_json_t;

void md_drive_register_hooks(apr_pool_t *pool);

/* The job.json state of the MD that the renewal watchdog of this process
 * could not save (a copy in p), NULL when there is none (or the watchdog
 * runs in another process). md-status shows it instead of the file. */
struct md_json_t *md_drive_unsaved_job(const char *name, apr_pool_t *p);
/* Changes whenever the renewal job of MD name that could not be saved
 * changes (in any process); 0 when there is none to share. */
apr_uint32_t md_drive_unsaved_version(const char *name);

#endif /* mod_md_drive_h */
