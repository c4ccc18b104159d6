/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Helpers shared by the core: encodings, string arrays, DNS names, URIs,
 * files written with the store's discipline, and running external commands.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <apr_strings.h>
#include <apr_cstr.h>
#include <apr_base64.h>
#include <apr_fnmatch.h>
#include <apr_portable.h>
#include <apr_thread_proc.h>
#include <apr_uri.h>
#include <apr_lib.h>

#include "md_log.h"
#include "md_util.h"

md_data_t *md_data_make(apr_pool_t *p, const char *data, apr_size_t len)
{
    md_data_t *d = apr_palloc(p, sizeof(*d));

    d->data = data;
    d->len = len;
    return d;
}

/* --- encodings ------------------------------------------------------------------- */

const char *md_util_base64url_encode(const char *data, apr_size_t len, apr_pool_t *p)
{
    char *enc, *s;
    int n;

    enc = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)len) + 1);
    n = apr_base64_encode_binary(enc, (const unsigned char *)data, (int)len);
    enc[n > 0 ? n - 1 : 0] = '\0';   /* n counts the terminating NUL */
    for (s = enc; *s; ++s) {
        if ('+' == *s) {
            *s = '-';
        }
        else if ('/' == *s) {
            *s = '_';
        }
        else if ('=' == *s) {
            *s = '\0';
            break;
        }
    }
    return enc;
}

static int is_b64url_char(char c)
{
    return apr_isalnum(c) || '-' == c || '_' == c;
}

int md_util_is_base64url(const char *s)
{
    const char *c = s;

    if (!s || !*s) return 0;
    while (*c && is_b64url_char(*c)) ++c;
    while ('=' == *c) ++c;
    return '\0' == *c && c != s;
}

apr_status_t md_util_base64url_decode(md_data_t *out, const char *s, apr_pool_t *p)
{
    apr_size_t slen, i, n;
    char *std, *dec;
    int dlen;

    out->data = NULL;
    out->len = 0;
    slen = strlen(s);
    while (slen > 0 && '=' == s[slen - 1]) --slen;
    std = apr_palloc(p, slen + 4);
    for (i = 0; i < slen; ++i) {
        char c = s[i];
        if ('-' == c || '+' == c) {
            std[i] = '+';
        }
        else if ('_' == c || '/' == c) {
            std[i] = '/';
        }
        else if (apr_isalnum(c)) {
            std[i] = c;
        }
        else return APR_EINVAL;
    }
    if (1 == slen % 4) return APR_EINVAL;
    n = slen;
    while (n % 4) std[n++] = '=';
    std[n] = '\0';
    dec = apr_palloc(p, (apr_size_t)apr_base64_decode_len(std) + 1);
    dlen = apr_base64_decode_binary((unsigned char *)dec, std);
    if (dlen < 0) return APR_EINVAL;
    dec[dlen] = '\0';
    out->data = dec;
    out->len = (apr_size_t)dlen;
    return APR_SUCCESS;
}

const char *md_util_hex(const unsigned char *data, apr_size_t len, apr_pool_t *p)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = apr_palloc(p, 2 * len + 1);
    apr_size_t i;

    for (i = 0; i < len; ++i) {
        hex[2 * i] = digits[data[i] >> 4];
        hex[2 * i + 1] = digits[data[i] & 0x0f];
    }
    hex[2 * len] = '\0';
    return hex;
}

/* --- strings ------------------------------------------------------------------------ */

char *md_util_str_tolower(char *s)
{
    char *c;

    for (c = s; c && *c; ++c) *c = (char)apr_tolower(*c);
    return s;
}

int md_array_str_index(const apr_array_header_t *a, const char *s,
                       int start, int case_sensitive)
{
    int i;

    for (i = start; a && i < a->nelts; ++i) {
        const char *e = APR_ARRAY_IDX(a, i, const char *);
        if (case_sensitive ? !strcmp(e, s) : !apr_cstr_casecmp(e, s)) return i;
    }
    return -1;
}

int md_array_str_eq(const apr_array_header_t *a1, const apr_array_header_t *a2,
                    int case_sensitive)
{
    int i, n1 = a1 ? a1->nelts : 0, n2 = a2 ? a2->nelts : 0;

    if (n1 != n2) return 0;
    for (i = 0; i < n1; ++i) {
        const char *s1 = APR_ARRAY_IDX(a1, i, const char *);
        const char *s2 = APR_ARRAY_IDX(a2, i, const char *);
        if (case_sensitive ? strcmp(s1, s2) : apr_cstr_casecmp(s1, s2)) return 0;
    }
    return 1;
}

