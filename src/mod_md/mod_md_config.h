/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Configuration: directive table, server config create/merge.
 * (placeholder, to be designed by the config implementation)
 */
#ifndef mod_md_config_h
#define mod_md_config_h

#include <httpd.h>
#include <http_config.h>

extern const command_rec md_cmds[];
void *md_config_create_svr(apr_pool_t *pool, server_rec *s);
void *md_config_merge_svr(apr_pool_t *pool, void *basev, void *addv);

#endif /* mod_md_config_h */
