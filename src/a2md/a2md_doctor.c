/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * a2md doctor [NAME...]: what makes renewals fail, one check after the
 * other, each with a verdict (ok, warn, fail, skipped and why) and a fix:
 * the store's modes and owners, the clock against the CA's, names that do
 * not resolve to this host, CAA records that exclude the CA, whether
 * http-01 and tls-alpn-01 reach the running server (a probe answer written
 * to challenges/NAME as an order would, fetched through the server and
 * removed again), staged sets waiting for a restart, renewals in back-off
 * and MDs the server does not renew. The judgements are in md_doctor.c.
 *
 * A check that needs the network beyond this host (the CA, DNS, a server
 * at another address) is "skipped" when that cannot be reached: the
 * doctor fails only on what it saw. Exit code 1 when a check failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "md.h"
#include "md_acme.h"
#include "md_crypto.h"
#include "md_doctor.h"
#include "md_http.h"
#include "md_ip.h"
#include "md_job.h"
#include "md_json.h"
#include "md_log.h"
#include "md_status.h"
#include "md_store.h"
#include "md_time.h"
#include "md_util.h"
#include "a2md.h"

#define PROBE_TIMEOUT       apr_time_from_sec(10)
#define PROBE_CONNECT       apr_time_from_sec(5)
#define MAX_STORE_FINDINGS  50

typedef struct {
    a2md_ctx_t *ctx;
    apr_pool_t *p;
    apr_array_header_t *checks;     /* md_doctor_check_t */
    apr_array_header_t *local;      /* this host's addresses */
    apr_hash_t *ca_asked;           /* CA urls whose directory was asked for */
    apr_hash_t *ca_ids;             /* CA url -> caaIdentities, of directories read */
    md_json_t *status;              /* the server's md-status, NULL: not asked */
    int store_findings;
} doctor_t;

static const char *errtext(apr_status_t rv, apr_pool_t *p)
{
    char buf[256];

    return apr_pstrdup(p, apr_strerror(rv, buf, sizeof(buf)));
}

static void add(doctor_t *d, const char *id, const char *subject,
                md_doctor_verdict_t verdict, const char *detail, const char *fix)
{
    md_doctor_add(d->checks, id, subject, verdict, detail, fix);
}

/* --- the store -------------------------------------------------------------------- */

static md_store_group_t group_of(const char *name)
{
    int g;

    for (g = MD_SG_NONE + 1; g < MD_SG_COUNT; ++g) {
        if (!strcmp(name, md_store_group_name((md_store_group_t)g))) {
            return (md_store_group_t)g;
        }
    }
    return MD_SG_NONE;
}

static md_doctor_verdict_t judge_entry(doctor_t *d, const char *path,
                                       const char *relpath, md_store_group_t group,
                                       const struct stat *st, long group_uid)
{
    const char *why, *fix;
    md_doctor_verdict_t v;

    v = md_doctor_judge_mode(&why, &fix, relpath, path, group, S_ISDIR(st->st_mode),
                             (unsigned int)(st->st_mode & 07777), (long)st->st_uid,
                             group_uid, d->p);
    if (MD_DOCTOR_OK != v && ++d->store_findings <= MAX_STORE_FINDINGS) {
        add(d, "store.permissions", relpath, v, why, fix);
    }
    return v;
}

/* Judges path (depth 1: a group directory or a top-level file) and what a
 * directory holds, down to the files in <group>/<name>/ (depth 3). */
static void walk(doctor_t *d, const char *path, const char *relpath,
                 md_store_group_t group, long group_uid, int depth)
{
    md_doctor_verdict_t v = MD_DOCTOR_OK;
    struct dirent *de;
    struct stat st;
    DIR *dir;

    if (lstat(path, &st) != 0) {
        add(d, "store.permissions", relpath, MD_DOCTOR_SKIPPED,
            apr_psprintf(d->p, "could not run: cannot look at it: %s",
                         strerror(errno)),
            "run a2md doctor as root or as the store's owner");
        return;
    }
    if (S_ISLNK(st.st_mode)) return;
    if (1 == depth) {
        group = group_of(relpath);
        group_uid = (long)st.st_uid;
    }
    if (depth > 0) {
        v = judge_entry(d, path, relpath, group, &st, group_uid);
    }
    if (!S_ISDIR(st.st_mode) || depth >= 3) return;
    if (!(dir = opendir(path))) {
        if (MD_DOCTOR_FAIL != v) {
            /* not the mode's fault: the doctor's user may not look */
            add(d, "store.permissions", depth ? relpath : NULL, MD_DOCTOR_SKIPPED,
                apr_psprintf(d->p, "could not run: cannot read %s: %s", path,
                             strerror(errno)),
                "run a2md doctor as root or as the store's owner");
        }
        return;
    }
    while ((de = readdir(dir)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
            continue;
        }
        walk(d, apr_pstrcat(d->p, path, "/", de->d_name, NULL),
             depth ? apr_pstrcat(d->p, relpath, "/", de->d_name, NULL)
                   : apr_pstrdup(d->p, de->d_name), group, group_uid, depth + 1);
    }
    closedir(dir);
}

