/* placeholder */
#include "mod_md_status.h"

void md_status_register_hooks(apr_pool_t *pool)
{
    (void)pool;
}
