/*
 * tick.h - one evaluation of every enabled rule of every tenant: the
 * alert worker's scheduled step (alert.interval, a minute by default).
 *
 * For each tenant of es:{tenants}:all, its rules and their states are
 * read in one round trip; each enabled rule that parses has its buckets
 * read (series.h) and evaluated (spike.h) at the tick's time. A rule
 * that fires gets its samples, its recipients (the rule's addresses and
 * the members who opted in) and its event built here, and everything is
 * recorded by one call of es_alert_fire (lib/redis/alert.lua), which
 * re-checks the state the decision was made on: a tick that dies
 * anywhere leaves either nothing or the whole alert, and two workers
 * ticking together record it once. A rule back inside its half band is
 * re-armed the same way (es_alert_arm). States of rules that no longer
 * exist are deleted, and once an hour old closed delivery records
 * (prune.h). The tick stops between rules when the worker is asked to
 * stop, so SIGTERM waits for one rule at most.
 */
#ifndef ES_ALERT_TICK_H
#define ES_ALERT_TICK_H

#include <stdint.h>

#include "es_redis.h"

#define ES_ALERT_HISTORY_MAXLEN 1000
#define ES_ALERT_WARNED_MAX     1024

typedef struct {
    es_redis *r;
    /* counters for the heartbeat, since the start */
    long long ticks;
    long long rules_checked;
    long long learning;
    long long alerts_fired;
    long long rearmed;
    long long bad_rules; /* in the last tick */
    long long last_tick_ms;
    long long next_prune_ms; /* old delivery records (prune.h), wall */
    /* rules already reported as malformed (hash of tenant, id and text),
       so a bad rule is logged once, not every minute */
    uint64_t warned[ES_ALERT_WARNED_MAX];
    size_t nwarned;
} es_alert_ticker;

void es_alert_ticker_init(es_alert_ticker *t, es_redis *r);

/*
 * Evaluates every rule at now_ms (the worker's clock). Returns 0, or -1
 * when Redis failed (the next tick tries again).
 */
int es_alert_tick(es_alert_ticker *t, long long now_ms);

#endif
