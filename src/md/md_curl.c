/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * md_http on libcurl: each session keeps one easy handle so connections are
 * re-used; parallel runs use a multi handle with one easy handle per
 * request. Response bodies are collected up to the request's limit, headers
 * of the last response into an apr table.
 */
#include <string.h>
#include <curl/curl.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "md_curl.h"
#include "md_log.h"

#define MD_CURL_MAX_PARALLEL    6

/* What one transfer needs while it runs. */
typedef struct {
    md_http_request_t *req;
    md_http_response_t *resp;
    CURL *curl;
    int own_handle;                 /* cleanup curl when done */
    struct curl_slist *req_hdrs;
    apr_array_header_t *chunks;     /* md_data_t of received body parts */
    apr_size_t body_len;
    int too_large;
    char errbuf[CURL_ERROR_SIZE];
} curl_xfer_t;

static apr_status_t curl_init(void)
{
    if (CURLE_OK != curl_global_init(CURL_GLOBAL_DEFAULT)) return APR_EGENERAL;
    return APR_SUCCESS;
}

static size_t body_cb(char *data, size_t size, size_t nmemb, void *baton)
{
    curl_xfer_t *x = baton;
    size_t len = size * nmemb;
    md_data_t *chunk;

    if (x->req->resp_limit > 0
        && (apr_off_t)(x->body_len + len) > x->req->resp_limit) {
        x->too_large = 1;
        return 0;   /* aborts the transfer */
    }
    chunk = apr_array_push(x->chunks);
    chunk->data = apr_pmemdup(x->req->pool, data, len);
    chunk->len = len;
    x->body_len += len;
    return len;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *baton)
{
    curl_xfer_t *x = baton;
    size_t len = size * nmemb;
    const char *name, *value, *colon;
    char *line;
    apr_size_t n;

    if (len >= 5 && !strncmp("HTTP/", data, 5)) {
        /* a new response (after 100-continue or a redirect) */
        apr_table_clear(x->resp->headers);
        return len;
    }
    n = len;
    while (n > 0 && (data[n-1] == '\r' || data[n-1] == '\n')) --n;
    colon = memchr(data, ':', n);
    if (!colon || colon == data) return len;
    name = apr_pstrmemdup(x->req->pool, data, (apr_size_t)(colon - data));
    value = colon + 1;
    while (value < data + n && apr_isspace(*value)) ++value;
    line = apr_pstrmemdup(x->req->pool, value, (apr_size_t)(data + n - value));
    apr_table_add(x->resp->headers, name, line);
    return len;
}

/* Sets every option of the request on the easy handle. */
static apr_status_t xfer_setup(curl_xfer_t *x)
{
    md_http_request_t *req = x->req;
    const apr_array_header_t *elts;
    const apr_table_entry_t *e;
    CURL *c = x->curl;
    int i;

    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP|CURLPROTO_HTTPS));
#endif
    if (req->user_agent) {
        curl_easy_setopt(c, CURLOPT_USERAGENT, req->user_agent);
    }
    if (req->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
    }
    if (req->proxy_url) {
        curl_easy_setopt(c, CURLOPT_PROXY, req->proxy_url);
    }
    if (req->proxy_ca_file) {
        curl_easy_setopt(c, CURLOPT_PROXY_CAINFO, req->proxy_ca_file);
    }
    if (req->timeout > 0) {
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)apr_time_as_msec(req->timeout));
    }
    if (req->connect_timeout > 0) {
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)apr_time_as_msec(req->connect_timeout));
    }
    if (req->stall_bytes_per_sec > 0 && req->stall_timeout > 0) {
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, req->stall_bytes_per_sec);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                         (long)apr_time_sec(req->stall_timeout));
    }
    if (!strcmp("HEAD", req->method)) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    else if (!strcmp("GET", req->method)) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    else if (!strcmp("POST", req->method)) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->body->len : 0));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body->data : "");
    }
    else {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_ENOTIMPL, req->pool,
                      "AH10949: req[%d]: http method %s not supported", req->id, req->method);
        return APR_ENOTIMPL;
    }
    if (req->content_type) {
        x->req_hdrs = curl_slist_append(x->req_hdrs,
            apr_psprintf(req->pool, "Content-Type: %s", req->content_type));
    }
    elts = apr_table_elts(req->headers);
    e = (const apr_table_entry_t *)elts->elts;
    for (i = 0; i < elts->nelts; ++i) {
        x->req_hdrs = curl_slist_append(x->req_hdrs,
            apr_psprintf(req->pool, "%s: %s", e[i].key, e[i].val));
    }
    /* no "Expect: 100-continue" for our small bodies */
    x->req_hdrs = curl_slist_append(x->req_hdrs, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->req_hdrs);
    return APR_SUCCESS;
}

