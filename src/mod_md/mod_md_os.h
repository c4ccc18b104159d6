/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Operating system specifics of the module: handing store directories to
 * the child processes' user, and asking the parent for a graceful restart.
 */
#ifndef mod_md_os_h
#define mod_md_os_h

#include <apr_pools.h>

/* chown path to the configured User (uid only) when running as root.
 * APR_SUCCESS when not root (nothing to do). */
apr_status_t md_os_chown_to_user(const char *path, apr_pool_t *p);

/* 1 if the process runs as root. */
int md_os_is_root(void);

/* Asks the parent process for a graceful restart (SIGUSR1 to the parent). */
apr_status_t md_os_graceful(apr_pool_t *p);

#endif /* mod_md_os_h */
