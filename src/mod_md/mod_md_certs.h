/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Hooks of mod_md_certs.c.
 */
#ifndef mod_md_certs_h
#define mod_md_certs_h

#include <apr_pools.h>

void md_certs_register_hooks(apr_pool_t *pool);

#endif /* mod_md_certs_h */
