/*
 * es_req_sov.c - the share-of-voice route's query (es_req_sov.h).
 *
 * A default from may lie before 1970 (to given as one of the first days
 * of 1970): the route reads such days as 1970-01-01, as it always has.
 */
#include "es_req_sov.h"

#include "es_req_argval.h"

/* Argument name as a day into *day (kept when absent); 0 or -1. */
static int es_req_sov_day(const char *qs, size_t len, const char *name,
                          int64_t *day, es_req_err *err)
{
    int64_t ms;
    int rc;

    rc = es_req_arg_time(qs, len, name, &ms);
    if (rc == ES_ARG_ABSENT) {
        return 0;
    }

    if (rc != ES_ARG_OK || ms < 0 || ms / ES_REQ_DAY_MS > ES_REQ_SOV_LAST_DAY) {
        return es_req_fail(err, 400, "bad_request", name,
                           "%s must be a date (2026-11-25), an RFC 3339 UTC "
                           "time or epoch seconds between 1970 and 9999",
                           name);
    }

    *day = ms / ES_REQ_DAY_MS;
    return 0;
}

int es_req_sov_read(const char *qs, size_t len, int64_t now,
                    es_req_sov_args *out, es_req_err *err)
{
    int64_t from, to, today;

    /* -1: not given (days before 1970 are refused) */
    from = -1;
    to = -1;
    today = now / ES_REQ_DAY_MS;

    if (es_req_sov_day(qs, len, "from", &from, err) != 0 ||
        es_req_sov_day(qs, len, "to", &to, err) != 0) {
        return -1;
    }

    /* a missing end is one week from the other end, or from today */
    if (to == -1) {
        if (from == -1) {
            to = today;
        } else {
            to = from + ES_REQ_SOV_DAYS - 1;
            if (to > today) {
                to = today;
            }
        }
    }
    if (from == -1) {
        from = to - (ES_REQ_SOV_DAYS - 1);
    }

    if (from > to) {
        return es_req_fail(err, 400, "bad_request", "from",
                           "from must not be after to");
    }

    if (to - from + 1 > ES_REQ_SOV_DAYS_MAX) {
        return es_req_fail(err, 400, "bad_request", "from",
                           "the range holds more than %d days",
                           ES_REQ_SOV_DAYS_MAX);
    }

    out->from = from;
    out->to = to;
    out->ndays = (unsigned)(to - from + 1);

    return 0;
}
