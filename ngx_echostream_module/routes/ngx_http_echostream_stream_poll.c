/*
 * ngx_http_echostream_stream_poll.c - what keeps a GET /stream going: the
 * poll timer and its Redis steps, keepalives, the error event of an
 * outage, the writes with back-pressure, and the stream's clean end.
 *
 * Every 500 ms (at once while the stream holds more than a poll read)
 * the connection reads what is new in the tenant's live stream
 * (stream_entries.c). A ": keepalive" comment goes out after 15 s without
 * a write, so proxies and clients see the connection alive. Redis failing
 * while streaming sends one "event: error" (data {"code":"unavailable"})
 * and polling goes on: the stream recovers by itself, without the client
 * reconnecting, and a later outage is reported again. A connection lives
 * at most an hour and ends cleanly when the worker shuts down (the client
 * reconnects and resumes).
 *
 * Memory: a connection lives long, so each poll gets a pool of its own,
 * which owns the poll's Redis replies (ngx_http_echostream_api_redis_pool())
 * and text and is destroyed when its events have left, and output buffers
 * are recycled through a free list, so a connection's memory does not grow
 * with its age. Nothing is read from Redis while the client has not taken
 * the previous events (back-pressure); nginx's send_timeout ends a client
 * that stops reading. That output machinery is api_stream.c, shared with
 * /export.csv.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_api_stream.h"
#include "routes/ngx_http_echostream_stream.h"

#define NGX_HTTP_ECHOSTREAM_STREAM_POLL      500
#define NGX_HTTP_ECHOSTREAM_STREAM_KEEPALIVE 15000
#define NGX_HTTP_ECHOSTREAM_STREAM_LIFETIME  (3600 * 1000)

static void
ngx_http_echostream_stream_reply(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_stream_failed(ngx_http_echostream_stream_t *st,
                                  ngx_http_echostream_redis_result_t *res);
static void ngx_http_echostream_stream_end(ngx_http_echostream_stream_t *st);

static u_char ngx_http_echostream_stream_keepalive[] = ": keepalive\n\n";
static u_char ngx_http_echostream_stream_error[] =
    "event: error\ndata: {\"code\":\"unavailable\"}\n\n";

/* Queues one command whose reply the poll's pool (made if need be) owns. */
ngx_int_t ngx_http_echostream_stream_redis(ngx_http_echostream_stream_t *st,
                                           int argc, const char **argv,
                                           const size_t *lens)
{
    ngx_http_echostream_redis_cmd_t cmd;

    if (st->page == NULL) {
        st->page =
            ngx_create_pool(NGX_DEFAULT_POOL_SIZE, st->ctx->r->connection->log);
        if (st->page == NULL) {
            return NGX_ERROR;
        }
    }

    cmd.argc = argc;
    cmd.argv = argv;
    cmd.argvlen = lens;

    return ngx_http_echostream_api_redis_pool(st->ctx, st->page, &cmd, 1,
                                              ngx_http_echostream_stream_reply);
}

static void
ngx_http_echostream_stream_reply(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_stream_t *st = ctx->data;
    ngx_http_request_t *r = ctx->r;
    ngx_int_t rc;

    if (st->phase == NGX_HTTP_ECHOSTREAM_STREAM_START) {
        ngx_http_echostream_stream_started(st, res);
        return;
    }

    if (res->replies == NULL || res->replies[0]->type == REDIS_REPLY_ERROR) {
        ngx_http_echostream_stream_failed(st, res);
        return;
    }

    if (st->down) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "echostream api: stream \"%V\" reads again", &st->key);
        st->down = 0;
    }

    if (st->phase == NGX_HTTP_ECHOSTREAM_STREAM_RANGE) {
        rc = ngx_http_echostream_stream_range(st, res->replies[0]);

    } else {
        rc = ngx_http_echostream_stream_events(st, res->replies[0]);
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "echostream api: stream \"%V\" ends: unexpected "
                      "reply or out of memory",
                      &st->key);
        ngx_http_echostream_api_finalize(st->ctx, NGX_ERROR);
    }
}

