/*
 * ngx_http_echostream_export_write.c - what GET /export.csv sends: a
 * page's records as one CSV chunk, the response header with the CSV
 * header row, the wait for the client between pages, and the end of a
 * failed export.
 *
 * A page's chunk goes out at once (flush), and the next page is read
 * (export.c) only when it has left for the client: its buffers are back
 * from the output chain and nothing is buffered (api_stream.c), else the
 * request's write event drives the export on once they are. The page's
 * pool is destroyed at that moment, so memory stays that of one page.
 *
 * Errors before the first byte are JSON answers (404 for an unknown topic,
 * 503 when Redis is down); later ones can only cut the connection, which
 * leaves the chunked body unterminated so the client sees the loss.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_api_stream.h"
#include "api/ngx_http_echostream_comment_json.h"
#include "api/ngx_http_echostream_export_csv.h"
#include "routes/ngx_http_echostream_export.h"

static ngx_int_t
ngx_http_echostream_export_header(ngx_http_echostream_export_t *st);
static ngx_int_t
ngx_http_echostream_export_send(ngx_http_echostream_export_t *st, u_char *data,
                                size_t len);

/*
 * Writes the rows of an MGET reply (NULL: none) as one chunk, the header
 * first on the first page, and goes on: to the next page at once, after
 * the client took the chunk, or to the end of the file.
 */
ngx_int_t ngx_http_echostream_export_page(ngx_http_echostream_export_t *st,
                                          redisReply *rep)
{
    ngx_http_request_t *r = st->ctx->r;
    json_t **rows;
    ngx_uint_t i, n;
    const char *why;
    size_t size;
    u_char *text, *p;
    ngx_int_t rc;

    if (rep != NULL &&
        (rep->type != REDIS_REPLY_ARRAY || rep->elements != st->nids)) {
        return NGX_ERROR;
    }

    if (!st->header) {
        rc = ngx_http_echostream_export_header(st);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    n = 0;
    size = 0;
    rows = NULL;

    if (rep != NULL) {
        rows = ngx_palloc(st->page, rep->elements * sizeof(json_t *));
        if (rows == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < rep->elements; i++) {
            if (rep->element[i]->type != REDIS_REPLY_STRING) {
                continue; /* gone with its retention */
            }

            /* new reference, released below */
            rows[n] = ngx_http_echostream_comment_json_ex(
                rep->element[i]->str, rep->element[i]->len, &why);
            if (rows[n] == NULL) {
                if (why != NULL) {
                    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                                  "echostream api: export skips comment "
                                  "record \"%*s\": %s",
                                  st->lens[i], st->ids[i], why);
                }
                continue;
            }

            size += ngx_http_echostream_export_csv_bound(rows[n]);
            n++;
        }
    }

    text = NULL;
    p = NULL;
    if (size > 0) {
        text = ngx_pnalloc(st->page, size);
    }
    if (text != NULL) {
        p = text;
        for (i = 0; i < n; i++) {
            p = ngx_http_echostream_export_csv_row(p, rows[i]);
        }
    }

    for (i = 0; i < n; i++) {
        json_decref(rows[i]);
    }

    if (size > 0 && text == NULL) {
        return NGX_ERROR;
    }

    st->rows += n;

    return ngx_http_echostream_export_send(st, text, text ? p - text : 0);
}

/*
 * Sends the response header and the CSV header row. NGX_DONE: nothing more
 * to send (HEAD) and the request is finalized; NGX_ERROR on failure.
 */
