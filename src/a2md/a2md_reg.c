/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md registry commands: add, list, update and drive.
 */
#include "a2md.h"

static apr_status_t todo_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    (void)ctx; (void)cmd;
    return APR_ENOTIMPL;
}

const a2md_cmd_t a2md_add_cmd = { "add", A2MD_NEED_STORE, NULL, todo_do, NULL, NULL,
    "add [opts] domain [domain...]",
    "Adds a new managed domain. Must not overlap with existing domains." };
const a2md_cmd_t a2md_update_cmd = { "update", A2MD_NEED_STORE, NULL, todo_do, NULL, NULL,
    "update name [ 'aspect' args ]",
    "update a managed domain's properties, where 'aspect' is one of: 'domains', 'ca', 'account', 'contacts' or 'agreement'" };
const a2md_cmd_t a2md_drive_cmd = { "drive", A2MD_NEED_STORE, NULL, todo_do, NULL, NULL,
    "drive [md...]",
    "drive all or the mentioned managed domains toward completeness" };
const a2md_cmd_t a2md_list_cmd = { "list", A2MD_NEED_STORE, NULL, todo_do, NULL, NULL,
    "list",
    "list all managed domains" };
