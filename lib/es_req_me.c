/*
 * es_req_me.c - the PATCH /me body check (es_req_me.h).
 *
 * Only JSON true and false count: 1, "true" and null are refused, so a
 * client never unsubscribes someone by sending a value it meant as
 * something else.
 */
#include "es_req_me.h"

const char *const es_req_me_members[] = {"digest", "alert_email", NULL};

static int es_req_me_flag(json_t *body, const char *name, int *out,
                          es_req_err *err)
{
    json_t *v = json_object_get(body, name); /* borrowed */

    *out = -1;
    if (v == NULL) {
        return 0;
    }
    if (!json_is_boolean(v)) {
        return es_req_fail(err, 422, "validation_failed", name,
                           "%s must be true or false", name);
    }
    *out = json_is_true(v);
    return 0;
}

int es_req_me_check(json_t *body, es_req_me *out, es_req_err *err)
{
    out->digest = -1;
    out->alert_email = -1;

    if (es_req_members(body, es_req_me_members, err) != 0 ||
        es_req_me_flag(body, "digest", &out->digest, err) != 0 ||
        es_req_me_flag(body, "alert_email", &out->alert_email, err) != 0) {
        return -1;
    }

    if (out->digest < 0 && out->alert_email < 0) {
        return es_req_fail(err, 422, "validation_failed", "digest",
                           "the body must set digest, alert_email or both");
    }

    return 0;
}
