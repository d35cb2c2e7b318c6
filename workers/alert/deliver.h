/*
 * deliver.h - the delivery loop of the alert worker: every record the
 * deliver queue (es:{deliver}:queue, consumer group alert.group) names is
 * sent once, whatever dies when.
 *
 * For each queue entry {tenant, id} the record es:{t:T}:deliveries[id]
 * is read (delivery.h). A record no longer pending is acknowledged and
 * dropped from the queue. Otherwise each target not yet settled is sent
 * (e-mail: one message per address; webhook: one POST) and at once
 * recorded with es_delivery_update (lib/redis/alert.lua): the new record
 * replaces the one read only if that is still what Redis holds, and the
 * entry is acknowledged and deleted in the same step when the record
 * closes. A retryable failure records the attempt and leaves the entry
 * pending: the consumer's claim sweep offers it again after
 * alert.claim_idle_ms, and it is tried once its next_ms has come; after
 * ES_DELIVERY_MAX_ATTEMPTS the record is closed as failed with the
 * reason. Before each send the entry's idle time is reset
 * (es_delivery_lease) and its ownership checked, so another worker's
 * claim sweep never takes an entry this one is sending.
 *
 * Exactly once: a worker killed before a send leaves the entry pending
 * and the target unsettled, so the target is sent after the claim; one
 * killed after the record names the target settled never sends it
 * again, since every attempt starts from the stored record. The one
 * window left is between the other side's acceptance and the update
 * reaching Redis (a reply and one round trip); a kill exactly there sends
 * that one message again, with the same Message-ID (the same delivery id
 * in a webhook's body), which a receiver can drop (docs/alerts.md).
 */
#ifndef ES_ALERT_DELIVER_H
#define ES_ALERT_DELIVER_H

#include <stddef.h>

#include "es_consumer.h"
#include "es_redis.h"
#include "transport.h"

typedef struct {
    es_redis *r;
    es_consumer c;
    es_alert_transport *tx;
    const char *base_url;           /* the dashboard, ending in '/' */
    const unsigned char *unsub_key; /* NULL: mail carries no link */
    size_t unsub_len;
    long long claim_idle_ms;
    long long clock_offset_ms;
    int max_attempts;
    /* for the heartbeat */
    long long sent;     /* records closed as sent */
    long long failed;   /* records closed as failed */
    long long messages; /* e-mails and POSTs the other side took */
    long long retries;
    char last_error[256];
} es_deliverer;

void es_deliver_init(es_deliverer *d, es_redis *r, const char *group,
                     const char *consumer, long long claim_idle_ms);

/*
 * Reads one queue entry (waiting at most block_ms for a new one) and
 * works on it. Returns 1 when an entry was read, 0 when none.
 */
int es_deliver_step(es_deliverer *d, long long block_ms);

#endif
