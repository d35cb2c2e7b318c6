/*
 * es_req_series.c - the series route's query (es_req_series.h).
 *
 * The order of the checks is the order of the answers clients know:
 * step, to, from, then the range (before 1970, empty, too many points,
 * older than its buckets are kept).
 */
#include "es_req_series.h"

#include <string.h>

#include "es_req_argval.h"

/* the longest step argument read */
#define ES_REQ_SERIES_STEP_LEN 16

const es_req_series_step es_req_series_steps[ES_REQ_SERIES_STEPS] = {
    {"minute", 'm', 60000LL, 3600000LL, 48 * 3600000LL, "48 hours"},
    {"hour", 'h', 3600000LL, 86400000LL, 90 * 86400000LL, "90 days"},
    {"day", 'd', 86400000LL, 30 * 86400000LL, 730 * 86400000LL, "730 days"},
};

/* Argument name as a time into *ms (kept when absent); 0 or -1. */
static int es_req_series_time(const char *qs, size_t len, const char *name,
                              int64_t *ms, es_req_err *err)
{
    int64_t v;
    int rc;

    rc = es_req_arg_time(qs, len, name, &v);
    if (rc == ES_ARG_ABSENT) {
        return 0;
    }

    if (rc != ES_ARG_OK) {
        return es_req_fail(err, 400, "bad_request", name,
                           "%s must be an RFC 3339 UTC time "
                           "(2026-11-25T14:00:00Z) or epoch seconds",
                           name);
    }

    if (v < 0 || v >= ES_REQ_SERIES_END_MS) {
        return es_req_fail(err, 400, "bad_request", name,
                           "%s must lie between 1970 and 9999", name);
    }

    *ms = v;
    return 0;
}

int es_req_series_read(const char *qs, size_t len, int64_t now,
                       es_req_series_args *out, es_req_err *err)
{
    const es_req_series_step *st;
    char buf[ES_REQ_SERIES_STEP_LEN + 1];
    int64_t from, to, oldest;
    unsigned i;
    size_t n;
    int rc;

    rc = es_req_arg(qs, len, "step", buf, ES_REQ_SERIES_STEP_LEN, &n);
    i = 1; /* hour */
    if (rc == ES_ARG_OK) {
        for (i = 0; i < ES_REQ_SERIES_STEPS; i++) {
            if (strcmp(buf, es_req_series_steps[i].name) == 0) {
                break;
            }
        }
    }
    if (rc == ES_ARG_BAD || i == ES_REQ_SERIES_STEPS) {
        return es_req_fail(err, 400, "bad_request", "step",
                           "step must be minute, hour or day");
    }
    st = &es_req_series_steps[i];

    to = now;
    if (es_req_series_time(qs, len, "to", &to, err) != 0) {
        return -1;
    }

    from = to - st->span;
    if (es_req_series_time(qs, len, "from", &from, err) != 0) {
        return -1;
    }

    if (from < 0) {
        return es_req_fail(err, 400, "bad_request", "from",
                           "from must not be before 1970");
    }

    if (from >= to) {
        return es_req_fail(err, 400, "bad_request", "from",
                           "from must be before to");
    }

    from -= from % st->step;

    if ((to - from - 1) / st->step + 1 > ES_REQ_SERIES_MAX_POINTS) {
        return es_req_fail(err, 400, "bad_request", "from",
                           "the range holds more than %d points of one %s",
                           ES_REQ_SERIES_MAX_POINTS, st->name);
    }

    oldest = now - st->keep;
    oldest -= oldest % st->step;
    if (from < oldest) {
        return es_req_fail(err, 400, "bad_request", "from",
                           "a %s range must lie within the last %s", st->name,
                           st->keep_h);
    }

    out->step = i;
    out->from = from;
    out->to = to;
    out->npoints = (unsigned)((to - from - 1) / st->step + 1);

    return 0;
}
