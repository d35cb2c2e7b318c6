/*
 * poll_sub.c - one poll of one subreddit (see poll_sub.h, poller.h), and
 * the request, streaming and rate pieces the group poll (poll_group.c)
 * shares with it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "es_log.h"
#include "es_worker.h"
#include "poll_sub.h"
#include "reddit_listing.h"
#include "reddit_pacing.h"

/* Empty before-polls in a row, with comments due, that trigger a probe. */
#define ES_EMPTY_STREAK_PROBE 3
/*
 * Comments expected per empty poll of a streak for it to look odd. Polls
 * come every few seconds now, so what counts is the sum over the streak,
 * at the rate known when it began (the estimate itself sinks with every
 * empty poll): a streak of ES_EMPTY_STREAK_PROBE polls that should have
 * brought this many comments each.
 */
#define ES_EXPECTED_SUSPICIOUS 3.0

es_poll_result es_poll_fetch(es_poll_ctx *ctx, const char *subs,
                             const char *label, const char *before,
                             const char *after, es_listing *l)
{
    char path[1024], err[200];
    es_http_response resp;
    es_rc rc;
    int len;

    memset(l, 0, sizeof(*l));
    len = snprintf(path, sizeof(path),
                   "/r/%s/comments?limit=%d&raw_json=1%s%s%s%s", subs,
                   ES_PAGE_SIZE, before ? "&before=" : "", before ? before : "",
                   after ? "&after=" : "", after ? after : "");
    if (len < 0 || (size_t)len >= sizeof(path)) {
        snprintf(ctx->last_error, sizeof(ctx->last_error),
                 "request path too long for /r/%.60s", label);
        return ES_POLL_FAILED;
    }
    rc = es_reddit_get(ctx->rc, path, &resp);
    switch (rc) {
    case ES_RC_OK:
        break;
    case ES_RC_GONE:
        return ES_POLL_GONE;
    case ES_RC_NO_AUTH:
        return ES_POLL_NO_AUTH;
    case ES_RC_STOPPING:
        return ES_POLL_STOPPING;
    default:
        snprintf(ctx->last_error, sizeof(ctx->last_error), "%s",
                 ctx->rc->last_error);
        es_log(ES_ERROR, "reddit request failed", ES_STR("sub", label),
               ES_STR("error", ctx->rc->last_error), ES_END);
        return ES_POLL_FAILED;
    }
    if (es_listing_parse(l, resp.body, resp.body_len, err, sizeof(err)) != 0) {
        ctx->bad_bodies++;
        snprintf(ctx->last_error, sizeof(ctx->last_error),
                 "bad listing from /r/%.60s: %.150s", label, err);
        es_log(ES_WARN, "bad listing skipped", ES_STR("sub", label),
               ES_STR("error", err), ES_INT("bytes", resp.body_len), ES_END);
        return ES_POLL_FAILED;
    }
    if (l->repaired) {
        es_log(ES_WARN, "invalid UTF-8 in listing replaced",
               ES_STR("sub", label), ES_END);
    }
    if (l->skipped) {
        es_log(ES_DEBUG, "listing children skipped", ES_STR("sub", label),
               ES_INT("skipped", l->skipped), ES_END);
    }
    for (size_t k = 0; k < l->n; k++) {
        if (l->nums[k] > ctx->top_num) {
            ctx->top_num = l->nums[k];
        }
    }
    return ES_POLL_OK;
}

static es_poll_result fetch(es_poll_ctx *ctx, const es_sub *s,
                            const char *before, const char *after,
                            es_listing *l)
{
    return es_poll_fetch(ctx, s->name, s->name, before, after, l);
}

int es_poll_emit_one(es_poll_ctx *ctx, const es_comment *c, int is_new,
                     int deletions, es_poll_acc *acc)
{
    if (!is_new &&
        !(deletions && es_comment_body_is_deleted(c->body.s, c->body.n))) {
        return 0;
    }
    if (es_sink_add(ctx->sink, c) < 0) {
        return -1;
    }
    if (is_new) {
        if (acc->n == 0 || c->created_utc < acc->oldest) {
            acc->oldest = c->created_utc;
        }
        if (acc->n == 0 || c->created_utc > acc->newest) {
            acc->newest = c->created_utc;
        }
        acc->n++;
    }
    return 0;
}

/*
 * Adds the comments of l newer than min_num to the sink, oldest first;
 * with deletions, older ones whose body marks a deletion too. -1 when
 * stopping.
 */