static apr_status_t xfer_cleanup(void *data)
{
    curl_xfer_t *x = data;

    if (x->curl) {
        curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, NULL);
        if (x->own_handle) {
            curl_easy_cleanup(x->curl);
        }
        x->curl = NULL;
    }
    if (x->req_hdrs) {
        curl_slist_free_all(x->req_hdrs);
        x->req_hdrs = NULL;
    }
    return APR_SUCCESS;
}

static apr_status_t xfer_create(curl_xfer_t **px, md_http_request_t *req,
                                md_http_response_t *resp, CURL *curl, int own)
{
    curl_xfer_t *x = apr_pcalloc(req->pool, sizeof(*x));

    x->req = req;
    x->resp = resp;
    x->curl = curl;
    x->own_handle = own;
    x->chunks = apr_array_make(req->pool, 10, sizeof(md_data_t));
    apr_pool_cleanup_register(req->pool, x, xfer_cleanup, apr_pool_cleanup_null);
    *px = x;
    return xfer_setup(x);
}

static apr_status_t curl_status(CURLcode code, int too_large)
{
    switch (code) {
        case CURLE_OK:
            return APR_SUCCESS;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            return APR_EINVAL;
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
            return APR_EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
            return APR_ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
            return APR_TIMEUP;
        case CURLE_WRITE_ERROR:
            return too_large ? APR_EINVAL : APR_EGENERAL;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
            return APR_ECONNRESET;
        default:
            return APR_EGENERAL;
    }
}

/* Completes the response after the transfer ended with code. */
static apr_status_t xfer_done(curl_xfer_t *x, CURLcode code)
{
    md_http_response_t *resp = x->resp;
    apr_status_t rv = curl_status(code, x->too_large);
    md_data_t *chunks;
    char *body;
    long status = 0;
    int i;

    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, rv, x->req->pool,
                      "AH10950: req[%d]: %s %s: curl error %d: %s", x->req->id, x->req->method,
                      x->req->url, (int)code,
                      x->too_large ? "response body exceeds limit"
                      : (x->errbuf[0] ? x->errbuf : curl_easy_strerror(code)));
        return rv;
    }
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    resp->status = (int)status;
    body = apr_palloc(x->req->pool, x->body_len + 1);
    chunks = (md_data_t *)x->chunks->elts;
    resp->body.len = 0;
    for (i = 0; i < x->chunks->nelts; ++i) {
        memcpy(body + resp->body.len, chunks[i].data, chunks[i].len);
        resp->body.len += chunks[i].len;
    }
    body[resp->body.len] = '\0';
    resp->body.data = body;
    return APR_SUCCESS;
}

static apr_status_t curl_perform(md_http_request_t *req, md_http_response_t *resp)
{
    md_http_t *http = req->http;
    CURL *curl = md_http_get_impl_data(http);
    curl_xfer_t *x;
    apr_status_t rv;

    if (!curl) {
        curl = curl_easy_init();
        if (!curl) return APR_EGENERAL;
        md_http_set_impl_data(http, curl);
    }
    else {
        curl_easy_reset(curl);  /* keeps the connection cache */
    }
    rv = xfer_create(&x, req, resp, curl, 0);
    if (APR_SUCCESS != rv) goto leave;
    rv = xfer_done(x, curl_easy_perform(curl));
    xfer_cleanup(x);    /* the session handle serves the next request */
leave:
    return rv;
}

