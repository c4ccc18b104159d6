/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * Running external commands (md_util.h): command lines split into argv,
 * a child in its own process group with a bounded run time, its output
 * logged line by line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "md_log.h"
#include "md_util.h"

/* --- commands ----------------------------------------------------------------------------- */

apr_status_t md_util_cmd_argv(const char ***pargv, apr_pool_t *p, const char *cmdline, ...)
{
    char **tokens;
    apr_array_header_t *args;
    const char *arg;
    apr_status_t rv;
    va_list ap;
    int i;

    *pargv = NULL;
    rv = apr_tokenize_to_argv(cmdline, &tokens, p);
    if (APR_SUCCESS != rv) return rv;
    args = apr_array_make(p, 8, sizeof(const char *));
    for (i = 0; tokens[i]; ++i) APR_ARRAY_PUSH(args, const char *) = tokens[i];
    if (0 == args->nelts) return APR_EINVAL;
    va_start(ap, cmdline);
    while ((arg = va_arg(ap, const char *))) APR_ARRAY_PUSH(args, const char *) = arg;
    va_end(ap);
    APR_ARRAY_PUSH(args, const char *) = NULL;
    *pargv = (const char **)args->elts;
    return APR_SUCCESS;
}

/* Commands run as the server: a hanging one would block the renewal (or the
 * parent at activation) for good. */
static apr_interval_time_t exec_timeout = MD_UTIL_EXEC_TIMEOUT;

void md_util_exec_timeout_set(apr_interval_time_t timeout)
{
    exec_timeout = (timeout > 0) ? timeout : MD_UTIL_EXEC_TIMEOUT;
}

apr_interval_time_t md_util_exec_timeout_get(void)
{
    return exec_timeout;
}

static apr_time_t mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return apr_time_from_sec(ts.tv_sec) + ts.tv_nsec / 1000;
}

/* In the child between fork and exec: only async-signal-safe calls. The
 * child leads its own process group, so that a timeout ends all it
 * started; errno of a failed exec goes back through errfd. */
static void exec_child(const char *cmd, const char *const *argv,
                       const char *const *envp, int errpipe_w, int errfd)
{
    int null, err;

    setpgid(0, 0);
    null = open("/dev/null", O_RDONLY);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        if (null != STDIN_FILENO) {
            close(null);
        }
    }
    dup2(errpipe_w, STDERR_FILENO);
    if (errpipe_w != STDERR_FILENO) {
        close(errpipe_w);
    }
    if (envp) {
        execve(cmd, (char *const *)argv, (char *const *)envp);
    }
    else {
        execv(cmd, (char *const *)argv);
    }
    err = errno;
    if (write(errfd, &err, sizeof(err)) < 0) {
        err = 0;
    }
    _exit(127);
}

/* Logs the complete lines of buf[0..*plen) and keeps the rest. */
static void log_lines(char *buf, apr_size_t *plen, int flush, const char *cmd,
                      apr_pool_t *p)
{
    char *start = buf, *nl;
    apr_size_t len = *plen;

    while ((nl = memchr(start, '\n', len - (apr_size_t)(start - buf)))) {
        *nl = '\0';
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "cmd(%s) stderr: %s", cmd, start);
        start = nl + 1;
    }
    len -= (apr_size_t)(start - buf);
    memmove(buf, start, len);
    if (len && (flush || len >= 1023)) {
        buf[len] = '\0';
        md_log_perror(MD_LOG_MARK, MD_LOG_INFO, 0, p, "cmd(%s) stderr: %s", cmd, buf);
        len = 0;
    }
    *plen = len;
}

/* 1 if the "NAME=VALUE" strings a and b name the same variable. */
static int env_same_name(const char *a, const char *b)
{
    const char *eq = strchr(a, '=');
    apr_size_t len = eq ? (apr_size_t)(eq - a) : strlen(a);

    return !strncmp(a, b, len) && (b[len] == '=' || b[len] == '\0');
}

/* The environment of a command: the process's own with env added (built
 * before the fork: the child may only make async-signal-safe calls). */
