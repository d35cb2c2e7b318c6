/*
 * es_req_unsub.h - what GET and POST /api/v1/unsubscribe read: the link's
 * query (t, s, l, sig) and, for POST, the RFC 8058 one-click body.
 *
 * The route needs no token: the link's signature (es_unsub.h) is the
 * proof, checked by the caller after these shape checks. Every part
 * becomes part of a key or of the signed text, so each is held to its
 * own alphabet here: t a tenant id, s a user sub (es_ids.h), l one of the
 * two lists, sig 64 lower-case hex characters.
 */
#ifndef ES_REQ_UNSUB_H
#define ES_REQ_UNSUB_H

#include <stddef.h>

#include "es_ids.h"
#include "es_req.h"
#include "es_unsub.h"

typedef struct {
    char tenant[64 + 1];
    char sub[ES_USER_SUB_MAX + 1];
    const char *list;   /* "digest" or "alerts" (static) */
    const char *member; /* the opt-in it turns off: "digest", "alert_email" */
    char sig[ES_UNSUB_SIG_LEN + 1];
} es_req_unsub_args;

/*
 * Reads the link's arguments from qs[0..len) into *out. 0; or -1 with
 * *err: 400 bad_request naming t, s or l (checked in that order) when
 * one is missing or malformed, or 403 invalid_signature when sig is
 * missing or not 64 lower-case hex characters (as a wrong one is).
 */
int es_req_unsub_read(const char *qs, size_t len, es_req_unsub_args *out,
                      es_req_err *err);

/*
 * Checks a POST body body[0..len) of content type ct[0..ct_len) (NULL:
 * none): empty (the confirmation page's button without its field, a bare
 * POST), or form-urlencoded holding List-Unsubscribe=One-Click (RFC
 * 8058; other fields are let be). 0, or -1 with *err: 400 bad_request,
 * or 415 unsupported_media_type for a non-empty body of another type.
 */
int es_req_unsub_body(const char *ct, size_t ct_len, const char *body,
                      size_t len, es_req_err *err);

#endif
