/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Conversion of internationalized domain names (UTF-8) to punycode with
 * libidn2 (IDNA2008 with the non-transitional UTS#46 mapping).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <idn2.h>

#include "md_idna.h"

int md_dns_is_non_ascii(const char *s)
{
    for (; s && *s; ++s) {
        if ((unsigned char)*s >= 0x80) return 1;
    }
    return 0;
}

apr_status_t md_dns_to_ascii(const char **pascii, const char **perr,
                             const char *name, apr_pool_t *p)
{
    const char *prefix = "", *rest = name;
    char *out = NULL;
    int rc;

    *pascii = NULL;
    *perr = NULL;
    if (!name) {
        *perr = "no name";
        return APR_EINVAL;
    }
    if (!md_dns_is_non_ascii(name)) {
        *pascii = name;
        return APR_SUCCESS;
    }
    if (rest[0] == '*' && rest[1] == '.') {
        prefix = "*.";
        rest += 2;
    }
    rc = idn2_to_ascii_8z(rest, &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (IDN2_OK != rc) {
        *perr = apr_pstrdup(p, idn2_strerror(rc));
        return APR_EINVAL;
    }
    *pascii = apr_pstrcat(p, prefix, out, NULL);
    idn2_free(out);
    return APR_SUCCESS;
}
