/*
 * reddit_client.h - one Reddit API GET, paced and retried.
 *
 * Every request of the worker goes through here, token requests included,
 * so the pacing is global and counts everything Reddit counts: a token
 * bucket keeps us at reddit.qpm and a window over the last send times makes
 * sure no minute ever holds more (reddit_pacing.h), and Reddit's
 * X-Ratelimit-* headers push the next request out so what remains of the
 * window is spread until it resets (with at most one request left: wait
 * for the reset).
 * A 429 honours retry-after when given and backs off with full jitter when
 * not; 5xx and transport errors back off too; a 401 renews the token once.
 * Every wait is sliced into 100 ms naps that check the stop predicate, so
 * SIGTERM is seen promptly; a request in flight ends by itself (timeout).
 */
#ifndef ES_INGEST_REDDIT_CLIENT_H
#define ES_INGEST_REDDIT_CLIENT_H

#include "es_backoff.h"
#include "es_http.h"
#include "reddit_auth.h"
#include "reddit_pacing.h"

typedef enum {
    ES_RC_OK = 0,  /* 200: resp holds the body */
    ES_RC_GONE,    /* 403/404: private, banned or no such subreddit */
    ES_RC_FAILED,  /* gave up (retries spent, body too large, other 4xx) */
    ES_RC_NO_AUTH, /* no token available now (see auth state) */
    ES_RC_STOPPING /* the worker is stopping */
} es_rc;

typedef struct {
    const char *api_url;
    const char *token_url;
    const char *client_id;
    const char *client_secret;
    const char *user_agent;
    double qpm;
    long timeout_ms;
    size_t max_body;
    int max_attempts;      /* tries per request, >= 1 */
    int (*stopping)(void); /* stop predicate (NULL: es_stopping) */
    /* called about every 100 ms while waiting (heartbeats); may be NULL */
    void (*idle)(void *ud);
    void *idle_ud;
} es_reddit_client_opts;

typedef struct {
    es_http *http;
    es_reddit_auth auth;
    char *api_url;
    long timeout_ms;
    size_t max_body;
    int max_attempts;
    int (*stopping)(void);
    void (*idle)(void *ud);
    void *idle_ud;
    es_bucket bucket;
    es_window window;          /* never more than qpm in any minute */
    long long not_before_mono; /* from X-Ratelimit-* */
    es_backoff backoff;
    double rl_remaining, rl_used, rl_reset;
    int rl_known;
    long long auth_retry_ms;  /* after ES_RC_NO_AUTH: when to try again */
    long long requests;       /* API requests sent, for the status */
    long long token_requests; /* token endpoint requests sent */
    char last_error[256];
} es_reddit_client;

/* Returns 0, or -1 when out of memory. Warns about a malformed UA. */
int es_reddit_client_init(es_reddit_client *c, const es_reddit_client_opts *o);
void es_reddit_client_cleanup(es_reddit_client *c);

/*
 * GETs api_url + path (path starts with '/', query included). On ES_RC_OK
 * resp->body is valid until the next call. last_error describes failures.
 */
es_rc es_reddit_get(es_reddit_client *c, const char *path,
                    es_http_response *resp);

/*
 * Milliseconds until the pacing lets the next request go (0: now). The
 * poller waits for this before it picks what to poll, so the subreddit
 * that has waited longest gets the request.
 */
long long es_reddit_client_wait_ms(es_reddit_client *c);

#endif
