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
} es_poll_ctx;

typedef enum {
    ES_POLL_OK = 0,
    ES_POLL_FAILED,  /* logged; cursor unchanged, retried later */
    ES_POLL_GONE,    /* 403/404: subreddit private or banned */
    ES_POLL_NO_AUTH, /* no token: nothing was asked */
    ES_POLL_STOPPING
} es_poll_result;

/*
 * Polls s once and schedules its next poll (s->next_mono). Everything
 * streamed is flushed before the cursor moves.
 */
es_poll_result es_poll_sub(es_poll_ctx *ctx, es_sub *s);

#endif
