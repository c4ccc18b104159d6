/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Files (md_util.h) as the store writes them: checked reads, writes to a
 * temporary file with fsync and rename, modes without following links,
 * directory syncs, recursive removal, directory walks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <apr_strings.h>
#include <apr_fnmatch.h>
#include <apr_portable.h>

#include "md_log.h"
#include "md_util.h"

/* --- files ----------------------------------------------------------------------------------- */

int md_util_is_dir(const char *path, apr_pool_t *p)
{
    apr_finfo_t info;

    return APR_SUCCESS == apr_stat(&info, path, APR_FINFO_TYPE, p) && APR_DIR == info.filetype;
}

int md_util_is_file(const char *path, apr_pool_t *p)
{
    apr_finfo_t info;

    return APR_SUCCESS == apr_stat(&info, path, APR_FINFO_TYPE, p) && APR_REG == info.filetype;
}

const char *md_util_path_join(apr_pool_t *p, ...)
{
    const char *path = NULL, *seg;
    va_list ap;

    va_start(ap, p);
    while ((seg = va_arg(ap, const char *))) {
        path = path ? apr_pstrcat(p, path, "/", seg, NULL) : seg;
    }
    va_end(ap);
    return path;
}

apr_status_t md_util_mkdir(const char *path, apr_fileperms_t perms, apr_pool_t *p)
{
    apr_status_t rv = apr_dir_make_recursive(path, perms, p);

    if (APR_SUCCESS == rv || APR_STATUS_IS_EEXIST(rv)) {
        rv = md_util_is_dir(path, p) ? apr_file_perms_set(path, perms) : APR_ENOTDIR;
        if (APR_STATUS_IS_ENOTIMPL(rv)) {
            rv = APR_SUCCESS;
        }
    }
    return rv;
}

/* Opens path for reading without ever blocking (a FIFO or a device in a
 * directory the child can write must not stop the parent) and accepts
 * only a regular file of at most max bytes. */
static apr_status_t fread_open(int *pfd, apr_size_t *psize, const char *path,
                               apr_size_t max, int flags, apr_pool_t *p)
{
    struct stat st;
    apr_status_t rv = APR_SUCCESS;
    int fd, oflags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;

    if (flags & MD_FREAD_NOFOLLOW) {
        oflags |= O_NOFOLLOW;
    }
    *pfd = fd = open(path, oflags);
    if (fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        if (ELOOP == errno && (flags & MD_FREAD_NOFOLLOW)) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10692: %s is a symbolic "
                          "link; links are not followed where the child processes "
                          "write", path);
        }
        return rv;
    }
    if (0 != fstat(fd, &st)) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    else if (!S_ISREG(st.st_mode)) {
        rv = APR_EINVAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10690: %s is not a regular "
                      "file (mode 0%o), not reading it", path, (unsigned)st.st_mode);
    }
    else if ((apr_size_t)st.st_size > max) {
        rv = APR_EINVAL;
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p, "AH10691: %s has %lld bytes, "
                      "more than the %lu such a file may have", path,
                      (long long)st.st_size, (unsigned long)max);
    }
    *psize = (APR_SUCCESS == rv) ? (apr_size_t)st.st_size : 0;
    if (APR_SUCCESS != rv) {
        close(fd);
        *pfd = -1;
    }
    return rv;
}

apr_status_t md_util_fread(const char **pdata, apr_size_t *plen, const char *path,
                           apr_size_t max, int flags, apr_pool_t *p)
{
    apr_status_t rv;
    apr_size_t size = 0, len = 0;
    ssize_t n;
    char *data = NULL;
    int fd;

    *pdata = NULL;
    *plen = 0;
    rv = fread_open(&fd, &size, path, max, flags, p);
    if (APR_SUCCESS != rv) return rv;
    data = apr_palloc(p, size + 1);
    /* a file that grew since fstat is cut at its size then */
    while (len < size) {
        n = read(fd, data + len, size - len);
        if (n < 0 && EINTR == errno) {
            continue;
        }
        if (n < 0) {
            rv = APR_FROM_OS_ERROR(errno);
            break;
        }
        if (0 == n) {
            break;
        }
        len += (apr_size_t)n;
    }
    close(fd);
    if (APR_SUCCESS != rv) return rv;
    data[len] = '\0';
    *pdata = data;
    *plen = len;
    return APR_SUCCESS;
}

apr_status_t md_util_fread_all(const char **pdata, apr_size_t *plen,
                               const char *path, apr_size_t max, apr_pool_t *p)
{
    return md_util_fread(pdata, plen, path, max, 0, p);
}

/* fsync of the directory that holds path: makes a rename or a new entry
 * in it durable. */
