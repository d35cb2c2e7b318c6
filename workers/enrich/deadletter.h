/*
 * deadletter.h - the enrich worker's dead-letter step: an entry that
 * failed enrich.max_deliveries times moves, with its error and delivery
 * count, from the group's pending list to es:{ingest}:dlq, in one call of
 * the atomic es_enrich_dlq function (lib/redis/enrich.lua), so it is never
 * both lost and left pending, nor dead-lettered twice.
 */
#ifndef ES_ENRICH_DEADLETTER_H
#define ES_ENRICH_DEADLETTER_H

#include "es_consumer.h"

#define ES_DLQ_MAX_LEN 100000

/*
 * Moves the pending entry id to the dead-letter stream with error and its
 * delivery count, acknowledging it, atomically. 1 moved (logged), 0 no
 * longer pending, -1 failed (logged).
 */
int es_enrich_dead_letter(es_consumer *c, const char *id, const char *error,
                          long long deliveries);

#endif
