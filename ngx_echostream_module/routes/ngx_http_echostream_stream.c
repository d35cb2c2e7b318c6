/*
 * ngx_http_echostream_stream.c - GET /stream: the tenant's newly enriched
 * comments as Server-Sent Events. This file opens a stream and cleans up
 * after it; stream_poll.c keeps it going, stream_entries.c reads what is
 * new and turns it into events.
 *
 * The enrich worker appends one entry per batch and tenant to the
 * tenant's stream …:live, field "ids" = the new records' comment ids
 * (docs/redis-keys.md). Each connection polls it on a timer of its own
 * and sends one event per comment:
 *
 *     event: comment
 *     data: {…the comment object of /comments…}
 *
 * The last event of an entry also carries "id: <entry id>", so a client's
 * Last-Event-ID only moves once the whole entry arrived: a client that
 * reconnects with it (browsers do) resumes after that entry, and an entry
 * cut by a disconnection comes again whole. Without Last-Event-ID the
 * stream starts after the newest entry (XREVRANGE … COUNT 1 at the start,
 * which also makes sure Redis answers before the 200 goes out). A worker
 * serves at most 1000 streams (503 beyond).
 *
 * Last-Event-ID is checked by lib/es_req_stream.c, where the fuzz target
 * reaches it; an entry id of a reply is held to the same form before it
 * can become the next Last-Event-ID.
 *
 * A client that goes away is noticed by the read handler the framework set
 * (ngx_http_test_reading) or by a failed write; the request pool cleanup
 * then deletes the timer, destroys the poll's pool and releases the
 * stream's place; the request's end detaches a pending pipeline. The timer is
 * cancelable, so it never holds up a graceful shutdown.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_stream.h"
#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_api_stream.h"
#include "core/ngx_http_echostream_module.h"
#include "routes/ngx_http_echostream_routes.h"
#include "routes/ngx_http_echostream_stream.h"

#define NGX_HTTP_ECHOSTREAM_STREAM_MAX 1000

static ngx_uint_t ngx_http_echostream_stream_active;

static void ngx_http_echostream_stream_cleanup(void *data);

static u_char ngx_http_echostream_stream_retry[] = "retry: 2000\n\n";

NGX_HTTP_ECHOSTREAM_ROUTE(stream)
{
    ngx_http_echostream_stream_t *st;
    ngx_http_request_t *r = ctx->r;
    ngx_pool_cleanup_t *cln;
    es_req_stream_args args;
    ngx_table_elt_t *h;
    const char *argv[6];
    es_req_err err;
    size_t lens[6];

    if (ngx_http_echostream_stream_active >= NGX_HTTP_ECHOSTREAM_STREAM_MAX) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "echostream api: %ui streams open in this worker, "
                      "refusing another",
                      ngx_http_echostream_stream_active);
        ngx_http_echostream_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable",
                                      "too many open streams, try again "
                                      "shortly");
        return;
    }

    h = ngx_http_echostream_api_header(r, "Last-Event-ID");
    if (es_req_stream_read(h ? (const char *)h->value.data : NULL,
                           h ? h->value.len : 0, &args, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_echostream_stream_t));
    if (st == NULL) {
        goto nomem;
    }

    st->ctx = ctx;
    st->out.ctx = ctx;
    st->out.drained = ngx_http_echostream_stream_drained;
    st->out.timeout_log = "echostream api: stream client timed out";
    ctx->data = st;

    if (args.resume) {
        ngx_memcpy(st->last, args.last, args.last_len);
        st->last_len = args.last_len;
        st->resume = 1;
    }

    if (ngx_http_echostream_api_key(ctx, &st->key, ES_TK_LIVE) != NGX_OK) {
        goto nomem;
    }

    /* the cleanup deletes the timer and the poll's pool with the request */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        goto nomem;
    }

    st->tick.handler = ngx_http_echostream_stream_tick;
    st->tick.data = st;
    st->tick.log = r->connection->log;
    st->tick.cancelable = 1;

    cln->handler = ngx_http_echostream_stream_cleanup;
    cln->data = st;

    ctx->streaming = 1;

    /* the newest entry: where a stream without Last-Event-ID starts */
    argv[0] = "XREVRANGE";
    lens[0] = 9;
    argv[1] = (const char *)st->key.data;
    lens[1] = st->key.len;
    argv[2] = "+";
    lens[2] = 1;
    argv[3] = "-";
    lens[3] = 1;
    argv[4] = "COUNT";
    lens[4] = 5;
    argv[5] = "1";
    lens[5] = 1;

    st->phase = NGX_HTTP_ECHOSTREAM_STREAM_START;

    if (ngx_http_echostream_stream_redis(st, 6, argv, lens) != NGX_OK) {
        goto nomem;
    }

    return;

nomem:

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

/* Request pool cleanup: the stream is over, however it ended. */
static void ngx_http_echostream_stream_cleanup(void *data)
{
    ngx_http_echostream_stream_t *st = data;

    if (st->tick.timer_set) {
        ngx_del_timer(&st->tick);
    }

    if (st->tick.posted) {
        ngx_delete_posted_event(&st->tick);
    }

    if (st->page != NULL) {
        ngx_destroy_pool(st->page);
        st->page = NULL;
    }

    if (st->counted) {
        ngx_http_echostream_stream_active--;
        st->counted = 0;
    }
}

/* The start: Redis answers, so the stream begins. */
void ngx_http_echostream_stream_started(ngx_http_echostream_stream_t *st,
                                        ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_api_ctx_t *ctx = st->ctx;
    ngx_http_request_t *r = ctx->r;
    redisReply *rep, *e;
    ngx_table_elt_t *h;
    ngx_int_t rc;

    if (res->replies == NULL || res->replies[0]->type == REDIS_REPLY_ERROR) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    rep = res->replies[0];
    if (rep->type != REDIS_REPLY_ARRAY) {
        goto unexpected;
    }

    if (!st->resume) {
        /* an empty stream: everything that comes is new */
        st->last_len = ngx_sprintf(st->last, "0-0") - st->last;

        if (rep->elements > 0) {
            e = rep->element[0];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
                e->element[0]->type != REDIS_REPLY_STRING ||
                !es_req_entry_id_valid(e->element[0]->str,
                                       e->element[0]->len)) {
                goto unexpected;
            }
            ngx_memcpy(st->last, e->element[0]->str, e->element[0]->len);
            st->last_len = e->element[0]->len;
        }
    }

    if (ngx_http_echostream_api_common_headers(ctx) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* no buffering by a proxy in front: events are worth their latency */
    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "X-Accel-Buffering");
    ngx_str_set(&h->value, "no");

    r->headers_out.status = NGX_HTTP_OK;
    ctx->status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_echostream_api_finalize(ctx, rc);
        return;
    }

    ngx_http_echostream_stream_active++;
    st->counted = 1;
    st->started = ngx_current_msec;

    /* the reconnection delay, and the headers out at once */
    ngx_http_echostream_stream_send(
        st, ngx_http_echostream_stream_retry,
        sizeof(ngx_http_echostream_stream_retry) - 1, 1);
    return;

unexpected:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "echostream api: unexpected reply reading \"%V\"", &st->key);
    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "unexpected reply from redis");
}
