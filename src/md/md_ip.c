/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * IP addresses as managed domain names (RFC 8738): recognition, the normal
 * form, the ACME identifier type and the reverse-DNS names of tls-alpn-01.
 * The system's inet_pton/inet_ntop do all parsing and printing.
 */
#include <string.h>
#include <arpa/inet.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md_ip.h"

#define MD_IN_ADDR_ARPA ".in-addr.arpa"
#define MD_IP6_ARPA     ".ip6.arpa"

/* Parses s into buf (16 bytes); the address family, or 0. Brackets around
 * an IPv6 address and a zone id after it are allowed; *pzoned tells the
 * latter. */
static int ip_parse(unsigned char *buf, int *pzoned, const char *s)
{
    char bare[INET6_ADDRSTRLEN];
    const char *pct;
    apr_size_t len;

    *pzoned = 0;
    if (!s || !*s) return 0;
    if (inet_pton(AF_INET, s, buf) == 1) return AF_INET;
    len = strlen(s);
    if ('[' == s[0]) {
        if (len < 3 || ']' != s[len - 1]) return 0;
        ++s;
        len -= 2;
    }
    pct = memchr(s, '%', len);
    if (pct) {
        /* a zone id names an interface of this host: meaningless in a
         * certificate, but there must be one */
        if ((apr_size_t)(pct - s) + 1 == len) return 0;
        *pzoned = 1;
        len = (apr_size_t)(pct - s);
    }
    if (len >= sizeof(bare)) return 0;
    memcpy(bare, s, len);
    bare[len] = '\0';
    if (!strchr(bare, ':')) return 0;
    return inet_pton(AF_INET6, bare, buf) == 1 ? AF_INET6 : 0;
}

int md_ip_is_address(const char *s)
{
    unsigned char buf[16];
    int zoned;

    return ip_parse(buf, &zoned, s) != 0;
}

apr_status_t md_ip_normalize(const char **pip, int *pzoned, const char *s,
                             apr_pool_t *p)
{
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN];
    int zoned = 0, af;
    apr_status_t rv = APR_EINVAL;

    *pip = NULL;
    af = ip_parse(buf, &zoned, s);
    if (af && inet_ntop(af, buf, out, sizeof(out))) {
        *pip = apr_pstrdup(p, out);
        rv = APR_SUCCESS;
    }
    if (pzoned) {
        *pzoned = zoned;
    }
    return rv;
}

const char *md_ip_ident_type(const char *name)
{
    return md_ip_is_address(name) ? MD_IDENT_IP : MD_IDENT_DNS;
}

const char *md_ip_reverse_name(const char *ip, apr_pool_t *p)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char buf[16];
    char *s, *d;
    int zoned, af, i;

    af = ip_parse(buf, &zoned, ip);
    if (AF_INET == af) {
        return apr_psprintf(p, "%u.%u.%u.%u" MD_IN_ADDR_ARPA,
                            buf[3], buf[2], buf[1], buf[0]);
    }
    if (AF_INET6 != af) return NULL;
    /* per byte from the last: low nibble, dot, high nibble, dot */
    s = d = apr_palloc(p, 16 * 4 + sizeof(MD_IP6_ARPA) - 1);
    for (i = 15; i >= 0; --i) {
        *d++ = hex[buf[i] & 0x0f];
        *d++ = '.';
        *d++ = hex[buf[i] >> 4];
        *d++ = '.';
    }
    memcpy(d - 1, MD_IP6_ARPA, sizeof(MD_IP6_ARPA));
    return s;
}

/* name without one trailing dot and suffix, lower case; NULL unless name
 * ends in suffix (case-insensitively). */
static char *strip_suffix(const char *name, const char *suffix, apr_pool_t *p)
{
    apr_size_t len = strlen(name), slen = strlen(suffix);
    char *s;

    if (len > 0 && '.' == name[len - 1]) {
        --len;
    }
    if (len <= slen || strncasecmp(name + len - slen, suffix, slen)) return NULL;
    s = apr_pstrmemdup(p, name, len - slen);
    for (len = 0; s[len]; ++len) {
        s[len] = (char)apr_tolower(s[len]);
    }
    return s;
}

/* "d.c.b.a" (the labels of an in-addr.arpa name) to the address a.b.c.d */
static const char *from_in_addr(const char *labels, apr_pool_t *p)
{
    char *parts[4], *last, *copy = apr_pstrdup(p, labels), *tok;
    const char *ip;
    int n = 0;

    for (tok = apr_strtok(copy, ".", &last); tok; tok = apr_strtok(NULL, ".", &last)) {
        if (n >= 4) return NULL;
        parts[n++] = tok;
    }
    if (n != 4 || strstr(labels, "..") || '.' == labels[0]) return NULL;
    ip = apr_pstrcat(p, parts[3], ".", parts[2], ".", parts[1], ".", parts[0], NULL);
    return (APR_SUCCESS == md_ip_normalize(&ip, NULL, ip, p)) ? ip : NULL;
}

/* 32 nibble labels (least significant first) to the IPv6 address */
static const char *from_ip6(const char *labels, apr_pool_t *p)
{
    char text[40], *d = text + sizeof(text) - 1;
    const char *s = labels, *ip;
    int i;

    if (strlen(labels) != 63) return NULL;
    *d = '\0';
    for (i = 0; i < 32; ++i, s += 2) {
        if (!apr_isxdigit(s[0]) || (i < 31 && '.' != s[1])) return NULL;
        if (i > 0 && 0 == i % 4) {
            *--d = ':';
        }
        *--d = s[0];
    }
    return (APR_SUCCESS == md_ip_normalize(&ip, NULL, d, p)) ? ip : NULL;
}

const char *md_ip_from_reverse_name(const char *name, apr_pool_t *p)
{
    const char *labels;

    if (!name) return NULL;
    if (NULL != (labels = strip_suffix(name, MD_IN_ADDR_ARPA, p))) {
        return from_in_addr(labels, p);
    }
    if (NULL != (labels = strip_suffix(name, MD_IP6_ARPA, p))) {
        return from_ip6(labels, p);
    }
    return NULL;
}

const char *md_ip_url_host(const char *host, apr_pool_t *p)
{
    if (host && '[' != host[0] && strchr(host, ':') && md_ip_is_address(host)) {
        return apr_pstrcat(p, "[", host, "]", NULL);
    }
    return host;
}

const char *md_ip_first(const apr_array_header_t *names)
{
    int i;

    for (i = 0; names && i < names->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (md_ip_is_address(name)) return name;
    }
    return NULL;
}
