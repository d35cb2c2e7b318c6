/*
 * ngx_http_echostream_redis.h - asynchronous Redis for request handlers.
 *
 * Each nginx worker process keeps one pipelined hiredis connection, driven
 * by nginx's own event loop (never a blocking call in a worker), opened in
 * init_process and reopened with back-off when it drops. Handlers queue a
 * pipeline of commands for a request and are called back once, when the
 * last reply has arrived or the pipeline failed (timeout, connection lost,
 * not connected). A request that goes away first (client abort) is
 * detached by its pool cleanup, so a late reply never touches freed memory.
 *
 * Replies are not copied: each is the tree hiredis parsed, taken over from
 * hiredis and freed when the pool it was queued for is destroyed (the
 * request's pool, or a shorter-lived one a long-lived route makes per
 * page, see ngx_http_echostream_redis_pipeline_pool()).
 *
 * Usage from a content handler:
 *
 *     rc = ngx_http_echostream_redis_pipeline(r, cmds, n, done, ctx);
 *     if (rc != NGX_OK) {
 *         return NGX_HTTP_INTERNAL_SERVER_ERROR;
 *     }
 *     return NGX_DONE;
 *
 * and in done(): build the response, then ngx_http_finalize_request(r, rc).
 */

#ifndef _NGX_HTTP_ECHOSTREAM_REDIS_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_REDIS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "es_redis_url.h"

/* One command: argv[i] of argvlen[i] bytes (argvlen NULL: C strings). */
typedef struct {
    int argc;
    const char **argv;
    const size_t *argvlen;
} ngx_http_echostream_redis_cmd_t;

typedef struct {
    /*
     * n replies in command order, owned by the pool the pipeline was
     * queued for (r->pool unless given) and freed with it, so they stay
     * valid for that pool's life; never freed by the handler. NULL on
     * failure. A Redis error reply (REDIS_REPLY_ERROR) is a reply, not a
     * failure.
     */
    redisReply **replies;
    ngx_uint_t n;
    /* why replies is NULL; valid during the callback only */
    const char *error;
    /* from queueing the pipeline to its last reply (or to the failure) */
    double latency_ms;
} ngx_http_echostream_redis_result_t;

/*
 * Called exactly once per accepted pipeline while the request lives; it
 * owns the request's final ngx_http_finalize_request(). res is borrowed.
 */
typedef void (*ngx_http_echostream_redis_handler_pt)(
    ngx_http_request_t *r, void *data, ngx_http_echostream_redis_result_t *res);

/*
 * Queues n commands (sent together, one round trip) for request r with the
 * location's echostream_redis_timeout for the whole pipeline. The argument
 * bytes are copied before the call returns.
 *
 * Returns NGX_OK: handler will be called later (never from inside this
 * call), and r->main->count was incremented for it, so the content handler
 * must return NGX_DONE. Even "Redis is down" is reported through the
 * handler, so callers have a single failure path. Returns NGX_ERROR only
 * when memory ran out; then the handler is never called.
 */
ngx_int_t ngx_http_echostream_redis_pipeline(
    ngx_http_request_t *r, ngx_http_echostream_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_echostream_redis_handler_pt handler, void *data);

/*
 * The same, with the replies owned by pool instead of r->pool: a
 * long-lived route (an export, a stream) gives each page its own pool and
 * destroys it once the page is sent, so its memory does not grow with the
 * response. pool must stay until the handler has run, unless it is
 * destroyed by the request's end (from a cleanup of r->pool): the
 * pipeline is detached (its handler never runs) by whichever of pool and
 * r->pool is destroyed first, and only the request's end releases the
 * reference the pipeline took.
 */
ngx_int_t ngx_http_echostream_redis_pipeline_pool(
    ngx_http_request_t *r, ngx_pool_t *pool,
    ngx_http_echostream_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_echostream_redis_handler_pt handler, void *data);

/* A pipeline of one command; same contract. */
ngx_int_t ngx_http_echostream_redis_command(
    ngx_http_request_t *r, ngx_http_echostream_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen);

/*
 * Why this worker cannot serve Redis-backed requests now, or NULL when it
 * can: its connection is up and every function library of the module is
 * confirmed loaded on it (at its version or a newer one). Reads state only,
 * sends nothing: /readyz adds its own PING.
 */
const char *ngx_http_echostream_redis_unready(void);

/* A host's address as text, as ngx_sock_ntop writes it without a port. */
typedef struct {
    char text[NGX_SOCKADDR_STRLEN + 1];
} ngx_http_echostream_redis_addr_t;

/*
 * Parses an "echostream_redis" URL into out and resolves its host names
 * (the host, or each sentinel) into addr (ES_REDIS_SENTINELS_MAX entries);
 * errors are logged with the directive's name, never with the password.
 */
ngx_int_t
ngx_http_echostream_redis_parse_conf(ngx_conf_t *cf, ngx_str_t *url,
                                     es_redis_url *out,
                                     ngx_http_echostream_redis_addr_t *addr);

/*
 * Connection manager, driven by the module: start connecting in a worker
 * (url and addr must live as long as the cycle; addr holds the addresses
 * url's host names had at configuration time, see
 * ngx_http_echostream_main_conf_t), and close at worker exit without
 * calling any handler.
 */
ngx_int_t
ngx_http_echostream_redis_init_process(ngx_cycle_t *cycle, es_redis_url *url,
                                       ngx_http_echostream_redis_addr_t *addr);
void ngx_http_echostream_redis_exit_process(ngx_cycle_t *cycle);

#endif /* _NGX_HTTP_ECHOSTREAM_REDIS_H_INCLUDED_ */
