/*
 * es_req_settings.c - the PATCH /settings body check (es_req_settings.h).
 *
 * A budget is written with six decimals, the micro-dollars the workers
 * count in, and trailing zeros dropped ("12.5", "0", "1000"): a number
 * the client sent comes back the way it would write it. null clears it,
 * stored as "" (es_settings_put deletes the field): no Comprehend budget,
 * or the default Bedrock budget. A time zone must name a zone file
 * (es_req_tz.h), checked last so a body with other faults costs no file
 * access.
 */
#include "es_req_settings.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const es_req_settings_members[ES_REQ_SETTINGS_NMEMBERS + 1] = {
    "engine",
    "comprehend_budget_usd",
    "retention_days",
    "summary_hour",
    "time_zone",
    "bedrock_budget_usd",
    NULL};

static int es_req_usd(json_t *v, const char *name, long max, int *has,
                      char *out, size_t size, es_req_err *err);

int es_req_settings_check(json_t *body, const es_req_settings_limits *lim,
                          es_req_settings *out, es_req_err *err)
{
    json_int_t retention, hour;
    const char *engine, *zone;
    json_t *v;
    size_t n;

    memset(out, 0, sizeof(*out));

    if (es_req_members(body, es_req_settings_members, err) != 0) {
        return -1;
    }

    v = json_object_get(body, "engine"); /* borrowed */
    if (v != NULL) {
        engine = json_string_value(v);
        if (engine != NULL && strcmp(engine, "vader") == 0) {
            out->engine = "vader";
        } else if (engine != NULL && strcmp(engine, "comprehend") == 0) {
            out->engine = "comprehend";
        } else {
            return es_req_fail(err, 422, "validation_failed", "engine",
                               "engine must be \"vader\" or \"comprehend\"");
        }
    }

    if (es_req_usd(json_object_get(body, "comprehend_budget_usd"),
                   "comprehend_budget_usd", lim->comprehend_budget_max,
                   &out->has_budget, out->budget, sizeof(out->budget),
                   err) != 0) {
        return -1;
    }

    v = json_object_get(body, "retention_days"); /* borrowed */
    if (v != NULL) {
        if (es_req_json_int(v, &retention) != 0 || retention < 1 ||
            retention > ES_REQ_RETENTION_MAX) {
            return es_req_fail(err, 422, "validation_failed", "retention_days",
                               "retention_days must be an integer from 1 to "
                               "365");
        }
        out->has_days = 1;
        snprintf(out->days, sizeof(out->days), "%d", (int)retention);
    }

    v = json_object_get(body, "summary_hour"); /* borrowed */
    if (v != NULL) {
        if (es_req_json_int(v, &hour) != 0 || hour < 0 || hour > 23) {
            return es_req_fail(err, 422, "validation_failed", "summary_hour",
                               "summary_hour must be an integer from 0 to 23");
        }
        out->has_hour = 1;
        snprintf(out->hour, sizeof(out->hour), "%d", (int)hour);
    }

    if (es_req_usd(json_object_get(body, "bedrock_budget_usd"),
                   "bedrock_budget_usd", lim->bedrock_budget_max,
                   &out->has_bedrock, out->bedrock, sizeof(out->bedrock),
                   err) != 0) {
        return -1;
    }

    v = json_object_get(body, "time_zone"); /* borrowed */
    if (v != NULL) {
        zone = json_string_value(v);
        n = json_string_length(v);
        if (zone == NULL || !es_req_time_zone_valid(lim->zoneinfo, zone, n)) {
            return es_req_fail(err, 422, "validation_failed", "time_zone",
                               "time_zone must be the name of a time zone, "
                               "such as \"Europe/Berlin\" or \"UTC\"");
        }
        /* es_req_time_zone_valid bounded n to ES_REQ_TIME_ZONE_MAX */
        out->has_zone = 1;
        memcpy(out->zone, zone, n);
        out->zone[n] = '\0';
    }

    return 0;
}

/*
 * A monthly budget member v (borrowed; NULL: absent): a number from 0 to
 * max, or null (out ""). 0 with *has set when present, or -1 with *err.
 */
static int es_req_usd(json_t *v, const char *name, long max, int *has,
                      char *out, size_t size, es_req_err *err)
{
    double usd;
    char *p;

    if (v == NULL) {
        return 0;
    }

    usd = json_number_value(v);
    if (!json_is_null(v) && (!json_is_number(v) || !isfinite(usd) || usd < 0 ||
                             usd > (double)max)) {
        return es_req_fail(err, 422, "validation_failed", name,
                           "%s must be a number from 0 to %ld, or null", name,
                           max);
    }

    *has = 1;
    out[0] = '\0';
    if (json_is_null(v)) {
        return 0;
    }

    /* usd <= max keeps it far inside the buffer */
    snprintf(out, size, "%.6f", usd);
    p = out + strlen(out) - 1;
    while (*p == '0') {
        *p-- = '\0';
    }
    if (*p == '.') {
        *p = '\0';
    }

    return 0;
}
