/*
 * es_req_summary.c - the /summaries request checks (es_req_summary.h).
 *
 * The topic id goes into a request the summarizer reads from a shared
 * stream, so it gets the same alphabet and length as every id of a key.
 */
#include "es_req_summary.h"

#include <string.h>

#include "es_req_argval.h"

const char *const es_req_summary_members[] = {"topic", NULL};

int es_req_summary_check(json_t *body, char *topic, es_req_err *err)
{
    const char *s;
    json_t *v;
    size_t n;

    topic[0] = '\0';

    if (es_req_members(body, es_req_summary_members, err) != 0) {
        return -1;
    }

    v = json_object_get(body, "topic"); /* borrowed */
    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    s = json_string_value(v);
    n = json_string_length(v);
    if (s == NULL || !es_req_id_valid(s, n)) {
        return es_req_fail(err, 422, "validation_failed", "topic",
                           "topic must be a topic id");
    }

    /* es_req_id_valid bounded n to ES_REQ_ID_MAX */
    memcpy(topic, s, n + 1);
    return 0;
}

int es_req_summary_limit(const char *qs, size_t len, int *limit,
                         es_req_err *err)
{
    unsigned n;

    n = ES_REQ_SUMMARIES_DEFAULT;
    if (es_req_arg_count(qs, len, "limit", ES_REQ_SUMMARIES_MAX, &n) ==
        ES_ARG_BAD) {
        return es_req_fail(err, 400, "bad_request", "limit",
                           "limit must be 1..100");
    }

    *limit = (int)n;
    return 0;
}
