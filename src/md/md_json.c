/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The jansson wrapper: pool-bound values, key-path access, reading with a
 * size bound and writing in the store's format (2-space indent, insertion
 * order, no trailing newline). The only file that includes jansson.h.
 */
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_date.h>
#include <jansson.h>

#include "md_json.h"
#include "md_log.h"
#include "md_util.h"

struct md_json_t {
    apr_pool_t *p;
    json_t *j;
};

static apr_status_t json_pool_cleanup(void *data)
{
    md_json_t *json = data;

    if (json->j) {
        json_decref(json->j);
        json->j = NULL;
    }
    return APR_SUCCESS;
}

/* Wraps j, taking over its reference. */
static md_json_t *json_wrap(apr_pool_t *p, json_t *j)
{
    md_json_t *json = apr_pcalloc(p, sizeof(*json));

    json->p = p;
    json->j = j;
    apr_pool_cleanup_register(p, json, json_pool_cleanup, apr_pool_cleanup_null);
    return json;
}

md_json_t *md_json_create(apr_pool_t *p)
{
    return json_wrap(p, json_object());
}

md_json_t *md_json_create_array(apr_pool_t *p)
{
    return json_wrap(p, json_array());
}

md_json_t *md_json_create_s(apr_pool_t *p, const char *s)
{
    return json_wrap(p, json_string(s));
}

md_json_t *md_json_clone(apr_pool_t *p, const md_json_t *json)
{
    return json_wrap(p, json_deep_copy(json->j));
}

md_json_t *md_json_copy(apr_pool_t *p, const md_json_t *json)
{
    return json_wrap(p, json_incref(json->j));
}

/* --- key paths ---------------------------------------------------------------- */

/* Runs stmt with ap_ = the variadic key path following json (which must be
 * the function's last named parameter). */
#define WITH_PATH(json, stmt) do {  \
        va_list ap_;                \
        va_start(ap_, json);        \
        stmt;                       \
        va_end(ap_);                \
    } while (0)

/* j = the value at the variadic key path following json */
#define JSELECT(j, json) WITH_PATH(json, j = jselect(json, ap_))

static json_t *jselect(const md_json_t *json, va_list ap)
{
    const char *key;
    json_t *j = json ? json->j : NULL;

    key = va_arg(ap, const char *);
    while (key && j) {
        j = json_is_object(j) ? json_object_get(j, key) : NULL;
        key = va_arg(ap, const char *);
    }
    return j;
}

/* Walks to the parent of the last key, creating objects on the way.
 * Sets *pkey to the last key; returns NULL when a non-object is in the way. */
static json_t *jselect_parent(const char **pkey, md_json_t *json, va_list ap)
{
    const char *key, *next;
    json_t *j = json->j, *jn;

    *pkey = NULL;
    key = va_arg(ap, const char *);
    if (!key) return NULL;
    next = va_arg(ap, const char *);
    while (next) {
        if (!json_is_object(j)) return NULL;
        jn = json_object_get(j, key);
        if (!jn) {
            jn = json_object();
            json_object_set_new(j, key, jn);
        }
        j = jn;
        key = next;
        next = va_arg(ap, const char *);
    }
    *pkey = key;
    return json_is_object(j) ? j : NULL;
}

/* Sets value (reference taken over) at the key path; an empty path replaces
 * nothing and fails. */
static apr_status_t jselect_set_new(json_t *value, md_json_t *json, va_list ap)
{
    const char *key;
    json_t *parent = jselect_parent(&key, json, ap);

    if (!parent || !key) {
        json_decref(value);
        return APR_EINVAL;
    }
    return json_object_set_new(parent, key, value) ? APR_EINVAL : APR_SUCCESS;
}

/* rv = set value (reference taken over) at the variadic key path following json */
#define JSET_NEW(rv, value, json) WITH_PATH(json, rv = jselect_set_new(value, json, ap_))

md_json_type_t md_json_type(const md_json_t *json)
{
    switch (json_typeof(json->j)) {
        case JSON_OBJECT: return MD_JSON_TYPE_OBJECT;
        case JSON_ARRAY: return MD_JSON_TYPE_ARRAY;
        case JSON_STRING: return MD_JSON_TYPE_STRING;
        case JSON_REAL: return MD_JSON_TYPE_REAL;
        case JSON_INTEGER: return MD_JSON_TYPE_INT;
        case JSON_TRUE:
        case JSON_FALSE: return MD_JSON_TYPE_BOOL;
        default: return MD_JSON_TYPE_NULL;
    }
}

