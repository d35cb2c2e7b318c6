/*
 * ngx_http_echostream_series.c - GET /topics/{id}/series: a topic's volume
 * and sentiment per minute, hour or day.
 *
 * The enrich worker keeps a topic's counts in one hash per bucket group
 * (docs/redis-keys.md). Reading a series is one pipeline, one round trip:
 * HEXISTS of the topic, GET of the data version (below) and one command
 * per hash covering the range, which series_read.c builds and whose
 * replies it reads into counters.
 *
 * The pipeline starts with HEXISTS of the topic and GET of the tenant's
 * data version (es:{t:<tenant>}:dv, INCR'd by every write of the
 * tenant's counts and topics), read before the buckets, so the answer's
 * points can be kept in this worker's cache (series_cache.c) tagged with
 * that version. A request whose points are cached sends only those two
 * commands; an unchanged version sends the cached text, a changed one
 * reads everything (a second round trip). The answer is thus never older
 * than the version read at the request, and a dashboard's polls of an
 * unchanged topic cost two tiny commands instead of hundreds of fields.
 *
 * This is the route `make bench` measures against nginx's own
 * "return 200", so it avoids per-point work where it can: the counters are
 * one array from the pool, the commands those of series_read.c, and the
 * JSON text is printed straight into one buffer sized from the point count
 * (series_json.c, which prints it). The points' text is cached apart from
 * the head (topic, step, from, to), which is printed for each request:
 * "to" may differ within one bucket. This file keeps the order of the
 * Redis steps, the cache interplay and the answer; the arguments and the
 * rules of the range are lib/es_req_series.c, where the fuzz target
 * reaches them.
 *
 * Redis content is not trusted: a field that is not an integer reads as 0
 * (series_read.c; logged here once per request); series_json.c prints
 * negative counts as 0 and keeps the mean compound within [-1, 1].
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_series.h"
#include "api/ngx_http_echostream_api.h"
#include "routes/ngx_http_echostream_routes.h"
#include "routes/ngx_http_echostream_series.h"
#include "api/ngx_http_echostream_series_cache.h"
#include "api/ngx_http_echostream_series_json.h"

static void
ngx_http_echostream_series_checked(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res);
static ngx_int_t ngx_http_echostream_series_check_replies(
    ngx_http_echostream_api_ctx_t *ctx, ngx_http_echostream_redis_result_t *res,
    ngx_str_t **dv, ngx_uint_t *cacheable);
static void ngx_http_echostream_series_send(ngx_http_echostream_api_ctx_t *ctx,
                                            ngx_buf_t *head, ngx_buf_t *points);

NGX_HTTP_ECHOSTREAM_ROUTE(topic_series)
{
    ngx_http_echostream_series_t *s;
    ngx_str_t *topic, topics, dv;
    es_req_series_args args;
    es_req_err err;
    int64_t now;

    topic = &ctx->params[0];
    now = ngx_http_echostream_api_now_ms();

    if (es_req_series_read((const char *)ctx->r->args.data, ctx->r->args.len,
                           now, &args, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    s = ngx_pcalloc(ctx->r->pool, sizeof(ngx_http_echostream_series_t));
    if (s == NULL) {
        goto nomem;
    }

    s->step = &es_req_series_steps[args.step];
    s->from = args.from;
    s->to = args.to;
    s->now = now;
    s->npoints = args.npoints;

    if (ngx_http_echostream_api_key(ctx, &topics, ES_TK_TOPICS) != NGX_OK ||
        ngx_http_echostream_api_key(ctx, &dv, ES_TK_DV) != NGX_OK) {
        goto nomem;
    }

    /* the pipeline copies the arguments; s keeps them for a second trip */
    s->argv[0] = "HEXISTS";
    s->argvlen[0] = 7;
    s->argv[1] = (const char *)topics.data;
    s->argvlen[1] = topics.len;
    s->argv[2] = (const char *)topic->data;
    s->argvlen[2] = topic->len;
    s->argv[3] = "GET";
    s->argvlen[3] = 3;
    s->argv[4] = (const char *)dv.data;
    s->argvlen[4] = dv.len;
    s->check[0].argc = 3;
    s->check[0].argv = &s->argv[0];
    s->check[0].argvlen = &s->argvlen[0];
    s->check[1].argc = 2;
    s->check[1].argv = &s->argv[3];
    s->check[1].argvlen = &s->argvlen[3];

    ctx->data = s;

    if (ngx_http_echostream_series_cache_enabled()) {
        ngx_http_echostream_series_key(&s->key, ctx->tenant, ctx->tenant_len,
                                       topic, (u_char)s->step->res, s->from,
                                       s->npoints);

        if (ngx_http_echostream_series_cache_held(&s->key)) {
            /* the topic and the data version first: most likely enough */
            if (ngx_http_echostream_api_redis(
                    ctx, s->check, NGX_HTTP_ECHOSTREAM_SERIES_FIRST,
                    ngx_http_echostream_series_checked) != NGX_OK) {
                goto nomem;
            }
            return;
        }
    }

    if (ngx_http_echostream_series_read(ctx) != NGX_OK) {
        goto nomem;
    }

    return;

