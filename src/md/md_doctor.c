/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * The server-less checks of "a2md doctor" (see md_doctor.h): judgements
 * that take their inputs as parameters (unit-tested) and the DNS look-ups
 * through libc's resolver (getaddrinfo, res_nquery for CAA and for a given
 * server).
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <resolv.h>
#include <apr_lib.h>
#include <apr_network_io.h>
#include <apr_strings.h>

#include "md.h"
#include "md_doctor.h"
#include "md_job.h"
#include "md_json.h"
#include "md_result.h"
#include "md_store_fs.h"
#include "md_time.h"
#include "md_util.h"

#define CAA_TYPE            257     /* RFC 8659 */
#define DNS_ANSWER_MAX      (16 * 1024)
/* Skews beyond these make certificates look not yet valid here or there
 * and renewal times drift; a few seconds are normal. */
#define CLOCK_WARN          apr_time_from_sec(30)
#define CLOCK_FAIL          apr_time_from_sec(300)

/* --- the verdict model -------------------------------------------------------------- */

const char *md_doctor_verdict_name(md_doctor_verdict_t verdict)
{
    switch (verdict) {
        case MD_DOCTOR_OK: return "ok";
        case MD_DOCTOR_WARN: return "warn";
        case MD_DOCTOR_FAIL: return "fail";
        default: return "skipped";
    }
}

md_doctor_check_t *md_doctor_add(apr_array_header_t *checks, const char *id,
                                 const char *subject, md_doctor_verdict_t verdict,
                                 const char *detail, const char *fix)
{
    md_doctor_check_t *check = apr_array_push(checks);

    check->id = id;
    check->subject = subject;
    check->verdict = verdict;
    check->detail = detail;
    check->fix = fix;
    return check;
}

md_json_t *md_doctor_to_json(const md_doctor_check_t *check, apr_pool_t *p)
{
    md_json_t *json = md_json_create(p);

    md_json_sets(check->id, json, "id", NULL);
    if (check->subject) {
        md_json_sets(check->subject, json, "subject", NULL);
    }
    md_json_sets(md_doctor_verdict_name(check->verdict), json, "verdict", NULL);
    md_json_sets(check->detail ? check->detail : "", json, "detail", NULL);
    if (check->fix) {
        md_json_sets(check->fix, json, "fix", NULL);
    }
    return json;
}

int md_doctor_any_failed(const apr_array_header_t *checks)
{
    int i;

    for (i = 0; i < checks->nelts; ++i) {
        if (MD_DOCTOR_FAIL == APR_ARRAY_IDX(checks, i, md_doctor_check_t).verdict) {
            return 1;
        }
    }
    return 0;
}

/* --- store modes ---------------------------------------------------------------------- */

static int is_private_key(const char *relpath)
{
    const char *base = strrchr(relpath, '/');

    base = base ? base + 1 : relpath;
    return strstr(base, "privkey") && strlen(base) > 4
           && !strcmp(base + strlen(base) - 4, ".pem");
}

