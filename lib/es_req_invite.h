/*
 * es_req_invite.h - the bodies of the two ends of an invite: an owner's
 * POST /members (who, in which role) and the invitee's POST
 * /invites/{id}/accept (whether they confirm leaving their tenant).
 *
 * Both are small, but each decides something that cannot be taken back
 * lightly (who may join, who leaves), so both are strict: unknown members
 * are refused, and nothing is guessed from a value of the wrong type.
 */
#ifndef ES_REQ_INVITE_H
#define ES_REQ_INVITE_H

#include <stddef.h>

#include <jansson.h>

#include "es_req.h"
#include "es_req_email.h"

/* the members each body may have, NULL-terminated */
extern const char *const es_req_invite_members[];
extern const char *const es_req_accept_members[];

typedef struct {
    char email[ES_REQ_EMAIL_MAX + 1]; /* lower case, NUL-terminated */
    size_t email_len;
    const char *role; /* "member" (the default) or "owner" (static) */
} es_req_invite;

/*
 * Checks a POST /members body {"email", "role"?}. 0 with *out filled in,
 * or -1 with *err: 422 validation_failed naming the first member at
 * fault (an unknown one included), 400 invalid_json for no object.
 */
int es_req_invite_check(json_t *body, es_req_invite *out, es_req_err *err);

/*
 * Checks a POST /invites/{id}/accept body {"confirm"?}: *confirm is 1
 * only for true (absent is 0). 0, or -1 with *err as above.
 */
int es_req_accept_check(json_t *body, int *confirm, es_req_err *err);

#endif
