/*
 * ngx_http_echostream_http_client.h - a small HTTP/1.1 GET client on
 * nginx's own event loop, for fetching documents (the JWKS) from inside a
 * worker process without ever blocking it.
 *
 * One call is one exchange on a fresh connection: the host name looked up
 * again through nginx's resolver when the target has one (so a name that
 * moves is followed; the addresses found at configuration time otherwise,
 * and when the lookup fails), connect (ngx_event_connect_peer) to the
 * first of the host's addresses that takes the connection (a host such as
 * "localhost" may resolve to ::1 and to 127.0.0.1, a cloud endpoint to
 * several), TLS through nginx's ngx_ssl API when
 * the target has an SSL context (SNI, then the certificate chain and the host
 * name are verified), "GET path" with "Connection: close", and the
 * response read with Content-Length, chunked transfer coding or up to the
 * end of the connection. The whole exchange is bounded by one timer and the
 * body by a size cap. Redirects are not followed: a 3xx is just a status.
 *
 * Everything an exchange allocates lives in its own pool, destroyed when
 * it ends, so nothing is left behind between exchanges.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_HTTP_CLIENT_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_HTTP_CLIENT_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#define NGX_HTTP_ECHOSTREAM_HTTP_ERRLEN 200

/*
 * Where to send the request; filled at configuration time (the host name
 * is resolved then, with the system's resolver, so a worker always has an
 * address without waiting on DNS) and read-only once the worker runs.
 */
typedef struct {
    ngx_str_t uri;         /* the whole URI, for log lines */
    ngx_str_t host;        /* name for SNI and the certificate check:
                              no port, no brackets, NUL-terminated */
    ngx_str_t host_header; /* value of "Host": host[:port] */
    ngx_str_t path;        /* request target, starts with '/' */
    ngx_addr_t *addrs;     /* every address the name resolved to (each
                              with its name and port, for log lines) */
    ngx_uint_t naddrs;
    in_port_t port;              /* of every address, for fresh ones */
    ngx_resolver_t *resolver;    /* non-NULL: look host up again through
                                    it (nginx's own, non-blocking) on
                                    each exchange, unless host_is_ip */
    ngx_msec_t resolver_timeout; /* one lookup; within the exchange's */
    ngx_ssl_t *ssl;              /* NULL: plain HTTP */
    unsigned host_is_ip : 1;     /* host is an IP literal: no SNI, IP check */
} ngx_http_echostream_http_target_t;

/* The outcome of one exchange, borrowed by the callback. */
typedef struct {
    /*
     * NGX_OK: a response header was read; status holds its status. For
     * status 200 body holds the whole body (len bytes, valid during the
     * callback only); for any other status the body is not read (NULL).
     * NGX_ERROR: no usable response (connection, TLS, timeout, malformed
     * or oversized response); error says why.
     */
    ngx_int_t rc;
    ngx_uint_t status;
    u_char *body;
    size_t len;
    const char *error;
} ngx_http_echostream_http_result_t;

typedef void (*ngx_http_echostream_http_done_pt)(
    void *data, ngx_http_echostream_http_result_t *res);

typedef struct ngx_http_echostream_http_get_s ngx_http_echostream_http_get_t;

/*
 * Starts a GET of t (which must outlive the exchange) that may take at
 * most timeout ms and whose body may hold at most max_body bytes. Returns
 * the exchange, or NULL when memory ran out (nothing is called then).
 * done is called exactly once, later (never from inside this call), after
 * the connection was closed, unless the exchange is aborted first; the
 * exchange's memory is released when done returns.
 *
 * hold: 0 lets a graceful shutdown of the worker go on without waiting
 * for this exchange (the worker's exit then aborts it), 1 keeps the
 * worker until the exchange ends; ngx_http_echostream_http_hold() changes
 * it later.
 */
ngx_http_echostream_http_get_t *
ngx_http_echostream_http_get(ngx_http_echostream_http_target_t *t,
                             ngx_msec_t timeout, size_t max_body,
                             ngx_log_t *log, ngx_uint_t hold,
                             ngx_http_echostream_http_done_pt done, void *data);

void ngx_http_echostream_http_hold(ngx_http_echostream_http_get_t *g,
                                   ngx_uint_t hold);

/* Closes the connection and frees the exchange; done is never called. */
void ngx_http_echostream_http_abort(ngx_http_echostream_http_get_t *g);

#endif /* _NGX_HTTP_ECHOSTREAM_HTTP_CLIENT_H_INCLUDED_ */
