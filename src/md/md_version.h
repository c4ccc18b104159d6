/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The version of mod_md, as reported in the log (AH10071), md-status and the
 * ACME User-Agent.
 */
#ifndef md_version_h
#define md_version_h

#define MOD_MD_VERSION "2.7.0"
#define MOD_MD_VERSION_NUM 0x020700

#endif /* md_version_h */
