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
#include "redis/ngx_http_echostream_redis.h"

#define NGX_HTTP_ECHOSTREAM_REDIS_BACKOFF_MIN   100
#define NGX_HTTP_ECHOSTREAM_REDIS_BACKOFF_MAX   5000
#define NGX_HTTP_ECHOSTREAM_REDIS_CONNECT_LIMIT 3000
#define NGX_HTTP_ECHOSTREAM_REDIS_ERRLEN        160
/* per sentinel: connecting and its answer to get-master-addr-by-name */
#define NGX_HTTP_ECHOSTREAM_SENTINEL_LIMIT 1000

typedef struct {
    redisAsyncContext *ac;  /* NULL while disconnected */
    ngx_connection_t *conn; /* nginx's view of ac's fd */
    es_redis_url *url;
    ngx_http_echostream_redis_addr_t *conf_addr; /* at configuration time */
    ngx_log_t *log;

    /* where the next connection goes (ngx_http_echostream_redis_target.c):
     * looked up by nginx's resolver on each reconnect when one is set */
    ngx_resolver_t *resolver; /* NULL: use conf_addr */
    ngx_msec_t resolver_timeout;
    ngx_resolver_ctx_t *resolving; /* a lookup in flight */
    ngx_uint_t step;               /* what that lookup is for */
    char name[256];                /* the name looked up */
    char addr[NGX_SOCKADDR_STRLEN + 1];
    int port;

    /* redis+sentinel://: a short-lived connection asking one sentinel */
    redisAsyncContext *sac;
    ngx_connection_t *sconn;
    ngx_event_t sentinel_to;   /* its time limit */
    ngx_event_t sentinel_next; /* posted: go on once it is freed */
    int sentinel;              /* which one is asked */
    es_redis_addr primary;     /* the last answer */
    char sentinel_err[NGX_HTTP_ECHOSTREAM_REDIS_ERRLEN];
    unsigned sentinel_answered : 1;
    unsigned role_ok : 1; /* ROLE said master on this connection */

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

/*
 * The steps of a connection attempt: ngx_http_echostream_redis_connect()
 * calls find_target (ngx_http_echostream_redis_target.c), which ends in
 * open (m->addr and m->port are set) or fail (logged, back-off scheduled).
 */
void ngx_http_echostream_redis_find_target(void);
void ngx_http_echostream_redis_target_init(ngx_cycle_t *cycle);
void ngx_http_echostream_redis_target_stop(void);
void ngx_http_echostream_redis_open(void);
void ngx_http_echostream_redis_fail(const char *what, const char *detail);

/*
 * The hiredis event hooks for an nginx connection (privdata), and giving
 * such a connection back without closing its fd (hiredis closes it).
 */
void ngx_http_echostream_redis_add_read(void *privdata);
void ngx_http_echostream_redis_del_read(void *privdata);
void ngx_http_echostream_redis_add_write(void *privdata);
void ngx_http_echostream_redis_del_write(void *privdata);
void ngx_http_echostream_redis_release_conn(ngx_connection_t *c);
ngx_connection_t *ngx_http_echostream_redis_attach(
    redisAsyncContext *ac, ngx_log_t *log, void *data, ngx_event_handler_pt rd,
    ngx_event_handler_pt wr, void (*cleanup)(void *privdata));

/* Writes why hiredis lost the connection into buf (NUL-terminated). */
void ngx_http_echostream_redis_lost(char *buf, size_t size,
                                    const redisAsyncContext *ac);

#endif /* _NGX_HTTP_ECHOSTREAM_REDIS_CONN_H_INCLUDED_ */
