/*
 * es_time.c - RFC 3339 times and epoch seconds (es_time.h).
 *
 * Days to and from the civil calendar follow Howard Hinnant's algorithms,
 * which hold for every year without a table or the C library's time zone.
 */
#include "es_time.h"

#include <string.h>

static int es_time_digits(const char *p, size_t n, int64_t *out);

/* v (0 <= v < 10^n) as n decimal digits with leading zeros */
static void es_time_put(char *p, int64_t v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

void es_time_str(int64_t ms, char *buf)
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

    /* digits written by hand: every field is in range by construction,
     * which printf's length checks cannot see */
    es_time_put(buf, y, 4);
    buf[4] = '-';
    es_time_put(buf + 5, m, 2);
    buf[7] = '-';
    es_time_put(buf + 8, d, 2);
    buf[10] = 'T';
    es_time_put(buf + 11, secs / 3600, 2);
    buf[13] = ':';
    es_time_put(buf + 14, secs / 60 % 60, 2);
    buf[16] = ':';
    es_time_put(buf + 17, secs % 60, 2);
    buf[19] = 'Z';
    buf[20] = '\0';
}

int es_time_parse(const char *s, size_t n, int64_t *ms)
{
    int64_t y, mo, d, h, mi, sec, v;
    const char *p;
    size_t i;

    p = s;

    if (n == 0 || n > 40) {
        return -1;
    }

    /* epoch seconds */
    for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        /* void */
    }
    if (i == n) {
        if (n > 11 || es_time_digits(p, n, &v) != 0) {
            return -1;
        }
        *ms = v * 1000;
        return 0;
    }

    if (n < 10 || p[4] != '-' || p[7] != '-' || es_time_digits(p, 4, &y) != 0 ||
        es_time_digits(p + 5, 2, &mo) != 0 ||
        es_time_digits(p + 8, 2, &d) != 0 || y < 1970 || mo < 1 || mo > 12 ||
        d < 1 || d > 31) {
        return -1;
    }

    h = 0;
    mi = 0;
    sec = 0;

    if (n > 10) {
        /* "THH:MM:SS" then an optional fraction, then "Z" or "+00:00" */
        if (n < 20 || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
            p[13] != ':' || p[16] != ':' ||
            es_time_digits(p + 11, 2, &h) != 0 ||
            es_time_digits(p + 14, 2, &mi) != 0 ||
            es_time_digits(p + 17, 2, &sec) != 0 || h > 23 || mi > 59 ||
            sec > 60) {
            return -1;
        }

        i = 19;
        if (p[i] == '.') {
            i++;
            while (i < n && p[i] >= '0' && p[i] <= '9') {
                i++;
            }
        }

        if (!((n - i == 1 && (p[i] == 'Z' || p[i] == 'z')) ||
              (n - i == 6 && strncmp(p + i, "+00:00", 6) == 0))) {
            return -1;
        }
    }

    v = es_time_days_from_civil(y, (unsigned)mo, (unsigned)d);

    *ms = ((v * 24 + h) * 60 + mi) * 60000 + sec * 1000;

    return 0;
}

int64_t es_time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

static int es_time_digits(const char *p, size_t n, int64_t *out)
{
    int64_t v;
    size_t i;

    v = 0;
    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        v = v * 10 + (p[i] - '0');
    }

    *out = v;

    return 0;
}

void es_time_hour(int64_t ms, char *out)
{
    char s[ES_TIME_STR_SIZE];

    /* "YYYY-MM-DDTHH:…" -> "YYYYMMDDHH" */
    es_time_str(ms, s);
    memcpy(out, s, 4);
    memcpy(out + 4, s + 5, 2);
    memcpy(out + 6, s + 8, 2);
    memcpy(out + 8, s + 11, 2);
    out[10] = '\0';
}
