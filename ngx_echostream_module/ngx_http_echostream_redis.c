/*
 * ngx_http_echostream_redis.c - pipelines of Redis commands for requests
 * (see ngx_http_echostream_redis.h for the handler contract) on the
 * worker's connection (ngx_http_echostream_redis_conn.c).
 *
 * hiredis 0.14 has no timer hook, so each pipeline arms its own nginx timer.
 * hiredis cannot forget a callback, so a pipeline that timed out (or whose
 * request went away) stays allocated, marked done, until hiredis has called
 * back for each of its commands: with the reply, or with NULL when the
 * context is freed. A timeout on a connection that has delivered nothing
 * since the pipeline was sent means the connection is stuck (paused server,
 * half-open TCP): it is dropped and reopened.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <time.h>

#include "ngx_http_echostream_module.h"
#include "ngx_http_echostream_redis.h"
#include "ngx_http_echostream_redis_conn.h"

typedef struct {
    ngx_event_t ev;        /* timeout, or posted failure */
    ngx_http_request_t *r; /* NULL once detached */
    ngx_pool_cleanup_t *cln;
    ngx_http_echostream_redis_handler_pt handler;
    void *data;
    redisReply **replies; /* in r->pool */
    ngx_uint_t n;
    ngx_uint_t got;
    ngx_uint_t outstanding; /* hiredis callbacks */
    ngx_uint_t generation;
    ngx_uint_t replies_at_send;
    ngx_msec_t timeout;
    double start_ms;
    unsigned done : 1;
    char error[NGX_HTTP_ECHOSTREAM_REDIS_ERRLEN];
} ngx_http_echostream_redis_req_t;

static void ngx_http_echostream_redis_reply(redisAsyncContext *ac, void *reply,
                                            void *privdata);
static void ngx_http_echostream_redis_timeout(ngx_event_t *ev);
static void ngx_http_echostream_redis_post_failure(ngx_event_t *ev);
static void ngx_http_echostream_redis_detach(void *data);
static void ngx_http_echostream_redis_finish(ngx_http_echostream_redis_req_t *q,
                                             const char *error);
static void
ngx_http_echostream_redis_release(ngx_http_echostream_redis_req_t *q);
static redisReply *ngx_http_echostream_redis_copy(ngx_pool_t *pool,
                                                  redisReply *src);
static double ngx_http_echostream_redis_now_ms(void);

ngx_int_t ngx_http_echostream_redis_command(
    ngx_http_request_t *r, ngx_http_echostream_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    ngx_http_echostream_redis_cmd_t cmd;

    cmd.argc = argc;
    cmd.argv = argv;
    cmd.argvlen = argvlen;

    return ngx_http_echostream_redis_pipeline(r, &cmd, 1, handler, data);
}

ngx_int_t ngx_http_echostream_redis_pipeline(
    ngx_http_request_t *r, ngx_http_echostream_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_echostream_redis_handler_pt handler, void *data)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    ngx_http_echostream_loc_conf_t *elcf;
    ngx_http_echostream_redis_req_t *q;
    ngx_pool_cleanup_t *cln;
    ngx_uint_t i;
    int rc;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_echostream_module);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    q = ngx_calloc(sizeof(ngx_http_echostream_redis_req_t), ngx_cycle->log);
    if (q == NULL) {
        return NGX_ERROR;
    }

    q->replies = ngx_pcalloc(r->pool, n * sizeof(redisReply *));
    if (q->replies == NULL) {
        ngx_free(q);
        return NGX_ERROR;
    }

    q->r = r;
    q->cln = cln;
    q->handler = handler;
    q->data = data;
    q->n = n;
    q->timeout = elcf->redis_timeout;
    q->start_ms = ngx_http_echostream_redis_now_ms();
    q->ev.data = q;
    q->ev.log = ngx_cycle->log;

    cln->handler = ngx_http_echostream_redis_detach;
    cln->data = q;

    r->main->count++;

    if (m->ac == NULL || m->closing || n == 0) {
        goto failed;
    }

    q->generation = m->generation;
    q->replies_at_send = m->replies;

    for (i = 0; i < n; i++) {
        rc = redisAsyncCommandArgv(m->ac, ngx_http_echostream_redis_reply, q,
                                   cmds[i].argc, cmds[i].argv, cmds[i].argvlen);
        if (rc != REDIS_OK) {
            break;
        }
        q->outstanding++;
    }

    if (i < n) {
        /* only a dying context refuses commands: the earlier ones of this
         * pipeline still get their NULL callbacks from hiredis */
        ngx_cpystrn((u_char *)q->error, (u_char *)"connection closing",
                    sizeof(q->error));
        q->done = 1;
        q->ev.handler = ngx_http_echostream_redis_post_failure;
        ngx_post_event(&q->ev, &ngx_posted_events);
        return NGX_OK;
    }

    /* the timer keeps a graceful shutdown waiting for the answer */
    q->ev.handler = ngx_http_echostream_redis_timeout;
    ngx_add_timer(&q->ev, q->timeout);

    return NGX_OK;

failed:

    ngx_cpystrn((u_char *)q->error,
                (u_char *)(n == 0 ? "empty pipeline" : m->error),
                sizeof(q->error));
    q->ev.handler = ngx_http_echostream_redis_post_failure;
    ngx_post_event(&q->ev, &ngx_posted_events);

    return NGX_OK;
}

