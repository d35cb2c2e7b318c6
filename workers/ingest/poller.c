/*
 * poller.c - the scheduler of the Reddit poller (see poller.h): keeps the
 * subreddit set in step with the watchlist, polls whichever subreddit is
 * due next, and reports whether the request budget keeps up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_ids.h"
#include "es_keys.h"
#include "backfill.h"
#include "es_log.h"
#include "poll_sub.h"
#include "poller.h"
#include "reddit_pacing.h"
#include "watchlist.h"

/* Longest single sleep of the loop: housekeeping and SIGTERM stay prompt. */
#define ES_LOOP_SLEEP_MS 250

typedef struct {
    es_worker *w;
    es_redis *r;
    es_sink *sink;
    es_heartbeat *hb;
    es_reddit_client *rc;
    const es_poller_opts *o;
    es_watchlist *wl;
    es_sub *subs;
    size_t n;
    size_t cap;
    es_poll_ctx ctx;
    double required_qpm;
    size_t behind;
    int keeping_up; /* last logged state */
    long long auth_wait_mono;
    es_auth_state auth_logged;
    long long next_refresh_mono;
    long long next_budget_mono;
} es_poller;

/* Sleeps up to ms, returning early once a stop was asked for. */
static void nap(long long ms)
{
    if (!es_stopping()) {
        es_sleep_ms(ms < 100 ? ms : 100);
    }
}

static es_sub *find_sub(es_poller *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->subs[i].name, name) == 0) {
            return &p->subs[i];
        }
    }
    return NULL;
}

/* Brings the subreddit array in line with the watchlist. -1 when stopping */
static int sync_subs(es_poller *p)
{
    size_t count = es_watchlist_count(p->wl);

    for (size_t i = 0; i < p->n;) {
        es_sub *s = &p->subs[i];
        if (!es_watchlist_contains(p->wl, s->name, strlen(s->name))) {
            es_log(ES_INFO, "subreddit no longer watched",
                   ES_STR("sub", s->name), ES_END);
            p->subs[i] = p->subs[--p->n];
            continue;
        }
        i++;
    }
    for (size_t i = 0; i < count; i++) {
        const char *name = es_watchlist_name(p->wl, i);
        char norm[24];

        if (name == NULL ||
            es_subreddit_normalize(name, strlen(name), norm) != 0 ||
            find_sub(p, norm) != NULL) {
            continue;
        }
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 16;
            es_sub *ns = realloc(p->subs, cap * sizeof(*ns));
            if (ns == NULL) {
                es_log(ES_ERROR, "out of memory adding subreddit",
                       ES_STR("sub", norm), ES_END);
                return 0;
            }
            p->subs = ns;
            p->cap = cap;
        }
        if (es_sub_load(&p->subs[p->n], p->r, norm, p->o->min_interval) != 0) {
            return -1;
        }
        p->subs[p->n].next_mono = es_mono_ms();
        es_log(ES_INFO, "subreddit watched", ES_STR("sub", norm), ES_END);
        p->n++;
    }
    return 0;
}

