/*
 * ngx_http_echostream_metrics_redis.c - the part of /metrics that lives in
 * Redis: the workers' heartbeats (rendered by metrics_heartbeats.c) and the
 * length, consumer-group lag and pending count of EchoStream's streams.
 *
 *   echostream_metrics_redis_ok                      gauge, this scrape
 *   echostream_stream_length{stream}                 gauge
 *   echostream_stream_group_lag{stream,group}        gauge
 *   echostream_stream_group_pending{stream,group}    gauge
 *   echostream_dead_letters                          gauge
 *
 * One pipelined round trip through the module's asynchronous adapter, as
 * /healthz does, so a scrape never blocks a worker process. Redis being
 * down (or slow past echostream_redis_timeout) does not fail the scrape:
 * the module's own series go out as always, echostream_redis_up says 0
 * (the connection state), echostream_metrics_redis_ok 0, the worker
 * families print their HELP and TYPE without samples and every stream
 * length 0. A stream that does not exist yet has length 0 and no groups;
 * the group series appear with the groups. Lag is NaN while Redis cannot
 * tell it (XINFO GROUPS answers nil after some deletions).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>

#include "es_keys.h"
#include "core/ngx_http_echostream_metrics.h"
#include "redis/ngx_http_echostream_redis.h"

/* the streams reported, and whether each has consumer groups */
static const struct {
    const char *key;
    ngx_uint_t groups;
} ngx_http_echostream_streams[] = {
    {ES_KEY_STREAM, 1},
    {ES_KEY_DLQ, 0},
    {ES_KEY_SUMMARY_REQUESTS, 1},
    {ES_KEY_DELIVER_QUEUE, 1},
};

#define NGX_HTTP_ECHOSTREAM_NSTREAMS                                           \
    (sizeof(ngx_http_echostream_streams) /                                     \
     sizeof(ngx_http_echostream_streams[0]))

/* HGETALL, then per stream XLEN and (with groups) XINFO GROUPS */
#define NGX_HTTP_ECHOSTREAM_MAX_CMDS (1 + 2 * NGX_HTTP_ECHOSTREAM_NSTREAMS)

static void
ngx_http_echostream_metrics_redis_done(ngx_http_request_t *r, void *data,
                                       ngx_http_echostream_redis_result_t *res);

ngx_int_t ngx_http_echostream_metrics_redis(ngx_http_request_t *r,
                                            ngx_buf_t *own)
{
    static const char *hgetall[] = {"HGETALL", ES_KEY_WORKERS};
    ngx_http_echostream_redis_cmd_t cmds[NGX_HTTP_ECHOSTREAM_MAX_CMDS];
    ngx_http_echostream_redis_result_t none;
    const char **argv;
    ngx_uint_t i, n;

    n = 0;
    cmds[n].argc = 2;
    cmds[n].argv = hgetall;
    cmds[n++].argvlen = NULL;

    argv = ngx_palloc(r->pool,
                      5 * NGX_HTTP_ECHOSTREAM_NSTREAMS * sizeof(const char *));
    if (argv == NULL) {
        goto alone;
    }

    for (i = 0; i < NGX_HTTP_ECHOSTREAM_NSTREAMS; i++) {
        argv[0] = "XLEN";
        argv[1] = ngx_http_echostream_streams[i].key;
        cmds[n].argc = 2;
        cmds[n].argv = argv;
        cmds[n++].argvlen = NULL;
        argv += 2;

        if (ngx_http_echostream_streams[i].groups) {
            argv[0] = "XINFO";
            argv[1] = "GROUPS";
            argv[2] = ngx_http_echostream_streams[i].key;
            cmds[n].argc = 3;
            cmds[n].argv = argv;
            cmds[n++].argvlen = NULL;
            argv += 3;
        }
    }

    if (ngx_http_echostream_redis_pipeline(
            r, cmds, n, ngx_http_echostream_metrics_redis_done, own) ==
        NGX_OK) {
        return NGX_DONE;
    }

alone:

    /* out of memory queueing: answer with what is known, no Redis part */
    ngx_memzero(&none, sizeof(none));
    none.error = "out of memory";
    r->main->count++; /* as the pipeline would have; done() finalizes */
    ngx_http_echostream_metrics_redis_done(r, own, &none);
    return NGX_DONE;
}

