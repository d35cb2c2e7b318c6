/*
 * es_req_stream.h - what GET /stream reads from the request: the
 * Last-Event-ID header a reconnecting client sends (the route has no
 * query arguments).
 *
 * The header's value is passed in rather than found here, so this stays
 * plain C: the module takes it from nginx's header list. The value is an
 * entry id the stream can read after: not the greatest one Redis holds.
 */
#ifndef ES_REQ_STREAM_H
#define ES_REQ_STREAM_H

#include <stddef.h>

#include "es_req.h"
#include "es_req_entry_id.h"

typedef struct {
    int resume;                         /* Last-Event-ID was given */
    char last[ES_REQ_ENTRY_ID_LEN + 1]; /* its entry id, NUL-terminated */
    size_t last_len;
} es_req_stream_args;

/*
 * Reads the Last-Event-ID value v[0..n) (v NULL: no such header) into
 * *out: 0, or -1 with *err (400 bad_request, field "Last-Event-ID").
 */
int es_req_stream_read(const char *v, size_t n, es_req_stream_args *out,
                       es_req_err *err);

#endif
