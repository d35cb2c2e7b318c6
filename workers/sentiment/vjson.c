/*
 * vjson.c - the JSON line of a VADER result (see vjson.h).
 *
 * A number rounded to d decimals is k / 10^d for an integer k; the double
 * nearest to it, times 10^d, lies within a rounding error of k, so
 * rounding to the nearest whole number gives k back exactly. Python prints such
 * a number with its integer part, a point and the decimals without trailing
 * zeros, at least one: 0.0, 1.0, 0.5, 0.492, -0.4767; a negative zero is
 * "-0.0".
 *
 * VADER's numbers are between -1 and 1, so the common case is an integer
 * part of 0 or 1 and decimals taken two at a time from a table of the pairs
 * 00-99: a handful of operations and no division. Anything else (outside
 * that range, not finite) takes the general digit loop.
 */
#include <math.h>
#include <string.h>

#include "vjson.h"

/* "00" to "99", two characters each */
static const char pairs[] = "00010203040506070809"
                            "10111213141516171819"
                            "20212223242526272829"
                            "30313233343536373839"
                            "40414243444546474849"
                            "50515253545556575859"
                            "60616263646566676869"
                            "70717273747576777879"
                            "80818283848586878889"
                            "90919293949596979899";

/* Per pair of decimals 00-99: how many of its two digits are printed when
   nothing follows it (trailing zeros dropped): 0, 1 or 2. */
static const unsigned char digits[100] = {
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Appends x, a multiple of 10^-digits (3 or 4), as Python prints it: the
   general way, for any x. */
static char *put_general(char *o, double x, int digits)
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
    do {
        tmp[i++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip > 0);
    while (i > 0) {
        *o++ = tmp[--i];
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

/*
 * Appends x (a multiple of 0.001) as Python prints it; the table way when
 * 0 <= x <= 1, as neg, neu and pos always are. Writes up to 8 bytes.
 */
static char *put3(char *o, double x)
{
    unsigned k, frac, lo;

    if (!(x >= 0.0 && x <= 1.0) || signbit(x)) {
        return put_general(o, x, 3);
    }
    k = (unsigned)(x * 1e3 + 0.5);
    frac = k - (k >= 1000 ? 1000 : 0);
    lo = frac % 100;
    o[0] = (char)('0' + (k >= 1000));
    o[1] = '.';
    o[2] = (char)('0' + frac / 100);
    memcpy(o + 3, pairs + 2 * lo, 2);
    /* ".d", ".dd" or ".ddd": trailing zeros dropped, one digit kept */
    return o + 3 + digits[lo];
}

/*
 * Appends x (a multiple of 0.0001) as Python prints it; the table way when
 * -1 <= x <= 1, as compound always is. Writes up to 9 bytes.
 */
static char *put4(char *o, double x)
{
    unsigned k, frac, hi, lo;
    double a = fabs(x);

    if (!(a <= 1.0)) {
        return put_general(o, x, 4);
    }
    if (signbit(x)) {
        *o++ = '-';
    }
    k = (unsigned)(a * 1e4 + 0.5);
    frac = k - (k >= 10000 ? 10000 : 0);
    hi = frac / 100;
    lo = frac % 100;
    o[0] = (char)('0' + (k >= 10000));
    o[1] = '.';
    memcpy(o + 2, pairs + 2 * hi, 2);
    memcpy(o + 4, pairs + 2 * lo, 2);
    /* the digits that are not trailing zeros, at least one */
    return o + 2 + (lo != 0 ? 2 + digits[lo] : digits[hi] + (hi == 0));
}

size_t es_vader_json(const es_sentiment *s, char *buf)
{
    /* the end of the line per label, padded to a fixed copy of 24 */
    static const char ends[4][24] = {
        ",\"label\":\"neutral\"}", ",\"label\":\"positive\"}",
        ",\"label\":\"negative\"}", ",\"label\":\"mixed\"}"};
    static const unsigned char lens[4] = {19, 20, 20, 17};
    unsigned l = (unsigned)s->label <= ES_LABEL_MIXED ? (unsigned)s->label : 0;
    char *o = buf;

    memcpy(o, "{\"neg\":", 7);
    o = put3(o + 7, s->neg);
    memcpy(o, ",\"neu\":", 7);
    o = put3(o + 7, s->neu);
    memcpy(o, ",\"pos\":", 7);
    o = put3(o + 7, s->pos);
    memcpy(o, ",\"compound\":", 12);
    o = put4(o + 12, s->compound);
    memcpy(o, ends[l], sizeof(ends[l]));
    o += lens[l];
    return (size_t)(o - buf);
}
