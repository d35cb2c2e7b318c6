/*
 * es_req_settings.h - the body of PATCH /settings: a tenant's sentiment
 * engine, monthly Comprehend budget and data retention.
 *
 * The values come out as the strings es:{t:<tenant>}:meta holds and the
 * enrich worker parses (engine name, decimal dollars, whole days), so
 * what is checked here is byte for byte what is stored. The operator
 * pays for Comprehend, so the budget's upper bound is not the tenant's
 * choice: the caller passes the echostream_comprehend_budget_max
 * directive in.
 */
#ifndef ES_REQ_SETTINGS_H
#define ES_REQ_SETTINGS_H

#include <jansson.h>

#include "es_req.h"

#define ES_REQ_ENGINE_DEFAULT    "vader"
#define ES_REQ_RETENTION_DEFAULT 30
#define ES_REQ_RETENTION_MAX     365

/* the members the body may have, NULL-terminated */
#define ES_REQ_SETTINGS_NMEMBERS 3
extern const char *const es_req_settings_members[ES_REQ_SETTINGS_NMEMBERS + 1];

/* what a PATCH changes; a member the body left out is not touched */
typedef struct {
    const char *engine; /* "vader" or "comprehend" (static); NULL: absent */
    int has_budget;
    char budget[32]; /* decimal dollars, at most 6 decimals; "": no budget */
    int has_days;
    char days[8]; /* "1" … "365" */
} es_req_settings;

/*
 * Checks a PATCH /settings body (its members, then engine,
 * comprehend_budget_usd and retention_days, in that order) with a budget
 * of at most budget_max whole dollars. 0 with *out filled in, or -1 with
 * *err: 422 validation_failed naming the first member at fault (an
 * unknown one included), or 400 invalid_json when body is no object.
 */
int es_req_settings_check(json_t *body, long budget_max, es_req_settings *out,
                          es_req_err *err);

#endif
