/*
 * ngx_stub.c - nginx core functions for module code run outside nginx
 * (see ngx_stub.h for why and what they promise).
 */

#include "ngx_stub.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

ngx_pool_t ngx_stub_pool;

static void **allocs;
static size_t nallocs, cap;
static long fail_after = -1;

void *ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    void **grown, *p;

    (void)pool;
    if (fail_after == 0) {
        return NULL;
    }
    if (fail_after > 0) {
        fail_after--;
    }

    if (nallocs == cap) {
        cap = cap ? cap * 2 : 16;
        grown = realloc(allocs, cap * sizeof(void *));
        if (grown == NULL) {
            abort();
        }
        allocs = grown;
    }

    p = malloc(size ? size : 1);
    if (p == NULL) {
        return NULL;
    }
    allocs[nallocs++] = p;
    return p;
}

void ngx_stub_pool_free(void)
{
    size_t i;

    for (i = 0; i < nallocs; i++) {
        free(allocs[i]);
    }
    free(allocs);
    allocs = NULL;
    nallocs = cap = 0;
    fail_after = -1;
}

void ngx_stub_fail_after(long n)
{
    fail_after = n;
}

ngx_int_t ngx_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    ngx_uint_t c1, c2;

    while (n) {
        c1 = (ngx_uint_t)*s1++;
        c2 = (ngx_uint_t)*s2++;
        c1 = (c1 >= 'A' && c1 <= 'Z') ? (c1 | 0x20) : c1;
        c2 = (c2 >= 'A' && c2 <= 'Z') ? (c2 | 0x20) : c2;
        if (c1 == c2) {
            if (c1) {
                n--;
                continue;
            }
            return 0;
        }
        return c1 - c2;
    }
    return 0;
}

/* appends s[0..n) within [buf, last) */
static u_char *stub_put(u_char *buf, u_char *last, const char *s, size_t n)
{
    while (n-- && buf < last) {
        *buf++ = (u_char)*s++;
    }
    return buf;
}

u_char *ngx_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    char num[32];
    const char *s;
    int n;

    while (*fmt && buf < last) {
        if (*fmt != '%') {
            *buf++ = (u_char)*fmt++;
            continue;
        }
        fmt++;
        if (*fmt == '%') {
            *buf++ = '%';
            fmt++;
            continue;
        }
        if (fmt[0] == '*' && fmt[1] == 's') {
            n = (int)va_arg(args, size_t);
            s = va_arg(args, const char *);
            buf = stub_put(buf, last, s, (size_t)n);
            fmt += 2;
            continue;
        }
        if (*fmt == 's') {
            s = va_arg(args, const char *);
            buf = stub_put(buf, last, s, strlen(s));
            fmt++;
            continue;
        }
        if (fmt[0] == 'u' && fmt[1] == 'z') {
            n = snprintf(num, sizeof(num), "%zu", va_arg(args, size_t));
            fmt += 2;
        } else if (fmt[0] == 'u' && fmt[1] == 'i') {
            n = snprintf(num, sizeof(num), "%lu",
                         (unsigned long)va_arg(args, ngx_uint_t));
            fmt += 2;
        } else if (fmt[0] == 'i') {
            n = snprintf(num, sizeof(num), "%ld",
                         (long)va_arg(args, ngx_int_t));
            fmt++;
        } else if (fmt[0] == 'd') {
            n = snprintf(num, sizeof(num), "%d", va_arg(args, int));
            fmt++;
        } else if (fmt[0] == 'O') {
            n = snprintf(num, sizeof(num), "%lld",
                         (long long)va_arg(args, off_t));
            fmt++;
        } else {
            fprintf(stderr, "ngx_stub: ngx_vslprintf: unsupported %%%c\n",
                    *fmt);
            abort();
        }
        buf = stub_put(buf, last, num, (size_t)n);
    }

    return buf;
}
