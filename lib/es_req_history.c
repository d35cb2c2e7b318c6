/*
 * es_req_history.c - the alert history's query (es_req_history.h).
 *
 * The cursor is read with room for 256 bytes, as the API documents for
 * every cursor, so a long one is "invalid cursor" like any other bad one,
 * and only then held to the entry id's 41.
 */
#include "es_req_history.h"

#include <string.h>

#include "es_req_argval.h"

#define ES_REQ_HISTORY_CURSOR_LEN 256

int es_req_history_read(const char *qs, size_t len, es_req_history_args *out,
                        es_req_err *err)
{
    char buf[ES_REQ_HISTORY_CURSOR_LEN + 1];
    uint64_t ms, seq;
    size_t n;
    int rc;

    out->limit = ES_REQ_HISTORY_LIMIT;
    out->has_cursor = 0;
    out->cursor[0] = '\0';
    out->cursor_len = 0;

    if (es_req_arg_count(qs, len, "limit", ES_REQ_HISTORY_LIMIT_MAX,
                         &out->limit) == ES_ARG_BAD) {
        return es_req_fail(err, 400, "bad_request", "limit",
                           "limit must be 1..100");
    }

    rc = es_req_arg(qs, len, "cursor", buf, ES_REQ_HISTORY_CURSOR_LEN, &n);
    if (rc == ES_ARG_ABSENT) {
        return 0;
    }

    /* nothing lies below 0-0: Redis refuses "(0-0" as an end */
    if (rc != ES_ARG_OK || es_req_entry_id(buf, n, &ms, &seq) != 0 ||
        (ms == 0 && seq == 0)) {
        return es_req_fail(err, 400, "bad_request", "cursor", "invalid cursor");
    }

    /* a valid id is at most ES_REQ_ENTRY_ID_LEN bytes */
    memcpy(out->cursor, buf, n + 1);
    out->cursor_len = n;
    out->has_cursor = 1;

    return 0;
}
