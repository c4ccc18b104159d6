/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Internationalized domain names: the ASCII (punycode, IDNA2008) form of a
 * name, which the configuration names in its warning about a non-ASCII MD
 * name (names themselves are kept as written). libidn2 is used only here.
 */
#ifndef md_idna_h
#define md_idna_h

#include <apr_pools.h>

/**
 * Convert a domain name to its ASCII form. Pure ASCII names are returned
 * unchanged (not lower-cased); names with non-ASCII characters (UTF-8) are
 * converted label by label to "xn--" punycode after IDNA2008 mapping
 * (lower-casing, NFC). A leading "*." wildcard label is kept.
 * @param pascii  receives the ASCII name (pool memory), NULL on error
 * @param perr    on error, a short reason (static or pool memory)
 * @return APR_SUCCESS or APR_EINVAL (not valid UTF-8 or not a valid IDN)
 */
apr_status_t md_dns_to_ascii(const char **pascii, const char **perr,
                             const char *name, apr_pool_t *p);

/** 1 if s contains a byte >= 0x80. */
int md_dns_is_non_ascii(const char *s);

#endif /* md_idna_h */
