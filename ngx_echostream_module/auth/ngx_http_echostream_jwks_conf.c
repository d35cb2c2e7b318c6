/*
 * ngx_http_echostream_jwks_conf.c - the JWKS fetcher's configuration (see
 * ngx_http_echostream_jwks.h): defaults, the URI taken apart and its host
 * resolved, and the TLS client context for https.
 *
 * All of it runs while nginx reads its configuration, in the master
 * process, so every mistake fails "nginx -t" with the directive's name,
 * and a worker never resolves a name with the system's blocking resolver
 * nor reads a certificate file. The host resolves to all of its addresses
 * (the client tries them in turn); with nginx's "resolver" configured, a
 * worker looks the name up again before each fetch (non-blocking, see
 * ngx_http_echostream_jwks_init_process) and these addresses are only the
 * fallback.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "auth/ngx_http_echostream_jwks.h"

/* certificate chains of public CAs are three or four deep */
#define NGX_HTTP_ECHOSTREAM_JWKS_VERIFY_DEPTH 10

static ngx_int_t ngx_http_echostream_jwks_parse_uri(
    ngx_conf_t *cf, ngx_http_echostream_jwks_conf_t *jc, const char *directive);
static ngx_int_t ngx_http_echostream_jwks_init_ssl(
    ngx_conf_t *cf, ngx_http_echostream_jwks_conf_t *jc, const char *directive);

char *ngx_http_echostream_jwks_init_conf(ngx_conf_t *cf,
                                         ngx_http_echostream_jwks_conf_t *jc,
                                         const char *directive)
{
    /* defaults were applied by ngx_http_echostream_auth_init_conf */
    if (jc->penalty < 0 || jc->refresh < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" needs a penalty and a refresh period of "
                           "0 seconds or more",
                           directive);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_echostream_jwks_parse_uri(cf, jc, directive) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (jc->https &&
        ngx_http_echostream_jwks_init_ssl(cf, jc, directive) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}

/*
 * http(s)://host[:port][/path][?query] into jc->target, the host resolved
 * to its addresses. User information is refused (a password in a
 * configuration file would end up in log lines), a fragment dropped.
 */
static ngx_int_t ngx_http_echostream_jwks_parse_uri(
    ngx_conf_t *cf, ngx_http_echostream_jwks_conf_t *jc, const char *directive)
{
    ngx_http_echostream_http_target_t *t = &jc->target;
    u_char *p, *last, *auth, *host, *path, *hash;
    ngx_str_t authority, name;
    in_port_t port, default_port;
    const char *why;
    ngx_url_t u;
    size_t len;

    p = jc->uri.data;
    last = p + jc->uri.len;
    why = NULL;

    for (auth = p; auth < last; auth++) {
        if (*auth <= 0x20 || *auth >= 0x7f) {
            why = "it holds a space, control or non-ASCII character";
            goto invalid;
        }
    }

    if (jc->uri.len > 7 && ngx_strncasecmp(p, (u_char *)"http://", 7) == 0) {
        jc->https = 0;
        default_port = 80;
        p += 7;

    } else if (jc->uri.len > 8 &&
               ngx_strncasecmp(p, (u_char *)"https://", 8) == 0) {
        jc->https = 1;
        default_port = 443;
        p += 8;

    } else {
        why = "expected http:// or https://";
        goto invalid;
    }

    auth = p;
    while (p < last && *p != '/' && *p != '?' && *p != '#') {
        p++;
    }

    authority.data = auth;
    authority.len = p - auth;

    if (authority.len == 0) {
        why = "no host";
        goto invalid;
    }

    if (ngx_strlchr(auth, p, '@') != NULL) {
        why = "user information is not supported";
        goto invalid;
    }

    hash = ngx_strlchr(p, last, '#');
    if (hash != NULL) {
        last = hash;
    }

    /* the request target: "/" when the URI has no path */
    len = last - p;
    path = ngx_pnalloc(cf->pool, len + 1);
    if (path == NULL) {
        return NGX_ERROR;
    }

    t->path.data = path;
    if (len == 0 || *p != '/') {
        *path++ = '/';
    }
    path = ngx_cpymem(path, p, len);
    t->path.len = path - t->path.data;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = authority;
    u.default_port = default_port;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.family == AF_UNIX) {
        if (u.err != NULL && ngx_strcmp(u.err, "host not found") == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\" host \"%V\" not resolved: %s", directive,
                               &u.host, u.err);
            return NGX_ERROR;
        }

        why = u.err ? u.err : "invalid host";
        goto invalid;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" host \"%V\" not resolved: no address",
                           directive, &u.host);
        return NGX_ERROR;
    }

    port = u.no_port ? default_port : u.port;

    /* Host: as written (brackets kept), the port only when not default */
    t->host_header.data = ngx_pnalloc(cf->pool, u.host.len + NGX_INT_T_LEN);
    if (t->host_header.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(t->host_header.data, u.host.data, u.host.len);
    if (port != default_port) {
        p = ngx_sprintf(p, ":%d", (int)port);
    }
    t->host_header.len = p - t->host_header.data;

    /* SNI and the certificate check: no brackets, NUL-terminated */
    name = u.host;
    if (name.len > 2 && name.data[0] == '[') {
        name.data++;
        name.len -= 2;
    }

    host = ngx_pnalloc(cf->pool, name.len + 1);
    if (host == NULL) {
        return NGX_ERROR;
    }
    ngx_cpystrn(host, name.data, name.len + 1);

    t->host.data = host;
    t->host.len = name.len;
    t->host_is_ip = (ngx_inet_addr(host, name.len) != INADDR_NONE ||
                     ngx_strlchr(host, host + name.len, ':') != NULL);

    t->uri = jc->uri;
    t->addrs = u.addrs;
    t->naddrs = u.naddrs;
    t->port = port;

    return NGX_OK;

invalid:

    /* a URI with user information is not repeated: it may hold a password */
    if (ngx_strlchr(jc->uri.data, jc->uri.data + jc->uri.len, '@') != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" has an invalid URI: %s", directive, why);
        return NGX_ERROR;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%s\" has an invalid URI \"%V\": %s", directive,
                       &jc->uri, why);
    return NGX_ERROR;
}