static void curl_session_cleanup(md_http_t *http)
{
    CURL *curl = md_http_get_impl_data(http);

    if (curl) {
        curl_easy_cleanup(curl);
    }
    md_http_set_impl_data(http, NULL);
}

/* --- parallel requests ------------------------------------------------------- */

static apr_status_t multi_add_next(CURLM *multi, md_http_t *http,
                                   md_http_next_req_cb *nextreq, void *baton,
                                   int in_flight, int *pexhausted)
{
    md_http_request_t *req = NULL;
    md_http_response_t *resp;
    curl_xfer_t *x;
    CURL *curl;
    apr_status_t rv;

    rv = nextreq(&req, baton, http, in_flight);
    if (APR_STATUS_IS_ENOENT(rv) || (APR_SUCCESS == rv && !req)) {
        *pexhausted = 1;
        return APR_SUCCESS;
    }
    if (APR_SUCCESS != rv) return rv;
    resp = apr_pcalloc(req->pool, sizeof(*resp));
    resp->req = req;
    resp->headers = apr_table_make(req->pool, 10);
    resp->body.data = "";
    curl = curl_easy_init();
    if (!curl) return APR_EGENERAL;
    rv = xfer_create(&x, req, resp, curl, 1);
    if (APR_SUCCESS != rv) return rv;
    curl_easy_setopt(curl, CURLOPT_PRIVATE, x);
    if (CURLM_OK != curl_multi_add_handle(multi, curl)) return APR_EGENERAL;
    return APR_SUCCESS;
}

static apr_status_t multi_collect(CURLM *multi, int *pin_flight)
{
    apr_status_t rv = APR_SUCCESS, rv2;
    curl_xfer_t *x;
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(multi, &left))) {
        if (CURLMSG_DONE != msg->msg) {
            continue;
        }
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(multi, msg->easy_handle);
        --(*pin_flight);
        rv2 = xfer_done(x, msg->data.result);
        if (APR_SUCCESS == rv2 && x->req->cb) {
            rv2 = x->req->cb(x->resp, x->req->cb_data);
            if (APR_SUCCESS != rv2) {
                rv = rv2;
            }
        }
        xfer_cleanup(x);
    }
    return rv;
}

static apr_status_t curl_multi_perform_all(md_http_t *http, apr_pool_t *p,
                                           md_http_next_req_cb *nextreq, void *baton)
{
    CURLM *multi = curl_multi_init();
    apr_status_t rv = APR_SUCCESS;
    int in_flight = 0, running = 0, exhausted = 0, prev;

    if (!multi) return APR_EGENERAL;
    while (APR_SUCCESS == rv) {
        while (!exhausted && in_flight < MD_CURL_MAX_PARALLEL) {
            prev = exhausted;
            rv = multi_add_next(multi, http, nextreq, baton, in_flight, &exhausted);
            if (APR_SUCCESS != rv) goto leave;
            if (!exhausted && !prev) {
                ++in_flight;
            }
        }
        if (in_flight <= 0) {
            break;
        }
        if (CURLM_OK != curl_multi_perform(multi, &running)) {
            rv = APR_EGENERAL;
            break;
        }
        rv = multi_collect(multi, &in_flight);
        if (APR_SUCCESS != rv) {
            break;
        }
        if (running > 0) {
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
    }
leave:
    curl_multi_cleanup(multi);
    (void)p;
    return rv;
}

static const md_http_impl_t curl_impl = {
    curl_init,
    curl_perform,
    curl_session_cleanup,
    curl_multi_perform_all,
};

const md_http_impl_t *md_curl_get_impl(void)
{
    return &curl_impl;
}