/* The integer field name of a flat key/value reply, or NaN. */
static double ngx_http_echostream_group_field(redisReply *g, const char *name)
{
    ngx_uint_t i;
    redisReply *k, *v;

    if (g->type != REDIS_REPLY_ARRAY) {
        return NAN;
    }

    for (i = 0; i + 1 < g->elements; i += 2) {
        k = g->element[i];
        v = g->element[i + 1];
        if ((k->type == REDIS_REPLY_STRING || k->type == REDIS_REPLY_STATUS) &&
            k->len == ngx_strlen(name) &&
            ngx_strncmp(k->str, name, k->len) == 0) {
            return v->type == REDIS_REPLY_INTEGER ? (double)v->integer : NAN;
        }
    }

    return NAN;
}

/* The group's name, escaped for a label (group names are configured). */
static u_char *ngx_http_echostream_group_name(redisReply *g, u_char *buf,
                                              size_t size)
{
    ngx_uint_t i;
    size_t j, o;
    redisReply *k, *v;

    buf[0] = '\0';
    for (i = 0; g->type == REDIS_REPLY_ARRAY && i + 1 < g->elements; i += 2) {
        k = g->element[i];
        v = g->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && k->len == 4 &&
            ngx_strncmp(k->str, "name", 4) == 0 &&
            v->type == REDIS_REPLY_STRING) {
            for (j = 0, o = 0; j < v->len && o + 3 < size; j++) {
                if (v->str[j] == '"' || v->str[j] == '\\') {
                    buf[o++] = '\\';
                    buf[o++] = (u_char)v->str[j];
                } else if (v->str[j] == '\n') {
                    buf[o++] = '\\';
                    buf[o++] = 'n';
                } else {
                    buf[o++] = (u_char)v->str[j];
                }
            }
            buf[o] = '\0';
        }
    }

    return buf;
}

static u_char *ngx_http_echostream_nan_or(u_char *p, u_char *end, double v)
{
    if (isnan(v)) {
        return ngx_slprintf(p, end, "NaN\n");
    }
    return ngx_slprintf(p, end, "%L\n", (int64_t)v);
}

