/*
 * reddit_client.c - paced, retried Reddit GETs (see reddit_client.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_log.h"
#include "es_metrics.h"
#include "es_worker.h"
#include "reddit_client.h"

enum {
    H_REMAINING = 0,
    H_USED,
    H_RESET,
    H_RETRY_AFTER,
};

/* Longest retry-after honoured: beyond it Reddit is treated as down. */
#define ES_RETRY_AFTER_MAX_MS (10LL * 60 * 1000)
/* The span of the qpm window: a minute and half a second, so requests
   that arrive a little closer together than they were sent (network
   jitter) still never put more than qpm into a minute as Reddit sees it. */
#define ES_WINDOW_SPAN_MS 60500

int es_reddit_client_init(es_reddit_client *c, const es_reddit_client_opts *o)
{
    memset(c, 0, sizeof(*c));
    if (!es_user_agent_valid(o->user_agent)) {
        es_log(ES_WARN, "reddit.user_agent is not in Reddit's form",
               ES_STR("user_agent", o->user_agent),
               ES_STR("expected", "<platform>:<app id>:<version> "
                                  "(by /u/<user>)"),
               ES_END);
    }
    c->http = es_http_new(o->user_agent);
    c->api_url = strdup(o->api_url);
    if (c->http == NULL || c->api_url == NULL ||
        es_window_init(&c->window, o->qpm, ES_WINDOW_SPAN_MS) != 0 ||
        es_reddit_auth_init(&c->auth, o->token_url, o->client_id,
                            o->client_secret, o->timeout_ms) != 0) {
        es_http_free(c->http);
        free(c->api_url);
        es_window_free(&c->window);
        return -1;
    }
    es_http_keep_header(c->http, H_REMAINING, "x-ratelimit-remaining");
    es_http_keep_header(c->http, H_USED, "x-ratelimit-used");
    es_http_keep_header(c->http, H_RESET, "x-ratelimit-reset");
    es_http_keep_header(c->http, H_RETRY_AFTER, "retry-after");
    c->timeout_ms = o->timeout_ms;
    c->max_body = o->max_body;
    c->max_attempts = o->max_attempts < 1 ? 1 : o->max_attempts;
    c->stopping = o->stopping ? o->stopping : es_stopping;
    c->idle = o->idle;
    c->idle_ud = o->idle_ud;
    /* a burst of a tenth of a minute's budget, then the steady rate */
    es_bucket_init(&c->bucket, o->qpm, o->qpm / 10, es_mono_ms());
    es_backoff_init(&c->backoff, 500, 30000);
    return 0;
}

void es_reddit_client_cleanup(es_reddit_client *c)
{
    es_http_free(c->http);
    free(c->api_url);
    es_window_free(&c->window);
    es_reddit_auth_cleanup(&c->auth);
    memset(c, 0, sizeof(*c));
}

/*
 * Sleeps ms in slices, returning early when the worker is stopping; the
 * idle hook keeps heartbeats going through a long wait (a spent rate
 * window, a retry-after of minutes).
 */
static void nap(es_reddit_client *c, long long ms)
{
    long long end = es_mono_ms() + ms;

    while (!c->stopping()) {
        long long left = end - es_mono_ms();
        if (left <= 0) {
            return;
        }
        es_sleep_ms(left < 100 ? left : 100);
        if (c->idle) {
            c->idle(c->idle_ud);
        }
    }
}

/* The wait our bucket, our window and Reddit's headers ask for. */
static long long turn_wait(es_reddit_client *c, long long now)
{
    long long wait = es_bucket_wait_ms(&c->bucket, now);
    long long w = es_window_wait_ms(&c->window, now);

    if (w > wait) {
        wait = w;
    }
    if (c->not_before_mono - now > wait) {
        wait = c->not_before_mono - now;
    }
    return wait > 0 ? wait : 0;
}

long long es_reddit_client_wait_ms(es_reddit_client *c)
{
    return turn_wait(c, es_mono_ms());
}

/* Waits until every limit allows a request, and takes it. */
static int wait_turn(es_reddit_client *c)
{
    for (;;) {
        long long now = es_mono_ms();
        long long wait = turn_wait(c, now);

        if (c->stopping()) {
            return -1;
        }
        if (wait <= 0) {
            es_bucket_take(&c->bucket, now);
            es_window_take(&c->window, now);
            return 0;
        }
        nap(c, wait);
    }
}

static void read_rate_headers(es_reddit_client *c, const es_http_response *r)
{
    if (!r->header_found[H_REMAINING] || !r->header_found[H_RESET]) {
        return;
    }
    c->rl_remaining = strtod(r->header_values[H_REMAINING], NULL);
    c->rl_reset = strtod(r->header_values[H_RESET], NULL);
    c->rl_used =
        r->header_found[H_USED] ? strtod(r->header_values[H_USED], NULL) : 0;
    c->rl_known = 1;
    es_metrics_set("echostream_reddit_ratelimit_remaining", c->rl_remaining);
    es_metrics_set("echostream_reddit_ratelimit_used", c->rl_used);
    c->not_before_mono =
        es_mono_ms() + es_ratelimit_delay_ms(c->rl_remaining, c->rl_reset);
    if (c->rl_remaining <= 1) {
        es_log(ES_WARN, "reddit rate window spent, waiting for reset",
               ES_DBL("reset_s", c->rl_reset), ES_END);
    }
}