/* The poll timer: end, keep alive, or read what is new. */
void ngx_http_echostream_stream_tick(ngx_event_t *ev)
{
    ngx_http_echostream_stream_t *st = ev->data;
    ngx_http_request_t *r = st->ctx->r;
    ngx_connection_t *c = r->connection;
    u_char from[NGX_HTTP_ECHOSTREAM_STREAM_EID_LEN + 1];
    const char *argv[6];
    size_t lens[6];

    if (ngx_exiting || ngx_terminate ||
        ngx_current_msec - st->started >= NGX_HTTP_ECHOSTREAM_STREAM_LIFETIME) {
        ngx_http_echostream_stream_end(st);
        goto done;
    }

    if (ngx_current_msec - st->wrote >= NGX_HTTP_ECHOSTREAM_STREAM_KEEPALIVE) {
        ngx_http_echostream_stream_send(
            st, ngx_http_echostream_stream_keepalive,
            sizeof(ngx_http_echostream_stream_keepalive) - 1, 1);
        goto done;
    }

    from[0] = '(';
    ngx_memcpy(from + 1, st->last, st->last_len);

    argv[0] = "XRANGE";
    lens[0] = 6;
    argv[1] = (const char *)st->key.data;
    lens[1] = st->key.len;
    argv[2] = (const char *)from;
    lens[2] = st->last_len + 1;
    argv[3] = "+";
    lens[3] = 1;
    argv[4] = "COUNT";
    lens[4] = 5;
    argv[5] = "50";
    lens[5] = 2;

    st->phase = NGX_HTTP_ECHOSTREAM_STREAM_RANGE;

    if (ngx_http_echostream_stream_redis(st, 6, argv, lens) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "echostream api: stream ends: out of memory");
        ngx_http_echostream_api_finalize(st->ctx, NGX_ERROR);
    }

done:

    ngx_http_run_posted_requests(c);
}

/*
 * A failed poll: one error event per outage (the entries stay unread and
 * are read again once Redis is back), then polling goes on.
 */
static void
ngx_http_echostream_stream_failed(ngx_http_echostream_stream_t *st,
                                  ngx_http_echostream_redis_result_t *res)
{
    ngx_http_request_t *r = st->ctx->r;

    st->more = 0;

    if (st->down) {
        ngx_http_echostream_stream_idle(st);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "echostream api: stream \"%V\" cannot read: %s", &st->key,
                  res->replies == NULL ? (res->error ? res->error : "unknown")
                                       : res->replies[0]->str);
    st->down = 1;

    ngx_http_echostream_stream_send(
        st, ngx_http_echostream_stream_error,
        sizeof(ngx_http_echostream_stream_error) - 1, 1);
}

/*
 * Sends len bytes (the poll's pool, or static_data) at once (flush), then
 * waits for the client to take them or goes idle.
 */
void ngx_http_echostream_stream_send(ngx_http_echostream_stream_t *st,
                                     u_char *data, size_t len,
                                     ngx_uint_t static_data)
{
    ngx_chain_t *cl;
    ngx_buf_t *b;
    ngx_int_t rc;

    cl = ngx_http_echostream_api_stream_buf(&st->out);
    if (cl == NULL) {
        ngx_http_echostream_api_finalize(st->ctx, NGX_ERROR);
        return;
    }

    b = cl->buf;
    b->memory = static_data ? 1 : 0;
    b->temporary = static_data ? 0 : 1;
    b->start = data;
    b->pos = data;
    b->last = data + len;
    b->end = data + len;
    b->flush = 1;

    rc = ngx_http_echostream_api_stream_write(&st->out, cl);

    st->wrote = ngx_current_msec;

    if (rc == NGX_ERROR) {
        /* the client is gone */
        ngx_http_echostream_api_finalize(st->ctx, NGX_ERROR);
        return;
    }

    if (ngx_http_echostream_api_stream_busy(&st->out)) {
        return;
    }

    ngx_http_echostream_stream_idle(st);
}

/* The client took what was sent (called by the shared writer). */
void ngx_http_echostream_stream_drained(ngx_http_echostream_api_stream_t *out)
{
    ngx_http_echostream_stream_idle(out->ctx->data);
}

/*
 * Nothing in flight: drops the poll's memory and arms the timer, at once
 * when the stream holds more than was read.
 */
void ngx_http_echostream_stream_idle(ngx_http_echostream_stream_t *st)
{
    if (st->page != NULL) {
        ngx_destroy_pool(st->page);
        st->page = NULL;
    }

    ngx_add_timer(&st->tick, st->more ? 1 : NGX_HTTP_ECHOSTREAM_STREAM_POLL);
}

/* Ends the body cleanly (the client reconnects with Last-Event-ID). */
static void ngx_http_echostream_stream_end(ngx_http_echostream_stream_t *st)
{
    ngx_http_request_t *r = st->ctx->r;
    ngx_chain_t *cl;
    ngx_buf_t *b;

    cl = ngx_http_echostream_api_stream_buf(&st->out);
    if (cl == NULL) {
        ngx_http_echostream_api_finalize(st->ctx, NGX_ERROR);
        return;
    }

    b = cl->buf;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    ngx_http_echostream_api_finalize(st->ctx, ngx_http_output_filter(r, cl));
}