int md_json_is(md_json_type_t type, const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    if (!j) return 0;
    switch (type) {
        case MD_JSON_TYPE_OBJECT: return json_is_object(j);
        case MD_JSON_TYPE_ARRAY: return json_is_array(j);
        case MD_JSON_TYPE_STRING: return json_is_string(j);
        case MD_JSON_TYPE_REAL: return json_is_real(j);
        case MD_JSON_TYPE_INT: return json_is_integer(j);
        case MD_JSON_TYPE_BOOL: return json_is_boolean(j);
        case MD_JSON_TYPE_NULL: return json_is_null(j);
    }
    return 0;
}

int md_json_has_key(const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    return j != NULL;
}

int md_json_equal(const md_json_t *a, const md_json_t *b)
{
    return json_equal(a->j, b->j);
}

/* --- getters -------------------------------------------------------------------- */

const char *md_json_gets(const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    return (j && json_is_string(j)) ? json_string_value(j) : NULL;
}

const char *md_json_dups(apr_pool_t *p, const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    return (j && json_is_string(j)) ? apr_pstrdup(p, json_string_value(j)) : NULL;
}

long md_json_getl(const md_json_t *json, ...)
{
    json_t *j;
    double d;

    JSELECT(j, json);
    if (!j) return 0;
    if (json_is_integer(j)) return (long)json_integer_value(j);
    if (json_is_real(j)) {
        /* reals beyond the range of long (e.g. "bits": 5e88) are clamped:
         * converting them is undefined behaviour (found by fuzz_store_json) */
        d = json_real_value(j);
        if (d >= (double)LONG_MAX) return LONG_MAX;
        if (d <= (double)LONG_MIN) return LONG_MIN;
        return (long)d;
    }
    return 0;
}

double md_json_getn(const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    return (j && json_is_number(j)) ? json_number_value(j) : 0.0;
}

int md_json_getb(const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    if (!j) return 0;
    if (json_is_boolean(j)) return json_is_true(j);
    if (json_is_integer(j)) return json_integer_value(j) != 0;
    return 0;
}

apr_time_t md_json_get_time(const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    if (!j || !json_is_string(j)) return 0;
    return apr_date_parse_rfc(json_string_value(j));
}

md_json_t *md_json_getj(const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    if (!j) return NULL;
    return json_wrap(json->p, json_incref(j));
}

md_json_t *md_json_getcj(apr_pool_t *p, const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    if (!j) return NULL;
    return json_wrap(p, json_incref(j));
}

apr_status_t md_json_getsa(apr_array_header_t *a, const md_json_t *json, ...)
{
    json_t *j, *e;
    size_t i;

    JSELECT(j, json);
    if (!j || !json_is_array(j)) return APR_ENOENT;
    json_array_foreach(j, i, e) {
        if (json_is_string(e)) {
            APR_ARRAY_PUSH(a, const char *) = apr_pstrdup(a->pool, json_string_value(e));
        }
    }
    return APR_SUCCESS;
}

/* --- setters -------------------------------------------------------------------- */

/* A setter of one value at a key path, its json made by jvalue from `value` */
#define JSON_SETTER(name, type, jvalue)                     \
    apr_status_t name(type value, md_json_t *json, ...)     \
    {                                                       \
        apr_status_t rv;                                    \
        JSET_NEW(rv, jvalue, json);                         \
        return rv;                                          \
    }

JSON_SETTER(md_json_sets, const char *, value ? json_string(value) : json_null())
JSON_SETTER(md_json_setl, long, json_integer(value))
JSON_SETTER(md_json_setn, double, json_real(value))
JSON_SETTER(md_json_setb, int, json_boolean(value))
JSON_SETTER(md_json_setj, const md_json_t *, value ? json_incref(value->j) : json_null())

apr_status_t md_json_set_time(apr_time_t value, md_json_t *json, ...)
{
    char ts[APR_RFC822_DATE_LEN];
    apr_status_t rv;

    apr_rfc822_date(ts, value);
    JSET_NEW(rv, json_string(ts), json);
    return rv;
}

/* A setter that leaves the path alone when value is not given (is_given) */
#define JSON_SETTER_IF(name, type, is_given, jvalue)        \
    apr_status_t name(type value, md_json_t *json, ...)     \
    {                                                       \
        apr_status_t rv = APR_SUCCESS;                      \
        if (is_given) {                                     \
            JSET_NEW(rv, jvalue, json);                     \
        }                                                   \
        return rv;                                          \
    }

JSON_SETTER_IF(md_json_sets_if, const char *, value, json_string(value))
JSON_SETTER_IF(md_json_setj_if, const md_json_t *, value, json_incref(value->j))

