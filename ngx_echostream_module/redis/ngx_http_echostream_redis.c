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
 *
 * Replies are taken over instead of copied: hiredis frees a reply right
 * after its callback, so the callback moves the reply's top node into a
 * node of its own and leaves hiredis an empty integer node to free; the
 * tree (one malloc per element, already made by hiredis's parser) is
 * freed by freeReplyObject() when the replies' pool is destroyed. A deep
 * copy into the pool cost a fifth of the parse again on large replies.
 *
 * Two records per pipeline: the pipeline itself (heap, it may outlive
 * both pools while hiredis still owes callbacks) and its hold (in the
 * replies' pool: the replies, and the pool cleanup that frees them and
 * detaches the pipeline). When the replies' pool is not the request's,
 * a second cleanup on r->pool detaches too; whichever cleanup runs first
 * disarms the other.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <time.h>

#include "core/ngx_http_echostream_module.h"
#include "redis/ngx_http_echostream_redis.h"
#include "redis/ngx_http_echostream_redis_conn.h"
#include "es_redis_role.h"

typedef struct ngx_http_echostream_redis_req_s ngx_http_echostream_redis_req_t;

/* In the replies' pool. */
typedef struct {
    ngx_http_echostream_redis_req_t *q; /* NULL once answered or detached */
    redisReply **replies;               /* got of n, taken from hiredis */
    ngx_uint_t got;
} ngx_http_echostream_redis_hold_t;

struct ngx_http_echostream_redis_req_s {
    ngx_event_t ev;                         /* timeout, or posted failure */
    ngx_http_request_t *r;                  /* NULL once detached */
    ngx_http_echostream_redis_hold_t *hold; /* NULL once answered/detached */
    ngx_pool_cleanup_t *cln_r; /* on r->pool when the replies' is another */
    ngx_http_echostream_redis_handler_pt handler;
    void *data;
    ngx_uint_t n;
    ngx_uint_t outstanding; /* hiredis callbacks */
    ngx_uint_t generation;
    ngx_uint_t replies_at_send;
    ngx_msec_t timeout;
    double start_ms;
    unsigned done : 1;
    char error[NGX_HTTP_ECHOSTREAM_REDIS_ERRLEN];
};

static void ngx_http_echostream_redis_reply(redisAsyncContext *ac, void *reply,
                                            void *privdata);
static void ngx_http_echostream_redis_timeout(ngx_event_t *ev);
static void ngx_http_echostream_redis_post_failure(ngx_event_t *ev);
static void ngx_http_echostream_redis_hold_cleanup(void *data);
static void ngx_http_echostream_redis_request_cleanup(void *data);
static void
ngx_http_echostream_redis_detach(ngx_http_echostream_redis_req_t *q);
static void
ngx_http_echostream_redis_unlink(ngx_http_echostream_redis_req_t *q);
static void ngx_http_echostream_redis_finish(ngx_http_echostream_redis_req_t *q,
                                             const char *error);
static void
ngx_http_echostream_redis_release(ngx_http_echostream_redis_req_t *q);
static redisReply *ngx_http_echostream_redis_take(redisReply *rr);
static int ngx_http_echostream_redis_queue(
    redisAsyncContext *ac, ngx_http_echostream_redis_req_t *q, ngx_pool_t *pool,
    ngx_http_echostream_redis_cmd_t *cmd);
static u_char *ngx_http_echostream_redis_decimal(u_char *p, size_t v);
static double ngx_http_echostream_redis_now_ms(void);

ngx_int_t ngx_http_echostream_redis_command(
    ngx_http_request_t *r, ngx_http_echostream_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    ngx_http_echostream_redis_cmd_t cmd;

    cmd.argc = argc;
    cmd.argv = argv;
    cmd.argvlen = argvlen;

    return ngx_http_echostream_redis_pipeline_pool(r, r->pool, &cmd, 1, handler,
                                                   data);
}

ngx_int_t ngx_http_echostream_redis_pipeline(
    ngx_http_request_t *r, ngx_http_echostream_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_echostream_redis_handler_pt handler, void *data)
{
    return ngx_http_echostream_redis_pipeline_pool(r, r->pool, cmds, n, handler,
                                                   data);
}

ngx_int_t ngx_http_echostream_redis_pipeline_pool(
    ngx_http_request_t *r, ngx_pool_t *pool,
    ngx_http_echostream_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_echostream_redis_handler_pt handler, void *data)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    ngx_http_echostream_loc_conf_t *elcf;
    ngx_http_echostream_redis_hold_t *hold;
    ngx_http_echostream_redis_req_t *q;
    ngx_pool_cleanup_t *cln, *cln_r;
    ngx_uint_t i;
    int rc;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_echostream_module);

    cln = ngx_pool_cleanup_add(pool, sizeof(ngx_http_echostream_redis_hold_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    hold = cln->data;
    hold->q = NULL;
    hold->got = 0;
    hold->replies = ngx_palloc(pool, (n ? n : 1) * sizeof(redisReply *));
    if (hold->replies == NULL) {
        return NGX_ERROR;
    }

    cln_r = NULL;
    if (pool != r->pool) {
        cln_r = ngx_pool_cleanup_add(r->pool, 0);
        if (cln_r == NULL) {
            return NGX_ERROR;
        }
    }

    q = ngx_calloc(sizeof(ngx_http_echostream_redis_req_t), ngx_cycle->log);
    if (q == NULL) {
        return NGX_ERROR;
    }

    q->r = r;
    q->hold = hold;
    q->cln_r = cln_r;
    q->handler = handler;
    q->data = data;
    q->n = n;
    q->timeout = elcf->redis_timeout;
    q->start_ms = ngx_http_echostream_redis_now_ms();
    q->ev.data = q;
    q->ev.log = ngx_cycle->log;

    hold->q = q;
    cln->handler = ngx_http_echostream_redis_hold_cleanup;
    if (cln_r != NULL) {
        cln_r->handler = ngx_http_echostream_redis_request_cleanup;
        cln_r->data = q;
    }

    r->main->count++;

    if (m->ac == NULL || m->closing || n == 0) {
        goto failed;
    }

    q->generation = m->generation;
    q->replies_at_send = m->replies;

    for (i = 0; i < n; i++) {
        rc = ngx_http_echostream_redis_queue(m->ac, q, pool, &cmds[i]);
        if (rc != REDIS_OK) {
            break;
        }
        q->outstanding++;
    }

    if (i < n) {
        /* a dying context refuses commands (or memory ran out): the
         * earlier ones of this pipeline still get their callbacks */
        ngx_cpystrn((u_char *)q->error,
                    (u_char *)"connection closing or out of memory",
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
    redisReply *taken;

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

    if (es_redis_is_readonly(rr)) {
        /* the primary was demoted under us: find the new one */
        ngx_http_echostream_redis_drop("the node became a replica (READONLY)");
        ngx_http_echostream_redis_finish(q, m->error);
        goto release;
    }

    taken = ngx_http_echostream_redis_take(rr);
    if (taken == NULL) {
        ngx_http_echostream_redis_finish(q, "out of memory");
        goto release;
    }

    q->hold->replies[q->hold->got++] = taken;

    if (q->hold->got == q->n) {
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
 * has called back for every command it holds; the replies stay with their
 * pool.
 */
static void ngx_http_echostream_redis_finish(ngx_http_echostream_redis_req_t *q,
                                             const char *error)
{
    ngx_http_echostream_redis_mgr_t *m = &ngx_http_echostream_redis_mgr;
    ngx_http_echostream_redis_result_t res;
    ngx_http_echostream_redis_hold_t *hold;
    ngx_http_request_t *r;
    ngx_connection_t *c;

    if (q->ev.timer_set) {
        ngx_del_timer(&q->ev);
    }

    if (q->done && q->r == NULL) {
        return;
    }

    r = q->r;
    hold = q->hold;
    q->done = 1;

    /* the pools now end by their owners, not by these cleanups */
    ngx_http_echostream_redis_unlink(q);

    if (r == NULL || m->exiting) {
        return;
    }

    res.replies = error == NULL ? hold->replies : NULL;
    res.n = q->n;
    res.error = error;
    res.latency_ms = ngx_http_echostream_redis_now_ms() - q->start_ms;

    c = r->connection;
    q->handler(r, q->data, &res);
    ngx_http_run_posted_requests(c);
}

/* Pool cleanup of the replies' pool: frees them, detaches the pipeline. */
static void ngx_http_echostream_redis_hold_cleanup(void *data)
{
    ngx_http_echostream_redis_hold_t *hold = data;
    ngx_uint_t i;

    if (hold->q != NULL) {
        ngx_http_echostream_redis_detach(hold->q);
    }

    for (i = 0; i < hold->got; i++) {
        freeReplyObject(hold->replies[i]);
    }
    hold->got = 0;
}

/* Request pool cleanup (when the replies have a pool of their own). */
static void ngx_http_echostream_redis_request_cleanup(void *data)
{
    ngx_http_echostream_redis_detach(data);
}

/* A pool went away: the pipeline's handler must not run. */
static void ngx_http_echostream_redis_detach(ngx_http_echostream_redis_req_t *q)
{
    ngx_http_echostream_redis_unlink(q);
    q->done = 1;

    if (q->ev.timer_set) {
        ngx_del_timer(&q->ev);
    }

    if (q->outstanding == 0) {
        ngx_http_echostream_redis_release(q);
    }
}

/* Forgets the request and disarms both pool cleanups' hold on q. */
static void ngx_http_echostream_redis_unlink(ngx_http_echostream_redis_req_t *q)
{
    q->r = NULL;

    if (q->hold != NULL) {
        q->hold->q = NULL;
        q->hold = NULL;
    }

    if (q->cln_r != NULL) {
        q->cln_r->handler = NULL;
        q->cln_r = NULL;
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

/*
 * Takes reply rr over from hiredis, which frees rr itself right after the
 * callback: the node moves to one of ours and rr is left an integer (whose
 * freeReplyObject() frees only the node). The result is freed with
 * freeReplyObject(); NULL when memory ran out (rr stays hiredis's).
 */
static redisReply *ngx_http_echostream_redis_take(redisReply *rr)
{
    redisReply *node;

    node = ngx_alloc(sizeof(redisReply), ngx_cycle->log);
    if (node == NULL) {
        return NULL;
    }

    *node = *rr;

    rr->type = REDIS_REPLY_INTEGER;
    rr->str = NULL;
    rr->len = 0;
    rr->element = NULL;
    rr->elements = 0;

    return node;
}

/*
 * Queues one command: RESP is written here (on the stack, or in pool for
 * a long command) and handed to hiredis as formatted, which copies it into
 * its output buffer. hiredis's own formatting builds an sds string per
 * command with a printf-like pass per argument: on a series read of some
 * 150 arguments that was a measurable share of the request. Returns
 * hiredis's REDIS_OK or REDIS_ERR (a dying context, or no memory).
 */
static int ngx_http_echostream_redis_queue(redisAsyncContext *ac,
                                           ngx_http_echostream_redis_req_t *q,
                                           ngx_pool_t *pool,
                                           ngx_http_echostream_redis_cmd_t *cmd)
{
    u_char stack[1024], *buf, *p;
    size_t len, need;
    int i;

    need = 1 + NGX_INT_T_LEN + 2;
    for (i = 0; i < cmd->argc; i++) {
        len = cmd->argvlen ? cmd->argvlen[i] : ngx_strlen(cmd->argv[i]);
        need += 1 + NGX_SIZE_T_LEN + 2 + len + 2;
    }

    buf = need <= sizeof(stack) ? stack : ngx_pnalloc(pool, need);
    if (buf == NULL) {
        return REDIS_ERR;
    }

    p = buf;
    *p++ = '*';
    p = ngx_http_echostream_redis_decimal(p, (size_t)cmd->argc);
    for (i = 0; i < cmd->argc; i++) {
        len = cmd->argvlen ? cmd->argvlen[i] : ngx_strlen(cmd->argv[i]);
        *p++ = '$';
        p = ngx_http_echostream_redis_decimal(p, len);
        p = ngx_cpymem(p, cmd->argv[i], len);
        *p++ = '\r';
        *p++ = '\n';
    }

    return redisAsyncFormattedCommand(ac, ngx_http_echostream_redis_reply, q,
                                      (const char *)buf, p - buf);
}

/* Writes v in decimal and CRLF at p. */
static u_char *ngx_http_echostream_redis_decimal(u_char *p, size_t v)
{
    u_char digits[NGX_SIZE_T_LEN], *d;

    d = digits + sizeof(digits);
    do {
        *--d = (u_char)('0' + v % 10);
        v /= 10;
    } while (v != 0);

    p = ngx_cpymem(p, d, digits + sizeof(digits) - d);
    *p++ = '\r';
    *p++ = '\n';

    return p;
}

/* Monotonic milliseconds with a fraction; clock_gettime() is a vDSO call. */
static double ngx_http_echostream_redis_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}
