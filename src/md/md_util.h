/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Small helpers shared by the core: byte buffers, base64url and hex,
 * string arrays, DNS names and URIs, file operations with the store's
 * writing discipline (atomic replace, exclusive create), running commands.
 */
#ifndef md_util_h
#define md_util_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_file_io.h>

/* The number of elements of a fixed-size array. */
#define MD_ARRAY_LEN(a)     (sizeof(a) / sizeof((a)[0]))

/* A byte buffer; data need not be NUL terminated. */
typedef struct md_data_t {
    const char *data;
    apr_size_t len;
} md_data_t;

md_data_t *md_data_make(apr_pool_t *p, const char *data, apr_size_t len);

/* base64url (RFC 4648 section 5) without padding. Decoding accepts input
 * with or without padding and also standard base64 characters; returns
 * APR_EINVAL on other characters. */
const char *md_util_base64url_encode(const char *data, apr_size_t len, apr_pool_t *p);
apr_status_t md_util_base64url_decode(md_data_t *out, const char *s, apr_pool_t *p);
/* 1 if s is non-empty and only made of base64url characters (optionally
 * followed by '=' padding). */
int md_util_is_base64url(const char *s);

/* Lower-case hex of the bytes. */
const char *md_util_hex(const unsigned char *data, apr_size_t len, apr_pool_t *p);

/* --- strings and string arrays (elements are const char*) ---------------------- */
char *md_util_str_tolower(char *s);
int md_array_str_index(const apr_array_header_t *a, const char *s,
                       int start, int case_sensitive);
int md_array_str_eq(const apr_array_header_t *a1, const apr_array_header_t *a2,
                    int case_sensitive);
apr_array_header_t *md_array_str_clone(apr_pool_t *p, const apr_array_header_t *a);
/* Lower-cased copy without (case-insensitive) duplicates, order kept. */
apr_array_header_t *md_array_str_compact(apr_pool_t *p, const apr_array_header_t *a,
                                         int case_sensitive);
/* Appends s when not already present; returns 1 if it was added. */
int md_array_str_add_missing(apr_array_header_t *dest, const char *s, int case_sensitive);
/* Removes all occurrences; returns the number removed. */
int md_array_str_remove(apr_array_header_t *a, const char *s, int case_sensitive);
/* Elements joined by sep. */
const char *md_array_str_join(const apr_array_header_t *a, const char *sep, apr_pool_t *p);

/* A growing text buffer in a pool; data is always NUL-terminated. */
typedef struct {
    apr_pool_t *p;
    char *data;
    apr_size_t len;
    apr_size_t cap;
} md_sbuf_t;

