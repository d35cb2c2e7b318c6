/*
 * es_req_export.c - the CSV export's query (es_req_export.h).
 *
 * Checked in the order clients know: topic, to, from, then the range.
 */
#include "es_req_export.h"

#include "es_req_argval.h"

/* Argument name as a time into *ms (kept when absent); 0 or -1. */
static int es_req_export_time(const char *qs, size_t len, const char *name,
                              int64_t *ms, es_req_err *err)
{
    int64_t v;
    int rc;

    rc = es_req_arg_time(qs, len, name, &v);
    if (rc == ES_ARG_ABSENT) {
        return 0;
    }

    if (rc != ES_ARG_OK || v < 0 || v >= ES_REQ_EXPORT_END_MS) {
        return es_req_fail(err, 400, "bad_request", name,
                           "%s must be an RFC 3339 UTC time "
                           "(2026-11-25T14:00:00Z) or epoch seconds between "
                           "1970 and 9999",
                           name);
    }

    *ms = v;
    return 0;
}

int es_req_export_read(const char *qs, size_t len, int64_t now,
                       es_req_export_args *out, es_req_err *err)
{
    int64_t from, to;
    int rc;

    rc = es_req_arg(qs, len, "topic", out->topic, ES_REQ_ID_MAX,
                    &out->topic_len);
    if (rc != ES_ARG_OK || !es_req_id_valid(out->topic, out->topic_len)) {
        out->topic[0] = '\0';
        out->topic_len = 0;
        return es_req_fail(err, 400, "bad_request", "topic",
                           "topic must be a topic id ([A-Za-z0-9_-]{1,64})");
    }

    to = now;
    if (es_req_export_time(qs, len, "to", &to, err) != 0) {
        return -1;
    }

    from = to - ES_REQ_EXPORT_DEFAULT_MS;
    if (from < 0) {
        from = 0;
    }
    if (es_req_export_time(qs, len, "from", &from, err) != 0) {
        return -1;
    }

    if (from >= to) {
        return es_req_fail(err, 400, "bad_request", "from",
                           "from must be before to");
    }

    if (to - from > ES_REQ_EXPORT_MAX_MS) {
        return es_req_fail(err, 400, "bad_request", "from",
                           "the range is longer than 366 days");
    }

    out->from = from;
    out->to = to;

    return 0;
}