md_doctor_verdict_t md_doctor_judge_mode(const char **pwhy, const char **pfix,
                                         const char *relpath, const char *path,
                                         md_store_group_t group,
                                         int is_dir, unsigned int mode,
                                         long uid, long group_uid, apr_pool_t *p)
{
    int server_owned = (MD_SG_STAGING == group || MD_SG_CHALLENGES == group
                        || MD_SG_OCSP == group);
    int secret = !is_dir && (!strcmp(relpath, MD_FN_STORE_JSON)
                             || (is_private_key(relpath) && MD_SG_ACCOUNTS != group
                                 && MD_SG_STAGING != group));

    *pwhy = *pfix = NULL;
    if (!(mode & 0400) || (is_dir && !(mode & 0100))) {
        *pwhy = apr_psprintf(p, "mode %04o: its owner cannot %s it", mode & 07777,
                             is_dir ? "enter" : "read");
        *pfix = apr_psprintf(p, "chmod u+r%s %s", is_dir ? "x" : "", path);
        return MD_DOCTOR_FAIL;
    }
    if (secret && (mode & 077)) {
        /* the store key decrypts every staged and account key */
        *pwhy = apr_psprintf(p, "mode %04o: %s readable beyond its owner",
                             mode & 07777, is_private_key(relpath) ? "a private key"
                             : "the store key");
        *pfix = apr_psprintf(p, "chmod 600 %s", path);
        return MD_DOCTOR_FAIL;
    }
    if (server_owned && group_uid >= 0 && uid != group_uid) {
        /* the watchdog child runs as User and replaces these files */
        *pwhy = apr_psprintf(p, "owned by uid %ld, not by the owner of %s/ (uid %ld, "
                             "the server's User), who must replace it", uid,
                             md_store_group_name(group), group_uid);
        *pfix = apr_psprintf(p, "chown -R %ld %s", group_uid, path);
        return MD_DOCTOR_FAIL;
    }
    if (server_owned && !(mode & 0200)) {
        *pwhy = apr_psprintf(p, "mode %04o: the server's User cannot write it",
                             mode & 07777);
        *pfix = apr_psprintf(p, "chmod u+w %s", path);
        return MD_DOCTOR_FAIL;
    }
    if (is_dir && (MD_SG_DOMAINS == group || MD_SG_ARCHIVE == group
                   || MD_SG_TMP == group) && (mode & 077)) {
        *pwhy = apr_psprintf(p, "mode %04o, the store gives 0700", mode & 07777);
        *pfix = apr_psprintf(p, "chmod 700 %s", path);
        return MD_DOCTOR_WARN;
    }
    return MD_DOCTOR_OK;
}

/* --- jobs ------------------------------------------------------------------------------ */

/* What to do about the last problem of a failing renewal. */
static const char *backoff_fix(const md_result_t *last)
{
    const char *problem = last ? last->problem : NULL;

    if (!problem) {
        return "fix the cause named in the detail, the job retries by itself "
               "at its next run";
    }
    if (strstr(problem, "rateLimited")) {
        return "wait: the CA limits the rate of orders, the job retries by itself";
    }
    if (strstr(problem, "challenge-mismatch")) {
        return "the MD allows none of the challenges the CA offers: check MDCAChallenges "
               "(dns-01 needs MDChallengeDns01, tls-alpn-01 'Protocols acme-tls/1')";
    }
    if (strstr(problem, "caa")) {
        return "allow the CA in the domain's CAA records (see the dns.caa checks)";
    }
    if (strstr(problem, "dns") || strstr(problem, "connection")
        || strstr(problem, "unauthorized") || strstr(problem, "incorrectResponse")
        || strstr(problem, "tls")) {
        return "the CA could not validate a challenge: see the dns.name and "
               "challenge checks of this MD";
    }
    if (strstr(problem, "rejectedIdentifier") || strstr(problem, "badCSR")) {
        return "the CA refuses a name or the request: check the MD's names and "
               "settings (MDomain, MDPrivateKeys, MDMustStaple)";
    }
    return "fix the cause named in the detail, the job retries by itself at its "
           "next run";
}

md_doctor_check_t *md_doctor_judge_job(const char *name, const md_json_t *json,
                                       int staged, apr_time_t now, apr_pool_t *p)
{
    apr_array_header_t *one = apr_array_make(p, 1, sizeof(md_doctor_check_t));
    md_job_t *job;
    const char *last, *next;

    if (!json) return NULL;
    job = md_job_make(p, NULL, MD_SG_STAGING, name, 0);
    md_job_from_json(job, json, p);
    if (job->error_runs > 0) {
        last = job->last ? md_job_progress_text(job->last, p) : NULL;
        next = job->next_run > now ? apr_psprintf(p, "next run %s",
                                                  md_time_rfc822(p, job->next_run))
                                   : "next run due now";
        return md_doctor_add(one, "renew.backoff", name, MD_DOCTOR_FAIL,
                             apr_psprintf(p, "%d failed renewal run%s, %s; last: %s",
                                          job->error_runs,
                                          job->error_runs > 1 ? "s" : "", next,
                                          last ? last : "no detail"),
                             backoff_fix(job->last));
    }
    if (job->finished && staged) {
        return md_doctor_add(one, "renew.staged", name, MD_DOCTOR_WARN,
                             apr_psprintf(p, "a renewed set waits in staging/%s%s%s",
                                          name, job->valid_from ? ", valid from " : "",
                                          job->valid_from ? md_time_rfc822(
                                              p, job->valid_from) : ""),
                             "restart the server (apachectl graceful) to activate it");
    }
    return NULL;
}

