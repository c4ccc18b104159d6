/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * An abstract HTTP client: sessions (user agent, proxy, trust anchors,
 * timeouts, body limit), requests and bounded responses. The transport is a
 * pluggable implementation (md_curl.c by default; unit tests install a fake
 * that replays recorded answers). No transport type appears here.
 */
#ifndef md_http_h
#define md_http_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "md_util.h"

typedef struct md_http_t md_http_t;
typedef struct md_http_request_t md_http_request_t;
typedef struct md_http_response_t md_http_response_t;

/* Default bound for response bodies (ACME: 1 MiB). */
#define MD_HTTP_MAX_RESPONSE   (1024 * 1024)

/* Called with the response of a request run by md_http_multi_perform.
 * A non-success return stops the multi run with that status. */
typedef apr_status_t md_http_response_cb(const md_http_response_t *resp, void *baton);

/* Called by md_http_multi_perform for the next request to run; sets *preq
 * to NULL (or returns APR_ENOENT) when there are no more. in_flight is the
 * number of requests currently running. */
typedef apr_status_t md_http_next_req_cb(md_http_request_t **preq, void *baton,
                                         md_http_t *http, int in_flight);

struct md_http_request_t {
    md_http_t *http;                /* the session */
    apr_pool_t *pool;               /* request and response live here */
    int id;                         /* sequence number in the session */
    const char *method;             /* "GET", "HEAD", "POST" */
    const char *url;
    apr_table_t *headers;           /* request headers */
    const char *content_type;       /* of body, NULL without body */
    const md_data_t *body;          /* NULL: no body */
    apr_off_t resp_limit;           /* max body bytes accepted */
    apr_interval_time_t timeout;    /* total, 0 = none */
    apr_interval_time_t connect_timeout;
    long stall_bytes_per_sec;       /* abort when slower than this ... */
    apr_interval_time_t stall_timeout; /* ... for this long */
    const char *user_agent;
    const char *proxy_url;
    const char *ca_file;
    const char *proxy_ca_file;
    md_http_response_cb *cb;        /* for md_http_multi_perform */
    void *cb_data;
    void *internals;                /* for the implementation */
};

struct md_http_response_t {
    md_http_request_t *req;
    int status;                     /* HTTP status code */
    apr_table_t *headers;           /* response headers (last response) */
    md_data_t body;                 /* NUL terminated, at most req->resp_limit */
};

/* A transport implementation. perform runs one request synchronously and
 * fills resp (status, headers, body); transport failures are returned as
 * APR status (APR_ECONNREFUSED, APR_TIMEUP, APR_EINVAL for oversized bodies,
 * ...). session_cleanup releases what the implementation keeps per session
 * (keep-alive connections). multi_perform is optional. */
typedef struct md_http_impl_t {
    apr_status_t (*init)(void);
    apr_status_t (*perform)(md_http_request_t *req, md_http_response_t *resp);
    void (*session_cleanup)(md_http_t *http);
    apr_status_t (*multi_perform)(md_http_t *http, apr_pool_t *p,
                                  md_http_next_req_cb *nextreq, void *baton);
} md_http_impl_t;

/* Installs the transport for the process and calls its init (not
 * thread-safe: once at process start, or in unit tests around a test).
 * NULL re-installs the default (libcurl). */
apr_status_t md_http_use_implementation(const md_http_impl_t *impl);

/* Creates a session in pool p. user_agent is sent with every request;
 * proxy_url may be NULL. Keep-alive connections are kept per session and
 * released with the pool. A session is not thread-safe: use one per thread. */
apr_status_t md_http_create(md_http_t **phttp, apr_pool_t *p, const char *user_agent,
                            const char *proxy_url);

/* Session settings (apply to requests created afterwards). */
void md_http_set_ca_file(md_http_t *http, const char *ca_file);
void md_http_set_proxy_ca_file(md_http_t *http, const char *ca_file);
void md_http_set_response_limit(md_http_t *http, apr_off_t resp_limit);
void md_http_set_timeout_default(md_http_t *http, apr_interval_time_t timeout);
void md_http_set_connect_timeout_default(md_http_t *http, apr_interval_time_t timeout);
void md_http_set_stalling_default(md_http_t *http, long bytes_per_sec,
                                  apr_interval_time_t timeout);
apr_pool_t *md_http_pool(md_http_t *http);
/* The implementation's per-session data (e.g. a keep-alive handle). */
void *md_http_get_impl_data(md_http_t *http);
void md_http_set_impl_data(md_http_t *http, void *data);

/* A request in pool p with the session's settings; headers may be NULL
 * (an empty table is created). */
apr_status_t md_http_request_create(md_http_request_t **preq, md_http_t *http,
                                    const char *method, const char *url,
                                    apr_table_t *headers, apr_pool_t *p);
/* Attach a body (the data is referenced, not copied). */
void md_http_request_set_body(md_http_request_t *req, const char *content_type,
                              const char *data, apr_size_t len);
/* The response callback used by md_http_multi_perform. */
void md_http_request_set_on_response(md_http_request_t *req,
                                     md_http_response_cb *cb, void *baton);

/* Runs the request and gives its response (in req->pool). On transport
 * errors *presp is NULL and the status says what failed. */
apr_status_t md_http_perform(md_http_request_t *req, md_http_response_t **presp);

/* Conveniences: build and perform in one call. */
apr_status_t md_http_GET(md_http_response_t **presp, md_http_t *http, const char *url,
                         apr_table_t *headers, apr_pool_t *p);
apr_status_t md_http_HEAD(md_http_response_t **presp, md_http_t *http, const char *url,
                          apr_table_t *headers, apr_pool_t *p);
apr_status_t md_http_POST(md_http_response_t **presp, md_http_t *http, const char *url,
                          apr_table_t *headers, const char *content_type,
                          const char *data, apr_size_t len, apr_pool_t *p);

/* Runs requests supplied by nextreq, calling each request's response
 * callback. The implementation may run several in parallel; without
 * multi support they run one after the other. Transport errors of single
 * requests are logged and skipped. */
apr_status_t md_http_multi_perform(md_http_t *http, md_http_next_req_cb *nextreq,
                                   void *baton);

/* Header value of the response, case-insensitive; NULL if absent. */
const char *md_http_resp_header(const md_http_response_t *resp, const char *name);
/* Retry-After as an interval from now (delta-seconds or HTTP date),
 * def when absent or unparseable; never negative. */
apr_interval_time_t md_http_resp_retry_after(const md_http_response_t *resp,
                                             apr_interval_time_t def);

#endif /* md_http_h */
