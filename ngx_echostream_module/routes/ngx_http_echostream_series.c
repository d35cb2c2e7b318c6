/*
 * ngx_http_echostream_series.c - GET /topics/{id}/series: a topic's volume
 * and sentiment per minute, hour or day.
 *
 * The enrich worker keeps one hash per bucket group (docs/redis-keys.md):
 * minutes in hourly hashes (…:ts:<topic>:m:<YYYYMMDDHH>, fields "MM:n",
 * "MM:pos", …), hours in daily ones (:h:<YYYYMMDD>), days in monthly ones
 * (:d:<YYYYMM>). Reading a series is one pipeline, one round trip:
 * HEXISTS of the topic, GET of the data version (below) and one command
 * per hash covering the range. For a hash of the past, HMGET of exactly the
 * fields of the wanted buckets: the reply holds only what is shown, in point
 * order. For the hash still filling (the current hour, day or month) while it
 * has at most 128 fields, HGETALL: Redis keeps such a hash as a listpack, where
 * each HMGET field is a linear search, so HMGET of its fields costs Redis many
 * times what walking it once does; a larger hash is a hash table, where HMGET
 * is cheap and returns half the elements. HGETALL replies are mapped by field
 * name ("MM:n" is bucket MM of the hash), fields outside the range dropped.
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
 * one array from the pool, the field names one static table, the command
 * arguments two arrays, and the JSON text is printed straight into one
 * buffer sized from the point count (series_json.c, which prints it).
 * The points' text is cached apart from the head (topic, step, from, to),
 * which is printed for each request: "to" may differ within one bucket.
 * This file keeps the Redis steps and the cache interplay; the arguments
 * and the rules of the range are lib/es_req_series.c, where the fuzz
 * target reaches them.
 *
 * Redis content is not trusted: a field that is not an integer reads as 0
 * (logged once per request); series_json.c prints negative counts as 0
 * and keeps the mean compound within [-1, 1].
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_series.h"
#include "api/ngx_http_echostream_api.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_series_cache.h"
#include "api/ngx_http_echostream_series_json.h"

/* the most fields Redis keeps in a listpack (hash-max-listpack-entries) */
#define NGX_HTTP_ECHOSTREAM_SERIES_LISTPACK 128
/* HEXISTS of the topic, GET of the data version, then the buckets */
#define NGX_HTTP_ECHOSTREAM_SERIES_FIRST 2
/* room for a bucket hash's date part ("YYYYMMDDHH") and its NUL */
#define NGX_HTTP_ECHOSTREAM_SERIES_PART 16

typedef struct {
    int64_t base;     /* the time of the hash's bucket number 0 */
    ngx_uint_t first; /* its points */
    ngx_uint_t count;
    unsigned all : 1; /* HGETALL (else HMGET of the points' fields) */
} ngx_http_echostream_series_cmd_t;

typedef struct {
    const es_req_series_step *step;
    int64_t from; /* floored to the step */
    int64_t to;
    int64_t now;
    ngx_uint_t npoints;
    ngx_uint_t ncmds; /* HEXISTS, GET + one command per bucket hash */
    ngx_http_echostream_series_cmd_t *cmd;

    /* the first two commands (arguments kept for a second round trip) */
    ngx_http_echostream_redis_cmd_t check[NGX_HTTP_ECHOSTREAM_SERIES_FIRST];
    const char *argv[5];
    size_t argvlen[5];

    ngx_http_echostream_series_key_t key; /* in the answer cache */
} ngx_http_echostream_series_t;

