/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Unit tests for md_util.c: base64url, hex, DNS names, URI checks, string
 * arrays, file writes and running commands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <apr_strings.h>

#include "md.h"
#include "md_event.h"
#include "md_result.h"
#include "md_util.h"
#include "md_unit.h"

static const struct {
    const char *plain;
    const char *b64url;
} b64_cases[] = {
    { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
    { "\xfb\xff\xbf", "-_-_" }, { "?>?", "Pz4_" },
};

START_TEST(test_base64url)
{
    md_data_t out;
    const char *plain = b64_cases[_i].plain;

    ck_assert_str_eq(b64_cases[_i].b64url,
                     md_util_base64url_encode(plain, strlen(plain), md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_util_base64url_decode(&out, b64_cases[_i].b64url,
                                                           md_test_pool));
    ck_assert_uint_eq(strlen(plain), out.len);
    ck_assert(0 == memcmp(plain, out.data, out.len));
}
END_TEST

START_TEST(test_base64url_invalid)
{
    md_data_t out;

    ck_assert_int_eq(APR_EINVAL, md_util_base64url_decode(&out, "ab$c", md_test_pool));
    ck_assert_int_eq(APR_EINVAL, md_util_base64url_decode(&out, "abcde", md_test_pool));
    ck_assert(md_util_is_base64url("zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3"));
    ck_assert(!md_util_is_base64url("abc def"));
    ck_assert(!md_util_is_base64url(""));
    ck_assert_str_eq("00ff10", md_util_hex((const unsigned char *)"\x00\xff\x10", 3,
                                           md_test_pool));
}
END_TEST

static const struct {
    const char *name;
    int need_fqdn;
    int wildcard;
    int valid;
} dns_cases[] = {
    { "example.org", 1, 0, 1 }, { "localhost", 0, 0, 1 }, { "localhost", 1, 0, 0 },
    { "*.example.org", 1, 1, 1 }, { "*.example.org", 1, 0, 0 }, { "a..b", 0, 0, 0 },
    { "-a.org", 0, 0, 0 }, { "a-.org", 0, 0, 0 }, { "a_b.org", 0, 0, 0 },
    { "xn--bcher-kva.example", 1, 0, 1 }, { "example.org.", 1, 0, 1 }, { "", 0, 0, 0 },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", 0, 0, 0 },
    { "*.org", 1, 1, 0 }, { "*.org", 0, 1, 1 }, { "www.*.org", 1, 1, 0 },
    { "*.*.example.org", 1, 1, 0 }, { "\xc3\xbc.example.org", 1, 0, 0 },
};

START_TEST(test_dns_names)
{
    ck_assert_int_eq(dns_cases[_i].valid, md_dns_is_name(dns_cases[_i].name,
                                                         dns_cases[_i].need_fqdn,
                                                         dns_cases[_i].wildcard));
}
END_TEST

START_TEST(test_dns_matching)
{
    char *long_name = apr_pcalloc(md_test_pool, 300);

    memset(long_name, 'a', 254);
    ck_assert(!md_dns_is_name(long_name, 0, 0));
    ck_assert(md_dns_matches("*.example.org", "www.example.org"));
    ck_assert(md_dns_matches("Example.ORG", "example.org"));
    ck_assert(!md_dns_matches("*.example.org", "example.org"));
    ck_assert(!md_dns_matches("*.example.org", "a.b.example.org"));
    ck_assert(md_dns_domains_match("www.example.org", "*.example.org"));
    ck_assert(!md_dns_domains_match("www.example.org", "www.example.com"));
}
END_TEST

static const struct {
    const char *uri;
    int http_only;
    const char *err;
} uri_cases[] = {
    { "https://acme.example.org/dir", 0, NULL },
    { "http://127.0.0.1:14000/dir", 0, NULL },
    { "mailto:admin@example.org", 0, NULL },
    { "yes", 0, "missing uri scheme" },
    { "https:///dir", 0, "missing hostname" },
    { "https://bad_host/dir", 0, "invalid hostname" },
    { "https://127.0.0.1:-443", 0, "invalid port" },
    { "https://a.org/x y", 0, "whitespace in uri" },
    { "mailto:", 0, "missing uri identifier" },
    { "https:", 0, "missing uri identifier" },
    { "https://a.org:0/dir", 0, "invalid port" },
    { "https://a.org:65353/dir", 0, NULL },
    { "https://a.org:65354/dir", 0, "invalid port" },
    { "tel:+49-30-1234", 0, NULL },
    { "a\tb:c", 0, "whitespace in uri" },
    { "mailto:admin.example.org", 0, "missing @" },
    { "mailto:a@b@example.org", 0, "duplicate @" },
    { "mailto:@example.org", 0, "missing local part" },
    { "mailto:admin@", 0, "missing hostname" },
    { "mailto:admin@example..org", 0, "double period" },
    { "mailto:ad..min@example.org", 0, "double period" },
    { "MAILTO:admin@example.org", 0, NULL },
    { "ftp://p", 1, "uri scheme must be http or https" },
    { "localhost:8080", 1, "uri scheme must be http or https" },
};

START_TEST(test_uri_check)
{
    const char *err = NULL;
    apr_status_t rv;

    rv = uri_cases[_i].http_only
        ? md_util_abs_http_uri_check(md_test_pool, uri_cases[_i].uri, &err)
        : md_util_abs_uri_check(md_test_pool, uri_cases[_i].uri, &err);
    if (uri_cases[_i].err) {
        ck_assert_int_ne(APR_SUCCESS, rv);
        ck_assert_str_eq(uri_cases[_i].err, err);
    }
    else {
        ck_assert_int_eq(APR_SUCCESS, rv);
    }
}
END_TEST

START_TEST(test_arrays_and_schemes)
{
    apr_array_header_t *a = apr_array_make(md_test_pool, 4, sizeof(const char *)), *c;

    APR_ARRAY_PUSH(a, const char *) = "B.org";
    APR_ARRAY_PUSH(a, const char *) = "a.org";
    APR_ARRAY_PUSH(a, const char *) = "b.ORG";
    c = md_array_str_compact(md_test_pool, a, 0);
    ck_assert_int_eq(2, c->nelts);
    ck_assert_str_eq("b.org", APR_ARRAY_IDX(c, 0, const char *));
    ck_assert_str_eq("b.org a.org", md_array_str_join(c, " ", md_test_pool));
    ck_assert_int_eq(1, md_array_str_index(c, "A.org", 0, 0));
    ck_assert_int_eq(-1, md_array_str_index(c, "A.org", 0, 1));
    ck_assert_int_eq(0, md_array_str_add_missing(c, "a.org", 1));
    ck_assert_int_eq(1, md_array_str_remove(c, "a.org", 1));
    ck_assert_str_eq("mailto:me@x.org", md_util_schemify(md_test_pool, "me@x.org", "mailto"));
    ck_assert_str_eq("tel:123", md_util_schemify(md_test_pool, "tel:123", "mailto"));
}
END_TEST

START_TEST(test_file_writes)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *path = md_util_path_join(md_test_pool, dir, "x.txt", NULL), *data;
    apr_size_t len;
    struct stat st;

    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(path, 0x0600, md_test_pool, "one"));
    ck_assert_int_eq(0, stat(path, &st));
    ck_assert_uint_eq(0600, st.st_mode & 0777);
    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(path, 0x0644, md_test_pool, "two"));
    ck_assert_int_eq(APR_SUCCESS, md_util_fread_all(&data, &len, path, 100, md_test_pool));
    ck_assert_str_eq("two", data);
    ck_assert_int_eq(APR_EINVAL, md_util_fread_all(&data, &len, path, 2, md_test_pool));
    ck_assert(APR_STATUS_IS_EEXIST(md_text_fcreatex(path, 0x0600, md_test_pool, "3")));
    ck_assert(!md_util_is_file(apr_pstrcat(md_test_pool, path, ".tmp", NULL), md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_util_mkdir(md_util_path_join(md_test_pool, dir, "a",
                                                                  "b", NULL),
                                                0x0700, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_util_rm_recursive(dir, md_test_pool));
    ck_assert(!md_util_is_dir(dir, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_util_rm_recursive(dir, md_test_pool));
}
END_TEST

START_TEST(test_fread_special)
{
    /* a FIFO where a file is expected must not block the reader (the parent
     * waited forever for a writer); links are refused only when asked */
    const char *dir = md_test_mkdtemp(md_test_pool), *data;
    const char *fifo = md_util_path_join(md_test_pool, dir, "md.json", NULL);
    const char *file = md_util_path_join(md_test_pool, dir, "f.txt", NULL);
    const char *link = md_util_path_join(md_test_pool, dir, "link", NULL);
    apr_size_t len;

    ck_assert_int_eq(0, mkfifo(fifo, 0644));
    ck_assert_int_eq(APR_EINVAL, md_util_fread_all(&data, &len, fifo, 100, md_test_pool));
    ck_assert_ptr_null(data);
    ck_assert_int_eq(APR_EINVAL, md_util_fread_all(&data, &len, "/dev/zero", 100,
                                                   md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(file, 0x0600, md_test_pool, "x"));
    ck_assert_int_eq(0, symlink(file, link));
    ck_assert_int_eq(APR_SUCCESS, md_util_fread(&data, &len, link, 100, 0, md_test_pool));
    ck_assert_str_eq("x", data);
    ck_assert_int_eq(APR_FROM_OS_ERROR(ELOOP),
                     md_util_fread(&data, &len, link, 100, MD_FREAD_NOFOLLOW,
                                   md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_util_fread(&data, &len, file, 100, MD_FREAD_NOFOLLOW,
                                                md_test_pool));
}
END_TEST

START_TEST(test_freplace_new_inode)
{
    /* the new content goes to a new file renamed over the old one: a link
     * to the old file (a reader, a backup) keeps the old, complete content */
    const char *dir = md_test_mkdtemp(md_test_pool), *data;
    const char *path = md_util_path_join(md_test_pool, dir, "pubcert.pem", NULL);
    const char *other = md_util_path_join(md_test_pool, dir, "reader", NULL);
    apr_size_t len;

    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(path, 0x0600, md_test_pool, "old"));
    ck_assert_int_eq(0, link(path, other));
    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(path, 0x0600, md_test_pool, "new!"));
    ck_assert_int_eq(APR_SUCCESS, md_util_fread_all(&data, &len, other, 100, md_test_pool));
    ck_assert_str_eq("old", data);
    ck_assert_int_eq(APR_SUCCESS, md_util_fread_all(&data, &len, path, 100, md_test_pool));
    ck_assert_str_eq("new!", data);
}
END_TEST

START_TEST(test_mask_credentials)
{
    apr_pool_t *p = md_test_pool;
    const char *plain = "https://ca.test/dir";

    ck_assert_str_eq("http://user:***@proxy:3128/",
                     md_util_mask_credentials(p, "http://user:s3cr3t@proxy:3128/"));
    ck_assert_str_eq("http://user:***@proxy",
                     md_util_mask_credentials(p, "http://user:a:b@proxy"));
    /* in text, every URL; an '@' in the path is no user info */
    ck_assert_str_eq("via http://u:***@p:1 at https://x:***@ca/d?a=b:c@d done",
                     md_util_mask_credentials(
                         p, "via http://u:pw1@p:1 at https://x:pw2@ca/d?a=b:c@d done"));
    ck_assert_str_eq("\"https://u:***@ca\"",
                     md_util_mask_credentials(p, "\"https://u:pw@ca\""));
    /* nothing to hide: the same string */
    ck_assert_ptr_eq(plain, md_util_mask_credentials(p, plain));
    ck_assert_str_eq("http://user@proxy/", md_util_mask_credentials(p, "http://user@proxy/"));
    ck_assert_str_eq("http://user:@proxy/",
                     md_util_mask_credentials(p, "http://user:@proxy/"));
    ck_assert_str_eq("https://ca/a@b:c", md_util_mask_credentials(p, "https://ca/a@b:c"));
    ck_assert_ptr_null(md_util_mask_credentials(p, NULL));
    ck_assert_int_eq(1, md_util_has_credentials("x http://u:p@h"));
    ck_assert_int_eq(0, md_util_has_credentials("http://u@h:8"));
}
END_TEST

START_TEST(test_rm_links)
{
    /* removing a tree removes links in it, never what they point to */
    const char *dir = md_test_mkdtemp(md_test_pool), *data;
    const char *tree = md_util_path_join(md_test_pool, dir, "staging", NULL);
    const char *outside = md_util_path_join(md_test_pool, dir, "outside", NULL);
    const char *ofile = md_util_path_join(md_test_pool, outside, "keep.txt", NULL);
    apr_size_t len;

    ck_assert_int_eq(APR_SUCCESS, md_util_mkdir(md_util_path_join(md_test_pool, tree, "a",
                                                                  "b", NULL),
                                                0x0700, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_util_mkdir(outside, 0x0700, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_text_freplace(ofile, 0x0600, md_test_pool, "k"));
    ck_assert_int_eq(0, symlink(outside, md_util_path_join(md_test_pool, tree, "a",
                                                            "dirlink", NULL)));
    ck_assert_int_eq(0, symlink(ofile, md_util_path_join(md_test_pool, tree, "a", "b",
                                                          "filelink", NULL)));
    ck_assert_int_eq(0, link(ofile, md_util_path_join(md_test_pool, tree, "hard", NULL)));
    ck_assert_int_eq(0, mkfifo(md_util_path_join(md_test_pool, tree, "fifo", NULL), 0600));
    ck_assert_int_eq(APR_SUCCESS, md_util_rm_recursive(tree, md_test_pool));
    ck_assert(!md_util_is_dir(tree, md_test_pool));
    ck_assert_int_eq(APR_SUCCESS, md_util_fread_all(&data, &len, ofile, 10, md_test_pool));
    ck_assert_str_eq("k", data);
    /* a link as the tree itself: the link goes, its target stays */
    ck_assert_int_eq(0, symlink(outside, tree));
    ck_assert_int_eq(APR_SUCCESS, md_util_rm_recursive(tree, md_test_pool));
    ck_assert(md_util_is_file(ofile, md_test_pool));
    ck_assert_int_eq(-1, access(tree, F_OK));
}
END_TEST

START_TEST(test_exec)
{
    const char **argv;
    int exit_code;

    ck_assert_int_eq(APR_SUCCESS, md_util_cmd_argv(&argv, md_test_pool,
                                                   "/bin/sh -c 'exit 3'", NULL));
    ck_assert_str_eq("exit 3", argv[2]);
    ck_assert_int_eq(APR_SUCCESS, md_util_exec(md_test_pool, argv[0], argv, NULL, &exit_code));
    ck_assert_int_eq(3, exit_code);
    ck_assert_int_eq(APR_SUCCESS, md_util_cmd_argv(&argv, md_test_pool, "/bin/true", "a",
                                                   "b", NULL));
    ck_assert_str_eq("b", argv[2]);
    ck_assert_ptr_null(argv[3]);
    ck_assert_int_eq(APR_SUCCESS, md_util_exec(md_test_pool, argv[0], argv, NULL, &exit_code));
    ck_assert_int_eq(0, exit_code);
    /* no PATH search: a bare name does not run */
    ck_assert_int_eq(APR_SUCCESS, md_util_cmd_argv(&argv, md_test_pool, "true", NULL));
    ck_assert(APR_SUCCESS != md_util_exec(md_test_pool, argv[0], argv, NULL, &exit_code)
              || 0 != exit_code);
}
END_TEST

/* A command that does not end is killed with all it started, in time. */
START_TEST(test_exec_timeout)
{
    const char *dir = md_test_mkdtemp(md_test_pool);
    const char *marker = apr_pstrcat(md_test_pool, dir, "/late", NULL);
    const char **argv;
    apr_time_t start;
    int exit_code = 0;

    /* a child in the background that would write the marker later */
    ck_assert_int_eq(APR_SUCCESS, md_util_cmd_argv(&argv, md_test_pool, "/bin/sh", "-c",
        apr_psprintf(md_test_pool, "echo started >&2; (sleep 1; touch %s) & sleep 30",
                     marker), NULL));
    start = apr_time_now();
    ck_assert_int_eq(APR_TIMEUP, md_util_exec_timed(md_test_pool, argv[0], argv, NULL,
                                                    apr_time_from_msec(300), &exit_code));
    ck_assert_int_eq(-1, exit_code);
    ck_assert_msg(apr_time_now() - start < apr_time_from_sec(1), "took %ld ms",
                  (long)apr_time_msec(apr_time_now() - start));
    apr_sleep(apr_time_from_msec(1500));
    ck_assert_msg(!md_util_is_file(marker, md_test_pool), "the background child lived on");

    /* the process-wide timeout applies to md_util_exec */
    md_util_exec_timeout_set(apr_time_from_msec(300));
    ck_assert_int_eq(APR_SUCCESS, md_util_cmd_argv(&argv, md_test_pool, "/bin/sleep", "10",
                                                   NULL));
    ck_assert_int_eq(APR_TIMEUP, md_util_exec(md_test_pool, argv[0], argv, NULL, &exit_code));
    md_util_exec_timeout_set(0);
    ck_assert_int_eq(MD_UTIL_EXEC_TIMEOUT, md_util_exec_timeout_get());
    /* within the time: the exit code */
    ck_assert_int_eq(APR_SUCCESS, md_util_cmd_argv(&argv, md_test_pool,
                                                   "/bin/sh -c 'sleep 0.2; exit 4'", NULL));
    ck_assert_int_eq(APR_SUCCESS, md_util_exec_timed(md_test_pool, argv[0], argv, NULL,
                                                     apr_time_from_sec(5), &exit_code));
    ck_assert_int_eq(4, exit_code);
}
END_TEST

/* An MDMessageCmd that hangs is killed in time and counts as one that
 * cannot run: 'renewing' is vetoed (an error, retried on the back-off). */
START_TEST(test_exec_timeout_event)
{
    const char *cmd = "/bin/sh -c 'sleep 30'";
    md_event_t *events = md_event_make(md_test_pool, cmd, NULL);
    md_result_t *result = md_result_md_make(md_test_pool, "a.org");
    apr_time_t start = apr_time_now();
    apr_status_t rv;

    md_util_exec_timeout_set(apr_time_from_msec(300));
    rv = md_event_raise(events, "renewing", "a.org", NULL, result, md_test_pool);
    md_util_exec_timeout_set(0);
    ck_assert_int_eq(APR_EAGAIN, rv);
    ck_assert(apr_time_now() - start < apr_time_from_sec(2));
    ck_assert_str_eq("MDMessageCmd /bin/sh -c 'sleep 30' failed with exit code 255.",
                     result->detail);
}
END_TEST


/* The value of variable name in the NULL-terminated env, NULL if absent. */
static const char *env_get(const char *const *env, const char *name)
{
    apr_size_t len = strlen(name);

    for (; *env; ++env) {
        if (!strncmp(*env, name, len) && '=' == (*env)[len]) return *env + len + 1;
    }
    return NULL;
}

/* The variables MDMessageCmd gets: the MD, its domains, the live files per
 * key spec, the staged certificates for "renewed" only. */
START_TEST(test_event_env)
{
    apr_pool_t *p = md_test_pool;
    apr_array_header_t *domains = apr_array_make(p, 2, sizeof(const char *));
    apr_array_header_t *mds = apr_array_make(p, 1, sizeof(md_t *));
    md_event_t *events = md_event_make(p, "/bin/true", NULL);
    const char *const *env;
    md_t *md;

    APR_ARRAY_PUSH(domains, const char *) = "a.org";
    APR_ARRAY_PUSH(domains, const char *) = "www.a.org";
    md = md_create(p, domains);
    md->pks = md_pkeys_spec_make(p);
    md_pkeys_spec_add_rsa(md->pks, 3072);
    md_pkeys_spec_add_ec(md->pks, "secp384r1");
    APR_ARRAY_PUSH(mds, md_t *) = md;
    md_event_set_env_context(events, "/srv/md", mds);

    env = md_event_env(events, "renewed", "a.org", p);
    ck_assert_str_eq("a.org", env_get(env, "MD_NAME"));
    ck_assert_str_eq("renewed", env_get(env, "MD_EVENT"));
    ck_assert_str_eq("a.org www.a.org", env_get(env, "MD_DOMAINS"));
    ck_assert_str_eq("/srv/md", env_get(env, "MD_STORE_DIR"));
    ck_assert_str_eq("/srv/md/domains/a.org/pubcert.pem", env_get(env, "MD_CERT_FILE"));
    ck_assert_str_eq("/srv/md/domains/a.org/privkey.pem", env_get(env, "MD_KEY_FILE"));
    ck_assert_str_eq("/srv/md/domains/a.org/pubcert.pem", env_get(env, "MD_CERT_FILE_RSA"));
    ck_assert_str_eq("/srv/md/domains/a.org/privkey.secp384r1.pem",
                     env_get(env, "MD_KEY_FILE_SECP384R1"));
    ck_assert_str_eq("/srv/md/staging/a.org", env_get(env, "MD_STAGING_DIR"));
    ck_assert_str_eq("/srv/md/staging/a.org/pubcert.secp384r1.pem",
                     env_get(env, "MD_STAGED_CERT_FILE_SECP384R1"));
    /* staged keys are encrypted: not offered */
    ck_assert_ptr_null(env_get(env, "MD_STAGED_KEY_FILE"));

    env = md_event_env(events, "installed", "a.org", p);
    ck_assert_str_eq("installed", env_get(env, "MD_EVENT"));
    ck_assert_ptr_null(env_get(env, "MD_STAGING_DIR"));
    ck_assert_ptr_null(env_get(env, "MD_STAGED_CERT_FILE"));
    ck_assert_str_eq("/srv/md/domains/a.org/pubcert.pem", env_get(env, "MD_CERT_FILE"));

    /* MDActivation live: the set that is served now */
    env = md_event_env(events, "live", "a.org", p);
    ck_assert_str_eq("/srv/md/live/a.org", env_get(env, "MD_LIVE_DIR"));
    ck_assert_str_eq("/srv/md/live/a.org/pubcert.secp384r1.pem",
                     env_get(env, "MD_LIVE_CERT_FILE_SECP384R1"));
    ck_assert_ptr_null(env_get(env, "MD_STAGING_DIR"));

    /* an event about no MD ("other" of OCSP): only what is known */
    env = md_event_env(events, "ocsp-renewed", "other", p);
    ck_assert_str_eq("other", env_get(env, "MD_NAME"));
    ck_assert_str_eq("/srv/md", env_get(env, "MD_STORE_DIR"));
    ck_assert_ptr_null(env_get(env, "MD_DOMAINS"));
    ck_assert_ptr_null(env_get(env, "MD_CERT_FILE"));
}
END_TEST

/* The command gets the variables on top of the process's environment (a
 * same-named one replaced) and its argv stays the original's. */
START_TEST(test_event_env_exec)
{
    apr_pool_t *p = md_test_pool;
    const char *dir = md_test_mkdtemp(p);
    const char *out = apr_pstrcat(p, dir, "/out", NULL);
    const char *cmd = apr_psprintf(p, "/bin/sh -c 'echo \"$0|$1|$MD_NAME|$MD_EVENT|"
                                   "$MD_STORE_DIR|$MD_KEEP\" > %s'", out);
    md_event_t *events = md_event_make(p, cmd, NULL);
    md_result_t *result = md_result_md_make(p, "a.org");
    const char *text = NULL;
    apr_size_t len = 0;

    md_event_set_env_context(events, "/srv/md", NULL);
    setenv("MD_NAME", "stale", 1);
    setenv("MD_KEEP", "kept", 1);
    ck_assert_int_eq(APR_SUCCESS, md_event_raise(events, "installed", "a.org", NULL,
                                                 result, p));
    unsetenv("MD_NAME");
    unsetenv("MD_KEEP");
    ck_assert_int_eq(APR_SUCCESS, md_util_fread_all(&text, &len, out, 4096, p));
    ck_assert_str_eq("installed|a.org|a.org|installed|/srv/md|kept\n",
                     apr_pstrndup(p, text, len));
}
END_TEST

Suite *md_test_util_suite(void)
{
    Suite *s = suite_create("md_util");
    TCase *tc = tcase_create("util");

    tcase_add_checked_fixture(tc, md_test_setup, md_test_teardown);
    tcase_add_loop_test(tc, test_base64url, 0, N(b64_cases));
    tcase_add_test(tc, test_base64url_invalid);
    tcase_add_loop_test(tc, test_dns_names, 0, N(dns_cases));
    tcase_add_test(tc, test_dns_matching);
    tcase_add_loop_test(tc, test_uri_check, 0, N(uri_cases));
    tcase_add_test(tc, test_arrays_and_schemes);
    tcase_add_test(tc, test_file_writes);
    tcase_add_test(tc, test_fread_special);
    tcase_add_test(tc, test_freplace_new_inode);
    tcase_add_test(tc, test_rm_links);
    tcase_add_test(tc, test_mask_credentials);
    tcase_add_test(tc, test_exec);
    tcase_add_test(tc, test_exec_timeout);
    tcase_add_test(tc, test_exec_timeout_event);
    tcase_add_test(tc, test_event_env);
    tcase_add_test(tc, test_event_env_exec);
    tcase_set_timeout(tc, 20);
    suite_add_tcase(s, tc);
    return s;
}
