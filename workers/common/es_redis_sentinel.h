/*
 * es_redis_sentinel.h - finding a Sentinel-managed primary from a worker.
 *
 * A redis+sentinel:// address (es_redis_url.h) names sentinels, not the
 * primary: before each connection es_redis.c asks them, in the order the
 * URL gives, for the primary's current address, and after connecting checks
 * with ROLE that the node really is the primary (a sentinel may answer with
 * a node it has not yet seen demoted, and an old primary that comes back is
 * a replica). Synchronous with short timeouts, like the rest of the
 * workers' Redis code: a dead sentinel costs at most one timeout.
 */
#ifndef ES_REDIS_SENTINEL_H
#define ES_REDIS_SENTINEL_H

#include <stddef.h>

#include <hiredis.h>

#include "es_redis_url.h"

/* Per sentinel: connecting and waiting for its answer, in milliseconds. */
#define ES_REDIS_SENTINEL_TIMEOUT_MS 1000

/*
 * Asks u's sentinels in turn for the primary's address; 0 with it in out,
 * or -1 with the last sentinel's failure in err.
 */
int es_redis_sentinel_primary(const es_redis_url *u, es_redis_addr *out,
                              char *err, size_t errlen);

/*
 * Asks c (connected and authenticated) for its ROLE: 0 when it is a
 * primary, -1 with the role or the failure in err.
 */
int es_redis_check_primary(redisContext *c, char *err, size_t errlen);

#endif
