/*
 * resp.c - Redis commands in wire format in a growing buffer (see resp.h).
 *
 * Every argument is "$<length>\r\n<bytes>\r\n" after a "*<count>\r\n"
 * header; a length takes at most 20 digits, so 25 bytes of framing per
 * argument always suffice for the reservation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resp.h"

#define FRAME 25 /* "$" + 20 digits + 2 CRLF */

int es_resp_reserve(es_resp *b, int argc, size_t arg_bytes)
{
    size_t need = b->len + FRAME + (size_t)argc * FRAME + arg_bytes;
    size_t cap = b->cap ? b->cap : 1 << 16;
    char *np;

    if (need <= b->cap) {
        return 0;
    }
    while (cap < need) {
        cap *= 2;
    }
    np = realloc(b->p, cap);
    if (np == NULL) {
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

/* decimal digits of v at o; returns the end */
static char *put_digits(char *o, unsigned long long v)
{
    char tmp[24];
    size_t n = 0;

    /* lengths and counts are mostly below 100: no loop for them */
    if (v < 10) {
        *o++ = (char)('0' + v);
        return o;
    }
    if (v < 100) {
        *o++ = (char)('0' + v / 10);
        *o++ = (char)('0' + v % 10);
        return o;
    }
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0) {
        *o++ = tmp[--n];
    }
    return o;
}

static void put_num(es_resp *b, char lead, unsigned long long v)
{
    char *o = b->p + b->len;

    *o++ = lead;
    o = put_digits(o, v);
    *o++ = '\r';
    *o++ = '\n';
    b->len = (size_t)(o - b->p);
}

void es_resp_argc(es_resp *b, int argc)
{
    put_num(b, '*', (unsigned long long)argc);
}

void es_resp_arg(es_resp *b, const char *s, size_t n)
{
    put_num(b, '$', n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len++] = '\r';
    b->p[b->len++] = '\n';
}

void es_resp_arg_str(es_resp *b, const char *s)
{
    es_resp_arg(b, s, strlen(s));
}

void es_resp_arg_ull(es_resp *b, unsigned long long v)
{
    char out[24];

    es_resp_arg(b, out, (size_t)(put_digits(out, v) - out));
}

int es_resp_cmd(es_resp *b, int argc, const char *const *argv)
{
    size_t bytes = 0;

    for (int i = 0; i < argc; i++) {
        bytes += strlen(argv[i]);
    }
    if (es_resp_reserve(b, argc, bytes) != 0) {
        return -1;
    }
    es_resp_argc(b, argc);
    for (int i = 0; i < argc; i++) {
        es_resp_arg_str(b, argv[i]);
    }
    return 0;
}

void es_resp_clear(es_resp *b)
{
    b->len = 0;
}

void es_resp_free(es_resp *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Reads more bytes, keeping what is unread; 0 or -1. */
/* Room for need more bytes after the unread ones; 0 or -1. */
static int room(es_resp_in *r, size_t need)
{
    if (r->pos > 0 && (r->pos == r->len || r->cap - r->len < need)) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->cap - r->len < need || r->cap - r->len < 4096) {
        size_t cap = r->cap ? r->cap : 1 << 16;
        char *nb;
        while (cap - r->len < need || cap - r->len < 4096) {
            cap *= 2;
        }
        nb = realloc(r->buf, cap);
        if (nb == NULL) {
            return -1;
        }
        r->buf = nb;
        r->cap = cap;
    }
    return 0;
}

/*
 * Reads more bytes, keeping what is unread; with wait, blocks until at
 * least need bytes came (or the socket's timeout). 0 or -1.
 */
static int fill_wait(es_resp_in *r, int fd, size_t need, int wait)
{
    ssize_t got;

    if (room(r, need) != 0) {
        return -1;
    }
    do {
        got = wait ? recv(fd, r->buf + r->len, need, MSG_WAITALL)
                   : read(fd, r->buf + r->len, r->cap - r->len);
    } while (got < 0 && errno == EINTR);
    if (got <= 0 || (wait && (size_t)got < need)) {
        if (got > 0) {
            r->len += (size_t)got;
        }
        return -1;
    }
    r->len += (size_t)got;
    return 0;
}

static int fill(es_resp_in *r, int fd, size_t need)
{
    return fill_wait(r, fd, need, 0);
}

int es_resp_in_wait(es_resp_in *r, int fd, size_t n)
{
    if (r->len - r->pos >= n) {
        return 0;
    }
    return fill_wait(r, fd, n - (r->len - r->pos), 1);
}

int es_resp_in_line(es_resp_in *r, int fd, char *type, const char **s,
                    size_t *n)
{
    for (;;) {
        char *start = r->buf + r->pos;
        size_t avail = r->len - r->pos;
        char *lf = avail > 0 ? memchr(start, '\n', avail) : NULL;

        if (lf != NULL) {
            /* a reply line: type, text, CR LF (text holds neither) */
            if (lf - start < 2 || lf[-1] != '\r' ||
                memchr("+-:$*", *start, 5) == NULL) {
                return -1;
            }
            *type = *start;
            *s = start + 1;
            *n = (size_t)(lf - 1 - (start + 1));
            r->pos = (size_t)(lf + 1 - r->buf);
            return 0;
        }
        if (fill(r, fd, 1) != 0) {
            return -1;
        }
    }
}

int es_resp_in_num(const char *s, size_t n, long long *v)
{
    long long x = 0;
    int neg = 0;
    size_t i = 0;

    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 18) {
        return -1;
    }
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        x = x * 10 + (s[i] - '0');
    }
    *v = neg ? -x : x;
    return 0;
}

int es_resp_in_bulk(es_resp_in *r, int fd, size_t len, const char **s)
{
    while (r->len - r->pos < len + 2) {
        if (fill(r, fd, len + 2 - (r->len - r->pos)) != 0) {
            return -1;
        }
    }
    if (r->buf[r->pos + len] != '\r' || r->buf[r->pos + len + 1] != '\n') {
        return -1;
    }
    *s = r->buf + r->pos;
    r->pos += len + 2;
    return 0;
}

int es_resp_in_pending(const es_resp_in *r)
{
    return r->pos < r->len;
}

void es_resp_in_reset(es_resp_in *r)
{
    r->len = r->pos = 0;
}

void es_resp_in_free(es_resp_in *r)
{
    free(r->buf);
    r->buf = NULL;
    r->len = r->pos = r->cap = 0;
}
