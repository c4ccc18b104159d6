/* Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 * A TLS client handshake that only looks at what answers (a2md doctor's
 * tls-alpn-01 probe): the selected ALPN protocol and the leaf certificate.
 * Nothing is verified and no data is sent.
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <apr_network_io.h>
#include <apr_portable.h>
#include <apr_strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "md.h"
#include "md_crypto.h"
#include "md_crypto_int.h"

/* The OpenSSL error queue as one line, drained. */
static const char *ssl_error_text(apr_pool_t *p)
{
    char buf[256];
    const char *text = NULL;
    unsigned long err;

    while ((err = ERR_get_error()) != 0) {
        ERR_error_string_n(err, buf, sizeof(buf));
        text = text ? apr_pstrcat(p, text, "; ", buf, NULL) : apr_pstrdup(p, buf);
    }
    return text ? text : "the handshake was not completed";
}

static apr_status_t probe_connect(apr_socket_t **psock, const char *addr, int port,
                                  apr_interval_time_t timeout, apr_pool_t *p)
{
    apr_sockaddr_t *sa;
    apr_socket_t *sock = NULL;
    apr_os_sock_t fd;
    struct timeval tv;
    apr_status_t rv;

    rv = apr_sockaddr_info_get(&sa, addr, APR_UNSPEC, (apr_port_t)port, 0, p);
    if (APR_SUCCESS != rv) goto leave;
    rv = apr_socket_create(&sock, sa->family, SOCK_STREAM, APR_PROTO_TCP, p);
    if (APR_SUCCESS != rv) goto leave;
    apr_socket_timeout_set(sock, timeout);
    rv = apr_socket_connect(sock, sa);
    if (APR_SUCCESS != rv) goto leave;
    /* OpenSSL reads the descriptor itself: blocking, with kernel timeouts */
    apr_socket_timeout_set(sock, -1);
    apr_os_sock_get(&fd, sock);
    tv.tv_sec = (time_t)apr_time_sec(timeout);
    tv.tv_usec = (suseconds_t)apr_time_usec(timeout);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
leave:
    if (APR_SUCCESS != rv && sock) {
        apr_socket_close(sock);
    }
    *psock = (APR_SUCCESS == rv) ? sock : NULL;
    return rv;
}

apr_status_t md_tls_probe(const char **palpn, md_cert_t **pcert, const char **perr,
                          const char *addr, int port, const char *servername,
                          const char *alpn, apr_interval_time_t timeout, apr_pool_t *p)
{
    const unsigned char *selected = NULL;
    unsigned char wire[256];
    unsigned int selected_len = 0;
    apr_socket_t *sock = NULL;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    X509 *x509;
    apr_os_sock_t fd;
    apr_size_t alen = alpn ? strlen(alpn) : 0;
    apr_status_t rv;

    *palpn = "";
    *pcert = NULL;
    *perr = NULL;
    if (alen > 255) return APR_EINVAL;
    rv = probe_connect(&sock, addr, port, timeout, p);
    if (APR_SUCCESS != rv) goto leave;
    apr_os_sock_get(&fd, sock);
    ERR_clear_error();
    rv = APR_EGENERAL;
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) goto failed;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    ssl = SSL_new(ctx);
    if (!ssl || 1 != SSL_set_fd(ssl, fd)) goto failed;
    if (servername && 1 != SSL_set_tlsext_host_name(ssl, servername)) goto failed;
    if (alen) {
        wire[0] = (unsigned char)alen;
        memcpy(wire + 1, alpn, alen);
        /* this one returns 0 on success */
        if (0 != SSL_set_alpn_protos(ssl, wire, (unsigned int)alen + 1)) goto failed;
    }
    if (1 != SSL_connect(ssl)) {
        if (ERR_GET_REASON(ERR_peek_last_error())
            == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
            /* the server's way of saying "none of these" (RFC 7301 3.2) */
            ERR_clear_error();
            rv = APR_SUCCESS;
            goto leave;
        }
        goto failed;
    }
    SSL_get0_alpn_selected(ssl, &selected, &selected_len);
    if (selected && selected_len) {
        *palpn = apr_pstrmemdup(p, (const char *)selected, selected_len);
    }
    x509 = SSL_get1_peer_certificate(ssl);
    if (x509) {
        *pcert = md_cert_wrap(p, x509);
    }
    SSL_shutdown(ssl);
    rv = APR_SUCCESS;
    goto leave;
failed:
    *perr = ssl_error_text(p);
leave:
    if (ssl) {
        SSL_free(ssl);
    }
    if (ctx) {
        SSL_CTX_free(ctx);
    }
    if (sock) {
        apr_socket_close(sock);
    }
    return rv;
}
