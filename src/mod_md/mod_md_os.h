/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Operating system specifics of the module: handing store directories to
 * the child processes' user, and asking the parent for a graceful restart.
 */
#ifndef mod_md_os_h
#define mod_md_os_h

#include <apr_pools.h>
#include <apr_file_info.h>
#include <apr_user.h>

/* chown path to the configured User (uid only) when running as root.
 * APR_SUCCESS when not root (nothing to do). Done on the opened path
 * without following a link (ELOOP); a regular file with more than one hard
 * link is refused (APR_EINVAL). */
apr_status_t md_os_chown_to_user(const char *path, apr_pool_t *p);

/* A directory or regular file met by md_os_walk, open (O_NOFOLLOW) for the
 * time of the callback. */
typedef struct md_os_entry_t md_os_entry_t;
/* name: the entry's name in its directory. */
typedef void md_os_walk_cb(void *baton, const md_os_entry_t *e, const char *name);
/* Walks the directories and regular files below dir, down to max_depth
 * (0: dir's entries only), opening each relative to its parent without
 * following a link: links, FIFOs, sockets and devices are skipped, and the
 * walk never leaves dir. */
apr_status_t md_os_walk(const char *dir, int max_depth, md_os_walk_cb *cb, void *baton);
int md_os_entry_is_dir(const md_os_entry_t *e);
/* The entry's mode as APR permission bits. */
apr_fileperms_t md_os_entry_perms(const md_os_entry_t *e);
/* fchown to User when root and not User's yet (regular files only with one
 * link); 1 if the owner was changed. */
int md_os_entry_chown_to_user(const md_os_entry_t *e);
/* fchmod (APR permission bits; not for files with more than one link);
 * 1 if done. */
int md_os_entry_perms_set(const md_os_entry_t *e, apr_fileperms_t perms);

/* 1 if the child processes (User, Group) can read the regular file. */
int md_os_entry_child_reads(const md_os_entry_t *e);
/* Makes the regular file (one link only) 0640 with Group as its group, for
 * the child to read and nobody else; 1 if done. */
int md_os_entry_share_with_group(const md_os_entry_t *e);
/* The rwx bits (4, 2, 1) of need that the child processes lack on path:
 * User and Group when the parent is root, else this process' user (the
 * child's). A link is followed with follow, else not checked (0). -1 when
 * path cannot be stat'ed. *pdesc: "owner UID:GID, mode 0NNN"; *powned: 1
 * when path belongs to the child's user. */
int md_os_child_lacks(const char *path, int need, int follow, const char **pdesc,
                      int *powned, apr_pool_t *p);
/* The names of the child processes' user and group (User, Group; the number
 * when unnamed), for commands an administrator can run. */
const char *md_os_child_user_name(apr_pool_t *p);
const char *md_os_child_group_name(apr_pool_t *p);
/* The child processes' group when root (files the parent writes for them
 * get it), else (apr_gid_t)-1. */
apr_gid_t md_os_child_group(void);
/* fchown to group gid (owner unchanged) when the entry's group differs (not
 * for files with more than one link); 1 if the group was changed. */
int md_os_entry_group_set(const md_os_entry_t *e, apr_gid_t gid);
/* The entry's group id. */
apr_gid_t md_os_entry_gid(const md_os_entry_t *e);

/* 1 if the process runs as root. */
int md_os_is_root(void);

/* Asks the parent process for a graceful restart (SIGUSR1 to the parent). */
apr_status_t md_os_graceful(apr_pool_t *p);

#endif /* mod_md_os_h */
