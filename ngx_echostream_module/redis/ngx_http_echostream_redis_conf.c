/*
 * ngx_http_echostream_redis_conf.c - "echostream_redis" when the
 * configuration is read: the URL parsed (lib/es_redis_url.c, shared with
 * the workers) and its host names, the Redis host or each sentinel,
 * resolved to an address. A worker without a "resolver" connects to those
 * addresses, since a blocking look-up would stall it; with one it looks
 * the names up again on every reconnect
 * (ngx_http_echostream_redis_target.c). Resolving here also makes
 * "nginx -t" fail on a name that does not resolve.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "redis/ngx_http_echostream_redis.h"

static ngx_int_t
ngx_http_echostream_redis_resolve_conf(ngx_conf_t *cf, const char *host,
                                       int port,
                                       ngx_http_echostream_redis_addr_t *addr);

/*
 * Parses a Redis URL into out and resolves its host names (the host, or
 * each sentinel) to their first address in addr, so that connecting in a
 * worker without a resolver never waits on DNS. The URL may hold a
 * password: it never appears in a message.
 */
ngx_int_t
ngx_http_echostream_redis_parse_conf(ngx_conf_t *cf, ngx_str_t *url,
                                     es_redis_url *out,
                                     ngx_http_echostream_redis_addr_t *addr)
{
    char err[128];
    u_char *text;
    int i;

    /* the URL needs its NUL: configuration tokens have one, be sure */
    text = ngx_pnalloc(cf->pool, url->len + 1);
    if (text == NULL) {
        return NGX_ERROR;
    }
    ngx_cpystrn(text, url->data, url->len + 1);

    if (es_redis_url_parse((char *)text, out, err, sizeof(err)) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_redis\" has an invalid URL: %s", err);
        return NGX_ERROR;
    }

    if (out->is_unix) {
        return NGX_OK;
    }

    if (out->nsentinels == 0) {
        return ngx_http_echostream_redis_resolve_conf(cf, out->host, out->port,
                                                      &addr[0]);
    }

    for (i = 0; i < out->nsentinels; i++) {
        if (ngx_http_echostream_redis_resolve_conf(cf, out->sentinel[i].host,
                                                   out->sentinel[i].port,
                                                   &addr[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}

/* One host name to its first address, as text without the port. */
static ngx_int_t
ngx_http_echostream_redis_resolve_conf(ngx_conf_t *cf, const char *host,
                                       int port,
                                       ngx_http_echostream_redis_addr_t *addr)
{
    ngx_url_t u;
    size_t len;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url.data = (u_char *)host;
    u.url.len = ngx_strlen(host);
    u.default_port = (in_port_t)port;
    u.no_port = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_redis\" host \"%s\" not resolved: %s",
                           host, u.err ? u.err : "no address");
        return NGX_ERROR;
    }

    len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                        (u_char *)addr->text, sizeof(addr->text) - 1, 0);
    addr->text[len] = '\0';

    return NGX_OK;
}
