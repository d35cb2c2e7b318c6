/*
 * es_req_argval.h - query arguments that hold a count or a time, read the
 * same way by every route of /api/v1.
 *
 * A count (limit, hours) is 1-8 decimal digits without sign or space:
 * what nginx's ngx_atoi() took when the routes read counts with it, so a
 * value answered 400 before is answered 400 still. A time is at most 64
 * decoded bytes that es_time_parse() reads. These say only whether the
 * value is good and leave the message to the route, since every route
 * words its own (and tests and clients match those words).
 */
#ifndef ES_REQ_ARGVAL_H
#define ES_REQ_ARGVAL_H

#include <stddef.h>
#include <stdint.h>

#include "es_req.h"

/* decoded bytes of a count and of a time argument at most */
#define ES_REQ_COUNT_LEN 8
#define ES_REQ_TIME_LEN  64

/*
 * Argument name of qs[0..len) as a count in [1, max]: ES_ARG_OK with the
 * value in *out, ES_ARG_ABSENT (*out untouched) or ES_ARG_BAD.
 */
int es_req_arg_count(const char *qs, size_t len, const char *name, unsigned max,
                     unsigned *out);

/*
 * Argument name of qs[0..len) as a time: ES_ARG_OK with ms since the
 * epoch in *ms (any es_time_parse() gives: the route checks the range),
 * ES_ARG_ABSENT (*ms untouched) or ES_ARG_BAD.
 */
int es_req_arg_time(const char *qs, size_t len, const char *name, int64_t *ms);

#endif