static void ngx_http_echostream_redis_reply(redisAsyncContext *ac, void *reply,
                                            void *privdata)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    ngx_http_echostream_redis_req_t *q = privdata;
    redisReply *rr = reply;
    redisReply *copy;

    q->outstanding--;

    if (rr != NULL) {
        m->replies++;
        if (rr->type != REDIS_REPLY_ERROR) {
            /* a working connection ends the back-off */
            m->backoff = NGX_HTTP_ECHOSTREAM_REDIS_BACKOFF_MIN;
        }
    }

    if (q->done) {
        goto release;
    }

    if (rr == NULL) {
        /* a drop we started has its reason in m->error already */
        if (!m->closing) {
            ngx_http_echostream_redis_lost(q->error, sizeof(q->error), ac);
            ngx_http_echostream_redis_finish(q, q->error);

        } else {
            ngx_http_echostream_redis_finish(q, m->error);
        }
        goto release;
    }

    copy = ngx_http_echostream_redis_copy(q->r->pool, rr);
    if (copy == NULL) {
        ngx_http_echostream_redis_finish(q, "out of memory");
        goto release;
    }

    q->replies[q->got++] = copy;

    if (q->got == q->n) {
        ngx_http_echostream_redis_finish(q, NULL);
    }

release:

    if (q->done && q->outstanding == 0) {
        ngx_http_echostream_redis_release(q);
    }
}

static void ngx_http_echostream_redis_timeout(ngx_event_t *ev)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    ngx_http_echostream_redis_req_t *q = ev->data;
    ngx_uint_t stalled;
    u_char *p;

    stalled = (m->ac != NULL && m->generation == q->generation &&
               m->replies == q->replies_at_send);

    p = ngx_snprintf((u_char *)q->error, sizeof(q->error) - 1,
                     "no reply within %M ms", q->timeout);
    *p = '\0';

    if (q->r != NULL) {
        ngx_log_error(NGX_LOG_WARN, q->r->connection->log, 0,
                      "echostream redis: %s", q->error);
    }

    ngx_http_echostream_redis_finish(q, q->error);

    if (stalled) {
        /* frees q too, through the NULL callbacks, if still outstanding */
        ngx_http_echostream_redis_drop("no reply from redis, reconnecting");
    }
}

static void ngx_http_echostream_redis_post_failure(ngx_event_t *ev)
{
    ngx_http_echostream_redis_req_t *q = ev->data;

    ngx_http_echostream_redis_finish(q, q->error);

    if (q->outstanding == 0) {
        ngx_http_echostream_redis_release(q);
    }
}

/*
 * Calls the handler once (unless the request is gone or the worker exits)
 * and marks the pipeline done. The pipeline's memory stays until hiredis
 * has called back for every command it holds.
 */
static void ngx_http_echostream_redis_finish(ngx_http_echostream_redis_req_t *q,
                                             const char *error)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    ngx_http_echostream_redis_result_t res;
    ngx_http_request_t *r;
    ngx_connection_t *c;

    if (q->ev.timer_set) {
        ngx_del_timer(&q->ev);
    }

    if (q->done && q->r == NULL) {
        return;
    }

    r = q->r;
    q->done = 1;
    q->r = NULL;

    if (r == NULL) {
        return;
    }

    /* the request now ends by its own finalization, not by this cleanup */
    q->cln->handler = NULL;

    if (m->exiting) {
        return;
    }

    res.replies = error == NULL ? q->replies : NULL;
    res.n = q->n;
    res.error = error;
    res.latency_ms = ngx_http_echostream_redis_now_ms() - q->start_ms;

    c = r->connection;
    q->handler(r, q->data, &res);
    ngx_http_run_posted_requests(c);
}

/* Request pool cleanup: the request is gone, its handler must not run. */
static void ngx_http_echostream_redis_detach(void *data)
{
    ngx_http_echostream_redis_req_t *q = data;

    q->r = NULL;
    q->done = 1;

    if (q->ev.timer_set) {
        ngx_del_timer(&q->ev);
    }

    if (q->outstanding == 0) {
        ngx_http_echostream_redis_release(q);
    }
}

static void
ngx_http_echostream_redis_release(ngx_http_echostream_redis_req_t *q)
{
    if (q->ev.timer_set) {
        ngx_del_timer(&q->ev);
    }

    if (q->ev.posted) {
        ngx_delete_posted_event(&q->ev);
    }

    ngx_free(q);
}

/* A deep copy of a hiredis reply in pool; NULL when memory ran out. */
static redisReply *ngx_http_echostream_redis_copy(ngx_pool_t *pool,
                                                  redisReply *src)
{
    redisReply *dst;
    size_t i;

    dst = ngx_pcalloc(pool, sizeof(redisReply));
    if (dst == NULL) {
        return NULL;
    }

    dst->type = src->type;
    dst->integer = src->integer;
    dst->len = src->len;

    if (src->str != NULL) {
        dst->str = ngx_pnalloc(pool, src->len + 1);
        if (dst->str == NULL) {
            return NULL;
        }
        ngx_memcpy(dst->str, src->str, src->len);
        dst->str[src->len] = '\0';
    }

    if (src->elements > 0) {
        dst->element = ngx_palloc(pool, src->elements * sizeof(redisReply *));
        if (dst->element == NULL) {
            return NULL;
        }
        for (i = 0; i < src->elements; i++) {
            dst->element[i] =
                ngx_http_echostream_redis_copy(pool, src->element[i]);
            if (dst->element[i] == NULL) {
                return NULL;
            }
        }
        dst->elements = src->elements;
    }

    return dst;
}

/* Monotonic milliseconds with a fraction; clock_gettime() is a vDSO call. */
static double ngx_http_echostream_redis_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}