apr_array_header_t *md_array_str_clone(apr_pool_t *p, const apr_array_header_t *a)
{
    apr_array_header_t *c = apr_array_make(p, a ? a->nelts : 0, sizeof(const char *));
    int i;

    for (i = 0; a && i < a->nelts; ++i) {
        APR_ARRAY_PUSH(c, const char *) = apr_pstrdup(p, APR_ARRAY_IDX(a, i, const char *));
    }
    return c;
}

apr_array_header_t *md_array_str_compact(apr_pool_t *p, const apr_array_header_t *a,
                                         int case_sensitive)
{
    apr_array_header_t *c = apr_array_make(p, a ? a->nelts : 0, sizeof(const char *));
    int i;

    for (i = 0; a && i < a->nelts; ++i) {
        char *s = apr_pstrdup(p, APR_ARRAY_IDX(a, i, const char *));
        if (!case_sensitive) {
            md_util_str_tolower(s);
        }
        if (md_array_str_index(c, s, 0, case_sensitive) < 0) {
            APR_ARRAY_PUSH(c, const char *) = s;
        }
    }
    return c;
}

int md_array_str_add_missing(apr_array_header_t *dest, const char *s, int case_sensitive)
{
    if (md_array_str_index(dest, s, 0, case_sensitive) >= 0) return 0;
    APR_ARRAY_PUSH(dest, const char *) = s;
    return 1;
}

int md_array_str_remove(apr_array_header_t *a, const char *s, int case_sensitive)
{
    int i, j, removed = 0;

    for (i = 0, j = 0; i < a->nelts; ++i) {
        const char *e = APR_ARRAY_IDX(a, i, const char *);
        if (case_sensitive ? !strcmp(e, s) : !apr_cstr_casecmp(e, s)) {
            ++removed;
            continue;
        }
        APR_ARRAY_IDX(a, j++, const char *) = e;
    }
    a->nelts = j;
    return removed;
}

const char *md_array_str_join(const apr_array_header_t *a, const char *sep, apr_pool_t *p)
{
    const char *s = "";
    int i;

    for (i = 0; a && i < a->nelts; ++i) {
        s = i ? apr_pstrcat(p, s, sep, APR_ARRAY_IDX(a, i, const char *), NULL)
              : APR_ARRAY_IDX(a, i, const char *);
    }
    return s;
}

/* --- DNS names ------------------------------------------------------------------------ */

int md_dns_is_wildcard(const char *name)
{
    return name && '*' == name[0] && '.' == name[1];
}

int md_dns_is_name(const char *hostname, int need_fqdn, int allow_wildcard)
{
    const char *c = hostname;
    apr_size_t label_len = 0, total;
    int dots = 0;

    if (!hostname || !*hostname) return 0;
    /* "*." + a name: the name itself must be fully qualified ("*.org" is not) */
    if (allow_wildcard && md_dns_is_wildcard(hostname)) {
        c += 2;
    }
    total = strlen(c);
    if (total > 0 && '.' == c[total - 1]) --total;  /* trailing root dot */
    if (total == 0 || total > 253) return 0;
    for (; *c; ++c) {
        if ('.' == *c) {
            if (0 == label_len || '-' == c[-1]) return 0;
            if (c[1]) {
                ++dots;
            }
            label_len = 0;
            continue;
        }
        if (!apr_isalnum(*c) && '-' != *c) return 0;
        if ('-' == *c && 0 == label_len) return 0;
        if (++label_len > 63) return 0;
    }
    if (label_len > 0 && '-' == c[-1]) return 0;
    return !need_fqdn || dots > 0;
}

int md_dns_matches(const char *pattern, const char *domain)
{
    const char *dot;

    if (!apr_cstr_casecmp(pattern, domain)) return 1;
    if (!md_dns_is_wildcard(pattern)) return 0;
    dot = strchr(domain, '.');
    if (!dot || dot == domain) return 0;
    return !apr_cstr_casecmp(pattern + 1, dot);
}

int md_dns_domains_match(const char *name1, const char *name2)
{
    return md_dns_matches(name1, name2) || md_dns_matches(name2, name1);
}

/* --- URIs ------------------------------------------------------------------------------- */

static int is_valid_port(const char *port_str)
{
    const char *c;
    long port;

    if (!port_str || !*port_str) return 1;
    for (c = port_str; *c; ++c) {
        if (!apr_isdigit(*c)) return 0;
    }
    port = strtol(port_str, NULL, 10);
    return port > 0 && port <= 65353;
}

