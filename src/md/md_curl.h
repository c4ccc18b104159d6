/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The libcurl transport of md_http: one easy handle per session (keep-alive
 * reuse), trust anchors, proxy, timeouts and bounded bodies, plus parallel
 * requests through a curl multi handle. The only file that includes curl.
 */
#ifndef md_curl_h
#define md_curl_h

#include "md_http.h"

/* The libcurl implementation, for md_http_use_implementation(). Its init
 * runs curl_global_init (once per process, not thread-safe). */
const md_http_impl_t *md_curl_get_impl(void);

#endif /* md_curl_h */
