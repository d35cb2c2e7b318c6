/*
 * es_sentiment.c - labels, NLTK-style rounding and the JSON form of a
 * sentiment.
 *
 * NLTK returns round(neg, 3), round(neu, 3), round(pos, 3) and
 * round(compound, 4); Python rounds the exact binary value of the double to
 * the nearest decimal, ties to even, and the result is the double nearest
 * that decimal. Here the scaled value is rounded with nearbyint(), which is
 * exact except within a hair of a half-way point; only those rare values
 * take the slow, exact path through printf's correctly rounded conversion.
 * The JSON printer then writes the decimal digits directly (no printf in
 * the common path), the way Python's repr would show the rounded value.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_sentiment.h"

static const char *const label_names[] = {"neutral", "positive", "negative",
                                          "mixed"};

const char *es_label_name(es_label l)
{
    if ((unsigned)l > ES_LABEL_MIXED) {
        return "neutral";
    }
    return label_names[l];
}

int es_label_parse(const char *s, es_label *out)
{
    int i;

    if (s == NULL) {
        return -1;
    }
    for (i = 0; i <= ES_LABEL_MIXED; i++) {
        if (strcmp(s, label_names[i]) == 0) {
            *out = (es_label)i;
            return 0;
        }
    }
    return -1;
}

es_label es_label_from_compound(double compound)
{
    /* without a branch: a score's side is as good as random */
    static const es_label l[3] = {ES_LABEL_NEUTRAL, ES_LABEL_POSITIVE,
                                  ES_LABEL_NEGATIVE};

    return l[(compound >= 0.05) + 2 * (compound <= -0.05)];
}

/*
 * nearbyint(y) in the default rounding mode (ties to even), without the
 * libm call: adding and taking back 2^52 leaves no fraction bits, and the
 * sum's own rounding is the one wanted. |y| >= 2^52 is already whole. The
 * magnitude is rounded and the sign put back, so there is no branch on the
 * sign (as good as random for a compound score).
 */
static double round_even(double y)
{
    const double two52 = 4503599627370496.0;
    double a = fabs(y);

#if FLT_EVAL_METHOD != 0
    return nearbyint(y); /* extended precision would defeat the trick */
#endif
    return copysign(a >= two52 ? a : (a + two52) - two52, y);
}

/*
 * x rounded to `digits` decimals (3 or 4) as Python's round(); *units gets
 * the rounded value times 10^digits and *neg its sign (for "-0.0").
 */
static double round_dec(double x, int digits, long long *units, int *neg)
{
    double scale = digits == 3 ? 1e3 : 1e4, y, r;

    if (!isfinite(x) || fabs(x) > 1e12) {
        x = isfinite(x) ? (x > 0 ? 1e12 : -1e12) : 0.0;
    }
    y = x * scale;
    r = round_even(y);
    /* |y - r| is the distance to the nearer whole number (exact: y and r
       are within 0.5 of each other), 0.5 at a tie */
    if (fabs(fabs(y - r) - 0.5) < 1e-6) {
        /* near a tie: let the correctly rounded conversion decide */
        char buf[64], *dot;

        snprintf(buf, sizeof(buf), "%.*f", digits, x);
        r = strtod(buf, NULL);
        dot = strchr(buf, '.');
        if (dot != NULL) {
            memmove(dot, dot + 1, strlen(dot));
        }
        *units = llabs(strtoll(buf, NULL, 10));
        *neg = buf[0] == '-';
        return r;
    }
    *units = (long long)fabs(r);
    *neg = signbit(x) != 0;
    return r / scale;
}

es_sentiment es_sentiment_nltk_round(const es_sentiment *s)
{
    es_sentiment r = *s;
    long long u;
    int neg;

    r.neg = round_dec(s->neg, 3, &u, &neg);
    r.neu = round_dec(s->neu, 3, &u, &neg);
    r.pos = round_dec(s->pos, 3, &u, &neg);
    r.compound = round_dec(s->compound, 4, &u, &neg);
    if (r.compound == 0.0 && neg) {
        r.compound = -0.0;
    }
    return r;
}

/* Appends units / 10^digits as Python prints it: "-0.4767", "0.5", "1.0". */
static char *put_num(char *o, long long units, int digits, int neg)
{
    /* constant divisors: the compiler multiplies instead of dividing */
    long long ip = digits == 3 ? units / 1000 : units / 10000;
    long long frac = digits == 3 ? units % 1000 : units % 10000;
    char tmp[24];
    int n = 0, k;

    if (neg) {
        *o++ = '-';
    }
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip > 0);
    while (n > 0) {
        *o++ = tmp[--n];
    }
    *o++ = '.';
    if (frac == 0) {
        *o++ = '0';
        return o;
    }
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    for (k = digits - 1; k >= 0; k--) {
        tmp[k] = (char)('0' + frac % 10);
        frac /= 10;
    }
    memcpy(o, tmp, (size_t)digits);
    return o + digits;
}

int es_sentiment_json(const es_sentiment *s, char *buf, size_t size)
{
    char tmp[160], *o = tmp;
    const char *label = es_label_name(s->label);
    long long u;
    int neg;
    size_t len;

    memcpy(o, "{\"neg\":", 7);
    round_dec(s->neg, 3, &u, &neg);
    o = put_num(o + 7, u, 3, neg);
    memcpy(o, ",\"neu\":", 7);
    round_dec(s->neu, 3, &u, &neg);
    o = put_num(o + 7, u, 3, neg);
    memcpy(o, ",\"pos\":", 7);
    round_dec(s->pos, 3, &u, &neg);
    o = put_num(o + 7, u, 3, neg);
    memcpy(o, ",\"compound\":", 12);
    round_dec(s->compound, 4, &u, &neg);
    o = put_num(o + 12, u, 4, neg);
    memcpy(o, ",\"label\":\"", 10);
    o += 10;
    len = strlen(label);
    memcpy(o, label, len);
    o += len;
    *o++ = '"';
    *o++ = '}';
    len = (size_t)(o - tmp);
    if (len + 1 > size) {
        return -1;
    }
    memcpy(buf, tmp, len);
    buf[len] = '\0';
    return (int)len;
}