/* Recomputes the budget and logs when keeping up changes. */
static void eval_budget(es_poller *p)
{
    double *rate = NULL, *iv = NULL;
    int *behind = NULL;
    int keeping_up;

    if (p->n > 0) {
        rate = calloc(p->n, sizeof(*rate));
        iv = calloc(p->n, sizeof(*iv));
        behind = calloc(p->n, sizeof(*behind));
        if (rate == NULL || iv == NULL || behind == NULL) {
            goto cleanup;
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        rate[i] = p->subs[i].rate;
        iv[i] = p->subs[i].interval;
    }
    p->behind =
        es_budget_eval(rate, iv, p->n, p->o->qpm, &p->required_qpm, behind);
    for (size_t i = 0; i < p->n; i++) {
        es_sub *s = &p->subs[i];
        if (behind[i] != s->behind) {
            es_log(behind[i] ? ES_WARN : ES_INFO,
                   behind[i] ? "subreddit cannot be kept up with: comments "
                               "will be lost to the listing cap"
                             : "subreddit kept up with again",
                   ES_STR("sub", s->name), ES_DBL("rate", s->rate),
                   ES_DBL("required_qpm", p->required_qpm),
                   ES_DBL("budget_qpm", p->o->qpm), ES_END);
            s->behind = behind[i];
        }
    }
    keeping_up = p->behind == 0;
    if (keeping_up != p->keeping_up) {
        es_log(keeping_up ? ES_INFO : ES_WARN,
               keeping_up ? "request budget keeps up"
                          : "request budget does not keep up",
               ES_INT("subreddits", p->n), ES_INT("behind", p->behind),
               ES_DBL("required_qpm", p->required_qpm),
               ES_DBL("budget_qpm", p->o->qpm), ES_END);
        p->keeping_up = keeping_up;
    }

cleanup:
    free(rate);
    free(iv);
    free(behind);
}

/* New reference: the heartbeat status object. */
static json_t *status_json(es_poller *p)
{
    json_t *st = json_object(), *behind = json_array();
    es_sink_stats ss = es_sink_get_stats(p->sink);

    if (st == NULL || behind == NULL) {
        json_decref(st);
        json_decref(behind);
        return NULL;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->subs[i].behind) {
            json_array_append_new(behind, json_string(p->subs[i].name));
        }
    }
    json_object_set_new(st, "mode", json_string("poll"));
    json_object_set_new(st, "subreddits", json_integer((json_int_t)p->n));
    json_object_set_new(st, "required_qpm", json_real(p->required_qpm));
    json_object_set_new(st, "budget_qpm", json_real(p->o->qpm));
    json_object_set_new(st, "keeping_up", json_boolean(p->behind == 0));
    json_object_set_new(st, "behind", behind);
    json_object_set_new(st, "auth",
                        json_string(es_reddit_auth_state_name(&p->rc->auth)));
    json_object_set_new(st, "last_error",
                        p->ctx.last_error[0] ? json_string(p->ctx.last_error)
                                             : json_null());
    json_object_set_new(st, "requests",
                        json_integer((json_int_t)p->rc->requests));
    json_object_set_new(st, "bad_responses",
                        json_integer((json_int_t)p->ctx.bad_bodies));
    json_object_set_new(st, "added", json_integer((json_int_t)ss.added));
    json_object_set_new(st, "duplicates",
                        json_integer((json_int_t)ss.duplicates));
    if (p->rc->rl_known) {
        json_object_set_new(st, "ratelimit_remaining",
                            json_real(p->rc->rl_remaining));
    }
    return st;
}

/* Mirrors the status into es:{ingest}:budget for /healthz readers. */
static void write_budget(es_poller *p)
{
    char subs[32], req[32], bud[32], now[32];
    char *behind = NULL;
    size_t len = 1;
    redisReply *reply;

    for (size_t i = 0; i < p->n; i++) {
        len += strlen(p->subs[i].name) + 1;
    }
    behind = calloc(1, len);
    if (behind == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->subs[i].behind) {
            if (behind[0]) {
                strcat(behind, ",");
            }
            strcat(behind, p->subs[i].name);
        }
    }
    snprintf(subs, sizeof(subs), "%zu", p->n);
    snprintf(req, sizeof(req), "%.2f", p->required_qpm);
    snprintf(bud, sizeof(bud), "%.2f", p->o->qpm);
    snprintf(now, sizeof(now), "%lld", es_now_ms());
    reply = es_redis_try(p->r,
                         "HSET %s subreddits %s required_qpm %s budget_qpm "
                         "%s keeping_up %s behind %s auth %s last_error %s "
                         "updated_ms %s",
                         ES_KEY_INGEST_BUDGET, subs, req, bud,
                         p->behind == 0 ? "true" : "false", behind,
                         es_reddit_auth_state_name(&p->rc->auth),
                         p->ctx.last_error, now);
    if (reply) {
        freeReplyObject(reply);
    }
    free(behind);
}

static void housekeeping(es_poller *p, int force)
{
    long long now = es_mono_ms();

    if (force || now - p->hb->last_ms >= p->hb->interval_ms) {
        json_t *st = status_json(p);
        es_heartbeat_now(p->hb, st);
        json_decref(st);
    }
    if (force || now >= p->next_budget_mono) {
        write_budget(p);
        p->next_budget_mono = now + p->hb->interval_ms;
    }
    es_sink_tick(p->sink);
}

/* The client's idle hook: heartbeats go on while a request waits. */
static void on_idle(void *ud)
{
    housekeeping(ud, 0);
}

/* Logs auth state changes once and sets the wait before the next try. */
static void note_no_auth(es_poller *p)
{
    long long wait = p->rc->auth_retry_ms;

    if (wait < 1000) {
        wait = 1000;
    }
    p->auth_wait_mono = es_mono_ms() + wait;
    if (p->rc->auth.state != p->auth_logged) {
        es_log(ES_ERROR, "no Reddit token: not polling",
               ES_STR("auth", es_reddit_auth_state_name(&p->rc->auth)),
               ES_STR("error", p->rc->auth.last_error),
               ES_INT("retry_ms", wait), ES_END);
        p->auth_logged = p->rc->auth.state;
    }
    snprintf(p->ctx.last_error, sizeof(p->ctx.last_error), "%s",
             p->rc->last_error);
    housekeeping(p, 1);
}

