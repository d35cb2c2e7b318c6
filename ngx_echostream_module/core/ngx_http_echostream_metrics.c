/*
 * ngx_http_echostream_metrics.c - the "echostream_metrics" location:
 * Prometheus text exposition of the API's counters.
 *
 *   echostream_build_info{version,revision,built}     gauge, always 1
 *   echostream_http_requests_total{route,status}      counter
 *   echostream_http_responses_total{class}            counter (1xx…5xx)
 *   echostream_http_request_duration_seconds{route}   histogram
 *   echostream_token_cache_lookups_total{result}      counter (hit|miss)
 *   echostream_worker_processes                       gauge
 *   echostream_redis_up, echostream_redis_connected_workers   gauges
 *   echostream_jwks_keys, _fetches_total, _failures_total
 *   then what Redis holds: the workers' families from their heartbeats
 *   and the streams' figures (ngx_http_echostream_metrics_redis.c)
 *
 * The counters are fixed arrays of atomics in one shared zone (routes ×
 * a fixed list of statuses, routes × latency buckets): no lock, no
 * allocation per request, and the same numbers whichever worker answers.
 * The gauges of each worker's own state are summed over the workers
 * (ngx_http_echostream_metrics_workers.c). Every series is printed from
 * the start, zeros included (every route of the table, every status of
 * the list, every bucket), so a rate() or an alert never meets a series
 * that appears only after its first event. The location is reachable
 * only where the directive is configured; protect it with allow/deny like
 * stub_status.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_build_info.h"
#include "api/ngx_http_echostream_api.h"
#include "core/ngx_http_echostream_metrics.h"

#define NGX_HTTP_ECHOSTREAM_METRIC_ROUTES 64

static const ngx_uint_t ngx_http_echostream_statuses[] = {
    200, 201, 202, 204, 400, 401, 403, 404, 405, 409,
    413, 415, 422, 429, 499, 500, 502, 503, 504, 0 /* other */};

#define NGX_HTTP_ECHOSTREAM_NSTATUS                                            \
    (sizeof(ngx_http_echostream_statuses) /                                    \
     sizeof(ngx_http_echostream_statuses[0]))

/* upper bounds in milliseconds; the last bucket is +Inf */
static const ngx_uint_t ngx_http_echostream_buckets[] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

#define NGX_HTTP_ECHOSTREAM_NBUCKETS                                           \
    (sizeof(ngx_http_echostream_buckets) /                                     \
     sizeof(ngx_http_echostream_buckets[0]))

typedef struct {
    ngx_atomic_t requests[NGX_HTTP_ECHOSTREAM_METRIC_ROUTES]
                         [NGX_HTTP_ECHOSTREAM_NSTATUS];
    ngx_atomic_t latency[NGX_HTTP_ECHOSTREAM_METRIC_ROUTES]
                        [NGX_HTTP_ECHOSTREAM_NBUCKETS + 1];
    ngx_atomic_t latency_sum_ms[NGX_HTTP_ECHOSTREAM_METRIC_ROUTES];
    ngx_atomic_t classes[5]; /* 1xx … 5xx */
    ngx_atomic_t token_hits;
    ngx_atomic_t token_misses;
} ngx_http_echostream_metrics_sh_t;

static ngx_http_echostream_metrics_sh_t *ngx_http_echostream_metrics_sh;

static ngx_int_t ngx_http_echostream_metrics_init_zone(ngx_shm_zone_t *zone,
                                                       void *data);
static u_char *ngx_http_echostream_metrics_route_name(ngx_uint_t i);

ngx_int_t
ngx_http_echostream_metrics_zone(ngx_conf_t *cf,
                                 ngx_http_echostream_main_conf_t *emcf)
{
    ngx_str_t name = ngx_string("echostream_metrics");

    if (emcf->metrics_zone != NULL) {
        return NGX_OK;
    }

    if (ngx_http_echostream_nroutes + 1 > NGX_HTTP_ECHOSTREAM_METRIC_ROUTES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "echostream: too many routes for the metrics zone");
        return NGX_ERROR;
    }

    emcf->metrics_zone = ngx_shared_memory_add(
        cf, &name,
        ngx_align(sizeof(ngx_http_echostream_metrics_sh_t), ngx_pagesize) +
            8 * ngx_pagesize,
        &ngx_http_echostream_module);
    if (emcf->metrics_zone == NULL) {
        return NGX_ERROR;
    }

    emcf->metrics_zone->init = ngx_http_echostream_metrics_init_zone;

    return ngx_http_echostream_metrics_workers_zone(cf);
}

