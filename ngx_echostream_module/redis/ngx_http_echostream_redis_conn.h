/*
 * ngx_http_echostream_redis_conn.h - the per-worker Redis connection, shared
 * by the two halves of the Redis code: ngx_http_echostream_redis_conn.c
 * (connecting, reconnecting, the event adapter) and
 * ngx_http_echostream_redis.c (pipelines of requests). Not for routes: they
 * use ngx_http_echostream_redis.h.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_REDIS_CONN_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_REDIS_CONN_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "es_redis_url.h"

#define NGX_HTTP_ECHOSTREAM_REDIS_BACKOFF_MIN   100
#define NGX_HTTP_ECHOSTREAM_REDIS_BACKOFF_MAX   5000
#define NGX_HTTP_ECHOSTREAM_REDIS_CONNECT_LIMIT 3000
#define NGX_HTTP_ECHOSTREAM_REDIS_ERRLEN        160

typedef struct {
    redisAsyncContext *ac;  /* NULL while disconnected */
    ngx_connection_t *conn; /* nginx's view of ac's fd */
    es_redis_url *url;
    ngx_log_t *log;
    ngx_event_t reconnect;  /* back-off timer */
    ngx_event_t connect_to; /* connect attempt timeout */
    ngx_msec_t backoff;
    ngx_uint_t generation; /* counts connection attempts */
    ngx_uint_t replies;    /* replies received, for stall checks */
    ngx_uint_t libs_ready; /* function libraries confirmed on this one */
    unsigned connected : 1;
    unsigned closing : 1; /* inside redisAsyncFree */
    unsigned exiting : 1;
    unsigned started : 1;
    char error[NGX_HTTP_ECHOSTREAM_REDIS_ERRLEN];
} ngx_http_echostream_redis_mgr_t;

/* One connection per worker process: the state is a single static. */
extern ngx_http_echostream_redis_mgr_t ngx_http_echostream_redis_mgr;

/*
 * Frees the hiredis context now: every pending command is called back with
 * NULL, then the cleanup hook releases the nginx connection and schedules
 * the reconnect. why (may be NULL) becomes the reported error.
 */
void ngx_http_echostream_redis_drop(const char *why);

/* Writes why hiredis lost the connection into buf (NUL-terminated). */
void ngx_http_echostream_redis_lost(char *buf, size_t size,
                                    const redisAsyncContext *ac);

#endif /* _NGX_HTTP_ECHOSTREAM_REDIS_CONN_H_INCLUDED_ */