static int refresh_watchlist(es_poller *p, int first)
{
    int rc = es_watchlist_refresh(p->wl, p->r);

    p->next_refresh_mono =
        es_mono_ms() + (long long)(p->o->watch_refresh * 1000.0);
    if (rc < 0) {
        return -1;
    }
    if (rc == 1 || first) {
        if (sync_subs(p) != 0) {
            return -1;
        }
        eval_budget(p);
    }
    return 0;
}

static es_poll_result poll_one(es_poller *p, es_sub *s)
{
    es_poll_result res = es_poll_sub(&p->ctx, s);

    if (res == ES_POLL_NO_AUTH) {
        note_no_auth(p);
    } else if (res == ES_POLL_OK && p->auth_logged != ES_AUTH_OK &&
               p->rc->auth.state == ES_AUTH_OK) {
        p->auth_logged = ES_AUTH_OK;
    }
    if (res != ES_POLL_STOPPING) {
        eval_budget(p);
    }
    return res;
}

/* One poll of every subreddit (--once). */
static int run_once(es_poller *p)
{
    int failed = 0;

    for (size_t i = 0; i < p->n && !es_stopping(); i++) {
        es_poll_result res = poll_one(p, &p->subs[i]);
        if (res == ES_POLL_NO_AUTH) {
            return 1;
        }
        failed |= res == ES_POLL_FAILED;
    }
    housekeeping(p, 1);
    return failed ? 1 : 0;
}

static void run_loop(es_poller *p)
{
    while (!es_stopping()) {
        long long now = es_mono_ms(), wait;
        es_sub *next = NULL;

        if (now >= p->next_refresh_mono && refresh_watchlist(p, 0) != 0) {
            break;
        }
        housekeeping(p, 0);
        if (now < p->auth_wait_mono) {
            wait = p->auth_wait_mono - now;
            nap(wait < ES_LOOP_SLEEP_MS ? wait : ES_LOOP_SLEEP_MS);
            continue;
        }
        for (size_t i = 0; i < p->n; i++) {
            if (next == NULL || p->subs[i].next_mono < next->next_mono) {
                next = &p->subs[i];
            }
        }
        if (next == NULL || next->next_mono > now) {
            wait = next ? next->next_mono - now : ES_LOOP_SLEEP_MS;
            nap(wait < ES_LOOP_SLEEP_MS ? wait : ES_LOOP_SLEEP_MS);
            continue;
        }
        if (poll_one(p, next) == ES_POLL_STOPPING) {
            break;
        }
    }
}

int es_poller_run(es_worker *w, es_redis *r, es_sink *sink, es_heartbeat *hb,
                  es_reddit_client *rc, const es_poller_opts *o)
{
    es_poller p;
    int code = 0;

    memset(&p, 0, sizeof(p));
    p.w = w;
    p.r = r;
    p.sink = sink;
    p.hb = hb;
    p.rc = rc;
    p.o = o;
    p.keeping_up = 1;
    p.auth_logged = ES_AUTH_NONE;
    p.ctx.r = r;
    p.ctx.sink = sink;
    p.ctx.rc = rc;
    p.ctx.o = o;
    rc->idle = on_idle;
    rc->idle_ud = &p;
    p.wl = es_watchlist_new();
    if (p.wl == NULL) {
        es_log(ES_ERROR, "out of memory", ES_END);
        rc->idle = NULL;
        return 1;
    }
    es_log(ES_INFO, "poller started", ES_DBL("budget_qpm", o->qpm),
           ES_DBL("min_interval", o->min_interval),
           ES_DBL("max_interval", o->max_interval), ES_END);
    if (refresh_watchlist(&p, 1) == 0) {
        if (o->once) {
            code = run_once(&p);
        } else {
            run_loop(&p);
        }
    }
    /* SIGTERM: the request in hand is done; write what is queued */
    es_sink_flush(sink);
    for (size_t i = 0; i < p.n; i++) {
        if (p.subs[i].last_poll_ms > 0) {
            es_sub_save(&p.subs[i], r);
        }
    }
    housekeeping(&p, 1);
    es_log(ES_INFO, "poller stopped", ES_INT("requests", rc->requests), ES_END);
    rc->idle = NULL;
    rc->idle_ud = NULL;
    es_watchlist_free(p.wl);
    free(p.subs);
    return code;
}
