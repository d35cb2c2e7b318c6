/*
 * ngx_http_echostream_api_stream.c - long responses: chunked and SSE
 * writes with back-pressure (see api_stream.h).
 *
 * Shaped as nginx's upstream does it: buffers come from a free list and go
 * back to it through ngx_chain_update_chains() once sent, and while
 * anything is still busy or buffered by the connection, the request's
 * write event handler takes over and calls the route back only when all
 * has left, so a slow client slows the route instead of filling memory.
 * send_timeout ends a client that stops reading.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api_stream.h"
#include "core/ngx_http_echostream_module.h"

static void
ngx_http_echostream_api_stream_wait(ngx_http_echostream_api_stream_t *as);
static void ngx_http_echostream_api_stream_writer(ngx_http_request_t *r);

ngx_chain_t *
ngx_http_echostream_api_stream_buf(ngx_http_echostream_api_stream_t *as)
{
    ngx_chain_t *cl;
    ngx_buf_t *b;

    cl = ngx_chain_get_free_buf(as->ctx->r->pool, &as->free);
    if (cl == NULL) {
        return NULL;
    }

    b = cl->buf;
    ngx_memzero(b, sizeof(ngx_buf_t));
    b->tag = (ngx_buf_tag_t)&ngx_http_echostream_module;

    return cl;
}

ngx_int_t
ngx_http_echostream_api_stream_write(ngx_http_echostream_api_stream_t *as,
                                     ngx_chain_t *out)
{
    ngx_http_request_t *r = as->ctx->r;
    ngx_int_t rc;

    rc = ngx_http_output_filter(r, out);
    ngx_chain_update_chains(r->pool, &as->free, &as->busy, &out,
                            (ngx_buf_tag_t)&ngx_http_echostream_module);

    return rc;
}

ngx_uint_t
ngx_http_echostream_api_stream_busy(ngx_http_echostream_api_stream_t *as)
{
    if (as->busy == NULL && !as->ctx->r->connection->buffered) {
        return 0;
    }

    ngx_http_echostream_api_stream_wait(as);
    return 1;
}

/* Lets the write event go on once the client took what was sent. */
static void
ngx_http_echostream_api_stream_wait(ngx_http_echostream_api_stream_t *as)
{
    ngx_http_request_t *r = as->ctx->r;
    ngx_http_core_loc_conf_t *clcf;
    ngx_event_t *wev;

    r->write_event_handler = ngx_http_echostream_api_stream_writer;

    wev = r->connection->write;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (!wev->delayed) {
        ngx_add_timer(wev, clcf->send_timeout);
    }

    if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
        ngx_http_echostream_api_finalize(as->ctx, NGX_ERROR);
    }
}

static void ngx_http_echostream_api_stream_writer(ngx_http_request_t *r)
{
    ngx_http_echostream_api_stream_t *as;
    ngx_http_echostream_api_ctx_t *ctx;
    ngx_event_t *wev;
    ngx_int_t rc;

    ctx = ngx_http_get_module_ctx(r, ngx_http_echostream_module);
    /* the route's state starts with its api_stream_t (see the header) */
    as = ctx->data;
    wev = r->connection->write;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, NGX_ETIMEDOUT, "%s",
                      as->timeout_log);
        r->connection->timedout = 1;
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (wev->delayed) {
        ngx_http_echostream_api_stream_wait(as);
        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    rc = ngx_http_echostream_api_stream_write(as, NULL);

    if (rc == NGX_ERROR) {
        ngx_http_echostream_api_finalize(ctx, NGX_ERROR);
        return;
    }

    if (ngx_http_echostream_api_stream_busy(as)) {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;
    as->drained(as);
}
