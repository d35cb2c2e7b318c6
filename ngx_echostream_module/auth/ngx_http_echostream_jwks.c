/*
 * ngx_http_echostream_jwks.c - the worker's JSON Web Key Set: when to
 * fetch it, who waits for it, and swapping a new set in (see
 * ngx_http_echostream_jwks.h for the contract; the configuration is
 * ngx_http_echostream_jwks_conf.c, the HTTP exchange itself
 * ngx_http_echostream_http_client.c).
 *
 * One manager per worker process, a static like the Redis connection's.
 * Its one timer plans the next background fetch: "refresh" seconds after
 * a success, the back-off after a failure (1 s doubling to 30 s, always
 * while there is no set, otherwise only when refreshing is on). Requests
 * that need keys are queued on the manager, not on a fetch, so a request
 * that arrives while no set exists simply waits for the next attempt, and
 * every queued request is called back when a fetch ends, whatever its
 * outcome. Each queued request holds a pool cleanup that unlinks it if
 * the request is freed first.
 *
 * A graceful shutdown must not wait for a background fetch nobody needs,
 * but must not drop requests that wait for one either: the timers are
 * cancelable exactly while nobody is queued.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "auth/ngx_http_echostream_jwks.h"

#define NGX_HTTP_ECHOSTREAM_JWKS_BACKOFF_MIN 1000
#define NGX_HTTP_ECHOSTREAM_JWKS_BACKOFF_MAX 30000

typedef struct {
    ngx_queue_t queue;
    ngx_http_request_t *r;
    ngx_pool_cleanup_t *cln;
    ngx_http_echostream_jwks_handler_pt handler;
    void *data;
    unsigned queued : 1;
} ngx_http_echostream_jwks_waiter_t;

typedef struct {
    ngx_http_echostream_jwks_conf_t *conf;
    ngx_log_t *log;
    es_jwks *set;                          /* owned; NULL before the first */
    ngx_http_echostream_http_get_t *fetch; /* in flight, or NULL */
    ngx_queue_t waiters;
    ngx_event_t timer; /* the next background fetch */
    ngx_msec_t backoff;
    ngx_msec_t last_end; /* ngx_current_msec when a fetch last ended */
    ngx_http_echostream_jwks_stats_t stats;
    unsigned ended : 1; /* some fetch has ended */
    unsigned started : 1;
    unsigned exiting : 1;
} ngx_http_echostream_jwks_mgr_t;

static ngx_http_echostream_jwks_mgr_t ngx_http_echostream_jwks_mgr;

static ngx_int_t ngx_http_echostream_jwks_start(void);
static void ngx_http_echostream_jwks_timer_handler(ngx_event_t *ev);
static void
ngx_http_echostream_jwks_done(void *data,
                              ngx_http_echostream_http_result_t *res);
static void ngx_http_echostream_jwks_ended(ngx_uint_t ok);
static void ngx_http_echostream_jwks_bring_forward(void);
static void ngx_http_echostream_jwks_notify(void);
static void ngx_http_echostream_jwks_update_hold(void);
static void ngx_http_echostream_jwks_detach(void *data);

