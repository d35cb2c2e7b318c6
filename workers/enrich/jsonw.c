/*
 * jsonw.c - JSON text appending (see jsonw.h).
 *
 * A string is validated and escaped in one pass, eight bytes at a time
 * while they are plain ASCII (no quote, backslash or control character):
 * comment bodies are copied twice per comment (archive line, record), so
 * this is one of the worker's hot loops. Text that is not valid UTF-8 (or
 * holds a NUL) is repaired first and written again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "es_utf8.h"
#include "jsonw.h"

void es_jsonw_raw(es_jsonw *w, const char *p, size_t n)
{
    if (w->oom) {
        return;
    }
    if (w->len + n + 1 > w->cap) {
        size_t nc = w->cap ? w->cap : 4096;
        char *nb;
        while (nc < w->len + n + 1) {
            nc *= 2;
        }
        nb = realloc(w->buf, nc);
        if (nb == NULL) {
            w->oom = 1;
            return;
        }
        w->buf = nb;
        w->cap = nc;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* Makes room for n more bytes (and a NUL); 0, or -1 (w->oom set). */
static int reserve(es_jsonw *w, size_t n)
{
    size_t nc = w->cap ? w->cap : 4096;
    char *nb;

    if (w->oom) {
        return -1;
    }
    if (w->len + n + 1 <= w->cap) {
        return 0;
    }
    while (nc < w->len + n + 1) {
        nc *= 2;
    }
    nb = realloc(w->buf, nc);
    if (nb == NULL) {
        w->oom = 1;
        return -1;
    }
    w->buf = nb;
    w->cap = nc;
    return 0;
}

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* Whether a byte of x is below 0x20, '"', '\\' or not ASCII. */
static int special8(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');

    /* (v - ONES) & ~v & HIGH: a zero byte in v; with 0x20, one below it */
    return ((((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b) |
             x) &
            HIGH) != 0;
}

/*
 * Appends s[0..n) as a JSON string (quotes, backslashes and control
 * characters escaped). Returns 0, or -1 when s is not valid UTF-8 or holds
 * a NUL (nothing appended then) or memory ran out. Runs of eight plain
 * ASCII bytes are copied at once: comment bodies are mostly that.
 */
static int str_fast(es_jsonw *w, const char *s, size_t n, int quote)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, start = w->len;
    char *o;

    /* escapes are at most 6 bytes per input byte */
    if (reserve(w, 6 * n + 2) != 0) {
        return -1;
    }
    o = w->buf + w->len;
    if (quote) {
        *o++ = '"';
    }
    while (i < n) {
        unsigned c;

        while (n - i >= 8) {
            uint64_t x;

            memcpy(&x, u + i, 8);
            if (special8(x)) {
                break;
            }
            memcpy(o, u + i, 8);
            o += 8;
            i += 8;
        }
        if (i >= n) {
            break;
        }
        c = u[i];
        if (c >= 0x80) {
            size_t k = es_utf8_char_len(u + i, n - i);

            if (k == 0) {
                w->len = start;
                return -1;
            }
            memcpy(o, u + i, k);
            o += k;
            i += k;
            continue;
        }
        i++;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case 0:
            w->len = start; /* NUL is repaired, as invalid UTF-8 is */
            return -1;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = "0123456789abcdef"[c >> 4];
            *o++ = "0123456789abcdef"[c & 15];
            break;
        }
    }
    if (quote) {
        *o++ = '"';
    }
    w->len = (size_t)(o - w->buf);
    w->buf[w->len] = '\0';
    return 0;
}

/* s[0..n) escaped, in quotes or not; invalid UTF-8 repaired first */
static void str(es_jsonw *w, const char *s, size_t n, int quote)
{
    char *fixed;
    size_t fl;

    if (str_fast(w, s, n, quote) == 0 || w->oom) {
        return;
    }
    fixed = malloc(3 * n + 1);
    if (fixed == NULL) {
        w->oom = 1;
        return;
    }
    fl = es_utf8_repair(s, n, fixed, 3 * n + 1);
    if (fl == (size_t)-1 || str_fast(w, fixed, fl, quote) != 0) {
        w->oom = 1;
    }
    free(fixed);
}

void es_jsonw_str(es_jsonw *w, const char *s, size_t n)
{
    str(w, s, n, 1);
}

void es_jsonw_esc(es_jsonw *w, const char *s, size_t n)
{
    str(w, s, n, 0);
}

void es_jsonw_key(es_jsonw *w, const char *name)
{
    es_jsonw_str(w, name, strlen(name));
    es_jsonw_raw(w, ":", 1);
}

void es_jsonw_free(es_jsonw *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}
