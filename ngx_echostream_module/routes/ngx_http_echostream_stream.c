/*
 * ngx_http_echostream_stream.c - GET /stream: the tenant's newly enriched
 * comments as Server-Sent Events.
 *
 * The enrich worker appends one entry per batch and tenant to the
 * tenant's stream …:live, field "ids" = the new records' comment ids
 * (docs/redis-keys.md). Each connection polls it with a non-blocking
 * XRANGE key (<last> + COUNT 50 every 500 ms on a timer of its own, reads
 * the records of what is new with one MGET and sends one event per
 * comment:
 *
 *     event: comment
 *     data: {…the comment object of /comments…}
 *
 * The last event of an entry also carries "id: <entry id>", so a client's
 * Last-Event-ID only moves once the whole entry arrived: a client that
 * reconnects with it (browsers do) resumes after that entry, and an entry
 * cut by a disconnection comes again whole. Without Last-Event-ID the
 * stream starts after the newest entry (XREVRANGE … COUNT 1 at the start,
 * which also makes sure Redis answers before the 200 goes out).
 *
 * A ": keepalive" comment goes out after 15 s without a write, so proxies
 * and clients see the connection alive. Redis failing while streaming
 * sends one "event: error" (data {"code":"unavailable"}) and polling goes
 * on: the stream recovers by itself, without the client reconnecting, and
 * a later outage is reported again. A connection lives at most an hour and
 * ends cleanly when the worker shuts down (the client reconnects and
 * resumes); a worker serves at most 1000 streams (503 beyond).
 *
 * Memory: a connection lives long, so each poll gets a pool of its own,
 * which owns the poll's Redis replies (ngx_http_echostream_api_redis_pool())
 * and text and is destroyed when its events have left, and output buffers
 * are recycled through a free list, so a connection's memory does not grow
 * with its age. Nothing is read from Redis while the client has not taken
 * the previous events (back-pressure); nginx's send_timeout ends a client
 * that stops reading. That output machinery is api_stream.c, shared with
 * /export.csv.
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
#include "api/ngx_http_echostream_comment_json.h"
#include "core/ngx_http_echostream_module.h"
#include "routes/ngx_http_echostream_routes.h"

#define NGX_HTTP_ECHOSTREAM_STREAM_POLL      500
#define NGX_HTTP_ECHOSTREAM_STREAM_KEEPALIVE 15000
#define NGX_HTTP_ECHOSTREAM_STREAM_LIFETIME  (3600 * 1000)
#define NGX_HTTP_ECHOSTREAM_STREAM_MAX       1000
/* ids read per poll (whole entries, at least one), and per entry */
#define NGX_HTTP_ECHOSTREAM_STREAM_IDS       2000
#define NGX_HTTP_ECHOSTREAM_STREAM_ENTRY_IDS 10000
#define NGX_HTTP_ECHOSTREAM_STREAM_ID_LEN    12
/* "<ms>-<seq>", 20 digits each at most */
#define NGX_HTTP_ECHOSTREAM_STREAM_EID_LEN ES_REQ_ENTRY_ID_LEN

