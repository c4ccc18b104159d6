/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * JSON values for the store files and status documents, a thin wrapper over
 * jansson that ties each value's lifetime to an APR pool. Members are
 * addressed by NULL-terminated key paths: md_json_gets(j, "ca", "url", NULL).
 */
#ifndef md_json_h
#define md_json_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_file_io.h>

typedef struct md_json_t md_json_t;

typedef enum {
    MD_JSON_TYPE_OBJECT,
    MD_JSON_TYPE_ARRAY,
    MD_JSON_TYPE_STRING,
    MD_JSON_TYPE_REAL,
    MD_JSON_TYPE_INT,
    MD_JSON_TYPE_BOOL,
    MD_JSON_TYPE_NULL,
} md_json_type_t;

typedef enum {
    MD_JSON_FMT_COMPACT,    /* one line, no spaces */
    MD_JSON_FMT_INDENT,     /* 2-space indent, insertion order, no trailing newline */
} md_json_fmt_t;

#define MD_JSON_SENTINEL __attribute__((sentinel))

/* Limit for documents read from the network or files: 1 MiB. */
#define MD_JSON_MAX_SIZE (1024 * 1024)

/* A new empty object / array. The value is released with the pool. */
md_json_t *md_json_create(apr_pool_t *p);
md_json_t *md_json_create_array(apr_pool_t *p);
md_json_t *md_json_create_s(apr_pool_t *p, const char *s);

/* Deep copy / shared reference in another pool. */
md_json_t *md_json_clone(apr_pool_t *p, const md_json_t *json);
md_json_t *md_json_copy(apr_pool_t *p, const md_json_t *json);

md_json_type_t md_json_type(const md_json_t *json);
int md_json_is(md_json_type_t type, const md_json_t *json, ...) MD_JSON_SENTINEL;
int md_json_has_key(const md_json_t *json, ...) MD_JSON_SENTINEL;
int md_json_equal(const md_json_t *a, const md_json_t *b);

/* Getters: a missing member or one of another type gives 0/NULL. */
const char *md_json_gets(const md_json_t *json, ...) MD_JSON_SENTINEL;
const char *md_json_dups(apr_pool_t *p, const md_json_t *json, ...) MD_JSON_SENTINEL;
long md_json_getl(const md_json_t *json, ...) MD_JSON_SENTINEL;
double md_json_getn(const md_json_t *json, ...) MD_JSON_SENTINEL;
int md_json_getb(const md_json_t *json, ...) MD_JSON_SENTINEL;
/* RFC 822 time string member; 0 when missing or unparseable. */
apr_time_t md_json_get_time(const md_json_t *json, ...) MD_JSON_SENTINEL;
/* A member as a json value sharing the underlying data, allocated in p. */
md_json_t *md_json_getj(const md_json_t *json, ...) MD_JSON_SENTINEL;
md_json_t *md_json_getcj(apr_pool_t *p, const md_json_t *json, ...) MD_JSON_SENTINEL;
/* Strings of an array member appended to a (const char*); non-strings skipped. */
apr_status_t md_json_getsa(apr_array_header_t *a, const md_json_t *json, ...) MD_JSON_SENTINEL;

/* Setters create intermediate objects on the way. */
apr_status_t md_json_sets(const char *value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_setl(long value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_setn(double value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_setb(int value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_set_time(apr_time_t value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_setj(const md_json_t *value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_setsa(const apr_array_header_t *a, md_json_t *json, ...) MD_JSON_SENTINEL;
/* The same, but only when there is a value (not NULL, time not 0); without
 * one the member is left as it is and APR_SUCCESS returned. For the optional
 * members of the to_json functions. */
apr_status_t md_json_sets_if(const char *value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_set_time_if(apr_time_t value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_setj_if(const md_json_t *value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_del(md_json_t *json, ...) MD_JSON_SENTINEL;
/* Append to an array member (created when missing). */
apr_status_t md_json_adds(const char *value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_addj(const md_json_t *value, md_json_t *json, ...) MD_JSON_SENTINEL;
apr_status_t md_json_insertj(const md_json_t *value, apr_size_t index,
                             md_json_t *json, ...) MD_JSON_SENTINEL;
/* Keep only the first max elements of an array member. */
apr_status_t md_json_limita(apr_size_t max, md_json_t *json, ...) MD_JSON_SENTINEL;

/* Arrays */
apr_size_t md_json_array_size(const md_json_t *json, ...) MD_JSON_SENTINEL;
typedef int md_json_itera_cb(void *baton, apr_size_t index, md_json_t *json);
/* Calls cb for each element of the array member until cb returns 0.
 * Returns 0 if iteration was stopped, 1 otherwise. */
int md_json_itera(md_json_itera_cb *cb, void *baton, const md_json_t *json, ...)
    MD_JSON_SENTINEL;
typedef int md_json_iterkey_cb(void *baton, const char *key, md_json_t *json);
int md_json_iterkey(md_json_iterkey_cb *cb, void *baton, const md_json_t *json, ...)
    MD_JSON_SENTINEL;
/* Replaces every string value (at any depth, not keys) by what cb returns
 * for it; cb returns its argument (or NULL) to keep it. */
typedef const char *md_json_map_cb(void *baton, const char *s);
void md_json_strings_map(md_json_t *json, md_json_map_cb *cb, void *baton);

/* Serialising */
const char *md_json_writep(const md_json_t *json, apr_pool_t *p, md_json_fmt_t fmt);
apr_status_t md_json_writef(const md_json_t *json, apr_pool_t *p, md_json_fmt_t fmt,
                            apr_file_t *f);
/* Atomic replace (<path>.tmp + rename) with the given mode. */
apr_status_t md_json_freplace(const md_json_t *json, apr_pool_t *p, md_json_fmt_t fmt,
                              const char *path, apr_fileperms_t perms);
/* Exclusive create: APR_EEXIST if the file exists. */
apr_status_t md_json_fcreatex(const md_json_t *json, apr_pool_t *p, md_json_fmt_t fmt,
                              const char *path, apr_fileperms_t perms);

/* Parsing. Errors are logged at ERR as "failed to load JSON file <path>:
 * <text> (line l:c)" for files. Inputs beyond MD_JSON_MAX_SIZE are APR_EINVAL.
 * The error text (if perr is not NULL) is set on failure. */
apr_status_t md_json_readd(md_json_t **pjson, apr_pool_t *p,
                           const char *data, apr_size_t len);
apr_status_t md_json_readf(md_json_t **pjson, apr_pool_t *p, const char *path);
/* md_json_readf with md_util_fread flags (MD_FREAD_NOFOLLOW). */
apr_status_t md_json_readfx(md_json_t **pjson, apr_pool_t *p, const char *path, int flags);

#endif /* md_json_h */
