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
     * n replies in command order, deep copies allocated from r->pool, so
     * they stay valid for the life of the request; NULL on failure. A
     * Redis error reply (REDIS_REPLY_ERROR) is a reply, not a failure.
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

/* A pipeline of one command; same contract. */
ngx_int_t ngx_http_echostream_redis_command(
    ngx_http_request_t *r, ngx_http_echostream_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen);

/*
 * Connection manager, driven by the module: start connecting in a worker
 * (url must live as long as the cycle), and close at worker exit without
 * calling any handler.
 */
ngx_int_t ngx_http_echostream_redis_init_process(ngx_cycle_t *cycle,
                                                 es_redis_url *url);
void ngx_http_echostream_redis_exit_process(ngx_cycle_t *cycle);

#endif /* _NGX_HTTP_ECHOSTREAM_REDIS_H_INCLUDED_ */
