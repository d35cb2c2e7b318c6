/*
 * es_req_settings.h - the body of PATCH /settings: a tenant's sentiment
 * engine, monthly Comprehend budget, data retention, the hour and time
 * zone of its daily summary, and its monthly Bedrock budget.
 *
 * The values come out as the strings es:{t:<tenant>}:meta holds and the
 * workers parse (engine name, decimal dollars, whole days and hours, a
 * zone name), so what is checked here is byte for byte what is stored.
 * The operator pays for Comprehend and Bedrock, so the budgets' upper
 * bounds are not the tenant's choice: the caller passes the
 * echostream_comprehend_budget_max and echostream_bedrock_budget_max
 * directives in, with the directory time zone names are looked up in.
 */
#ifndef ES_REQ_SETTINGS_H
#define ES_REQ_SETTINGS_H

#include <jansson.h>

#include "es_req.h"
#include "es_req_tz.h"

#define ES_REQ_ENGINE_DEFAULT       "vader"
#define ES_REQ_RETENTION_DEFAULT    30
#define ES_REQ_RETENTION_MAX        365
#define ES_REQ_SUMMARY_HOUR_DEFAULT 7

/* the members the body may have, NULL-terminated */
#define ES_REQ_SETTINGS_NMEMBERS 6
extern const char *const es_req_settings_members[ES_REQ_SETTINGS_NMEMBERS + 1];

/* what the operator allows */
typedef struct {
    long comprehend_budget_max; /* whole US dollars */
    long bedrock_budget_max;    /* whole US dollars */
    const char *zoneinfo;       /* ES_REQ_ZONEINFO, or a test's directory */
} es_req_settings_limits;

/* what a PATCH changes; a member the body left out is not touched */
typedef struct {
    const char *engine; /* "vader" or "comprehend" (static); NULL: absent */
    int has_budget;
    char budget[32]; /* decimal dollars, at most 6 decimals; "": no budget */
    int has_days;
    char days[8]; /* "1" … "365" */
    int has_hour;
    char hour[4]; /* "0" … "23" */
    int has_zone;
    char zone[ES_REQ_TIME_ZONE_MAX + 1]; /* a valid zone name */
    int has_bedrock;
    char bedrock[32]; /* as budget; "": back to the default */
} es_req_settings;

/*
 * Checks a PATCH /settings body (its members, then engine,
 * comprehend_budget_usd, retention_days, summary_hour, bedrock_budget_usd
 * and time_zone, in that order) within lim. 0 with *out filled in,
 * or -1 with *err: 422 validation_failed naming the first member at
 * fault (an unknown one included), or 400 invalid_json when body is no
 * object.
 */
int es_req_settings_check(json_t *body, const es_req_settings_limits *lim,
                          es_req_settings *out, es_req_err *err);

#endif
