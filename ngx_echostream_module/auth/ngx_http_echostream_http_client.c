/*
 * ngx_http_echostream_http_client.c - one HTTP/1.1 GET over nginx's event
 * loop (see ngx_http_echostream_http_client.h for the contract).
 *
 * An exchange is a small state machine driven by the connection's events,
 * after an optional look-up of the host (ngx_http_echostream_http_resolve.c,
 * which may answer from inside the start call): connecting, TLS
 * handshake (nginx's own ngx_ssl code, which swaps in its
 * handshake handler and calls back when done), sending the request,
 * reading the response (parsed by ngx_http_echostream_http_response.c as
 * it arrives). nginx adds outgoing connections to epoll edge-triggered, so
 * every read loops until the socket says "again", and a readiness seen
 * early (a read event while still sending) is kept in the event's ready
 * flag until the reader gets there.
 *
 * Failures are reported through the callback only, never from inside
 * ngx_http_echostream_http_get(): a connect() refused at once is posted to
 * the event loop. One timer bounds the whole exchange.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "auth/ngx_http_echostream_http_client.h"
#include "auth/ngx_http_echostream_http_resolve.h"
#include "auth/ngx_http_echostream_http_response.h"

/* where an exchange is */
enum {
    NGX_HTTP_ECHOSTREAM_HTTP_CONNECTING = 0,
    NGX_HTTP_ECHOSTREAM_HTTP_HANDSHAKE,
    NGX_HTTP_ECHOSTREAM_HTTP_SENDING,
    NGX_HTTP_ECHOSTREAM_HTTP_READING
};

struct ngx_http_echostream_http_get_s {
    ngx_pool_t *pool; /* holds this struct and every buffer */
    ngx_log_t *log;
    ngx_http_echostream_http_target_t *target;
    ngx_peer_connection_t pc;
    ngx_event_t timer; /* the whole exchange */
    ngx_event_t post;  /* a failure found inside the start call */
    ngx_msec_t timeout;
    ngx_http_echostream_http_done_pt done;
    void *data;

    u_char *out; /* the request, pos to last still to send */
    u_char *out_last;
    ngx_http_echostream_http_response_t resp;

    ngx_uint_t state;
    ngx_resolver_ctx_t *rctx; /* a lookup in flight, or NULL */
    ngx_addr_t *addrs;        /* the target's, or those just looked up */
    ngx_uint_t naddrs;
    ngx_uint_t addr; /* the address being tried */
    char error[NGX_HTTP_ECHOSTREAM_HTTP_ERRLEN];
};

typedef ngx_http_echostream_http_get_t ngx_http_echostream_get_t;

static void ngx_http_echostream_http_resolved(void *data, ngx_addr_t *addrs,
                                              ngx_uint_t naddrs);
static ngx_int_t ngx_http_echostream_http_connect(ngx_http_echostream_get_t *g);
static void ngx_http_echostream_http_handler(ngx_event_t *ev);
static void ngx_http_echostream_http_connected(ngx_http_echostream_get_t *g);
static void ngx_http_echostream_http_ssl_handshake_handler(ngx_connection_t *c);
static void
ngx_http_echostream_http_ssl_handshaked(ngx_http_echostream_get_t *g);
static ngx_int_t
ngx_http_echostream_http_check_host(ngx_http_echostream_get_t *g);
static void ngx_http_echostream_http_send(ngx_http_echostream_get_t *g);
static void ngx_http_echostream_http_read(ngx_http_echostream_get_t *g);
static void ngx_http_echostream_http_timeout(ngx_event_t *ev);
static void ngx_http_echostream_http_post_failure(ngx_event_t *ev);
static void ngx_http_echostream_http_fail(ngx_http_echostream_get_t *g,
                                          ngx_err_t err, const char *fmt, ...);
static void ngx_http_echostream_http_finish(ngx_http_echostream_get_t *g,
                                            ngx_int_t rc);