static ngx_int_t ngx_http_echostream_metrics_init_zone(ngx_shm_zone_t *zone,
                                                       void *data)
{
    ngx_slab_pool_t *shpool;

    shpool = (ngx_slab_pool_t *)zone->shm.addr;

    if (data != NULL) {
        /* reload: the counters go on */
        zone->data = data;
        ngx_http_echostream_metrics_sh = data;
        return NGX_OK;
    }

    if (zone->shm.exists) {
        zone->data = shpool->data;
        ngx_http_echostream_metrics_sh = shpool->data;
        return NGX_OK;
    }

    ngx_http_echostream_metrics_sh =
        ngx_slab_calloc(shpool, sizeof(ngx_http_echostream_metrics_sh_t));
    if (ngx_http_echostream_metrics_sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = ngx_http_echostream_metrics_sh;
    zone->data = ngx_http_echostream_metrics_sh;

    return NGX_OK;
}

void ngx_http_echostream_metrics_request(ngx_uint_t route, ngx_uint_t status,
                                         ngx_msec_t ms)
{
    ngx_http_echostream_metrics_sh_t *sh = ngx_http_echostream_metrics_sh;
    ngx_uint_t s, b;

    if (sh == NULL || route >= NGX_HTTP_ECHOSTREAM_METRIC_ROUTES) {
        return;
    }

    for (s = 0; s < NGX_HTTP_ECHOSTREAM_NSTATUS - 1; s++) {
        if (ngx_http_echostream_statuses[s] == status) {
            break;
        }
    }

    for (b = 0; b < NGX_HTTP_ECHOSTREAM_NBUCKETS; b++) {
        if (ms <= ngx_http_echostream_buckets[b]) {
            break;
        }
    }

    (void)ngx_atomic_fetch_add(&sh->requests[route][s], 1);
    (void)ngx_atomic_fetch_add(&sh->latency[route][b], 1);
    (void)ngx_atomic_fetch_add(&sh->latency_sum_ms[route], ms);

    if (status >= 100 && status < 600) {
        (void)ngx_atomic_fetch_add(&sh->classes[status / 100 - 1], 1);
    }
}

void ngx_http_echostream_metrics_token(ngx_uint_t hit)
{
    ngx_http_echostream_metrics_sh_t *sh = ngx_http_echostream_metrics_sh;

    if (sh == NULL) {
        return;
    }

    (void)ngx_atomic_fetch_add(hit ? &sh->token_hits : &sh->token_misses, 1);
}

static u_char *ngx_http_echostream_metrics_route_name(ngx_uint_t i)
{
    return (u_char *)(i < ngx_http_echostream_nroutes
                          ? ngx_http_echostream_routes[i].name
                          : "none");
}

ngx_int_t ngx_http_echostream_metrics_handler(ngx_http_request_t *r)
{
    ngx_http_echostream_metrics_sh_t *sh = ngx_http_echostream_metrics_sh;
    ngx_http_echostream_metrics_workers_t mw;
    ngx_uint_t i, s, b, total, cum;
    ngx_buf_t *buf;
    ngx_int_t rc;
    size_t size;
    u_char *p, *end;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (sh == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    /* every line of a route is under 160 bytes: the longest name, the
     * longest label and a 20-digit value */
    size = 8192 + (ngx_http_echostream_nroutes + 1) *
                      (NGX_HTTP_ECHOSTREAM_NSTATUS +
                       NGX_HTTP_ECHOSTREAM_NBUCKETS + 4) *
                      160;

    buf = ngx_create_temp_buf(r->pool, size);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = buf->pos;
    end = buf->end;

    p = ngx_slprintf(p, end,
                     "# HELP echostream_build_info The module's version, git "
                     "revision and build time.\n"
                     "# TYPE echostream_build_info gauge\n"
                     "echostream_build_info{version=\"%s\",revision=\"%s\","
                     "built=\"%s\"} 1\n",
                     ES_VERSION, ES_GIT_REV, ES_BUILD_DATE);

    p = ngx_slprintf(p, end,
                     "# HELP echostream_http_requests_total API requests by "
                     "route and status.\n"
                     "# TYPE echostream_http_requests_total counter\n");

    for (i = 0; i <= ngx_http_echostream_nroutes; i++) {
        for (s = 0; s < NGX_HTTP_ECHOSTREAM_NSTATUS; s++) {
            if (ngx_http_echostream_statuses[s] == 0) {
                p = ngx_slprintf(p, end,
                                 "echostream_http_requests_total{route=\"%s\","
                                 "status=\"other\"} %uA\n",
                                 ngx_http_echostream_metrics_route_name(i),
                                 sh->requests[i][s]);
            } else {
                p = ngx_slprintf(p, end,
                                 "echostream_http_requests_total{route=\"%s\","
                                 "status=\"%ui\"} %uA\n",
                                 ngx_http_echostream_metrics_route_name(i),
                                 ngx_http_echostream_statuses[s],
                                 sh->requests[i][s]);
            }
        }
    }

    p = ngx_slprintf(p, end,
                     "# HELP echostream_http_request_duration_seconds API "
                     "request latency.\n"
                     "# TYPE echostream_http_request_duration_seconds "
                     "histogram\n");

    for (i = 0; i <= ngx_http_echostream_nroutes; i++) {
        total = 0;
        for (b = 0; b <= NGX_HTTP_ECHOSTREAM_NBUCKETS; b++) {
            total += sh->latency[i][b];
        }

        cum = 0;
        for (b = 0; b < NGX_HTTP_ECHOSTREAM_NBUCKETS; b++) {
            cum += sh->latency[i][b];
            p = ngx_slprintf(p, end,
                             "echostream_http_request_duration_seconds_bucket"
                             "{route=\"%s\",le=\"%ui.%03ui\"} %ui\n",
                             ngx_http_echostream_metrics_route_name(i),
                             ngx_http_echostream_buckets[b] / 1000,
                             ngx_http_echostream_buckets[b] % 1000, cum);
        }

        p = ngx_slprintf(p, end,
                         "echostream_http_request_duration_seconds_bucket"
                         "{route=\"%s\",le=\"+Inf\"} %ui\n"
                         "echostream_http_request_duration_seconds_sum"
                         "{route=\"%s\"} %uA.%03uA\n"
                         "echostream_http_request_duration_seconds_count"
                         "{route=\"%s\"} %ui\n",
                         ngx_http_echostream_metrics_route_name(i), total,
                         ngx_http_echostream_metrics_route_name(i),
                         sh->latency_sum_ms[i] / 1000,
                         sh->latency_sum_ms[i] % 1000,
                         ngx_http_echostream_metrics_route_name(i), total);
    }

    p = ngx_slprintf(p, end,
                     "# HELP echostream_http_responses_total API responses by "
                     "status class.\n"
                     "# TYPE echostream_http_responses_total counter\n");

    for (s = 0; s < 5; s++) {
        p = ngx_slprintf(p, end,
                         "echostream_http_responses_total{class=\"%uixx\"} "
                         "%uA\n",
                         s + 1, sh->classes[s]);
    }

    /* this worker's own numbers first, so they are current */
    ngx_http_echostream_metrics_workers_publish();
    ngx_http_echostream_metrics_workers_sum(&mw);

    p = ngx_slprintf(
        p, end,
        "# HELP echostream_token_cache_lookups_total Verified-token cache "
        "lookups.\n"
        "# TYPE echostream_token_cache_lookups_total counter\n"
        "echostream_token_cache_lookups_total{result=\"hit\"} %uA\n"
        "echostream_token_cache_lookups_total{result=\"miss\"} %uA\n"
        "# HELP echostream_worker_processes nginx worker processes that "
        "report to these metrics.\n"
        "# TYPE echostream_worker_processes gauge\n"
        "echostream_worker_processes %ui\n"
        "# HELP echostream_redis_up 1 when every worker process's Redis "
        "connection is up.\n"
        "# TYPE echostream_redis_up gauge\n"
        "echostream_redis_up %ui\n"
        "# HELP echostream_redis_connected_workers Worker processes whose "
        "Redis connection is up.\n"
        "# TYPE echostream_redis_connected_workers gauge\n"
        "echostream_redis_connected_workers %ui\n"
        "# HELP echostream_jwks_keys Signing keys held by the worker "
        "process that holds the fewest.\n"
        "# TYPE echostream_jwks_keys gauge\n"
        "echostream_jwks_keys %ui\n"
        "# HELP echostream_jwks_fetches_total JWKS fetches by all worker "
        "processes.\n"
        "# TYPE echostream_jwks_fetches_total counter\n"
        "echostream_jwks_fetches_total %ui\n"
        "# HELP echostream_jwks_failures_total Failed JWKS fetches by all "
        "worker processes.\n"
        "# TYPE echostream_jwks_failures_total counter\n"
        "echostream_jwks_failures_total %ui\n",
        sh->token_hits, sh->token_misses, mw.workers,
        (ngx_uint_t)(mw.workers > 0 && mw.redis_up == mw.workers), mw.redis_up,
        mw.jwks_keys_min, mw.jwks_fetches, mw.jwks_failures);

    buf->last = p;

    /* the workers' and the streams' series follow, read from Redis */
    return ngx_http_echostream_metrics_redis(r, buf);
}

ngx_int_t ngx_http_echostream_metrics_send(ngx_http_request_t *r,
                                           ngx_chain_t *out)
{
    ngx_chain_t *cl;
    ngx_int_t rc;
    off_t len;

    len = 0;
    for (cl = out; cl != NULL; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
        cl->buf->last_buf = 0;
        cl->buf->last_in_chain = 0;
        if (cl->next == NULL) {
            cl->buf->last_buf = (r == r->main) ? 1 : 0;
            cl->buf->last_in_chain = 1;
        }
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}