static ngx_int_t
ngx_http_echostream_export_header(ngx_http_echostream_export_t *st)
{
    ngx_http_echostream_api_ctx_t *ctx = st->ctx;
    ngx_http_request_t *r = ctx->r;
    ngx_table_elt_t *h;
    ngx_chain_t *cl;
    ngx_buf_t *b;
    ngx_int_t rc;
    u_char *p;

    st->header = 1;

    if (ngx_http_echostream_api_common_headers(ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    p = ngx_pnalloc(r->pool, sizeof("attachment; filename=\"\".csv") +
                                 ctx->params[0].len);
    if (h == NULL || p == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Content-Disposition");
    h->value.data = p;
    h->value.len =
        ngx_sprintf(p, "attachment; filename=\"%V.csv\"", &ctx->params[0]) - p;

    r->headers_out.status = NGX_HTTP_OK;
    ctx->status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, "text/csv; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/csv") - 1;
    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_echostream_api_finalize(ctx, rc);
        return NGX_DONE;
    }

    /* the header row goes with the first page's rows */
    cl = ngx_http_echostream_api_stream_buf(&st->out);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;
    b->memory = 1;
    b->pos = (u_char *)NGX_HTTP_ECHOSTREAM_EXPORT_HEADER;
    b->last = b->pos + sizeof(NGX_HTTP_ECHOSTREAM_EXPORT_HEADER) - 1;
    b->start = b->pos;
    b->end = b->last;

    /* sent with the first page's rows */
    st->head = cl;

    return NGX_OK;
}

/*
 * Sends len bytes of data (page pool memory) as a chunk, behind the header
 * row when that is still waiting, with the end of the body on the last
 * page; then continues the export. NGX_DONE when the request was
 * finalized or is waiting for the client, NGX_ERROR to fail it.
 */
static ngx_int_t
ngx_http_echostream_export_send(ngx_http_echostream_export_t *st, u_char *data,
                                size_t len)
{
    ngx_http_request_t *r = st->ctx->r;
    ngx_chain_t *out, **ll, *cl;
    ngx_buf_t *b;
    ngx_int_t rc;

    out = NULL;
    ll = &out;

    if (st->head != NULL) {
        *ll = st->head;
        ll = &st->head->next;
        st->head = NULL;
    }

    if (len > 0 || st->last) {
        cl = ngx_http_echostream_api_stream_buf(&st->out);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        b = cl->buf;
        b->temporary = len > 0;
        b->start = data;
        b->pos = data;
        b->last = data + len;
        b->end = data + len;
        b->flush = 1;

        if (st->last) {
            b->last_buf = (r == r->main) ? 1 : 0;
            b->last_in_chain = 1;
            b->sync = (len == 0);
        }

        *ll = cl;
        ll = &cl->next;
    }

    if (out == NULL) {
        ngx_http_echostream_export_next(&st->out);
        return NGX_DONE;
    }

    rc = ngx_http_echostream_api_stream_write(&st->out, out);

    if (st->last || rc == NGX_ERROR) {
        if (st->last) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "echostream api: export of %ui rows done", st->rows);
        }
        ngx_http_echostream_api_finalize(st->ctx, rc);
        return NGX_DONE;
    }

    if (ngx_http_echostream_api_stream_busy(&st->out)) {
        return NGX_DONE;
    }

    ngx_http_echostream_export_next(&st->out);
    return NGX_DONE;
}

/*
 * The current page is out (called directly, or by the shared writer once
 * the client took it): drops its memory and reads the next one.
 */
void ngx_http_echostream_export_next(ngx_http_echostream_api_stream_t *out)
{
    ngx_http_echostream_export_t *st = out->ctx->data;

    if (st->page != NULL) {
        ngx_destroy_pool(st->page);
        st->page = NULL;
    }

    if (ngx_http_echostream_export_range(st) != NGX_OK) {
        ngx_http_echostream_export_fail(st, NULL);
    }
}

/*
 * Ends a failed export: with a JSON error while nothing was sent, else by
 * cutting the connection (the unterminated chunked body tells the client).
 */
void ngx_http_echostream_export_fail(ngx_http_echostream_export_t *st,
                                     ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_api_ctx_t *ctx = st->ctx;

    if (!st->header) {
        if (res != NULL) {
            ngx_http_echostream_api_redis_down(ctx, res);
            return;
        }

        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "echostream api: export failed (unexpected reply or "
                      "out of memory)");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "the export failed");
        return;
    }

    ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                  "echostream api: export of \"%V\" cut after %ui rows: %s",
                  &ctx->params[0], st->rows,
                  res == NULL          ? "unexpected reply or out of memory"
                  : res->error != NULL ? res->error
                                       : "redis error");
    ngx_http_echostream_api_finalize(ctx, NGX_ERROR);
}
