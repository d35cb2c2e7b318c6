/*
 * es_req_invite.c - the invite and accept body checks (es_req_invite.h).
 *
 * The role is copied out as a static string, not borrowed from the body,
 * so the caller may keep it after the body is gone.
 */
#include "es_req_invite.h"

#include <string.h>

const char *const es_req_invite_members[] = {"email", "role", NULL};
const char *const es_req_accept_members[] = {"confirm", NULL};

int es_req_invite_check(json_t *body, es_req_invite *out, es_req_err *err)
{
    const char *role;
    json_t *v;

    memset(out, 0, sizeof(*out));

    if (es_req_members(body, es_req_invite_members, err) != 0) {
        return -1;
    }

    v = json_object_get(body, "email"); /* borrowed */
    if (json_is_string(v)) {
        out->email_len = es_req_email_normalize(
            json_string_value(v), json_string_length(v), out->email);
    }
    if (out->email_len == 0) {
        out->email[0] = '\0';
        return es_req_fail(err, 422, "validation_failed", "email",
                           "email must be an e-mail address");
    }

    out->role = "member";
    v = json_object_get(body, "role"); /* borrowed */
    if (v != NULL) {
        role = json_string_value(v);
        if (role != NULL && strcmp(role, "member") == 0) {
            out->role = "member";
        } else if (role != NULL && strcmp(role, "owner") == 0) {
            out->role = "owner";
        } else {
            return es_req_fail(err, 422, "validation_failed", "role",
                               "role must be \"member\" or \"owner\"");
        }
    }

    return 0;
}

int es_req_accept_check(json_t *body, int *confirm, es_req_err *err)
{
    json_t *v;

    *confirm = 0;

    if (es_req_members(body, es_req_accept_members, err) != 0) {
        return -1;
    }

    v = json_object_get(body, "confirm"); /* borrowed */
    if (v != NULL && !json_is_boolean(v)) {
        return es_req_fail(err, 422, "validation_failed", "confirm",
                           "confirm must be true or false");
    }

    *confirm = json_is_true(v);
    return 0;
}
