/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * MDStoreDB, the cluster store in the module (docs/cluster.md): the
 * directive, a connection per child, the renewal drive wrapped in the
 * lease, challenges shared between nodes and the md-status part.
 */
#ifndef mod_md_mod_md_db_h
#define mod_md_mod_md_db_h

struct md_renew_opts_t;
struct md_json_t;

/* MDStoreDB DRIVER "PARAMS" key=FILE [lease=DURATION] [node=NAME] */
const char *md_db_set_store(cmd_parms *cmd, void *dc, int argc, char *const argv[]);

void md_db_register_hooks(apr_pool_t *p);

/* With MDStoreDB: wraps opts' drive so that a renewal first looks for a
 * set another node renewed, then takes the MD's lease, renews and hands
 * the staged set to the database under the lease's fencing token. */
void md_db_drive_wrap(struct md_renew_opts_t *opts, apr_pool_t *p);

/* Offers again to the database the staged sets of mds (md_t*) that this
 * node renewed and the database did not take then (AH10850), unless it
 * has as new a set by now. Returns when to try again (0: nothing left).
 * Without MDStoreDB nothing. */
apr_time_t md_db_publish_pending(const struct md_renew_opts_t *opts,
                                 apr_array_header_t *mds, apr_pool_t *p);

/* Shares challenges/<domain> with the other nodes (called once a
 * challenge is set up). Without MDStoreDB nothing. */
void md_db_challenge_setup(const char *domain, apr_pool_t *p);

/* The text of challenges/<domain>/<aspect> set up by another node (keys as
 * plain PEM): APR_ENOENT without MDStoreDB or without it. */
apr_status_t md_db_challenge_get(const char **ptext, const char *domain,
                                 const char *aspect, apr_pool_t *p);

/* The md-status document text with a "cluster-store" member added when
 * MDStoreDB is configured (unchanged otherwise). */
const char *md_db_status_add(const char *text, apr_pool_t *p);

#endif /* mod_md_mod_md_db_h */