ngx_int_t
ngx_http_echostream_jwks_init_process(ngx_cycle_t *cycle,
                                      ngx_http_echostream_jwks_conf_t *jc)
{
    ngx_http_echostream_jwks_mgr_t *m = &ngx_http_echostream_jwks_mgr;
    ngx_http_core_loc_conf_t *clcf;
    ngx_http_conf_ctx_t *ctx;

    /* cache manager and loader processes serve no requests */
    if (ngx_process != NGX_PROCESS_WORKER &&
        ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }

    /*
     * The http level's resolver, read now rather than at configuration
     * time: the core module's merge has then run, which gives an http
     * level without "resolver" a resolver with no nameservers (the client
     * then keeps the configuration-time addresses). A resolver given only
     * inside a server block is not the fetcher's: it serves no location.
     */
    ctx = (ngx_http_conf_ctx_t *)cycle->conf_ctx[ngx_http_module.index];
    clcf = ctx->loc_conf[ngx_http_core_module.ctx_index];
    jc->target.resolver = clcf->resolver;
    jc->target.resolver_timeout = clcf->resolver_timeout;

    ngx_memzero(m, sizeof(ngx_http_echostream_jwks_mgr_t));
    m->conf = jc;
    m->log = cycle->log;
    m->backoff = NGX_HTTP_ECHOSTREAM_JWKS_BACKOFF_MIN;
    ngx_queue_init(&m->waiters);

    m->timer.handler = ngx_http_echostream_jwks_timer_handler;
    m->timer.data = m;
    m->timer.log = cycle->log;
    m->timer.cancelable = 1;

    m->started = 1;

    if (ngx_http_echostream_jwks_start() != NGX_OK) {
        ngx_http_echostream_jwks_ended(0);
    }

    return NGX_OK;
}

void ngx_http_echostream_jwks_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_echostream_jwks_mgr_t *m = &ngx_http_echostream_jwks_mgr;
    ngx_http_echostream_jwks_waiter_t *w;
    ngx_queue_t *q;

    if (!m->started || m->exiting) {
        return;
    }

    m->exiting = 1;

    if (m->timer.timer_set) {
        ngx_del_timer(&m->timer);
    }

    if (m->fetch != NULL) {
        ngx_http_echostream_http_abort(m->fetch);
        m->fetch = NULL;
    }

    /* requests are torn down with the process: call none of them */
    while (!ngx_queue_empty(&m->waiters)) {
        q = ngx_queue_head(&m->waiters);
        ngx_queue_remove(q);
        w = ngx_queue_data(q, ngx_http_echostream_jwks_waiter_t, queue);
        w->queued = 0;
        w->cln->handler = NULL;
    }

    if (m->set != NULL) {
        es_jwks_free(m->set);
        m->set = NULL;
    }
}

const es_jwks *ngx_http_echostream_jwks_get(void)
{
    return ngx_http_echostream_jwks_mgr.set;
}

void ngx_http_echostream_jwks_stats(ngx_http_echostream_jwks_stats_t *out)
{
    ngx_http_echostream_jwks_mgr_t *m = &ngx_http_echostream_jwks_mgr;

    *out = m->stats;
    out->keys = m->set != NULL ? es_jwks_count(m->set) : 0;
}

