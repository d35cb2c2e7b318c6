/*
 * ngx_http_echostream_series_read.c - the read of a series from the
 * bucket hashes: which hash holds each point, the pipeline's command for
 * each hash, and their replies into the points' counters.
 *
 * The enrich worker keeps one hash per bucket group (docs/redis-keys.md):
 * minutes in hourly hashes (…:ts:<topic>:m:<YYYYMMDDHH>, fields "MM:n",
 * "MM:pos", …), hours in daily ones (:h:<YYYYMMDD>), days in monthly ones
 * (:d:<YYYYMM>). The read is one pipeline, one round trip: HEXISTS of the
 * topic, GET of the data version (series.c) and one command per hash
 * covering the range. For a hash of the past, HMGET of exactly the
 * fields of the wanted buckets: the reply holds only what is shown, in point
 * order. For the hash still filling (the current hour, day or month) while it
 * has at most 128 fields, HGETALL: Redis keeps such a hash as a listpack, where
 * each HMGET field is a linear search, so HMGET of its fields costs Redis many
 * times what walking it once does; a larger hash is a hash table, where HMGET
 * is cheap and returns half the elements. HGETALL replies are mapped by field
 * name ("MM:n" is bucket MM of the hash), fields outside the range dropped.
 *
 * The series route is the one `make bench` measures, so this avoids
 * per-point work: the field names are one static table, made once per
 * worker, and the command arguments two arrays from the pool. Redis
 * content is not trusted: a field that is not an integer reads as 0 and
 * is counted as bad, for series.c to log.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_series.h"
#include "api/ngx_http_echostream_api.h"
#include "routes/ngx_http_echostream_series.h"
#include "api/ngx_http_echostream_series_json.h"

/* the most fields Redis keeps in a listpack (hash-max-listpack-entries) */
#define NGX_HTTP_ECHOSTREAM_SERIES_LISTPACK 128
/* room for a bucket hash's date part ("YYYYMMDDHH") and its NUL */
#define NGX_HTTP_ECHOSTREAM_SERIES_PART 16

static int64_t
ngx_http_echostream_series_hash(const ngx_http_echostream_series_t *s,
                                int64_t t, u_char *part);

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

/*
 * Queues the whole read: HEXISTS, GET of the data version, one command per
 * bucket hash. NGX_ERROR when memory ran out (nothing queued).
 */
ngx_int_t ngx_http_echostream_series_read(ngx_http_echostream_api_ctx_t *ctx)
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
ngx_int_t ngx_http_echostream_series_fields(ngx_http_echostream_series_t *s,
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
void ngx_http_echostream_series_values(ngx_http_echostream_series_t *s,
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
