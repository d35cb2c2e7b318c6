/*
 * es_req_history.h - the query of GET /alerts/history: limit and cursor.
 *
 * The cursor is the id of the last entry of the previous page, a stream
 * entry id; the next page starts strictly below it, so 0-0, below which
 * nothing lies, is no cursor.
 */
#ifndef ES_REQ_HISTORY_H
#define ES_REQ_HISTORY_H

#include <stddef.h>

#include "es_req.h"
#include "es_req_entry_id.h"

/* the default page (also the events GET /alerts shows) and the most */
#define ES_REQ_HISTORY_LIMIT     50
#define ES_REQ_HISTORY_LIMIT_MAX 100

typedef struct {
    unsigned limit; /* 1..ES_REQ_HISTORY_LIMIT_MAX */
    int has_cursor;
    char cursor[ES_REQ_ENTRY_ID_LEN + 1]; /* an entry id, NUL-terminated */
    size_t cursor_len;
} es_req_history_args;

/*
 * Reads qs[0..len) into *out: 0, or -1 with *err (400 bad_request naming
 * limit or cursor, checked in that order).
 */
int es_req_history_read(const char *qs, size_t len, es_req_history_args *out,
                        es_req_err *err);

#endif