md_doctor_verdict_t md_doctor_judge_clock(apr_interval_time_t skew)
{
    if (skew < 0) {
        skew = -skew;
    }
    if (skew >= CLOCK_FAIL) return MD_DOCTOR_FAIL;
    if (skew >= CLOCK_WARN) return MD_DOCTOR_WARN;
    return MD_DOCTOR_OK;
}

/* --- CAA -------------------------------------------------------------------------------- */

apr_status_t md_caa_parse(md_caa_rr_t *rr, const unsigned char *data, apr_size_t len,
                          apr_pool_t *p)
{
    apr_size_t tag_len;

    memset(rr, 0, sizeof(*rr));
    if (len < 2) return APR_EINVAL;
    tag_len = data[1];
    if (tag_len < 1 || 2 + tag_len > len) return APR_EINVAL;
    rr->critical = (data[0] & 0x80) != 0;
    rr->tag = md_util_str_tolower(apr_pstrmemdup(p, (const char *)data + 2, tag_len));
    rr->value = apr_pstrmemdup(p, (const char *)data + 2 + tag_len, len - 2 - tag_len);
    return APR_SUCCESS;
}

static int caa_tag_known(const char *tag)
{
    static const char *const known[] = {
        "issue", "issuewild", "iodef", "issuemail", "contactemail", "contactphone",
        NULL,
    };
    int i;

    for (i = 0; known[i]; ++i) {
        if (!strcmp(known[i], tag)) return 1;
    }
    return 0;
}

/* The issuer domain of an issue/issuewild value: before ';', trimmed. */
static const char *caa_issuer(const char *value, apr_pool_t *p)
{
    const char *end = strchr(value, ';');
    char *s = end ? apr_pstrmemdup(p, value, (apr_size_t)(end - value))
                  : apr_pstrdup(p, value);

    apr_collapse_spaces(s, s);      /* returns the end, not s */
    return s;
}

md_doctor_verdict_t md_caa_judge(const char **pwhy, const apr_array_header_t *rrs,
                                 const char *domain, const apr_array_header_t *identities,
                                 apr_pool_t *p)
{
    apr_array_header_t *allowed = apr_array_make(p, 4, sizeof(const char *));
    const char *tag = "issue", *issuer;
    const md_caa_rr_t *rr;
    int i, relevant = 0;

    *pwhy = NULL;
    for (i = 0; i < rrs->nelts; ++i) {
        rr = &APR_ARRAY_IDX(rrs, i, md_caa_rr_t);
        if (rr->critical && !caa_tag_known(rr->tag)) {
            *pwhy = apr_psprintf(p, "a critical CAA property '%s' no CA knows: "
                                 "none may issue", rr->tag);
            return MD_DOCTOR_FAIL;
        }
        if (md_dns_is_wildcard(domain) && !strcmp("issuewild", rr->tag)) {
            tag = "issuewild";
        }
    }
    for (i = 0; i < rrs->nelts; ++i) {
        rr = &APR_ARRAY_IDX(rrs, i, md_caa_rr_t);
        if (strcmp(tag, rr->tag)) {
            continue;
        }
        relevant = 1;
        issuer = caa_issuer(rr->value, p);
        if (*issuer) {
            APR_ARRAY_PUSH(allowed, const char *) = issuer;
        }
        if (*issuer && identities
            && md_array_str_index(identities, issuer, 0, 0) >= 0) {
            return MD_DOCTOR_OK;
        }
    }
    if (!relevant) return MD_DOCTOR_OK;
    if (!allowed->nelts) {
        *pwhy = apr_psprintf(p, "the CAA '%s' records allow no CA at all", tag);
        return MD_DOCTOR_FAIL;
    }
    if (!identities || !identities->nelts) {
        *pwhy = apr_psprintf(p, "the CAA '%s' records allow %s; the CA's caaIdentities "
                             "are not known (its directory could not be read)", tag,
                             md_array_str_join(allowed, ", ", p));
        return MD_DOCTOR_SKIPPED;
    }
    *pwhy = apr_psprintf(p, "the CAA '%s' records allow %s, the CA is %s", tag,
                         md_array_str_join(allowed, ", ", p),
                         md_array_str_join(identities, ", ", p));
    return MD_DOCTOR_FAIL;
}

