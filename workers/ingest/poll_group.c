/*
 * poll_group.c - one poll of a group of subreddits (see poll_group.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "es_log.h"
#include "es_worker.h"
#include "poll_group.h"
#include "poll_plan.h"
#include "reddit_pacing.h"

/* The member a comment belongs to (Reddit spells names as it likes). */
static int member_of(es_sub *const *m, size_t n, const es_comment *c)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(m[i]->name) == c->subreddit.n &&
            strncasecmp(m[i]->name, c->subreddit.s, c->subreddit.n) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Streams pages ls[0..k) oldest first; -1 when stopping. */
static int emit_all(es_poll_ctx *ctx, es_sub *const *m, size_t n,
                    const es_listing *ls, int k, es_poll_acc *acc)
{
    long long strangers = 0;

    for (int j = k; j-- > 0;) {
        for (size_t i = ls[j].n; i-- > 0;) {
            const es_comment *c = &ls[j].items[i];
            int x = member_of(m, n, c);
            uint64_t after;

            if (x < 0) {
                strangers++;
                continue;
            }
            after = m[x]->before[0] ? m[x]->before_num : m[x]->seen_num;
            if (es_poll_emit_one(ctx, c, ls[j].nums[i] > after, 1, &acc[x]) !=
                0) {
                return -1;
            }
        }
    }
    if (strangers > 0) {
        es_log(ES_DEBUG, "comments of other subreddits in a group listing",
               ES_INT("count", strangers), ES_END);
    }
    return 0;
}

/* After a complete or capped read: cursors, seen, rates, next poll. */
static void settle(es_poll_ctx *ctx, es_sub *const *m, size_t n,
                   const es_listing *ls, int k, const es_poll_acc *acc,
                   int complete)
{
    const es_poller_opts *o = ctx->o;
    long long now_ms = es_now_ms();
    long long next = es_mono_ms() + (long long)(o->min_interval * 1000.0);

    for (int j = 0; j < k; j++) {
        for (size_t i = 0; i < ls[j].n; i++) {
            int x = member_of(m, n, &ls[j].items[i]);
            if (x >= 0) {
                es_sub_advance(m[x], ls[j].items[i].id.s, ls[j].items[i].id.n,
                               ls[j].nums[i]);
            }
        }
    }
    for (size_t x = 0; x < n; x++) {
        es_sub *s = m[x];

        es_poll_learn_rate(s, &acc[x], now_ms);
        /* every member comment older than the newest id known now was
           listed, and the pages went down to the oldest member's seen */
        if (complete && ctx->top_num > s->seen_num) {
            s->seen_num = ctx->top_num;
        }
        s->last_new = acc[x].n;
        s->pages = k;
        s->last_poll_ms = now_ms;
        s->failures = 0;
        /* read newest first, as a probe: nothing for a probe to find */
        s->empty_streak = 0;
        s->probe_due = 0;
        s->polls_since_probe = 0;
        if (s->gone) {
            es_log(ES_INFO, "subreddit reachable again", ES_STR("sub", s->name),
                   ES_END);
            s->gone = 0;
        }
        s->interval =
            es_poll_interval(s->rate, 1, o->min_interval, o->max_interval);
        es_sub_save(s, ctx->r, ctx->redis_conns);
        s->next_mono = next;
    }
}

static void back_off(es_poll_ctx *ctx, es_sub *const *m, size_t n,
                     es_poll_result res)
{
    const es_poller_opts *o = ctx->o;
    long long now = es_mono_ms();

    for (size_t x = 0; x < n; x++) {
        es_sub *s = m[x];
        double delay;

        if (res == ES_POLL_GONE) {
            s->need_solo = 1;
            s->next_mono = now;
            continue;
        }
        s->failures++;
        delay = o->min_interval * pow(2.0, s->failures < 10 ? s->failures : 10);
        if (delay > o->max_interval) {
            delay = o->max_interval;
        }
        s->next_mono = now + (long long)(delay * 1000.0);
    }
}

es_poll_result es_poll_group(es_poll_ctx *ctx, es_sub *const *m, size_t n)
{
    char subs[ES_GROUP_MAX * 24];
    es_listing ls[ES_POLL_MAX_PAGES];
    es_poll_acc acc[ES_GROUP_MAX];
    es_poll_result res = ES_POLL_OK;
    uint64_t stop = 0;
    size_t used = 0;
    int k = 0, complete = 0;

    if (n == 0 || n > ES_GROUP_MAX) {
        return ES_POLL_FAILED;
    }
    memset(acc, 0, sizeof(acc));
    subs[0] = '\0';
    for (size_t x = 0; x < n; x++) {
        int w = snprintf(subs + used, sizeof(subs) - used, "%s%s", x ? "+" : "",
                         m[x]->name);
        used += (size_t)w;
        if (m[x]->seen_num > 0 && (stop == 0 || m[x]->seen_num < stop)) {
            stop = m[x]->seen_num;
        }
    }
    while (k < ES_POLL_MAX_PAGES) {
        int reached = stop == 0; /* nothing known: the newest page only */

        res = es_poll_fetch(ctx, subs, subs, NULL, k ? ls[k - 1].after : NULL,
                            &ls[k]);
        if (res != ES_POLL_OK) {
            es_listing_free(&ls[k]);
            goto cleanup;
        }
        for (size_t i = 0; i < ls[k].n; i++) {
            reached |= ls[k].nums[i] <= stop;
        }
        k++;
        if (reached || ls[k - 1].after[0] == '\0' || ls[k - 1].n == 0) {
            complete = 1;
            break;
        }
    }
    if (!complete) {
        /* the listing cap: what lies below is out of reach anyway */
        es_log(ES_WARN,
               "group gathered more than its pages hold; comments may be "
               "lost",
               ES_STR("subs", subs), ES_INT("pages", k), ES_END);
    }
    if (emit_all(ctx, m, n, ls, k, acc) != 0 || es_sink_flush(ctx->sink) != 0) {
        res = ES_POLL_STOPPING;
        goto cleanup;
    }
    settle(ctx, m, n, ls, k, acc, complete);
    {
        long long total = 0;
        for (size_t x = 0; x < n; x++) {
            total += acc[x].n;
        }
        es_log(ES_DEBUG, "polled group", ES_STR("subs", subs),
               ES_INT("new", total), ES_INT("pages", k), ES_END);
    }

cleanup:
    for (int j = 0; j < k; j++) {
        es_listing_free(&ls[j]);
    }
    if (res == ES_POLL_GONE) {
        es_log(ES_WARN,
               "a shared listing was refused; polling its subreddits alone",
               ES_STR("subs", subs), ES_STR("error", ctx->rc->last_error),
               ES_END);
    }
    if (res == ES_POLL_GONE || res == ES_POLL_FAILED) {
        back_off(ctx, m, n, res);
    }
    return res;
}