static apr_status_t sync_parent_dir(const char *path, apr_pool_t *p)
{
    const char *slash = strrchr(path, '/');
    const char *dir = slash ? apr_pstrndup(p, path, (apr_size_t)(slash - path)) : ".";
    apr_status_t rv = APR_SUCCESS;
    int fd;

    if (!*dir) {
        dir = "/";
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    if (0 != fsync(fd) && EINVAL != errno) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    return rv;
}

unsigned int md_util_perms_to_mode(apr_fileperms_t perms)
{
    return (((perms >> 8) & 7) << 6) | (((perms >> 4) & 7) << 3) | (perms & 7);
}

apr_status_t md_util_perms_set_nofollow(const char *path, apr_fileperms_t perms)
{
    apr_status_t rv = APR_SUCCESS;
    int fd;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    if (0 != fchmod(fd, (mode_t)md_util_perms_to_mode(perms))) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    return rv;
}

#define NO_GID ((apr_gid_t)-1)

static apr_status_t write_open(apr_file_t **pf, const char *path,
                               apr_fileperms_t perms, apr_gid_t gid, apr_pool_t *p)
{
    apr_os_file_t fd;
    apr_status_t rv;

    rv = apr_file_open(pf, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL
                       | APR_FOPEN_BINARY, perms, p);
    if (APR_SUCCESS != rv) return rv;
    /* the mode against the umask, on the file we opened (a path may since
     * name something else where the child can write) */
    rv = apr_os_file_get(&fd, *pf);
    if (APR_SUCCESS == rv && 0 != fchmod(fd, (mode_t)md_util_perms_to_mode(perms))) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (APR_SUCCESS == rv && (apr_gid_t)-1 != gid && 0 != fchown(fd, (uid_t)-1, gid)) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (APR_SUCCESS != rv) {
        apr_file_close(*pf);
    }
    return rv;
}

/* Writes and flushes f (and fsyncs it unless MD_FWRITE_NOSYNC), then closes
 * it: the data is on disk before a rename can make it the store's version. */
static apr_status_t write_and_close(apr_file_t *f, int flags, apr_pool_t *p,
                                    md_util_file_cb *write_cb, void *baton)
{
    apr_status_t rv = write_cb(baton, f, p), rv2;

    if (APR_SUCCESS == rv) {
        rv = apr_file_flush(f);
    }
    if (APR_SUCCESS == rv && !(flags & MD_FWRITE_NOSYNC)) {
        rv = apr_file_datasync(f);
    }
    rv2 = apr_file_close(f);
    return (APR_SUCCESS == rv) ? rv2 : rv;
}

/* Opens <path>.tmp exclusively; a stale one (a writer died) is waited for
 * briefly, then removed. */
static apr_status_t tmp_open(apr_file_t **pf, const char *tmp, apr_fileperms_t perms,
                             apr_gid_t gid, apr_pool_t *p)
{
    apr_status_t rv;
    int i;

    for (i = 0; ; ++i) {
        rv = write_open(pf, tmp, perms, gid, p);
        if (!APR_STATUS_IS_EEXIST(rv)) {
            break;
        }
        if (i >= 20) {
            apr_file_remove(tmp, p);
        }
        else {
            apr_sleep(apr_time_from_msec(25));
        }
        if (i > 21) {
            break;
        }
    }
    return rv;
}

static apr_status_t write_file(const char *path, apr_fileperms_t perms, apr_gid_t gid,
                               int flags, md_util_file_cb *write_cb, void *baton,
                               apr_pool_t *p)
{
    const char *tmp = (flags & MD_FWRITE_EXCL) ? path : apr_pstrcat(p, path, ".tmp", NULL);
    apr_file_t *f;
    apr_status_t rv;

    rv = (flags & MD_FWRITE_EXCL) ? write_open(&f, path, perms, gid, p)
                                  : tmp_open(&f, tmp, perms, gid, p);
    if (APR_SUCCESS != rv) return rv;
    rv = write_and_close(f, flags, p, write_cb, baton);
    if (APR_SUCCESS == rv && tmp != path) {
        rv = apr_file_rename(tmp, path, p);
    }
    if (APR_SUCCESS != rv) {
        apr_file_remove(tmp, p);
        return rv;
    }
    return (flags & MD_FWRITE_NOSYNC) ? APR_SUCCESS : sync_parent_dir(path, p);
}

apr_status_t md_util_freplace(const char *path, apr_fileperms_t perms, apr_pool_t *p,
                              md_util_file_cb *write_cb, void *baton)
{
    return write_file(path, perms, NO_GID, 0, write_cb, baton, p);
}

apr_status_t md_util_fcreatex(const char *path, apr_fileperms_t perms, apr_pool_t *p,
                              md_util_file_cb *write_cb, void *baton)
{
    return write_file(path, perms, NO_GID, MD_FWRITE_EXCL, write_cb, baton, p);
}

static apr_status_t write_text_cb(void *baton, apr_file_t *f, apr_pool_t *p)
{
    const char *text = baton;

    (void)p;
    return apr_file_write_full(f, text, strlen(text), NULL);
}

apr_status_t md_util_fwrite(const char *path, apr_fileperms_t perms, const char *text,
                            int flags, apr_pool_t *p)
{
    return write_file(path, perms, NO_GID, flags, write_text_cb, (void *)text, p);
}

apr_status_t md_util_fwrite_group(const char *path, apr_fileperms_t perms, apr_gid_t gid,
                                  const char *text, int flags, apr_pool_t *p)
{
    return write_file(path, perms, gid, flags, write_text_cb, (void *)text, p);
}

apr_status_t md_text_freplace(const char *path, apr_fileperms_t perms, apr_pool_t *p,
                              const char *text)
{
    return md_util_fwrite(path, perms, text, 0, p);
}

apr_status_t md_text_fcreatex(const char *path, apr_fileperms_t perms, apr_pool_t *p,
                              const char *text)
{
    return md_util_fwrite(path, perms, text, MD_FWRITE_EXCL, p);
}

/* *pd = the directory open as fd, which it takes over: closed when fdopendir
 * fails. fd < 0 is the failed open's errno. */
static apr_status_t dir_of_fd(DIR **pd, int fd)
{
    apr_status_t rv;

    *pd = NULL;
    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    *pd = fdopendir(fd);
    if (!*pd) {
        rv = APR_FROM_OS_ERROR(errno);
        close(fd);
        return rv;
    }
    return APR_SUCCESS;
}

apr_status_t md_util_fsync_dir(const char *dir, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    struct dirent *e;
    DIR *d;
    int fd;

    rv = dir_of_fd(&d, open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (APR_SUCCESS != rv) return rv;
    while (APR_SUCCESS == rv && (e = readdir(d))) {
        if (DT_REG != e->d_type && DT_UNKNOWN != e->d_type) {
            continue;
        }
        fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        if (0 != fdatasync(fd) && EINVAL != errno) {
            rv = APR_FROM_OS_ERROR(errno);
        }
        close(fd);
    }
    if (APR_SUCCESS == rv && 0 != fsync(dirfd(d)) && EINVAL != errno) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    closedir(d);
    return (APR_SUCCESS == rv) ? sync_parent_dir(dir, p) : rv;
}

apr_status_t md_util_syncfs(const char *path)
{
    apr_status_t rv = APR_SUCCESS;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    if (0 != syncfs(fd)) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    return rv;
}

/* Deeper than any store tree; a deeper one is refused, not recursed into. */
#define RM_DEPTH_MAX 32

/* Removes name in the directory dfd. A directory is opened relative to dfd
 * without following a link, so the walk never leaves the tree it started
 * in, whatever the entries are swapped for meanwhile. */
static apr_status_t rm_at(int dfd, const char *name, int depth)
{
    apr_status_t rv = APR_SUCCESS, rv_entry;
    struct dirent *e;
    DIR *d;

    if (0 == unlinkat(dfd, name, 0) || ENOENT == errno) return APR_SUCCESS;
    if (EISDIR != errno && EPERM != errno) return APR_FROM_OS_ERROR(errno);
    if (depth >= RM_DEPTH_MAX) return APR_FROM_OS_ERROR(ELOOP);
    rv = dir_of_fd(&d, openat(dfd, name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (APR_SUCCESS != rv) return rv;
    while ((e = readdir(d))) {
        if (!strcmp(".", e->d_name) || !strcmp("..", e->d_name)) {
            continue;
        }
        rv_entry = rm_at(dirfd(d), e->d_name, depth + 1);
        if (APR_SUCCESS == rv) {
            rv = rv_entry;
        }
    }
    closedir(d);
    if (APR_SUCCESS != rv) return rv;
    if (0 != unlinkat(dfd, name, AT_REMOVEDIR) && ENOENT != errno) {
        return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

apr_status_t md_util_rm_recursive(const char *path, apr_pool_t *p)
{
    const char *slash = strrchr(path, '/'), *dir, *name;
    apr_status_t rv;
    int dfd;

    dir = slash ? apr_pstrndup(p, path, (apr_size_t)(slash - path)) : ".";
    name = slash ? slash + 1 : path;
    if (!*dir) {
        dir = "/";
    }
    if (!*name || !strcmp(".", name) || !strcmp("..", name)) return APR_EINVAL;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return (ENOENT == errno) ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    rv = rm_at(dfd, name, 0);
    close(dfd);
    return rv;
}

apr_status_t md_util_dir_do(md_util_dir_cb *cb, void *baton, apr_pool_t *p,
                            const char *dir, const char *pattern)
{
    apr_pool_t *ptemp;
    apr_dir_t *d;
    apr_finfo_t info;
    apr_status_t rv;

    rv = apr_pool_create(&ptemp, p);
    if (APR_SUCCESS != rv) return rv;
    rv = apr_dir_open(&d, dir, ptemp);
    if (APR_SUCCESS != rv) goto leave;
    while (APR_SUCCESS == apr_dir_read(&info, APR_FINFO_TYPE | APR_FINFO_NAME, d)) {
        if (!strcmp(".", info.name) || !strcmp("..", info.name)) {
            continue;
        }
        if (pattern && APR_SUCCESS != apr_fnmatch(pattern, info.name, 0)) {
            continue;
        }
        if (!cb(baton, ptemp, dir, info.name, info.filetype)) {
            break;
        }
    }
    apr_dir_close(d);
leave:
    apr_pool_destroy(ptemp);
    return rv;
}
