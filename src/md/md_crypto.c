/* placeholder until implemented */
#include "md_crypto.h"
apr_status_t md_crypt_init(apr_pool_t *pool) { (void)pool; return APR_SUCCESS; }
