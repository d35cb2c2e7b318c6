/*
 * ngx_http_echostream_http_resolve.c - one look-up of the HTTP client's
 * target host through nginx's resolver (see
 * ngx_http_echostream_http_resolve.h for the contract).
 *
 * nginx's resolver is asynchronous and shared by everything in the worker
 * (proxy_pass with variables uses the same one): ngx_resolve_name() sends
 * the query on the worker's event loop and calls back, at once when its
 * cache holds the name. A failed look-up is not the end of the exchange:
 * the addresses found at configuration time are handed over instead, with
 * a warning, so a nameserver's trouble costs nothing a static address
 * would not have cost.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "auth/ngx_http_echostream_http_resolve.h"

typedef struct {
    ngx_http_echostream_http_target_t *target;
    ngx_pool_t *pool;
    ngx_log_t *log;
    ngx_http_echostream_http_resolved_pt done;
    void *data;
    ngx_resolver_ctx_t **lookup;
} ngx_http_echostream_http_lookup_t;

static void ngx_http_echostream_http_resolve_handler(ngx_resolver_ctx_t *ctx);
static ngx_int_t
ngx_http_echostream_http_resolve_addrs(ngx_http_echostream_http_lookup_t *l,
                                       ngx_resolver_ctx_t *ctx,
                                       ngx_addr_t **addrs);

ngx_int_t ngx_http_echostream_http_resolve(
    ngx_http_echostream_http_target_t *t, ngx_pool_t *pool, ngx_log_t *log,
    ngx_uint_t cancelable, ngx_http_echostream_http_resolved_pt done,
    void *data, ngx_resolver_ctx_t **lookup)
{
    ngx_http_echostream_http_lookup_t *l;
    ngx_resolver_ctx_t *ctx, temp;

    *lookup = NULL;

    if (t->resolver == NULL || t->host_is_ip) {
        return NGX_DECLINED;
    }

    l = ngx_palloc(pool, sizeof(ngx_http_echostream_http_lookup_t));
    if (l == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&temp, sizeof(ngx_resolver_ctx_t));
    temp.name = t->host;

    ctx = ngx_resolve_start(t->resolver, &temp);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* the "resolver" directive was not given: nginx's empty one */
    if (ctx == NGX_NO_RESOLVER) {
        return NGX_DECLINED;
    }

    l->target = t;
    l->pool = pool;
    l->log = log;
    l->done = done;
    l->data = data;
    l->lookup = lookup;

    ctx->name = t->host;
    ctx->handler = ngx_http_echostream_http_resolve_handler;
    ctx->data = l;
    ctx->timeout = t->resolver_timeout;
    ctx->cancelable = cancelable ? 1 : 0;

    *lookup = ctx;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        /* nginx has freed ctx */
        *lookup = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}

void ngx_http_echostream_http_resolve_hold(ngx_resolver_ctx_t *lookup,
                                           ngx_uint_t cancelable)
{
    /* the look-up's timer exists once a query is out */
    if (lookup != NULL && lookup->event != NULL) {
        lookup->event->cancelable = cancelable ? 1 : 0;
    }
}

void ngx_http_echostream_http_resolve_cancel(ngx_resolver_ctx_t **lookup)
{
    if (*lookup != NULL) {
        ngx_resolve_name_done(*lookup);
        *lookup = NULL;
    }
}

static void ngx_http_echostream_http_resolve_handler(ngx_resolver_ctx_t *ctx)
{
    ngx_http_echostream_http_lookup_t *l = ctx->data;
    ngx_http_echostream_http_target_t *t = l->target;
    ngx_addr_t *addrs;
    ngx_uint_t naddrs;

    *l->lookup = NULL;

    addrs = t->addrs;
    naddrs = t->naddrs;

    if (ctx->state != NGX_OK || ctx->naddrs == 0) {
        ngx_log_error(NGX_LOG_WARN, l->log, 0,
                      "echostream http: resolving \"%V\" failed (%i: %s), "
                      "using the address found at configuration time",
                      &t->host, ctx->state, ngx_resolver_strerror(ctx->state));

    } else if (ngx_http_echostream_http_resolve_addrs(l, ctx, &addrs) ==
               NGX_OK) {
        naddrs = ctx->naddrs;

    } else {
        ngx_log_error(NGX_LOG_WARN, l->log, 0,
                      "echostream http: out of memory after resolving "
                      "\"%V\", using the address found at configuration time",
                      &t->host);
    }

    ngx_resolve_name_done(ctx);

    l->done(l->data, addrs, naddrs);
}

/* The resolver's addresses, with the target's port, copied into l->pool. */
static ngx_int_t
ngx_http_echostream_http_resolve_addrs(ngx_http_echostream_http_lookup_t *l,
                                       ngx_resolver_ctx_t *ctx,
                                       ngx_addr_t **addrs)
{
    struct sockaddr *sa;
    ngx_addr_t *a;
    ngx_uint_t i;
    socklen_t len;
    u_char *p;

    a = ngx_pcalloc(l->pool, ctx->naddrs * sizeof(ngx_addr_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ctx->naddrs; i++) {
        len = ctx->addrs[i].socklen;

        sa = ngx_palloc(l->pool, len);
        p = ngx_pnalloc(l->pool, NGX_SOCKADDR_STRLEN);
        if (sa == NULL || p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(sa, ctx->addrs[i].sockaddr, len);
        ngx_inet_set_port(sa, l->target->port);

        a[i].sockaddr = sa;
        a[i].socklen = len;
        a[i].name.data = p;
        a[i].name.len = ngx_sock_ntop(sa, len, p, NGX_SOCKADDR_STRLEN, 1);

        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, l->log, 0,
                       "echostream http: \"%V\" is %V", &l->target->host,
                       &a[i].name);
    }

    *addrs = a;

    return NGX_OK;
}
