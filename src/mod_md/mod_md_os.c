/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unix specifics: ownership of the directories the children write, and the
 * graceful restart signal.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <apr_strings.h>
#include <httpd.h>
#include <unixd.h>

#include "mod_md_os.h"

int md_os_is_root(void)
{
    return 0 == geteuid();
}

apr_status_t md_os_chown_to_user(const char *path, apr_pool_t *p)
{
    (void)p;
    if (!md_os_is_root() || (uid_t)-1 == ap_unixd_config.user_id) return APR_SUCCESS;
    if (0 != chown(path, ap_unixd_config.user_id, (gid_t)-1)) {
        return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

apr_status_t md_os_graceful(apr_pool_t *p)
{
    (void)p;
    if (0 != kill(getppid(), SIGUSR1)) return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}
