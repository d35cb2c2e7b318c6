/*
 * rules.h - an alert rule as the worker reads it from es:{t:T}:alerts:rules,
 * and the addresses its alert is mailed to.
 *
 * A stored rule goes through the API's own check (es_req_rule.h), so the
 * worker accepts exactly what the API would serve and gets its defaults
 * from one place; the members that check leaves to the worker, metric and
 * window_minutes, take their defaults here when a rule stored before they
 * existed lacks them. A rule that fails is not evaluated: the caller logs
 * it and goes on with the others.
 */
#ifndef ES_ALERT_RULES_H
#define ES_ALERT_RULES_H

#include <stddef.h>

#include <jansson.h>

#include "es_req.h"
#include "spike.h"

#define ES_ALERT_METRIC_DEFAULT ES_METRIC_NEGATIVE_SHARE
#define ES_ALERT_WINDOW_DEFAULT 60

typedef struct {
    char id[ES_REQ_ID_MAX + 1];
    char topic[ES_REQ_ID_MAX + 1];
    int enabled;
    es_spike_rule spike; /* metric, window, min_volume, sensitivity */
    long long cooldown_ms;
    json_t *email; /* new reference: array of lower-case addresses */
    char *webhook; /* malloc'd URL, or NULL */
} es_alert_rule;

/*
 * Parses the stored rule text[0..len) of field id. Returns 0 with *r
 * filled (release with es_alert_rule_free), or -1 with a reason in err
 * and nothing to release.
 */
int es_alert_rule_parse(const char *id, const char *text, size_t len,
                        es_alert_rule *r, char *err, size_t err_size);

void es_alert_rule_free(es_alert_rule *r);

/*
 * The e-mail recipients of an alert of rule r: its own addresses, then
 * the members (JSON texts members[0..n), the values of es:{t:T}:members)
 * who opted in with "alert_email": true, lower-cased, each once, in that
 * order. Returns a new array (empty when nobody is to be mailed), or NULL
 * when memory ran out. Members that do not parse are skipped.
 */
json_t *es_alert_recipients(const es_alert_rule *r, const char *const *members,
                            const size_t *lens, size_t n);

#endif
