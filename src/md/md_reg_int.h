/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Private to the registry's files: md_reg.c (slots, chains, fallbacks,
 * state, sync, renewal timing) and md_reg_staging.c (per-MD locks,
 * purges and the activation of what staging/ holds). The registry object
 * itself; nothing outside them reads its fields.
 */
#ifndef md_reg_int_h
#define md_reg_int_h

#include <apr_pools.h>
#include <apr_hash.h>
#include <apr_thread_mutex.h>

#include "md_reg.h"
#include "md_store.h"

struct md_reg_t {
    apr_pool_t *p;              /* set-up (single threaded) allocations only */
    apr_pool_t *lp;             /* own, unmanaged: allocations under mutex by
                                 * request and renewal threads, which must
                                 * not share p (the server's pool) */
    md_store_t *store;
    apr_thread_mutex_t *mutex;
    apr_hash_t *pubcerts;       /* "<name>\n<slot>" -> md_pubcert_t* */
    apr_pool_t *certs_p;        /* the leaf certificates of pubcerts */
    apr_hash_t *fallback_keys;  /* spec activity name -> fallback_key_t* */
    apr_hash_t *stored;         /* name -> md_t* from domains/ (during sync) */
    const char *dns01_cmd;
    int dns01_version;
    const char *fallback_dir;   /* fallbacks outside the store, NULL: domains/ */
    int sync_deferred;          /* md_reg_defer_sync */
};

#endif /* md_reg_int_h */