static void check_store(doctor_t *d)
{
    int before = d->checks->nelts, running;
    long pid;

    walk(d, md_store_base_dir(d->ctx->store), "", MD_SG_NONE, -1, 0);
    if (d->store_findings > MAX_STORE_FINDINGS) {
        add(d, "store.permissions", NULL, MD_DOCTOR_WARN,
            apr_psprintf(d->p, "%d more findings left out",
                         d->store_findings - MAX_STORE_FINDINGS), NULL);
    }
    if (d->checks->nelts == before) {
        add(d, "store.permissions", NULL, MD_DOCTOR_OK,
            apr_psprintf(d->p, "modes and owners below %s as the store gives them",
                         md_store_base_dir(d->ctx->store)), NULL);
    }
    if (APR_SUCCESS != md_store_server_running(&running, &pid, d->ctx->store, d->p)) {
        add(d, "server.running", NULL, MD_DOCTOR_SKIPPED,
            "cannot tell whether a server uses the store", NULL);
    }
    else if (running) {
        add(d, "server.running", NULL, MD_DOCTOR_OK, pid > 0 ? apr_psprintf(
                d->p, "a server uses the store (pid %ld)", pid)
            : "a server uses the store", NULL);
    }
    else {
        add(d, "server.running", NULL, MD_DOCTOR_WARN, "no server uses the store: "
            "nobody renews, the challenge probes ask whatever answers",
            "start the server (apachectl start)");
    }
}

/* --- the CA: clock and CAA identities ---------------------------------------------- */

static const char *md_ca(const md_t *md)
{
    if (md->ca_effective) return md->ca_effective;
    if (md->ca_urls && md->ca_urls->nelts > 0) {
        return APR_ARRAY_IDX(md->ca_urls, 0, const char *);
    }
    return NULL;
}

static void check_ca(doctor_t *d, const md_t *md)
{
    const char *url = md_ca(md), *date;
    apr_array_header_t *ids = NULL;
    md_http_response_t *resp = NULL;
    md_json_t *json = NULL;
    md_http_t *http;
    apr_time_t before = 0, after = 0, ca_time;
    apr_interval_time_t skew;
    apr_status_t rv;
    md_doctor_verdict_t v;

    if (!url || apr_hash_get(d->ca_asked, url, APR_HASH_KEY_STRING)) return;
    apr_hash_set(d->ca_asked, url, APR_HASH_KEY_STRING, url);
    /* the way the server goes to its CA: -p wins over the MD's MDHttpProxy */
    rv = md_http_create(&http, d->p, md_acme_user_agent(),
                        d->ctx->proxy_url ? d->ctx->proxy_url : md->proxy_url);
    if (APR_SUCCESS != rv) goto leave;
    md_http_set_ca_file(http, d->ctx->ca_file ? d->ctx->ca_file : md->ca_certs);
    if (md->proxy_ca_certs) {
        md_http_set_proxy_ca_file(http, md->proxy_ca_certs);
    }
    md_http_set_timeout_default(http, PROBE_TIMEOUT);
    md_http_set_connect_timeout_default(http, PROBE_CONNECT);
    before = apr_time_now();
    rv = md_http_GET(&resp, http, url, NULL, d->p);
    after = apr_time_now();
    if (APR_SUCCESS == rv && 200 == resp->status) {
        md_json_readd(&json, d->p, resp->body.data, resp->body.len);
    }
leave:
    if (json) {
        ids = apr_array_make(d->p, 2, sizeof(const char *));
        md_json_getsa(ids, json, "meta", "caaIdentities", NULL);
        apr_hash_set(d->ca_ids, url, APR_HASH_KEY_STRING, ids);
    }
    date = resp ? md_http_resp_header(resp, "Date") : NULL;
    ca_time = date ? md_time_parse_rfc(date) : 0;
    if (!ca_time) {
        add(d, "ca.clock", url, MD_DOCTOR_SKIPPED, APR_SUCCESS != rv ? apr_psprintf(
                d->p, "could not run: the CA is not reachable (%s)",
                errtext(rv, d->p))
            : "could not run: the CA's answer has no Date", NULL);
        return;
    }
    /* the Date has a resolution of one second: within it, clocks agree */
    skew = ca_time - (before + (after - before) / 2);
    if (skew > -apr_time_from_sec(1) && skew < apr_time_from_sec(1)) {
        skew = 0;
    }
    v = md_doctor_judge_clock(skew);
    add(d, "ca.clock", url, v, !skew ? "this host's clock agrees with the CA's "
        "(within a second)" : apr_psprintf(
            d->p, "this host's clock is %" APR_TIME_T_FMT " s %s the CA's",
            apr_time_sec(skew < 0 ? -skew : skew), skew > 0 ? "behind" : "ahead of"),
        MD_DOCTOR_OK == v ? NULL : "synchronise the clock (systemd-timesyncd, chrony "
        "or ntpd)");
}

/* --- names and CAA ------------------------------------------------------------------- */

