/*
 * ngx_http_echostream_series_json.c - prints the JSON of a
 * /topics/{id}/series answer (see series_json.h).
 *
 * Printed by hand into the caller's buffer: the series route is the one
 * `make bench` measures against nginx's own "return 200", and building
 * 7 x points jansson values, or calling ngx_sprintf() per number, would be
 * most of its cost. Only the topic id is printed unescaped, and the router
 * validated it ([A-Za-z0-9_-]). Counts read from Redis are not trusted: a
 * negative one prints as 0 and the mean compound stays within [-1, 1].
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "api/ngx_http_echostream_series_json.h"

/* appends a string literal at q */
#define ngx_http_echostream_series_json_lit(q, lit)                            \
    ngx_cpymem(q, lit, sizeof(lit) - 1)

static u_char *ngx_http_echostream_series_json_time(u_char *p, int64_t ms);
static u_char *ngx_http_echostream_series_json_two(u_char *p, ngx_uint_t v);
static u_char *ngx_http_echostream_series_json_num(u_char *p, int64_t v);
static u_char *ngx_http_echostream_series_json_mean(u_char *p, int64_t cs,
                                                    int64_t n);

u_char *ngx_http_echostream_series_json_head(u_char *p, ngx_str_t *topic,
                                             const char *step, int64_t from,
                                             int64_t to)
{
    /* the topic id was validated by the router: [A-Za-z0-9_-]{1,64} */
    p = ngx_http_echostream_series_json_lit(p, "{\"topic\":\"");
    p = ngx_cpymem(p, topic->data, topic->len);
    p = ngx_http_echostream_series_json_lit(p, "\",\"step\":\"");
    p = ngx_cpymem(p, step, ngx_strlen(step));
    p = ngx_http_echostream_series_json_lit(p, "\",\"from\":\"");
    p = ngx_http_echostream_series_json_time(p, from);
    p = ngx_http_echostream_series_json_lit(p, "\",\"to\":\"");
    p = ngx_http_echostream_series_json_time(p, to);
    p = ngx_http_echostream_series_json_lit(p, "\",\"points\":");

    return p;
}

u_char *ngx_http_echostream_series_json_points(u_char *q, const int64_t *values,
                                               ngx_uint_t npoints, int64_t from,
                                               int64_t step)
{
    const int64_t *v;
    ngx_uint_t p;
    int64_t t;

    *q++ = '[';

    for (p = 0; p < npoints; p++) {
        v = &values[p * NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS];
        t = from + (int64_t)p * step;

        if (p > 0) {
            *q++ = ',';
        }
        q = ngx_http_echostream_series_json_lit(q, "{\"t\":\"");
        q = ngx_http_echostream_series_json_time(q, t);
        q = ngx_http_echostream_series_json_lit(q, "\",\"n\":");
        q = ngx_http_echostream_series_json_num(q, v[0]);
        q = ngx_http_echostream_series_json_lit(q, ",\"positive\":");
        q = ngx_http_echostream_series_json_num(q, v[1]);
        q = ngx_http_echostream_series_json_lit(q, ",\"negative\":");
        q = ngx_http_echostream_series_json_num(q, v[2]);
        q = ngx_http_echostream_series_json_lit(q, ",\"neutral\":");
        q = ngx_http_echostream_series_json_num(q, v[3]);
        q = ngx_http_echostream_series_json_lit(q, ",\"mixed\":");
        q = ngx_http_echostream_series_json_num(q, v[4]);
        q = ngx_http_echostream_series_json_lit(q, ",\"compound\":");
        q = ngx_http_echostream_series_json_mean(q, v[5], v[0]);
        *q++ = '}';
    }

    return ngx_http_echostream_series_json_lit(q, "]}\n");
}

/* Prints ms as "2026-11-25T14:00:00Z" (seconds; the fraction is cut). */
static u_char *ngx_http_echostream_series_json_time(u_char *p, int64_t ms)
{
    ngx_tm_t tm;

    ngx_gmtime((time_t)(ms / 1000), &tm);

    /* by hand: ngx_sprintf() is most of the cost of a point */
    p = ngx_http_echostream_series_json_two(p, tm.ngx_tm_year / 100);
    p = ngx_http_echostream_series_json_two(p, tm.ngx_tm_year % 100);
    *p++ = '-';
    p = ngx_http_echostream_series_json_two(p, tm.ngx_tm_mon);
    *p++ = '-';
    p = ngx_http_echostream_series_json_two(p, tm.ngx_tm_mday);
    *p++ = 'T';
    p = ngx_http_echostream_series_json_two(p, tm.ngx_tm_hour);
    *p++ = ':';
    p = ngx_http_echostream_series_json_two(p, tm.ngx_tm_min);
    *p++ = ':';
    p = ngx_http_echostream_series_json_two(p, tm.ngx_tm_sec);
    *p++ = 'Z';

    return p;
}

/* Two decimal digits of v (0..99). */
static u_char *ngx_http_echostream_series_json_two(u_char *p, ngx_uint_t v)
{
    *p++ = (u_char)('0' + v / 10);
    *p++ = (u_char)('0' + v % 10);

    return p;
}

/* A count in decimal; a negative one (damaged data) as 0. */
static u_char *ngx_http_echostream_series_json_num(u_char *p, int64_t v)
{
    u_char digits[NGX_INT64_LEN], *d;
    uint64_t u;

    u = v > 0 ? (uint64_t)v : 0;
    d = digits + sizeof(digits);

    do {
        *--d = (u_char)('0' + u % 10);
        u /= 10;
    } while (u != 0);

    return ngx_cpymem(p, d, digits + sizeof(digits) - d);
}

/*
 * Prints the mean compound cs / n / 10000 rounded to 4 decimals (half away
 * from zero, in integers so nothing is lost to binary fractions), kept
 * within [-1, 1]; "0.0" when n is 0. Trailing zeros are dropped: 0.25, 1.0.
 */
static u_char *ngx_http_echostream_series_json_mean(u_char *p, int64_t cs,
                                                    int64_t n)
{
    int64_t a, q, frac;

    if (n <= 0) {
        return ngx_cpymem(p, "0.0", 3);
    }

    a = cs < 0 ? -cs : cs;
    if (a / 10000 >= n) {
        q = 10000;

    } else {
        q = (2 * a + n) / (2 * n);
    }

    if (q == 0) {
        return ngx_cpymem(p, "0.0", 3);
    }

    if (cs < 0) {
        *p++ = '-';
    }

    *p++ = (u_char)('0' + q / 10000);
    *p++ = '.';

    frac = q % 10000;
    if (frac == 0) {
        *p++ = '0';
        return p;
    }

    p = ngx_http_echostream_series_json_two(p, (ngx_uint_t)(frac / 100));
    p = ngx_http_echostream_series_json_two(p, (ngx_uint_t)(frac % 100));
    while (p[-1] == '0') {
        p--;
    }

    return p;
}
