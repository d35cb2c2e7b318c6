/*
 * stream_writer.h - the backfill's bulk path into the comment stream.
 *
 * A thread of its own, with its own Redis connection, writes the batches
 * of XADD commands the reader thread fills (xadd_batch.h), so that
 * decompressing and parsing the next batch overlaps with Redis appending
 * this one. Each batch is one optimistic transaction with the rules of
 * es_ingest_add (lib/redis/ingest.lua describes the protocol):
 *
 *   WATCH <its bitmap chunks>; FCALL_RO es_ingest_peek (the bytes holding
 *   the batch's seen/gone bits; BACKPRESSURE as es_ingest_add refuses);
 *   decide per comment (dedup_plan.h); MULTI; the XADDs of the comments to
 *   append, sent as the reader built them; FCALL es_ingest_mark (the new
 *   bytes, TTLs); EXEC.
 *
 * EXEC fails when another writer (the poller, a second backfill) changed a
 * chunk after the peek; the batch then starts over from the peek. A lost
 * connection also starts the batch over on the new one, never resuming a
 * transaction: if the lost EXEC did run, the peek now shows the bits set
 * and nothing is appended twice. So every comment enters the stream once,
 * as through es_ingest_add, at a fraction of the Redis time per comment:
 * no field passes through Lua. While the peeks show what the writer can
 * guess (a first backfill: nothing known), a batch's MULTI and XADDs go
 * out before its peek's answer, and its EXEC only once the answer proved
 * the guess (stream_writer.c).
 *
 * The batches form a small pool: the reader takes an empty one, fills it
 * and submits it; the writer returns it once written. Only the writer
 * thread touches its connection; SIGTERM and SIGINT are left to the
 * reader thread (the writer blocks them), which stops reading and lets
 * the writer finish what was submitted.
 */
#ifndef ES_INGEST_STREAM_WRITER_H
#define ES_INGEST_STREAM_WRITER_H

#include <stddef.h>

#include "xadd_batch.h"

typedef struct es_swriter es_swriter;

typedef struct {
    const char *redis_url;
    long long ttl;     /* ingest.dedup_ttl: seconds the chunks live */
    long long max_len; /* stream.max_len: back-pressure (0 = none) */
} es_swriter_opts;

typedef struct {
    long long added;      /* comments appended */
    long long duplicates; /* already streamed, or nothing to do */
    long long deletions;  /* deletion events appended */
    long long restarts;   /* transactions started over (a chunk changed) */
    long long missed;     /* transactions sent ahead on a wrong guess */
    long long batches;    /* transactions committed */
    long long full_ms;    /* the reader waited for a batch: Redis bound */
    long long idle_ms;    /* the writer waited for a batch: reader bound */
} es_swriter_stats;

/* Starts the thread. NULL with a message in err on failure. */
es_swriter *es_swriter_start(const es_swriter_opts *o, char *err,
                             size_t errlen);

/*
 * An empty batch to fill, waiting up to wait_ms for one to come back from
 * the writer. NULL on timeout, or at once when the writer has given up
 * (es_swriter_failed).
 */
es_xbatch *es_swriter_batch(es_swriter *w, long long wait_ms);

/* Hands a batch from es_swriter_batch to the writer (an empty one back). */
void es_swriter_submit(es_swriter *w, es_xbatch *b);

/* 1 once the writer gave up (stopping while Redis failed, no memory). */
int es_swriter_failed(es_swriter *w);

/* Counters so far (safe from the reader thread). */
es_swriter_stats es_swriter_get_stats(es_swriter *w);

/*
 * Waits up to wait_ms for every submitted batch to be written (or the
 * writer to give up): 1 when that is so, 0 on timeout. Lets the caller
 * keep its periodic work going (heartbeats, the trim that ends a
 * back-pressure wait) while the last batches go out.
 */
int es_swriter_drain(es_swriter *w, long long wait_ms);

/*
 * Waits until every submitted batch is written and ends the thread.
 * 0, or -1 when the writer gave up before (batches left unwritten were
 * never acknowledged: a rerun adds them).
 */
int es_swriter_finish(es_swriter *w);

void es_swriter_free(es_swriter *w);

#endif
