/*
 * fmt.h - number formatting for the worker's hot paths (write arguments,
 * record JSON, key names), where snprintf's format parsing cost more than
 * the rest of building a call. The output is byte for byte what "%lld" and
 * "%.4f" print.
 */
#ifndef ES_ENRICH_FMT_H
#define ES_ENRICH_FMT_H

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Room for any long long, with its sign. */
#define ES_FMT_LL_MAX 21

/* Room for any double in "%.4f" (DBL_MAX has 309 digits), with its NUL. */
#define ES_FMT_FIXED4_MAX 320

/* Writes v as "%lld" would (no NUL); returns the length. */
static inline size_t es_fmt_ll(char *out, long long v)
{
    char tmp[ES_FMT_LL_MAX];
    unsigned long long u =
        v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    size_t n = 0, len;

    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0) {
        tmp[sizeof(tmp) - 1 - n++] = '-';
    }
    len = n;
    memcpy(out, tmp + sizeof(tmp) - n, len);
    return len;
}

/*
 * Writes v as "%.4f" would (out has room for ES_FMT_FIXED4_MAX bytes; a
 * NUL may follow the text); returns the length. A value that is a whole number
 * of ten-thousandths, as VADER's rounded scores are, is printed from that
 * integer; any other (a Comprehend probability) goes through snprintf, which
 * rounds it right.
 */
static inline size_t es_fmt_fixed4(char *out, double v)
{
    double y = v * 10000.0, r;
    long long k;
    size_t n = 0;

    if (!(fabs(y) < 1e15)) {
        return (size_t)snprintf(out, ES_FMT_FIXED4_MAX, "%.4f", v);
    }
    r = (double)(long long)(y + (y < 0 ? -0.5 : 0.5));
    if (fabs(y - r) > 1e-6) {
        return (size_t)snprintf(out, ES_FMT_FIXED4_MAX, "%.4f", v);
    }
    k = (long long)r;
    if (k < 0 || (k == 0 && signbit(v))) {
        out[n++] = '-';
        k = -k;
    }
    n += es_fmt_ll(out + n, k / 10000);
    out[n++] = '.';
    out[n++] = (char)('0' + k / 1000 % 10);
    out[n++] = (char)('0' + k / 100 % 10);
    out[n++] = (char)('0' + k / 10 % 10);
    out[n++] = (char)('0' + k % 10);
    return n;
}

#endif
