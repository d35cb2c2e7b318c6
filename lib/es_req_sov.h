/*
 * es_req_sov.h - the query of GET /share-of-voice: from and to, whole UTC
 * days, both included.
 *
 * The counts are kept per day (one hash per UTC day), so the arguments
 * are read as days: any time names its day. A missing end is a week from
 * the other end, or from today; the range holds at most 366 days.
 */
#ifndef ES_REQ_SOV_H
#define ES_REQ_SOV_H

#include <stddef.h>
#include <stdint.h>

#include "es_req.h"

#define ES_REQ_SOV_DAYS     7
#define ES_REQ_SOV_DAYS_MAX 366
#define ES_REQ_DAY_MS       86400000LL
/* 9999-12-31: keys hold a four-digit year */
#define ES_REQ_SOV_LAST_DAY 2932896LL

typedef struct {
    int64_t from;   /* days since the epoch; from <= to */
    int64_t to;     /* <= ES_REQ_SOV_LAST_DAY */
    unsigned ndays; /* to - from + 1, 1..ES_REQ_SOV_DAYS_MAX */
} es_req_sov_args;

/*
 * Reads qs[0..len) into *out for a request at now (ms since the epoch):
 * 0, or -1 with *err (400 bad_request naming from or to).
 */
int es_req_sov_read(const char *qs, size_t len, int64_t now,
                    es_req_sov_args *out, es_req_err *err);

#endif