static void ngx_http_echostream_http_release(ngx_http_echostream_get_t *g);

ngx_http_echostream_http_get_t *
ngx_http_echostream_http_get(ngx_http_echostream_http_target_t *t,
                             ngx_msec_t timeout, size_t max_body,
                             ngx_log_t *log, ngx_uint_t hold,
                             ngx_http_echostream_http_done_pt done, void *data)
{
    ngx_http_echostream_get_t *g;
    ngx_pool_t *pool;
    size_t len;

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NULL;
    }

    g = ngx_pcalloc(pool, sizeof(ngx_http_echostream_get_t));
    if (g == NULL) {
        goto nomem;
    }

    len = sizeof("GET  HTTP/1.1\r\nHost: \r\n") - 1 + t->path.len +
          t->host_header.len +
          sizeof("Accept: application/json\r\nConnection: close\r\n"
                 "User-Agent: echostream\r\n\r\n") -
          1;

    g->out = ngx_pnalloc(pool, len);
    if (g->out == NULL || ngx_http_echostream_http_response_init(
                              &g->resp, pool, max_body, (u_char *)g->error,
                              sizeof(g->error)) != NGX_OK) {
        goto nomem;
    }

    g->out_last = ngx_sprintf(g->out,
                              "GET %V HTTP/1.1\r\nHost: %V\r\n"
                              "Accept: application/json\r\n"
                              "Connection: close\r\n"
                              "User-Agent: echostream\r\n\r\n",
                              &t->path, &t->host_header);

    g->pool = pool;
    g->log = log;
    g->target = t;
    g->addrs = t->addrs;
    g->naddrs = t->naddrs;
    g->timeout = timeout;
    g->done = done;
    g->data = data;

    g->timer.handler = ngx_http_echostream_http_timeout;
    g->timer.data = g;
    g->timer.log = log;
    g->timer.cancelable = hold ? 0 : 1;

    g->post.handler = ngx_http_echostream_http_post_failure;
    g->post.data = g;
    g->post.log = log;

    ngx_add_timer(&g->timer, timeout);

    switch (ngx_http_echostream_http_resolve(t, pool, log, g->timer.cancelable,
                                             ngx_http_echostream_http_resolved,
                                             g, &g->rctx)) {
    case NGX_OK:
        /* the look-up's handler connects (perhaps it already has) */
        return g;
    case NGX_ERROR:
        goto nomem;
    default: /* NGX_DECLINED: the configuration-time addresses */
        break;
    }

    if (ngx_http_echostream_http_connect(g) != NGX_OK) {
        /* the caller hears of it from the event loop, never from here */
        ngx_post_event(&g->post, &ngx_posted_events);
    }

    return g;

nomem:

    if (g != NULL && g->timer.timer_set) {
        ngx_del_timer(&g->timer);
    }
    ngx_destroy_pool(pool);
    return NULL;
}

/* The look-up's outcome: connect, or post the failure (this may run
 * inside ngx_http_echostream_http_get(), which never reports one). */
static void ngx_http_echostream_http_resolved(void *data, ngx_addr_t *addrs,
                                              ngx_uint_t naddrs)
{
    ngx_http_echostream_get_t *g = data;

    g->addrs = addrs;
    g->naddrs = naddrs;

    if (ngx_http_echostream_http_connect(g) != NGX_OK) {
        ngx_post_event(&g->post, &ngx_posted_events);
    }
}

/*
 * Starts a connection to the target's address g->addr, moving on to the
 * next while one is refused at once. NGX_OK: a connection is under way
 * (or made: its write event is posted); NGX_ERROR: every remaining
 * address failed, g->error says how the last one did.
 */
