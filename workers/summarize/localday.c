/*
 * localday.c - a tenant's day in its own time zone (see localday.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es_time.h"
#include "localday.h"

/* the zone TZ names now, so a run of tenants in one zone sets it once */
static char zone_in_force[128];

/* Puts zone tz in force for localtime_r and mktime. */
static int use_zone(const char *tz)
{
    char value[sizeof(zone_in_force) + 1];

    if (strcmp(zone_in_force, tz) == 0) {
        return 0;
    }
    if (strlen(tz) >= sizeof(zone_in_force)) {
        return -1;
    }
    /* ":" asks for the zone file itself, never a POSIX rule string */
    snprintf(value, sizeof(value), ":%s", tz);
    if (setenv("TZ", value, 1) != 0) {
        return -1;
    }
    tzset();
    snprintf(zone_in_force, sizeof(zone_in_force), "%s", tz);
    return 0;
}

int es_sum_local_now(const char *tz, long long t_s, es_sum_date *date,
                     int *hour)
{
    time_t t = (time_t)t_s;
    struct tm tm;

    if (use_zone(tz) != 0 || localtime_r(&t, &tm) == NULL) {
        return -1;
    }
    date->y = tm.tm_year + 1900;
    date->m = tm.tm_mon + 1;
    date->d = tm.tm_mday;
    if (hour) {
        *hour = tm.tm_hour;
    }
    return 0;
}

/* The UTC second of local midnight at the start of d. */
static int local_midnight(es_sum_date d, long long *out)
{
    struct tm tm;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = d.y - 1900;
    tm.tm_mon = d.m - 1;
    tm.tm_mday = d.d;
    tm.tm_isdst = -1; /* let the zone's rules say */
    t = mktime(&tm);
    if (t == (time_t)-1) {
        return -1;
    }
    *out = (long long)t;
    return 0;
}

int es_sum_day_bounds(const char *tz, es_sum_date d, long long *start_s,
                      long long *end_s)
{
    if (use_zone(tz) != 0 || local_midnight(d, start_s) != 0 ||
        local_midnight(es_sum_date_add(d, 1), end_s) != 0 ||
        *end_s <= *start_s) {
        return -1;
    }
    return 0;
}

es_sum_date es_sum_date_add(es_sum_date d, int days)
{
    /* through days since the epoch (es_time.h) and back, civil-from-days
       after Howard Hinnant's algorithm */
    long long z =
        (long long)es_time_days_from_civil(d.y, (unsigned)d.m, (unsigned)d.d) +
        days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    es_sum_date r;

    r.d = (int)(doy - (153 * mp + 2) / 5 + 1);
    r.m = (int)(mp < 10 ? mp + 3 : mp - 9);
    r.y = (int)(yoe + era * 400 + (r.m <= 2));
    return r;
}

void es_sum_date_str(es_sum_date d, char *buf)
{
    snprintf(buf, ES_SUM_DATE_SIZE, "%04u-%02u-%02u", (unsigned)d.y % 10000u,
             (unsigned)d.m % 100u, (unsigned)d.d % 100u);
}

int es_sum_date_parse(const char *s, es_sum_date *d)
{
    char tail;

    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &d->y, &d->m, &d->d, &tail) != 3 ||
        d->m < 1 || d->m > 12 || d->d < 1 || d->d > 31 || d->y < 1970) {
        return -1;
    }
    return 0;
}

int es_sum_date_cmp(es_sum_date a, es_sum_date b)
{
    if (a.y != b.y) {
        return a.y < b.y ? -1 : 1;
    }
    if (a.m != b.m) {
        return a.m < b.m ? -1 : 1;
    }
    return a.d == b.d ? 0 : (a.d < b.d ? -1 : 1);
}
