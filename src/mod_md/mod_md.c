/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * mod_md: ACME certificate management for httpd. This file holds only the
 * module record and the registration of hooks; each topic lives in its own
 * mod_md_<topic>.c.
 */
#include <httpd.h>
#include <http_config.h>

#include "mod_md.h"
#include "mod_md_config.h"
#include "mod_md_init.h"
#include "mod_md_certs.h"
#include "mod_md_challenge.h"
#include "mod_md_status.h"
#include "mod_md_drive.h"
#include "mod_md_ocsp.h"
#include "mod_md_metrics.h"
#include "mod_md_live.h"
#include "mod_md_db.h"

static void md_register_hooks(apr_pool_t *pool)
{
    md_config_register_hooks(pool);
    md_init_register_hooks(pool);
    md_certs_register_hooks(pool);
    md_challenge_register_hooks(pool);
    md_status_register_hooks(pool);
    md_drive_register_hooks(pool);
    md_ocsp_register_hooks(pool);
    md_metrics_register_hooks(pool);
    md_live_register_hooks(pool);
    md_db_register_hooks(pool);
}

AP_DECLARE_MODULE(md) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config creator */
    NULL,                       /* dir config merger */
    md_config_create_svr,       /* server config creator */
    md_config_merge_svr,        /* server config merger */
    md_cmds,                    /* command table */
    md_register_hooks,
#if defined(AP_MODULE_FLAG_NONE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
