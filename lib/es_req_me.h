/*
 * es_req_me.h - the body of PATCH /api/v1/me: the caller's own mail
 * opt-ins, {"digest": bool, "alert_email": bool}, at least one of them.
 *
 * Nothing else of a membership (role, e-mail, tenant) can be changed
 * here: those come from the token and the owners, so the body may name
 * only these two members.
 */
#ifndef ES_REQ_ME_H
#define ES_REQ_ME_H

#include <jansson.h>

#include "es_req.h"

/* the members the body may have, NULL-terminated */
extern const char *const es_req_me_members[];

/* each opt-in: 1 on, 0 off, -1 not in the body (unchanged) */
typedef struct {
    int digest;
    int alert_email;
} es_req_me;

/*
 * Checks a PATCH /me body into *out. 0, or -1 with *err: 400
 * invalid_json (no object), 422 validation_failed naming an unknown
 * member, a member that is not true or false (digest first), or, for a
 * body with neither, "digest".
 */
int es_req_me_check(json_t *body, es_req_me *out, es_req_err *err);

#endif
