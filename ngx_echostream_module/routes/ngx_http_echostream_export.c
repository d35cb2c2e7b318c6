/*
 * ngx_http_echostream_export.c - GET /export.csv?topic=&from=&to=: a
 * topic's comments in [from, to) as CSV, oldest first, streamed. This
 * file starts the export and reads its pages; export_write.c sends them.
 *
 * A topic can hold a retention's worth of comments (up to a year), far
 * more than should ever sit in a worker's memory, so the file is read and
 * sent a page at a time: ZRANGE of the topic's recent set (ascending,
 * BYSCORE, LIMIT 500), MGET of the page's records, the page's rows as one
 * chunk. The next page is read only when the previous one has left for
 * the client, so a slow client slows the export instead of filling
 * memory.
 *
 * Memory: every page gets a pool of its own, which owns the page's Redis
 * replies (ngx_http_echostream_api_redis_pool()) and text and is destroyed
 * once the page is sent. The buffer and chain structures go back and forth
 * through a free list kept in the request pool, as nginx's upstream does,
 * so their number stays that of the pages in flight; that output
 * machinery (free list, writes, waiting for the client) is api_stream.c,
 * shared with /stream.
 *
 * The position between pages is the last row read: its score (as Redis
 * printed it) and how many rows with that score were read, since equal
 * scores (same millisecond) come in byte order of the id and a page can
 * end among them; the next ZRANGE starts at that score and skips them.
 *
 * A client that goes away is noticed by the read handler the framework set
 * (ngx_http_test_reading): the request is terminated, which detaches a
 * pending pipeline, and its pool cleanup destroys the page pool.
 *
 * The rows' CSV text is export_csv.c, the query (topic, from, to)
 * lib/es_req_export.c, where the fuzz target reaches it.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_export.h"
#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_api_stream.h"
#include "core/ngx_http_echostream_module.h"
#include "routes/ngx_http_echostream_export.h"
#include "routes/ngx_http_echostream_routes.h"

#define NGX_HTTP_ECHOSTREAM_EXPORT_PAGE 500

static void ngx_http_echostream_export_cleanup(void *data);
static ngx_int_t
ngx_http_echostream_export_redis(ngx_http_echostream_export_t *st,
                                 ngx_http_echostream_redis_cmd_t *cmds,
                                 ngx_uint_t n);
static void
ngx_http_echostream_export_reply(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res);
static ngx_int_t
ngx_http_echostream_export_rows(ngx_http_echostream_export_t *st,
                                ngx_http_echostream_redis_result_t *res);
static ngx_int_t
ngx_http_echostream_export_records(ngx_http_echostream_export_t *st);

NGX_HTTP_ECHOSTREAM_ROUTE(export_csv)
{
    ngx_http_echostream_export_t *st;
    ngx_http_request_t *r = ctx->r;
    es_req_export_args args;
    ngx_pool_cleanup_t *cln;
    ngx_str_t topic;
    es_req_err err;

    if (es_req_export_read((const char *)r->args.data, r->args.len,
                           ngx_http_echostream_api_now_ms(), &args,
                           &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    /* the topic outlives this function: ctx->params[0] below */
    topic.len = args.topic_len;
    topic.data = ngx_pnalloc(r->pool, topic.len + 1);
    if (topic.data == NULL) {
        goto nomem;
    }
    ngx_memcpy(topic.data, args.topic, topic.len + 1);

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_echostream_export_t));
    if (st == NULL) {
        goto nomem;
    }

    st->ctx = ctx;
    st->out.ctx = ctx;
    st->out.drained = ngx_http_echostream_export_next;
    st->out.timeout_log = "echostream api: client timed out during an export";
    ctx->data = st;

    st->from = args.from;
    st->to = args.to;

    if (ngx_http_echostream_api_key(ctx, &st->topics, ES_TK_TOPICS) != NGX_OK) {
        goto nomem;
    }
    /* the topic as the route's id, for messages and the file name */
    ctx->params[0] = topic;

    /* the page pool goes with the request, however it ends */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        goto nomem;
    }

    cln->handler = ngx_http_echostream_export_cleanup;
    cln->data = st;

    ctx->streaming = 1;

    if (ngx_http_echostream_export_range(st) != NGX_OK) {
        goto nomem;
    }

    return;

nomem:

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

/* Request pool cleanup: the page's pool (a pending pipeline is detached). */
static void ngx_http_echostream_export_cleanup(void *data)
{
    ngx_http_echostream_export_t *st = data;

    if (st->page != NULL) {
        ngx_destroy_pool(st->page);
        st->page = NULL;
    }
}

