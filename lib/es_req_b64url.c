/*
 * es_req_b64url.c - canonical base64url (es_req_b64url.h).
 */
#include "es_req_b64url.h"

static const char es_req_b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6 bits of character c, or -1 outside the alphabet. */
static int es_req_b64url_bits(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

size_t es_req_b64url_encode(const unsigned char *src, size_t n, char *out)
{
    unsigned long v;
    size_t i, o;

    o = 0;
    for (i = 0; i + 3 <= n; i += 3) {
        v = (unsigned long)src[i] << 16 | (unsigned long)src[i + 1] << 8 |
            src[i + 2];
        out[o++] = es_req_b64url_chars[(v >> 18) & 63];
        out[o++] = es_req_b64url_chars[(v >> 12) & 63];
        out[o++] = es_req_b64url_chars[(v >> 6) & 63];
        out[o++] = es_req_b64url_chars[v & 63];
    }

    if (n - i == 1) {
        v = (unsigned long)src[i] << 16;
        out[o++] = es_req_b64url_chars[(v >> 18) & 63];
        out[o++] = es_req_b64url_chars[(v >> 12) & 63];
    } else if (n - i == 2) {
        v = (unsigned long)src[i] << 16 | (unsigned long)src[i + 1] << 8;
        out[o++] = es_req_b64url_chars[(v >> 18) & 63];
        out[o++] = es_req_b64url_chars[(v >> 12) & 63];
        out[o++] = es_req_b64url_chars[(v >> 6) & 63];
    }

    out[o] = '\0';
    return o;
}

int es_req_b64url_decode(const char *src, size_t n, unsigned char *out,
                         size_t size, size_t *outlen)
{
    unsigned long v;
    size_t i, j, o, k, rest;
    int b;

    /* one character alone holds only 6 bits: no byte ends there */
    rest = n % 4;
    if (rest == 1 || n / 4 * 3 + (rest ? rest - 1 : 0) > size) {
        return -1;
    }

    o = 0;
    for (i = 0; i < n; i += 4) {
        k = n - i < 4 ? n - i : 4;
        v = 0;
        for (j = 0; j < 4; j++) {
            b = j < k ? es_req_b64url_bits((unsigned char)src[i + j]) : 0;
            if (b < 0) {
                return -1;
            }
            v = v << 6 | (unsigned long)b;
        }

        /* the bits below the last byte must be zero (canonical text) */
        if ((k == 2 && (v & 0xffff) != 0) || (k == 3 && (v & 0xff) != 0)) {
            return -1;
        }

        out[o++] = (unsigned char)(v >> 16);
        if (k > 2) {
            out[o++] = (unsigned char)(v >> 8);
        }
        if (k > 3) {
            out[o++] = (unsigned char)v;
        }
    }

    *outlen = o;
    return 0;
}
