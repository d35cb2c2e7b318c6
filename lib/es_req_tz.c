/*
 * es_req_tz.c - time zone names (es_req_tz.h).
 *
 * The shape is checked by hand rather than with a regex library: it is
 * short, and nothing else in lib/ needs one. The file is opened with
 * O_NONBLOCK (a FIFO planted in the directory cannot hang the caller)
 * and O_NOCTTY, its type taken from the open descriptor (no race between
 * a stat and the open), and only its first four bytes read.
 */
#include "es_req_tz.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ES_REQ_TZ_SEGMENT_MAX  32
#define ES_REQ_TZ_SEGMENTS_MAX 3

static int es_req_tz_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-';
}

int es_req_time_zone_name(const char *name, size_t n)
{
    size_t i, seg, segs;

    if (name == NULL || n == 0 || n > ES_REQ_TIME_ZONE_MAX) {
        return 0;
    }

    seg = 0;
    segs = 1;
    for (i = 0; i < n; i++) {
        if (name[i] == '/') {
            /* no empty segment: not first, not last, not "//" */
            if (seg == 0 || ++segs > ES_REQ_TZ_SEGMENTS_MAX) {
                return 0;
            }
            seg = 0;
            continue;
        }
        if (!es_req_tz_char(name[i]) || ++seg > ES_REQ_TZ_SEGMENT_MAX) {
            return 0;
        }
    }

    return seg > 0;
}

int es_req_time_zone_valid(const char *zoneinfo, const char *name, size_t n)
{
    char path[4096], magic[4];
    struct stat st;
    int fd, ok, len;

    if (n == 3 && memcmp(name, "UTC", 3) == 0) {
        return 1;
    }

    if (!es_req_time_zone_name(name, n) || zoneinfo == NULL) {
        return 0;
    }

    len = snprintf(path, sizeof(path), "%s/%.*s", zoneinfo, (int)n, name);
    if (len < 0 || (size_t)len >= sizeof(path)) {
        return 0;
    }

    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }

    ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
         read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
         memcmp(magic, "TZif", 4) == 0;

    close(fd);
    return ok;
}
