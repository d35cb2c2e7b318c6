/*
 * ngx_http_echostream_time.c - the API's times: RFC 3339 UTC out, RFC 3339
 * / plain dates / epoch seconds in.
 *
 * Written with the civil-from-days arithmetic instead of timegm() or
 * strptime(), which depend on the C library and the process's time zone;
 * everything the API shows is UTC.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_echostream_api.h"

static int64_t ngx_http_echostream_days_from_civil(int64_t y, unsigned m,
                                                   unsigned d);
static ngx_int_t ngx_http_echostream_digits(const u_char *p, size_t n,
                                            int64_t *out);

void ngx_http_echostream_api_time_str(int64_t ms, char *buf)
{
    int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;

    /* 0000-01-01 .. 9999-12-31: the output always fits its 21 bytes, even
     * for a stored value nobody checked */
    if (ms < -62167219200000LL) {
        ms = -62167219200000LL;
    } else if (ms > 253402300799999LL) {
        ms = 253402300799999LL;
    }

    days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    secs = (ms - days * 86400000) / 1000;

    /* days → civil date (Howard Hinnant's algorithm) */
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;

    (void)ngx_sprintf((u_char *)buf, "%04L-%02L-%02LT%02L:%02L:%02LZ%Z", y, m,
                      d, secs / 3600, secs / 60 % 60, secs % 60);
}

ngx_int_t ngx_http_echostream_api_parse_time(const ngx_str_t *s, int64_t *ms)
{
    int64_t y, mo, d, h, mi, sec, v;
    const u_char *p;
    size_t i, n;

    p = s->data;
    n = s->len;

    if (n == 0 || n > 40) {
        return NGX_ERROR;
    }

    /* epoch seconds */
    for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        /* void */
    }
    if (i == n) {
        if (n > 11 || ngx_http_echostream_digits(p, n, &v) != NGX_OK) {
            return NGX_ERROR;
        }
        *ms = v * 1000;
        return NGX_OK;
    }

    if (n < 10 || p[4] != '-' || p[7] != '-' ||
        ngx_http_echostream_digits(p, 4, &y) != NGX_OK ||
        ngx_http_echostream_digits(p + 5, 2, &mo) != NGX_OK ||
        ngx_http_echostream_digits(p + 8, 2, &d) != NGX_OK || y < 1970 ||
        mo < 1 || mo > 12 || d < 1 || d > 31) {
        return NGX_ERROR;
    }

    h = 0;
    mi = 0;
    sec = 0;

    if (n > 10) {
        /* "THH:MM:SS" then an optional fraction, then "Z" or "+00:00" */
        if (n < 20 || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
            p[13] != ':' || p[16] != ':' ||
            ngx_http_echostream_digits(p + 11, 2, &h) != NGX_OK ||
            ngx_http_echostream_digits(p + 14, 2, &mi) != NGX_OK ||
            ngx_http_echostream_digits(p + 17, 2, &sec) != NGX_OK || h > 23 ||
            mi > 59 || sec > 60) {
            return NGX_ERROR;
        }

        i = 19;
        if (p[i] == '.') {
            i++;
            while (i < n && p[i] >= '0' && p[i] <= '9') {
                i++;
            }
        }

        if (!((n - i == 1 && (p[i] == 'Z' || p[i] == 'z')) ||
              (n - i == 6 && ngx_strncmp(p + i, "+00:00", 6) == 0))) {
            return NGX_ERROR;
        }
    }

    v = ngx_http_echostream_days_from_civil(y, (unsigned)mo, (unsigned)d);

    *ms = ((v * 24 + h) * 60 + mi) * 60000 + sec * 1000;

    return NGX_OK;
}

static int64_t ngx_http_echostream_days_from_civil(int64_t y, unsigned m,
                                                   unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

static ngx_int_t ngx_http_echostream_digits(const u_char *p, size_t n,
                                            int64_t *out)
{
    int64_t v;
    size_t i;

    v = 0;
    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return NGX_ERROR;
        }
        v = v * 10 + (p[i] - '0');
    }

    *out = v;

    return NGX_OK;
}
