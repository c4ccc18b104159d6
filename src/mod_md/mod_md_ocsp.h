/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Stapling in the module: mod_ssl's ssl_ocsp_prime / ssl_ocsp_get_resp
 * hooks, the "_md_ocsp_" watchdog that refreshes responses, and the
 * "Managed Staplings" part of server-status.
 */
#ifndef mod_md_ocsp_h
#define mod_md_ocsp_h

#include <apr_pools.h>
#include <httpd.h>

/** Registers the stapling hooks. */
void md_ocsp_register_hooks(apr_pool_t *pool);

#endif /* mod_md_ocsp_h */
