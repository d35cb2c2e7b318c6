/*
 * sink.h - where every ingest source (poller, backfill, synthetic) puts
 * comments: validated, de-duplicated and appended to the Redis stream.
 *
 * Comments are queued and written in batches through one Redis function call
 * (library "echostream", function es_ingest_add) that, atomically per batch,
 * tests-and-sets each id in a per-chunk bitmap and XADDs only ids never seen,
 * so a comment enters the stream exactly once whatever the source replays
 * and however the worker crashes. A seen comment arriving again with a
 * "[deleted]"/"[removed]" body becomes one deletion event. When the stream
 * holds stream.max_len entries that a consumer group has not processed, the
 * sink waits (logging it) instead of trimming them: back-pressure, not loss.
 */
#ifndef ES_INGEST_SINK_H
#define ES_INGEST_SINK_H

#include "es_comment.h"
#include "es_redis.h"

typedef struct es_sink es_sink;

typedef struct {
    long long queued;     /* accepted into the sink */
    long long added;      /* new comments appended to the stream */
    long long duplicates; /* already streamed before */
    long long deletions;  /* deletion events appended */
    long long rejected;   /* invalid id/subreddit: logged, dropped */
} es_sink_stats;

/*
 * batch: comments per Redis round trip; dedup_ttl: seconds the id bitmaps
 * live after their last write; max_len: back-pressure threshold (0 = none).
 */
es_sink *es_sink_new(es_redis *r, int batch, long long dedup_ttl,
                     long long max_len);
void es_sink_free(es_sink *s);

/*
 * Loads the Redis function library (FUNCTION LOAD REPLACE). Called once at
 * start; the sink reloads it by itself if Redis lost it. 0 or -1 (stopping).
 */
int es_sink_prepare(es_sink *s);

/*
 * Validates and copies c into the batch, flushing when the batch is full.
 * Returns 0 when queued, 1 when rejected (logged with the reason), -1 when
 * the worker is stopping before a needed flush completed (nothing lost:
 * the comment was not acknowledged to anyone).
 */
int es_sink_add(es_sink *s, const es_comment *c);

/* Writes everything queued. 0, or -1 when stopping first. */
int es_sink_flush(es_sink *s);

/* Counters since creation. */
es_sink_stats es_sink_get_stats(const es_sink *s);

/* Creates consumer groups (from the start of the stream) if missing. */
int es_sink_ensure_groups(es_sink *s, const char *comma_list);

/*
 * Trims the stream below what every consumer group has acknowledged (no
 * group: keeps the newest max_len entries). Returns entries removed, or -1.
 */
long long es_sink_trim(es_sink *s);

/*
 * Trims every interval_ms from then on: after a flush, while waiting under
 * back-pressure (so a lone backfill frees what consumers acknowledged), and
 * from es_sink_tick. 0 (the default) trims only on explicit calls.
 */
void es_sink_set_trim_interval(es_sink *s, long long interval_ms);

/* Trims if due; for sources that are idle between flushes. */
void es_sink_tick(es_sink *s);

#endif