static void
ngx_http_echostream_metrics_redis_done(ngx_http_request_t *r, void *data,
                                       ngx_http_echostream_redis_result_t *res)
{
    redisReply *len[NGX_HTTP_ECHOSTREAM_NSTREAMS];
    redisReply *groups[NGX_HTTP_ECHOSTREAM_NSTREAMS];
    redisReply *all, *g;
    ngx_chain_t out[3];
    ngx_buf_t *own, *hb, *st;
    ngx_uint_t i, j, n, ok;
    long long dlq;
    size_t size;
    u_char *p, *end, gname[130];

    own = data;
    all = NULL;
    ok = 0;
    ngx_memzero(len, sizeof(len));
    ngx_memzero(groups, sizeof(groups));

    if (res->replies != NULL) {
        ok = 1;
        n = 0;
        all = res->replies[n++];
        if (all->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "echostream metrics: HGETALL: %s", all->str);
            ok = 0;
        }
        for (i = 0; i < NGX_HTTP_ECHOSTREAM_NSTREAMS; i++) {
            len[i] = res->replies[n++];
            if (len[i]->type != REDIS_REPLY_INTEGER) {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "echostream metrics: XLEN %s: %s",
                              ngx_http_echostream_streams[i].key,
                              len[i]->type == REDIS_REPLY_ERROR ? len[i]->str
                                                                : "?");
                len[i] = NULL;
                ok = 0;
            }
            if (ngx_http_echostream_streams[i].groups) {
                /* an error here is mostly "no such key": no groups yet */
                groups[i] = res->replies[n++];
                if (groups[i]->type != REDIS_REPLY_ARRAY) {
                    groups[i] = NULL;
                }
            }
        }

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "echostream metrics: redis: %s",
                      res->error ? res->error : "no answer");
    }

    hb = ngx_http_echostream_metrics_heartbeats(r, ok ? all : NULL);

    size = 4096;
    for (i = 0; i < NGX_HTTP_ECHOSTREAM_NSTREAMS; i++) {
        size += (groups[i] ? groups[i]->elements : 0) * 2 * 400;
    }

    st = ngx_create_temp_buf(r->pool, size);
    if (st == NULL || hb == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = st->pos;
    end = st->end;

    p = ngx_slprintf(p, end,
                     "# HELP echostream_metrics_redis_ok 1 when this scrape "
                     "read the workers' heartbeats and the streams from "
                     "Redis.\n"
                     "# TYPE echostream_metrics_redis_ok gauge\n"
                     "echostream_metrics_redis_ok %ui\n"
                     "# HELP echostream_stream_length Entries in each "
                     "stream (0 before it exists).\n"
                     "# TYPE echostream_stream_length gauge\n",
                     ok);

    dlq = 0;
    for (i = 0; i < NGX_HTTP_ECHOSTREAM_NSTREAMS; i++) {
        p = ngx_slprintf(p, end, "echostream_stream_length{stream=\"%s\"} %L\n",
                         ngx_http_echostream_streams[i].key,
                         (int64_t)(len[i] ? len[i]->integer : 0));
        if (len[i] &&
            ngx_strcmp(ngx_http_echostream_streams[i].key, ES_KEY_DLQ) == 0) {
            dlq = len[i]->integer;
        }
    }

    p = ngx_slprintf(p, end,
                     "# HELP echostream_dead_letters Entries in the "
                     "dead-letter stream (" ES_KEY_DLQ ").\n"
                     "# TYPE echostream_dead_letters gauge\n"
                     "echostream_dead_letters %L\n"
                     "# HELP echostream_stream_group_lag Entries of the "
                     "stream not yet delivered to the consumer group.\n"
                     "# TYPE echostream_stream_group_lag gauge\n",
                     (int64_t)dlq);

    for (i = 0; i < NGX_HTTP_ECHOSTREAM_NSTREAMS; i++) {
        for (j = 0; groups[i] && j < groups[i]->elements; j++) {
            g = groups[i]->element[j];
            p = ngx_slprintf(
                p, end,
                "echostream_stream_group_lag{stream=\"%s\",group=\"%s\"} ",
                ngx_http_echostream_streams[i].key,
                ngx_http_echostream_group_name(g, gname, sizeof(gname)));
            p = ngx_http_echostream_nan_or(
                p, end, ngx_http_echostream_group_field(g, "lag"));
        }
    }

    p = ngx_slprintf(p, end,
                     "# HELP echostream_stream_group_pending Entries "
                     "delivered to the consumer group and not yet "
                     "acknowledged.\n"
                     "# TYPE echostream_stream_group_pending gauge\n");

    for (i = 0; i < NGX_HTTP_ECHOSTREAM_NSTREAMS; i++) {
        for (j = 0; groups[i] && j < groups[i]->elements; j++) {
            g = groups[i]->element[j];
            p = ngx_slprintf(
                p, end,
                "echostream_stream_group_pending{stream=\"%s\",group=\"%s\"} ",
                ngx_http_echostream_streams[i].key,
                ngx_http_echostream_group_name(g, gname, sizeof(gname)));
            p = ngx_http_echostream_nan_or(
                p, end, ngx_http_echostream_group_field(g, "pending"));
        }
    }

    st->last = p;

    out[0].buf = own;
    out[0].next = &out[1];
    out[1].buf = st;
    out[1].next = &out[2];
    out[2].buf = hb;
    out[2].next = NULL;

    ngx_http_finalize_request(r, ngx_http_echostream_metrics_send(r, out));
}
