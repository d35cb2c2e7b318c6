/*
 * ngx_http_echostream_api_stream.h - long responses: chunked and SSE
 * writes with back-pressure, shared by /export.csv and /stream.
 *
 * Both routes write a body piece by piece for as long as a client reads,
 * and must neither buffer without bound nor read Redis ahead of a slow
 * client. What they share lives here: output buffers recycled through a
 * free list (so a long response's memory does not grow with its length),
 * the write of a chain, and waiting for the client's write event (with
 * nginx's send_timeout) before the route goes on.
 *
 * The state is a struct the route embeds as the FIRST member of its own
 * state, which ctx->data points at: the write event handler finds it
 * there, so the shared api ctx needs no field of its own for it.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_API_STREAM_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_API_STREAM_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"

typedef struct ngx_http_echostream_api_stream_s
    ngx_http_echostream_api_stream_t;

/* Everything written has left: the route goes on (reads more, idles). */
typedef void (*ngx_http_echostream_api_stream_drained_pt)(
    ngx_http_echostream_api_stream_t *as);

struct ngx_http_echostream_api_stream_s {
    ngx_http_echostream_api_ctx_t *ctx;
    ngx_http_echostream_api_stream_drained_pt drained;
    const char *timeout_log; /* logged when the client stops reading */

    ngx_chain_t *free; /* output buffers, recycled */
    ngx_chain_t *busy;
};

/*
 * A chain link and an empty buffer (zeroed, tagged with the module) from
 * the free list or the request pool; NULL when memory ran out. The caller
 * sets the buffer's data and flags and passes it to _write(), which takes
 * the link back once the buffer was sent.
 */
ngx_chain_t *
ngx_http_echostream_api_stream_buf(ngx_http_echostream_api_stream_t *as);

/*
 * Passes out (may be NULL: only what is pending) to the output filters and
 * recycles what they are done with. Returns ngx_http_output_filter()'s code.
 */
ngx_int_t
ngx_http_echostream_api_stream_write(ngx_http_echostream_api_stream_t *as,
                                     ngx_chain_t *out);

/*
 * After a write: when the client has not taken everything yet, arms the
 * write event (as->drained is called once it has) and returns 1; else 0
 * and the caller goes on at once. A failure to arm finalizes the request.
 */
ngx_uint_t
ngx_http_echostream_api_stream_busy(ngx_http_echostream_api_stream_t *as);

#endif /* _NGX_HTTP_ECHOSTREAM_API_STREAM_H_INCLUDED_ */
