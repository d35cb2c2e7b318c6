/*
 * rules.c - stored alert rules and their recipients (see rules.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_req_email.h"
#include "es_req_rule.h"
#include "rules.h"

/* metric and window_minutes of src (borrowed), defaults when absent */
static int parse_new_members(json_t *src, es_alert_rule *r, char *err,
                             size_t err_size)
{
    json_t *m = json_object_get(src, "metric");
    json_t *w = json_object_get(src, "window_minutes");
    json_int_t win = ES_ALERT_WINDOW_DEFAULT;

    r->spike.metric = ES_ALERT_METRIC_DEFAULT;
    if (m != NULL && !json_is_null(m) &&
        (!json_is_string(m) ||
         es_metric_parse(json_string_value(m), &r->spike.metric) != 0)) {
        snprintf(err, err_size,
                 "metric must be negative_share, volume or mean_compound");
        return -1;
    }
    if (w != NULL && !json_is_null(w) &&
        (es_req_json_int(w, &win) != 0 || win < ES_SPIKE_WINDOW_MIN ||
         win > ES_SPIKE_WINDOW_MAX)) {
        snprintf(err, err_size,
                 "window_minutes must be an integer from %d "
                 "to %d",
                 ES_SPIKE_WINDOW_MIN, ES_SPIKE_WINDOW_MAX);
        return -1;
    }
    r->spike.window_minutes = (int)win;
    return 0;
}

int es_alert_rule_parse(const char *id, const char *text, size_t len,
                        es_alert_rule *r, char *err, size_t err_size)
{
    json_t *src, *canon = NULL;
    json_error_t jerr;
    es_req_err rerr;
    const char *hook;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    if (strlen(id) > ES_REQ_ID_MAX || !es_req_id_valid(id, strlen(id))) {
        snprintf(err, err_size, "rule id is not an id");
        return -1;
    }
    src = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(src)) {
        snprintf(err, err_size, "not a JSON object");
        goto cleanup;
    }
    if (es_req_rule_check(src, NULL, id, &canon, &rerr) != 0) {
        snprintf(err, err_size, "%s", rerr.message);
        goto cleanup;
    }
    if (parse_new_members(src, r, err, err_size) != 0) {
        goto cleanup;
    }
    snprintf(r->id, sizeof(r->id), "%s", id);
    snprintf(r->topic, sizeof(r->topic), "%s",
             json_string_value(json_object_get(canon, "topic")));
    r->enabled = json_is_true(json_object_get(canon, "enabled"));
    r->spike.min_volume =
        json_integer_value(json_object_get(canon, "min_volume"));
    r->spike.k = json_number_value(json_object_get(canon, "sensitivity"));
    r->cooldown_ms =
        json_integer_value(json_object_get(canon, "cooldown_minutes")) *
        60000LL;
    r->email = json_incref(json_object_get(canon, "email"));
    hook = json_string_value(json_object_get(canon, "webhook"));
    if (hook != NULL) {
        r->webhook = strdup(hook);
        if (r->webhook == NULL) {
            snprintf(err, err_size, "out of memory");
            es_alert_rule_free(r);
            goto cleanup;
        }
    }
    rc = 0;

cleanup:
    json_decref(canon);
    json_decref(src);
    return rc;
}

void es_alert_rule_free(es_alert_rule *r)
{
    json_decref(r->email);
    free(r->webhook);
    r->email = NULL;
    r->webhook = NULL;
}

/* Appends address s[0..n) normalized unless out holds it; -1 on memory. */
static int add_address(json_t *out, const char *s, size_t n)
{
    char norm[ES_REQ_EMAIL_MAX + 1];
    size_t len = es_req_email_normalize(s, n, norm);

    if (len == 0) {
        return 0; /* not an address: nobody to mail */
    }
    for (size_t i = 0; i < json_array_size(out); i++) {
        if (strcmp(json_string_value(json_array_get(out, i)), norm) == 0) {
            return 0;
        }
    }
    return json_array_append_new(out, json_stringn(norm, len));
}

json_t *es_alert_recipients(const es_alert_rule *r, const char *const *members,
                            const size_t *lens, size_t n)
{
    json_t *out = json_array();

    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(r->email); i++) {
        json_t *e = json_array_get(r->email, i);
        if (json_is_string(e) && add_address(out, json_string_value(e),
                                             json_string_length(e)) != 0) {
            goto oom;
        }
    }
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_loadb(members[i], lens[i], 0, NULL);
        json_t *e = json_object_get(m, "email");
        int rc = 0;

        if (json_is_true(json_object_get(m, "alert_email")) &&
            json_is_string(e)) {
            rc = add_address(out, json_string_value(e), json_string_length(e));
        }
        json_decref(m);
        if (rc != 0) {
            goto oom;
        }
    }
    return out;

oom:
    json_decref(out);
    return NULL;
}
