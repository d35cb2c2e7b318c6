/*
 * ngx_http_echostream_comments.c - GET /topics/{id}/comments: a topic's
 * enriched comments, newest first, a page at a time.
 *
 * The enrich worker keeps a topic's recent comments per creation hour and
 * each comment's record in hour buckets (docs/redis-keys.md); the Redis
 * functions of lib/redis/read.lua read them as a sorted set and as JSON
 * records would be read. A page is
 *
 *   1. es_recent <topic> <label> -inf <max> <offset> <limit + 1 + ties>
 *      desc: ids and creation times in ms, as ZRANGE key <max> -inf
 *      BYSCORE REV LIMIT WITHSCORES answers (with HEXISTS of the topic in
 *      the same round trip), and
 *   2. one es_records of the page's ids and creation hours.
 *
 * Paging by rank would repeat or skip comments as new ones arrive at the
 * head, so the cursor names the last comment shown: its score and id. The
 * next page starts at that score, where members of equal score come in
 * reverse byte order, so the ones not below the cursor id were shown
 * already and are skipped. How many those are is carried in the cursor as
 * a hint (ties), so the first ZRANGE normally asks for exactly enough; when
 * comments arrived or left at that very millisecond in between, more rows
 * are read with further ZRANGEs until the page is full or the set ends.
 * The cursor is base64url of "<score>:<ties>:<id>", opaque to clients and
 * checked strictly (canonical form only) before any of it is used; it and
 * the other arguments are read by lib/es_req_comments.c, where the fuzz
 * target reaches them.
 *
 * A page shows at most `limit` comments and has a next cursor when a row
 * beyond them exists; records that are tombstones or gone are skipped (the
 * page is then shorter), malformed ones too, with a log line.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <stdlib.h>

#include "es_req_comments.h"
#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_comment_json.h"
#include "routes/ngx_http_echostream_routes.h"

/* rows asked for by a range read after the first (ties beyond the hint) */
#define NGX_HTTP_ECHOSTREAM_COMMENTS_MORE 500
/* scores are ms since the epoch: below 10^15 */
#define NGX_HTTP_ECHOSTREAM_COMMENTS_SCORE_MAX 1e15
#define NGX_HTTP_ECHOSTREAM_COMMENTS_ID_LEN    ES_REQ_CURSOR_ID_LEN

typedef struct {
    int64_t score;
    u_char id[NGX_HTTP_ECHOSTREAM_COMMENTS_ID_LEN];
    size_t len;
} ngx_http_echostream_comments_row_t;

typedef struct {
    const char *label; /* the sentiment filter's label, or NULL */

    /* the cursor */
    unsigned has_cursor : 1;
    int64_t score;
    ngx_uint_t ties;
    u_char id[NGX_HTTP_ECHOSTREAM_COMMENTS_ID_LEN];
    size_t len;

    ngx_uint_t limit;
    ngx_uint_t offset; /* of the pending ZRANGE */
    ngx_uint_t want;   /* rows it asks for */
    unsigned first : 1;

    ngx_http_echostream_comments_row_t *rows; /* limit + 1 */
    ngx_uint_t n;
    ngx_uint_t skipped; /* malformed members, for one log line */
} ngx_http_echostream_comments_t;

