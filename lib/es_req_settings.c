/*
 * es_req_settings.c - the PATCH /settings body check (es_req_settings.h).
 *
 * The budget is written with six decimals, the micro-dollars enrich
 * counts in, and trailing zeros dropped ("12.5", "0", "1000"): a number
 * the client sent comes back the way it would write it. null clears it,
 * stored as "" (es_settings_set deletes the field).
 */
#include "es_req_settings.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const es_req_settings_members[ES_REQ_SETTINGS_NMEMBERS + 1] = {
    "engine", "comprehend_budget_usd", "retention_days", NULL};

int es_req_settings_check(json_t *body, long budget_max, es_req_settings *out,
                          es_req_err *err)
{
    json_int_t retention;
    const char *engine;
    json_t *v;
    double usd;
    char *p;

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

    v = json_object_get(body, "comprehend_budget_usd"); /* borrowed */
    if (v != NULL) {
        usd = json_number_value(v);
        if (!json_is_null(v) && (!json_is_number(v) || !isfinite(usd) ||
                                 usd < 0 || usd > (double)budget_max)) {
            return es_req_fail(err, 422, "validation_failed",
                               "comprehend_budget_usd",
                               "comprehend_budget_usd must be a number from "
                               "0 to %ld, or null",
                               budget_max);
        }

        out->has_budget = 1;
        if (!json_is_null(v)) {
            /* usd <= budget_max keeps it far inside the buffer */
            snprintf(out->budget, sizeof(out->budget), "%.6f", usd);
            p = out->budget + strlen(out->budget) - 1;
            while (*p == '0') {
                *p-- = '\0';
            }
            if (*p == '.') {
                *p = '\0';
            }
        }
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

    return 0;
}