ngx_int_t
ngx_http_echostream_jwks_wait(ngx_http_request_t *r, const char *kid,
                              ngx_http_echostream_jwks_handler_pt handler,
                              void *data)
{
    ngx_http_echostream_jwks_mgr_t *m = &ngx_http_echostream_jwks_mgr;
    ngx_http_echostream_jwks_waiter_t *w;
    ngx_pool_cleanup_t *cln;
    ngx_msec_t penalty;

    if (!m->started || m->exiting) {
        return NGX_DECLINED;
    }

    penalty = (ngx_msec_t)m->conf->penalty * 1000;

    if (m->fetch == NULL && m->set != NULL && m->ended &&
        ngx_current_msec - m->last_end < penalty) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "echostream jwks: kid \"%s\" unknown, no refetch yet",
                       kid ? kid : "");
        return NGX_DECLINED;
    }

    w = ngx_palloc(r->pool, sizeof(ngx_http_echostream_jwks_waiter_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    if (m->fetch == NULL) {
        if (m->set != NULL) {
            if (ngx_http_echostream_jwks_start() != NGX_OK) {
                return NGX_ERROR;
            }

        } else {
            ngx_http_echostream_jwks_bring_forward();
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "echostream jwks: waiting for keys, kid \"%s\"",
                   kid ? kid : "");

    w->r = r;
    w->cln = cln;
    w->handler = handler;
    w->data = data;
    w->queued = 1;
    ngx_queue_insert_tail(&m->waiters, &w->queue);

    cln->handler = ngx_http_echostream_jwks_detach;
    cln->data = w;

    r->main->count++;

    ngx_http_echostream_jwks_update_hold();

    return NGX_OK;
}

/* Starts a fetch now; NGX_ERROR (logged) when memory ran out. */
static ngx_int_t ngx_http_echostream_jwks_start(void)
{
    ngx_http_echostream_jwks_mgr_t *m = &ngx_http_echostream_jwks_mgr;
    ngx_http_echostream_jwks_conf_t *jc = m->conf;

    m->fetch = ngx_http_echostream_http_get(
        &jc->target, jc->timeout, NGX_HTTP_ECHOSTREAM_JWKS_MAX_SIZE, m->log,
        !ngx_queue_empty(&m->waiters), ngx_http_echostream_jwks_done, m);

    if (m->fetch == NULL) {
        ngx_log_error(NGX_LOG_ERR, m->log, 0,
                      "echostream jwks: fetching \"%V\" failed: out of memory",
                      &jc->uri);
        return NGX_ERROR;
    }

    m->stats.fetches++;

    if (m->timer.timer_set) {
        ngx_del_timer(&m->timer);
    }

    return NGX_OK;
}

static void ngx_http_echostream_jwks_timer_handler(ngx_event_t *ev)
{
    ngx_http_echostream_jwks_mgr_t *m = ev->data;

    if (m->exiting || m->fetch != NULL) {
        return;
    }

    /* a shutting-down worker fetches only for requests still waiting */
    if ((ngx_exiting || ngx_quit || ngx_terminate) &&
        ngx_queue_empty(&m->waiters)) {
        return;
    }

    if (ngx_http_echostream_jwks_start() != NGX_OK) {
        ngx_http_echostream_jwks_ended(0);
    }
}

/* The fetch's outcome: a new set is swapped in only when it parses. */
static void
ngx_http_echostream_jwks_done(void *data,
                              ngx_http_echostream_http_result_t *res)
{
    ngx_http_echostream_jwks_mgr_t *m = data;
    ngx_str_t *uri = &m->conf->uri;
    es_jwks *set;
    char err[160];

    m->fetch = NULL;

    if (res->rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, m->log, 0,
                      "echostream jwks: fetching \"%V\" failed: %s", uri,
                      res->error);
        ngx_http_echostream_jwks_ended(0);
        return;
    }

    if (res->status != 200) {
        ngx_log_error(NGX_LOG_ERR, m->log, 0,
                      "echostream jwks: fetching \"%V\" failed: "
                      "status %ui%s",
                      uri, res->status,
                      (res->status >= 300 && res->status < 400)
                          ? " (redirects are not followed)"
                          : "");
        ngx_http_echostream_jwks_ended(0);
        return;
    }

    err[0] = '\0';
    set = es_jwks_parse((const char *)res->body, res->len, err, sizeof(err));

    if (set == NULL) {
        ngx_log_error(NGX_LOG_ERR, m->log, 0,
                      "echostream jwks: key set from \"%V\" refused: %s; %s",
                      uri, err[0] ? err : "no usable key",
                      m->set ? "keeping the previous keys" : "no keys yet");
        ngx_http_echostream_jwks_ended(0);
        return;
    }

    /* nothing borrows the old set across a return to the event loop */
    if (m->set != NULL) {
        es_jwks_free(m->set);
    }
    m->set = set;

    ngx_log_error(NGX_LOG_INFO, m->log, 0,
                  "echostream jwks: %uz keys from \"%V\"", es_jwks_count(set),
                  uri);

    ngx_http_echostream_jwks_ended(1);
}

/* After each fetch (or failure to start one): plan the next, call back. */
static void ngx_http_echostream_jwks_ended(ngx_uint_t ok)
{
    ngx_http_echostream_jwks_mgr_t *m = &ngx_http_echostream_jwks_mgr;
    ngx_http_echostream_jwks_conf_t *jc = m->conf;
    ngx_msec_t delay;

    m->ended = 1;
    m->last_end = ngx_current_msec;

    delay = 0;

    if (ok) {
        m->stats.last_ok = ngx_time();
        m->backoff = NGX_HTTP_ECHOSTREAM_JWKS_BACKOFF_MIN;

        if (jc->refresh > 0) {
            delay = (ngx_msec_t)jc->refresh * 1000;
        }

    } else {
        m->stats.failures++;

        if (m->set == NULL || jc->refresh > 0) {
            delay = m->backoff;
            m->backoff =
                ngx_min(m->backoff * 2, NGX_HTTP_ECHOSTREAM_JWKS_BACKOFF_MAX);
        }
    }

    if (delay > 0 && !(ngx_exiting || ngx_quit || ngx_terminate)) {
        ngx_add_timer(&m->timer, delay);
    }

    ngx_http_echostream_jwks_notify();
}

/*
 * No set yet and a request waits: the next attempt comes no later than
 * one second after the previous one ended.
 */
static void ngx_http_echostream_jwks_bring_forward(void)
{
    ngx_http_echostream_jwks_mgr_t *m = &ngx_http_echostream_jwks_mgr;
    ngx_msec_t since, delay;

    delay = 0;

    if (m->ended) {
        since = ngx_current_msec - m->last_end;
        if (since < NGX_HTTP_ECHOSTREAM_JWKS_BACKOFF_MIN) {
            delay = NGX_HTTP_ECHOSTREAM_JWKS_BACKOFF_MIN - since;
        }
    }

    if (m->timer.timer_set &&
        (ngx_msec_int_t)(m->timer.timer.key - (ngx_current_msec + delay)) <=
            0) {
        return;
    }

    ngx_add_timer(&m->timer, delay);
}

/*
 * Calls back every queued request. The queue is moved aside first: a
 * handler may queue its request again (a new fetch), and may free other
 * queued requests, whose cleanups then unlink them from the moved list.
 */
static void ngx_http_echostream_jwks_notify(void)
{
    ngx_http_echostream_jwks_mgr_t *m = &ngx_http_echostream_jwks_mgr;
    ngx_http_echostream_jwks_waiter_t *w;
    ngx_http_request_t *r;
    ngx_connection_t *c;
    ngx_queue_t ready, *q;

    ngx_queue_init(&ready);

    if (!ngx_queue_empty(&m->waiters)) {
        ngx_queue_add(&ready, &m->waiters);
        ngx_queue_init(&m->waiters);
    }

    ngx_http_echostream_jwks_update_hold();

    while (!ngx_queue_empty(&ready)) {
        q = ngx_queue_head(&ready);
        ngx_queue_remove(q);
        w = ngx_queue_data(q, ngx_http_echostream_jwks_waiter_t, queue);

        w->queued = 0;
        /* the request now ends by its own finalization */
        w->cln->handler = NULL;

        r = w->r;
        c = r->connection;

        w->handler(r, w->data);
        ngx_http_run_posted_requests(c);
    }
}

/* Keep a shutting-down worker alive only for requests that wait. */
static void ngx_http_echostream_jwks_update_hold(void)
{
    ngx_http_echostream_jwks_mgr_t *m = &ngx_http_echostream_jwks_mgr;
    ngx_uint_t hold;

    hold = !ngx_queue_empty(&m->waiters);

    m->timer.cancelable = hold ? 0 : 1;

    if (m->fetch != NULL) {
        ngx_http_echostream_http_hold(m->fetch, hold);
    }
}

/* Request pool cleanup: the request is gone, its handler must not run. */
static void ngx_http_echostream_jwks_detach(void *data)
{
    ngx_http_echostream_jwks_waiter_t *w = data;

    if (!w->queued) {
        return;
    }

    ngx_queue_remove(&w->queue);
    w->queued = 0;

    if (!ngx_http_echostream_jwks_mgr.exiting) {
        ngx_http_echostream_jwks_update_hold();
    }
}