apr_status_t md_json_set_time_if(apr_time_t value, md_json_t *json, ...)
{
    char ts[APR_RFC822_DATE_LEN];
    apr_status_t rv = APR_SUCCESS;

    if (value) {
        apr_rfc822_date(ts, value);
        JSET_NEW(rv, json_string(ts), json);
    }
    return rv;
}

apr_status_t md_json_setsa(const apr_array_header_t *a, md_json_t *json, ...)
{
    json_t *arr = json_array();
    apr_status_t rv;
    int i;

    for (i = 0; a && i < a->nelts; ++i) {
        json_array_append_new(arr, json_string(APR_ARRAY_IDX(a, i, const char *)));
    }
    JSET_NEW(rv, arr, json);
    return rv;
}

apr_status_t md_json_del(md_json_t *json, ...)
{
    const char *key;
    json_t *parent;

    WITH_PATH(json, parent = jselect_parent(&key, json, ap_));
    if (!parent || !key) return APR_EINVAL;
    json_object_del(parent, key);
    return APR_SUCCESS;
}

/* The array at the path (created when missing); NULL if something else is
 * there. An empty path designates json itself. */
static json_t *jselect_array(md_json_t *json, va_list ap)
{
    const char *key;
    json_t *parent, *arr;
    va_list aq;

    va_copy(aq, ap);
    if (!va_arg(aq, const char *)) {
        va_end(aq);
        return json_is_array(json->j) ? json->j : NULL;
    }
    va_end(aq);
    parent = jselect_parent(&key, json, ap);
    if (!parent || !key) return NULL;
    arr = json_object_get(parent, key);
    if (!arr) {
        arr = json_array();
        json_object_set_new(parent, key, arr);
    }
    return json_is_array(arr) ? arr : NULL;
}

/* arr = the array at the variadic key path following json (see jselect_array) */
#define JSELECT_ARRAY(arr, json) WITH_PATH(json, arr = jselect_array(json, ap_))

apr_status_t md_json_adds(const char *value, md_json_t *json, ...)
{
    json_t *arr;

    JSELECT_ARRAY(arr, json);
    if (!arr) return APR_EINVAL;
    return json_array_append_new(arr, json_string(value)) ? APR_EINVAL : APR_SUCCESS;
}

apr_status_t md_json_addj(const md_json_t *value, md_json_t *json, ...)
{
    json_t *arr;

    JSELECT_ARRAY(arr, json);
    if (!arr) return APR_EINVAL;
    return json_array_append(arr, value->j) ? APR_EINVAL : APR_SUCCESS;
}

apr_status_t md_json_insertj(const md_json_t *value, apr_size_t index,
                             md_json_t *json, ...)
{
    json_t *arr;

    JSELECT_ARRAY(arr, json);
    if (!arr) return APR_EINVAL;
    return json_array_insert(arr, index, value->j) ? APR_EINVAL : APR_SUCCESS;
}

apr_status_t md_json_limita(apr_size_t max, md_json_t *json, ...)
{
    json_t *arr;

    JSELECT_ARRAY(arr, json);
    if (!arr) return APR_EINVAL;
    while (json_array_size(arr) > max) {
        json_array_remove(arr, json_array_size(arr) - 1);
    }
    return APR_SUCCESS;
}

/* --- iteration ------------------------------------------------------------------- */

apr_size_t md_json_array_size(const md_json_t *json, ...)
{
    json_t *j;

    JSELECT(j, json);
    return (j && json_is_array(j)) ? json_array_size(j) : 0;
}

int md_json_itera(md_json_itera_cb *cb, void *baton, const md_json_t *json, ...)
{
    json_t *j, *e;
    size_t i;
    apr_pool_t *p = json->p;

    JSELECT(j, json);
    if (!j || !json_is_array(j)) return 1;
    json_array_foreach(j, i, e) {
        if (!cb(baton, i, json_wrap(p, json_incref(e)))) return 0;
    }
    return 1;
}

int md_json_iterkey(md_json_iterkey_cb *cb, void *baton, const md_json_t *json, ...)
{
    json_t *j, *e;
    const char *key;
    apr_pool_t *p = json->p;

    JSELECT(j, json);
    if (!j || !json_is_object(j)) return 1;
    json_object_foreach(j, key, e) {
        if (!cb(baton, key, json_wrap(p, json_incref(e)))) return 0;
    }
    return 1;
}

