/*
 * es_req_tz.h - what makes a tenant's time zone valid: an IANA name of
 * the system's time zone database, such as "Europe/Berlin".
 *
 * The name comes from a client and ends up as a path (the summarizer opens
 * <zoneinfo>/<name> to compute the tenant's local day), so it is held to a
 * narrow alphabet first: one to three segments of [A-Za-z0-9_+-], each at
 * most 32 characters, separated by '/'. No '.', so no "." or ".." segment
 * and no dotted file of the database (zone.tab, tzdata.zi); no leading
 * '/'; no NUL. Then the file must be a regular file that starts like a
 * compiled zone ("TZif"), so a name of some other file of the directory
 * (leapseconds) is no zone either. "UTC" is valid without a database.
 */
#ifndef ES_REQ_TZ_H
#define ES_REQ_TZ_H

#include <stddef.h>

/* where the module and the workers look names up */
#define ES_REQ_ZONEINFO "/usr/share/zoneinfo"
/* the zone of a tenant that has none */
#define ES_REQ_TIME_ZONE_DEFAULT "UTC"
/* the longest name the pattern allows: three segments of 32 */
#define ES_REQ_TIME_ZONE_MAX (3 * 32 + 2)

/* 1 when name[0..n) has the shape of a zone name (no file is looked at). */
int es_req_time_zone_name(const char *name, size_t n);

/*
 * 1 when name[0..n) is "UTC", or has the shape and names a compiled zone
 * file under zoneinfo (a directory path; ES_REQ_ZONEINFO normally); 0
 * otherwise. Opens the file without blocking and reads 4 bytes of it.
 */
int es_req_time_zone_valid(const char *zoneinfo, const char *name, size_t n);

#endif
