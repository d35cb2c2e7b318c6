/*
 * ngx_http_echostream_redis_events.c - hiredis's event hooks on nginx's
 * event loop, shared by the main Redis connection
 * (ngx_http_echostream_redis_conn.c) and the short-lived one that asks a
 * sentinel (ngx_http_echostream_redis_target.c). Each hiredis context gets
 * an nginx connection object for its fd (ev.data); hiredis owns and closes
 * the fd, so giving the object back never closes it. Events are
 * level-triggered: hiredis reads at most 16 KB per call, and under
 * edge-triggered epoll the rest of a large reply could sit unseen.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "redis/ngx_http_echostream_redis_conn.h"

/*
 * Gives a connecting hiredis context an nginx connection object for its fd
 * and hooks hiredis's events to it: rd and wr run hiredis's read and write
 * handlers, cleanup runs when hiredis frees the context. data becomes both
 * objects' data. NULL when nginx has no free connection object (the caller
 * frees the context).
 */
ngx_connection_t *ngx_http_echostream_redis_attach(
    redisAsyncContext *ac, ngx_log_t *log, void *data, ngx_event_handler_pt rd,
    ngx_event_handler_pt wr, void (*cleanup)(void *privdata))
{
    ngx_connection_t *c;

    c = ngx_get_connection(ac->c.fd, log);
    if (c == NULL) {
        return NULL;
    }

    c->data = data;
    c->read->handler = rd;
    c->write->handler = wr;
    c->read->log = log;
    c->write->log = log;

    ac->data = data;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_echostream_redis_add_read;
    ac->ev.delRead = ngx_http_echostream_redis_del_read;
    ac->ev.addWrite = ngx_http_echostream_redis_add_write;
    ac->ev.delWrite = ngx_http_echostream_redis_del_write;
    ac->ev.cleanup = cleanup;

    return c;
}

/* The hooks are idempotent, as hiredis expects. */

void ngx_http_echostream_redis_add_read(void *privdata)
{
    ngx_connection_t *c = privdata;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "echostream redis: adding read event failed");
        }
    }
}

void ngx_http_echostream_redis_del_read(void *privdata)
{
    ngx_connection_t *c = privdata;

    if (c->read->active) {
        (void)ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}

void ngx_http_echostream_redis_add_write(void *privdata)
{
    ngx_connection_t *c = privdata;

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) !=
            NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "echostream redis: adding write event failed");
        }
    }
}

void ngx_http_echostream_redis_del_write(void *privdata)
{
    ngx_connection_t *c = privdata;

    if (c->write->active) {
        (void)ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}

/*
 * Forgets an nginx connection's events (the kernel drops them with the fd
 * hiredis is about to close) and gives it back without closing the fd.
 */
void ngx_http_echostream_redis_release_conn(ngx_connection_t *c)
{
    if (c->read->active || c->read->disabled) {
        (void)ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active || c->write->disabled) {
        (void)ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    ngx_free_connection(c);
    c->fd = (ngx_socket_t)-1;
}
