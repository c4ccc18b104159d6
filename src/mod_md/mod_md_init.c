/* placeholder */
#include "mod_md_init.h"

void md_init_register_hooks(apr_pool_t *pool)
{
    (void)pool;
}