static const char *const *exec_envp(const char *const *env, apr_pool_t *p)
{
    extern char **environ;
    apr_array_header_t *envp;
    const char *const *add;
    char **cur;

    if (!env) return NULL;
    envp = apr_array_make(p, 32, sizeof(const char *));
    for (cur = environ; cur && *cur; ++cur) {
        for (add = env; *add && !env_same_name(*add, *cur); ++add) {}
        if (!*add) {
            APR_ARRAY_PUSH(envp, const char *) = *cur;
        }
    }
    for (add = env; *add; ++add) APR_ARRAY_PUSH(envp, const char *) = *add;
    APR_ARRAY_PUSH(envp, const char *) = NULL;
    return (const char *const *)envp->elts;
}

apr_status_t md_util_exec_timed(apr_pool_t *p, const char *cmd, const char *const *argv,
                                const char *const *env, apr_interval_time_t timeout,
                                int *pexit_code)
{
    const char *const *envp = exec_envp(env, p);
    char buf[1024];
    apr_size_t blen = 0;
    apr_time_t deadline = mono_now() + timeout, left;
    struct pollfd pfd;
    int errpipe[2] = { -1, -1 }, execpipe[2] = { -1, -1 };
    int status, err = 0, eof = 0, timed_out = 0;
    ssize_t n;
    pid_t pid, w;
    apr_status_t rv = APR_SUCCESS;

    *pexit_code = -1;
    if (pipe(errpipe) || pipe(execpipe)) {
        rv = APR_FROM_OS_ERROR(errno);
        goto leave;
    }
    /* none of them leaks into commands that other threads start; dup2 in
     * the child clears the flag on its stderr */
    fcntl(errpipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(errpipe[1], F_SETFD, FD_CLOEXEC);
    fcntl(execpipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(execpipe[1], F_SETFD, FD_CLOEXEC);
    pid = fork();
    if (pid < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto leave;
    }
    if (0 == pid) {
        close(errpipe[0]);
        close(execpipe[0]);
        exec_child(cmd, argv, envp, errpipe[1], execpipe[1]);
    }
    close(errpipe[1]);
    close(execpipe[1]);
    errpipe[1] = execpipe[1] = -1;
    /* the exec pipe closes at exec (nothing to read) or carries its errno */
    n = read(execpipe[0], &err, sizeof(err));
    if (n == (ssize_t)sizeof(err) && err) {
        waitpid(pid, &status, 0);
        rv = APR_FROM_OS_ERROR(err);
        goto leave;
    }
    while (!eof && !timed_out) {
        left = deadline - mono_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        pfd.fd = errpipe[0];
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, (int)(left / 1000) + 1) < 0) {
            if (EINTR == errno) {
                continue;
            }
            break;
        }
        if (!pfd.revents) {
            continue;
        }
        n = read(errpipe[0], buf + blen, sizeof(buf) - 1 - blen);
        if (n < 0 && EINTR == errno) {
            continue;
        }
        if (n <= 0) {
            eof = 1;
            break;
        }
        blen += (apr_size_t)n;
        log_lines(buf, &blen, 0, cmd, p);
    }
    log_lines(buf, &blen, 1, cmd, p);
    /* stderr closed (or given up): wait for the exit, within the deadline */
    while (!timed_out) {
        w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            break;
        }
        if (w < 0 && EINTR != errno) {
            rv = APR_FROM_OS_ERROR(errno);
            goto leave;
        }
        if (mono_now() >= deadline) {
            timed_out = 1;
            break;
        }
        apr_sleep(apr_time_from_msec(10));
    }
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && EINTR == errno) {}
        md_log_perror(MD_LOG_MARK, MD_LOG_ERR, APR_TIMEUP, p, "AH10707: cmd(%s) did not "
                      "finish within %ld seconds: killed it (process group %ld)", cmd,
                      (long)apr_time_sec(timeout), (long)pid);
        rv = APR_TIMEUP;
        goto leave;
    }
    *pexit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
leave:
    if (errpipe[0] >= 0) {
        close(errpipe[0]);
    }
    if (errpipe[1] >= 0) {
        close(errpipe[1]);
    }
    if (execpipe[0] >= 0) {
        close(execpipe[0]);
    }
    if (execpipe[1] >= 0) {
        close(execpipe[1]);
    }
    return rv;
}

apr_status_t md_util_exec(apr_pool_t *p, const char *cmd, const char *const *argv,
                          const char *const *env, int *pexit_code)
{
    return md_util_exec_timed(p, cmd, argv, env, exec_timeout, pexit_code);
}
