/*
 * ngx_http_echostream_insights.c - GET /share-of-voice: each topic's part
 * of the tenant's matching comments over whole days (GET /usage, the
 * other tenant-wide figure, is ngx_http_echostream_usage.c).
 *
 * It reads what the enrich worker counts (docs/redis-keys.md): one hash
 * per UTC day, …:sov:<YYYYMMDD> (topic id → comments that day), in one
 * round trip. It lists every current topic (…:topics), with 0 for a
 * topic without comments; counts of deleted topics still in the day
 * hashes are not shown and not part of the total, so the shares of what
 * is listed add up to 1. A share is rounded to 4 decimals like every
 * other ratio of the API.
 *
 * The range's arguments are read by lib/es_req_sov.c (where the fuzz
 * target reaches them) as whole days.
 *
 * Counts that are not integers, topic records that do not parse and ids
 * that are not ids are logged and skipped (a topic with a bad name shows
 * its id as name): Redis content is not trusted.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <stdlib.h>

#include "es_req_sov.h"
#include "api/ngx_http_echostream_api.h"
#include "routes/ngx_http_echostream_routes.h"

typedef struct {
    int64_t from; /* days since the epoch, both included */
    int64_t to;
} ngx_http_echostream_sov_t;

typedef struct {
    const u_char *id; /* in the reply */
    size_t len;
    const char *name; /* NUL-terminated, pool */
    size_t name_len;
    int64_t count;
} ngx_http_echostream_sov_topic_t;

static void
ngx_http_echostream_sov_done(ngx_http_echostream_api_ctx_t *ctx,
                             ngx_http_echostream_redis_result_t *res);
static ngx_http_echostream_sov_topic_t *
ngx_http_echostream_sov_topics(ngx_http_echostream_api_ctx_t *ctx,
                               redisReply *rep, ngx_uint_t *n);
static void ngx_http_echostream_sov_name(ngx_http_echostream_api_ctx_t *ctx,
                                         ngx_http_echostream_sov_topic_t *t,
                                         redisReply *v);
static int ngx_http_echostream_sov_cmp(const void *a, const void *b);
static void ngx_http_echostream_insights_date(int64_t day, char *buf);
static void
ngx_http_echostream_insights_unexpected(ngx_http_echostream_api_ctx_t *ctx,
                                        const char *what);

