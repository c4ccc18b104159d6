/* placeholder */
#include "mod_md_challenge.h"

void md_challenge_register_hooks(apr_pool_t *pool)
{
    (void)pool;
}
