/*
 * es_req_comments.c - the comments route's query (es_req_comments.h).
 *
 * The sentiment is compared byte for byte, case included: it becomes part
 * of a key name, and one spelling per label keeps one key per label.
 */
#include "es_req_comments.h"

#include <string.h>

#include "es_req_argval.h"

/* the longest sentiment argument read */
#define ES_REQ_SENTIMENT_LEN 16

const char *const es_req_sentiments[ES_REQ_SENTIMENTS] = {
    "positive", "negative", "neutral", "mixed"};

int es_req_comments_read(const char *qs, size_t len, es_req_comments_args *out,
                         es_req_err *err)
{
    char buf[ES_REQ_CURSOR_LEN + 1];
    size_t n;
    int rc, i;

    out->limit = ES_REQ_COMMENTS_LIMIT;
    out->sentiment = -1;
    out->has_cursor = 0;

    if (es_req_arg_count(qs, len, "limit", ES_REQ_COMMENTS_LIMIT_MAX,
                         &out->limit) == ES_ARG_BAD) {
        return es_req_fail(err, 400, "bad_request", "limit",
                           "limit must be 1..100");
    }

    rc = es_req_arg(qs, len, "sentiment", buf, ES_REQ_SENTIMENT_LEN, &n);
    if (rc == ES_ARG_OK) {
        for (i = 0; i < ES_REQ_SENTIMENTS; i++) {
            if (strcmp(buf, es_req_sentiments[i]) == 0) {
                out->sentiment = i;
                break;
            }
        }
    }
    if (rc == ES_ARG_BAD || (rc == ES_ARG_OK && out->sentiment < 0)) {
        return es_req_fail(err, 400, "bad_request", "sentiment",
                           "sentiment must be positive, negative, neutral or "
                           "mixed");
    }

    rc = es_req_arg(qs, len, "cursor", buf, ES_REQ_CURSOR_LEN, &n);
    if (rc == ES_ARG_OK && es_req_cursor_decode(buf, n, &out->cursor) != 0) {
        rc = ES_ARG_BAD;
    }
    if (rc == ES_ARG_BAD) {
        return es_req_fail(err, 400, "bad_request", "cursor",
                           "cursor is not one this API gave");
    }
    out->has_cursor = rc == ES_ARG_OK;

    return 0;
}
