/*
 * resp.c - Redis commands in wire format in a growing buffer (see resp.h).
 *
 * Every argument is "$<length>\r\n<bytes>\r\n" after a "*<count>\r\n"
 * header; a length takes at most 20 digits, so 25 bytes of framing per
 * argument always suffice for the reservation.
 */
#include <stdlib.h>
#include <string.h>

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

static void put_num(es_resp *b, char lead, unsigned long long v)
{
    char tmp[24];
    size_t n = 0;
    char *o = b->p + b->len;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    *o++ = lead;
    while (n > 0) {
        *o++ = tmp[--n];
    }
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
    char tmp[24];
    size_t n = 0, i;
    char out[24];

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    for (i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    es_resp_arg(b, out, n);
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
