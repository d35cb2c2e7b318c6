/*
 * consume.h - the enrich worker's side of the consumer group on the
 * comment stream.
 *
 * Reads come from three places, in this order of preference, as the mirror
 * does: this consumer's own pending list at start (entries it read but did
 * not acknowledge before), a claim sweep (XAUTOCLAIM of entries other
 * consumers left idle for enrich.claim_idle_ms: crashed peers, or this
 * process's own failures) at start and every half idle time, and new
 * entries (XREADGROUP >, blocking at most enrich.block_ms so SIGTERM is
 * seen promptly). Entries coming from a pending list have been delivered
 * before; their delivery counts are fetched (XPENDING) so that an entry that
 * keeps failing can be moved to the dead-letter stream, with its error, by
 * the atomic es_enrich_dlq function instead of blocking the group forever.
 */
#ifndef ES_ENRICH_CONSUME_H
#define ES_ENRICH_CONSUME_H

#include <stddef.h>

#include <hiredis.h>

#include "es_keys.h"
#include "es_redis.h"

#define ES_DLQ_MAX_LEN 100000

typedef struct {
    es_redis *r;
    const char *group;
    const char *consumer;
    long long batch;
    long long block_ms; /* longest wait for new entries; 0: do not wait */
    long long claim_idle_ms;
    int own_recovery;
    char own_cursor[48];
    char claim_cursor[48];
    long long next_claim_ms; /* monotonic */
    long long dead_lettered;
} es_consumer;

void es_consumer_init(es_consumer *c, es_redis *r, const char *group,
                      const char *consumer, long long batch, long long block_ms,
                      long long claim_idle_ms);

/* Creates the group from the start of the stream if missing. 0 or -1. */
int es_consumer_create_group(es_consumer *c);

/*
 * Reads the next batch. Returns the reply (free with freeReplyObject; NULL
 * when nothing was read) and sets *entries to its list of [id, fields]
 * entries and *redelivered when they came from a pending list.
 */
redisReply *es_consumer_read(es_consumer *c, const redisReply **entries,
                             int *redelivered);

/*
 * Delivery counts of pending entries ids[0..n) (ascending stream order)
 * into counts (0 when no longer pending). 0, or -1 (counts unknown).
 */
int es_consumer_deliveries(es_consumer *c, const char *const *ids, size_t n,
                           long long *counts);

/* Acknowledges ids[0..n). 0, or -1 (they stay pending). */
int es_consumer_ack(es_consumer *c, const char *const *ids, size_t n);

/*
 * Moves one pending entry to the dead-letter stream with error and its
 * delivery count, acknowledging it, atomically. 1 moved, 0 no longer
 * pending, -1 failed.
 */
int es_consumer_dead_letter(es_consumer *c, const char *id, const char *error,
                            long long deliveries);

#endif
