/*
 * ngx_http_echostream_api_redis.c - a route's Redis steps: its pipeline
 * queued with the route's continuation, and the one answer to a pipeline
 * that failed.
 *
 * Each step takes a reference on the request (the pipeline does) that its
 * completion releases once the route's continuation has run, so routes
 * never touch r->main->count. A failed pipeline is answered alike for
 * every route: 503 when Redis is unavailable, 500 (logged with the route's
 * name) when a reply is a Redis error.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"

static void
ngx_http_echostream_api_redis_done(ngx_http_request_t *r, void *data,
                                   ngx_http_echostream_redis_result_t *res);

ngx_int_t ngx_http_echostream_api_redis(ngx_http_echostream_api_ctx_t *ctx,
                                        ngx_http_echostream_redis_cmd_t *cmds,
                                        ngx_uint_t n,
                                        ngx_http_echostream_api_redis_pt next)
{
    ctx->next = next;

    return ngx_http_echostream_redis_pipeline_pool(
        ctx->r, ctx->r->pool, cmds, n, ngx_http_echostream_api_redis_done, ctx);
}

ngx_int_t ngx_http_echostream_api_redis_pool(
    ngx_http_echostream_api_ctx_t *ctx, ngx_pool_t *pool,
    ngx_http_echostream_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_echostream_api_redis_pt next)
{
    ctx->next = next;

    return ngx_http_echostream_redis_pipeline_pool(
        ctx->r, pool, cmds, n, ngx_http_echostream_api_redis_done, ctx);
}

static void
ngx_http_echostream_api_redis_done(ngx_http_request_t *r, void *data,
                                   ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_api_ctx_t *ctx = data;

    ctx->next(ctx, res);

    /* balances the count taken by ngx_http_echostream_redis_pipeline() */
    ngx_http_finalize_request(r, NGX_DONE);
}

void ngx_http_echostream_api_redis_down(ngx_http_echostream_api_ctx_t *ctx,
                                        ngx_http_echostream_redis_result_t *res)
{
    ngx_uint_t i;

    if (res->replies == NULL) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: redis unavailable: %s",
                      res->error ? res->error : "unknown");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable",
                                      "the data store is unavailable, try "
                                      "again shortly");
        return;
    }

    for (i = 0; i < res->n; i++) {
        if (res->replies[i]->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                          "echostream api: redis error in %s: %*s",
                          ctx->route ? ctx->route->name : "auth",
                          (size_t)ngx_min(res->replies[i]->len, 200),
                          res->replies[i]->str);
            break;
        }
    }

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "the request failed");
}

ngx_int_t
ngx_http_echostream_api_redis_failed(ngx_http_echostream_api_ctx_t *ctx,
                                     ngx_http_echostream_redis_result_t *res)
{
    ngx_uint_t i;

    if (res->replies == NULL) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return 1;
    }

    for (i = 0; i < res->n; i++) {
        if (res->replies[i]->type == REDIS_REPLY_ERROR) {
            ngx_http_echostream_api_redis_down(ctx, res);
            return 1;
        }
    }

    return 0;
}
