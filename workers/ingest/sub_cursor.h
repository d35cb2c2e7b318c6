/*
 * sub_cursor.h - the poller's state of one subreddit, and its Redis copy.
 *
 * Hash es:{ingest}:cursor:<sub> holds before (fullname of the newest comment
 * streamed), seen (the numeric id up to which every comment of the
 * subreddit was read: a comment with a smaller id existed before the last
 * complete poll began, so that poll saw it), rate (EWMA comments/s),
 * interval (the interval its rate needs, s), last_poll_ms (wall clock) and
 * last_new (comments found by the last poll). It is written after every
 * flush of the sink, never before, and read back at start, so a restarted
 * worker continues where the stream ends, and read back after a reconnect
 * (es_sub_rewind), so a Redis that lost its last writes is caught up. seen is
 * what lets a subreddit join a shared listing (poll_group.h) without a gap: the
 * group reads back to the smallest seen of its members.
 */
#ifndef ES_INGEST_SUB_CURSOR_H
#define ES_INGEST_SUB_CURSOR_H

#include <stdint.h>

#include "es_redis.h"

typedef struct {
    char name[24];       /* lower-case, validated */
    char before[40];     /* "t1_…" or "" before the first comment */
    uint64_t before_num; /* numeric id of before */
    uint64_t seen_num;   /* complete up to this numeric id (0: unknown) */
    double rate;         /* comments/s estimate */
    int have_rate;
    double interval;        /* seconds between polls */
    long long next_mono;    /* next poll allowed from (monotonic ms) */
    long long last_mono;    /* last poll, or when it was added (mono ms) */
    int polled;             /* polled since this process started */
    long long last_poll_ms; /* wall clock of the last successful poll */
    long long last_new;
    int empty_streak;   /* before-polls in a row that found nothing */
    double streak_rate; /* the rate when that streak began */
    double streak_s;    /* seconds the streak has lasted */
    int polls_since_probe;
    int probe_due;
    int failures;  /* polls in a row that failed */
    int gone;      /* last answer 403/404 */
    int pages;     /* pages the last poll needed */
    int behind;    /* cannot keep up within the budget */
    int group;     /* its group in the poller's plan, -1: polled alone */
    int need_solo; /* a shared listing was refused: alone until one works */
} es_sub;

/*
 * Initialises s for subreddit name (already validated) and restores its
 * saved state from Redis when there is one. Returns 0, or -1 when stopping.
 */
int es_sub_load(es_sub *s, es_redis *r, const char *name,
                double default_interval);

/*
 * After a new Redis connection: when the saved cursor is older than the one
 * in memory (Redis lost its last writes in a failover, and with them the
 * comments appended after the saved cursor and their de-duplication bits),
 * moves the cursor and seen back to the saved ones, so the next polls read
 * those comments again and add them once. Returns 0, or -1 when stopping.
 */
int es_sub_rewind(es_sub *s, es_redis *r);

/*
 * Writes the state of s, only on Redis connection number conn, the one the
 * cursors were last checked against (es_sub_rewind): a cursor saved on a
 * newer connection could claim comments that Redis lost. Skipped otherwise
 * (the poller checks, and the next poll saves). Returns 0, or -1 when
 * stopping.
 */
int es_sub_save(const es_sub *s, es_redis *r, unsigned long conn);

/* Moves the cursor to t1_<id> when num is newer than it. */
void es_sub_advance(es_sub *s, const char *id, size_t n, uint64_t num);

#endif
