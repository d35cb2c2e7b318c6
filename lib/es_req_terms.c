/*
 * es_req_terms.c - the terms route's query (es_req_terms.h).
 */
#include "es_req_terms.h"

#include "es_req_argval.h"

/* Count argument name, 1..max, into *value (kept when absent); 0 or -1. */
static int es_req_terms_count(const char *qs, size_t len, const char *name,
                              unsigned max, unsigned *value, es_req_err *err)
{
    if (es_req_arg_count(qs, len, name, max, value) == ES_ARG_BAD) {
        return es_req_fail(err, 400, "bad_request", name, "%s must be 1..%u",
                           name, max);
    }

    return 0;
}

int es_req_terms_read(const char *qs, size_t len, es_req_terms_args *out,
                      es_req_err *err)
{
    out->hours = ES_REQ_TERMS_HOURS;
    out->limit = ES_REQ_TERMS_LIMIT;

    if (es_req_terms_count(qs, len, "hours", ES_REQ_TERMS_HOURS, &out->hours,
                           err) != 0 ||
        es_req_terms_count(qs, len, "limit", ES_REQ_TERMS_LIMIT_MAX,
                           &out->limit, err) != 0) {
        return -1;
    }

    return 0;
}
