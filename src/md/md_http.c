/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The transport-independent part of the HTTP client: sessions with their
 * defaults, request construction, dispatch to the installed implementation
 * and response helpers (headers, Retry-After).
 */
#include <stdlib.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_date.h>

#include "md_http.h"
#include "md_curl.h"
#include "md_log.h"

struct md_http_t {
    apr_pool_t *pool;
    const md_http_impl_t *impl;
    void *impl_data;
    int next_id;
    const char *user_agent;
    const char *proxy_url;
    const char *ca_file;
    const char *proxy_ca_file;
    apr_off_t resp_limit;
    apr_interval_time_t timeout;
    apr_interval_time_t connect_timeout;
    long stall_bytes_per_sec;
    apr_interval_time_t stall_timeout;
};

/* The process-wide transport (set once at start, see header). */
static const md_http_impl_t *cur_impl;
static int cur_impl_init;

apr_status_t md_http_use_implementation(const md_http_impl_t *impl)
{
    apr_status_t rv = APR_SUCCESS;

    cur_impl = impl ? impl : md_curl_get_impl();
    cur_impl_init = 0;
    if (cur_impl->init) {
        rv = cur_impl->init();
    }
    cur_impl_init = (APR_SUCCESS == rv);
    return rv;
}

static apr_status_t session_cleanup(void *data)
{
    md_http_t *http = data;

    if (http->impl && http->impl->session_cleanup) {
        http->impl->session_cleanup(http);
    }
    http->impl_data = NULL;
    return APR_SUCCESS;
}

apr_status_t md_http_create(md_http_t **phttp, apr_pool_t *p, const char *user_agent,
                            const char *proxy_url)
{
    md_http_t *http = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (!cur_impl_init) {
        rv = md_http_use_implementation(cur_impl);
        if (APR_SUCCESS != rv) goto leave;
    }
    http = apr_pcalloc(p, sizeof(*http));
    http->pool = p;
    http->impl = cur_impl;
    http->user_agent = apr_pstrdup(p, user_agent ? user_agent : "mod_md");
    http->proxy_url = proxy_url ? apr_pstrdup(p, proxy_url) : NULL;
    http->resp_limit = MD_HTTP_MAX_RESPONSE;
    http->timeout = apr_time_from_sec(60);
    http->connect_timeout = apr_time_from_sec(30);
    http->stall_bytes_per_sec = 10;
    http->stall_timeout = apr_time_from_sec(30);
    apr_pool_cleanup_register(p, http, session_cleanup, apr_pool_cleanup_null);
leave:
    *phttp = (APR_SUCCESS == rv) ? http : NULL;
    return rv;
}

void md_http_set_ca_file(md_http_t *http, const char *ca_file)
{
    http->ca_file = ca_file ? apr_pstrdup(http->pool, ca_file) : NULL;
}

void md_http_set_proxy_ca_file(md_http_t *http, const char *ca_file)
{
    http->proxy_ca_file = ca_file ? apr_pstrdup(http->pool, ca_file) : NULL;
}

void md_http_set_response_limit(md_http_t *http, apr_off_t resp_limit)
{
    http->resp_limit = resp_limit;
}

void md_http_set_timeout_default(md_http_t *http, apr_interval_time_t timeout)
{
    http->timeout = timeout;
}

void md_http_set_connect_timeout_default(md_http_t *http, apr_interval_time_t timeout)
{
    http->connect_timeout = timeout;
}

void md_http_set_stalling_default(md_http_t *http, long bytes_per_sec,
                                  apr_interval_time_t timeout)
{
    http->stall_bytes_per_sec = bytes_per_sec;
    http->stall_timeout = timeout;
}

apr_pool_t *md_http_pool(md_http_t *http)
{
    return http->pool;
}

void *md_http_get_impl_data(md_http_t *http)
{
    return http->impl_data;
}

void md_http_set_impl_data(md_http_t *http, void *data)
{
    http->impl_data = data;
}

apr_status_t md_http_request_create(md_http_request_t **preq, md_http_t *http,
                                    const char *method, const char *url,
                                    apr_table_t *headers, apr_pool_t *p)
{
    md_http_request_t *req;

    if (!url || !*url) {
        *preq = NULL;
        return APR_EINVAL;
    }
    req = apr_pcalloc(p, sizeof(*req));
    req->http = http;
    req->pool = p;
    req->id = http->next_id++;
    req->method = method;
    req->url = url;
    req->headers = headers ? apr_table_copy(p, headers) : apr_table_make(p, 5);
    req->resp_limit = http->resp_limit;
    req->timeout = http->timeout;
    req->connect_timeout = http->connect_timeout;
    req->stall_bytes_per_sec = http->stall_bytes_per_sec;
    req->stall_timeout = http->stall_timeout;
    req->user_agent = http->user_agent;
    req->proxy_url = http->proxy_url;
    req->ca_file = http->ca_file;
    req->proxy_ca_file = http->proxy_ca_file;
    *preq = req;
    return APR_SUCCESS;
}