static void
ngx_http_echostream_comments_range(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_comments_page(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_http_echostream_redis_result_t *res);
static ngx_int_t
ngx_http_echostream_comments_zrange(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_str_t *topics);
static ngx_int_t
ngx_http_echostream_comments_records(ngx_http_echostream_api_ctx_t *ctx);
static ngx_int_t
ngx_http_echostream_comments_rows(ngx_http_echostream_comments_t *st,
                                  redisReply *rep);
static json_t *
ngx_http_echostream_comments_cursor(ngx_http_echostream_comments_t *st);
static int ngx_http_echostream_comments_cmp(const u_char *a, size_t alen,
                                            const u_char *b, size_t blen);

NGX_HTTP_ECHOSTREAM_ROUTE(topic_comments)
{
    ngx_http_echostream_comments_t *st;
    es_req_comments_args args;
    ngx_str_t topics;
    es_req_err err;

    if (es_req_comments_read((const char *)ctx->r->args.data, ctx->r->args.len,
                             &args, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    st = ngx_pcalloc(ctx->r->pool, sizeof(ngx_http_echostream_comments_t));
    if (st == NULL) {
        goto nomem;
    }

    st->limit = args.limit;

    st->label = args.sentiment >= 0 ? es_req_sentiments[args.sentiment] : NULL;

    if (args.has_cursor) {
        st->has_cursor = 1;
        st->score = args.cursor.score;
        st->ties = args.cursor.ties;
        st->len = args.cursor.id_len;
        ngx_memcpy(st->id, args.cursor.id, st->len);
    }

    st->rows = ngx_palloc(ctx->r->pool,
                          (st->limit + 1) *
                              sizeof(ngx_http_echostream_comments_row_t));
    if (st->rows == NULL) {
        goto nomem;
    }

    st->first = 1;
    /* a forged cursor must not make one ZRANGE huge: beyond this hint the
     * ties are read in further rounds */
    st->want =
        st->limit + 1 + ngx_min(st->ties, NGX_HTTP_ECHOSTREAM_COMMENTS_MORE);
    ctx->data = st;

    if (ngx_http_echostream_api_key(ctx, &topics, ES_TK_TOPICS) != NGX_OK ||
        ngx_http_echostream_comments_zrange(ctx, &topics) != NGX_OK) {
        goto nomem;
    }

    return;

nomem:

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

/*
 * Queues the ZRANGE for st->offset and st->want (after HEXISTS of the
 * topic when topics is given). NGX_ERROR: out of memory, nothing queued.
 */
static ngx_int_t
ngx_http_echostream_comments_zrange(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_str_t *topics)
{
    ngx_http_echostream_comments_t *st = ctx->data;
    ngx_http_echostream_redis_cmd_t cmds[2], *cmd;
    const char **argv;
    size_t *lens;
    u_char *buf, *p;
    ngx_str_t min, max;

    /* HEXISTS (3) then es_recent; numbers printed into buf */
    argv = ngx_palloc(ctx->r->pool, 3 * sizeof(char *));
    lens = ngx_palloc(ctx->r->pool, 3 * sizeof(size_t));
    buf = ngx_pnalloc(ctx->r->pool, NGX_INT64_LEN);
    if (argv == NULL || lens == NULL || buf == NULL) {
        return NGX_ERROR;
    }

    cmd = cmds;

    if (topics != NULL) {
        argv[0] = "HEXISTS";
        lens[0] = 7;
        argv[1] = (const char *)topics->data;
        lens[1] = topics->len;
        argv[2] = (const char *)ctx->params[0].data;
        lens[2] = ctx->params[0].len;
        cmd->argc = 3;
        cmd->argv = argv;
        cmd->argvlen = lens;
        cmd++;
    }

    if (st->has_cursor) {
        max.data = buf;
        p = ngx_sprintf(buf, "%L", st->score);
        max.len = p - buf;
    } else {
        ngx_str_set(&max, "+inf");
    }
    ngx_str_set(&min, "-inf");

    if (ngx_http_echostream_api_recent_cmd(ctx, cmd, &ctx->params[0], st->label,
                                           &min, &max, st->offset, st->want,
                                           1) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_echostream_api_redis(ctx, cmds, topics ? 2 : 1,
                                         ngx_http_echostream_comments_range);
}

static void
ngx_http_echostream_comments_range(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_comments_t *st = ctx->data;
    redisReply *exists, *range;
    ngx_int_t got;

    if (res->replies == NULL) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    exists = st->first ? res->replies[0] : NULL;
    range = res->replies[res->n - 1];

    if ((exists != NULL && exists->type == REDIS_REPLY_ERROR) ||
        range->type == REDIS_REPLY_ERROR) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    if (exists != NULL) {
        if (exists->type != REDIS_REPLY_INTEGER) {
            goto unexpected;
        }

        if (exists->integer != 1) {
            ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                          "no topic \"%V\"", &ctx->params[0]);
            return;
        }
    }

    st->first = 0;

    got = ngx_http_echostream_comments_rows(st, range);
    if (got == NGX_ERROR) {
        goto unexpected;
    }

    if (st->n <= st->limit && (ngx_uint_t)got == st->want) {
        /* the set may hold more: read on past the rows seen */
        st->offset += st->want;
        st->want = NGX_HTTP_ECHOSTREAM_COMMENTS_MORE;

        if (ngx_http_echostream_comments_zrange(ctx, NULL) != NGX_OK) {
            ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "internal", "out of memory");
        }
        return;
    }

    if (st->skipped) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipped %ui malformed members of "
                      "\"%V\"",
                      st->skipped, &ctx->params[0]);
    }

    if (st->n == 0) {
        ngx_http_echostream_api_json(
            ctx, NGX_HTTP_OK,
            json_pack("{s:[], s:n}", "comments", "next_cursor"));
        return;
    }

    if (ngx_http_echostream_comments_records(ctx) != NGX_OK) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
    }

    return;

unexpected:

    ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                  "echostream api: unexpected reply reading \"%V\"",
                  &ctx->params[0]);
    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "unexpected reply from redis");
}

/*
 * Adds the rows of a ZRANGE … WITHSCORES reply that come after the cursor
 * to st->rows (up to limit + 1). Returns the number of rows the reply
 * held, or NGX_ERROR when it is not such a reply.
 */
