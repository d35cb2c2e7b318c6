/*
 * poller.c - the scheduler of the Reddit poller (see poller.h): keeps the
 * subreddit set in step with the watchlist, plans which quiet subreddits
 * share a listing (poll_plan.h), gives every request the budget allows to
 * the unit (a group or a subreddit alone) that has waited longest, and
 * reports whether the budget keeps up.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_ids.h"
#include "es_keys.h"
#include "backfill.h"
#include "es_log.h"
#include "es_metrics.h"
#include "poll_group.h"
#include "poll_lease.h"
#include "poll_plan.h"
#include "poll_sub.h"
#include "poller.h"
#include "reddit_pacing.h"
#include "watchlist.h"

/* Longest single sleep of the loop: housekeeping and SIGTERM stay prompt. */
#define ES_LOOP_SLEEP_MS 250

/* A group of the current plan: indexes into the subreddit array. */
typedef struct {
    size_t m[ES_GROUP_MAX];
    size_t n;
} es_group;

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
    es_group *groups; /* the plan: groups, the rest polled alone */
    size_t ngroups;
    double cycle_s; /* seconds between two polls of a unit, planned */
    double required_qpm;
    size_t behind;
    int keeping_up; /* last logged state */
    long long auth_wait_mono;
    es_auth_state auth_logged;
    long long next_refresh_mono;
    long long next_budget_mono;
    es_poll_lease lease; /* only its holder polls (poll_lease.h) */
    int standby;         /* not polling: the cursors in hand may be stale */
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
        p->subs[p->n].last_mono = es_mono_ms();
        es_log(ES_INFO, "subreddit watched", ES_STR("sub", norm), ES_END);
        p->n++;
    }
    return 0;
}

/*
 * Whether a subreddit may share a listing: its rate is known, it is
 * complete up to a known id (so its group knows how far back to read),
 * nothing is wrong with it, and it was polled alone at least once (a new
 * subreddit's first poll, alone, also finds out whether it is readable).
 */
static int groupable(const es_sub *s)
{
    return s->have_rate && s->seen_num > 0 && s->last_poll_ms > 0 && !s->gone &&
           !s->need_solo && s->failures == 0;
}

/* Logs a subreddit's change of being behind. */
static void note_behind(es_poller *p, es_sub *s, int behind)
{
    if (behind == s->behind) {
        return;
    }
    es_log(behind ? ES_WARN : ES_INFO,
           behind ? "subreddit cannot be kept up with: comments "
                    "will be lost to the listing cap"
                  : "subreddit kept up with again",
           ES_STR("sub", s->name), ES_DBL("rate", s->rate),
           ES_DBL("cycle_s", p->cycle_s),
           ES_DBL("required_qpm", p->required_qpm),
           ES_DBL("budget_qpm", p->o->qpm), ES_END);
    s->behind = behind;
}

/*
 * Plans the groups and the cycle anew from the current rates, and from
 * them what the budget report says: required_qpm (what the units need to
 * poll each once per ES_POLL_TARGET comments, at least once per
 * ingest.max_interval) and the subreddits behind (gathering more than the
 * listing holds in one cycle). Cheap (a sort of the subreddits), so it
 * runs after every poll; the members of a group may change from one poll
 * to the next without harm (poll_group.h).
 */
