/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Shared set-up of the libFuzzer targets: APR and the crypto layer once per
 * process, the core's logging silenced, a fresh pool per input and the input
 * as a NUL-terminated copy for the string parsers.
 */
#ifndef md_fuzz_common_h
#define md_fuzz_common_h

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "md_crypto.h"
#include "md_log.h"

static apr_pool_t *fuzz_root_pool;

static int fuzz_log_level(void *baton, md_log_level_t level)
{
    (void)baton;
    (void)level;
    return 0;
}

static void fuzz_log_print(const char *file, int line, md_log_level_t level,
                           apr_status_t rv, void *baton, apr_pool_t *p,
                           const char *fmt, va_list ap)
{
    (void)file; (void)line; (void)level; (void)rv; (void)baton; (void)p;
    (void)fmt; (void)ap;
}

/** One-time set-up; returns the root pool. */
static apr_pool_t *fuzz_init(void)
{
    if (!fuzz_root_pool) {
        apr_initialize();
        apr_pool_create(&fuzz_root_pool, NULL);
        md_crypt_init(fuzz_root_pool);
        md_log_set(fuzz_log_level, fuzz_log_print, NULL);
    }
    return fuzz_root_pool;
}

/** A pool for one input (destroy it at the end of the input). */
static apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p;

    apr_pool_create(&p, fuzz_init());
    return p;
}

/** The input as a NUL-terminated string (embedded NULs end it early). */
static const char *fuzz_str(const uint8_t *data, size_t size, apr_pool_t *p)
{
    return apr_pstrmemdup(p, (const char *)data, size);
}

#endif /* md_fuzz_common_h */
