/*
 * es_req_argval.c - count and time query arguments (es_req_argval.h).
 */
#include "es_req_argval.h"

#include "es_time.h"

int es_req_arg_count(const char *qs, size_t len, const char *name, unsigned max,
                     unsigned *out)
{
    char buf[ES_REQ_COUNT_LEN + 1];
    unsigned v;
    size_t n, i;
    int rc;

    rc = es_req_arg(qs, len, name, buf, ES_REQ_COUNT_LEN, &n);
    if (rc != ES_ARG_OK) {
        return rc;
    }

    if (n == 0) {
        return ES_ARG_BAD;
    }

    /* 8 digits stay far below UINT_MAX */
    v = 0;
    for (i = 0; i < n; i++) {
        if (buf[i] < '0' || buf[i] > '9') {
            return ES_ARG_BAD;
        }
        v = v * 10 + (unsigned)(buf[i] - '0');
    }

    if (v < 1 || v > max) {
        return ES_ARG_BAD;
    }

    *out = v;
    return ES_ARG_OK;
}

int es_req_arg_time(const char *qs, size_t len, const char *name, int64_t *ms)
{
    char buf[ES_REQ_TIME_LEN + 1];
    int64_t v;
    size_t n;
    int rc;

    rc = es_req_arg(qs, len, name, buf, ES_REQ_TIME_LEN, &n);
    if (rc != ES_ARG_OK) {
        return rc;
    }

    if (es_time_parse(buf, n, &v) != 0) {
        return ES_ARG_BAD;
    }

    *ms = v;
    return ES_ARG_OK;
}
