/*
 * es_req_terms.h - the query of GET /topics/{id}/terms: hours (the window,
 * 1-24, as the worker keeps hourly term sets 48 hours to compare with the
 * day before) and limit (how many terms, 1-100).
 */
#ifndef ES_REQ_TERMS_H
#define ES_REQ_TERMS_H

#include <stddef.h>

#include "es_req.h"

#define ES_REQ_TERMS_HOURS     24
#define ES_REQ_TERMS_LIMIT     20
#define ES_REQ_TERMS_LIMIT_MAX 100

typedef struct {
    unsigned hours; /* 1..ES_REQ_TERMS_HOURS */
    unsigned limit; /* 1..ES_REQ_TERMS_LIMIT_MAX */
} es_req_terms_args;

/*
 * Reads qs[0..len) into *out: 0, or -1 with *err (400 bad_request naming
 * hours or limit, checked in that order).
 */
int es_req_terms_read(const char *qs, size_t len, es_req_terms_args *out,
                      es_req_err *err);

#endif
