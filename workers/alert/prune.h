/*
 * prune.h - how long closed delivery records stay in
 * es:{t:T}:deliveries.
 *
 * A record is the answer to "was this alert mailed, to whom, and if not
 * why" for the tenant and the operator, so it outlives its sending, but a
 * hash field cannot expire by itself: once an hour the alert worker's
 * tick deletes, tenant by tenant, the records that are closed (sent or
 * failed) and were created more than ES_DELIVERY_KEEP_MS ago. Pending
 * records are never touched, however old: they are still work.
 */
#ifndef ES_ALERT_PRUNE_H
#define ES_ALERT_PRUNE_H

#include "es_redis.h"

#define ES_DELIVERY_KEEP_MS  (30LL * 86400000)
#define ES_DELIVERY_PRUNE_MS 3600000LL

/*
 * Deletes the closed records of tenant's deliveries created before
 * now_ms - keep_ms. Returns how many, or -1 when Redis failed.
 */
long long es_alert_prune_deliveries(es_redis *r, const char *tenant,
                                    long long now_ms, long long keep_ms);

#endif
