/*
 * ngx_http_echostream_terms.c - GET /topics/{id}/terms: a topic's trending
 * terms over the last hours, against the same hours one day earlier.
 *
 * The enrich worker counts, per topic and UTC hour, how many matching
 * comments contained each term (sorted set …:terms:<topic>:<YYYYMMDDHH>,
 * kept 48 hours so an hour can be compared with the same hour of the day
 * before; docs/redis-keys.md). One round trip: HEXISTS of the topic, ZUNION
 * of the window's hourly sets (the current hour included) and ZUNION of
 * the same hours a day earlier, both WITHSCORES; Redis sums the hours.
 * Ranking (count descending, then term) and the lookup of each shown
 * term's previous count happen here, because ZUNION orders by score
 * ascending with ties in byte order, the wrong way round for the ties.
 *
 * The window and the number of terms (hours, limit) are read by
 * lib/es_req_terms.c, where the fuzz target reaches them.
 *
 * change = (count - previous) / max(previous, 1), rounded to 4 decimals
 * half away from zero in integers. Members that are not UTF-8 or scores
 * that are not whole numbers are skipped and logged: Redis content is not
 * trusted to be what the worker wrote.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <stdlib.h>

#include "es_req_terms.h"
#include "es_utf8.h"
#include "api/ngx_http_echostream_api.h"
#include "routes/ngx_http_echostream_routes.h"

typedef struct {
    const u_char *term; /* in the reply, NUL-terminated */
    size_t len;
    int64_t count;
} ngx_http_echostream_terms_item_t;

typedef struct {
    ngx_uint_t hours;
    ngx_uint_t limit;
} ngx_http_echostream_terms_t;

static void
ngx_http_echostream_terms_done(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res);
static ngx_int_t
ngx_http_echostream_terms_union(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_terms_t *st, int64_t hour,
                                ngx_http_echostream_redis_cmd_t *cmd);
static ngx_http_echostream_terms_item_t *
ngx_http_echostream_terms_items(ngx_pool_t *pool, redisReply *rep,
                                ngx_uint_t *n, ngx_uint_t *bad);
static int ngx_http_echostream_terms_by_count(const void *a, const void *b);
static int ngx_http_echostream_terms_by_term(const void *a, const void *b);

NGX_HTTP_ECHOSTREAM_ROUTE(topic_terms)
{
    ngx_http_echostream_redis_cmd_t cmds[3];
    ngx_http_echostream_terms_t *st;
    const char *hargv[3];
    size_t hlens[3];
    es_req_terms_args args;
    ngx_str_t topics;
    es_req_err err;
    int64_t hour;

    if (es_req_terms_read((const char *)ctx->r->args.data, ctx->r->args.len,
                          &args, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    st = ngx_pcalloc(ctx->r->pool, sizeof(ngx_http_echostream_terms_t));
    if (st == NULL) {
        goto nomem;
    }

    st->hours = args.hours;
    st->limit = args.limit;

    if (ngx_http_echostream_api_key(ctx, &topics, ES_TK_TOPICS) != NGX_OK) {
        goto nomem;
    }

    /* the pipeline copies the arguments: stack arrays will do */
    hargv[0] = "HEXISTS";
    hlens[0] = 7;
    hargv[1] = (const char *)topics.data;
    hlens[1] = topics.len;
    hargv[2] = (const char *)ctx->params[0].data;
    hlens[2] = ctx->params[0].len;
    cmds[0].argc = 3;
    cmds[0].argv = hargv;
    cmds[0].argvlen = hlens;

    hour = ngx_http_echostream_api_now_ms() / 1000;
    hour -= hour % 3600;

    if (ngx_http_echostream_terms_union(ctx, st, hour, &cmds[1]) != NGX_OK ||
        ngx_http_echostream_terms_union(ctx, st, hour - 86400, &cmds[2]) !=
            NGX_OK) {
        goto nomem;
    }

    ctx->data = st;

    if (ngx_http_echostream_api_redis(
            ctx, cmds, 3, ngx_http_echostream_terms_done) != NGX_OK) {
        goto nomem;
    }

    return;

nomem:

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

static void
ngx_http_echostream_terms_done(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_terms_t *st = ctx->data;
    ngx_http_echostream_terms_item_t *cur, *prev, *hit;
    ngx_uint_t i, ncur, nprev, bad;
    json_t *list, *t, *body;
    int64_t before, num, den, q;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    if (res->replies[0]->type != REDIS_REPLY_INTEGER) {
        goto unexpected;
    }

    if (res->replies[0]->integer != 1) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no topic \"%V\"", &ctx->params[0]);
        return;
    }

    bad = 0;
    cur = ngx_http_echostream_terms_items(ctx->r->pool, res->replies[1], &ncur,
                                          &bad);
    prev = ngx_http_echostream_terms_items(ctx->r->pool, res->replies[2],
                                           &nprev, &bad);
    if (cur == NULL || prev == NULL) {
        goto unexpected;
    }

    if (bad) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipped %ui malformed terms of topic "
                      "\"%V\"",
                      bad, &ctx->params[0]);
    }

    qsort(cur, ncur, sizeof(*cur), ngx_http_echostream_terms_by_count);
    qsort(prev, nprev, sizeof(*prev), ngx_http_echostream_terms_by_term);

    list = json_array();
    if (list == NULL) {
        goto nomem;
    }

    for (i = 0; i < ncur && i < st->limit; i++) {
        hit = nprev ? bsearch(&cur[i], prev, nprev, sizeof(*prev),
                              ngx_http_echostream_terms_by_term)
                    : NULL;
        before = hit ? hit->count : 0;

        /* rounded half away from zero, in units of 10^-4 */
        num = (cur[i].count - before) * 10000;
        den = before > 1 ? before : 1;
        q = ((num < 0 ? -num : num) * 2 + den) / (2 * den);
        if (num < 0) {
            q = -q;
        }

        t = json_pack("{s:s%, s:I, s:I, s:f}", "term", (char *)cur[i].term,
                      cur[i].len, "count", (json_int_t)cur[i].count, "previous",
                      (json_int_t)before, "change", (double)q / 10000.0);
        /* list steals t */
        if (t == NULL || json_array_append_new(list, t) != 0) {
            json_decref(list);
            goto nomem;
        }
    }

    /* body steals list, also when packing fails */
    body = json_pack("{s:s%, s:I, s:o}", "topic", (char *)ctx->params[0].data,
                     ctx->params[0].len, "hours", (json_int_t)st->hours,
                     "terms", list);

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, body);
    return;

