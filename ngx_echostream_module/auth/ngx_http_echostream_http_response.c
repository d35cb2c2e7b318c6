/*
 * ngx_http_echostream_http_response.c - an incremental HTTP/1.x response
 * parser (see ngx_http_echostream_http_response.h).
 *
 * The header is judged strictly where it matters to framing and leniently
 * elsewhere: bare LF line ends are accepted, folded lines, a
 * Content-Length that is not all digits or that disagrees with another,
 * and any transfer or content coding but chunked / identity are refused,
 * since a body framed wrongly could be cut or run on. The body never
 * exceeds max_body bytes: a Content-Length over the cap is refused before
 * a byte of the body is read, a chunk size over it while its digits are
 * still arriving.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "auth/ngx_http_echostream_http_response.h"

/* how the body ends */
enum {
    NGX_HTTP_ECHOSTREAM_HTTP_BY_LENGTH = 0,
    NGX_HTTP_ECHOSTREAM_HTTP_BY_CHUNKS,
    NGX_HTTP_ECHOSTREAM_HTTP_BY_EOF
};

/* the chunked decoder */
enum {
    NGX_HTTP_ECHOSTREAM_CHUNK_SIZE = 0, /* hex digits */
    NGX_HTTP_ECHOSTREAM_CHUNK_EXT,      /* ";ext" up to the LF */
    NGX_HTTP_ECHOSTREAM_CHUNK_SIZE_LF,  /* CR seen after the size */
    NGX_HTTP_ECHOSTREAM_CHUNK_DATA,
    NGX_HTTP_ECHOSTREAM_CHUNK_DATA_CR, /* CRLF after the data */
    NGX_HTTP_ECHOSTREAM_CHUNK_DATA_LF,
    NGX_HTTP_ECHOSTREAM_CHUNK_TRAILER,      /* start of a trailer line */
    NGX_HTTP_ECHOSTREAM_CHUNK_TRAILER_LINE, /* inside one */
    NGX_HTTP_ECHOSTREAM_CHUNK_LAST_LF       /* CR of the final empty line */
};

typedef ngx_http_echostream_http_response_t ngx_http_echostream_resp_t;

static ngx_int_t
ngx_http_echostream_http_response_header(ngx_http_echostream_resp_t *rp);
static ngx_int_t
ngx_http_echostream_http_response_parse(ngx_http_echostream_resp_t *rp,
                                        u_char *p, u_char *end);
static ngx_int_t
ngx_http_echostream_http_response_field(ngx_http_echostream_resp_t *rp,
                                        u_char *name, size_t nlen,
                                        u_char *value, size_t vlen);
static ngx_int_t
ngx_http_echostream_http_response_body(ngx_http_echostream_resp_t *rp,
                                       u_char *p, size_t n);
static ngx_int_t
ngx_http_echostream_http_response_chunks(ngx_http_echostream_resp_t *rp,
                                         u_char *p, size_t n);
static ngx_int_t
ngx_http_echostream_http_response_append(ngx_http_echostream_resp_t *rp,
                                         u_char *p, size_t n);
static void
ngx_http_echostream_http_response_fail(ngx_http_echostream_resp_t *rp,
                                       const char *fmt, ...);

ngx_int_t
ngx_http_echostream_http_response_init(ngx_http_echostream_http_response_t *rp,
                                       ngx_pool_t *pool, size_t max_body,
                                       u_char *error, size_t errlen)
{
    ngx_memzero(rp, sizeof(ngx_http_echostream_http_response_t));

    rp->buf = ngx_pnalloc(pool, NGX_HTTP_ECHOSTREAM_HTTP_HEADER_MAX);
    if (rp->buf == NULL) {
        return NGX_ERROR;
    }

    rp->pool = pool;
    rp->max_body = max_body;
    rp->content_length = -1;
    rp->error = error;
    rp->errlen = errlen;

    return NGX_OK;
}

