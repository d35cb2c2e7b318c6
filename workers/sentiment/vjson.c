/*
 * vjson.c - the JSON line of a VADER result (see vjson.h).
 *
 * A number rounded to d decimals is k / 10^d for an integer k; the double
 * nearest to it, times 10^d, lies within a rounding error of k, so
 * rounding to the nearest whole number gives k back exactly. Python prints such
 * a number with its integer part, a point and the decimals without trailing
 * zeros, at least one: 0.0, 1.0, 0.5, 0.492, -0.4767; a negative zero is
 * "-0.0".
 */
#include <math.h>
#include <string.h>

#include "vjson.h"

/* Appends x, a multiple of 10^-digits (3 or 4), as Python prints it. */
static char *put_rounded(char *o, double x, int digits)
{
    unsigned long long k, ip;
    unsigned frac, d[4], n;
    char tmp[24];
    int i = 0;

    if (!isfinite(x) || fabs(x) > 1e12) {
        x = isfinite(x) ? (x > 0 ? 1e12 : -1e12) : 0.0;
    }
    if (signbit(x)) {
        *o++ = '-';
    }
    /* within a rounding error of a whole number: + 0.5 and truncation
       find it (nearbyint would be a library call) */
    k = (unsigned long long)(fabs(x) * (digits == 3 ? 1e3 : 1e4) + 0.5);
    /* constant divisors: the compiler multiplies instead of dividing */
    if (digits == 3) {
        ip = k / 1000;
        frac = (unsigned)(k % 1000);
        d[0] = frac / 100;
        d[1] = frac / 10 % 10;
        d[2] = frac % 10;
        d[3] = 0;
    } else {
        ip = k / 10000;
        frac = (unsigned)(k % 10000);
        d[0] = frac / 1000;
        d[1] = frac / 100 % 10;
        d[2] = frac / 10 % 10;
        d[3] = frac % 10;
    }
    if (ip < 10) {
        *o++ = (char)('0' + ip);
    } else {
        do {
            tmp[i++] = (char)('0' + ip % 10);
            ip /= 10;
        } while (ip > 0);
        while (i > 0) {
            *o++ = tmp[--i];
        }
    }
    *o++ = '.';
    /* the decimals without trailing zeros, at least one */
    n = (unsigned)digits;
    while (n > 1 && d[n - 1] == 0) {
        n--;
    }
    o[0] = (char)('0' + d[0]);
    o[1] = (char)('0' + d[1]);
    o[2] = (char)('0' + d[2]);
    o[3] = (char)('0' + d[3]);
    return o + n;
}

size_t es_vader_json(const es_sentiment *s, char *buf)
{
    const char *label = es_label_name(s->label);
    size_t len = strlen(label);
    char *o = buf;

    memcpy(o, "{\"neg\":", 7);
    o = put_rounded(o + 7, s->neg, 3);
    memcpy(o, ",\"neu\":", 7);
    o = put_rounded(o + 7, s->neu, 3);
    memcpy(o, ",\"pos\":", 7);
    o = put_rounded(o + 7, s->pos, 3);
    memcpy(o, ",\"compound\":", 12);
    o = put_rounded(o + 12, s->compound, 4);
    memcpy(o, ",\"label\":\"", 10);
    o += 10;
    memcpy(o, label, len);
    o += len;
    *o++ = '"';
    *o++ = '}';
    return (size_t)(o - buf);
}