nomem:

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
    return;

unexpected:

    ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                  "echostream api: unexpected reply reading the terms of "
                  "topic \"%V\"",
                  &ctx->params[0]);
    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "unexpected reply from redis");
}

/*
 * Fills cmd with ZUNION of the st->hours hourly term sets ending with the
 * hour starting at hour (seconds), WITHSCORES.
 */
static ngx_int_t
ngx_http_echostream_terms_union(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_terms_t *st, int64_t hour,
                                ngx_http_echostream_redis_cmd_t *cmd)
{
    ngx_uint_t i, argc;
    const char **argv;
    size_t *lens;
    ngx_str_t key;
    u_char yyyymmddhh[16];
    ngx_tm_t tm;
    u_char *num;

    argc = st->hours + 3;
    argv = ngx_palloc(ctx->r->pool, argc * sizeof(char *));
    lens = ngx_palloc(ctx->r->pool, argc * sizeof(size_t));
    num = ngx_pnalloc(ctx->r->pool, NGX_INT_T_LEN);
    if (argv == NULL || lens == NULL || num == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "ZUNION";
    lens[0] = 6;
    argv[1] = (const char *)num;
    lens[1] = ngx_sprintf(num, "%ui", st->hours) - num;

    for (i = 0; i < st->hours; i++) {
        ngx_gmtime((time_t)(hour - (int64_t)i * 3600), &tm);

        *ngx_snprintf(yyyymmddhh, sizeof(yyyymmddhh) - 1, "%04d%02d%02d%02d",
                      tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                      tm.ngx_tm_hour) = '\0';
        if (ngx_http_echostream_api_key(ctx, &key, ES_TK_TERMS,
                                        (const char *)ctx->params[0].data,
                                        (const char *)yyyymmddhh) != NGX_OK) {
            return NGX_ERROR;
        }

        argv[2 + i] = (const char *)key.data;
        lens[2 + i] = key.len;
    }

    argv[argc - 1] = "WITHSCORES";
    lens[argc - 1] = 10;

    cmd->argc = (int)argc;
    cmd->argv = argv;
    cmd->argvlen = lens;

    return NGX_OK;
}

/*
 * The (term, count) pairs of a ZUNION … WITHSCORES reply with a count
 * above 0, in pool memory; NULL when the reply is not such a reply (or
 * memory ran out). Malformed pairs are left out and counted in *bad.
 */
static ngx_http_echostream_terms_item_t *
ngx_http_echostream_terms_items(ngx_pool_t *pool, redisReply *rep,
                                ngx_uint_t *n, ngx_uint_t *bad)
{
    ngx_http_echostream_terms_item_t *items;
    redisReply *m, *s;
    double score;
    char *end;
    size_t i;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0) {
        return NULL;
    }

    /* one more, so an empty reply still gives a non-NULL array */
    items = ngx_palloc(pool, (rep->elements / 2 + 1) * sizeof(*items));
    if (items == NULL) {
        return NULL;
    }

    *n = 0;

    for (i = 0; i < rep->elements; i += 2) {
        m = rep->element[i];
        s = rep->element[i + 1];

        if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING ||
            m->len == 0) {
            (*bad)++;
            continue;
        }

        /* reply strings are NUL-terminated copies */
        score = strtod(s->str, &end);
        if (end == s->str || *end != '\0' || !isfinite(score) ||
            score != floor(score) || score > 1e12 || score < -1e12) {
            (*bad)++;
            continue;
        }

        if (score <= 0) {
            continue;
        }

        if (!es_utf8_valid(m->str, m->len)) {
            (*bad)++;
            continue;
        }

        items[*n].term = (u_char *)m->str;
        items[*n].len = m->len;
        items[*n].count = (int64_t)score;
        (*n)++;
    }

    return items;
}

/* Count descending, then term in byte order. */
static int ngx_http_echostream_terms_by_count(const void *a, const void *b)
{
    const ngx_http_echostream_terms_item_t *x = a, *y = b;

    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }

    return ngx_http_echostream_terms_by_term(a, b);
}

/* Term in byte order (as Redis sorts members). */
static int ngx_http_echostream_terms_by_term(const void *a, const void *b)
{
    const ngx_http_echostream_terms_item_t *x = a, *y = b;
    int c;

    c = ngx_memcmp(x->term, y->term, ngx_min(x->len, y->len));
    if (c != 0) {
        return c;
    }

    return x->len < y->len ? -1 : (x->len > y->len ? 1 : 0);
}
