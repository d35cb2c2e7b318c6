/*
 * synthetic.h - an endless, realistic comment stream for demos and
 * benchmarks, without Reddit.
 *
 * Comments go through the same sink as real ones, so everything downstream
 * (sentiment, matching, alerts, dashboards) runs exactly as in production.
 * Subreddits come from the watchlist (so topics see traffic), with
 * Zipf-like popularity of subreddits and authors; bodies come from a phrase
 * grammar mixing positive, negative and neutral wording with negations,
 * emphasis, emoji and some non-ASCII text.
 *
 * Ids: INCRBY es:{ingest}:synthetic:seq hands out sequence numbers, mapped
 * to ES_SYNTH_ID_BASE + seq, i.e. 12-character base-36 ids starting with
 * "z" ("z00000000001" ...). Real Reddit ids are 7 characters today and will
 * not reach 12 for centuries, so the two never collide, and several
 * synthetic workers never repeat each other.
 */
#ifndef ES_INGEST_SYNTHETIC_H
#define ES_INGEST_SYNTHETIC_H

#include <stddef.h>
#include <stdint.h>

#include "es_heartbeat.h"
#include "es_redis.h"
#include "es_worker.h"
#include "sink.h"

/* 35 * 36^11: the smallest 12-character base-36 number starting with 'z' */
#define ES_SYNTH_ID_BASE 4606759634479349760ULL

/*
 * Produces rate comments per second (paced on the monotonic clock, any
 * positive rate, fractions included) until SIGTERM/SIGINT, then flushes
 * what is queued and returns 0. hb may be NULL. Reads ingest.batch and
 * ingest.watch_refresh from w's configuration (w may be NULL: defaults).
 */
int es_synthetic_run(es_worker *w, es_redis *r, es_sink *sink, es_heartbeat *hb,
                     double rate);

/*
 * The generator alone, for tests: writes a comment body for the given
 * random state into buf (NUL-terminated, valid UTF-8) and returns its
 * length. *rng is advanced.
 */
size_t es_synthetic_body(uint64_t *rng, char *buf, size_t size);

#endif