/* The address of a mailto: URI (its path): one '@' between a non-empty
 * local part and host, no "..". NULL when fine, else the reason. */
static const char *mailto_check(const char *addr)
{
    const char *at = strchr(addr, '@');

    if (!at) return "missing @";
    if (strchr(at + 1, '@')) return "duplicate @";
    if (at == addr) return "missing local part";
    if (!at[1]) return "missing hostname";
    if (strstr(addr, "..")) return "double period";
    return NULL;
}

apr_status_t md_util_abs_uri_check(apr_pool_t *p, const char *uri, const char **perr)
{
    apr_uri_t parsed;
    const char *c;

    *perr = NULL;
    for (c = uri; *c; ++c) {
        if (apr_isspace(*c)) {
            *perr = "whitespace in uri";
            return APR_EINVAL;
        }
    }
    if (APR_SUCCESS != apr_uri_parse(p, uri, &parsed)) {
        *perr = "not an uri";
        return APR_EINVAL;
    }
    if (!parsed.scheme) {
        *perr = "missing uri scheme";
        return APR_EINVAL;
    }
    if (!uri[strlen(parsed.scheme) + 1]) {
        *perr = "missing uri identifier";
        return APR_EINVAL;
    }
    if (!apr_cstr_casecmp("http", parsed.scheme)
        || !apr_cstr_casecmp("https", parsed.scheme)) {
        if (!parsed.hostname || !*parsed.hostname) {
            *perr = "missing hostname";
            return APR_EINVAL;
        }
        if (!strchr(parsed.hostname, ':') && !md_dns_is_name(parsed.hostname, 0, 0)) {
            *perr = "invalid hostname";
            return APR_EINVAL;
        }
        if (!is_valid_port(parsed.port_str)) {
            *perr = "invalid port";
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    }
    if (!apr_cstr_casecmp("mailto", parsed.scheme)) {
        *perr = mailto_check(parsed.path ? parsed.path : "");
        if (*perr) return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t md_util_abs_http_uri_check(apr_pool_t *p, const char *uri,
                                        const char **perr)
{
    apr_uri_t parsed;
    apr_status_t rv;

    rv = md_util_abs_uri_check(p, uri, perr);
    if (APR_SUCCESS != rv && (!*perr || strcmp("missing uri scheme", *perr))) return rv;
    if (APR_SUCCESS != apr_uri_parse(p, uri, &parsed) || !parsed.scheme
        || (apr_cstr_casecmp("http", parsed.scheme)
            && apr_cstr_casecmp("https", parsed.scheme))) {
        *perr = "uri scheme must be http or https";
        return APR_EINVAL;
    }
    return rv;
}

const char *md_util_uri_host(apr_pool_t *p, const char *uri)
{
    apr_uri_t parsed;

    if (!uri || APR_SUCCESS != apr_uri_parse(p, uri, &parsed)) return NULL;
    return parsed.hostname;
}

/* The first non-empty password in the authority of a "://" URI in s:
 * 1 with *pstart, *plen set, else 0. The authority ends at the path, query,
 * fragment or anything that ends a URI in text (space, quotes, brackets). */
static int find_password(const char *s, const char **pstart, apr_size_t *plen)
{
    const char *auth, *end, *at, *colon, *c;

    for (auth = strstr(s, "://"); auth; auth = strstr(end, "://")) {
        auth += 3;
        end = auth + strcspn(auth, "/?#\" \t\r\n'<>");
        at = colon = NULL;
        for (c = auth; c < end; ++c) {
            if ('@' == *c) {
                at = c;
            }
        }
        if (at) {
            colon = memchr(auth, ':', (apr_size_t)(at - auth));
        }
        if (colon && at > colon + 1) {
            *pstart = colon + 1;
            *plen = (apr_size_t)(at - colon - 1);
            return 1;
        }
    }
    return 0;
}

int md_util_has_credentials(const char *text)
{
    const char *pw;
    apr_size_t len;

    return text && find_password(text, &pw, &len);
}

const char *md_util_mask_credentials(apr_pool_t *p, const char *text)
{
    const char *s = text, *pw;
    const char *out = "";
    apr_size_t len;

    if (!md_util_has_credentials(text)) return text;
    while (find_password(s, &pw, &len)) {
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)(pw - s)), "***", NULL);
        s = pw + len;
    }
    return apr_pstrcat(p, out, s, NULL);
}

const char *md_util_schemify(apr_pool_t *p, const char *s, const char *def_scheme)
{
    const char *c;

    for (c = s; *c && apr_isalnum(*c); ++c);
    if (':' == *c) return s;
    return apr_pstrcat(p, def_scheme, ":", s, NULL);
}

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

