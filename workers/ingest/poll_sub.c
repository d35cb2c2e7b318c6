/*
 * poll_sub.c - one poll of one subreddit (see poll_sub.h, poller.h).
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
/* Comments expected since the last poll for an empty one to look odd. */
#define ES_EXPECTED_SUSPICIOUS 3.0

/* What a poll streamed: count and created_utc range of new comments. */
typedef struct {
    long long n;
    double oldest;
    double newest;
} es_poll_acc;

static es_poll_result fetch(es_poll_ctx *ctx, const es_sub *s,
                            const char *before, const char *after,
                            es_listing *l)
{
    char path[256], err[200];
    es_http_response resp;
    es_rc rc;

    memset(l, 0, sizeof(*l));
    snprintf(path, sizeof(path), "/r/%s/comments?limit=%d&raw_json=1%s%s%s%s",
             s->name, ES_PAGE_SIZE, before ? "&before=" : "",
             before ? before : "", after ? "&after=" : "", after ? after : "");
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
        es_log(ES_ERROR, "reddit request failed", ES_STR("sub", s->name),
               ES_STR("error", ctx->rc->last_error), ES_END);
        return ES_POLL_FAILED;
    }
    if (es_listing_parse(l, resp.body, resp.body_len, err, sizeof(err)) != 0) {
        ctx->bad_bodies++;
        snprintf(ctx->last_error, sizeof(ctx->last_error),
                 "bad listing from /r/%s: %s", s->name, err);
        es_log(ES_WARN, "bad listing skipped", ES_STR("sub", s->name),
               ES_STR("error", err), ES_INT("bytes", resp.body_len), ES_END);
        return ES_POLL_FAILED;
    }
    if (l->repaired) {
        es_log(ES_WARN, "invalid UTF-8 in listing replaced",
               ES_STR("sub", s->name), ES_END);
    }
    if (l->skipped) {
        es_log(ES_DEBUG, "listing children skipped", ES_STR("sub", s->name),
               ES_INT("skipped", l->skipped), ES_END);
    }
    return ES_POLL_OK;
}

/*
 * Adds the comments of l newer than min_num to the sink, oldest first;
 * with deletions, older ones whose body marks a deletion too (the sink
 * turns a seen id into one deletion event). -1 when stopping.
 */
static int emit(es_poll_ctx *ctx, const es_listing *l, uint64_t min_num,
                int deletions, es_poll_acc *acc)
{
    for (size_t k = l->n; k-- > 0;) {
        const es_comment *c = &l->items[k];
        int is_new = l->nums[k] > min_num;

        if (!is_new &&
            !(deletions && es_comment_body_is_deleted(c->body.s, c->body.n))) {
            continue;
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
    }
    return 0;
}

static void advance(es_sub *s, const es_listing *l)
{
    for (size_t k = 0; k < l->n; k++) {
        es_sub_advance(s, l->items[k].id.s, l->items[k].id.n, l->nums[k]);
    }
}

/* ?before=<cursor> pages, oldest chunk first, each streamed at once. */
static es_poll_result poll_forward(es_poll_ctx *ctx, es_sub *s,
                                   es_poll_acc *acc, int *pages)
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
        if (es_sub_save(s, ctx->r) != 0) {
            es_listing_free(&l);
            return ES_POLL_STOPPING;
        }
        full = l.n + l.skipped >= ES_PAGE_SIZE;
        more = l.before[0] != '\0';
        es_listing_free(&l);
        /* a first poll takes the newest page only: no history */
        if (first || !full || !more) {
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
                                 int *pages)
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
    if (es_sub_save(s, ctx->r) != 0) {
        res = ES_POLL_STOPPING;
    }

cleanup:
    for (int j = 0; j < k; j++) {
        es_listing_free(&ls[j]);
    }
    return res;
}

static void schedule_ok(es_poll_ctx *ctx, es_sub *s, int probe,
                        const es_poll_acc *acc, int pages)
{
    const es_poller_opts *o = ctx->o;
    long long now_ms = es_now_ms();
    double elapsed =
        s->last_poll_ms > 0 ? (double)(now_ms - s->last_poll_ms) / 1000.0 : 0;
    double expected = s->have_rate ? s->rate * elapsed : 0;

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
        } else if (s->before[0] && expected >= ES_EXPECTED_SUSPICIOUS) {
            s->empty_streak++;
            if (s->empty_streak >= ES_EMPTY_STREAK_PROBE && !s->probe_due) {
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
    s->interval =
        es_poll_interval(s->rate, pages, o->min_interval, o->max_interval);
    es_sub_save(s, ctx->r);
    s->next_mono = es_mono_ms() + (long long)(s->interval * 1000.0);
}

es_poll_result es_poll_sub(es_poll_ctx *ctx, es_sub *s)
{
    const es_poller_opts *o = ctx->o;
    es_poll_acc acc = {0, 0, 0};
    int pages = 0, probe;
    es_poll_result res;
    double delay;

    probe = s->before[0] &&
            (s->probe_due ||
             (o->probe_every > 0 && s->polls_since_probe >= o->probe_every));
    res = probe ? poll_probe(ctx, s, &acc, &pages)
                : poll_forward(ctx, s, &acc, &pages);
    switch (res) {
    case ES_POLL_OK:
        schedule_ok(ctx, s, probe, &acc, pages);
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