static int emit(es_poll_ctx *ctx, const es_listing *l, uint64_t min_num,
                int deletions, es_poll_acc *acc)
{
    for (size_t k = l->n; k-- > 0;) {
        if (es_poll_emit_one(ctx, &l->items[k], l->nums[k] > min_num, deletions,
                             acc) != 0) {
            return -1;
        }
    }
    return 0;
}

static void advance(es_sub *s, const es_listing *l)
{
    for (size_t k = 0; k < l->n; k++) {
        es_sub_advance(s, l->items[k].id.s, l->items[k].id.n, l->nums[k]);
    }
}

/*
 * ?before=<cursor> pages, oldest chunk first, each streamed at once, while
 * they come back full: *complete says the newest was reached (not the page
 * limit).
 */
static es_poll_result poll_forward(es_poll_ctx *ctx, es_sub *s,
                                   es_poll_acc *acc, int *pages, int *complete)
{
    while (*pages < ES_POLL_MAX_PAGES) {
        int first = s->before[0] == '\0', full, more;
        uint64_t min_num = first ? 0 : s->before_num;
        es_listing l;
        es_poll_result res;

        res = fetch(ctx, s, first ? NULL : s->before, NULL, &l);
        if (res != ES_POLL_OK) {
            return res;
        }
        (*pages)++;
        if (emit(ctx, &l, min_num, 0, acc) != 0 ||
            es_sink_flush(ctx->sink) != 0) {
            es_listing_free(&l);
            return ES_POLL_STOPPING;
        }
        advance(s, &l);
        if (es_sub_save(s, ctx->r, ctx->redis_conns) != 0) {
            es_listing_free(&l);
            return ES_POLL_STOPPING;
        }
        full = l.n + l.skipped >= ES_PAGE_SIZE;
        more = l.before[0] != '\0';
        es_listing_free(&l);
        /* a first poll takes the newest page only: no history */
        if (first || !full || !more) {
            *complete = 1;
            break;
        }
    }
    return ES_POLL_OK;
}

/*
 * Newest page, then ?after= pages back until one reaches the cursor.
 * Nothing is streamed unless the whole range was read: streaming the newest
 * pages alone would move the cursor over the unread middle.
 */
static es_poll_result poll_probe(es_poll_ctx *ctx, es_sub *s, es_poll_acc *acc,
                                 int *pages, int *complete)
{
    es_listing ls[ES_POLL_MAX_PAGES];
    es_poll_result res = ES_POLL_OK;
    int k = 0;

    while (k < ES_POLL_MAX_PAGES) {
        int reached = 0;

        res = fetch(ctx, s, NULL, k ? ls[k - 1].after : NULL, &ls[k]);
        if (res != ES_POLL_OK) {
            goto cleanup;
        }
        for (size_t i = 0; i < ls[k].n; i++) {
            reached |= ls[k].nums[i] <= s->before_num;
        }
        k++;
        if (reached || ls[k - 1].after[0] == '\0' || ls[k - 1].n == 0) {
            *complete = 1;
            break;
        }
    }
    *pages = k;
    for (int j = k; j-- > 0;) {
        if (emit(ctx, &ls[j], s->before_num, 1, acc) != 0) {
            res = ES_POLL_STOPPING;
            goto cleanup;
        }
    }
    if (es_sink_flush(ctx->sink) != 0) {
        res = ES_POLL_STOPPING;
        goto cleanup;
    }
    for (int j = 0; j < k; j++) {
        advance(s, &ls[j]);
    }
    if (es_sub_save(s, ctx->r, ctx->redis_conns) != 0) {
        res = ES_POLL_STOPPING;
    }

cleanup:
    for (int j = 0; j < k; j++) {
        es_listing_free(&ls[j]);
    }
    return res;
}

void es_poll_learn_rate(es_sub *s, const es_poll_acc *acc, long long now_ms)
{
    double elapsed =
        s->last_poll_ms > 0 ? (double)(now_ms - s->last_poll_ms) / 1000.0 : 0;

    if (elapsed > 0 && elapsed < 86400) {
        s->rate =
            es_rate_update(s->rate, s->have_rate, (double)acc->n, elapsed);
        s->have_rate = 1;
    } else if (!s->have_rate) {
        double r = es_rate_from_span((size_t)acc->n, acc->oldest, acc->newest);
        if (r >= 0) {
            s->rate = r;
            s->have_rate = 1;
        }
    }
}

/*
 * After a poll that worked: rate, probe bookkeeping, and the next poll
 * after ingest.min_interval (the schedule decides when it really comes).
 * A complete poll vouches for every comment older than top0, the newest id
 * known when it began.
 */
