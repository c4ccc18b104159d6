/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Helpers shared by the core (md_util.h): encodings, string arrays, DNS
 * names, URIs. Files written with the store's discipline are in
 * md_util_file.c, running external commands in md_util_exec.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_cstr.h>
#include <apr_base64.h>
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

/* --- text buffer ------------------------------------------------------------------ */

void md_sbuf_init(md_sbuf_t *b, apr_pool_t *p, apr_size_t cap)
{
    b->p = p;
    b->cap = (cap < 256) ? 256 : cap;
    b->len = 0;
    b->data = apr_palloc(p, b->cap);
    b->data[0] = '\0';
}

void md_sbuf_putn(md_sbuf_t *b, const char *s, apr_size_t len)
{
    char *ndata;

    if (b->len + len + 1 > b->cap) {
        while (b->len + len + 1 > b->cap) b->cap *= 2;
        ndata = apr_palloc(b->p, b->cap);
        memcpy(ndata, b->data, b->len);
        b->data = ndata;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void md_sbuf_puts(md_sbuf_t *b, const char *s)
{
    md_sbuf_putn(b, s, strlen(s));
}

void md_sbuf_printf(md_sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    const char *s;

    va_start(ap, fmt);
    s = apr_pvsprintf(b->p, fmt, ap);
    va_end(ap);
    md_sbuf_puts(b, s);
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
