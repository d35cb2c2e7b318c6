/*
 * poll_lease.h - which of several ingest processes polls Reddit.
 *
 * Reddit's budget (reddit.qpm) belongs to the OAuth client, and every
 * ingest process of an installation uses the same one. Two pollers would
 * each spend the whole budget, so Reddit would see twice the allowed rate
 * and answer 429s; the comments would still enter the stream once (the
 * sink's seen bits), but at the price of every request made twice. So the
 * pollers share one lease, es:{ingest}:poller (the holder's instance name,
 * with a TTL): the holder polls, the others stand by, renewing nothing
 * and trying to take the lease as it lapses. A clean stop releases it, so
 * a standby takes over within a try; a crashed holder's lease runs out
 * after ingest.lease seconds. Taking and renewing are one compare-and-set
 * in Redis (es_ingest_lease), so no two processes hold it at once; one
 * that stalled past its TTL learns at its next renewal that it lost it.
 */
#ifndef ES_INGEST_POLL_LEASE_H
#define ES_INGEST_POLL_LEASE_H

#include "es_redis.h"

typedef struct {
    es_redis *r;
    const char *holder; /* this process: the worker's instance name */
    long long ttl_ms;
    long long next_mono;  /* next renewal (holder) or try (standby) */
    long long until_mono; /* when a lease held locally surely ran out */
    int held;
    char other[96]; /* the holder last seen, when another ("" if none) */
} es_poll_lease;

/* No Redis call; the first es_poll_lease_tick tries at once. */
void es_poll_lease_init(es_poll_lease *l, es_redis *r, const char *holder,
                        long long ttl_ms);

/*
 * When due (a holder renews every third of the TTL, a standby tries every
 * second or sooner), takes or renews the lease. Logs a change of hands.
 * Returns 1 while this process holds it, 0 while another does or Redis
 * did not answer (then a lease held keeps counting until its TTL is
 * surely over, measured from the last renewal Redis confirmed).
 */
int es_poll_lease_tick(es_poll_lease *l);

/* Gives the lease up if held (a clean stop): a standby takes it at once. */
void es_poll_lease_release(es_poll_lease *l);

#endif
