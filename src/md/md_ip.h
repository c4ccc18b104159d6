/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * IP addresses as names of a managed domain (RFC 8738): telling an address
 * from a DNS name, its one written form (IPv6 compressed, no zone id), the
 * ACME identifier type of a name and the reverse-DNS names that tls-alpn-01
 * uses as SNI for an address. Parsing is inet_pton's, printing inet_ntop's.
 */
#ifndef md_ip_h
#define md_ip_h

#include <apr_pools.h>
#include <apr_tables.h>

/** The ACME identifier types (RFC 8555 7.1.4, RFC 8738 3). */
#define MD_IDENT_DNS    "dns"
#define MD_IDENT_IP     "ip"

/**
 * 1 if s is an IPv4 address in dotted-quad form or an IPv6 address (bare
 * or in brackets, with or without a "%zone" suffix); 0 otherwise, also for
 * NULL.
 */
int md_ip_is_address(const char *s);

/**
 * The normal form of an address: IPv4 dotted quad, IPv6 as inet_ntop
 * prints it (lower case, longest zero run compressed); brackets and a zone
 * id are dropped.
 * @param pip      receives the normal form (pool memory), NULL on error
 * @param pzoned   if not NULL, set to 1 when a zone id was dropped, else 0
 * @param s        the address as written
 * @return APR_SUCCESS, or APR_EINVAL when s is not an address
 */
apr_status_t md_ip_normalize(const char **pip, int *pzoned, const char *s,
                             apr_pool_t *p);

/** "ip" for an address, "dns" for anything else (the ACME identifier type). */
const char *md_ip_ident_type(const char *name);

/**
 * The reverse-DNS name of an address (RFC 8738 6: the SNI of a tls-alpn-01
 * validation): "10.2.0.192.in-addr.arpa" or 32 nibbles + ".ip6.arpa".
 * NULL when ip is not an address.
 */
const char *md_ip_reverse_name(const char *ip, apr_pool_t *p);

/**
 * The address a reverse-DNS name designates, in normal form; NULL if name
 * is not a complete in-addr.arpa / ip6.arpa name of one address. Case and
 * one trailing dot do not matter.
 */
const char *md_ip_from_reverse_name(const char *name, apr_pool_t *p);

/**
 * host as the host part of a URL or a Host header has it: an IPv6 address
 * in brackets (RFC 3986 3.2.2), anything else (a name, an IPv4 address, an
 * address in brackets already) as given. NULL for NULL.
 */
const char *md_ip_url_host(const char *host, apr_pool_t *p);

/** The first address among names (const char *), or NULL. */
const char *md_ip_first(const apr_array_header_t *names);

#endif /* md_ip_h */