void md_http_request_set_body(md_http_request_t *req, const char *content_type,
                              const char *data, apr_size_t len)
{
    req->content_type = content_type;
    req->body = md_data_make(req->pool, data, len);
}

void md_http_request_set_on_response(md_http_request_t *req,
                                     md_http_response_cb *cb, void *baton)
{
    req->cb = cb;
    req->cb_data = baton;
}

apr_status_t md_http_perform(md_http_request_t *req, md_http_response_t **presp)
{
    md_http_response_t *resp;
    apr_status_t rv;

    resp = apr_pcalloc(req->pool, sizeof(*resp));
    resp->req = req;
    resp->headers = apr_table_make(req->pool, 10);
    resp->body.data = "";
    md_log_perror(MD_LOG_MARK, MD_LOG_TRACE1, 0, req->pool,
                  "req[%d]: %s %s", req->id, req->method, req->url);
    rv = req->http->impl->perform(req, resp);
    if (APR_SUCCESS == rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_TRACE1, 0, req->pool,
                      "req[%d]: http status %d, %lu body bytes", req->id,
                      resp->status, (unsigned long)resp->body.len);
    }
    else {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, req->pool,
                      "AH10952: req[%d]: %s %s failed", req->id, req->method, req->url);
    }
    *presp = (APR_SUCCESS == rv) ? resp : NULL;
    return rv;
}

static apr_status_t do_request(md_http_response_t **presp, md_http_t *http,
                               const char *method, const char *url,
                               apr_table_t *headers, const char *content_type,
                               const char *data, apr_size_t len, apr_pool_t *p)
{
    md_http_request_t *req;
    apr_status_t rv;

    *presp = NULL;
    rv = md_http_request_create(&req, http, method, url, headers, p);
    if (APR_SUCCESS != rv) return rv;
    if (data) {
        md_http_request_set_body(req, content_type, data, len);
    }
    return md_http_perform(req, presp);
}

apr_status_t md_http_GET(md_http_response_t **presp, md_http_t *http, const char *url,
                         apr_table_t *headers, apr_pool_t *p)
{
    return do_request(presp, http, "GET", url, headers, NULL, NULL, 0, p);
}

apr_status_t md_http_HEAD(md_http_response_t **presp, md_http_t *http, const char *url,
                          apr_table_t *headers, apr_pool_t *p)
{
    return do_request(presp, http, "HEAD", url, headers, NULL, NULL, 0, p);
}

apr_status_t md_http_POST(md_http_response_t **presp, md_http_t *http, const char *url,
                          apr_table_t *headers, const char *content_type,
                          const char *data, apr_size_t len, apr_pool_t *p)
{
    return do_request(presp, http, "POST", url, headers, content_type,
                      data ? data : "", len, p);
}

/* Without a parallel implementation: one request after the other. */
static apr_status_t multi_sequential(md_http_t *http, md_http_next_req_cb *nextreq,
                                     void *baton)
{
    md_http_request_t *req;
    md_http_response_t *resp;
    apr_status_t rv;

    while (1) {
        req = NULL;
        rv = nextreq(&req, baton, http, 0);
        if (APR_STATUS_IS_ENOENT(rv) || (APR_SUCCESS == rv && !req)) {
            rv = APR_SUCCESS;
            break;
        }
        if (APR_SUCCESS != rv) {
            break;
        }
        if (APR_SUCCESS == md_http_perform(req, &resp) && req->cb) {
            rv = req->cb(resp, req->cb_data);
            if (APR_SUCCESS != rv) {
                break;
            }
        }
    }
    return rv;
}

apr_status_t md_http_multi_perform(md_http_t *http, md_http_next_req_cb *nextreq,
                                   void *baton)
{
    if (http->impl->multi_perform) {
        return http->impl->multi_perform(http, http->pool, nextreq, baton);
    }
    return multi_sequential(http, nextreq, baton);
}

const char *md_http_resp_header(const md_http_response_t *resp, const char *name)
{
    return resp->headers ? apr_table_get(resp->headers, name) : NULL;
}

apr_interval_time_t md_http_resp_retry_after(const md_http_response_t *resp,
                                             apr_interval_time_t def)
{
    const char *s = md_http_resp_header(resp, "Retry-After");
    apr_time_t when;
    char *end;
    long secs;

    if (!s) return def;
    while (apr_isspace(*s)) ++s;
    if (apr_isdigit(*s)) {
        secs = strtol(s, &end, 10);
        if (secs < 0 || secs > 24 * 60 * 60) return def;
        return apr_time_from_sec(secs);
    }
    when = apr_date_parse_rfc(s);
    if (when == APR_DATE_BAD) return def;
    when -= apr_time_now();
    return (when > 0) ? when : 0;
}
