/*
 * es_req_stream.c - the live stream's Last-Event-ID (es_req_stream.h).
 */
#include "es_req_stream.h"

#include <string.h>

int es_req_stream_read(const char *v, size_t n, es_req_stream_args *out,
                       es_req_err *err)
{
    uint64_t ms, seq;

    out->resume = 0;
    out->last[0] = '\0';
    out->last_len = 0;

    if (v == NULL) {
        return 0;
    }

    /*
     * a valid id also fits out->last; the stream reads strictly after it,
     * and Redis refuses "(" with the greatest id, after which nothing comes
     */
    if (es_req_entry_id(v, n, &ms, &seq) != 0 ||
        (ms == UINT64_MAX && seq == UINT64_MAX)) {
        return es_req_fail(err, 400, "bad_request", "Last-Event-ID",
                           "Last-Event-ID must be an event id of this stream");
    }

    memcpy(out->last, v, n);
    out->last[n] = '\0';
    out->last_len = n;
    out->resume = 1;

    return 0;
}
