/*
 * ngx_http_echostream_metrics.h - Prometheus counters of the API, kept in
 * shared memory so every worker adds to the same numbers
 * (ngx_http_echostream_metrics.c), and the per-worker gauges gathered in
 * a second zone (ngx_http_echostream_metrics_workers.c).
 */

#ifndef _NGX_HTTP_ECHOSTREAM_METRICS_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_METRICS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "core/ngx_http_echostream_module.h"

/* Adds the shared zone (once) at configuration time. */
ngx_int_t
ngx_http_echostream_metrics_zone(ngx_conf_t *cf,
                                 ngx_http_echostream_main_conf_t *emcf);

/* One answered request: route index (nroutes = no route), status, ms. */
void ngx_http_echostream_metrics_request(ngx_uint_t route, ngx_uint_t status,
                                         ngx_msec_t ms);

/* One token-cache lookup. */
void ngx_http_echostream_metrics_token(ngx_uint_t hit);

/* The per-worker gauges summed over the worker processes. */
typedef struct {
    ngx_uint_t workers;       /* processes that reported */
    ngx_uint_t redis_up;      /* of them, with their Redis connection up */
    ngx_uint_t jwks_keys_min; /* the fewest signing keys any holds */
    ngx_uint_t jwks_fetches;  /* JWKS fetches, all of them */
    ngx_uint_t jwks_failures;
} ngx_http_echostream_metrics_workers_t;

/* Adds the workers' zone at configuration time (with the counters'). */
ngx_int_t ngx_http_echostream_metrics_workers_zone(ngx_conf_t *cf);

/* In a worker: start publishing its gauges (init_process), stop (exit). */
void ngx_http_echostream_metrics_workers_start(ngx_cycle_t *cycle);
void ngx_http_echostream_metrics_workers_stop(void);

/* Copies this worker's gauges into its slot now. */
void ngx_http_echostream_metrics_workers_publish(void);

/* The sums over every worker that reported. */
void ngx_http_echostream_metrics_workers_sum(
    ngx_http_echostream_metrics_workers_t *out);

/*
 * Finishes a scrape whose module series are in own: reads the workers'
 * heartbeats and the streams from Redis, then sends both parts
 * (metrics_redis.c). Returns what the content handler returns.
 */
ngx_int_t ngx_http_echostream_metrics_redis(ngx_http_request_t *r,
                                            ngx_buf_t *own);

/*
 * The workers' families rendered from the HGETALL es:workers reply (NULL:
 * Redis did not answer, families without samples); NULL when memory ran
 * out (metrics_heartbeats.c).
 */
ngx_buf_t *ngx_http_echostream_metrics_heartbeats(ngx_http_request_t *r,
                                                  redisReply *all);

/* Sends out as the scrape's 200 answer (metrics.c). */
ngx_int_t ngx_http_echostream_metrics_send(ngx_http_request_t *r,
                                           ngx_chain_t *out);

#endif /* _NGX_HTTP_ECHOSTREAM_METRICS_H_INCLUDED_ */
