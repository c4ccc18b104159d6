/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Private to md_status.c, md_status_cache.c and md_status_text.c: what the
 * three share. Nothing else includes this.
 */
#ifndef md_status_int_h
#define md_status_int_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_json.h"
#include "md_util.h"

/* --- md_status.c ----------------------------------------------------------------------- */

void md_status_set_period(md_json_t *json, const char *key, apr_time_t from, apr_time_t until);
void md_status_mask_credentials(md_json_t *json, apr_pool_t *p);
int md_status_json_name_cmp(const void *a, const void *b);
apr_array_header_t *md_status_sorted_copy(const apr_array_header_t *a,
                                          int (*cmp)(const void *, const void *),
                                          apr_pool_t *p);

/* --- md_status_cache.c: cached entries -------------------------------------------------- */

/* The part of an MD's server-status text that does not move with the
 * clock (all but the activity), rendered once per output kind. */
typedef struct {
    const char *check_name;         /* the options it was rendered with */
    const char *check_url;
    const char *text;               /* NULL: not rendered yet */
    apr_time_t since;               /* valid from the time it was rendered */
    apr_time_t until;               /* to when "expired"/"from" change; 0 never */
} md_status_row_cache_t;

struct md_status_entry_t {
    apr_pool_t *p;
    const char *name;
    md_json_t *json;                /* <md> without logs */
    const char *text_nolog;         /* serialised at depth 0 */
    const char *text_log;
    apr_ssize_t at_nolog;           /* offset of the renew-at value to patch, -1 */
    apr_ssize_t at_log;
    const char *cert_status_text;
    apr_time_t expires;
    md_status_row_cache_t rows[2];  /* [0] ?auto lines, [1] HTML cells */
    int counts;                     /* COUNT_* bits for the ?auto totals, -1 unset */
};

void md_status_put_patched(md_sbuf_t *b, const char *text, apr_ssize_t at, const char *now822,
                           const char *indent);
int md_status_entry_name_cmp(const void *a, const void *b);

#endif /* md_status_int_h */
