/*
 * ngx_http_echostream_http_response.h - the response side of
 * ngx_http_echostream_http_client.c: an incremental parser of one
 * HTTP/1.x response, fed whatever the connection delivers.
 *
 * It is written for this one job rather than borrowed from nginx's
 * request parser, whose state lives in ngx_http_request_t. The header is
 * collected whole (up to 16 KiB) and parsed in one pass; interim 1xx
 * responses are skipped; only a 200 has its body read, by Content-Length,
 * by the chunked decoder or up to the end of the connection, into one
 * buffer of the size cap that never grows. No I/O here: the caller reads
 * into the space the parser hands out and reports how much came.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_HTTP_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_HTTP_RESPONSE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

#define NGX_HTTP_ECHOSTREAM_HTTP_HEADER_MAX 16384

typedef struct {
    ngx_pool_t *pool;
    u_char *buf;    /* HEADER_MAX bytes: the header, then each read */
    size_t len;     /* header bytes in buf */
    size_t scanned; /* where the search for the blank line resumes */

    u_char *body; /* max_body bytes, allocated once the header is a 200 */
    size_t body_len;
    size_t max_body;
    off_t content_length; /* -1: none given */
    size_t chunk_left;
    ngx_uint_t chunk_digits;

    ngx_uint_t status;
    ngx_uint_t in_body;
    ngx_uint_t mode;
    ngx_uint_t chunk_state;

    u_char *error; /* the caller's buffer for the reason of a refusal */
    size_t errlen;
} ngx_http_echostream_http_response_t;

/*
 * Prepares rp to parse one response, its buffers taken from pool; a
 * refusal is described in error (errlen bytes, NUL-terminated). NGX_ERROR
 * when memory ran out.
 */
ngx_int_t
ngx_http_echostream_http_response_init(ngx_http_echostream_http_response_t *rp,
                                       ngx_pool_t *pool, size_t max_body,
                                       u_char *error, size_t errlen);

/*
 * Where the next bytes read go: returns the space and its size in *size,
 * or NULL (error set) when the header has outgrown its buffer.
 */
u_char *
ngx_http_echostream_http_response_space(ngx_http_echostream_http_response_t *rp,
                                        size_t *size);

/*
 * n bytes were read into the space. NGX_AGAIN: more is needed. NGX_OK:
 * the response is complete: status is set, and for a 200 body holds
 * body_len bytes (any other status ends with the header). NGX_ERROR: the
 * response is malformed or too big (error set).
 */
ngx_int_t
ngx_http_echostream_http_response_feed(ngx_http_echostream_http_response_t *rp,
                                       size_t n);

/* The peer closed: NGX_OK when that ends the body, NGX_ERROR otherwise. */
ngx_int_t
ngx_http_echostream_http_response_eof(ngx_http_echostream_http_response_t *rp);

#endif /* _NGX_HTTP_ECHOSTREAM_HTTP_RESPONSE_H_INCLUDED_ */
