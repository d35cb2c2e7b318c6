/*
 * es_req_series.h - the query of GET /topics/{id}/series: step, from and
 * to, and the rules of the range they make.
 *
 * Everything the route decides before it touches Redis is decided here,
 * given the time of the request (now): the step, the range with its
 * defaults, and whether the range is one the buckets can answer, since
 * the enrich worker keeps minutes 48 hours, hours 90 days and days 730
 * days, and one answer holds at most 1,500 points. The route then only
 * reads the hashes of [from, to).
 */
#ifndef ES_REQ_SERIES_H
#define ES_REQ_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "es_req.h"

#define ES_REQ_SERIES_MAX_POINTS 1500
/* 10000-01-01T00:00:00Z: bucket keys hold a four-digit year */
#define ES_REQ_SERIES_END_MS 253402300800000LL

typedef struct {
    const char *name;   /* "minute" */
    char res;           /* the bucket keys' resolution letter */
    int64_t step;       /* ms */
    int64_t span;       /* default range, ms */
    int64_t keep;       /* how far back buckets are kept, ms */
    const char *keep_h; /* the same, for people */
} es_req_series_step;

/* minute, hour, day */
#define ES_REQ_SERIES_STEPS 3
extern const es_req_series_step es_req_series_steps[ES_REQ_SERIES_STEPS];

typedef struct {
    unsigned step;    /* index into es_req_series_steps */
    int64_t from;     /* ms, floored to the step, >= 0 */
    int64_t to;       /* ms, exclusive, from < to < ES_REQ_SERIES_END_MS */
    unsigned npoints; /* 1..ES_REQ_SERIES_MAX_POINTS */
} es_req_series_args;

/*
 * Reads qs[0..len) into *out for a request at now (ms since the epoch,
 * the default end): 0, or -1 with *err (400 bad_request naming step,
 * from or to).
 */
int es_req_series_read(const char *qs, size_t len, int64_t now,
                       es_req_series_args *out, es_req_err *err);

#endif
