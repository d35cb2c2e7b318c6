/*
 * localday.h - a tenant's day in its own time zone.
 *
 * Daily summaries are written at the hour a tenant chose, in the IANA time
 * zone it chose, and cover its previous local day: 00:00 to 24:00 there,
 * which is 23, 24 or 25 hours of UTC around a daylight-saving change and
 * need not start on a UTC hour (India is UTC+05:30). The C library already
 * knows every zone's rules (tzdata under /usr/share/zoneinfo), so this file
 * switches the process's zone (TZ) to the tenant's and asks localtime_r and
 * mktime, instead of carrying a second copy of those rules. The worker is
 * single-threaded, and it remembers the zone in force so a tick over many
 * tenants of one zone sets it once.
 */
#ifndef ES_SUM_LOCALDAY_H
#define ES_SUM_LOCALDAY_H

typedef struct {
    int y, m, d;
} es_sum_date;

/* "YYYY-MM-DD" and its NUL */
#define ES_SUM_DATE_SIZE 11

/*
 * The local date and hour of t_s (seconds since the epoch) in zone tz,
 * which must be valid (es_req_time_zone_valid). 0, or -1.
 */
int es_sum_local_now(const char *tz, long long t_s, es_sum_date *date,
                     int *hour);

/*
 * The UTC seconds at which local date d begins and ends (the next local
 * midnight) in zone tz. 0, or -1.
 */
int es_sum_day_bounds(const char *tz, es_sum_date d, long long *start_s,
                      long long *end_s);

/* d moved by days (negative: back), in the proleptic Gregorian calendar. */
es_sum_date es_sum_date_add(es_sum_date d, int days);

/* "YYYY-MM-DD" into buf (ES_SUM_DATE_SIZE bytes). */
void es_sum_date_str(es_sum_date d, char *buf);

/* Parses "YYYY-MM-DD"; 0 or -1. */
int es_sum_date_parse(const char *s, es_sum_date *d);

/* Order of two dates: <0, 0, >0. */
int es_sum_date_cmp(es_sum_date a, es_sum_date b);

#endif