static void schedule_ok(es_poll_ctx *ctx, es_sub *s, int probe,
                        const es_poll_acc *acc, int pages, int complete,
                        uint64_t top0)
{
    const es_poller_opts *o = ctx->o;
    long long now_ms = es_now_ms();
    double elapsed =
        s->last_poll_ms > 0 ? (double)(now_ms - s->last_poll_ms) / 1000.0 : 0;
    double rate_before = s->have_rate ? s->rate : 0;

    es_poll_learn_rate(s, acc, now_ms);
    if (complete && top0 > s->seen_num) {
        s->seen_num = top0;
    }
    s->need_solo = 0;
    if (probe) {
        if (s->empty_streak >= ES_EMPTY_STREAK_PROBE && acc->n > 0) {
            es_log(ES_WARN, "cursor comment vanished, probe recovered",
                   ES_STR("sub", s->name), ES_INT("new", acc->n), ES_END);
        }
        s->empty_streak = 0;
        s->probe_due = 0;
        s->polls_since_probe = 0;
    } else {
        s->polls_since_probe++;
        if (acc->n > 0) {
            s->empty_streak = 0;
        } else if (s->before[0] && rate_before > 0) {
            if (s->empty_streak == 0) {
                s->streak_rate = rate_before;
                s->streak_s = 0;
            }
            s->empty_streak++;
            s->streak_s += elapsed;
            if (s->empty_streak >= ES_EMPTY_STREAK_PROBE &&
                s->streak_rate * s->streak_s >=
                    ES_EXPECTED_SUSPICIOUS * ES_EMPTY_STREAK_PROBE &&
                !s->probe_due) {
                es_log(ES_INFO,
                       "empty polls although comments are due, "
                       "probing",
                       ES_STR("sub", s->name), ES_STR("cursor", s->before),
                       ES_END);
                s->probe_due = 1;
            }
        }
    }
    s->last_new = acc->n;
    s->pages = pages;
    s->last_poll_ms = now_ms;
    s->failures = 0;
    if (s->gone) {
        es_log(ES_INFO, "subreddit reachable again", ES_STR("sub", s->name),
               ES_END);
        s->gone = 0;
    }
    /* what its rate needs (the budget report); it is polled more often
       when the budget allows, which is nearly always */
    s->interval =
        es_poll_interval(s->rate, pages, o->min_interval, o->max_interval);
    es_sub_save(s, ctx->r, ctx->redis_conns);
    s->next_mono = es_mono_ms() + (long long)(o->min_interval * 1000.0);
}

es_poll_result es_poll_sub(es_poll_ctx *ctx, es_sub *s)
{
    const es_poller_opts *o = ctx->o;
    es_poll_acc acc = {0, 0, 0};
    int pages = 0, probe, complete = 0;
    uint64_t top0 = ctx->top_num;
    es_poll_result res;
    double delay;

    probe = s->before[0] &&
            (s->probe_due ||
             (o->probe_every > 0 && s->polls_since_probe >= o->probe_every));
    res = probe ? poll_probe(ctx, s, &acc, &pages, &complete)
                : poll_forward(ctx, s, &acc, &pages, &complete);
    switch (res) {
    case ES_POLL_OK:
        schedule_ok(ctx, s, probe, &acc, pages, complete, top0);
        es_log(ES_DEBUG, "polled", ES_STR("sub", s->name), ES_INT("new", acc.n),
               ES_INT("pages", pages), ES_INT("probe", probe),
               ES_DBL("rate", s->rate), ES_DBL("interval", s->interval),
               ES_END);
        break;
    case ES_POLL_GONE:
        if (!s->gone) {
            es_log(ES_WARN,
                   "subreddit private, banned or missing; "
                   "polling it rarely",
                   ES_STR("sub", s->name), ES_STR("error", ctx->rc->last_error),
                   ES_END);
            snprintf(ctx->last_error, sizeof(ctx->last_error), "%s",
                     ctx->rc->last_error);
        }
        s->gone = 1;
        s->interval = o->max_interval;
        s->next_mono = es_mono_ms() + (long long)(o->max_interval * 1000.0);
        break;
    case ES_POLL_FAILED:
        /* a failed probe must not block the ordinary polls */
        if (probe) {
            s->polls_since_probe = 0;
        }
        s->failures++;
        delay = o->min_interval * pow(2.0, s->failures < 10 ? s->failures : 10);
        if (delay > o->max_interval) {
            delay = o->max_interval;
        }
        s->next_mono = es_mono_ms() + (long long)(delay * 1000.0);
        break;
    default:
        break;
    }
    return res;
}
