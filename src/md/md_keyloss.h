/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * A lost store key: md_store.json that cannot be read any more (a power
 * loss left it empty, a disk garbled it) is set aside, never deleted, and
 * the store makes a new one with a new key. What the old key encrypted
 * (account keys, staged and live keys) cannot be decrypted with the new
 * one: those entries are set aside too (accounts/broken-NAME, staging/NAME
 * and live/NAME to archive/NAME.N), so that renewals register and order
 * anew. domains/ keys are not encrypted and keep serving (docs/resilience.md).
 */
#ifndef md_keyloss_h
#define md_keyloss_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

struct md_store_t;

/**
 * 1 when fname is a regular file (not a link) that cannot serve as
 * md_store.json and may be replaced: no JSON object, or no key of the
 * right length in it. 0 when it is absent, readable, unreadable for other
 * reasons (permissions) or from a newer version of the store (those are
 * never replaced).
 */
int md_keyloss_store_file_corrupt(const char *fname, apr_pool_t *p);

/**
 * Renames fname to fname.corrupt-YYYYMMDDTHHMMSSZ (UTC at now; ".N" added
 * when that exists). *paside is the new name on success, else NULL.
 */
apr_status_t md_keyloss_set_aside_file(const char **paside, const char *fname,
                                       apr_time_t now, apr_pool_t *p);

/**
 * After a new store key replaced a lost one: sets aside every entry of
 * accounts/, staging/ and live/ with a key file that the store's current
 * key does not decrypt. Accounts are renamed broken-NAME (as unreadable
 * accounts are), staged and live sets move to archive/NAME.N. Returns the
 * number of entries set aside; a line per entry ("staging/NAME ->
 * archive/NAME.2", or the error) is pushed to lines (const char*, in p).
 */
int md_keyloss_set_aside(struct md_store_t *store, apr_array_header_t *lines,
                         apr_pool_t *p);

#endif /* md_keyloss_h */
