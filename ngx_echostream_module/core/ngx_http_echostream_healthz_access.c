/*
 * ngx_http_echostream_healthz_access.c - who may read /healthz, and the
 * "echostream_healthz_token_file PATH" directive.
 *
 * /healthz names worker hosts and pids and Redis's errors: detail for an
 * operator, not for whoever reaches the server. A request gets it when it
 * comes from a loopback address (127.0.0.0/8, ::1, a unix socket) while
 * "echostream_healthz_loopback" is on (the default), or when it carries
 * "Authorization: Bearer <token>" with the token of the file; anything
 * else gets 403 and no body detail. Behind a proxy on the same host every
 * client looks like loopback: turn it off there and use the token.
 *
 * The file is read when the configuration is (by the master, so it may be
 * readable by root only) with the same reader as the mail secret
 * (es_unsub_key_read: trailing newline dropped, 16 to 4096 bytes). Only
 * its SHA-256 is kept; a presented token is hashed too and the two digests
 * compared in constant time, so neither the token's bytes nor its length
 * shape the timing. No token, right or wrong, is ever logged.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "es_unsub.h"
#include "core/ngx_http_echostream_directives.h"
#include "core/ngx_http_echostream_module.h"

static ngx_int_t ngx_http_echostream_healthz_loopback(ngx_connection_t *c);

char *ngx_http_echostream_conf_healthz_token(ngx_conf_t *cf, ngx_command_t *cmd,
                                             void *conf)
{
    ngx_http_echostream_loc_conf_t *elcf = conf;
    ngx_str_t *value, name;
    char err[160];
    u_char *path, *key;
    long n;

    if (elcf->healthz_token_sha256 != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];
    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    path = ngx_pnalloc(cf->pool, name.len + 1);
    key = ngx_alloc(ES_UNSUB_KEY_MAX, cf->log);
    elcf->healthz_token_sha256 = ngx_pnalloc(cf->pool, SHA256_DIGEST_LENGTH);
    if (path == NULL || key == NULL || elcf->healthz_token_sha256 == NULL) {
        ngx_free(key);
        return NGX_CONF_ERROR;
    }
    ngx_cpystrn(path, name.data, name.len + 1);

    n = es_unsub_key_read((const char *)path, key, ES_UNSUB_KEY_MAX, err,
                          sizeof(err));
    if (n >= 0) {
        SHA256(key, (size_t)n, elcf->healthz_token_sha256);
    }

    /* the token's bytes go at once: only the digest stays */
    OPENSSL_cleanse(key, ES_UNSUB_KEY_MAX);
    ngx_free(key);

    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_healthz_token_file\" \"%s\": %s", path,
                           err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}

ngx_int_t ngx_http_echostream_healthz_allowed(ngx_http_request_t *r)
{
    ngx_http_echostream_loc_conf_t *elcf;
    u_char digest[SHA256_DIGEST_LENGTH];
    ngx_table_elt_t *auth;
    ngx_str_t token;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_echostream_module);

    if (elcf->healthz_loopback &&
        ngx_http_echostream_healthz_loopback(r->connection)) {
        return 1;
    }

    auth = r->headers_in.authorization;
    if (elcf->healthz_token_sha256 == NULL || auth == NULL ||
        auth->value.len <= sizeof("Bearer ") - 1 ||
        ngx_strncasecmp(auth->value.data, (u_char *)"Bearer ",
                        sizeof("Bearer ") - 1) != 0) {
        return 0;
    }

    token.data = auth->value.data + sizeof("Bearer ") - 1;
    token.len = auth->value.len - (sizeof("Bearer ") - 1);

    SHA256(token.data, token.len, digest);

    return CRYPTO_memcmp(digest, elcf->healthz_token_sha256,
                         SHA256_DIGEST_LENGTH) == 0;
}

/* A loopback peer: 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, a unix socket. */
static ngx_int_t ngx_http_echostream_healthz_loopback(ngx_connection_t *c)
{
    struct sockaddr_in *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6 *sin6;
    u_char *a;
#endif

    switch (c->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *)c->sockaddr;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *)c->sockaddr;
        if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            return 1;
        }
        a = sin6->sin6_addr.s6_addr;
        return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && a[12] == 127;
#endif

#if (NGX_HAVE_UNIX_DOMAIN)
    case AF_UNIX:
        return 1;
#endif

    default:
        return 0;
    }
}