typedef struct {
    struct __res_state state;
    int ready;
} resolver_t;

/* A resolver with short timeouts, asking dns_server "addr[:port]" if set. */
static apr_status_t resolver_init(resolver_t *res, const char *dns_server,
                                  apr_pool_t *p)
{
    char *host = NULL, *scope = NULL;
    apr_port_t port = 0;
    struct in_addr addr;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (res_ninit(&res->state) != 0) return APR_EGENERAL;
    res->ready = 1;
    res->state.retrans = 2;
    res->state.retry = 2;
    if (!dns_server) return APR_SUCCESS;
    rv = apr_parse_addr_port(&host, &scope, &port, dns_server, p);
    if (APR_SUCCESS != rv || !host || inet_pton(AF_INET, host, &addr) != 1) {
        return APR_EINVAL;
    }
    res->state.nscount = 1;
    res->state.nsaddr_list[0].sin_family = AF_INET;
    res->state.nsaddr_list[0].sin_addr = addr;
    res->state.nsaddr_list[0].sin_port = htons(port ? port : 53);
    return APR_SUCCESS;
}

static void resolver_close(resolver_t *res)
{
    if (res->ready) {
        res_nclose(&res->state);
        res->ready = 0;
    }
}

/* The records of type at name, rdata handed to cb. APR_ENOENT for none
 * (no such name or no such records), APR_EAGAIN when nobody answered. */
typedef void rdata_cb(void *baton, const unsigned char *data, apr_size_t len);

static apr_status_t dns_query(resolver_t *res, const char *name, int type,
                              rdata_cb *cb, void *baton)
{
    unsigned char answer[DNS_ANSWER_MAX];
    ns_msg msg;
    ns_rr rr;
    int len, i, count;

    len = res_nquery(&res->state, name, ns_c_in, type, answer, sizeof(answer));
    if (len < 0) {
        switch (res->state.res_h_errno) {
            case HOST_NOT_FOUND:
            case NO_DATA:
                return APR_ENOENT;
            default:
                return APR_EAGAIN;
        }
    }
    if (ns_initparse(answer, len, &msg) != 0) return APR_EAGAIN;
    count = ns_msg_count(msg, ns_s_an);
    for (i = 0; i < count; ++i) {
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return APR_EAGAIN;
        if ((int)ns_rr_type(rr) == type) {
            cb(baton, ns_rr_rdata(rr), ns_rr_rdlen(rr));
        }
    }
    return APR_SUCCESS;
}

static void collect_caa(void *baton, const unsigned char *data, apr_size_t len)
{
    apr_array_header_t *rrs = baton;
    md_caa_rr_t rr;

    /* a malformed record counts as none, as CAs treat it */
    if (APR_SUCCESS == md_caa_parse(&rr, data, len, rrs->pool)) {
        APR_ARRAY_PUSH(rrs, md_caa_rr_t) = rr;
    }
}

apr_status_t md_caa_lookup(apr_array_header_t **prrs, const char **powner,
                           const char *domain, const char *dns_server, apr_pool_t *p)
{
    apr_array_header_t *rrs = apr_array_make(p, 4, sizeof(md_caa_rr_t));
    const char *name = md_dns_is_wildcard(domain) ? domain + 2 : domain;
    resolver_t res;
    apr_status_t rv;

    *powner = NULL;
    rv = resolver_init(&res, dns_server, p);
    if (APR_SUCCESS != rv) goto leave;
    while (name && *name) {
        rv = dns_query(&res, name, CAA_TYPE, collect_caa, rrs);
        if (APR_SUCCESS == rv && rrs->nelts > 0) {
            *powner = name;
            break;
        }
        if (APR_SUCCESS != rv && !APR_STATUS_IS_ENOENT(rv)) goto leave;
        name = strchr(name, '.');
        name = name ? name + 1 : NULL;
    }
    rv = APR_SUCCESS;
leave:
    resolver_close(&res);
    *prrs = (APR_SUCCESS == rv) ? rrs : NULL;
    return rv;
}

