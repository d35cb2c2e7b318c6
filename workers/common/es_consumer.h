/*
 * es_consumer.h - one consumer of a consumer group on a stream: the read
 * loop every stream worker shares (mirror, enrich, and those to come).
 *
 * Reads come from three places, in this order of preference: this
 * consumer's own pending list at start (entries it read but did not
 * acknowledge before a crash or a stop), a claim sweep (XAUTOCLAIM of
 * entries other consumers left idle for claim_idle_ms: crashed peers, or
 * this process's own failures) at start and every half idle time, and new
 * entries (XREADGROUP >, blocking at most block_ms so SIGTERM is seen
 * promptly). Entries from a pending list are marked redelivered: their
 * delivery counts can be fetched (es_consumer_deliveries), so an entry
 * that keeps failing can be set aside instead of blocking the group. A
 * group that vanished (NOGROUP) is created again; other read errors wait
 * a second. Each worker adds what is its own: mirror's batch into SQS,
 * enrich's dead-letter step.
 */
#ifndef ES_CONSUMER_H
#define ES_CONSUMER_H

#include <stddef.h>

#include <hiredis.h>

#include "es_redis.h"

typedef struct {
    es_redis *r;
    const char *stream;
    const char *group;
    const char *consumer;
    /* a caller may change these two between reads */
    long long batch;    /* COUNT of one read */
    long long block_ms; /* longest wait for new entries; 0: do not wait */
    long long claim_idle_ms;
    long long prune_idle_ms; /* 0: never prune idle consumers */
    int own_recovery;
    char own_cursor[48];
    char claim_cursor[48];
    long long next_claim_ms; /* monotonic */
} es_consumer;

void es_consumer_init(es_consumer *c, es_redis *r, const char *stream,
                      const char *group, const char *consumer, long long batch,
                      long long block_ms, long long claim_idle_ms);

/*
 * Creates the group from the start of the stream if missing and, with
 * prune_idle_ms set, deletes other consumers that hold nothing and were
 * idle that long (es_group.h). 0 or -1.
 */
int es_consumer_create_group(es_consumer *c);

/*
 * Reads the next batch. Returns the reply (free with freeReplyObject; NULL
 * when nothing was read) and sets *entries to its list of [id, fields]
 * entries and *redelivered when they came from a pending list. An entry
 * whose fields are nil was trimmed from the stream while pending.
 */
redisReply *es_consumer_read(es_consumer *c, const redisReply **entries,
                             int *redelivered);

/*
 * Delivery counts of pending entries ids[0..n) (ascending stream order)
 * into counts (0 when no longer pending). 0, or -1 (counts unknown).
 */
int es_consumer_deliveries(es_consumer *c, const char *const *ids, size_t n,
                           long long *counts);

/* Acknowledges ids[0..n). 0, or -1 (they stay pending; logged). */
int es_consumer_ack(es_consumer *c, const char *const *ids, size_t n);

#endif
