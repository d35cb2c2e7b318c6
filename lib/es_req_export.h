/*
 * es_req_export.h - the query of GET /export.csv: topic, from and to.
 *
 * The topic comes from the query, not the path, so its id is checked here
 * as the router checks path ids: it becomes part of a key name and of the
 * file name in Content-Disposition. The range is [from, to) in ms, by
 * default the 30 days before the request, at most 366 days.
 */
#ifndef ES_REQ_EXPORT_H
#define ES_REQ_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "es_req.h"

#define ES_REQ_EXPORT_DEFAULT_MS (30 * 86400000LL)
#define ES_REQ_EXPORT_MAX_MS     (366 * 86400000LL)
/* 10000-01-01T00:00:00Z */
#define ES_REQ_EXPORT_END_MS 253402300800000LL

typedef struct {
    char topic[ES_REQ_ID_MAX + 1]; /* an id (es_req_id_valid), NUL-ended */
    size_t topic_len;
    int64_t from; /* ms, 0 <= from < to */
    int64_t to;   /* ms, exclusive; to - from <= ES_REQ_EXPORT_MAX_MS */
} es_req_export_args;

/*
 * Reads qs[0..len) into *out for a request at now (ms since the epoch):
 * 0, or -1 with *err (400 bad_request naming topic, from or to).
 */
int es_req_export_read(const char *qs, size_t len, int64_t now,
                       es_req_export_args *out, es_req_err *err);

#endif