/* The address the probes connect to for domain, NULL (with *pwhy) if none. */
static const char *check_name(doctor_t *d, const char *domain, const char **pwhy)
{
    apr_array_header_t *addrs;
    const char *local = NULL;
    apr_status_t rv;
    int i;

    *pwhy = NULL;
    rv = md_doctor_resolve(&addrs, domain, d->ctx->dns_server, d->p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        *pwhy = "it does not resolve";
        add(d, "dns.name", domain, MD_DOCTOR_FAIL, apr_psprintf(
                d->p, "%s does not resolve: a CA cannot reach it", domain),
            apr_psprintf(d->p, "add an A/AAAA record for %s pointing to this server",
                         domain));
        return d->ctx->server_addr;
    }
    if (APR_SUCCESS != rv) {
        *pwhy = "no resolver answered";
        add(d, "dns.name", domain, MD_DOCTOR_SKIPPED,
            "could not run: no resolver answered", NULL);
        return d->ctx->server_addr;
    }
    for (i = 0; i < addrs->nelts && !local; ++i) {
        const char *a = APR_ARRAY_IDX(addrs, i, const char *);
        if (md_array_str_index(d->local, a, 0, 0) >= 0) {
            local = a;
        }
    }
    if (local) {
        add(d, "dns.name", domain, MD_DOCTOR_OK, apr_psprintf(
                d->p, "resolves to %s, an address of this host",
                md_array_str_join(addrs, ", ", d->p)), NULL);
    }
    else {
        add(d, "dns.name", domain, MD_DOCTOR_WARN, apr_psprintf(
                d->p, "resolves to %s, none of them an address of this host",
                md_array_str_join(addrs, ", ", d->p)),
            "fine behind NAT or a load balancer that forwards ports 80/443 here; "
            "else correct the DNS records");
    }
    if (d->ctx->server_addr) return d->ctx->server_addr;
    return local ? local : APR_ARRAY_IDX(addrs, 0, const char *);
}

static void check_caa(doctor_t *d, const md_t *md, const char *domain)
{
    apr_array_header_t *rrs, *ids = NULL;
    const char *owner, *why, *url = md_ca(md);
    md_doctor_verdict_t v;
    apr_status_t rv;

    rv = md_caa_lookup(&rrs, &owner, domain, d->ctx->dns_server, d->p);
    if (APR_SUCCESS != rv) {
        add(d, "dns.caa", domain, MD_DOCTOR_SKIPPED,
            "could not run: no resolver answered the CAA queries", NULL);
        return;
    }
    if (!rrs->nelts) {
        add(d, "dns.caa", domain, MD_DOCTOR_OK, "no CAA records: every CA may issue",
            NULL);
        return;
    }
    if (url) {
        ids = apr_hash_get(d->ca_ids, url, APR_HASH_KEY_STRING);
    }
    v = md_caa_judge(&why, rrs, domain, ids, d->p);
    if (MD_DOCTOR_SKIPPED == v && ids) {
        /* the directory was read, the CA just names no identities */
        v = MD_DOCTOR_WARN;
        why = apr_psprintf(d->p, "%s (the CA publishes no caaIdentities)", why);
    }
    add(d, "dns.caa", domain, v, MD_DOCTOR_OK == v ? apr_psprintf(
            d->p, "the CAA records at %s allow the CA", owner)
        : apr_psprintf(d->p, "at %s: %s", owner, why),
        MD_DOCTOR_OK == v ? NULL : apr_psprintf(
            d->p, "add a CAA record '%s. CAA 0 issue \"<the CA's domain>\"'", owner));
}

/* --- challenge probes ------------------------------------------------------------------ */

static int challenge_allowed(const md_t *md, const char *type)
{
    if (!md->ca_challenges || md->ca_challenges->nelts == 0) return 1;
    return md_array_str_index(md->ca_challenges, type, 0, 0) >= 0;
}

/* Gives a file a2md wrote in challenges/ (and the domain's directory) to
 * the owner of challenges/: the server's User reads it there (a key is
 * 0600) and replaces it in its next order. Nothing to do unless root. */