/*
 * The client TLS context, as nginx's proxy module builds one: TLS 1.2 and
 * 1.3, the trusted certificates loaded now (so an unreadable file fails
 * "nginx -t"), verification results judged after each handshake.
 */
static ngx_int_t ngx_http_echostream_jwks_init_ssl(
    ngx_conf_t *cf, ngx_http_echostream_jwks_conf_t *jc, const char *directive)
{
    ngx_pool_cleanup_t *cln;
    ngx_ssl_t *ssl;
    ngx_str_t ca;
    ngx_fd_t fd;

    ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NGX_ERROR;
    }

    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2 | NGX_SSL_TLSv1_3, NULL) !=
        NGX_OK) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    /* a NUL-terminated copy, relative names from the configuration prefix */
    ca.len = jc->trusted_certificate.len;
    ca.data = ngx_pnalloc(cf->pool, ca.len + 1);
    if (ca.data == NULL) {
        return NGX_ERROR;
    }
    ngx_cpystrn(ca.data, jc->trusted_certificate.data, ca.len + 1);

    if (ngx_conf_full_name(cf->cycle, &ca, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(ca.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%s\" cannot read the trusted certificates "
                           "\"%V\"",
                           directive, &ca);
        return NGX_ERROR;
    }
    (void)ngx_close_file(fd);

    if (ngx_ssl_trusted_certificate(
            cf, ssl, &ca, NGX_HTTP_ECHOSTREAM_JWKS_VERIFY_DEPTH) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" found no usable trusted certificates in "
                           "\"%V\"",
                           directive, &ca);
        return NGX_ERROR;
    }

    jc->target.ssl = ssl;

    return NGX_OK;
}
