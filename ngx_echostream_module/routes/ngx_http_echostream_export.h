/*
 * ngx_http_echostream_export.h - the state of one GET /export.csv, shared
 * by export.c, which starts the export and reads its pages, and
 * export_write.c, which sends them.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_EXPORT_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_EXPORT_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_api_stream.h"

#define NGX_HTTP_ECHOSTREAM_EXPORT_ID_LEN    12
#define NGX_HTTP_ECHOSTREAM_EXPORT_SCORE_LEN 32

typedef struct {
    /* first: the shared writer finds it through ctx->data */
    ngx_http_echostream_api_stream_t out;
    ngx_http_echostream_api_ctx_t *ctx;
    ngx_pool_t *page; /* replies and text of the current page */

    ngx_str_t topics;
    int64_t from, to; /* ms, [from, to) */

    /* after the last row read: its score, rows read with that score */
    u_char score[NGX_HTTP_ECHOSTREAM_EXPORT_SCORE_LEN];
    size_t score_len;
    ngx_uint_t ties;
    u_char id[NGX_HTTP_ECHOSTREAM_EXPORT_ID_LEN];
    size_t len;

    /* the valid ids of the current page, in the page pool */
    u_char (*ids)[NGX_HTTP_ECHOSTREAM_EXPORT_ID_LEN];
    size_t *lens;
    u_char *hours; /* each id's creation hour YYYYMMDDHH, 10 bytes each */
    ngx_uint_t nids;

    ngx_chain_t *head; /* the CSV header row, until it is sent */

    ngx_uint_t rows;    /* written so far, for the log */
    ngx_uint_t skipped; /* malformed members and records */

    unsigned started : 1; /* a row was read: the position is valid */
    unsigned header : 1;  /* the response header is out */
    unsigned last : 1;    /* the current page is the last */
    unsigned mget : 1;    /* the pending round trip is the MGET */
} ngx_http_echostream_export_t;

/* export.c: the next page's read */
ngx_int_t ngx_http_echostream_export_range(ngx_http_echostream_export_t *st);

/* export_write.c: a page's rows out, the page left, a failed export */
ngx_int_t ngx_http_echostream_export_page(ngx_http_echostream_export_t *st,
                                          redisReply *rep);
void ngx_http_echostream_export_next(ngx_http_echostream_api_stream_t *out);
void ngx_http_echostream_export_fail(ngx_http_echostream_export_t *st,
                                     ngx_http_echostream_redis_result_t *res);

#endif /* _NGX_HTTP_ECHOSTREAM_EXPORT_H_INCLUDED_ */
