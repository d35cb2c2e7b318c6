/*
 * reddit_auth.h - Reddit OAuth2 application-only tokens.
 *
 * POST reddit.token_url with HTTP Basic (client id, secret) and
 * grant_type=client_credentials; the answer holds access_token, token_type
 * "bearer" and expires_in. The token is renewed before it expires (at 80 %
 * of its life, at most a minute early) and at once after the API answers
 * 401. Failures back off with full jitter, so a wrong secret or a dead token
 * endpoint costs one request per back-off period, never a loop. Missing
 * credentials are a state, not a crash: the worker stays up and says so.
 * Neither the secret nor the token is ever written to a log line.
 */
#ifndef ES_INGEST_REDDIT_AUTH_H
#define ES_INGEST_REDDIT_AUTH_H

#include "es_backoff.h"
#include "es_http.h"

typedef enum {
    ES_AUTH_NONE = 0,            /* no token asked for yet */
    ES_AUTH_OK,                  /* a valid token is held */
    ES_AUTH_MISSING_CREDENTIALS, /* client id or secret not configured */
    ES_AUTH_FAILED               /* the last exchange failed */
} es_auth_state;

typedef struct {
    char *token_url;
    char *userpwd; /* "id:secret" (secret: never logged) */
    char token[512];
    es_auth_state state;
    long long refresh_mono;  /* renew at this monotonic time */
    long long next_try_mono; /* earliest retry after a failure */
    es_backoff backoff;
    char last_error[256];
    long timeout_ms;
} es_reddit_auth;

/* Copies the arguments. Returns 0, or -1 when out of memory. */
int es_reddit_auth_init(es_reddit_auth *a, const char *token_url,
                        const char *client_id, const char *client_secret,
                        long timeout_ms);
void es_reddit_auth_cleanup(es_reddit_auth *a);

/*
 * Returns the current token (borrowed, valid until the next call), fetching
 * or renewing it with h when due. NULL when none is available now; then
 * *retry_ms says when asking again makes sense.
 */
const char *es_reddit_auth_token(es_reddit_auth *a, es_http *h,
                                 long long *retry_ms);

/*
 * 1 when es_reddit_auth_token would ask the token endpoint now (no token,
 * renewal due, retry time reached): the client takes a request of the
 * budget for it first, since Reddit counts it like any other.
 */
int es_reddit_auth_due(const es_reddit_auth *a);

/* Drops the token (the API said 401): the next call fetches a new one. */
void es_reddit_auth_invalidate(es_reddit_auth *a);

/* "ok", "missing_credentials", "failed" or "pending". */
const char *es_reddit_auth_state_name(const es_reddit_auth *a);

/*
 * Parses a token endpoint answer: copies access_token into token (size
 * bytes) and stores expires_in. 0, or -1 with a reason (never the token).
 */
int es_reddit_token_parse(const char *body, size_t len, char *token,
                          size_t size, long long *expires_in, char *err,
                          size_t errlen);

#endif
