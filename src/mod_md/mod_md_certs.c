/* placeholder */
#include "mod_md_certs.h"

void md_certs_register_hooks(apr_pool_t *pool)
{
    (void)pool;
}