static ngx_int_t ngx_http_echostream_http_connect(ngx_http_echostream_get_t *g)
{
    ngx_connection_t *c;
    ngx_addr_t *a;
    ngx_int_t rc;
    ngx_err_t err;

    for (; g->addr < g->naddrs; g->addr++) {
        a = &g->addrs[g->addr];

        ngx_memzero(&g->pc, sizeof(ngx_peer_connection_t));
        g->pc.sockaddr = a->sockaddr;
        g->pc.socklen = a->socklen;
        g->pc.name = &a->name;
        g->pc.get = ngx_event_get_peer;
        g->pc.log = g->log;
        g->pc.log_error = NGX_ERROR_ERR;
        g->pc.tries = 1;

        rc = ngx_event_connect_peer(&g->pc);

        if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
            /* an immediate refusal leaves its reason in errno (nginx has
             * logged it and closed the socket) */
            err = (rc == NGX_DECLINED) ? ngx_socket_errno : 0;
            ngx_http_echostream_http_fail(g, err, "connect() to %V failed",
                                          &a->name);
            continue;
        }

        c = g->pc.connection;
        c->data = g;
        c->pool = g->pool;
        c->read->handler = ngx_http_echostream_http_handler;
        c->write->handler = ngx_http_echostream_http_handler;
        g->state = NGX_HTTP_ECHOSTREAM_HTTP_CONNECTING;

        if (rc == NGX_OK) {
            /* connected at once: carry on from the event loop all the same */
            ngx_post_event(c->write, &ngx_posted_events);
        }

        return NGX_OK;
    }

    return NGX_ERROR;
}

void ngx_http_echostream_http_hold(ngx_http_echostream_http_get_t *g,
                                   ngx_uint_t hold)
{
    /* read by ngx_event_no_timers_left() on each loop of a shutdown */
    g->timer.cancelable = hold ? 0 : 1;

    ngx_http_echostream_http_resolve_hold(g->rctx, g->timer.cancelable);
}

void ngx_http_echostream_http_abort(ngx_http_echostream_http_get_t *g)
{
    ngx_http_echostream_http_release(g);
    ngx_destroy_pool(g->pool);
}

/* Both events of the connection, outside the TLS handshake. */
static void ngx_http_echostream_http_handler(ngx_event_t *ev)
{
    ngx_connection_t *c = ev->data;
    ngx_http_echostream_get_t *g = c->data;

    if (c->close) {
        /* worker_shutdown_timeout closes every connection this way */
        ngx_http_echostream_http_fail(g, 0, "worker is shutting down");
        ngx_http_echostream_http_finish(g, NGX_ERROR);
        return;
    }

    switch (g->state) {

    case NGX_HTTP_ECHOSTREAM_HTTP_CONNECTING:
        /* a refused connect() shows as an error on both events */
        ngx_http_echostream_http_connected(g);
        return;

    case NGX_HTTP_ECHOSTREAM_HTTP_SENDING:
        if (ev->write) {
            ngx_http_echostream_http_send(g);
        }
        return;

    default:
        if (!ev->write) {
            ngx_http_echostream_http_read(g);
        }
        return;
    }
}

static void ngx_http_echostream_http_connected(ngx_http_echostream_get_t *g)
{
    ngx_http_echostream_http_target_t *t = g->target;
    ngx_connection_t *c = g->pc.connection;
    ngx_int_t rc;
    socklen_t len;
    int err;

    /* the outcome of a non-blocking connect() (Linux: SO_ERROR) */
    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *)&err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_http_echostream_http_fail(g, err, "connect() to %V failed",
                                      g->pc.name);
        /* the next address, if the name has one, within the same timer */
        ngx_close_connection(c);
        g->pc.connection = NULL;
        g->addr++;
        if (ngx_http_echostream_http_connect(g) != NGX_OK) {
            ngx_http_echostream_http_finish(g, NGX_ERROR);
        }
        return;
    }

    if (t->ssl == NULL) {
        g->state = NGX_HTTP_ECHOSTREAM_HTTP_SENDING;
        ngx_http_echostream_http_send(g);
        return;
    }

    if (ngx_ssl_create_connection(t->ssl, c, NGX_SSL_BUFFER | NGX_SSL_CLIENT) !=
        NGX_OK) {
        ngx_http_echostream_http_fail(g, 0, "cannot start TLS");
        ngx_http_echostream_http_finish(g, NGX_ERROR);
        return;
    }

    /* RFC 6066: no SNI for IP literals */
    if (!t->host_is_ip && SSL_set_tlsext_host_name(c->ssl->connection,
                                                   (char *)t->host.data) == 0) {
        ngx_http_echostream_http_fail(g, 0, "cannot set the TLS server name");
        ngx_http_echostream_http_finish(g, NGX_ERROR);
        return;
    }

    g->state = NGX_HTTP_ECHOSTREAM_HTTP_HANDSHAKE;

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_echostream_http_ssl_handshake_handler;
        return;
    }

    ngx_http_echostream_http_ssl_handshaked(g);
}