NGX_HTTP_ECHOSTREAM_ROUTE(share_of_voice)
{
    ngx_http_echostream_redis_cmd_t *cmds;
    ngx_http_echostream_sov_t *st;
    ngx_uint_t i, ndays;
    es_req_sov_args args;
    const char **argv;
    es_req_err err;
    ngx_str_t key;
    u_char day[12];
    ngx_tm_t tm;

    if (es_req_sov_read((const char *)ctx->r->args.data, ctx->r->args.len,
                        ngx_http_echostream_api_now_ms(), &args, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    st = ngx_pcalloc(ctx->r->pool, sizeof(ngx_http_echostream_sov_t));
    if (st == NULL) {
        goto nomem;
    }

    st->from = args.from;
    st->to = args.to;
    ndays = args.ndays;

    cmds = ngx_palloc(ctx->r->pool,
                      (ndays + 1) * sizeof(ngx_http_echostream_redis_cmd_t));
    argv = ngx_palloc(ctx->r->pool, 2 * (ndays + 1) * sizeof(char *));
    if (cmds == NULL || argv == NULL) {
        goto nomem;
    }

    /* argvlen NULL: keys are NUL-terminated */
    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_TOPICS) != NGX_OK) {
        goto nomem;
    }
    argv[0] = "HGETALL";
    argv[1] = (const char *)key.data;
    cmds[0].argc = 2;
    cmds[0].argv = argv;
    cmds[0].argvlen = NULL;

    for (i = 0; i < ndays; i++) {
        ngx_gmtime((time_t)((st->from + (int64_t)i) * 86400), &tm);

        *ngx_snprintf(day, sizeof(day) - 1, "%04d%02d%02d", tm.ngx_tm_year,
                      tm.ngx_tm_mon, tm.ngx_tm_mday) = '\0';
        if (ngx_http_echostream_api_key(ctx, &key, ES_TK_SOV, (char *)day) !=
            NGX_OK) {
            goto nomem;
        }

        argv[2 * (i + 1)] = "HGETALL";
        argv[2 * (i + 1) + 1] = (const char *)key.data;
        cmds[i + 1].argc = 2;
        cmds[i + 1].argv = &argv[2 * (i + 1)];
        cmds[i + 1].argvlen = NULL;
    }

    ctx->data = st;

    if (ngx_http_echostream_api_redis(ctx, cmds, ndays + 1,
                                      ngx_http_echostream_sov_done) != NGX_OK) {
        goto nomem;
    }

    return;

nomem:

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

static void
ngx_http_echostream_sov_done(ngx_http_echostream_api_ctx_t *ctx,
                             ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_sov_t *st = ctx->data;
    ngx_http_echostream_sov_topic_t *topics, *t, probe;
    ngx_uint_t i, j, n, bad;
    json_t *list, *o, *body;
    redisReply *rep;
    char from[16], to[16];
    int64_t total, v;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    for (i = 0; i < res->n; i++) {
        if (res->replies[i]->type != REDIS_REPLY_ARRAY ||
            res->replies[i]->elements % 2 != 0) {
            ngx_http_echostream_insights_unexpected(ctx, "share of voice");
            return;
        }
    }

    topics = ngx_http_echostream_sov_topics(ctx, res->replies[0], &n);
    if (topics == NULL) {
        goto nomem;
    }

    bad = 0;
    for (i = 1; i < res->n && n > 0; i++) {
        rep = res->replies[i];

        for (j = 0; j < rep->elements; j += 2) {
            if (rep->element[j]->type != REDIS_REPLY_STRING) {
                bad++;
                continue;
            }

            probe.id = (u_char *)rep->element[j]->str;
            probe.len = rep->element[j]->len;
            t = bsearch(&probe, topics, n, sizeof(*topics),
                        ngx_http_echostream_sov_cmp);
            if (t == NULL) {
                continue; /* a topic deleted since */
            }

            v = ngx_http_echostream_api_reply_int(rep->element[j + 1], &bad);
            if (v > 0) {
                t->count += v;
            }
        }
    }

    if (bad) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipped %ui malformed share of voice "
                      "fields",
                      bad);
    }

    total = 0;
    for (i = 0; i < n; i++) {
        total += topics[i].count;
    }

    list = json_array();
    if (list == NULL) {
        goto nomem;
    }

    for (i = 0; i < n; i++) {
        o = json_pack("{s:s%, s:s%, s:I, s:f}", "id", (char *)topics[i].id,
                      topics[i].len, "name", topics[i].name, topics[i].name_len,
                      "count", (json_int_t)topics[i].count, "share",
                      total > 0 ? round((double)topics[i].count * 10000.0 /
                                        (double)total) /
                                      10000.0
                                : 0.0);
        /* list steals o */
        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            goto nomem;
        }
    }

    ngx_http_echostream_insights_date(st->from, from);
    ngx_http_echostream_insights_date(st->to, to);

    /* body steals list, also when packing fails */
    body = json_pack("{s:s, s:s, s:I, s:o}", "from", from, "to", to, "total",
                     (json_int_t)total, "topics", list);

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, body);
    return;

nomem:

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

/*
 * The tenant's topics from HGETALL …:topics, sorted by id, counts 0; in
 * pool memory (an empty tenant gives a non-NULL array and *n = 0). NULL
 * when memory ran out.
 */