#define NGX_HTTP_ECHOSTREAM_STREAM_JSON_FLAGS                                  \
    (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

typedef enum {
    NGX_HTTP_ECHOSTREAM_STREAM_START = 0,
    NGX_HTTP_ECHOSTREAM_STREAM_RANGE,
    NGX_HTTP_ECHOSTREAM_STREAM_RECORDS
} ngx_http_echostream_stream_phase_e;

typedef struct {
    u_char id[NGX_HTTP_ECHOSTREAM_STREAM_EID_LEN];
    size_t len;
    ngx_uint_t first; /* its ids in the poll's list */
    ngx_uint_t n;
} ngx_http_echostream_stream_entry_t;

typedef struct {
    /* first: the shared writer finds it through ctx->data */
    ngx_http_echostream_api_stream_t out;
    ngx_http_echostream_api_ctx_t *ctx;
    ngx_pool_t *page; /* replies and text of the current poll */

    ngx_str_t key; /* the tenant's live stream */

    /* the entry after which to read */
    u_char last[NGX_HTTP_ECHOSTREAM_STREAM_EID_LEN];
    size_t last_len;

    ngx_event_t tick;
    ngx_msec_t started;
    ngx_msec_t wrote; /* the last write, for keepalives */

    /* what the current poll read, in the page pool */
    ngx_http_echostream_stream_entry_t *entries;
    ngx_uint_t nentries;
    u_char (*ids)[NGX_HTTP_ECHOSTREAM_STREAM_ID_LEN];
    size_t *lens;
    ngx_uint_t nids;

    ngx_http_echostream_stream_phase_e phase;
    unsigned resume : 1;  /* Last-Event-ID given */
    unsigned down : 1;    /* the error event was sent for this outage */
    unsigned more : 1;    /* the stream holds more than this poll read */
    unsigned counted : 1; /* holds one of the worker's stream places */
} ngx_http_echostream_stream_t;

static ngx_uint_t ngx_http_echostream_stream_active;

static ngx_table_elt_t *
ngx_http_echostream_stream_last_event_id(ngx_http_request_t *r);
static void ngx_http_echostream_stream_cleanup(void *data);
static ngx_int_t
ngx_http_echostream_stream_redis(ngx_http_echostream_stream_t *st, int argc,
                                 const char **argv, const size_t *lens);
static void
ngx_http_echostream_stream_reply(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_stream_started(ngx_http_echostream_stream_t *st,
                                   ngx_http_echostream_redis_result_t *res);
static void ngx_http_echostream_stream_tick(ngx_event_t *ev);
static ngx_int_t
ngx_http_echostream_stream_range(ngx_http_echostream_stream_t *st,
                                 redisReply *rep);
static ngx_int_t
ngx_http_echostream_stream_records(ngx_http_echostream_stream_t *st);
static ngx_int_t
ngx_http_echostream_stream_events(ngx_http_echostream_stream_t *st,
                                  redisReply *rep);
static void
ngx_http_echostream_stream_failed(ngx_http_echostream_stream_t *st,
                                  ngx_http_echostream_redis_result_t *res);
static void ngx_http_echostream_stream_send(ngx_http_echostream_stream_t *st,
                                            u_char *data, size_t len,
                                            ngx_uint_t static_data);
static void
ngx_http_echostream_stream_drained(ngx_http_echostream_api_stream_t *out);
static void ngx_http_echostream_stream_idle(ngx_http_echostream_stream_t *st);
static void ngx_http_echostream_stream_end(ngx_http_echostream_stream_t *st);

static u_char ngx_http_echostream_stream_retry[] = "retry: 2000\n\n";
static u_char ngx_http_echostream_stream_keepalive[] = ": keepalive\n\n";
static u_char ngx_http_echostream_stream_error[] =
    "event: error\ndata: {\"code\":\"unavailable\"}\n\n";

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

    h = ngx_http_echostream_stream_last_event_id(r);
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

/* The request's first Last-Event-ID header, or NULL. */
static ngx_table_elt_t *
ngx_http_echostream_stream_last_event_id(ngx_http_request_t *r)
{
    ngx_list_part_t *part;
    ngx_table_elt_t *h;
    ngx_uint_t i;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Last-Event-ID") - 1 &&
            ngx_strncasecmp(h[i].key.data, (u_char *)"Last-Event-ID",
                            h[i].key.len) == 0) {
            return &h[i];
        }
    }
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

/* Queues one command whose reply the poll's pool (made if need be) owns. */
static ngx_int_t
ngx_http_echostream_stream_redis(ngx_http_echostream_stream_t *st, int argc,
                                 const char **argv, const size_t *lens)
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

/* The start: Redis answers, so the stream begins. */
static void
ngx_http_echostream_stream_started(ngx_http_echostream_stream_t *st,
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

/* The poll timer: end, keep alive, or read what is new. */
static void ngx_http_echostream_stream_tick(ngx_event_t *ev)
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
 * An XRANGE reply: notes the entries and their valid ids (whole entries,
 * up to NGX_HTTP_ECHOSTREAM_STREAM_IDS ids) and asks for the records.
 */
static ngx_int_t
ngx_http_echostream_stream_range(ngx_http_echostream_stream_t *st,
                                 redisReply *rep)
{
    ngx_http_echostream_stream_entry_t *en;
    redisReply *e, *f, *ids;
    ngx_uint_t i, j, n, bad;
    u_char *p, *end, *q;

    if (rep->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    st->more = (rep->elements == 50);
    st->nentries = 0;
    st->nids = 0;

    if (rep->elements == 0) {
        ngx_http_echostream_stream_idle(st);
        return NGX_OK;
    }

    st->entries = ngx_palloc(st->page, rep->elements * sizeof(*en));
    if (st->entries == NULL) {
        return NGX_ERROR;
    }

    /* the ids of all entries read: their total length bounds their number */
    n = 0;
    for (i = 0; i < rep->elements; i++) {
        e = rep->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING ||
            !es_req_entry_id_valid(e->element[0]->str, e->element[0]->len) ||
            e->element[1]->type != REDIS_REPLY_ARRAY) {
            return NGX_ERROR;
        }
        f = e->element[1];
        for (j = 0; j + 1 < f->elements; j += 2) {
            n += f->element[j + 1]->len / 2 + 1;
        }
    }

    n = ngx_min(n, NGX_HTTP_ECHOSTREAM_STREAM_IDS +
                       NGX_HTTP_ECHOSTREAM_STREAM_ENTRY_IDS);
    st->ids = ngx_palloc(st->page, n * sizeof(*st->ids));
    st->lens = ngx_palloc(st->page, n * sizeof(size_t));
    if (st->ids == NULL || st->lens == NULL) {
        return NGX_ERROR;
    }

    bad = 0;

    for (i = 0; i < rep->elements; i++) {
        e = rep->element[i];
        f = e->element[1];

        ids = NULL;
        for (j = 0; j + 1 < f->elements; j += 2) {
            if (f->element[j]->type == REDIS_REPLY_STRING &&
                f->element[j]->len == 3 &&
                ngx_strncmp(f->element[j]->str, "ids", 3) == 0 &&
                f->element[j + 1]->type == REDIS_REPLY_STRING) {
                ids = f->element[j + 1];
            }
        }

        /* whole entries only, so "id:" stays true; at least one */
        if (st->nentries > 0 && ids != NULL &&
            st->nids + ids->len / 2 + 1 > NGX_HTTP_ECHOSTREAM_STREAM_IDS) {
            st->more = 1;
            break;
        }

        en = &st->entries[st->nentries++];
        ngx_memcpy(en->id, e->element[0]->str, e->element[0]->len);
        en->len = e->element[0]->len;
        en->first = st->nids;
        en->n = 0;

        if (ids == NULL) {
            bad++;
            continue;
        }

        p = (u_char *)ids->str;
        end = p + ids->len;

        while (p < end) {
            q = ngx_strlchr(p, end, ',');
            if (q == NULL) {
                q = end;
            }

            for (j = 0; p + j < q; j++) {
                if (!((p[j] >= '0' && p[j] <= '9') ||
                      (p[j] >= 'a' && p[j] <= 'z'))) {
                    break;
                }
            }

            if (p + j < q || j == 0 || j > NGX_HTTP_ECHOSTREAM_STREAM_ID_LEN ||
                en->n >= NGX_HTTP_ECHOSTREAM_STREAM_ENTRY_IDS ||
                st->nids >= n) {
                bad++;

            } else {
                ngx_memcpy(st->ids[st->nids], p, j);
                st->lens[st->nids] = j;
                st->nids++;
                en->n++;
            }

            p = q + 1;
        }
    }

    if (bad) {
        ngx_log_error(NGX_LOG_WARN, st->ctx->r->connection->log, 0,
                      "echostream api: skipped %ui malformed ids in \"%V\"",
                      bad, &st->key);
    }

    if (st->nids == 0) {
        /* nothing to show: move past these entries */
        en = &st->entries[st->nentries - 1];
        ngx_memcpy(st->last, en->id, en->len);
        st->last_len = en->len;
        ngx_http_echostream_stream_idle(st);
        return NGX_OK;
    }

    return ngx_http_echostream_stream_records(st);
}

/* Queues the MGET of the poll's records. */
static ngx_int_t
ngx_http_echostream_stream_records(ngx_http_echostream_stream_t *st)
{
    const char **argv;
    size_t *lens, prefix;
    ngx_uint_t i;
    u_char *key;

    argv = ngx_palloc(st->page, (st->nids + 1) * sizeof(char *));
    lens = ngx_palloc(st->page, (st->nids + 1) * sizeof(size_t));
    if (argv == NULL || lens == NULL) {
        return NGX_ERROR;
    }

    /* record keys: the live key's tenant prefix, "c:" and the id */
    prefix = st->key.len - (sizeof("live") - 1);

    argv[0] = "MGET";
    lens[0] = 4;

    for (i = 0; i < st->nids; i++) {
        key = ngx_pnalloc(st->page, prefix + 2 + st->lens[i]);
        if (key == NULL) {
            return NGX_ERROR;
        }
        argv[i + 1] = (const char *)key;
        key = ngx_cpymem(key, st->key.data, prefix);
        key = ngx_cpymem(key, "c:", 2);
        ngx_memcpy(key, st->ids[i], st->lens[i]);
        lens[i + 1] = prefix + 2 + st->lens[i];
    }

    st->phase = NGX_HTTP_ECHOSTREAM_STREAM_RECORDS;

    return ngx_http_echostream_stream_redis(st, (int)(st->nids + 1), argv,
                                            lens);
}

/* The MGET reply: one event per comment shown, in stream order. */
static ngx_int_t
ngx_http_echostream_stream_events(ngx_http_echostream_stream_t *st,
                                  redisReply *rep)
{
    ngx_http_echostream_stream_entry_t *en;
    ngx_http_request_t *r = st->ctx->r;
    ngx_uint_t i, k, last;
    json_t **c;
    const char *why;
    size_t size, n;
    u_char *text, *p;
    redisReply *v;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != st->nids) {
        return NGX_ERROR;
    }

    c = ngx_pcalloc(st->page, st->nids * sizeof(json_t *));
    if (c == NULL) {
        return NGX_ERROR;
    }

    /* new references, released below; NULL: nothing to show */
    size = 0;
    for (i = 0; i < st->nids; i++) {
        v = rep->element[i];
        if (v->type != REDIS_REPLY_STRING) {
            continue; /* gone with its retention */
        }

        c[i] = ngx_http_echostream_comment_json_ex(v->str, v->len, &why);
        if (c[i] == NULL) {
            if (why != NULL) {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "echostream api: stream skips comment record "
                              "\"%*s\": %s",
                              st->lens[i], st->ids[i], why);
            }
            continue;
        }

        n = json_dumpb(c[i], NULL, 0, NGX_HTTP_ECHOSTREAM_STREAM_JSON_FLAGS);
        if (n == 0) {
            json_decref(c[i]);
            c[i] = NULL;
            continue;
        }

        /* "event: comment\n" "id: <id>\n" "data: " json "\n\n" */
        size += n + sizeof("event: comment\nid: \ndata: \n\n") +
                NGX_HTTP_ECHOSTREAM_STREAM_EID_LEN;
    }

    text = size ? ngx_pnalloc(st->page, size) : NULL;
    p = text;

    for (k = 0; text != NULL && k < st->nentries; k++) {
        en = &st->entries[k];

        /* the entry's id goes on its last event shown (none: past it) */
        last = en->first + en->n;
        for (i = en->first; i < en->first + en->n; i++) {
            if (c[i] != NULL) {
                last = i;
            }
        }

        for (i = en->first; i < en->first + en->n; i++) {
            if (c[i] == NULL) {
                continue;
            }

            p = ngx_cpymem(p, "event: comment\n", 15);
            if (i == last) {
                p = ngx_sprintf(p, "id: %*s\n", en->len, en->id);
            }
            p = ngx_cpymem(p, "data: ", 6);
            p += json_dumpb(c[i], (char *)p, size - (p - text),
                            NGX_HTTP_ECHOSTREAM_STREAM_JSON_FLAGS);
            *p++ = '\n';
            *p++ = '\n';
        }
    }

    for (i = 0; i < st->nids; i++) {
        json_decref(c[i]);
    }

    if (size > 0 && text == NULL) {
        return NGX_ERROR;
    }

    /* read on from the last entry taken, whatever could be shown */
    en = &st->entries[st->nentries - 1];
    ngx_memcpy(st->last, en->id, en->len);
    st->last_len = en->len;

    if (p == text) {
        ngx_http_echostream_stream_idle(st);
        return NGX_OK;
    }

    ngx_http_echostream_stream_send(st, text, p - text, 0);
    return NGX_OK;
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
static void ngx_http_echostream_stream_send(ngx_http_echostream_stream_t *st,
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
static void
ngx_http_echostream_stream_drained(ngx_http_echostream_api_stream_t *out)
{
    ngx_http_echostream_stream_idle(out->ctx->data);
}

/*
 * Nothing in flight: drops the poll's memory and arms the timer, at once
 * when the stream holds more than was read.
 */
static void ngx_http_echostream_stream_idle(ngx_http_echostream_stream_t *st)
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
