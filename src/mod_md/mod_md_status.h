/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Hooks of mod_md_status.c.
 */
#ifndef mod_md_status_h
#define mod_md_status_h

#include <apr_pools.h>

void md_status_register_hooks(apr_pool_t *pool);

#endif /* mod_md_status_h */
