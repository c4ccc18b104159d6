/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The file backend's locks: the global lock file store.lock, per-name
 * lock files <group>/<name>.lock (both apr_file_lock), and the running
 * server's shared lock on md_store.json that a2md looks for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_portable.h>

#include "md.h"
#include "md_log.h"
#include "md_util.h"
#include "md_store.h"
#include "md_store_fs_int.h"

/* --- the global lock ------------------------------------------------------------------ */

static apr_status_t lock_pool_cleanup(void *data)
{
    md_store_t *store = data;

    /* the pool closes the file, which releases the lock */
    FS(store)->lock_file = NULL;
    return APR_SUCCESS;
}

apr_status_t md_store_fs_lock_global(md_store_t *store, apr_pool_t *p,
                                     apr_time_t max_wait)
{
    const char *fname = md_util_path_join(p, FS(store)->base, MD_FN_STORE_LOCK, NULL);
    apr_time_t end = apr_time_now() + max_wait;
    apr_file_t *f;
    apr_status_t rv;

    RO_CHECK(store);
    if (FS(store)->lock_file) {
        md_log_perror(MD_LOG_MARK, MD_LOG_WARNING, 0, p, "already locked globally");
        return APR_EEXIST;
    }
    rv = apr_file_open(&f, fname, APR_FOPEN_CREATE | APR_FOPEN_WRITE,
                       MD_STORE_LOCK_PERMS, p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, p,
                      "unable to create/open lock file: %s", fname);
        return rv;
    }
    apr_file_perms_set(fname, MD_STORE_LOCK_PERMS);
    md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, 0, p, "acquire global lock: %s", fname);
    while (1) {
        rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK);
        if (APR_SUCCESS == rv || apr_time_now() >= end) {
            break;
        }
        apr_sleep(apr_time_from_msec(100));
    }
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p,
                      "unable to obtain lock on: %s", fname);
        apr_file_close(f);
        return rv;
    }
    FS(store)->lock_file = f;
    FS(store)->lock_pool = p;
    apr_pool_cleanup_register(p, store, lock_pool_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

void md_store_fs_unlock_global(md_store_t *store, apr_pool_t *p)
{
    (void)p;
    if (!FS(store)->lock_file) return;
    apr_file_unlock(FS(store)->lock_file);
    apr_file_close(FS(store)->lock_file);
    apr_pool_cleanup_kill(FS(store)->lock_pool, store, lock_pool_cleanup);
    FS(store)->lock_file = NULL;
    FS(store)->lock_pool = NULL;
}

/* --- per-name locks -------------------------------------------------------------------- */

typedef struct {
    apr_file_t *file;
} fs_lock_t;

static apr_status_t fs_lock_cleanup(void *data)
{
    fs_lock_t *lock = data;

    if (lock->file) {
        apr_file_close(lock->file);         /* releases the lock */
        lock->file = NULL;
    }
    return APR_SUCCESS;
}

/* Opens (creating) the lock file fname in the group directory gdir. The
 * root parent opens it too, and User writes the directory: no link is
 * followed, a FIFO does not block, and only a regular file with one link
 * is taken. A file root made (or finds) with another owner than gdir is
 * given gdir's owner, so that the child opens it as well. */
static apr_status_t lock_file_open(int *pfd, md_store_t *store, md_store_group_t group,
                                   const char *gdir, const char *fname, apr_pool_t *p)
{
    const int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    const mode_t mode = (mode_t)md_util_perms_to_mode(MD_STORE_NAME_LOCK_PERMS);
    struct stat dst, st;
    int fd, created = 1;

    *pfd = -1;
    if (0 != lstat(gdir, &dst)) return APR_FROM_OS_ERROR(errno);
    fd = open(fname, flags | O_CREAT | O_EXCL, mode);
    if (fd < 0 && EEXIST == errno) {
        created = 0;
        fd = open(fname, flags);
    }
    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    if (0 != fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        close(fd);
        return APR_EINVAL;
    }
    if (created) {
        (void)fchmod(fd, mode);
        /* the other side (parent or child) must be able to open it too */
        if (store->dir_cb) {
            store->dir_cb(store->dir_cb_baton, p, group, fname);
        }
    }
    else if (0 == geteuid() && st.st_uid != dst.st_uid
             && 0 != fchown(fd, dst.st_uid, (gid_t)-1)) {
        apr_status_t rv = APR_FROM_OS_ERROR(errno);

        close(fd);
        return rv;
    }
    *pfd = fd;
    return APR_SUCCESS;
}

apr_status_t md_store_fs_lock_name(void **plock, md_store_t *store,
                                   md_store_group_t group, const char *name,
                                   apr_pool_t *p)
{
    fs_lock_t *lock = NULL;
    const char *gdir, *fname;
    apr_file_t *f = NULL;
    apr_os_file_t ofd;
    apr_status_t rv;
    int fd = -1;

    *plock = NULL;
    RO_CHECK(store);
    if (MD_SG_NONE == group || !md_store_fs_is_segment(name)) {
        rv = APR_EINVAL;
        goto leave;
    }
    rv = md_store_fs_ensure_dirs(store, group, NULL, 0, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_store_fs_get_dir(&gdir, store, group, NULL, p);
    if (APR_SUCCESS != rv) goto leave;
    fname = md_util_path_join(p, gdir, apr_pstrcat(p, name, MD_STORE_LOCK_SUFFIX, NULL),
                              NULL);
    rv = lock_file_open(&fd, store, group, gdir, fname, p);
    if (APR_SUCCESS != rv) goto leave;
    ofd = fd;
    rv = apr_os_file_put(&f, &ofd, APR_FOPEN_WRITE, p);
    if (APR_SUCCESS != rv) {
        close(fd);
        goto leave;
    }
    lock = apr_pcalloc(p, sizeof(*lock));
    lock->file = f;
    apr_pool_cleanup_register(p, lock, fs_lock_cleanup, apr_pool_cleanup_null);
    rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK);
    if (APR_SUCCESS != rv) {
        fs_lock_cleanup(lock);
        lock = NULL;
        if (APR_STATUS_IS_EACCES(rv)) rv = APR_EAGAIN;     /* fcntl: held elsewhere */
    }
leave:
    if (APR_SUCCESS != rv && !APR_STATUS_IS_EAGAIN(rv)) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, p, "AH10981: store: locking %s/%s",
                      md_store_group_name(group), name ? name : "(null)");
    }
    *plock = lock;
    return rv;
}