apr_status_t md_util_fsync_dir(const char *dir, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    struct dirent *e;
    DIR *d;
    int dfd, fd;

    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return APR_FROM_OS_ERROR(errno);
    d = fdopendir(dfd);
    if (!d) {
        rv = APR_FROM_OS_ERROR(errno);
        close(dfd);
        return rv;
    }
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
    int fd;

    if (0 == unlinkat(dfd, name, 0) || ENOENT == errno) return APR_SUCCESS;
    if (EISDIR != errno && EPERM != errno) return APR_FROM_OS_ERROR(errno);
    if (depth >= RM_DEPTH_MAX) return APR_FROM_OS_ERROR(ELOOP);
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return APR_FROM_OS_ERROR(errno);
    d = fdopendir(fd);
    if (!d) {
        rv = APR_FROM_OS_ERROR(errno);
        close(fd);
        return rv;
    }
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

/* --- commands ----------------------------------------------------------------------------- */

apr_status_t md_util_cmd_argv(const char ***pargv, apr_pool_t *p, const char *cmdline, ...)
{
    char **tokens;
    apr_array_header_t *args;
    const char *arg;
    apr_status_t rv;
    va_list ap;
    int i;

    *pargv = NULL;
    rv = apr_tokenize_to_argv(cmdline, &tokens, p);
    if (APR_SUCCESS != rv) return rv;
    args = apr_array_make(p, 8, sizeof(const char *));
    for (i = 0; tokens[i]; ++i) APR_ARRAY_PUSH(args, const char *) = tokens[i];
    if (0 == args->nelts) return APR_EINVAL;
    va_start(ap, cmdline);
    while ((arg = va_arg(ap, const char *))) APR_ARRAY_PUSH(args, const char *) = arg;
    va_end(ap);
    APR_ARRAY_PUSH(args, const char *) = NULL;
    *pargv = (const char **)args->elts;
    return APR_SUCCESS;
}

/* Commands run as the server: a hanging one would block the renewal (or the
 * parent at activation) for good. */
static apr_interval_time_t exec_timeout = MD_UTIL_EXEC_TIMEOUT;

void md_util_exec_timeout_set(apr_interval_time_t timeout)
{
    exec_timeout = (timeout > 0) ? timeout : MD_UTIL_EXEC_TIMEOUT;
}

apr_interval_time_t md_util_exec_timeout_get(void)
{
    return exec_timeout;
}

static apr_time_t mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return apr_time_from_sec(ts.tv_sec) + ts.tv_nsec / 1000;
}

/* In the child between fork and exec: only async-signal-safe calls. The
 * child leads its own process group, so that a timeout ends all it
 * started; errno of a failed exec goes back through errfd. */
static void exec_child(const char *cmd, const char *const *argv,
                       const char *const *envp, int errpipe_w, int errfd)
{
    int null, err;

    setpgid(0, 0);
    null = open("/dev/null", O_RDONLY);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        if (null != STDIN_FILENO) {
            close(null);
        }
    }
    dup2(errpipe_w, STDERR_FILENO);
    if (errpipe_w != STDERR_FILENO) {
        close(errpipe_w);
    }
    if (envp) {
        execve(cmd, (char *const *)argv, (char *const *)envp);
    }
    else {
        execv(cmd, (char *const *)argv);
    }
    err = errno;
    if (write(errfd, &err, sizeof(err)) < 0) {
        err = 0;
    }
    _exit(127);
}

/* Logs the complete lines of buf[0..*plen) and keeps the rest. */
static void log_lines(char *buf, apr_size_t *plen, int flush, const char *cmd,
                      apr_pool_t *p)
{
    char *start = buf, *nl;
    apr_size_t len = *plen;

    while ((nl = memchr(start, '\n', len - (apr_size_t)(start - buf)))) {
        *nl = '\0';
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "cmd(%s) stderr: %s", cmd, start);
        start = nl + 1;
    }
    len -= (apr_size_t)(start - buf);
    memmove(buf, start, len);
    if (len && (flush || len >= 1023)) {
        buf[len] = '\0';
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "cmd(%s) stderr: %s", cmd, buf);
        len = 0;
    }
    *plen = len;
}

/* 1 if the "NAME=VALUE" strings a and b name the same variable. */
static int env_same_name(const char *a, const char *b)
{
    const char *eq = strchr(a, '=');
    apr_size_t len = eq ? (apr_size_t)(eq - a) : strlen(a);

    return !strncmp(a, b, len) && (b[len] == '=' || b[len] == '\0');
}

