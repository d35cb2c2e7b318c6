/*
 * es_req_summary.h - what /summaries reads from a request: the body of
 * POST /summaries (a summary of one topic, or of the whole tenant) and
 * the page size of GET /summaries.
 */
#ifndef ES_REQ_SUMMARY_H
#define ES_REQ_SUMMARY_H

#include <stddef.h>

#include <jansson.h>

#include "es_req.h"

#define ES_REQ_SUMMARIES_DEFAULT 20
#define ES_REQ_SUMMARIES_MAX     100

/* the members the POST body may have, NULL-terminated */
extern const char *const es_req_summary_members[];

/*
 * Checks a POST /summaries body {"topic"?}: the topic's id into topic
 * (room for ES_REQ_ID_MAX + 1 bytes), or "" when it is absent or null
 * (the whole tenant). 0, or -1 with *err: 422 validation_failed naming
 * the member at fault, 400 invalid_json for no object. Whether the topic
 * exists is decided with the write (es_summary_request).
 */
int es_req_summary_check(json_t *body, char *topic, es_req_err *err);

/*
 * The "limit" argument of GET /summaries in the query string qs[0..len):
 * 1-100, ES_REQ_SUMMARIES_DEFAULT when absent. 0, or -1 with *err: 400
 * bad_request "limit".
 */
int es_req_summary_limit(const char *qs, size_t len, int *limit,
                         es_req_err *err);

#endif
