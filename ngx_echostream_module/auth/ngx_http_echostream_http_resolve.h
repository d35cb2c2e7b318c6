/*
 * ngx_http_echostream_http_resolve.h - the HTTP client's per-exchange
 * look-up of its target's host name through nginx's own resolver (the
 * "resolver" directive), so a name that moves to other addresses is
 * followed without a reload.
 *
 * Its own file because it is its own concern with its own lifetime (a
 * resolver context that may answer at once, later, or never when
 * cancelled); the client (ngx_http_echostream_http_client.c) only starts
 * it, cancels it, and is handed the addresses to try.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_HTTP_RESOLVE_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_HTTP_RESOLVE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "auth/ngx_http_echostream_http_client.h"

/*
 * The addresses to try, each with the target's port and a printable name:
 * fresh ones in the exchange's pool, or the target's configuration-time
 * ones when the look-up failed (logged).
 */
typedef void (*ngx_http_echostream_http_resolved_pt)(void *data,
                                                     ngx_addr_t *addrs,
                                                     ngx_uint_t naddrs);

/*
 * Starts looking t->host up through t->resolver, allocating in pool.
 * Returns
 *   NGX_OK: done is called exactly once, possibly from inside this call
 *     (the resolver may hold the answer already), unless cancelled first;
 *     *lookup names the look-up until then and is NULL after;
 *   NGX_DECLINED: nothing to look up (no resolver, a resolver without
 *     nameservers, or an IP literal): use t->addrs;
 *   NGX_ERROR: out of memory.
 * cancelable: whether the look-up's timer may be left behind by a worker's
 * graceful shutdown (as the exchange's own timer).
 */
ngx_int_t ngx_http_echostream_http_resolve(
    ngx_http_echostream_http_target_t *t, ngx_pool_t *pool, ngx_log_t *log,
    ngx_uint_t cancelable, ngx_http_echostream_http_resolved_pt done,
    void *data, ngx_resolver_ctx_t **lookup);

/* Changes cancelable of a look-up in flight. */
void ngx_http_echostream_http_resolve_hold(ngx_resolver_ctx_t *lookup,
                                           ngx_uint_t cancelable);

/* Ends a look-up in flight; done is never called. */
void ngx_http_echostream_http_resolve_cancel(ngx_resolver_ctx_t **lookup);

#endif /* _NGX_HTTP_ECHOSTREAM_HTTP_RESOLVE_H_INCLUDED_ */
