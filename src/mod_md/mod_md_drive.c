/* placeholder */
#include "mod_md_drive.h"

void md_drive_register_hooks(apr_pool_t *pool)
{
    (void)pool;
}
