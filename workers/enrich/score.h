/*
 * score.h - sentiment of a batch: each comment scored once per engine.
 *
 * Every comment some topic matched is scored with VADER (local, cheap, and
 * the answer for VADER tenants and for every fallback). Comprehend is asked
 * only for comments that at least one matching tenant wants scored by it
 * (meta engine "comprehend") while that tenant's month spend is under its
 * budget; all those comments go in one es_scorer_score call (25 texts per
 * request), and every such tenant shares the one answer.
 *
 * Cost split rule: a comment's Comprehend bill (its units, and units times
 * the price in micro-dollars) is divided among the k tenants that used the
 * answer, in tenant-id order: each pays floor(total / k), and the first
 * (total mod k) pay one more, so the shares always add up to exactly what
 * AWS billed. While deciding who is eligible, each tenant's remaining budget
 * is reduced by its share as the batch goes, so one batch cannot run far
 * past a budget: the comment that crosses it is the last one charged.
 */
#ifndef ES_ENRICH_SCORE_H
#define ES_ENRICH_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "es_scorer.h"
#include "es_sentiment.h"
#include "topics.h"

#define ES_PAIR_DELETE UINT32_MAX

/* One (comment, tenant, topic) match, or (deletion, tenant). */
typedef struct {
    uint32_t entry;
    uint32_t tenant;
    uint32_t topic; /* topic index, or ES_PAIR_DELETE */
    int comprehend; /* this tenant gets the entry's Comprehend result */
} es_enrich_pair;

typedef struct {
    es_sentiment vader;
    es_sentiment comprehend;
    int has_vader;
    int has_comprehend;
    int units; /* Comprehend units billed for the entry */
} es_entry_score;

/* Splits total into k shares as described above (k >= 1). */
void es_split_cost(long long total, size_t k, size_t i_th, long long *share);

/*
 * Scores the entries of a batch. pairs must be sorted by entry, then tenant.
 * remaining_micros[t] is tenant t's budget left this month (<= 0: none);
 * it is reduced as budget is committed. charge_units / charge_micros
 * (per tenant, zeroed by the caller) receive what each tenant is charged.
 * price_micros is the price of one unit. sc may be NULL (VADER only).
 */
void es_enrich_score(es_scorer *sc, const es_vader *v, const es_topic_set *ts,
                     const es_enrich_entry *entries, es_enrich_pair *pairs,
                     size_t npairs, long long price_micros,
                     long long *remaining_micros, long long *charge_units,
                     long long *charge_micros, es_entry_score *scores);

#endif
