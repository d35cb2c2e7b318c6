/*
 * ngx_http_echostream_stream.h - the state of one GET /stream connection,
 * shared by stream.c (opening it), stream_poll.c (its polls, writes and
 * end) and stream_entries.c (what a poll read and the events it makes).
 */

#ifndef _NGX_HTTP_ECHOSTREAM_STREAM_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_STREAM_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_stream.h"
#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_api_stream.h"

#define NGX_HTTP_ECHOSTREAM_STREAM_ID_LEN 12
/* "<ms>-<seq>", 20 digits each at most */
#define NGX_HTTP_ECHOSTREAM_STREAM_EID_LEN ES_REQ_ENTRY_ID_LEN

typedef enum {
    NGX_HTTP_ECHOSTREAM_STREAM_START = 0,
    NGX_HTTP_ECHOSTREAM_STREAM_RANGE,
    NGX_HTTP_ECHOSTREAM_STREAM_RECORDS
} ngx_http_echostream_stream_phase_e;

typedef struct {
    u_char id[NGX_HTTP_ECHOSTREAM_STREAM_EID_LEN];
    size_t len;
    ngx_uint_t first; /* its ids in the poll's list */
    ngx_uint_t n;
} ngx_http_echostream_stream_entry_t;

typedef struct {
    /* first: the shared writer finds it through ctx->data */
    ngx_http_echostream_api_stream_t out;
    ngx_http_echostream_api_ctx_t *ctx;
    ngx_pool_t *page; /* replies and text of the current poll */

    ngx_str_t key; /* the tenant's live stream */

    /* the entry after which to read */
    u_char last[NGX_HTTP_ECHOSTREAM_STREAM_EID_LEN];
    size_t last_len;

    ngx_event_t tick;
    ngx_msec_t started;
    ngx_msec_t wrote; /* the last write, for keepalives */

    /* what the current poll read, in the page pool */
    ngx_http_echostream_stream_entry_t *entries;
    ngx_uint_t nentries;
    u_char (*ids)[NGX_HTTP_ECHOSTREAM_STREAM_ID_LEN];
    size_t *lens;
    u_char *hours; /* each id's creation hour YYYYMMDDHH, 10 bytes each */
    ngx_uint_t nids;

    ngx_http_echostream_stream_phase_e phase;
    unsigned resume : 1;  /* Last-Event-ID given */
    unsigned down : 1;    /* the error event was sent for this outage */
    unsigned more : 1;    /* the stream holds more than this poll read */
    unsigned counted : 1; /* holds one of the worker's stream places */
} ngx_http_echostream_stream_t;

/* stream.c: Redis answered the start, so the stream begins */
void ngx_http_echostream_stream_started(
    ngx_http_echostream_stream_t *st, ngx_http_echostream_redis_result_t *res);

/* stream_poll.c: a command of the poll, the poll timer, writes, the
 * client having taken them, waiting for the next poll */
ngx_int_t ngx_http_echostream_stream_redis(ngx_http_echostream_stream_t *st,
                                           int argc, const char **argv,
                                           const size_t *lens);
void ngx_http_echostream_stream_tick(ngx_event_t *ev);
void ngx_http_echostream_stream_send(ngx_http_echostream_stream_t *st,
                                     u_char *data, size_t len,
                                     ngx_uint_t static_data);
void ngx_http_echostream_stream_drained(ngx_http_echostream_api_stream_t *out);
void ngx_http_echostream_stream_idle(ngx_http_echostream_stream_t *st);

/* stream_entries.c: the XRANGE reply, the MGET reply */
ngx_int_t ngx_http_echostream_stream_range(ngx_http_echostream_stream_t *st,
                                           redisReply *rep);
ngx_int_t ngx_http_echostream_stream_events(ngx_http_echostream_stream_t *st,
                                            redisReply *rep);

#endif /* _NGX_HTTP_ECHOSTREAM_STREAM_H_INCLUDED_ */