static void strings_map(json_t *j, md_json_map_cb *cb, void *baton)
{
    const char *key, *s, *mapped;
    json_t *e;
    size_t i;

    if (json_is_string(j)) {
        s = json_string_value(j);
        mapped = cb(baton, s);
        if (mapped && mapped != s) {
            json_string_set(j, mapped);
        }
    }
    else if (json_is_array(j)) {
        json_array_foreach(j, i, e) strings_map(e, cb, baton);
    }
    else if (json_is_object(j)) {
        json_object_foreach(j, key, e) strings_map(e, cb, baton);
    }
}

void md_json_strings_map(md_json_t *json, md_json_map_cb *cb, void *baton)
{
    if (json && json->j) {
        strings_map(json->j, cb, baton);
    }
}

/* --- serialising ------------------------------------------------------------------ */

static size_t dump_flags(md_json_fmt_t fmt)
{
    size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;

    return flags | ((MD_JSON_FMT_INDENT == fmt) ? JSON_INDENT(2) : JSON_COMPACT);
}

/* json_dump_callback's sink: appends to the md_sbuf_t baton */
static int dump_to_buf(const char *buffer, size_t len, void *baton)
{
    md_sbuf_putn(baton, buffer, len);
    return 0;
}

const char *md_json_writep(const md_json_t *json, apr_pool_t *p, md_json_fmt_t fmt)
{
    md_sbuf_t buf;

    md_sbuf_init(&buf, p, 4096);
    if (json_dump_callback(json->j, dump_to_buf, &buf, dump_flags(fmt))) return NULL;
    return buf.data;
}

apr_status_t md_json_writef(const md_json_t *json, apr_pool_t *p, md_json_fmt_t fmt,
                            apr_file_t *f)
{
    const char *s = md_json_writep(json, p, fmt);
    apr_size_t len;

    if (!s) return APR_EINVAL;
    len = strlen(s);
    return apr_file_write_full(f, s, len, NULL);
}

typedef struct {
    const md_json_t *json;
    md_json_fmt_t fmt;
} json_write_ctx;

static apr_status_t write_json_cb(void *baton, apr_file_t *f, apr_pool_t *p)
{
    json_write_ctx *ctx = baton;

    return md_json_writef(ctx->json, p, ctx->fmt, f);
}

apr_status_t md_json_freplace(const md_json_t *json, apr_pool_t *p, md_json_fmt_t fmt,
                              const char *path, apr_fileperms_t perms)
{
    json_write_ctx ctx;

    ctx.json = json;
    ctx.fmt = fmt;
    return md_util_freplace(path, perms, p, write_json_cb, &ctx);
}

apr_status_t md_json_fcreatex(const md_json_t *json, apr_pool_t *p, md_json_fmt_t fmt,
                              const char *path, apr_fileperms_t perms)
{
    json_write_ctx ctx;

    ctx.json = json;
    ctx.fmt = fmt;
    return md_util_fcreatex(path, perms, p, write_json_cb, &ctx);
}

/* --- parsing ---------------------------------------------------------------------- */

apr_status_t md_json_readd(md_json_t **pjson, apr_pool_t *p,
                           const char *data, apr_size_t len)
{
    json_error_t error;
    json_t *j;

    *pjson = NULL;
    if (len > MD_JSON_MAX_SIZE) return APR_EINVAL;
    j = json_loadb(data, len, JSON_DECODE_ANY, &error);
    if (!j) {
        md_log_perror(MD_LOG_MARK, MD_LOG_DEBUG, APR_EINVAL, p,
                      "AH10954: failed to parse JSON: %s (line %d:%d)",
                      error.text, error.line, error.column);
        return APR_EINVAL;
    }
    *pjson = json_wrap(p, j);
    return APR_SUCCESS;
}

apr_status_t md_json_readf(md_json_t **pjson, apr_pool_t *p, const char *path)
{
    return md_json_readfx(pjson, p, path, 0);
}

apr_status_t md_json_readfx(md_json_t **pjson, apr_pool_t *p, const char *path, int flags)
{
    const char *data;
    apr_size_t len;
    json_error_t error;
    json_t *j;
    apr_status_t rv;

    *pjson = NULL;
    rv = md_util_fread(&data, &len, path, MD_JSON_MAX_SIZE, flags, p);
    if (APR_SUCCESS != rv) return rv;
    j = json_loadb(data, len, JSON_DECODE_ANY, &error);
    if (!j) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, 0, p,
                      "failed to load JSON file %s: %s (line %d:%d)",
                      path, error.text, error.line, error.column);
        return APR_EINVAL;
    }
    *pjson = json_wrap(p, j);
    return APR_SUCCESS;
}