static void ngx_http_echostream_http_ssl_handshake_handler(ngx_connection_t *c)
{
    ngx_http_echostream_http_ssl_handshaked(c->data);
}

/*
 * The TLS context verifies nothing during the handshake (nginx's way for
 * upstreams): the chain and the name are judged here, before a single
 * byte of the request is sent.
 */
static void
ngx_http_echostream_http_ssl_handshaked(ngx_http_echostream_get_t *g)
{
    ngx_connection_t *c = g->pc.connection;
    long rc;

    if (!c->ssl->handshaked) {
        /* nginx has logged OpenSSL's reason */
        ngx_http_echostream_http_fail(g, 0, "TLS handshake failed");
        ngx_http_echostream_http_finish(g, NGX_ERROR);
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_http_echostream_http_fail(g, 0, "certificate verify error: (%l:%s)",
                                      rc, X509_verify_cert_error_string(rc));
        ngx_http_echostream_http_finish(g, NGX_ERROR);
        return;
    }

    if (ngx_http_echostream_http_check_host(g) != NGX_OK) {
        ngx_http_echostream_http_fail(g, 0, "certificate does not match \"%V\"",
                                      &g->target->host);
        ngx_http_echostream_http_finish(g, NGX_ERROR);
        return;
    }

    c->read->handler = ngx_http_echostream_http_handler;
    c->write->handler = ngx_http_echostream_http_handler;

    g->state = NGX_HTTP_ECHOSTREAM_HTTP_SENDING;
    ngx_http_echostream_http_send(g);
}

/* Names through nginx; an IP literal against the certificate's IPs. */
static ngx_int_t
ngx_http_echostream_http_check_host(ngx_http_echostream_get_t *g)
{
    ngx_connection_t *c = g->pc.connection;
    X509 *cert;
    int rc;

    if (!g->target->host_is_ip) {
        return ngx_ssl_check_host(c, &g->target->host);
    }

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    cert = SSL_get1_peer_certificate(c->ssl->connection);
#else
    cert = SSL_get_peer_certificate(c->ssl->connection);
#endif
    if (cert == NULL) {
        return NGX_ERROR;
    }

    rc = X509_check_ip_asc(cert, (const char *)g->target->host.data, 0);
    X509_free(cert);

    return rc == 1 ? NGX_OK : NGX_ERROR;
}

static void ngx_http_echostream_http_send(ngx_http_echostream_get_t *g)
{
    ngx_connection_t *c = g->pc.connection;
    ssize_t n;

    while (g->out < g->out_last) {
        n = c->send(c, g->out, g->out_last - g->out);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_echostream_http_fail(g, 0, "event error");
                ngx_http_echostream_http_finish(g, NGX_ERROR);
            }
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_echostream_http_fail(g, 0, "sending the request failed");
            ngx_http_echostream_http_finish(g, NGX_ERROR);
            return;
        }

        g->out += n;
    }

    g->state = NGX_HTTP_ECHOSTREAM_HTTP_READING;
    ngx_http_echostream_http_read(g);
}