u_char *
ngx_http_echostream_http_response_space(ngx_http_echostream_http_response_t *rp,
                                        size_t *size)
{
    /* the body is copied out of buf as it comes: reuse all of it */
    if (rp->in_body) {
        *size = NGX_HTTP_ECHOSTREAM_HTTP_HEADER_MAX;
        return rp->buf;
    }

    if (rp->len == NGX_HTTP_ECHOSTREAM_HTTP_HEADER_MAX) {
        ngx_http_echostream_http_response_fail(
            rp, "response header larger than %d bytes",
            NGX_HTTP_ECHOSTREAM_HTTP_HEADER_MAX);
        return NULL;
    }

    *size = NGX_HTTP_ECHOSTREAM_HTTP_HEADER_MAX - rp->len;
    return rp->buf + rp->len;
}

ngx_int_t
ngx_http_echostream_http_response_feed(ngx_http_echostream_http_response_t *rp,
                                       size_t n)
{
    if (rp->in_body) {
        return ngx_http_echostream_http_response_body(rp, rp->buf, n);
    }

    rp->len += n;

    return ngx_http_echostream_http_response_header(rp);
}

ngx_int_t
ngx_http_echostream_http_response_eof(ngx_http_echostream_http_response_t *rp)
{
    if (rp->in_body && rp->mode == NGX_HTTP_ECHOSTREAM_HTTP_BY_EOF) {
        return NGX_OK;
    }

    if (!rp->in_body) {
        ngx_http_echostream_http_response_fail(
            rp, rp->len ? "connection closed inside the response header"
                        : "connection closed without a response");

    } else {
        ngx_http_echostream_http_response_fail(
            rp, "connection closed after %uz bytes of the body", rp->body_len);
    }

    return NGX_ERROR;
}

/*
 * Looks for the blank line ending the header in what has arrived; once
 * there, parses the header and hands the bytes after it to the body.
 * Interim (1xx) responses are dropped.
 */
static ngx_int_t
ngx_http_echostream_http_response_header(ngx_http_echostream_resp_t *rp)
{
    size_t i, end, rest;
    u_char *p;

    for (;;) {
        p = rp->buf;
        end = 0;

        for (i = rp->scanned; i < rp->len; i++) {
            if (p[i] != '\n') {
                continue;
            }
            if (i + 1 < rp->len && p[i + 1] == '\n') {
                end = i + 2;
                break;
            }
            if (i + 2 < rp->len && p[i + 1] == '\r' && p[i + 2] == '\n') {
                end = i + 3;
                break;
            }
        }

        if (end == 0) {
            /* the last two bytes may begin the blank line */
            rp->scanned = rp->len > 2 ? rp->len - 2 : 0;
            return NGX_AGAIN;
        }

        if (ngx_http_echostream_http_response_parse(rp, p, p + end) != NGX_OK) {
            return NGX_ERROR;
        }

        rest = rp->len - end;

        if (rp->status >= 100 && rp->status < 200 && rp->status != 101) {
            ngx_memmove(p, p + end, rest);
            rp->len = rest;
            rp->scanned = 0;
            rp->content_length = -1;
            rp->mode = NGX_HTTP_ECHOSTREAM_HTTP_BY_LENGTH;
            continue;
        }

        break;
    }

    if (rp->status != 200) {
        /* only a 200 is of use: the caller logs the status */
        return NGX_OK;
    }

    /* a chunked body ignores any Content-Length: its chunks are counted */
    if (rp->mode == NGX_HTTP_ECHOSTREAM_HTTP_BY_LENGTH &&
        rp->content_length > (off_t)rp->max_body) {
        ngx_http_echostream_http_response_fail(
            rp, "response body of %O bytes is larger than %uz bytes",
            rp->content_length, rp->max_body);
        return NGX_ERROR;
    }

    rp->body = ngx_pnalloc(rp->pool, rp->max_body + 1);
    if (rp->body == NULL) {
        ngx_http_echostream_http_response_fail(rp, "out of memory");
        return NGX_ERROR;
    }

    rp->in_body = 1;

    if (rp->mode == NGX_HTTP_ECHOSTREAM_HTTP_BY_LENGTH &&
        rp->content_length == 0) {
        return NGX_OK;
    }

    if (rest == 0) {
        return NGX_AGAIN;
    }

    return ngx_http_echostream_http_response_body(rp, p + end, rest);
}