static void plan(es_poller *p)
{
    double *rate = NULL, *grate = NULL, *pending = NULL;
    long long now_ms = es_now_ms();
    int *can = NULL, *group_of = NULL, keeping_up;
    size_t ng = 0, behind = 0;
    const es_poller_opts *o = p->o;

    if (p->n > 0) {
        rate = calloc(p->n, sizeof(*rate));
        can = calloc(p->n, sizeof(*can));
        group_of = calloc(p->n, sizeof(*group_of));
        grate = calloc(p->n, sizeof(*grate));
        pending = calloc(p->n, sizeof(*pending));
        if (rate == NULL || can == NULL || group_of == NULL || grate == NULL ||
            pending == NULL) {
            /* out of memory: everything alone, no stale group indexes */
            p->ngroups = 0;
            for (size_t i = 0; i < p->n; i++) {
                p->subs[i].group = -1;
            }
            goto cleanup;
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        const es_sub *s = &p->subs[i];
        rate[i] = s->have_rate ? s->rate : 0;
        can[i] = groupable(s);
        if (s->last_poll_ms > 0 && now_ms > s->last_poll_ms) {
            pending[i] = rate[i] * (double)(now_ms - s->last_poll_ms) / 1000.0;
        }
    }
    p->cycle_s = es_poll_plan(rate, pending, can, p->n, o->qpm, o->min_interval,
                              group_of, &ng);
    if (ng > p->ngroups || p->groups == NULL) {
        es_group *g = realloc(p->groups, (ng ? ng : 1) * sizeof(*g));
        if (g == NULL) {
            ng = 0; /* out of memory: everything alone this round */
            for (size_t i = 0; i < p->n; i++) {
                group_of[i] = -1;
            }
        } else {
            p->groups = g;
        }
    }
    p->ngroups = ng;
    for (size_t g = 0; g < ng; g++) {
        p->groups[g].n = 0;
    }
    p->required_qpm = 0;
    for (size_t i = 0; i < p->n; i++) {
        int g = group_of[i];
        p->subs[i].group = g;
        if (g >= 0) {
            p->groups[g].m[p->groups[g].n++] = i;
            grate[g] += rate[i];
        } else {
            p->required_qpm += es_sub_qpm(
                rate[i],
                es_poll_interval(rate[i], 1, o->min_interval, o->max_interval));
        }
    }
    for (size_t g = 0; g < ng; g++) {
        p->required_qpm +=
            es_sub_qpm(grate[g], es_poll_interval(grate[g], 1, o->min_interval,
                                                  o->max_interval));
    }
    for (size_t i = 0; i < p->n; i++) {
        es_sub *s = &p->subs[i];
        double r = s->group >= 0 ? grate[s->group] : rate[i];
        int b = s->have_rate && r > 0 && r * p->cycle_s > ES_LISTING_SAFE;
        note_behind(p, s, b);
        behind += (size_t)b;
    }
    p->behind = behind;
    keeping_up = p->behind == 0;
    if (keeping_up != p->keeping_up) {
        es_log(keeping_up ? ES_INFO : ES_WARN,
               keeping_up ? "request budget keeps up"
                          : "request budget does not keep up",
               ES_INT("subreddits", p->n), ES_INT("behind", p->behind),
               ES_DBL("cycle_s", p->cycle_s),
               ES_DBL("required_qpm", p->required_qpm),
               ES_DBL("budget_qpm", o->qpm), ES_END);
        p->keeping_up = keeping_up;
    }

cleanup:
    free(rate);
    free(can);
    free(group_of);
    free(grate);
    free(pending);
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
    json_object_set_new(st, "poller",
                        json_string(p->standby ? "standby" : "active"));
    if (p->standby && p->lease.other[0]) {
        json_object_set_new(st, "lease_holder", json_string(p->lease.other));
    }
    json_object_set_new(st, "subreddits", json_integer((json_int_t)p->n));
    json_object_set_new(st, "required_qpm", json_real(p->required_qpm));
    json_object_set_new(st, "cycle_s",
                        isfinite(p->cycle_s) ? json_real(p->cycle_s)
                                             : json_null());
    json_object_set_new(st, "groups", json_integer((json_int_t)p->ngroups));
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
    json_object_set_new(st, "token_requests",
                        json_integer((json_int_t)p->rc->token_requests));
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
    char subs[32], req[32], bud[32], now[32], cyc[32];
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
    es_metrics_set("echostream_reddit_budget_qpm", p->o->qpm);
    es_metrics_set("echostream_reddit_required_qpm", p->required_qpm);
    snprintf(subs, sizeof(subs), "%zu", p->n);
    snprintf(req, sizeof(req), "%.2f", p->required_qpm);
    snprintf(bud, sizeof(bud), "%.2f", p->o->qpm);
    snprintf(now, sizeof(now), "%lld", es_now_ms());
    /* "" when the budget cannot keep up at all */
    snprintf(cyc, sizeof(cyc), isfinite(p->cycle_s) ? "%.2f" : "", p->cycle_s);
    reply = es_redis_try(p->r,
                         "HSET %s subreddits %s required_qpm %s budget_qpm "
                         "%s cycle_s %s keeping_up %s behind %s auth %s "
                         "last_error %s updated_ms %s",
                         ES_KEY_INGEST_BUDGET, subs, req, bud, cyc,
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

    /* renewed here too, so a long wait for the budget keeps the lease */
    if (!p->standby && !p->o->once) {
        es_poll_lease_tick(&p->lease);
    }
    if (force || now - p->hb->last_ms >= p->hb->interval_ms) {
        json_t *st = status_json(p);
        es_heartbeat_now(p->hb, st);
        json_decref(st);
    }
    /* the budget is the active poller's to report */
    if (!p->standby && (force || now >= p->next_budget_mono)) {
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
        plan(p);
    }
    return 0;
}

/* A polling unit of the plan: group g, or (g == -1) subreddit i alone. */
typedef struct {
    int g;
    size_t i;
} es_unit;

/*
 * When a unit may be polled (a group when the first of its members may),
 * and how overdue it is (reddit_pacing.h: es_poll_urgency) at now: the
 * wait of its member waiting longest, at the rate of them all. A unit
 * with a subreddit not yet polled by this process is exactly due (1): new
 * and restored subreddits go before every unit still within its interval,
 * but not before one that is overdue, above all a busy one whose comments
 * pile up (at the start-up of 60 new subreddits, which takes more than
 * half a minute, it would otherwise gather more than its listing holds).
 */
static long long unit_state(const es_poller *p, es_unit u, long long now,
                            double *urgency)
{
    size_t n = u.g < 0 ? 1 : p->groups[u.g].n;
    long long due = 0, last = 0;
    double rate = 0, waited;
    int fresh = 0;

    for (size_t k = 0; k < n; k++) {
        const es_sub *s = &p->subs[u.g < 0 ? u.i : p->groups[u.g].m[k]];
        if (k == 0 || s->next_mono < due) {
            due = s->next_mono;
        }
        if (k == 0 || s->last_mono < last) {
            last = s->last_mono;
        }
        rate += s->have_rate ? s->rate : 0;
        fresh |= !s->polled;
    }
    waited = (double)(now - last) / 1000.0;
    *urgency = fresh ? 1.0 : es_poll_urgency(waited, rate, p->cycle_s);
    return due;
}

/*
 * The unit to poll now: of those allowed to go, the most overdue (*found
 * = 0 when none may go; *due is then when the first may). Every poll
 * restarts its unit's wait, so while the budget is what holds the units
 * back this is round robin, with a unit at risk of gathering more than its
 * pages hold taken earlier; failures and gone subreddits (allowed only
 * later) wait their turn.
 */
static es_unit next_unit(const es_poller *p, long long now, long long *due,
                         int *found)
{
    es_unit best = {-1, 0};
    double best_urg = 0;
    long long first = 0;
    int any = 0;

    *found = 0;
    for (size_t i = 0; i < p->n + p->ngroups; i++) {
        es_unit u = {i < p->n ? -1 : (int)(i - p->n), i};
        double urg;
        long long d;

        if (u.g < 0 && p->subs[i].group >= 0) {
            continue; /* polled with its group */
        }
        d = unit_state(p, u, now, &urg);
        if (!any || d < first) {
            first = d;
            any = 1;
        }
        if (d <= now && (!*found || urg > best_urg)) {
            best = u;
            best_urg = urg;
            *found = 1;
        }
    }
    *due = any ? first : now + ES_LOOP_SLEEP_MS;
    return best;
}

static es_poll_result poll_unit(es_poller *p, es_unit u, int replan)
{
    es_poll_result res;
    long long t0 = es_mono_ms();

    if (u.g < 0) {
        res = es_poll_sub(&p->ctx, &p->subs[u.i]);
    } else {
        es_sub *m[ES_GROUP_MAX];
        for (size_t k = 0; k < p->groups[u.g].n; k++) {
            m[k] = &p->subs[p->groups[u.g].m[k]];
        }
        res = es_poll_group(&p->ctx, m, p->groups[u.g].n);
    }
    /* the listing requests of one unit, pacing waits included */
    es_metrics_observe_ms("echostream_ingest_poll_duration_seconds",
                          (double)(es_mono_ms() - t0));
    if (res != ES_POLL_STOPPING && res != ES_POLL_NO_AUTH) {
        long long now = es_mono_ms();
        size_t n = u.g < 0 ? 1 : p->groups[u.g].n;
        for (size_t k = 0; k < n; k++) {
            es_sub *s = &p->subs[u.g < 0 ? u.i : p->groups[u.g].m[k]];
            s->last_mono = now;
            s->polled = 1;
        }
    }
    if (res == ES_POLL_NO_AUTH) {
        note_no_auth(p);
    } else if (res == ES_POLL_OK && p->auth_logged != ES_AUTH_OK &&
               p->rc->auth.state == ES_AUTH_OK) {
        p->auth_logged = ES_AUTH_OK;
    }
    if (res != ES_POLL_STOPPING && replan) {
        plan(p);
    }
    return res;
}

/* One poll of every subreddit, in the units of one plan (--once). */
static int run_once(es_poller *p)
{
    int failed = 0;

    for (size_t i = 0; i < p->n + p->ngroups && !es_stopping(); i++) {
        es_unit u = {i < p->n ? -1 : (int)(i - p->n), i};
        es_poll_result res;

        if (u.g < 0 && p->subs[i].group >= 0) {
            continue; /* polled with its group */
        }
        res = poll_unit(p, u, 0);
        if (res == ES_POLL_NO_AUTH) {
            return 1;
        }
        failed |= res == ES_POLL_FAILED;
    }
    housekeeping(p, 1);
    return failed ? 1 : 0;
}

/*
 * A new Redis connection since the cursors were last checked: read the
 * saved ones back (es_sub_rewind), in case that Redis lost its last
 * writes. Until this has run on the current connection no cursor is saved
 * (es_sub_save), so a poll that reconnected midway cannot store a cursor
 * past comments the new Redis lacks.
 */
static int check_redis(es_poller *p)
{
    unsigned long conns = es_redis_connections(p->r);

    if (conns == p->ctx.redis_conns) {
        return 0;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (es_sub_rewind(&p->subs[i], p->r) != 0) {
            return -1;
        }
    }
    /* a reconnect during the reads checks again next time */
    p->ctx.redis_conns = conns;
    return 0;
}

static void run_loop(es_poller *p)
{
    while (!es_stopping()) {
        long long now = es_mono_ms(), wait, due = 0;
        int found;
        es_unit u;

        if (check_redis(p) != 0) {
            break;
        }
        es_worker_poll_reload(p->w);
        if (now >= p->next_refresh_mono && refresh_watchlist(p, 0) != 0) {
            break;
        }
        housekeeping(p, 0);
        if (now < p->auth_wait_mono) {
            /* no token: another process, whose credentials may work,
               polls meanwhile */
            if (p->lease.held) {
                es_poll_lease_release(&p->lease);
                p->standby = 1;
            }
            wait = p->auth_wait_mono - now;
            nap(wait < ES_LOOP_SLEEP_MS ? wait : ES_LOOP_SLEEP_MS);
            continue;
        }
        if (!es_poll_lease_tick(&p->lease)) {
            p->standby = 1;
            nap(ES_LOOP_SLEEP_MS);
            continue;
        }
        if (p->standby) {
            /* taking over: another poller moved the cursors meanwhile,
               so every subreddit is loaded again from Redis */
            p->standby = 0;
            p->n = 0;
            if (refresh_watchlist(p, 1) != 0) {
                break;
            }
            continue;
        }
        u = next_unit(p, now, &due, &found);
        if (!found) {
            wait = due > now ? due - now : 1;
            nap(wait < ES_LOOP_SLEEP_MS ? wait : ES_LOOP_SLEEP_MS);
            continue;
        }
        /* wait for the request before choosing what it is for: the unit
           that waited longest when it can go gets it */
        wait = es_reddit_client_wait_ms(p->rc);
        if (wait > 0) {
            nap(wait < ES_LOOP_SLEEP_MS ? wait : ES_LOOP_SLEEP_MS);
            continue;
        }
        if (poll_unit(p, u, 1) == ES_POLL_STOPPING) {
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
    p.ctx.redis_conns = es_redis_connections(r);
    p.ctx.o = o;
    rc->idle = on_idle;
    rc->idle_ud = &p;
    es_poll_lease_init(&p.lease, r, w->instance,
                       (long long)(o->lease * 1000.0));
    /* until the lease is known held (--once polls without one) */
    p.standby = !o->once;
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
    /* a standby's cursors may be older than the holder's: not written */
    for (size_t i = 0; i < p.n && !p.standby; i++) {
        if (p.subs[i].last_poll_ms > 0) {
            es_sub_save(&p.subs[i], r, p.ctx.redis_conns);
        }
    }
    housekeeping(&p, 1);
    es_poll_lease_release(&p.lease);
    es_log(ES_INFO, "poller stopped", ES_INT("requests", rc->requests),
           ES_INT("token_requests", rc->token_requests), ES_END);
    rc->idle = NULL;
    rc->idle_ud = NULL;
    es_watchlist_free(p.wl);
    free(p.groups);
    free(p.subs);
    return code;
}
