/*
 * textbuf.c - a growing text buffer (textbuf.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

static int grow(es_tb *b, size_t need)
{
    size_t cap;
    char *s;

    if (b->failed) {
        return -1;
    }
    if (b->len + need + 1 <= b->cap) {
        return 0;
    }
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + need + 1) {
        cap *= 2;
    }
    s = realloc(b->s, cap);
    if (s == NULL) {
        b->failed = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

void es_tb_put(es_tb *b, const char *s, size_t n)
{
    if (grow(b, n) != 0) {
        return;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void es_tb_printf(es_tb *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) != 0) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void es_tb_put_escaped(es_tb *b, const char *s, const char *newline)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            es_tb_put(b, "&amp;", 5);
            break;
        case '<':
            es_tb_put(b, "&lt;", 4);
            break;
        case '>':
            es_tb_put(b, "&gt;", 4);
            break;
        case '"':
            es_tb_put(b, "&quot;", 6);
            break;
        case '\n':
            es_tb_put(b, newline, strlen(newline));
            break;
        case '\r':
            break;
        case '\t':
            es_tb_put(b, " ", 1);
            break;
        default:
            es_tb_put(b, s, 1);
        }
    }
}

char *es_tb_take(es_tb *b)
{
    char *s = b->failed ? NULL : b->s;

    if (b->failed) {
        free(b->s);
    } else if (s == NULL) {
        s = strdup("");
    }
    memset(b, 0, sizeof(*b));
    return s;
}

void es_tb_free(es_tb *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}
