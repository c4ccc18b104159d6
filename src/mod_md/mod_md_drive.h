/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Hooks of mod_md_drive.c.
 */
#ifndef mod_md_drive_h
#define mod_md_drive_h

#include <apr_pools.h>

void md_drive_register_hooks(apr_pool_t *pool);

#endif /* mod_md_drive_h */