nomem:

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

/*
 * The answer to HEXISTS and GET alone: the cached points when the data
 * version is the one they were read at, else the whole read.
 */
static void
ngx_http_echostream_series_checked(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_series_t *s = ctx->data;
    ngx_uint_t cacheable;
    ngx_str_t *dv, *text;
    ngx_buf_t *head, *points;

    if (ngx_http_echostream_series_check_replies(ctx, res, &dv, &cacheable) !=
        NGX_OK) {
        return;
    }

    text = cacheable
               ? ngx_http_echostream_series_cache_get(&s->key, dv, ctx->r->pool)
               : NULL;

    if (text == NULL) {
        if (ngx_http_echostream_series_read(ctx) != NGX_OK) {
            ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "internal", "out of memory");
        }
        return;
    }

    head =
        ngx_create_temp_buf(ctx->r->pool, NGX_HTTP_ECHOSTREAM_SERIES_HEAD_MAX);
    points = ngx_calloc_buf(ctx->r->pool);
    if (head == NULL || points == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
        return;
    }

    head->last = ngx_http_echostream_series_json_head(
        head->last, &ctx->params[0], s->step->name, s->from, s->to);

    /* the cache's memory, referenced until the request's pool goes */
    points->memory = 1;
    points->pos = text->data;
    points->last = text->data + text->len;
    points->start = points->pos;
    points->end = points->last;

    ngx_http_echostream_series_send(ctx, head, points);
}

/*
 * The checks common to both round trips: a failed pipeline or an error
 * reply (500/503), a topic that does not exist (404; its cached points are
 * dropped). Else NGX_OK with *dv the data version (NULL when the counter
 * does not exist) and *cacheable 0 when the version reply cannot tag an
 * entry (an error or other type: the answer is then simply not cached).
 * Otherwise the request was answered and NGX_DONE is returned.
 */
static ngx_int_t ngx_http_echostream_series_check_replies(
    ngx_http_echostream_api_ctx_t *ctx, ngx_http_echostream_redis_result_t *res,
    ngx_str_t **dv, ngx_uint_t *cacheable)
{
    static ngx_str_t version;
    ngx_http_echostream_series_t *s = ctx->data;
    redisReply *rep;
    ngx_uint_t i;

    if (res->replies == NULL) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return NGX_DONE;
    }

    for (i = 0; i < res->n; i++) {
        if (i != 1 && res->replies[i]->type == REDIS_REPLY_ERROR) {
            ngx_http_echostream_api_redis_down(ctx, res);
            return NGX_DONE;
        }
    }

    rep = res->replies[0];
    if (rep->type != REDIS_REPLY_INTEGER) {
        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "echostream api: unexpected reply type reading the "
                      "series of topic \"%V\"",
                      &ctx->params[0]);
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal",
                                      "unexpected reply from redis");
        return NGX_DONE;
    }

    if (rep->integer != 1) {
        ngx_http_echostream_series_cache_drop(&s->key);
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no topic \"%V\"", &ctx->params[0]);
        return NGX_DONE;
    }

    rep = res->replies[1];
    *dv = NULL;
    *cacheable = 1;

    if (rep->type == REDIS_REPLY_STRING) {
        /* valid during the callback, as the reply */
        version.data = (u_char *)rep->str;
        version.len = rep->len;
        *dv = &version;

    } else if (rep->type != REDIS_REPLY_NIL) {
        *cacheable = 0;
    }

    return NGX_OK;
}