/* Status line and header fields of one response in [p, end). */
static ngx_int_t
ngx_http_echostream_http_response_parse(ngx_http_echostream_resp_t *rp,
                                        u_char *p, u_char *end)
{
    u_char *eol, *last, *colon, *v;
    ngx_uint_t first;
    ngx_int_t chunked;

    first = 1;
    chunked = 0;
    rp->content_length = -1;

    while (p < end) {
        eol = ngx_strlchr(p, end, '\n');
        if (eol == NULL) {
            eol = end;
        }

        last = eol;
        if (last > p && last[-1] == '\r') {
            last--;
        }

        if (first) {
            first = 0;

            if (last - p < 12 || ngx_strncmp(p, "HTTP/1.", 7) != 0 ||
                (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
                (last - p > 12 && p[12] != ' ') || p[9] < '1' || p[9] > '5' ||
                p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9') {
                ngx_http_echostream_http_response_fail(rp,
                                                       "malformed status line");
                return NGX_ERROR;
            }

            rp->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + p[11] - '0';

        } else if (last > p) {

            if (*p == ' ' || *p == '\t') {
                ngx_http_echostream_http_response_fail(rp,
                                                       "folded header line");
                return NGX_ERROR;
            }

            colon = ngx_strlchr(p, last, ':');
            if (colon == NULL || colon == p) {
                ngx_http_echostream_http_response_fail(rp,
                                                       "malformed header line");
                return NGX_ERROR;
            }

            v = colon + 1;
            while (v < last && (*v == ' ' || *v == '\t')) {
                v++;
            }
            while (last > v && (last[-1] == ' ' || last[-1] == '\t')) {
                last--;
            }

            switch (ngx_http_echostream_http_response_field(rp, p, colon - p, v,
                                                            last - v)) {
            case NGX_ERROR:
                return NGX_ERROR;
            case NGX_DONE:
                chunked = 1;
                break;
            default:
                break;
            }
        }

        p = eol + 1;
    }

    /* RFC 9112 6.3: chunked wins over any Content-Length */
    if (chunked) {
        rp->mode = NGX_HTTP_ECHOSTREAM_HTTP_BY_CHUNKS;

    } else if (rp->content_length >= 0) {
        rp->mode = NGX_HTTP_ECHOSTREAM_HTTP_BY_LENGTH;

    } else {
        rp->mode = NGX_HTTP_ECHOSTREAM_HTTP_BY_EOF;
    }

    return NGX_OK;
}

/*
 * One header field. Returns NGX_DONE for "Transfer-Encoding: chunked",
 * NGX_OK for any other acceptable field, NGX_ERROR (error set) else.
 */
static ngx_int_t
ngx_http_echostream_http_response_field(ngx_http_echostream_resp_t *rp,
                                        u_char *name, size_t nlen,
                                        u_char *value, size_t vlen)
{
    off_t n;
    size_t i;

    if (nlen == sizeof("Content-Length") - 1 &&
        ngx_strncasecmp(name, (u_char *)"Content-Length", nlen) == 0) {

        /* digits only; anything past 18 digits is surely too big anyway */
        if (vlen == 0 || vlen > 18) {
            goto bad_length;
        }

        n = 0;
        for (i = 0; i < vlen; i++) {
            if (value[i] < '0' || value[i] > '9') {
                goto bad_length;
            }
            n = n * 10 + (value[i] - '0');
        }

        if (rp->content_length >= 0 && rp->content_length != n) {
            goto bad_length;
        }

        rp->content_length = n;
        return NGX_OK;
    }

    if (nlen == sizeof("Transfer-Encoding") - 1 &&
        ngx_strncasecmp(name, (u_char *)"Transfer-Encoding", nlen) == 0) {

        if (vlen == sizeof("chunked") - 1 &&
            ngx_strncasecmp(value, (u_char *)"chunked", vlen) == 0) {
            return NGX_DONE;
        }

        /* no Accept-Encoding was sent: no other coding is expected */
        ngx_http_echostream_http_response_fail(
            rp, "unsupported transfer coding \"%*s\"", ngx_min(vlen, 40),
            value);
        return NGX_ERROR;
    }

    if (nlen == sizeof("Content-Encoding") - 1 &&
        ngx_strncasecmp(name, (u_char *)"Content-Encoding", nlen) == 0 &&
        !(vlen == sizeof("identity") - 1 &&
          ngx_strncasecmp(value, (u_char *)"identity", vlen) == 0)) {
        ngx_http_echostream_http_response_fail(
            rp, "unsupported content coding \"%*s\"", ngx_min(vlen, 40), value);
        return NGX_ERROR;
    }

    return NGX_OK;

bad_length:

    ngx_http_echostream_http_response_fail(rp, "invalid Content-Length");
    return NGX_ERROR;
}

/* n bytes of the body as they came: NGX_OK once it is complete. */
static ngx_int_t
ngx_http_echostream_http_response_body(ngx_http_echostream_resp_t *rp,
                                       u_char *p, size_t n)
{
    size_t want;

    switch (rp->mode) {

    case NGX_HTTP_ECHOSTREAM_HTTP_BY_LENGTH:
        want = (size_t)rp->content_length - rp->body_len;
        if (ngx_http_echostream_http_response_append(rp, p, ngx_min(n, want)) !=
            NGX_OK) {
            return NGX_ERROR;
        }
        return rp->body_len == (size_t)rp->content_length ? NGX_OK : NGX_AGAIN;

    case NGX_HTTP_ECHOSTREAM_HTTP_BY_CHUNKS:
        return ngx_http_echostream_http_response_chunks(rp, p, n);

    default:
        if (ngx_http_echostream_http_response_append(rp, p, n) != NGX_OK) {
            return NGX_ERROR;
        }
        return NGX_AGAIN;
    }
}

static ngx_int_t
ngx_http_echostream_http_response_chunks(ngx_http_echostream_resp_t *rp,
                                         u_char *p, size_t n)
{
    size_t i, take;
    u_char ch;
    int d;

    i = 0;

    while (i < n) {
        ch = p[i];

        switch (rp->chunk_state) {

        case NGX_HTTP_ECHOSTREAM_CHUNK_SIZE:
            d = (ch >= '0' && ch <= '9')   ? ch - '0'
                : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                           : -1;
            if (d >= 0) {
                /* beyond the cap already: stop before it can overflow */
                if (rp->chunk_left > rp->max_body) {
                    goto too_large;
                }
                rp->chunk_left = rp->chunk_left * 16 + d;
                rp->chunk_digits++;
                i++;
                break;
            }

            if (rp->chunk_digits == 0) {
                goto malformed;
            }

            if (ch == ';' || ch == ' ' || ch == '\t') {
                rp->chunk_state = NGX_HTTP_ECHOSTREAM_CHUNK_EXT;
                i++;
                break;
            }

            if (ch == '\r') {
                rp->chunk_state = NGX_HTTP_ECHOSTREAM_CHUNK_SIZE_LF;
                i++;
                break;
            }

            if (ch != '\n') {
                goto malformed;
            }

            goto size_done;

        case NGX_HTTP_ECHOSTREAM_CHUNK_EXT:
            if (ch != '\n') {
                i++;
                break;
            }
            goto size_done;

        case NGX_HTTP_ECHOSTREAM_CHUNK_SIZE_LF:
            if (ch != '\n') {
                goto malformed;
            }
            goto size_done;

        case NGX_HTTP_ECHOSTREAM_CHUNK_DATA:
            take = ngx_min(rp->chunk_left, n - i);
            if (ngx_http_echostream_http_response_append(rp, p + i, take) !=
                NGX_OK) {
                return NGX_ERROR;
            }
            rp->chunk_left -= take;
            i += take;
            if (rp->chunk_left == 0) {
                rp->chunk_state = NGX_HTTP_ECHOSTREAM_CHUNK_DATA_CR;
            }
            break;

        case NGX_HTTP_ECHOSTREAM_CHUNK_DATA_CR:
        case NGX_HTTP_ECHOSTREAM_CHUNK_DATA_LF:
            if (ch == '\r' &&
                rp->chunk_state == NGX_HTTP_ECHOSTREAM_CHUNK_DATA_CR) {
                rp->chunk_state = NGX_HTTP_ECHOSTREAM_CHUNK_DATA_LF;
                i++;
                break;
            }
            if (ch != '\n') {
                goto malformed;
            }
            rp->chunk_state = NGX_HTTP_ECHOSTREAM_CHUNK_SIZE;
            rp->chunk_digits = 0;
            i++;
            break;

        case NGX_HTTP_ECHOSTREAM_CHUNK_TRAILER:
            if (ch == '\n') {
                return NGX_OK;
            }
            rp->chunk_state = (ch == '\r')
                                  ? NGX_HTTP_ECHOSTREAM_CHUNK_LAST_LF
                                  : NGX_HTTP_ECHOSTREAM_CHUNK_TRAILER_LINE;
            i++;
            break;

        case NGX_HTTP_ECHOSTREAM_CHUNK_TRAILER_LINE:
            if (ch == '\n') {
                rp->chunk_state = NGX_HTTP_ECHOSTREAM_CHUNK_TRAILER;
            }
            i++;
            break;

        default: /* NGX_HTTP_ECHOSTREAM_CHUNK_LAST_LF */
            if (ch != '\n') {
                goto malformed;
            }
            return NGX_OK;
        }

        continue;

    size_done:

        /* the LF ending a chunk-size line */
        i++;

        if (rp->chunk_left == 0) {
            rp->chunk_state = NGX_HTTP_ECHOSTREAM_CHUNK_TRAILER;

        } else if (rp->chunk_left > rp->max_body - rp->body_len) {
            goto too_large;

        } else {
            rp->chunk_state = NGX_HTTP_ECHOSTREAM_CHUNK_DATA;
        }
    }

    return NGX_AGAIN;

malformed:

    ngx_http_echostream_http_response_fail(rp, "malformed chunked body");
    return NGX_ERROR;

too_large:

    ngx_http_echostream_http_response_fail(
        rp, "response body larger than %uz bytes", rp->max_body);
    return NGX_ERROR;
}

static ngx_int_t
ngx_http_echostream_http_response_append(ngx_http_echostream_resp_t *rp,
                                         u_char *p, size_t n)
{
    if (n > rp->max_body - rp->body_len) {
        ngx_http_echostream_http_response_fail(
            rp, "response body larger than %uz bytes", rp->max_body);
        return NGX_ERROR;
    }

    ngx_memcpy(rp->body + rp->body_len, p, n);
    rp->body_len += n;

    return NGX_OK;
}

/* Writes the reason of a refusal into the caller's buffer. */
static void
ngx_http_echostream_http_response_fail(ngx_http_echostream_resp_t *rp,
                                       const char *fmt, ...)
{
    va_list args;
    u_char *p;

    va_start(args, fmt);
    p = ngx_vslprintf(rp->error, rp->error + rp->errlen - 1, fmt, args);
    va_end(args);

    *p = '\0';
}
