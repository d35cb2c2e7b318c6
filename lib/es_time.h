/*
 * es_time.h - the API's times: RFC 3339 UTC out; RFC 3339, plain dates and
 * epoch seconds in.
 *
 * Pure arithmetic (days from and to the civil calendar) instead of
 * timegm() or strptime(), which depend on the C library and the process's
 * time zone: everything the API shows and reads is UTC.
 */
#ifndef ES_TIME_H
#define ES_TIME_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-25T14:00:00Z" and its NUL */
#define ES_TIME_STR_SIZE 21

/*
 * Formats ms since the epoch as RFC 3339 UTC with second precision into
 * buf (ES_TIME_STR_SIZE bytes); times outside the years 0000-9999 are
 * clamped to them, so the bound holds for any ms.
 */
void es_time_str(int64_t ms, char *buf);

/*
 * Parses s[0..n): an RFC 3339 UTC date-time ("…Z" or "+00:00", optional
 * fraction), a date ("YYYY-MM-DD", midnight UTC, from 1970) or integer
 * epoch seconds (at most 11 digits) into *ms. Returns 0 or -1.
 */
int es_time_parse(const char *s, size_t n, int64_t *ms);

/*
 * The UTC hour of ms as YYYYMMDDHH (the name of an hour bucket,
 * docs/redis-keys.md) into out (11 bytes, NUL-terminated); clamped as
 * es_time_str clamps.
 */
void es_time_hour(int64_t ms, char *out);

/* Days since the epoch of a civil date (proleptic Gregorian). */
int64_t es_time_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
