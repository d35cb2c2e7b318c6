/*
 * ngx_http_echostream_api_answer.c - how a route ends its request: a JSON
 * body, the one error shape, 204 No Content, or its own headers and body
 * ended with ngx_http_echostream_api_finalize().
 *
 * Every answer goes through ngx_http_echostream_api_finalize(), which
 * counts the request's status and latency for /metrics and releases the
 * reference the content handler took, once: a second answer is logged
 * and dropped. Errors are always {"error":{"code":…,"message":…}}, with
 * the field, position and column of a failed check of lib/es_req*.c
 * inside "error".
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdarg.h>

#include "api/ngx_http_echostream_api.h"
#include "core/ngx_http_echostream_metrics.h"

static void ngx_http_echostream_api_error_va(ngx_http_echostream_api_ctx_t *ctx,
                                             ngx_uint_t status,
                                             const char *code, json_t *extra,
                                             const char *fmt, va_list ap);

void ngx_http_echostream_api_json(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_uint_t status, json_t *body)
{
    ngx_http_request_t *r = ctx->r;
    ngx_chain_t out;
    ngx_buf_t *b;
    size_t size, flags;
    ngx_int_t rc;

    if (body == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "echostream api: out of memory building a response");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
        return;
    }

    flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);

    size = json_dumpb(body, NULL, 0, flags);
    b = size ? ngx_create_temp_buf(r->pool, size + 1) : NULL;
    if (b == NULL || json_dumpb(body, (char *)b->pos, size, flags) != size) {
        json_decref(body);
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    json_decref(body);

    b->last = b->pos + size;
    *b->last++ = '\n';
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    if (ngx_http_echostream_api_common_headers(ctx) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    ctx->status = status;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_echostream_api_finalize(ctx, rc);
        return;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_echostream_api_finalize(ctx, ngx_http_output_filter(r, &out));
}

void ngx_http_echostream_api_error(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_uint_t status, const char *code,
                                   const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ngx_http_echostream_api_error_va(ctx, status, code, NULL, fmt, ap);
    va_end(ap);
}

void ngx_http_echostream_api_error_ex(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_uint_t status, const char *code,
                                      json_t *extra, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ngx_http_echostream_api_error_va(ctx, status, code, extra, fmt, ap);
    va_end(ap);
}

void ngx_http_echostream_api_req_error(ngx_http_echostream_api_ctx_t *ctx,
                                       const es_req_err *err)
{
    json_t *extra;

    /* packing fails only without memory: the error goes out without them */
    extra = json_object();
    if (extra != NULL && err->field[0] != '\0') {
        json_object_set_new(extra, "field", json_string(err->field));
    }
    if (extra != NULL && err->position >= 0) {
        json_object_set_new(extra, "position",
                            json_integer((json_int_t)err->position));
    }
    if (extra != NULL && err->column >= 0) {
        json_object_set_new(extra, "column",
                            json_integer((json_int_t)err->column));
    }

    ngx_http_echostream_api_error_ex(ctx, (ngx_uint_t)err->status, err->code,
                                     extra, "%s", err->message);
}

static void ngx_http_echostream_api_error_va(ngx_http_echostream_api_ctx_t *ctx,
                                             ngx_uint_t status,
                                             const char *code, json_t *extra,
                                             const char *fmt, va_list ap)
{
    u_char msg[512], *p;
    json_t *err, *body;

    p = ngx_vslprintf(msg, msg + sizeof(msg) - 1, fmt, ap);
    *p = '\0';

    err = json_pack("{s:s, s:s%}", "code", code, "message", (char *)msg,
                    (size_t)(p - msg));
    if (err != NULL && extra != NULL) {
        (void)json_object_update(err, extra);
    }
    json_decref(extra);

    body = err ? json_pack("{s:o}", "error", err) : NULL;

    if (body == NULL) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_echostream_api_json(ctx, status, body);
}

void ngx_http_echostream_api_no_content(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_request_t *r = ctx->r;
    ngx_int_t rc;

    if (ngx_http_echostream_api_common_headers(ctx) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;
    ctx->status = NGX_HTTP_NO_CONTENT;

    rc = ngx_http_send_header(r);
    ngx_http_echostream_api_finalize(ctx, rc);
}

void ngx_http_echostream_api_finalize(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_int_t rc)
{
    ngx_uint_t status;

    if (ctx->done) {
        ngx_log_error(NGX_LOG_ALERT, ctx->r->connection->log, 0,
                      "echostream api: request answered twice");
        return;
    }
    ctx->done = 1;

    status = ctx->status;
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        status = (ngx_uint_t)rc;
    } else if (status == 0) {
        status = ctx->r->headers_out.status;
    }

    ngx_http_echostream_metrics_request(ctx->route_index, status,
                                        ngx_current_msec - ctx->start);

    ngx_http_finalize_request(ctx->r, rc);
}
