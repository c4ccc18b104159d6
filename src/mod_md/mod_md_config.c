/* placeholder */
#include "mod_md_config.h"

const command_rec md_cmds[] = {
    { NULL },
};

void *md_config_create_svr(apr_pool_t *pool, server_rec *s)
{
    (void)s;
    return apr_pcalloc(pool, 1);
}

void *md_config_merge_svr(apr_pool_t *pool, void *basev, void *addv)
{
    (void)pool; (void)basev;
    return addv;
}
