/*
 * backfill.h - loads a Reddit comment dump (Pushshift / Arctic Shift
 * RC_*.zst, or plain NDJSON) into the comment stream.
 *
 * Only comments of watched subreddits are kept (the watchlist is read once
 * at start), or every comment with `all`. Kept comments go to the stream
 * through the bulk writer (stream_writer.h), which applies the sink's
 * exactly-once rules to whole batches on a thread of its own: a backfill
 * interrupted for any reason (SIGTERM, a crash, a corrupt file) can simply
 * be run again, it adds only what is missing.
 */
#ifndef ES_INGEST_BACKFILL_H
#define ES_INGEST_BACKFILL_H

#include "es_heartbeat.h"
#include "es_redis.h"
#include "es_worker.h"
#include "sink.h"

typedef struct {
    const char *path;      /* "-" reads stdin */
    int all;               /* keep every subreddit */
    int progress;          /* -1 auto (stderr is a terminal), 0, 1 */
    int dry_run;           /* parse and filter only: no stream writes */
    const char *redis_url; /* the writer's own connection */
    int batch;             /* comments per transaction (ingest.batch) */
    long long dedup_ttl;   /* ingest.dedup_ttl */
    long long max_len;     /* stream.max_len */
} es_backfill_opts;

/*
 * Runs the backfill to the end of the input and returns the process exit
 * code: 0 when the whole input was read (or SIGTERM/SIGINT stopped it after
 * flushing what was queued), 1 when the input could not be opened or was
 * corrupt/truncated (every comment before the damage is flushed first).
 * Malformed lines are counted and logged, never fatal. r (the watchlist,
 * from the calling thread) and sink (only its periodic stream trim) are
 * the caller's. hb may be NULL; in a dry run sink may be NULL, and r may
 * be NULL too when o->all is set.
 */
int es_backfill_run(es_worker *w, es_redis *r, es_sink *sink, es_heartbeat *hb,
                    const es_backfill_opts *o);

#endif
