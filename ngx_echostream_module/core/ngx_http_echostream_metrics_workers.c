/*
 * ngx_http_echostream_metrics_workers.c - the gauges of /metrics that
 * live in each worker process (its Redis connection, its signing keys and
 * JWKS fetches), gathered so every worker serves the same numbers.
 *
 * A shared zone holds one slot per worker process, indexed by nginx's
 * worker number (ngx_worker: the same index for a worker's replacement
 * after a crash or a reload). Each worker copies its own state into its
 * slot once a second and just before it answers a scrape; a scrape sums
 * the slots in use. A slot belongs to the pid written in it: a worker
 * leaving clears only its own, and one that is shutting down gracefully
 * (still finishing long responses after a reload) stops writing, so it
 * never overwrites its successor's slot. A worker's numbers are up to a
 * second old; the request counters (ngx_http_echostream_metrics.c) are
 * exact.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "auth/ngx_http_echostream_jwks.h"
#include "core/ngx_http_echostream_metrics.h"
#include "redis/ngx_http_echostream_redis_conn.h"

#define NGX_HTTP_ECHOSTREAM_METRIC_WORKERS 64
#define NGX_HTTP_ECHOSTREAM_METRIC_PUBLISH 1000 /* ms */

typedef struct {
    ngx_atomic_t pid; /* 0: unused */
    ngx_atomic_t redis_up;
    ngx_atomic_t jwks_keys;
    ngx_atomic_t jwks_fetches;
    ngx_atomic_t jwks_failures;
} ngx_http_echostream_metrics_slot_t;

typedef struct {
    ngx_http_echostream_metrics_slot_t slot[NGX_HTTP_ECHOSTREAM_METRIC_WORKERS];
} ngx_http_echostream_metrics_workers_sh_t;

static ngx_http_echostream_metrics_workers_sh_t *ngx_http_echostream_mw_sh;
static ngx_event_t ngx_http_echostream_mw_timer;

static ngx_int_t
ngx_http_echostream_metrics_workers_init_zone(ngx_shm_zone_t *zone, void *data);
static void ngx_http_echostream_metrics_workers_tick(ngx_event_t *ev);

ngx_int_t ngx_http_echostream_metrics_workers_zone(ngx_conf_t *cf)
{
    ngx_str_t name = ngx_string("echostream_metrics_workers");
    ngx_shm_zone_t *zone;

    zone = ngx_shared_memory_add(
        cf, &name,
        ngx_align(sizeof(ngx_http_echostream_metrics_workers_sh_t),
                  ngx_pagesize) +
            8 * ngx_pagesize,
        &ngx_http_echostream_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_echostream_metrics_workers_init_zone;

    return NGX_OK;
}

static ngx_int_t
ngx_http_echostream_metrics_workers_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t *shpool;

    shpool = (ngx_slab_pool_t *)zone->shm.addr;

    if (data != NULL) {
        zone->data = data;
        ngx_http_echostream_mw_sh = data;
        return NGX_OK;
    }

    if (zone->shm.exists) {
        zone->data = shpool->data;
        ngx_http_echostream_mw_sh = shpool->data;
        return NGX_OK;
    }

    ngx_http_echostream_mw_sh = ngx_slab_calloc(
        shpool, sizeof(ngx_http_echostream_metrics_workers_sh_t));
    if (ngx_http_echostream_mw_sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = ngx_http_echostream_mw_sh;
    zone->data = ngx_http_echostream_mw_sh;

    return NGX_OK;
}

/* This worker's slot, or NULL (no zone, or more workers than slots). */
static ngx_http_echostream_metrics_slot_t *
ngx_http_echostream_metrics_workers_own(void)
{
    if (ngx_http_echostream_mw_sh == NULL ||
        ngx_worker >= NGX_HTTP_ECHOSTREAM_METRIC_WORKERS) {
        return NULL;
    }

    return &ngx_http_echostream_mw_sh->slot[ngx_worker];
}

void ngx_http_echostream_metrics_workers_publish(void)
{
    ngx_http_echostream_metrics_slot_t *s;
    ngx_http_echostream_jwks_stats_t js;

    s = ngx_http_echostream_metrics_workers_own();
    if (s == NULL || ngx_exiting) {
        return;
    }

    ngx_http_echostream_jwks_stats(&js);

    s->redis_up =
        (ngx_atomic_uint_t)(ngx_http_echostream_redis_mgr.ac != NULL &&
                            ngx_http_echostream_redis_mgr.connected);
    s->jwks_keys = js.keys;
    s->jwks_fetches = js.fetches;
    s->jwks_failures = js.failures;

    /* last: a reader counts the slot once the values are in */
    ngx_memory_barrier();
    s->pid = (ngx_atomic_uint_t)ngx_pid;
}

void ngx_http_echostream_metrics_workers_start(ngx_cycle_t *cycle)
{
    ngx_event_t *ev = &ngx_http_echostream_mw_timer;

    if (ngx_http_echostream_mw_sh == NULL) {
        return;
    }

    ngx_http_echostream_metrics_workers_publish();

    ev->handler = ngx_http_echostream_metrics_workers_tick;
    ev->log = cycle->log;
    ev->data = NULL;
    /* never keeps a worker that is shutting down alive */
    ev->cancelable = 1;

    ngx_add_timer(ev, NGX_HTTP_ECHOSTREAM_METRIC_PUBLISH);
}

static void ngx_http_echostream_metrics_workers_tick(ngx_event_t *ev)
{
    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_echostream_metrics_workers_publish();
    ngx_add_timer(ev, NGX_HTTP_ECHOSTREAM_METRIC_PUBLISH);
}

void ngx_http_echostream_metrics_workers_stop(void)
{
    ngx_http_echostream_metrics_slot_t *s;

    if (ngx_http_echostream_mw_timer.timer_set) {
        ngx_del_timer(&ngx_http_echostream_mw_timer);
    }

    s = ngx_http_echostream_metrics_workers_own();
    if (s != NULL) {
        /* only if still ours: a successor may have taken it over */
        (void)ngx_atomic_cmp_set(&s->pid, (ngx_atomic_uint_t)ngx_pid, 0);
    }
}

void ngx_http_echostream_metrics_workers_sum(
    ngx_http_echostream_metrics_workers_t *out)
{
    ngx_http_echostream_metrics_slot_t *s;
    ngx_uint_t i, keys;

    ngx_memzero(out, sizeof(*out));

    if (ngx_http_echostream_mw_sh == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_ECHOSTREAM_METRIC_WORKERS; i++) {
        s = &ngx_http_echostream_mw_sh->slot[i];
        if (s->pid == 0) {
            continue;
        }

        ngx_memory_barrier();

        keys = (ngx_uint_t)s->jwks_keys;
        if (out->workers == 0 || keys < out->jwks_keys_min) {
            out->jwks_keys_min = keys;
        }

        out->workers++;
        out->redis_up += (ngx_uint_t)s->redis_up;
        out->jwks_fetches += (ngx_uint_t)s->jwks_fetches;
        out->jwks_failures += (ngx_uint_t)s->jwks_failures;
    }
}