static apr_status_t hand_over(doctor_t *d, const char *domain, const char *aspect)
{
    const char *group_dir, *fname = NULL;
    apr_status_t rv = APR_SUCCESS;
    struct stat st;

    group_dir = md_store_get_dir(d->ctx->store, MD_SG_CHALLENGES, NULL, d->p);
    if (geteuid() != 0 || !group_dir || stat(group_dir, &st) != 0) goto leave;
    if (chown(md_store_get_dir(d->ctx->store, MD_SG_CHALLENGES, domain, d->p),
              st.st_uid, st.st_gid) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto leave;
    }
    rv = md_store_get_fname(&fname, d->ctx->store, MD_SG_CHALLENGES, domain, aspect,
                            d->p);
    if (APR_SUCCESS == rv && chown(fname, st.st_uid, st.st_gid) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
leave:
    return rv;
}

/* A check that did not get through: a failure when the address is this
 * host's (nothing answers there), else it could not run. */
static void unreachable(doctor_t *d, const char *id, const char *domain,
                        const char *addr, int port, apr_status_t rv, const char *fix)
{
    if (md_array_str_index(d->local, addr, 0, 0) >= 0) {
        add(d, id, domain, MD_DOCTOR_FAIL, apr_psprintf(
                d->p, "nothing answers at %s port %d (%s)", addr, port,
                errtext(rv, d->p)), fix);
        return;
    }
    add(d, id, domain, MD_DOCTOR_SKIPPED, apr_psprintf(
            d->p, "could not run: %s port %d is not reachable from here (%s)", addr,
            port, errtext(rv, d->p)), NULL);
}

/* Removes a probe file (and its key file) if it still holds what the
 * doctor wrote (mine: the http-01 text or the certificate's fingerprint):
 * an order of the server may have replaced it meanwhile. The domain's
 * directory goes too when the doctor made it and it is empty. */
static void remove_probe(doctor_t *d, const char *domain, const char *aspect,
                         const char *key_aspect, const char *mine, int created)
{
    apr_array_header_t *chain = NULL;
    const char *text = NULL, *fp = NULL;
    apr_status_t rv;

    if (!mine) goto leave;
    if (key_aspect) {
        rv = md_store_load(d->ctx->store, MD_SG_CHALLENGES, domain, aspect,
                           MD_SV_CHAIN, (void **)&chain, d->p);
        if (APR_SUCCESS == rv && chain->nelts > 0) {
            md_cert_to_sha256_fingerprint(&fp, APR_ARRAY_IDX(chain, 0, md_cert_t *),
                                          d->p);
        }
    }
    else {
        md_store_load(d->ctx->store, MD_SG_CHALLENGES, domain, aspect, MD_SV_TEXT,
                      (void **)&text, d->p);
        fp = text;
    }
    if (!fp || strcmp(fp, mine)) goto leave;
    md_store_remove(d->ctx->store, MD_SG_CHALLENGES, domain, aspect, d->p, 1);
    if (key_aspect) {
        md_store_remove(d->ctx->store, MD_SG_CHALLENGES, domain, key_aspect, d->p, 1);
    }
leave:
    if (created) {
        /* fails when not empty: then an order uses it now */
        apr_dir_remove(md_store_get_dir(d->ctx->store, MD_SG_CHALLENGES, domain, d->p),
                       d->p);
    }
}

static const char *probe_token(apr_pool_t *p)
{
    unsigned char rnd[16];

    md_rand_bytes(rnd, sizeof(rnd), p);
    return md_util_base64url_encode((const char *)rnd, sizeof(rnd), p);
}

static void probe_http01(doctor_t *d, const md_t *md, const char *domain,
                         const char *addr)
{
    int port = d->ctx->http_port ? d->ctx->http_port : 80;
    const char *token = probe_token(d->p), *text = NULL, *url, *host;
    int created = !md_store_exists(d->ctx->store, MD_SG_CHALLENGES, domain, NULL, d->p);
    md_http_response_t *resp = NULL;
    apr_table_t *headers;
    md_http_t *http;
    apr_status_t rv;

    (void)md;
    if (md_store_exists(d->ctx->store, MD_SG_CHALLENGES, domain, MD_FN_HTTP01, d->p)) {
        add(d, "challenge.http-01", domain, MD_DOCTOR_SKIPPED, apr_psprintf(
                d->p, "could not run: an order's answer is in challenges/%s now", domain),
            "run a2md doctor again when the order is done");
        return;
    }
    text = apr_pstrcat(d->p, token, ".a2md-doctor-probe", NULL);
    rv = md_store_save(d->ctx->store, d->p, MD_SG_CHALLENGES, domain, MD_FN_HTTP01,
                       MD_SV_TEXT, (void *)text, 1);
    if (APR_SUCCESS == rv) {
        rv = hand_over(d, domain, MD_FN_HTTP01);
    }
    if (APR_SUCCESS != rv) {
        add(d, "challenge.http-01", domain, MD_DOCTOR_SKIPPED, apr_psprintf(
                d->p, "could not run: cannot write challenges/%s (%s)", domain,
                errtext(rv, d->p)), "run a2md doctor as root");
        goto leave;
    }
    /* "" keeps curl off any proxy of the environment: a self-request */
    rv = md_http_create(&http, d->p, md_acme_user_agent(), "");
    if (APR_SUCCESS != rv) goto leave;
    md_http_set_timeout_default(http, PROBE_TIMEOUT);
    md_http_set_connect_timeout_default(http, PROBE_CONNECT);
    url = apr_psprintf(d->p, "http://%s:%d/.well-known/acme-challenge/%s",
                       md_ip_url_host(addr, d->p), port, token);
    /* as a CA asks: an IPv6 address in brackets (RFC 8738 7.1) */
    host = md_ip_url_host(domain, d->p);
    if (80 != port) {
        host = apr_psprintf(d->p, "%s:%d", host, port);
    }
    headers = apr_table_make(d->p, 1);
    apr_table_set(headers, "Host", host);
    rv = md_http_GET(&resp, http, url, headers, d->p);
    if (APR_SUCCESS != rv) {
        unreachable(d, "challenge.http-01", domain, addr, port, rv, apr_psprintf(
                d->p, "let the server listen on port %d (Listen %d) or give the port "
                "with --http-port", port, port));
    }
    else if (200 == resp->status && resp->body.data && !strcmp(resp->body.data, text)) {
        add(d, "challenge.http-01", domain, MD_DOCTOR_OK, apr_psprintf(
                d->p, "http://%s:%d/.well-known/acme-challenge/ answers from the store "
                "(asked at %s)", md_ip_url_host(domain, d->p), port, addr), NULL);
    }
    else if (resp->status >= 300 && resp->status < 400) {
        add(d, "challenge.http-01", domain, MD_DOCTOR_WARN, apr_psprintf(
                d->p, "answered with a redirect (%d) to %s", resp->status,
                md_http_resp_header(resp, "Location")
                ? md_http_resp_header(resp, "Location") : "nowhere"),
            "CAs follow redirects only to http/https on ports 80/443: keep "
            "/.well-known/acme-challenge/ out of redirects");
    }
    else {
        add(d, "challenge.http-01", domain, MD_DOCTOR_FAIL, apr_psprintf(
                d->p, "%s port %d does not answer the challenge for %s: status %d%s",
                addr, port, domain, resp->status, 200 == resp->status
                ? " with other content (another server or a proxy answers)" : ""),
            apr_psprintf(d->p, "serve %s from this server's mod_md on port %d (a "
                         "VirtualHost with ServerName/ServerAlias %s, nothing else "
                         "answering /.well-known/acme-challenge/)", domain, port,
                         domain));
    }
leave:
    remove_probe(d, domain, MD_FN_HTTP01, NULL, text, created);
}

/* Writes a tls-alpn-01 certificate for domain where the server looks for
 * it, its fingerprint in *pfp. */
static apr_status_t write_alpn_cert(doctor_t *d, const char *domain, const char **pfp)
{
    md_pkey_spec_t spec;
    md_pkey_t *pkey;
    md_cert_t *cert;
    apr_array_header_t *chain;
    apr_status_t rv;

    memset(&spec, 0, sizeof(spec));
    spec.type = MD_PKEY_TYPE_EC;
    spec.curve = "prime256v1";
    rv = md_pkey_gen(&pkey, d->p, &spec);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_cert_make_tls_alpn_01(&cert, domain, probe_token(d->p), pkey,
                                  apr_time_from_sec(600), d->p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_cert_to_sha256_fingerprint(pfp, cert, d->p);
    if (APR_SUCCESS != rv) goto leave;
    rv = md_store_save(d->ctx->store, d->p, MD_SG_CHALLENGES, domain,
                       MD_FN_TLSALPN01_PKEY, MD_SV_PKEY, pkey, 0);
    if (APR_SUCCESS != rv) goto leave;
    chain = apr_array_make(d->p, 1, sizeof(md_cert_t *));
    APR_ARRAY_PUSH(chain, md_cert_t *) = cert;
    rv = md_store_save(d->ctx->store, d->p, MD_SG_CHALLENGES, domain,
                       MD_FN_TLSALPN01_CERT, MD_SV_CHAIN, chain, 0);
    if (APR_SUCCESS != rv) {
        md_store_remove(d->ctx->store, MD_SG_CHALLENGES, domain, MD_FN_TLSALPN01_PKEY,
                        d->p, 1);
        goto leave;
    }
    rv = hand_over(d, domain, MD_FN_TLSALPN01_PKEY);
    if (APR_SUCCESS == rv) {
        rv = hand_over(d, domain, MD_FN_TLSALPN01_CERT);
    }
leave:
    return rv;
}

static void probe_tlsalpn01(doctor_t *d, const md_t *md, const char *domain,
                            const char *addr)
{
    int port = d->ctx->https_port ? d->ctx->https_port : 443;
    int created = !md_store_exists(d->ctx->store, MD_SG_CHALLENGES, domain, NULL, d->p);
    /* not asked for explicitly: the server's MDs use http-01 without it */
    md_doctor_verdict_t missing = md->ca_challenges && md->ca_challenges->nelts
                                  ? MD_DOCTOR_FAIL : MD_DOCTOR_WARN;
    const char *fp = NULL, *alpn, *err, *got, *sni;
    md_cert_t *cert;
    apr_status_t rv;

    if (md_store_exists(d->ctx->store, MD_SG_CHALLENGES, domain, MD_FN_TLSALPN01_CERT,
                        d->p)) {
        add(d, "challenge.tls-alpn-01", domain, MD_DOCTOR_SKIPPED, apr_psprintf(
                d->p, "could not run: an order's certificate is in challenges/%s now",
                domain), "run a2md doctor again when the order is done");
        return;
    }
    rv = write_alpn_cert(d, domain, &fp);
    if (APR_SUCCESS != rv) {
        add(d, "challenge.tls-alpn-01", domain, MD_DOCTOR_SKIPPED, apr_psprintf(
                d->p, "could not run: cannot write challenges/%s (%s)", domain,
                errtext(rv, d->p)), "run a2md doctor as root");
        goto leave;
    }
    /* a CA validates an address with its reverse-DNS name as SNI (RFC 8738
     * 6) */
    sni = md_ip_is_address(domain) ? md_ip_reverse_name(domain, d->p) : domain;
    rv = md_tls_probe(&alpn, &cert, &err, addr, port, sni, MD_TLSALPN01_PROTO,
                      PROBE_TIMEOUT, d->p);
    if (APR_SUCCESS != rv && !APR_STATUS_IS_EGENERAL(rv)) {
        unreachable(d, "challenge.tls-alpn-01", domain, addr, port, rv, apr_psprintf(
                d->p, "let the server listen with TLS on port %d or give the port "
                "with --https-port", port));
        goto leave;
    }
    if (APR_SUCCESS != rv) {
        add(d, "challenge.tls-alpn-01", domain, missing, apr_psprintf(
                d->p, "the TLS handshake at %s port %d failed: %s", addr, port, err),
            "a VirtualHost with SSLEngine on must serve this name on the port");
        goto leave;
    }
    if (strcmp(alpn, MD_TLSALPN01_PROTO)) {
        add(d, "challenge.tls-alpn-01", domain, missing, apr_psprintf(
                d->p, "%s port %d does not speak %s for %s (ALPN answer: %s)", addr,
                port, MD_TLSALPN01_PROTO, domain, *alpn ? alpn : "none"),
            apr_psprintf(d->p, "add %s to Protocols (server-wide or in the vhost of %s), "
                         "e.g. 'Protocols h2 http/1.1 %s'", MD_TLSALPN01_PROTO, domain,
                         MD_TLSALPN01_PROTO));
        goto leave;
    }
    got = NULL;
    if (cert) {
        md_cert_to_sha256_fingerprint(&got, cert, d->p);
    }
    if (got && !strcmp(got, fp)) {
        add(d, "challenge.tls-alpn-01", domain, MD_DOCTOR_OK, apr_psprintf(
                d->p, "%s port %d answers %s with the certificate from the store%s%s",
                addr, port, MD_TLSALPN01_PROTO, strcmp(sni, domain) ? " for the SNI "
                : "", strcmp(sni, domain) ? sni : ""), NULL);
    }
    else {
        add(d, "challenge.tls-alpn-01", domain, MD_DOCTOR_FAIL, apr_psprintf(
                d->p, "%s port %d speaks %s but shows another certificate (%s)", addr,
                port, MD_TLSALPN01_PROTO, cert ? md_cert_get_issuer_name(cert, d->p)
                : "none"), "let this server's mod_md answer on the port (no proxy "
            "or other TLS server in front)");
    }
leave:
    remove_probe(d, domain, MD_FN_TLSALPN01_CERT, MD_FN_TLSALPN01_PKEY, fp, created);
}

static void check_domain(doctor_t *d, const md_t *md, const char *domain)
{
    const char *addr, *why = NULL;

    if (md_dns_is_wildcard(domain)) {
        add(d, "dns.name", domain, MD_DOCTOR_SKIPPED, "a wildcard: validated by "
            "dns-01 only, no probe reaches it", NULL);
        check_caa(d, md, domain);
        return;
    }
    if (md_ip_is_address(domain)) {
        /* the CA connects to the address itself; CAA is for DNS names */
        add(d, "dns.name", domain, MD_DOCTOR_SKIPPED, apr_psprintf(
                d->p, "an IP address: no name to resolve, the CA connects to it; %s",
                md_array_str_index(d->local, domain, 0, 0) >= 0
                ? "an address of this host" : "not an address of this host (fine "
                "behind NAT or a load balancer that forwards ports 80/443 here)"),
            NULL);
        add(d, "dns.caa", domain, MD_DOCTOR_SKIPPED, "an IP address: CAA records "
            "exist for DNS names only", NULL);
        addr = d->ctx->server_addr ? d->ctx->server_addr : domain;
    }
    else {
        addr = check_name(d, domain, &why);
        check_caa(d, md, domain);
    }
    if (!addr) {
        if (challenge_allowed(md, MD_AUTHZ_TYPE_HTTP01)) {
            add(d, "challenge.http-01", domain, MD_DOCTOR_SKIPPED, apr_psprintf(
                    d->p, "could not run: %s", why), "give the address with --server");
        }
        if (challenge_allowed(md, MD_AUTHZ_TYPE_TLSALPN01)) {
            add(d, "challenge.tls-alpn-01", domain, MD_DOCTOR_SKIPPED, apr_psprintf(
                    d->p, "could not run: %s", why), "give the address with --server");
        }
        return;
    }
    if (challenge_allowed(md, MD_AUTHZ_TYPE_HTTP01)) {
        probe_http01(d, md, domain, addr);
    }
    if (challenge_allowed(md, MD_AUTHZ_TYPE_TLSALPN01)) {
        probe_tlsalpn01(d, md, domain, addr);
    }
}

/* --- jobs and settings ------------------------------------------------------------------ */

static void check_job(doctor_t *d, const md_t *md)
{
    md_json_t *json = NULL;
    md_doctor_check_t *check;
    int staged;

    md_store_load_json(d->ctx->store, MD_SG_STAGING, md->name, MD_FN_JOB, &json, d->p);
    staged = md_store_exists(d->ctx->store, MD_SG_STAGING, md->name, MD_FN_MD, d->p)
             && md_job_staged_results_exist(d->ctx->store, md, d->p);
    check = md_doctor_judge_job(md->name, json, staged, apr_time_now(), d->p);
    if (check) {
        APR_ARRAY_PUSH(d->checks, md_doctor_check_t) = *check;
        return;
    }
    add(d, "renew.backoff", md->name, MD_DOCTOR_OK, "no failed renewal run",
        NULL);
}

typedef struct {
    const char *name;
    md_json_t *found;
} status_find_t;

static int find_status_md(void *baton, apr_size_t index, md_json_t *json)
{
    status_find_t *find = baton;
    const char *name = md_json_gets(json, MD_KEY_NAME, NULL);

    (void)index;
    if (name && !strcmp(name, find->name)) {
        find->found = json;
        return 0;
    }
    return 1;
}

static void check_settings(doctor_t *d, const md_t *md)
{
    apr_array_header_t *chain = NULL;
    apr_interval_time_t lifetime, window;
    status_find_t find;
    md_cert_t *cert;

    if (APR_SUCCESS == md_store_chain_load(d->ctx->store, MD_SG_DOMAINS, md->name,
                                           md_pkeys_spec_get(md->pks, 0), &chain, d->p)
        && chain->nelts > 0) {
        cert = APR_ARRAY_IDX(chain, 0, md_cert_t *);
        lifetime = md_cert_get_not_after(cert) - md_cert_get_not_before(cert);
        window = md->renew_window ? md_timeslice_length(md->renew_window, lifetime) : 0;
        if (window >= lifetime) {
            add(d, "config.renew-window", md->name, MD_DOCTOR_WARN, apr_psprintf(
                    d->p, "MDRenewWindow %s is not shorter than the certificate's "
                    "lifetime of %s: it is renewed at every check",
                    md_timeslice_format(md->renew_window, d->p),
                    md_duration_print(d->p, lifetime)),
                "give MDRenewWindow as a percentage (33%) or a shorter duration");
        }
        if (md->must_staple && !md_cert_get_ocsp_url(cert, d->p)) {
            add(d, "config.must-staple", md->name, MD_DOCTOR_WARN,
                "MDMustStaple on, but the CA's certificate names no OCSP responder: "
                "there is nothing to staple", "MDMustStaple off for this MD");
        }
    }
    if (!d->status) return;
    find.name = md->name;
    find.found = NULL;
    md_json_itera(find_status_md, &find, d->status, MD_KEY_MDS, NULL);
    if (!find.found) {
        add(d, "config.unused", md->name, MD_DOCTOR_WARN, "the running server does not "
            "list it in md-status: its configuration has no MDomain for it",
            "add the MDomain to the configuration, or remove domains/ of it");
        return;
    }
    if (!md_json_getb(find.found, "watched", NULL)) {
        add(d, "config.unused", md->name, MD_DOCTOR_WARN, "the server does not renew it: "
            "no VirtualHost uses its names (or it is in error)", apr_psprintf(
                d->p, "add a VirtualHost with ServerName %s, or drop the MDomain",
                md->name));
    }
}

/* --- the command ---------------------------------------------------------------------- */

static apr_status_t load_status(doctor_t *d)
{
    md_http_response_t *resp;
    md_http_t *http;
    apr_status_t rv;

    rv = md_http_create(&http, d->p, md_acme_user_agent(), "");
    if (APR_SUCCESS != rv) goto leave;
    md_http_set_timeout_default(http, PROBE_TIMEOUT);
    rv = md_http_GET(&resp, http, d->ctx->status_url, NULL, d->p);
    if (APR_SUCCESS != rv) goto leave;
    if (200 != resp->status) {
        rv = APR_EINVAL;
        goto leave;
    }
    rv = md_json_readd(&d->status, d->p, resp->body.data, resp->body.len);
leave:
    if (APR_SUCCESS != rv) {
        d->status = NULL;
        add(d, "server.status", d->ctx->status_url, MD_DOCTOR_SKIPPED, apr_psprintf(
                d->p, "could not run: no md-status JSON at %s (%s)", d->ctx->status_url,
                errtext(rv, d->p)), "give the url of a 'SetHandler md-status' location");
    }
    return APR_SUCCESS;
}

/* The MDs named (an MD's name or one of its domains), else all. */
static apr_status_t select_mds(apr_array_header_t **pmds, a2md_ctx_t *ctx)
{
    apr_array_header_t *all = a2md_load_all(ctx), *mds;
    md_t *md;
    int i, j;

    if (ctx->argc <= 0) {
        *pmds = all;
        return APR_SUCCESS;
    }
    mds = apr_array_make(ctx->p, ctx->argc, sizeof(md_t *));
    for (i = 0; i < ctx->argc; ++i) {
        const char *name = a2md_name_arg(ctx, ctx->argv[i]);
        md = NULL;
        for (j = 0; j < all->nelts && !md; ++j) {
            if (!strcmp(APR_ARRAY_IDX(all, j, md_t *)->name, name)
                || md_contains(APR_ARRAY_IDX(all, j, md_t *), name, 0)) {
                md = APR_ARRAY_IDX(all, j, md_t *);
            }
        }
        if (!md) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_ENOENT, ctx->p, "doctor: no "
                          "managed domain '%s' in the store %s", ctx->argv[i],
                          ctx->base_dir);
            *pmds = NULL;
            return APR_ENOENT;
        }
        APR_ARRAY_PUSH(mds, md_t *) = md;
    }
    *pmds = mds;
    return APR_SUCCESS;
}