static ngx_http_echostream_sov_topic_t *
ngx_http_echostream_sov_topics(ngx_http_echostream_api_ctx_t *ctx,
                               redisReply *rep, ngx_uint_t *n)
{
    ngx_http_echostream_sov_topic_t *topics;
    redisReply *f;
    size_t i;

    topics =
        ngx_palloc(ctx->r->pool, (rep->elements / 2 + 1) *
                                     sizeof(ngx_http_echostream_sov_topic_t));
    if (topics == NULL) {
        return NULL;
    }

    *n = 0;

    for (i = 0; i < rep->elements; i += 2) {
        f = rep->element[i];

        if (f->type != REDIS_REPLY_STRING ||
            !ngx_http_echostream_api_id_valid((u_char *)f->str, f->len)) {
            ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                          "echostream api: skipping a topic whose id is not "
                          "an id");
            continue;
        }

        topics[*n].id = (u_char *)f->str;
        topics[*n].len = f->len;
        topics[*n].count = 0;
        ngx_http_echostream_sov_name(ctx, &topics[*n], rep->element[i + 1]);
        (*n)++;
    }

    qsort(topics, *n, sizeof(*topics), ngx_http_echostream_sov_cmp);

    return topics;
}

/*
 * Sets t->name from the topic record v: its "name" when that is a valid
 * topic name, else (logged) the topic id, which always is one.
 */
static void ngx_http_echostream_sov_name(ngx_http_echostream_api_ctx_t *ctx,
                                         ngx_http_echostream_sov_topic_t *t,
                                         redisReply *v)
{
    json_t *rec, *name;
    json_error_t jerr;
    const char *s;
    size_t len, k, chars;
    u_char *copy;

    t->name = (const char *)t->id;
    t->name_len = t->len;

    if (v->type != REDIS_REPLY_STRING) {
        goto bad;
    }

    rec = json_loadb(v->str, v->len, 0, &jerr);
    name = json_object_get(rec, "name"); /* borrowed; NULL-safe */
    s = json_string_value(name);
    len = s ? json_string_length(name) : 0;

    /* 1..100 characters, no control characters (the schema's TopicName);
     * jansson has checked the UTF-8, so characters are the bytes that do
     * not continue one */
    chars = 0;
    for (k = 0; s != NULL && k < len; k++) {
        if ((u_char)s[k] < 0x20 || s[k] == 0x7f) {
            s = NULL;
        } else if (((u_char)s[k] & 0xc0) != 0x80) {
            chars++;
        }
    }

    if (s == NULL || chars == 0 || chars > 100) {
        json_decref(rec);
        goto bad;
    }

    copy = ngx_pnalloc(ctx->r->pool, len + 1);
    if (copy != NULL) {
        ngx_memcpy(copy, s, len);
        copy[len] = '\0';
        t->name = (const char *)copy;
        t->name_len = len;
    }

    json_decref(rec);
    return;

bad:

    ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                  "echostream api: topic \"%*s\" has no valid name", t->len,
                  t->id);
}

/* Topic ids in byte order. */
static int ngx_http_echostream_sov_cmp(const void *a, const void *b)
{
    const ngx_http_echostream_sov_topic_t *x = a, *y = b;
    int c;

    c = ngx_memcmp(x->id, y->id, ngx_min(x->len, y->len));
    if (c != 0) {
        return c;
    }

    return x->len < y->len ? -1 : (x->len > y->len ? 1 : 0);
}

/* "YYYY-MM-DD" of a day since the epoch into buf (at least 11 bytes). */
static void ngx_http_echostream_insights_date(int64_t day, char *buf)
{
    ngx_tm_t tm;

    ngx_gmtime((time_t)(day * 86400), &tm);

    /* bounded by the buffer, not by how ngx_gmtime clamps its input */
    *ngx_snprintf((u_char *)buf, 10, "%04d-%02d-%02d", tm.ngx_tm_year,
                  tm.ngx_tm_mon, tm.ngx_tm_mday) = '\0';
}

static void
ngx_http_echostream_insights_unexpected(ngx_http_echostream_api_ctx_t *ctx,
                                        const char *what)
{
    ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                  "echostream api: unexpected reply reading %s", what);
    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "unexpected reply from redis");
}