/* The environment of a command: the process's own with env added (built
 * before the fork: the child may only make async-signal-safe calls). */
static const char *const *exec_envp(const char *const *env, apr_pool_t *p)
{
    extern char **environ;
    apr_array_header_t *envp;
    const char *const *add;
    char **cur;

    if (!env) return NULL;
    envp = apr_array_make(p, 32, sizeof(const char *));
    for (cur = environ; cur && *cur; ++cur) {
        for (add = env; *add && !env_same_name(*add, *cur); ++add) {}
        if (!*add) {
            APR_ARRAY_PUSH(envp, const char *) = *cur;
        }
    }
    for (add = env; *add; ++add) APR_ARRAY_PUSH(envp, const char *) = *add;
    APR_ARRAY_PUSH(envp, const char *) = NULL;
    return (const char *const *)envp->elts;
}

apr_status_t md_util_exec_timed(apr_pool_t *p, const char *cmd, const char *const *argv,
                                const char *const *env, apr_interval_time_t timeout,
                                int *pexit_code)
{
    const char *const *envp = exec_envp(env, p);
    char buf[1024];
    apr_size_t blen = 0;
    apr_time_t deadline = mono_now() + timeout, left;
    struct pollfd pfd;
    int errpipe[2] = { -1, -1 }, execpipe[2] = { -1, -1 };
    int status, err = 0, eof = 0, timed_out = 0;
    ssize_t n;
    pid_t pid, w;
    apr_status_t rv = APR_SUCCESS;

    *pexit_code = -1;
    if (pipe(errpipe) || pipe(execpipe)) {
        rv = APR_FROM_OS_ERROR(errno);
        goto leave;
    }
    /* none of them leaks into commands that other threads start; dup2 in
     * the child clears the flag on its stderr */
    fcntl(errpipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(errpipe[1], F_SETFD, FD_CLOEXEC);
    fcntl(execpipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(execpipe[1], F_SETFD, FD_CLOEXEC);
    pid = fork();
    if (pid < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto leave;
    }
    if (0 == pid) {
        close(errpipe[0]);
        close(execpipe[0]);
        exec_child(cmd, argv, envp, errpipe[1], execpipe[1]);
    }
    close(errpipe[1]);
    close(execpipe[1]);
    errpipe[1] = execpipe[1] = -1;
    /* the exec pipe closes at exec (nothing to read) or carries its errno */
    n = read(execpipe[0], &err, sizeof(err));
    if (n == (ssize_t)sizeof(err) && err) {
        waitpid(pid, &status, 0);
        rv = APR_FROM_OS_ERROR(err);
        goto leave;
    }
    while (!eof && !timed_out) {
        left = deadline - mono_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        pfd.fd = errpipe[0];
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, (int)(left / 1000) + 1) < 0) {
            if (EINTR == errno) {
                continue;
            }
            break;
        }
        if (!pfd.revents) {
            continue;
        }
        n = read(errpipe[0], buf + blen, sizeof(buf) - 1 - blen);
        if (n < 0 && EINTR == errno) {
            continue;
        }
        if (n <= 0) {
            eof = 1;
            break;
        }
        blen += (apr_size_t)n;
        log_lines(buf, &blen, 0, cmd, p);
    }
    log_lines(buf, &blen, 1, cmd, p);
    /* stderr closed (or given up): wait for the exit, within the deadline */
    while (!timed_out) {
        w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            break;
        }
        if (w < 0 && EINTR != errno) {
            rv = APR_FROM_OS_ERROR(errno);
            goto leave;
        }
        if (mono_now() >= deadline) {
            timed_out = 1;
            break;
        }
        apr_sleep(apr_time_from_msec(10));
    }
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && EINTR == errno) {}
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_TIMEUP, p, "AH10707: cmd(%s) did not "
                      "finish within %ld seconds: killed it (process group %ld)", cmd,
                      (long)apr_time_sec(timeout), (long)pid);
        rv = APR_TIMEUP;
        goto leave;
    }
    *pexit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
leave:
    if (errpipe[0] >= 0) {
        close(errpipe[0]);
    }
    if (errpipe[1] >= 0) {
        close(errpipe[1]);
    }
    if (execpipe[0] >= 0) {
        close(execpipe[0]);
    }
    if (execpipe[1] >= 0) {
        close(execpipe[1]);
    }
    return rv;
}

apr_status_t md_util_exec(apr_pool_t *p, const char *cmd, const char *const *argv,
                          const char *const *env, int *pexit_code)
{
    return md_util_exec_timed(p, cmd, argv, env, exec_timeout, pexit_code);
}
