/*
 * poll_sub.h - one poll of one subreddit: fetch what is new since its
 * cursor, stream it, move the cursor, update its rate and interval.
 *
 * See poller.h for the paging and probing rules. Kept apart from the
 * scheduler so each file holds one concern.
 */
#ifndef ES_INGEST_POLL_SUB_H
#define ES_INGEST_POLL_SUB_H

#include "es_redis.h"
#include "poller.h"
#include "reddit_client.h"
#include "reddit_listing.h"
#include "sink.h"
#include "sub_cursor.h"

/* Most pages one poll reads: Reddit's listings end near 1,000 items. */
#define ES_POLL_MAX_PAGES 10

typedef struct {
    es_redis *r;          /* borrowed */
    es_sink *sink;        /* borrowed */
    es_reddit_client *rc; /* borrowed */
    const es_poller_opts *o;
    char last_error[256]; /* the latest failure, for the status */
    long long bad_bodies; /* responses that were not usable listings */
    /* the newest comment id any listing showed: Reddit's ids rise across
       all subreddits, so every comment with a smaller id existed when a
       poll that starts now begins (what a complete poll vouches for) */
    uint64_t top_num;
    /* the Redis connection (es_redis_connections) the cursors were last
       checked against: cursors are saved only on it (es_sub_save) */
    unsigned long redis_conns;
} es_poll_ctx;

typedef enum {
    ES_POLL_OK = 0,
    ES_POLL_FAILED,  /* logged; cursor unchanged, retried later */
    ES_POLL_GONE,    /* 403/404: subreddit private or banned */
    ES_POLL_NO_AUTH, /* no token: nothing was asked */
    ES_POLL_STOPPING
} es_poll_result;

/*
 * Polls s once and schedules its next poll (s->next_mono): after
 * ingest.min_interval, when the poller's schedule may give it the next
 * free request. Everything streamed is flushed before the cursor moves.
 */
es_poll_result es_poll_sub(es_poll_ctx *ctx, es_sub *s);

/*
 * GET /r/<subs>/comments?limit=100&raw_json=1 with before or after when
 * given, parsed into l (es_listing_free it, whatever the result). subs is
 * one name or several joined by '+'; label names the request in log lines.
 * Failures are logged and kept in ctx->last_error.
 */
es_poll_result es_poll_fetch(es_poll_ctx *ctx, const char *subs,
                             const char *label, const char *before,
                             const char *after, es_listing *l);

/* What a poll streamed of one subreddit: count and created_utc range of
   its new comments. */
typedef struct {
    long long n;
    double oldest;
    double newest;
} es_poll_acc;

/*
 * Hands c to the sink when it is new, or (with deletions) when its body
 * marks a deletion (the sink turns an id already streamed into one
 * deletion event), counting new ones in acc. 0, or -1 when stopping.
 */
int es_poll_emit_one(es_poll_ctx *ctx, const es_comment *c, int is_new,
                     int deletions, es_poll_acc *acc);

/* The rate estimate of s after a poll that found acc over now_ms. */
void es_poll_learn_rate(es_sub *s, const es_poll_acc *acc, long long now_ms);

#endif
