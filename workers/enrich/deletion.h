/*
 * deletion.h - a deletion in a tenant's es_enrich_write call: the record
 * it expects to find, the exact reversal of that record, and its
 * arguments.
 *
 * The worker, not the Redis function, computes what a deletion takes out:
 * from the record the comment's creation stored (read before the batch is
 * built, stored.h), with the code that computes a new comment's
 * contribution (contrib.h), so the arithmetic exists once. The reversal
 * is summed with the tenant's other deletions into a plan of its own, sent
 * after the comments' increments. A deletion travels as five arguments:
 *
 *   "D", the record bucket (es:{t:<T>}:cr:<creation hour>), the comment
 *   id, the tenant part it was computed from ("" when there was none),
 *   meta ("" when the part holds nothing to reverse: none, a tombstone,
 *   or a part that is not one the worker writes)
 *
 * and the function applies it only while the stored record is still
 * exactly that text, so a deletion computed from a record that another
 * consumer changed meanwhile changes nothing; the function names it in
 * its reply and the deletion's entry is retried (aggregate.h).
 *
 * When Redis had no record but a comment earlier in the same call creates
 * it, the deletion expects the record that comment stores: a comment
 * created and deleted in one batch ends at zero. A deletion whose record
 * bucket is unknown (its entry carries no creation time and no bucket of
 * the tenant's retention holds the id) and that no comment of the call
 * creates has nothing to reverse: it goes with the hour "", and the
 * function keeps its tombstone in the tenant's early hash
 * (es:{t:<T>}:cg) until the comment comes, so the comment is never
 * counted.
 */
#ifndef ES_ENRICH_DELETION_H
#define ES_ENRICH_DELETION_H

#include <stddef.h>

#include "aggregate.h"

/*
 * Plans the deletion of pairs[i] (a deletion pair) for tenant tn: the
 * record it expects and, when that is a record the worker writes, its
 * reversal into a->rplan (slots in a->slots). st holds what was read for
 * the batch's deletions (stored.h); when pairs[i]'s read failed (or st is
 * NULL) rp->skip is set and nothing is planned. Pairs [i, e) are the rest
 * of the tenant's call.
 */
void es_deletion_plan(es_aggregate *a, const es_topic_set *ts,
                      const es_enrich_tenant *tn,
                      const es_enrich_entry *entries,
                      const es_entry_score *scores, const es_enrich_pair *pairs,
                      size_t i, size_t e, const es_stored_set *st,
                      long long now_s, es_rec_plan *rp);

/* Appends the deletion's five arguments to a->cur (after numbering). */
void es_deletion_args(es_aggregate *a, const es_topic_set *ts,
                      const es_enrich_entry *entries,
                      const es_entry_score *scores, const es_enrich_pair *pairs,
                      size_t i, size_t e, const es_rec_plan *rp);

/*
 * Writes an error into the entry of each deletion of pairs[s, e) whose
 * comment id the function's reply lists in ids (its fourth element: the
 * deletions it did not apply because their record changed), so the entry
 * stays pending and is retried.
 */
void es_deletion_stale(const es_enrich_entry *entries,
                       const es_enrich_pair *pairs, size_t s, size_t e,
                       const redisReply *ids,
                       char (*errors)[ES_ENRICH_ERR_MAX]);

#endif