/* Sleeps before a retry; -1 when stopping. */
static int retry_wait(es_reddit_client *c, long long ms, const char *why,
                      const char *path, int attempt)
{
    es_log(ES_WARN, "reddit request retry", ES_STR("path", path),
           ES_STR("reason", why), ES_INT("attempt", attempt),
           ES_INT("wait_ms", ms), ES_END);
    nap(c, ms);
    return c->stopping() ? -1 : 0;
}

es_rc es_reddit_get(es_reddit_client *c, const char *path,
                    es_http_response *resp)
{
    char url[2048], auth_hdr[600];
    const char *headers[3];
    es_http_request req;
    int renewed = 0;

    snprintf(url, sizeof(url), "%s%s", c->api_url, path);
    for (int attempt = 1;; attempt++) {
        const char *token;
        long long wait;
        char why[300];

        /* a token request is a request of the budget like any other */
        if (es_reddit_auth_due(&c->auth)) {
            if (wait_turn(c) != 0) {
                return ES_RC_STOPPING;
            }
            c->token_requests++;
        }
        token = es_reddit_auth_token(&c->auth, c->http, &c->auth_retry_ms);
        if (token == NULL) {
            snprintf(c->last_error, sizeof(c->last_error), "auth: %.200s",
                     c->auth.last_error);
            return ES_RC_NO_AUTH;
        }
        if (wait_turn(c) != 0) {
            return ES_RC_STOPPING;
        }
        snprintf(auth_hdr, sizeof(auth_hdr), "Authorization: bearer %s", token);
        headers[0] = auth_hdr;
        headers[1] = "Accept: application/json";
        headers[2] = NULL;
        memset(&req, 0, sizeof(req));
        req.method = "GET";
        req.url = url;
        req.headers = headers;
        req.timeout_ms = c->timeout_ms;
        req.max_body = c->max_body;
        es_http_perform(c->http, &req, resp);
        memset(auth_hdr, 0, sizeof(auth_hdr));
        c->requests++;
        /* every request spends the rate budget, whatever its answer */
        es_metrics_add("echostream_reddit_requests_total", 1);
        read_rate_headers(c, resp);

        if (resp->status == 200) {
            es_backoff_reset(&c->backoff);
            return ES_RC_OK;
        }
        if (resp->status == 401 && !renewed) {
            /* expired or revoked early: renew once, retry at once */
            es_log(ES_INFO, "reddit token rejected, renewing",
                   ES_STR("path", path), ES_END);
            es_reddit_auth_invalidate(&c->auth);
            renewed = 1;
            attempt--;
            continue;
        }
        if (resp->status == 403 || resp->status == 404) {
            snprintf(c->last_error, sizeof(c->last_error), "HTTP %ld %.200s",
                     resp->status, path);
            return ES_RC_GONE;
        }
        if (resp->status == 0 && strstr(resp->error, "larger than")) {
            snprintf(c->last_error, sizeof(c->last_error), "%.120s: %.120s",
                     path, resp->error);
            return ES_RC_FAILED;
        }
        if (resp->status == 0) {
            snprintf(why, sizeof(why), "transport: %.200s", resp->error);
            wait = es_backoff_next(&c->backoff);
        } else if (resp->status == 429) {
            snprintf(why, sizeof(why), "HTTP 429");
            es_metrics_add("echostream_reddit_ratelimited_total", 1);
            if (resp->header_found[H_RETRY_AFTER]) {
                wait = (long long)(strtod(resp->header_values[H_RETRY_AFTER],
                                          NULL) *
                                   1000.0);
                if (wait < 0) {
                    wait = 0;
                }
                if (wait > ES_RETRY_AFTER_MAX_MS) {
                    wait = ES_RETRY_AFTER_MAX_MS;
                }
                /* the rate window is unknown now: resume slowly */
                c->not_before_mono = es_mono_ms() + wait;
            } else {
                wait = es_backoff_next(&c->backoff);
            }
        } else if (resp->status >= 500) {
            snprintf(why, sizeof(why), "HTTP %ld", resp->status);
            wait = es_backoff_next(&c->backoff);
        } else {
            snprintf(c->last_error, sizeof(c->last_error), "HTTP %ld %.200s",
                     resp->status, path);
            return ES_RC_FAILED;
        }
        snprintf(c->last_error, sizeof(c->last_error), "%.120s %.120s", why,
                 path);
        if (attempt >= c->max_attempts) {
            return ES_RC_FAILED;
        }
        if (retry_wait(c, wait, why, path, attempt) != 0) {
            return ES_RC_STOPPING;
        }
    }
}