/* Reads until the socket is drained or the response is complete. */
static void ngx_http_echostream_http_read(ngx_http_echostream_get_t *g)
{
    ngx_connection_t *c = g->pc.connection;
    ngx_int_t rc;
    u_char *buf;
    size_t size;
    ssize_t n;

    for (;;) {
        buf = ngx_http_echostream_http_response_space(&g->resp, &size);
        if (buf == NULL) {
            ngx_http_echostream_http_finish(g, NGX_ERROR);
            return;
        }

        n = c->recv(c, buf, size);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_echostream_http_fail(g, 0, "event error");
                ngx_http_echostream_http_finish(g, NGX_ERROR);
            }
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_echostream_http_fail(g, 0, "reading the response failed");
            ngx_http_echostream_http_finish(g, NGX_ERROR);
            return;
        }

        if (n == 0) {
            rc = ngx_http_echostream_http_response_eof(&g->resp);

        } else {
            rc = ngx_http_echostream_http_response_feed(&g->resp, n);
        }

        if (rc != NGX_AGAIN) {
            ngx_http_echostream_http_finish(g, rc);
            return;
        }
    }
}

static void ngx_http_echostream_http_timeout(ngx_event_t *ev)
{
    ngx_http_echostream_get_t *g = ev->data;

    ngx_http_echostream_http_fail(g, 0, "no complete response within %M ms",
                                  g->timeout);
    ngx_http_echostream_http_finish(g, NGX_ERROR);
}

static void ngx_http_echostream_http_post_failure(ngx_event_t *ev)
{
    ngx_http_echostream_http_finish(ev->data, NGX_ERROR);
}

/* Writes the reason into g->error, with err's text when err is set. */
static void ngx_http_echostream_http_fail(ngx_http_echostream_get_t *g,
                                          ngx_err_t err, const char *fmt, ...)
{
    u_char *p, *last;
    va_list args;

    last = (u_char *)g->error + sizeof(g->error) - 1;

    va_start(args, fmt);
    p = ngx_vslprintf((u_char *)g->error, last, fmt, args);
    va_end(args);

    if (err) {
        p = ngx_slprintf(p, last, " (%d: ", err);
        p = ngx_strerror(err, p, last - p);
        p = ngx_slprintf(p, last, ")");
    }

    *p = '\0';
}

/*
 * Ends the exchange: closes the connection, calls back with what was got
 * and frees everything. Nothing of g may be touched after this.
 */
static void ngx_http_echostream_http_finish(ngx_http_echostream_get_t *g,
                                            ngx_int_t rc)
{
    ngx_http_echostream_http_result_t res;

    res.rc = rc;
    res.status = g->resp.status;
    res.body = NULL;
    res.len = 0;
    res.error = rc == NGX_OK ? NULL : g->error;

    if (rc == NGX_OK && g->resp.status == 200) {
        res.body = g->resp.body;
        res.len = g->resp.body_len;
    }

    ngx_http_echostream_http_release(g);

    g->done(g->data, &res);

    ngx_destroy_pool(g->pool);
}

/* Closes the connection and disarms the events; the pool stays. */
static void ngx_http_echostream_http_release(ngx_http_echostream_get_t *g)
{
    ngx_connection_t *c = g->pc.connection;

    if (g->timer.timer_set) {
        ngx_del_timer(&g->timer);
    }

    if (g->post.posted) {
        ngx_delete_posted_event(&g->post);
    }

    /* a look-up still in flight never calls back */
    ngx_http_echostream_http_resolve_cancel(&g->rctx);

    if (c == NULL) {
        return;
    }

    g->pc.connection = NULL;

    if (c->ssl) {
        /* "Connection: close" ends the exchange: no close_notify dance,
         * so the shutdown cannot wait on the peer */
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void)ngx_ssl_shutdown(c);
    }

    ngx_close_connection(c);
}