static ngx_int_t
ngx_http_echostream_series_read(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_series_checked(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_series_done(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res);
static ngx_int_t ngx_http_echostream_series_check_replies(
    ngx_http_echostream_api_ctx_t *ctx, ngx_http_echostream_redis_result_t *res,
    ngx_str_t **dv, ngx_uint_t *cacheable);
static int64_t
ngx_http_echostream_series_hash(const ngx_http_echostream_series_t *s,
                                int64_t t, u_char *part);
static ngx_int_t
ngx_http_echostream_series_fields(ngx_http_echostream_series_t *s,
                                  redisReply *rep, int64_t base,
                                  int64_t *values, ngx_uint_t *bad);
static void ngx_http_echostream_series_values(ngx_http_echostream_series_t *s,
                                              redisReply *rep, ngx_uint_t first,
                                              int64_t *values, ngx_uint_t *bad);
static void ngx_http_echostream_series_send(ngx_http_echostream_api_ctx_t *ctx,
                                            ngx_buf_t *head, ngx_buf_t *points);

/* the counters of a bucket, in the order of the points' six numbers */
static const char *ngx_http_echostream_series_counters[] = {"n",   "pos", "neg",
                                                            "neu", "mix", "cs"};

/* "MM:n", "MM:pos", … for every bucket number MM (all below 60) */
static char
    ngx_http_echostream_series_field[60][NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS][8];
static size_t
    ngx_http_echostream_series_flen[60][NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS];
static ngx_uint_t ngx_http_echostream_series_ready;

static void ngx_http_echostream_series_fields_init(void);

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
 * Queues the whole read: HEXISTS, GET of the data version, one command per
 * bucket hash. NGX_ERROR when memory ran out (nothing queued).
 */
static ngx_int_t
ngx_http_echostream_series_read(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_series_t *s = ctx->data;
    ngx_http_echostream_redis_cmd_t *cmds;
    ngx_uint_t i, j, b, c, p, nargs, whole;
    ngx_str_t *topic, key;
    const char **argv;
    size_t *argvlen;
    int64_t base, prev, current, elapsed;
    u_char part[NGX_HTTP_ECHOSTREAM_SERIES_PART];

    topic = &ctx->params[0];

    if (!ngx_http_echostream_series_ready) {
        ngx_http_echostream_series_fields_init();
    }

    /* at most one hash per 28 points (the shortest month), plus the ends */
    c = s->npoints / 24 + 2 + NGX_HTTP_ECHOSTREAM_SERIES_FIRST;
    nargs = 2 * c + NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS * s->npoints;
    cmds =
        ngx_palloc(ctx->r->pool, c * sizeof(ngx_http_echostream_redis_cmd_t));
    s->cmd =
        ngx_palloc(ctx->r->pool, c * sizeof(ngx_http_echostream_series_cmd_t));
    argv = ngx_palloc(ctx->r->pool, nargs * sizeof(char *));
    argvlen = ngx_palloc(ctx->r->pool, nargs * sizeof(size_t));
    if (cmds == NULL || s->cmd == NULL || argv == NULL || argvlen == NULL) {
        return NGX_ERROR;
    }

    /* the version is read before the buckets: the data is at least as new */
    cmds[0] = s->check[0];
    cmds[1] = s->check[1];

    /* the hash still filling, read whole while Redis keeps it as a
     * listpack (hash-max-listpack-entries, 128 by default) */
    current = ngx_http_echostream_series_hash(s, s->now, part);
    elapsed =
        (s->now - current) / s->step->step + (s->step->res == 'd' ? 0 : 1);
    whole = (elapsed * NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS <=
             NGX_HTTP_ECHOSTREAM_SERIES_LISTPACK);

    /* one command per hash the points fall in */
    c = NGX_HTTP_ECHOSTREAM_SERIES_FIRST - 1;
    j = 0;
    prev = -1;
    for (p = 0; p < s->npoints; p++) {
        base = ngx_http_echostream_series_hash(
            s, s->from + (int64_t)p * s->step->step, part);

        if (base != prev) {
            if (ngx_http_echostream_api_key(
                    ctx, &key,
                    s->step->res == 'm'   ? ES_TK_SERIES_MINUTE
                    : s->step->res == 'h' ? ES_TK_SERIES_HOUR
                                          : ES_TK_SERIES_DAY,
                    (const char *)topic->data, (const char *)part) != NGX_OK) {
                return NGX_ERROR;
            }

            c++;
            s->cmd[c].base = base;
            s->cmd[c].first = p;
            s->cmd[c].count = 0;
            s->cmd[c].all = (whole && base == current);
            cmds[c].argc = 2;
            cmds[c].argv = &argv[j];
            cmds[c].argvlen = &argvlen[j];
            argv[j] = s->cmd[c].all ? "HGETALL" : "HMGET";
            argvlen[j] = s->cmd[c].all ? 7 : 5;
            argv[j + 1] = (const char *)key.data;
            argvlen[j + 1] = key.len;
            j += 2;
            prev = base;
        }

        s->cmd[c].count++;
        if (s->cmd[c].all) {
            continue;
        }

        b = (ngx_uint_t)((s->from + (int64_t)p * s->step->step - base) /
                         s->step->step);
        for (i = 0; i < NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS; i++) {
            argv[j] = ngx_http_echostream_series_field[b][i];
            argvlen[j++] = ngx_http_echostream_series_flen[b][i];
        }
        cmds[c].argc += NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS;
    }

    s->ncmds = c + 1;

    return ngx_http_echostream_api_redis(ctx, cmds, s->ncmds,
                                         ngx_http_echostream_series_done);
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

static void
ngx_http_echostream_series_done(ngx_http_echostream_api_ctx_t *ctx,
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
 * The hash holding the bucket that starts at t: its key part (YYYYMMDDHH,
 * YYYYMMDD or YYYYMM, NUL-terminated into part, which has room for
 * NGX_HTTP_ECHOSTREAM_SERIES_PART bytes); returns the time of the
 * hash's bucket number 0 (the hour, the day, the day before the month's
 * first: days are numbered from 1), so bucket k starts at that + k steps.
 */
static int64_t
ngx_http_echostream_series_hash(const ngx_http_echostream_series_t *s,
                                int64_t t, u_char *part)
{
    ngx_tm_t tm;
    int64_t base;
    u_char *p;

    ngx_gmtime((time_t)(t / 1000), &tm);

    switch (s->step->res) {
    case 'm':
        p = ngx_snprintf(part, NGX_HTTP_ECHOSTREAM_SERIES_PART - 1,
                         "%04d%02d%02d%02d", tm.ngx_tm_year, tm.ngx_tm_mon,
                         tm.ngx_tm_mday, tm.ngx_tm_hour);
        base = t - t % 3600000;
        break;
    case 'h':
        p = ngx_snprintf(part, NGX_HTTP_ECHOSTREAM_SERIES_PART - 1,
                         "%04d%02d%02d", tm.ngx_tm_year, tm.ngx_tm_mon,
                         tm.ngx_tm_mday);
        base = t - t % 86400000;
        break;
    default:
        p = ngx_snprintf(part, NGX_HTTP_ECHOSTREAM_SERIES_PART - 1, "%04d%02d",
                         tm.ngx_tm_year, tm.ngx_tm_mon);
        base = t - t % 86400000 - (int64_t)tm.ngx_tm_mday * 86400000;
        break;
    }

    *p = '\0';
    return base;
}

/*
 * Stores the counters of one HGETALL reply that fall in the range into
 * values (six per point). A field is "<bucket>:<counter>", bucket two
 * digits; fields of buckets outside the range are skipped, malformed
 * ones counted in *bad. NGX_ERROR when the reply is not a hash.
 */
static ngx_int_t
ngx_http_echostream_series_fields(ngx_http_echostream_series_t *s,
                                  redisReply *rep, int64_t base,
                                  int64_t *values, ngx_uint_t *bad)
{
    ngx_uint_t i, k, bucket, max;
    redisReply *f;
    int64_t t, end;
    size_t len;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0) {
        return NGX_ERROR;
    }

    max = s->step->res == 'm' ? 59 : (s->step->res == 'h' ? 23 : 31);
    end = s->from + (int64_t)s->npoints * s->step->step;

    for (i = 0; i < rep->elements; i += 2) {
        f = rep->element[i];

        if (f->type != REDIS_REPLY_STRING || f->len < 4 || f->len > 6 ||
            f->str[0] < '0' || f->str[0] > '9' || f->str[1] < '0' ||
            f->str[1] > '9' || f->str[2] != ':') {
            (*bad)++;
            continue;
        }

        bucket = (f->str[0] - '0') * 10 + (f->str[1] - '0');
        t = base + (int64_t)bucket * s->step->step;
        if (bucket > max || (bucket == 0 && s->step->res == 'd')) {
            (*bad)++;
            continue;
        }
        if (t < s->from || t >= end) {
            continue;
        }

        len = f->len - 3;
        for (k = 0; k < NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS; k++) {
            if (ngx_strlen(ngx_http_echostream_series_counters[k]) == len &&
                ngx_strncmp(f->str + 3, ngx_http_echostream_series_counters[k],
                            len) == 0) {
                break;
            }
        }
        if (k == NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS) {
            (*bad)++;
            continue;
        }

        values[((t - s->from) / s->step->step) *
                   NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS +
               k] = ngx_http_echostream_api_reply_int(rep->element[i + 1], bad);
    }

    return NGX_OK;
}

/*
 * Stores an HMGET reply (six fields per point, from point first on) into
 * values; nil (no comments in the bucket) stays 0.
 */
static void ngx_http_echostream_series_values(ngx_http_echostream_series_t *s,
                                              redisReply *rep, ngx_uint_t first,
                                              int64_t *values, ngx_uint_t *bad)
{
    int64_t *v;
    size_t i;

    v = &values[first * NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS];

    for (i = 0; i < rep->elements; i++) {
        if (rep->element[i]->type != REDIS_REPLY_NIL) {
            v[i] = ngx_http_echostream_api_reply_int(rep->element[i], bad);
        }
    }
}

static void ngx_http_echostream_series_fields_init(void)
{
    ngx_uint_t mm, i;
    u_char *p;

    for (mm = 0; mm < 60; mm++) {
        for (i = 0; i < NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS; i++) {
            p = ngx_snprintf((u_char *)ngx_http_echostream_series_field[mm][i],
                             7, "%02ui:%s", mm,
                             ngx_http_echostream_series_counters[i]);
            *p = '\0';
            ngx_http_echostream_series_flen[mm][i] =
                p - (u_char *)ngx_http_echostream_series_field[mm][i];
        }
    }

    ngx_http_echostream_series_ready = 1;
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