void md_store_fs_unlock_name(md_store_t *store, void *baton)
{
    fs_lock_t *lock = baton;

    (void)store;
    if (!lock || !lock->file) return;
    apr_file_unlock(lock->file);
    fs_lock_cleanup(lock);
}

/* --- the running server's mark ---------------------------------------------------- */

apr_status_t md_store_fs_server_mark(apr_file_t **pfile, md_store_t *store,
                                     apr_pool_t *p)
{
    const char *fname;
    apr_finfo_t held, now;
    apr_status_t rv;

    rv = md_store_fs_get_fname(&fname, store, MD_SG_NONE, NULL, MD_FN_STORE_JSON, p);
    if (APR_SUCCESS != rv) return rv;
    if (*pfile && (APR_SUCCESS != apr_file_info_get(&held, APR_FINFO_IDENT, *pfile)
                   || APR_SUCCESS != apr_stat(&now, fname, APR_FINFO_IDENT, p)
                   || held.inode != now.inode || held.device != now.device)) {
        /* replaced (a migration, a restored backup): the lock is on the new one */
        apr_file_close(*pfile);
        *pfile = NULL;
    }
    if (!*pfile) {
        rv = apr_file_open(pfile, fname, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
        if (APR_SUCCESS != rv) {
            *pfile = NULL;
            return rv;
        }
        /* the file holds the store key: no program the server starts gets it */
        apr_file_inherit_unset(*pfile);
    }
    /* held already: the same lock again changes nothing (flock and fcntl) */
    return apr_file_lock(*pfile, APR_FLOCK_SHARED | APR_FLOCK_NONBLOCK);
}

/* The pid /proc/locks (Linux) shows for a lock on the file, 0 if none is
 * found: for the message only. */
static long lock_holder_pid(const char *fname, apr_pool_t *p)
{
    apr_finfo_t info;
    char line[256], dev_ino[64];
    long pid = 0, lpid;
    unsigned long ino;
    unsigned int maj, mnr;
    FILE *f;

    if (APR_SUCCESS != apr_stat(&info, fname, APR_FINFO_IDENT, p)) return 0;
    f = fopen("/proc/locks", "r");
    if (!f) return 0;
    while (!pid && fgets(line, sizeof(line), f)) {
        /* "1: FLOCK  ADVISORY  READ 13442 fe:00:12002146 0 EOF" */
        if (sscanf(line, "%*s %*s %*s %*s %ld %63s", &lpid, dev_ino) != 2) {
            continue;
        }
        if (sscanf(dev_ino, "%x:%x:%lu", &maj, &mnr, &ino) != 3) {
            continue;
        }
        if (ino == (unsigned long)info.inode && maj == major((dev_t)info.device)
            && mnr == minor((dev_t)info.device)) {
            pid = lpid;
        }
    }
    fclose(f);
    return pid;
}

apr_status_t md_store_fs_server_running(int *prunning, long *ppid, md_store_t *store,
                                        apr_pool_t *p)
{
    const char *fname;
    apr_file_t *f = NULL;
    apr_status_t rv;

    *prunning = 0;
    *ppid = 0;
    rv = md_store_fs_get_fname(&fname, store, MD_SG_NONE, NULL, MD_FN_STORE_JSON, p);
    if (APR_SUCCESS != rv) goto leave;
    /* writable for fcntl's exclusive locks; flock does without */
    rv = apr_file_open(&f, fname, APR_FOPEN_READ | APR_FOPEN_WRITE, APR_FPROT_OS_DEFAULT,
                       p);
    if (APR_STATUS_IS_EACCES(rv)) {
        rv = apr_file_open(&f, fname, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    }
    if (APR_STATUS_IS_ENOENT(rv)) {
        rv = APR_SUCCESS;
        goto leave;
    }
    if (APR_SUCCESS != rv) goto leave;
    /* only as long as it takes to ask: a starting server may mark it */
    rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE | APR_FLOCK_NONBLOCK);
    if (APR_SUCCESS == rv) {
        apr_file_unlock(f);
    }
    else if (APR_STATUS_IS_EAGAIN(rv) || APR_STATUS_IS_EACCES(rv)) {
        *prunning = 1;
        *ppid = lock_holder_pid(fname, p);
        rv = APR_SUCCESS;
    }
    apr_file_close(f);
leave:
    return rv;
}
