/*
 * backfill.h - loads a Reddit comment dump (Pushshift / Arctic Shift
 * RC_*.zst, or plain NDJSON) into the comment stream.
 *
 * Only comments of watched subreddits are kept (the watchlist is read once
 * at start), or every comment with `all`. Every kept comment goes through
 * the ingest sink, which de-duplicates by id: a backfill interrupted for
 * any reason (SIGTERM, a crash, a corrupt file) can simply be run again,
 * it adds only what is missing.
 */
#ifndef ES_INGEST_BACKFILL_H
#define ES_INGEST_BACKFILL_H

#include "es_heartbeat.h"
#include "es_redis.h"
#include "es_worker.h"
#include "sink.h"

typedef struct {
    const char *path; /* "-" reads stdin */
    int all;          /* keep every subreddit */
    int progress;     /* -1 auto (stderr is a terminal), 0, 1 */
    int dry_run;      /* parse and filter only: no stream writes */
} es_backfill_opts;

/*
 * Runs the backfill to the end of the input and returns the process exit
 * code: 0 when the whole input was read (or SIGTERM/SIGINT stopped it after
 * flushing what was queued), 1 when the input could not be opened or was
 * corrupt/truncated (every comment before the damage is flushed first).
 * Malformed lines are counted and logged, never fatal. hb may be NULL; in
 * a dry run sink may be NULL, and r may be NULL too when o->all is set.
 */
int es_backfill_run(es_worker *w, es_redis *r, es_sink *sink, es_heartbeat *hb,
                    const es_backfill_opts *o);

#endif
