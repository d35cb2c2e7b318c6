/*
 * es_group.h - consumer-group housekeeping shared by every stream consumer
 * (ingest creating groups ahead of their consumers, mirror, enrich).
 *
 * Groups are created from the start of the stream ("0"), so a consumer that
 * starts after entries arrived still sees them. Each worker instance reads
 * under its own consumer name ("<host>-<pid>"), so every restart adds a
 * consumer to the group; pruning removes the ones that hold nothing and
 * have been idle long, keeping XINFO CONSUMERS short without ever dropping
 * a pending entry.
 */
#ifndef ES_GROUP_H
#define ES_GROUP_H

#include "es_redis.h"

/*
 * Creates group on stream (MKSTREAM) unless it exists. Returns 1 when it was
 * created, 0 when it existed (or the worker is stopping), -1 on error
 * (logged).
 */
int es_group_create(es_redis *r, const char *stream, const char *group);

/*
 * Deletes the consumers of group, other than keep (may be NULL), that have
 * no pending entries and have been idle at least min_idle_ms. Returns how
 * many were deleted, or -1 on error (logged).
 */
int es_group_prune(es_redis *r, const char *stream, const char *group,
                   const char *keep, long long min_idle_ms);

/*
 * The entries of an XREADGROUP reply for one stream ([[key, [entries]]]),
 * borrowed from rep; NULL when there are none or the shape is wrong.
 */
const redisReply *es_group_entries(const redisReply *rep);

#endif
