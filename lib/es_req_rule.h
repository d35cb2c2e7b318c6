/*
 * es_req_rule.h - what makes an alert rule valid, and its canonical form
 * (docs/openapi.yaml, AlertRule).
 *
 * One check serves the bodies of POST/PUT/PATCH /alerts/rules and the
 * rules read back from Redis alike, so a rule that was stored damaged is
 * never served, and a rule always leaves here with every member present:
 * the alert worker needs no defaults of its own. Whether the rule's topic
 * exists is not decided here but atomically with the write (es_rule_put).
 */
#ifndef ES_REQ_RULE_H
#define ES_REQ_RULE_H

#include <jansson.h>

#include "es_req.h"

#define ES_REQ_RULE_EMAILS_MAX 10
#define ES_REQ_WEBHOOK_MAX     2048

/* what a rule watches, and over how many minutes (a stored rule without
   them, from before they existed, takes these) */
#define ES_REQ_RULE_METRIC_DEFAULT "negative_share"
#define ES_REQ_RULE_WINDOW_DEFAULT 60
#define ES_REQ_RULE_WINDOW_MIN     5
#define ES_REQ_RULE_WINDOW_MAX     1440

/* the members a rule body may have, NULL-terminated (for es_req_members) */
extern const char *const es_req_rule_members[];

/* the metrics a rule may watch, NULL-terminated, the default first */
extern const char *const es_req_rule_metrics[];

/*
 * Checks the alert rule id (valid, NUL-terminated). Each member is taken
 * from src (borrowed), or when src lacks it from base (borrowed, may be
 * NULL: PATCH merges over the stored rule), or else takes its default:
 * enabled true, min_volume 20, sensitivity 3.0, cooldown_minutes 60,
 * email [], webhook null, metric "negative_share", window_minutes 60
 * (topic has none). Returns 0 with a new canonical rule {"id","topic",
 * "enabled","min_volume","sensitivity","cooldown_minutes","email",
 * "webhook","metric","window_minutes"} in *out (the caller owns it); or
 * -1 with *out NULL and *err: 422 validation_failed naming the member at
 * fault, or 500 internal when memory ran out. Members outside the rule's
 * are not looked at (es_req_members checks a body for them).
 */
int es_req_rule_check(json_t *src, json_t *base, const char *id, json_t **out,
                      es_req_err *err);

#endif