static void print_checks(doctor_t *d)
{
    const md_doctor_check_t *c;
    int i, counts[MD_DOCTOR_SKIPPED + 1];

    memset(counts, 0, sizeof(counts));
    for (i = 0; i < d->checks->nelts; ++i) {
        c = &APR_ARRAY_IDX(d->checks, i, md_doctor_check_t);
        ++counts[c->verdict];
        if (d->ctx->json_out) {
            md_json_addj(md_doctor_to_json(c, d->p), d->ctx->output, NULL);
            continue;
        }
        fprintf(stdout, "%-7s %s%s%s: %s\n", md_doctor_verdict_name(c->verdict), c->id,
                c->subject ? " " : "", c->subject ? c->subject : "", c->detail);
        if (c->fix && MD_DOCTOR_OK != c->verdict) {
            fprintf(stdout, "        fix: %s\n", c->fix);
        }
    }
    if (!d->ctx->json_out) {
        fprintf(stdout, "%d ok, %d warn, %d fail, %d skipped\n", counts[MD_DOCTOR_OK],
                counts[MD_DOCTOR_WARN], counts[MD_DOCTOR_FAIL], counts[MD_DOCTOR_SKIPPED]);
    }
}

static apr_status_t doctor_do(a2md_ctx_t *ctx, const a2md_cmd_t *cmd)
{
    apr_array_header_t *mds, *addrs;
    const char *ch_dir;
    doctor_t d;
    md_t *md;
    apr_status_t rv;
    int i, j, had_ch_dir;

    (void)cmd;
    rv = select_mds(&mds, ctx);
    if (APR_SUCCESS != rv) return rv;
    memset(&d, 0, sizeof(d));
    d.ctx = ctx;
    d.p = ctx->p;
    d.checks = apr_array_make(ctx->p, 32, sizeof(md_doctor_check_t));
    d.ca_asked = apr_hash_make(ctx->p);
    d.ca_ids = apr_hash_make(ctx->p);
    rv = md_doctor_local_addrs(&d.local, ctx->p);
    if (APR_SUCCESS != rv) {
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "doctor: unable to list "
                      "this host's addresses");
        return rv;
    }
    if (ctx->server_addr) {
        /* numeric, so that "is it this host's" can be told */
        rv = md_doctor_resolve(&addrs, ctx->server_addr, NULL, ctx->p);
        if (APR_SUCCESS != rv) {
            md_log_perror(MD_LOG_MARK, MD_LOG_ERR, rv, ctx->p, "doctor: --server "
                          "'%s' does not resolve", ctx->server_addr);
            return rv;
        }
        ctx->server_addr = APR_ARRAY_IDX(addrs, 0, const char *);
    }
    check_store(&d);
    ch_dir = md_store_get_dir(ctx->store, MD_SG_CHALLENGES, NULL, ctx->p);
    had_ch_dir = ch_dir && md_util_is_dir(ch_dir, ctx->p);
    if (ctx->status_url) {
        load_status(&d);
    }
    for (i = 0; i < mds->nelts; ++i) {
        md = APR_ARRAY_IDX(mds, i, md_t *);
        check_ca(&d, md);
        check_job(&d, md);
        check_settings(&d, md);
        for (j = 0; j < md->domains->nelts; ++j) {
            check_domain(&d, md, APR_ARRAY_IDX(md->domains, j, const char *));
        }
    }
    if (ch_dir && !had_ch_dir) {
        /* the probes' store saves made it: leave the store as found */
        apr_dir_remove(ch_dir, ctx->p);
    }
    print_checks(&d);
    ctx->exit_code = md_doctor_any_failed(d.checks) ? 1 : 0;
    return APR_SUCCESS;
}