/* Queues a pipeline whose replies the page pool (made if need be) owns. */
static ngx_int_t
ngx_http_echostream_export_redis(ngx_http_echostream_export_t *st,
                                 ngx_http_echostream_redis_cmd_t *cmds,
                                 ngx_uint_t n)
{
    if (st->page == NULL) {
        st->page =
            ngx_create_pool(NGX_DEFAULT_POOL_SIZE, st->ctx->r->connection->log);
        if (st->page == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_http_echostream_api_redis_pool(st->ctx, st->page, cmds, n,
                                              ngx_http_echostream_export_reply);
}

/* Queues the next page's ZRANGE (with HEXISTS of the topic first). */
ngx_int_t ngx_http_echostream_export_range(ngx_http_echostream_export_t *st)
{
    ngx_http_echostream_api_ctx_t *ctx = st->ctx;
    ngx_http_echostream_redis_cmd_t cmds[2], *cmd;
    const char *argv[3], **a;
    size_t lens[3], *l;
    u_char num[2][NGX_INT64_LEN + 2];
    ngx_str_t min, max;

    /* the pipeline copies the arguments: stack arrays will do */
    cmd = cmds;
    a = argv;
    l = lens;

    if (!st->header && !st->started) {
        a[0] = "HEXISTS";
        l[0] = 7;
        a[1] = (const char *)st->topics.data;
        l[1] = st->topics.len;
        a[2] = (const char *)ctx->params[0].data;
        l[2] = ctx->params[0].len;
        cmd->argc = 3;
        cmd->argv = a;
        cmd->argvlen = l;
        cmd++;
        a += 3;
        l += 3;
    }

    if (st->started) {
        min.data = st->score;
        min.len = st->score_len;
    } else {
        min.data = num[0];
        min.len = ngx_sprintf(num[0], "%L", st->from) - num[0];
    }
    /* the range ends before to: es_recent's bounds are inclusive */
    max.data = num[1];
    max.len = ngx_sprintf(num[1], "%L", st->to - 1) - num[1];

    if (ngx_http_echostream_api_recent_cmd(
            ctx, cmd, &ctx->params[0], NULL, &min, &max,
            st->started ? st->ties : 0, NGX_HTTP_ECHOSTREAM_EXPORT_PAGE,
            0) != NGX_OK) {
        return NGX_ERROR;
    }

    st->mget = 0;

    return ngx_http_echostream_export_redis(st, cmds, cmd - cmds + 1);
}

static void
ngx_http_echostream_export_reply(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_export_t *st = ctx->data;
    ngx_uint_t i;
    ngx_int_t rc;

    if (res->replies == NULL) {
        ngx_http_echostream_export_fail(st, res);
        return;
    }

    for (i = 0; i < res->n; i++) {
        if (res->replies[i]->type == REDIS_REPLY_ERROR) {
            ngx_http_echostream_export_fail(st, res);
            return;
        }
    }

    if (st->mget) {
        rc = ngx_http_echostream_export_page(st, res->replies[0]);

    } else {
        rc = ngx_http_echostream_export_rows(st, res);
    }

    if (rc == NGX_ERROR) {
        ngx_http_echostream_export_fail(st, NULL);
    }
}

/*
 * A ZRANGE reply (after HEXISTS on the first page): notes the page's valid
 * ids and moves the position past every row, then asks for the records,
 * or ends the file when there are none. NGX_DONE: the request was
 * answered (404), NGX_ERROR: the caller fails the export.
 */
static ngx_int_t
ngx_http_echostream_export_rows(ngx_http_echostream_export_t *st,
                                ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_api_ctx_t *ctx = st->ctx;
    redisReply *rep, *m, *s;
    ngx_uint_t i, k;
    size_t j;

    if (res->n == 2) {
        if (res->replies[0]->type != REDIS_REPLY_INTEGER) {
            return NGX_ERROR;
        }
        if (res->replies[0]->integer != 1) {
            ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                          "no topic \"%V\"", &ctx->params[0]);
            return NGX_DONE;
        }
    }

    rep = res->replies[res->n - 1];
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0) {
        return NGX_ERROR;
    }

    k = rep->elements / 2;
    st->last = (k < NGX_HTTP_ECHOSTREAM_EXPORT_PAGE);
    st->nids = 0;
    st->ids = ngx_palloc(st->page, (k + 1) * sizeof(*st->ids));
    st->lens = ngx_palloc(st->page, (k + 1) * sizeof(size_t));
    st->hours = ngx_pnalloc(st->page, (k + 1) * 10);
    if (st->ids == NULL || st->lens == NULL || st->hours == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < k; i++) {
        m = rep->element[2 * i];
        s = rep->element[2 * i + 1];

        if (s->type != REDIS_REPLY_STRING || s->len == 0 ||
            s->len > NGX_HTTP_ECHOSTREAM_EXPORT_SCORE_LEN) {
            return NGX_ERROR;
        }

        /* the position moves past every row, valid or not */
        if (st->started && s->len == st->score_len &&
            ngx_memcmp(s->str, st->score, s->len) == 0) {
            st->ties++;
        } else {
            ngx_memcpy(st->score, s->str, s->len);
            st->score_len = s->len;
            st->ties = 1;
        }
        st->started = 1;

        if (m->type != REDIS_REPLY_STRING || m->len == 0 ||
            m->len > NGX_HTTP_ECHOSTREAM_EXPORT_ID_LEN) {
            st->skipped++;
            continue;
        }

        for (j = 0; j < m->len; j++) {
            if (!((m->str[j] >= '0' && m->str[j] <= '9') ||
                  (m->str[j] >= 'a' && m->str[j] <= 'z'))) {
                break;
            }
        }
        if (j < m->len) {
            st->skipped++;
            continue;
        }

        ngx_memcpy(st->ids[st->nids], m->str, m->len);
        st->lens[st->nids] = m->len;
        ngx_http_echostream_api_hour(
            (int64_t)ngx_atoof((u_char *)s->str, s->len),
            st->hours + 10 * st->nids);
        st->nids++;
    }

    if (st->nids == 0) {
        /* nothing to read: the last page, or a page of garbage to pass */
        return ngx_http_echostream_export_page(st, NULL);
    }

    return ngx_http_echostream_export_records(st);
}

/* Queues the reading of the current page's records (es_records). */
static ngx_int_t
ngx_http_echostream_export_records(ngx_http_echostream_export_t *st)
{
    ngx_http_echostream_redis_cmd_t cmd;

    if (ngx_http_echostream_api_records_cmd(
            st->ctx, st->page, st->ids[0], sizeof(st->ids[0]), st->lens,
            st->hours, st->nids, &cmd.argc, &cmd.argv,
            &cmd.argvlen) != NGX_OK) {
        return NGX_ERROR;
    }

    st->mget = 1;

    return ngx_http_echostream_export_redis(st, &cmd, 1);
}
