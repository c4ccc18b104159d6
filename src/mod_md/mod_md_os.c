/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unix specifics: ownership of the directories the children write, and the
 * graceful restart signal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>
#include <string.h>
#include <apr_strings.h>
#include <httpd.h>
#include <unixd.h>

#include "md_util.h"
#include "mod_md_os.h"

int md_os_is_root(void)
{
    return 0 == geteuid();
}

/* fchown of an open directory or regular file to User. A regular file
 * with more than one link is refused: User can link any file of the file
 * system into its directories, and root would hand it over. */
static apr_status_t fchown_to_user(int fd, const struct stat *st)
{
    if (!S_ISDIR(st->st_mode) && !(S_ISREG(st->st_mode) && 1 == st->st_nlink)) {
        return APR_EINVAL;
    }
    if (0 != fchown(fd, ap_unixd_config.user_id, (gid_t)-1)) {
        return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

apr_status_t md_os_chown_to_user(const char *path, apr_pool_t *p)
{
    struct stat st;
    apr_status_t rv;
    int fd;

    (void)p;
    if (!md_os_is_root() || (uid_t)-1 == ap_unixd_config.user_id) return APR_SUCCESS;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    rv = (0 == fstat(fd, &st)) ? fchown_to_user(fd, &st) : APR_FROM_OS_ERROR(errno);
    close(fd);
    return rv;
}

/* APR permission bits (0x0755 style) of a mode. */
static apr_fileperms_t mode_to_perms(mode_t m)
{
    return (apr_fileperms_t)((((m >> 6) & 7) << 8) | (((m >> 3) & 7) << 4) | (m & 7));
}

struct md_os_entry_t {
    int fd;
    struct stat st;
};

int md_os_entry_is_dir(const md_os_entry_t *e)
{
    return S_ISDIR(e->st.st_mode);
}

apr_fileperms_t md_os_entry_perms(const md_os_entry_t *e)
{
    return mode_to_perms(e->st.st_mode);
}

int md_os_entry_chown_to_user(const md_os_entry_t *e)
{
    if (!md_os_is_root() || (uid_t)-1 == ap_unixd_config.user_id
        || e->st.st_uid == ap_unixd_config.user_id) {
        return 0;
    }
    return APR_SUCCESS == fchown_to_user(e->fd, &e->st);
}

int md_os_entry_perms_set(const md_os_entry_t *e, apr_fileperms_t perms)
{
    if (S_ISREG(e->st.st_mode) && e->st.st_nlink > 1) return 0;
    return 0 == fchmod(e->fd, (mode_t)md_util_perms_to_mode(perms));
}

int md_os_entry_child_reads(const md_os_entry_t *e)
{
    mode_t m = e->st.st_mode;

    return (m & S_IROTH) || ((m & S_IRGRP) && e->st.st_gid == ap_unixd_config.group_id)
           || ((m & S_IRUSR) && e->st.st_uid == ap_unixd_config.user_id);
}

int md_os_entry_share_with_group(const md_os_entry_t *e)
{
    if (!S_ISREG(e->st.st_mode) || e->st.st_nlink > 1 || !md_os_is_root()) return 0;
    if (0 != fchown(e->fd, (uid_t)-1, ap_unixd_config.group_id)) return 0;
    return 0 == fchmod(e->fd, S_IRUSR | S_IWUSR | S_IRGRP);
}

int md_os_child_lacks(const char *path, int need, int follow, const char **pdesc,
                      int *powned, apr_pool_t *p)
{
    uid_t uid = md_os_is_root() ? ap_unixd_config.user_id : geteuid();
    gid_t gid = md_os_is_root() ? ap_unixd_config.group_id : getegid();
    struct stat st;
    int have;

    *pdesc = NULL;
    *powned = 0;
    if (0 != (follow ? stat(path, &st) : lstat(path, &st))) return -1;
    if (!follow && S_ISLNK(st.st_mode)) return 0;
    *pdesc = apr_psprintf(p, "owner %lu:%lu, mode 0%o", (unsigned long)st.st_uid,
                          (unsigned long)st.st_gid, (unsigned)(st.st_mode & 07777));
    *powned = (st.st_uid == uid);
    if (0 == uid) return 0;
    if (st.st_uid == uid) {
        have = (st.st_mode >> 6) & 7;
    }
    else if (st.st_gid == gid) {
        have = (st.st_mode >> 3) & 7;
    }
    else {
        have = st.st_mode & 7;
    }
    return need & ~have;
}

const char *md_os_child_user_name(apr_pool_t *p)
{
    if (!md_os_is_root()) return apr_psprintf(p, "%lu", (unsigned long)geteuid());
    return ap_unixd_config.user_name ? ap_unixd_config.user_name
           : apr_psprintf(p, "%lu", (unsigned long)ap_unixd_config.user_id);
}

const char *md_os_child_group_name(apr_pool_t *p)
{
    if (!md_os_is_root()) return apr_psprintf(p, "%lu", (unsigned long)getegid());
    return ap_unixd_config.group_name ? ap_unixd_config.group_name
           : apr_psprintf(p, "%lu", (unsigned long)ap_unixd_config.group_id);
}

apr_gid_t md_os_child_group(void)
{
    return md_os_is_root() ? ap_unixd_config.group_id : (apr_gid_t)-1;
}

int md_os_entry_group_set(const md_os_entry_t *e, apr_gid_t gid)
{
    if (e->st.st_gid == gid) return 0;
    if (S_ISREG(e->st.st_mode) && e->st.st_nlink > 1) return 0;
    return 0 == fchown(e->fd, (uid_t)-1, gid);
}

apr_gid_t md_os_entry_gid(const md_os_entry_t *e)
{
    return e->st.st_gid;
}

/* Opens name in dfd if it is a directory or a regular file, never through
 * a link; anything else (a link, a FIFO, a device) is skipped unopened. */
static int entry_open(md_os_entry_t *e, int dfd, const char *name)
{
    struct stat before;

    if (0 != fstatat(dfd, name, &before, AT_SYMLINK_NOFOLLOW)) return 0;
    if (!S_ISDIR(before.st_mode) && !S_ISREG(before.st_mode)) return 0;
    e->fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (e->fd < 0) return 0;
    /* swapped since fstatat: skipped as well */
    if (0 != fstat(e->fd, &e->st) || e->st.st_ino != before.st_ino
        || e->st.st_dev != before.st_dev
        || (e->st.st_mode & S_IFMT) != (before.st_mode & S_IFMT)) {
        close(e->fd);
        return 0;
    }
    return 1;
}

static void walk_at(int dfd, int depth, int max_depth, md_os_walk_cb *cb, void *baton)
{
    md_os_entry_t e;
    struct dirent *de;
    DIR *d;
    int fd = dup(dfd);

    if (fd < 0) return;
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    while ((de = readdir(d))) {
        if (!strcmp(".", de->d_name) || !strcmp("..", de->d_name)) {
            continue;
        }
        if (!entry_open(&e, dirfd(d), de->d_name)) {
            continue;
        }
        cb(baton, &e, de->d_name);
        if (S_ISDIR(e.st.st_mode) && depth < max_depth) {
            walk_at(e.fd, depth + 1, max_depth, cb, baton);
        }
        close(e.fd);
    }
    closedir(d);
}

apr_status_t md_os_walk(const char *dir, int max_depth, md_os_walk_cb *cb, void *baton)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    walk_at(fd, 0, max_depth, cb, baton);
    close(fd);
    return APR_SUCCESS;
}

apr_status_t md_os_graceful(apr_pool_t *p)
{
    (void)p;
    if (0 != kill(getppid(), SIGUSR1)) return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}