static ngx_int_t
ngx_http_echostream_comments_rows(ngx_http_echostream_comments_t *st,
                                  redisReply *rep)
{
    redisReply *m, *s;
    double score;
    char *end;
    size_t i;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0) {
        return NGX_ERROR;
    }

    for (i = 0; i < rep->elements && st->n <= st->limit; i += 2) {
        m = rep->element[i];
        s = rep->element[i + 1];

        /* a member that could not be a cursor's id is not a comment id */
        if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING ||
            !es_req_cursor_id_valid(m->str, m->len)) {
            st->skipped++;
            continue;
        }

        /* reply strings are NUL-terminated copies */
        score = strtod(s->str, &end);
        if (end == s->str || *end != '\0' || !isfinite(score) || score < 0 ||
            score >= NGX_HTTP_ECHOSTREAM_COMMENTS_SCORE_MAX ||
            score != floor(score)) {
            st->skipped++;
            continue;
        }

        /* members not below the cursor at its score were shown already */
        if (st->has_cursor &&
            ((int64_t)score > st->score ||
             ((int64_t)score == st->score &&
              ngx_http_echostream_comments_cmp((u_char *)m->str, m->len, st->id,
                                               st->len) >= 0))) {
            continue;
        }

        st->rows[st->n].score = (int64_t)score;
        ngx_memcpy(st->rows[st->n].id, m->str, m->len);
        st->rows[st->n].len = m->len;
        st->n++;
    }

    return (ngx_int_t)(rep->elements / 2);
}

/* Queues the reading of the page's records (es_records). */
static ngx_int_t
ngx_http_echostream_comments_records(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_comments_t *st = ctx->data;
    ngx_http_echostream_redis_cmd_t cmd;
    ngx_uint_t i, n;
    size_t *idlens;
    u_char *hours;

    n = ngx_min(st->n, st->limit);

    idlens = ngx_palloc(ctx->r->pool, (n + 1) * sizeof(size_t));
    hours = ngx_pnalloc(ctx->r->pool, 10 * (n + 1));
    if (idlens == NULL || hours == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        idlens[i] = st->rows[i].len;
        ngx_http_echostream_api_hour(st->rows[i].score, hours + 10 * i);
    }

    if (ngx_http_echostream_api_records_cmd(
            ctx, ctx->r->pool, st->rows[0].id, sizeof(st->rows[0]), idlens,
            hours, n, &cmd.argc, &cmd.argv, &cmd.argvlen) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_echostream_api_redis(ctx, &cmd, 1,
                                         ngx_http_echostream_comments_page);
}

static void
ngx_http_echostream_comments_page(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_comments_t *st = ctx->data;
    json_t *body, *list, *c, *next;
    redisReply *rep, *v;
    const char *why;
    ngx_uint_t i;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    rep = res->replies[0];
    if (rep->type != REDIS_REPLY_ARRAY ||
        rep->elements != ngx_min(st->n, st->limit)) {
        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "echostream api: unexpected reply reading comments");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal",
                                      "unexpected reply from redis");
        return;
    }

    list = json_array();
    next = st->n > st->limit ? ngx_http_echostream_comments_cursor(st)
                             : json_null();
    if (list == NULL || next == NULL) {
        goto nomem;
    }

    for (i = 0; i < rep->elements; i++) {
        v = rep->element[i];
        if (v->type != REDIS_REPLY_STRING) {
            continue; /* gone with its retention */
        }

        c = ngx_http_echostream_comment_json_ex(v->str, v->len, &why);
        if (c == NULL) {
            if (why != NULL) {
                ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                              "echostream api: skipping comment record "
                              "\"%*s\": %s",
                              st->rows[i].len, st->rows[i].id, why);
            }
            continue;
        }

        /* list steals c */
        if (json_array_append_new(list, c) != 0) {
            goto nomem;
        }
    }

    /* body steals list and next, also when packing fails */
    body = json_pack("{s:o, s:o}", "comments", list, "next_cursor", next);

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, body);
    return;

nomem:

    json_decref(list);
    json_decref(next);
    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

/*
 * The next page's cursor, after the last row shown: a new string, NULL
 * when memory ran out (or the row could not be a cursor, which the rows'
 * checks rule out).
 */
static json_t *
ngx_http_echostream_comments_cursor(ngx_http_echostream_comments_t *st)
{
    ngx_http_echostream_comments_row_t *last;
    char text[ES_REQ_CURSOR_LEN + 1];
    es_req_cursor c;
    ngx_uint_t i, ties;
    int n;

    last = &st->rows[st->limit - 1];

    /* rows at the last score that this and earlier pages passed */
    ties = 0;
    for (i = 0; i < st->limit; i++) {
        if (st->rows[i].score == last->score) {
            ties++;
        }
    }
    if (st->has_cursor && st->score == last->score) {
        ties += st->ties;
    }

    c.score = last->score;
    c.ties = (uint32_t)ngx_min(ties, ES_REQ_CURSOR_TIES_MAX);
    c.id_len = last->len;
    ngx_memcpy(c.id, last->id, last->len);
    c.id[c.id_len] = '\0';

    n = es_req_cursor_encode(&c, text);
    if (n < 0) {
        return NULL;
    }

    return json_stringn(text, (size_t)n);
}

/* Byte order of members, as Redis sorts equal scores. */
static int ngx_http_echostream_comments_cmp(const u_char *a, size_t alen,
                                            const u_char *b, size_t blen)
{
    int c;

    c = ngx_memcmp(a, b, ngx_min(alen, blen));
    if (c != 0) {
        return c;
    }

    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}
