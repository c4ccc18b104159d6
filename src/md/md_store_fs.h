/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Facts of the file system store behind md_store.h (contract.md 1): the
 * store version, its own file names and the modes each group uses. The
 * store itself is opened with md_store_fs_open() declared in md_store.h.
 */
#ifndef md_store_fs_h
#define md_store_fs_h

#include <apr_file_info.h>

#include "md_store.h"

/* The store version this code writes; older stores are migrated. */
#define MD_STORE_VERSION        3

#define MD_FN_STORE_JSON        "md_store.json"
#define MD_FN_STORE_LOCK        "store.lock"

/* Length of the raw store key (base64url: 64 characters, no padding). */
#define MD_STORE_KEY_LEN        48

/* Modes as apr_fileperms_t. Careful: APR permission bits are hex
 * (APR_FPROT_UREAD == 0x0400), so "0600" must be written 0x0600. */
#define MD_FPROT_F_UONLY        (APR_FPROT_UREAD | APR_FPROT_UWRITE)            /* 0600 */
#define MD_FPROT_F_UALL_WREAD   (MD_FPROT_F_UONLY | APR_FPROT_GREAD \
                                 | APR_FPROT_WREAD)                              /* 0644 */
#define MD_FPROT_F_UALL_GREAD   (MD_FPROT_F_UONLY | APR_FPROT_GREAD)            /* 0640 */
#define MD_FPROT_D_UONLY        (MD_FPROT_F_UONLY | APR_FPROT_UEXECUTE)         /* 0700 */
#define MD_FPROT_D_UALL_GREAD   (MD_FPROT_D_UONLY | APR_FPROT_GREAD \
                                 | APR_FPROT_GEXECUTE)                           /* 0750 */
#define MD_FPROT_D_UALL_WREAD   (MD_FPROT_D_UONLY | APR_FPROT_GREAD \
                                 | APR_FPROT_GEXECUTE | APR_FPROT_WREAD \
                                 | APR_FPROT_WEXECUTE)                           /* 0755 */

/* Mode of the store directory when the store creates it, of md_store.json,
 * of the lock file, and of unencrypted private keys in any group. */
#define MD_STORE_DIR_PERMS      MD_FPROT_D_UALL_WREAD
#define MD_STORE_FILE_PERMS     MD_FPROT_F_UONLY
#define MD_STORE_LOCK_PERMS     MD_FPROT_F_UALL_GREAD
/* Per-name lock files <group>/<name>.lock (md_store_lock_name). */
#define MD_STORE_NAME_LOCK_PERMS MD_FPROT_F_UALL_GREAD
#define MD_STORE_LOCK_SUFFIX    ".lock"
#define MD_STORE_PLAIN_KEY_PERMS MD_FPROT_F_UONLY

/* A store at path for reading what needs no key (domains/, md.json, job.json)
 * when md_store_fs_open failed: nothing is checked or created, every change
 * (save, remove, purge, move, rename, make_dir, locks) is APR_EACCES and
 * encrypted keys do not load. Used to keep serving certificates with a broken
 * store. Never fails. */
apr_status_t md_store_fs_open_readonly(md_store_t **pstore, apr_pool_t *p,
                                       const char *path);
/* 1 if store was opened by md_store_fs_open_readonly. */
int md_store_fs_is_readonly(const md_store_t *store);

/* The modes of directories and files of a group (contract.md 1.7):
 * domains, archive, tmp and the top level 0700/0600; accounts, staging,
 * challenges and ocsp 0755/0644. */
void md_store_fs_group_perms(md_store_group_t group, apr_fileperms_t *pdir_perms,
                             apr_fileperms_t *pfile_perms);

/* 1 for the groups the child processes (User) write: challenges, staging,
 * ocsp. The parent follows no link in them (docs/security.md). */
int md_store_fs_child_writes(md_store_group_t group);

/* The group's directory is dir instead of <store>/<group> (NULL: back to
 * that), e.g. a temporary store of a2md that writes its challenges where
 * the running server answers them. No link is involved: links are not
 * followed where the child writes. */
void md_store_fs_set_group_dir(md_store_t *store, md_store_group_t group, const char *dir);

/* 1 if private keys saved in the group are encrypted with the store key
 * (accounts, staging, archive, ocsp and the top level), 0 for domains,
 * challenges and tmp. */
int md_store_fs_group_encrypts(md_store_group_t group);

#endif /* md_store_fs_h */
