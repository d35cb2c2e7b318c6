/*
 * ngx_http_echostream_series.h - the state of one GET /topics/{id}/series,
 * shared by series.c (the version check, the cache and the answer) and
 * series_read.c (the read of the bucket hashes and their replies).
 */

#ifndef _NGX_HTTP_ECHOSTREAM_SERIES_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_SERIES_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_series.h"
#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_series_cache.h"

/* HEXISTS of the topic, GET of the data version, then the buckets */
#define NGX_HTTP_ECHOSTREAM_SERIES_FIRST 2

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

/* series_read.c: the whole read, and the counters of its replies */
ngx_int_t ngx_http_echostream_series_read(ngx_http_echostream_api_ctx_t *ctx);
ngx_int_t ngx_http_echostream_series_fields(ngx_http_echostream_series_t *s,
                                            redisReply *rep, int64_t base,
                                            int64_t *values, ngx_uint_t *bad);
void ngx_http_echostream_series_values(ngx_http_echostream_series_t *s,
                                       redisReply *rep, ngx_uint_t first,
                                       int64_t *values, ngx_uint_t *bad);

/* series.c: the whole read's replies (the read's continuation) */
void ngx_http_echostream_series_done(ngx_http_echostream_api_ctx_t *ctx,
                                     ngx_http_echostream_redis_result_t *res);

#endif /* _NGX_HTTP_ECHOSTREAM_SERIES_H_INCLUDED_ */
