/*
 * es_utf8.c - UTF-8 validation and repair (see es_utf8.h).
 *
 * A plain byte-at-a-time decoder following the table in RFC 3629 section 4:
 * it is branchy but simple, and ASCII (most comment text) takes the fast
 * path of one compare per byte; validation, which a backfill runs over
 * every field of every comment, checks runs of ASCII eight bytes a step.
 */
#include <string.h>

#include "es_utf8.h"

size_t es_utf8_char_len(const unsigned char *s, size_t n)
{
    unsigned char c;

    if (n == 0) {
        return 0;
    }
    c = s[0];
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        return (n >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = 0x80, hi = 0xbf;
        if (c == 0xe0) {
            lo = 0xa0; /* overlong */
        } else if (c == 0xed) {
            hi = 0x9f; /* surrogates */
        }
        if (n < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = 0x80, hi = 0xbf;
        if (c == 0xf0) {
            lo = 0x90; /* overlong */
        } else if (c == 0xf4) {
            hi = 0x8f; /* above U+10FFFF */
        }
        if (n < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80) {
            return 0;
        }
        return 4;
    }
    return 0;
}

/* 1 when the eight bytes of x are ASCII and none is NUL */
static int ascii8(uint64_t x)
{
    const uint64_t high = 0x8080808080808080ULL;

    /* no high bit; then x - 0x01.. borrows into a high bit only at 0 */
    return (x & high) == 0 && ((x - 0x0101010101010101ULL) & high) == 0;
}

int es_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        /* most text is ASCII: eight bytes a step */
        while (n - i >= 8) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            if (!ascii8(x)) {
                break;
            }
            i += 8;
        }
        if (i >= n) {
            break;
        }
        if (p[i] != 0 && p[i] < 0x80) {
            i++;
            continue;
        }
        if (p[i] == 0) {
            return 0;
        }
        size_t len = es_utf8_char_len(p + i, n - i);
        if (len == 0) {
            return 0;
        }
        i += len;
    }
    return 1;
}

size_t es_utf8_repair(const char *s, size_t n, char *out, size_t out_size)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;

    while (i < n) {
        size_t len = p[i] == 0 ? 0 : es_utf8_char_len(p + i, n - i);
        if (len == 0) {
            if (o + 3 + 1 > out_size) {
                return (size_t)-1;
            }
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            continue;
        }
        if (o + len + 1 > out_size) {
            return (size_t)-1;
        }
        memcpy(out + o, s + i, len);
        o += len;
        i += len;
    }
    if (o + 1 > out_size) {
        return (size_t)-1;
    }
    out[o] = '\0';
    return o;
}

size_t es_utf8_cut(const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k;

    if (n <= max) {
        return n;
    }
    k = max;
    /* step back over continuation bytes to the start of a character */
    while (k > 0 && (p[k] & 0xc0) == 0x80) {
        k--;
    }
    return k;
}
