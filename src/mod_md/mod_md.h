/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The module record, shared by the module's files.
 */
#ifndef mod_md_mod_md_h
#define mod_md_mod_md_h

#include <httpd.h>
#include <http_config.h>

extern module AP_MODULE_DECLARE_DATA md_module;

#endif /* mod_md_mod_md_h */