void md_sbuf_init(md_sbuf_t *b, apr_pool_t *p, apr_size_t cap);
void md_sbuf_putn(md_sbuf_t *b, const char *s, apr_size_t len);
void md_sbuf_puts(md_sbuf_t *b, const char *s);
void md_sbuf_printf(md_sbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --- DNS names ------------------------------------------------------------------ */
/* 1 if hostname consists of labels of letters, digits and '-' (not at the
 * start or end of a label), at most 63 characters per label and 253 in all,
 * no empty label; need_fqdn requires at least one dot. A leading "*." is
 * accepted when allow_wildcard is set (the dot after "*" does not count). */
int md_dns_is_name(const char *hostname, int need_fqdn, int allow_wildcard);
/* 1 if name starts with "*." */
int md_dns_is_wildcard(const char *name);
/* 1 if the domain matches pattern: equal (case-insensitive) or pattern is
 * "*.<x>" and domain is "<one label>.<x>". */
int md_dns_matches(const char *pattern, const char *domain);
/* 1 if the two names (possibly wildcards) can designate the same host. */
int md_dns_domains_match(const char *name1, const char *name2);

/* --- URIs ------------------------------------------------------------------------ */
/* Checks an absolute URI. On failure returns APR_EINVAL and sets *perr to one
 * of "missing uri scheme", "missing hostname", "invalid hostname",
 * "invalid port", "whitespace in uri", "not an uri",
 * "missing uri identifier"; for mailto: "missing @", "duplicate @",
 * "missing local part", "missing hostname", "double period". */
apr_status_t md_util_abs_uri_check(apr_pool_t *p, const char *uri, const char **perr);
/* As above, and the scheme must be http or https
 * ("uri scheme must be http or https"). */
apr_status_t md_util_abs_http_uri_check(apr_pool_t *p, const char *uri,
                                        const char **perr);
/* The host part of an absolute URI, or NULL. */
const char *md_util_uri_host(apr_pool_t *p, const char *uri);
/* text with the password of every "scheme://user:password@host" in it
 * replaced by "***" (proxy and CA URLs in status output); text itself when
 * there is none. */
const char *md_util_mask_credentials(apr_pool_t *p, const char *text);
/* 1 if text holds a URI with a non-empty password in its user info. */
int md_util_has_credentials(const char *text);
/* "mailto:" + s if s has no scheme (no ':' before the first
 * non-alphanumeric character). */
const char *md_util_schemify(apr_pool_t *p, const char *s, const char *def_scheme);

/* --- files ------------------------------------------------------------------------ */
typedef apr_status_t md_util_file_cb(void *baton, apr_file_t *f, apr_pool_t *p);

int md_util_is_dir(const char *path, apr_pool_t *p);
int md_util_is_file(const char *path, apr_pool_t *p);
/* Joins path segments (NULL terminated) with '/'. */
const char *md_util_path_join(apr_pool_t *p, ...) __attribute__((sentinel));
/* Creates the directory and its parents, then chmods it to perms. */
apr_status_t md_util_mkdir(const char *path, apr_fileperms_t perms, apr_pool_t *p);
/* APR permission bits (0x0644) as a Unix mode (0644). */
unsigned int md_util_perms_to_mode(apr_fileperms_t perms);
/* chmod that does not follow a link as the last component (ELOOP), done
 * on the opened file (perms: APR permission bits). */
apr_status_t md_util_perms_set_nofollow(const char *path, apr_fileperms_t perms);
/* md_util_fread flags */
#define MD_FREAD_NOFOLLOW   0x01    /* a symbolic link as the last component:
                                     * refused (ELOOP), logged as AH10692 */
/* Reads a whole regular file into p, NUL terminated. The open never blocks:
 * a FIFO, socket or device is APR_EINVAL (AH10690), as is a file larger than
 * max (AH10691). */
apr_status_t md_util_fread(const char **pdata, apr_size_t *plen, const char *path,
                           apr_size_t max, int flags, apr_pool_t *p);
/* md_util_fread without flags (links are followed). */
apr_status_t md_util_fread_all(const char **pdata, apr_size_t *plen,
                               const char *path, apr_size_t max, apr_pool_t *p);
/* Writes <path>.tmp (exclusive, mode perms, fchmod against umask), fsyncs
 * it, renames it over path and fsyncs the directory: after a crash path
 * holds the old or the new content, never a partial one. A stale .tmp is
 * waited for briefly, then removed. */
apr_status_t md_util_freplace(const char *path, apr_fileperms_t perms, apr_pool_t *p,
                              md_util_file_cb *write_cb, void *baton);
/* Creates path exclusively (APR_EEXIST if it exists), writes and fsyncs it
 * and its directory. */
apr_status_t md_util_fcreatex(const char *path, apr_fileperms_t perms, apr_pool_t *p,
                              md_util_file_cb *write_cb, void *baton);
/* md_util_fwrite flags */
#define MD_FWRITE_EXCL      0x01    /* create path exclusively (APR_EEXIST), no temp */
#define MD_FWRITE_NOSYNC    0x02    /* no fsync of file and directory: the caller
                                     * syncs a batch of writes (md_util_syncfs) */
/* Writes text as md_util_freplace does (md_util_fcreatex with EXCL). */
apr_status_t md_util_fwrite(const char *path, apr_fileperms_t perms, const char *text,
                            int flags, apr_pool_t *p);
/* As md_util_fwrite, and the file is given group gid ((apr_gid_t)-1: keep)
 * before it takes the place of path. */
apr_status_t md_util_fwrite_group(const char *path, apr_fileperms_t perms, apr_gid_t gid,
                                  const char *text, int flags, apr_pool_t *p);
/* fsync of the regular files in dir, of dir and of its parent. */
apr_status_t md_util_fsync_dir(const char *dir, apr_pool_t *p);
/* syncfs(2) of the file system that holds path. */
apr_status_t md_util_syncfs(const char *path);
apr_status_t md_text_freplace(const char *path, apr_fileperms_t perms, apr_pool_t *p,
                              const char *text);
apr_status_t md_text_fcreatex(const char *path, apr_fileperms_t perms, apr_pool_t *p,
                              const char *text);
/* Removes a file or a directory tree. APR_SUCCESS if it did not exist.
 * Links are removed, never followed (the directories are opened with
 * O_NOFOLLOW relative to their parent); trees deeper than 32 levels are
 * refused (ELOOP). */
apr_status_t md_util_rm_recursive(const char *path, apr_pool_t *p);

typedef int md_util_dir_cb(void *baton, apr_pool_t *p, const char *dir,
                           const char *name, apr_filetype_e ftype);
/* Calls cb for each entry of dir (not "." and "..") whose name matches the
 * apr_fnmatch pattern (NULL = all), until cb returns 0. */
apr_status_t md_util_dir_do(md_util_dir_cb *cb, void *baton, apr_pool_t *p,
                            const char *dir, const char *pattern);

/* --- commands ---------------------------------------------------------------------- */
/* How long a command (MDMessageCmd, MDNotifyCmd, MDChallengeDns01) may run. */
#define MD_UTIL_EXEC_TIMEOUT    apr_time_from_sec(5 * 60)

/* Runs argv[0] (no shell, no PATH search) with argv in a process group of
 * its own, waits for it and sets *pexit_code (-1 when killed by a signal).
 * The program gets the process's environment plus env (NULL-terminated
 * "NAME=VALUE" strings, replacing variables of the same name; NULL: none).
 * Each line it writes to stderr is logged at INFO as "cmd(<argv[0]>)
 * stderr: <line>". Returns an error when the program could not be started;
 * APR_TIMEUP when it did not end within timeout: the process group is then
 * killed (SIGKILL) and AH10707 logged. */
apr_status_t md_util_exec_timed(apr_pool_t *p, const char *cmd, const char *const *argv,
                                const char *const *env, apr_interval_time_t timeout,
                                int *pexit_code);
/* md_util_exec_timed with the process-wide timeout. */
apr_status_t md_util_exec(apr_pool_t *p, const char *cmd, const char *const *argv,
                          const char *const *env, int *pexit_code);
/* The process-wide timeout of md_util_exec (<= 0: MD_UTIL_EXEC_TIMEOUT
 * again). Meant for tests; set before threads run commands. */
void md_util_exec_timeout_set(apr_interval_time_t timeout);
apr_interval_time_t md_util_exec_timeout_get(void);
/* Splits "cmd args..." by apr_tokenize_to_argv rules and appends extra
 * arguments (NULL terminated). */
apr_status_t md_util_cmd_argv(const char ***pargv, apr_pool_t *p, const char *cmdline,
                              ...) __attribute__((sentinel));

#endif /* md_util_h */