static apr_status_t parse_port(int *pport, const char *opt, const char *arg)
{
    char *end;
    long port = strtol(arg, &end, 10);

    if (*end || port < 1 || port > 65535) {
        fprintf(stderr, "doctor: %s needs a port number (1-65535), not '%s'\n", opt,
                arg);
        return APR_EINVAL;
    }
    *pport = (int)port;
    return APR_SUCCESS;
}

static apr_status_t doctor_opt(a2md_ctx_t *ctx, int option, const char *arg)
{
    switch (option) {
        case 'P': return parse_port(&ctx->http_port, "--http-port", arg);
        case 'S': return parse_port(&ctx->https_port, "--https-port", arg);
        case 's': ctx->server_addr = arg; break;
        case 'D': ctx->dns_server = arg; break;
        case 'u': ctx->status_url = arg; break;
        default: return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static const apr_getopt_option_t doctor_opts[] = {
    { "dns-server", 'D', 1, "ask this DNS server (addr[:port]) for names and CAA" },
    { "http-port", 'P', 1, "the port the http-01 probe asks (default 80)" },
    { "https-port", 'S', 1, "the port the tls-alpn-01 probe asks (default 443)" },
    { "server", 's', 1, "the address the probes connect to (default: the name's)" },
    { "status", 'u', 1, "the url of the server's md-status (its MDs and vhosts)" },
    { NULL, 0, 0, NULL },
};

const a2md_cmd_t a2md_doctor_cmd = {
    "doctor", A2MD_NEED_STORE | A2MD_STORE_EXISTS, doctor_opt, doctor_do, doctor_opts, NULL,
    "doctor [--http-port port] [--https-port port] [--server addr] [--dns-server "
    "addr[:port]] [--status url] [md...]",
    "checks what makes renewals fail, each with a verdict and a fix",
};