/* --- addresses ---------------------------------------------------------------------- */

static void add_addr(apr_array_header_t *addrs, const struct sockaddr *sa,
                     socklen_t salen)
{
    char host[NI_MAXHOST];

    if (getnameinfo(sa, salen, host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0) {
        return;
    }
    md_array_str_add_missing(addrs, apr_pstrdup(addrs->pool, host), 0);
}

typedef struct {
    apr_array_header_t *addrs;
    int family;
} addr_ctx_t;

static void collect_addr(void *baton, const unsigned char *data, apr_size_t len)
{
    addr_ctx_t *ctx = baton;
    char text[INET6_ADDRSTRLEN];

    if ((AF_INET == ctx->family && len != 4) || (AF_INET6 == ctx->family && len != 16)) {
        return;
    }
    if (inet_ntop(ctx->family, data, text, sizeof(text))) {
        md_array_str_add_missing(ctx->addrs, apr_pstrdup(ctx->addrs->pool, text), 0);
    }
}

static apr_status_t resolve_at(apr_array_header_t *addrs, const char *name,
                               const char *dns_server, apr_pool_t *p)
{
    addr_ctx_t ctx;
    resolver_t res;
    apr_status_t rv, rv6;

    rv = resolver_init(&res, dns_server, p);
    if (APR_SUCCESS != rv) goto leave;
    ctx.addrs = addrs;
    ctx.family = AF_INET;
    rv = dns_query(&res, name, ns_t_a, collect_addr, &ctx);
    ctx.family = AF_INET6;
    rv6 = dns_query(&res, name, ns_t_aaaa, collect_addr, &ctx);
    if (addrs->nelts > 0) {
        rv = APR_SUCCESS;
    }
    else if (APR_STATUS_IS_ENOENT(rv)) {
        rv = APR_STATUS_IS_ENOENT(rv6) || APR_SUCCESS == rv6 ? APR_ENOENT : rv6;
    }
leave:
    resolver_close(&res);
    return rv;
}

apr_status_t md_doctor_resolve(apr_array_header_t **paddrs, const char *name,
                               const char *dns_server, apr_pool_t *p)
{
    apr_array_header_t *addrs = apr_array_make(p, 4, sizeof(const char *));
    struct addrinfo hints, *ai = NULL, *cur;
    apr_status_t rv = APR_SUCCESS;
    int err;

    if (dns_server) {
        rv = resolve_at(addrs, name, dns_server, p);
        goto leave;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    err = getaddrinfo(name, NULL, &hints, &ai);
    if (err) {
        rv = (EAI_NONAME == err
#ifdef EAI_NODATA
              || EAI_NODATA == err
#endif
             ) ? APR_ENOENT : APR_EAGAIN;
        goto leave;
    }
    for (cur = ai; cur; cur = cur->ai_next) {
        add_addr(addrs, cur->ai_addr, cur->ai_addrlen);
    }
    freeaddrinfo(ai);
leave:
    *paddrs = (APR_SUCCESS == rv) ? addrs : NULL;
    return rv;
}

apr_status_t md_doctor_local_addrs(apr_array_header_t **paddrs, apr_pool_t *p)
{
    apr_array_header_t *addrs = apr_array_make(p, 8, sizeof(const char *));
    struct ifaddrs *ifs = NULL, *cur;
    apr_status_t rv = APR_SUCCESS;

    if (getifaddrs(&ifs) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto leave;
    }
    for (cur = ifs; cur; cur = cur->ifa_next) {
        if (!cur->ifa_addr) {
            continue;
        }
        if (AF_INET == cur->ifa_addr->sa_family) {
            add_addr(addrs, cur->ifa_addr, sizeof(struct sockaddr_in));
        }
        else if (AF_INET6 == cur->ifa_addr->sa_family) {
            add_addr(addrs, cur->ifa_addr, sizeof(struct sockaddr_in6));
        }
    }
    freeifaddrs(ifs);
    /* loopback is this host even where no interface lists it */
    md_array_str_add_missing(addrs, "127.0.0.1", 0);
    md_array_str_add_missing(addrs, "::1", 0);
leave:
    *paddrs = (APR_SUCCESS == rv) ? addrs : NULL;
    return rv;
}

int md_doctor_is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, addr, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}