void ngx_http_echostream_series_done(ngx_http_echostream_api_ctx_t *ctx,
                                     ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_series_t *s = ctx->data;
    ngx_http_request_t *r = ctx->r;
    ngx_uint_t c, bad, cacheable;
    int64_t *values;
    redisReply *rep;
    ngx_str_t *dv;
    ngx_buf_t *b;
    u_char *q, *points;

    if (ngx_http_echostream_series_check_replies(ctx, res, &dv, &cacheable) !=
        NGX_OK) {
        return;
    }

    /* every counter of every point, 0 unless a hash holds it */
    values =
        ngx_pcalloc(r->pool, s->npoints * NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS *
                                 sizeof(int64_t));
    b = ngx_create_temp_buf(
        r->pool, NGX_HTTP_ECHOSTREAM_SERIES_HEAD_MAX +
                     s->npoints * NGX_HTTP_ECHOSTREAM_SERIES_POINT_MAX);
    if (values == NULL || b == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
        return;
    }

    bad = 0;
    for (c = NGX_HTTP_ECHOSTREAM_SERIES_FIRST; c < s->ncmds; c++) {
        rep = res->replies[c];

        if (s->cmd[c].all) {
            if (ngx_http_echostream_series_fields(s, rep, s->cmd[c].base,
                                                  values, &bad) != NGX_OK) {
                goto unexpected;
            }
            continue;
        }

        if (rep->type != REDIS_REPLY_ARRAY ||
            rep->elements !=
                s->cmd[c].count * NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS) {
            goto unexpected;
        }
        ngx_http_echostream_series_values(s, rep, s->cmd[c].first, values,
                                          &bad);
    }

    q = ngx_http_echostream_series_json_head(b->last, &ctx->params[0],
                                             s->step->name, s->from, s->to);
    points = q;
    q = ngx_http_echostream_series_json_points(q, values, s->npoints, s->from,
                                               s->step->step);
    b->last = q;

    if (bad) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "echostream api: skipped %ui malformed series fields "
                      "of topic \"%V\"",
                      bad, &ctx->params[0]);

    } else if (cacheable) {
        /* tagged with the version read before the buckets */
        ngx_http_echostream_series_cache_put(&s->key, dv, points, q - points);
    }

    ngx_http_echostream_series_send(ctx, b, NULL);
    return;

unexpected:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "echostream api: unexpected reply type reading the series "
                  "of topic \"%V\"",
                  &ctx->params[0]);
    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "unexpected reply from redis");
}

/*
 * Sends head (and points, when not NULL: the cached text) as the 200
 * answer and ends the request.
 */
static void ngx_http_echostream_series_send(ngx_http_echostream_api_ctx_t *ctx,
                                            ngx_buf_t *head, ngx_buf_t *points)
{
    ngx_http_request_t *r = ctx->r;
    ngx_chain_t out[2];
    ngx_buf_t *last;
    ngx_int_t rc;

    r->headers_out.status = NGX_HTTP_OK;
    ctx->status = NGX_HTTP_OK;
    r->headers_out.content_length_n =
        (head->last - head->pos) +
        (points != NULL ? points->last - points->pos : 0);
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (ngx_http_echostream_api_common_headers(ctx) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_echostream_api_finalize(ctx, rc);
        return;
    }

    out[0].buf = head;
    out[0].next = NULL;
    last = head;

    if (points != NULL) {
        out[0].next = &out[1];
        out[1].buf = points;
        out[1].next = NULL;
        last = points;
    }

    last->last_buf = (r == r->main) ? 1 : 0;
    last->last_in_chain = 1;

    ngx_http_echostream_api_finalize(ctx, ngx_http_output_filter(r, out));
}
