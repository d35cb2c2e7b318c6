/*
 * aggregate.h - writes a scored batch into every matching tenant's data.
 *
 * One FCALL es_enrich_write per tenant with work in the batch (so each
 * call's keys share the tenant's hash tag), all of them sent in one
 * pipeline. What the function does, and why a replay changes nothing, is in
 * aggregate_lua.c; the layout is in docs/redis-keys.md.
 */
#ifndef ES_ENRICH_AGGREGATE_H
#define ES_ENRICH_AGGREGATE_H

#include <stddef.h>

#include "argbuf.h"
#include "entry.h"
#include "es_redis.h"
#include "jsonw.h"
#include "score.h"
#include "terms.h"
#include "topics.h"

#define ES_ENRICH_ERR_MAX 200

typedef struct {
    long long created;  /* new per-tenant comment records */
    long long replayed; /* records that existed: replays, no change */
    long long deleted;  /* records reversed by deletions */
    long long calls;    /* function calls made */
    long long failed;   /* function calls that returned an error */
} es_aggregate_stats;

typedef struct {
    es_redis *r;
    es_argbuf args;
    es_jsonw json; /* scratch for one record */
    es_aggregate_stats stats;
} es_aggregate;

void es_aggregate_init(es_aggregate *a, es_redis *r);
void es_aggregate_cleanup(es_aggregate *a);

/* Loads the function library (FUNCTION LOAD REPLACE). 0 or -1. */
int es_aggregate_prepare(es_aggregate *a);

/*
 * Writes the batch. pairs must be sorted by tenant, then entry. terms[i]
 * are entry i's terms; charge_units/charge_micros are per tenant. An entry
 * whose tenant call failed gets the error text in errors[entry] (entries
 * without one stay untouched). Returns 0, or -1 when the worker is stopping
 * and Redis stayed unreachable (nothing may be acknowledged).
 */
int es_aggregate_write(es_aggregate *a, const es_topic_set *ts,
                       const es_enrich_entry *entries,
                       const es_entry_score *scores, const es_terms *terms,
                       const es_enrich_pair *pairs, size_t npairs,
                       const long long *charge_units,
                       const long long *charge_micros, long long now_s,
                       char (*errors)[ES_ENRICH_ERR_MAX]);

/* The usage month of a time: "YYYYMM" (UTC) into buf (>= 8 bytes). */
void es_aggregate_month(long long now_s, char *buf, size_t size);

#endif
