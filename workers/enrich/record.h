/*
 * record.h - the per-comment record of one comment for one tenant
 * (docs/redis-keys.md, members in es_record.h): what the API shows for a
 * recent comment, and what a deletion needs to reverse the comment exactly.
 * es_enrich_write stores it with SET NX; a deletion reads topics, label,
 * cs, created, t, month and terms back (stored.h), so those members are
 * the contract between a version of the worker and the next.
 */
#ifndef ES_ENRICH_RECORD_H
#define ES_ENRICH_RECORD_H

#include <stddef.h>

#include "entry.h"
#include "es_sentiment.h"
#include "jsonw.h"
#include "score.h"
#include "terms.h"
#include "topics.h"

/*
 * Writes the record into w (reset first): comment en, its sentiment st by
 * engine, compound cs in 1e-4 units, terms tm, its topics those of
 * pairs[s, e). On allocation failure w->oom is set.
 */
void es_record_json(es_jsonw *w, const es_topic_set *ts,
                    const es_enrich_entry *en, const es_sentiment *st,
                    const char *engine, long long cs, const es_terms *tm,
                    const es_enrich_pair *pairs, size_t s, size_t e);

/*
 * The sentiment the tenant of pair pr gets for its comment: Comprehend's
 * when the tenant asked for it and it answered, else VADER's; *engine is
 * set to its name.
 */
const es_sentiment *es_record_sentiment(const es_entry_score *sco,
                                        const es_enrich_pair *pr,
                                        const char **engine);

/* The sentiment's compound in the record's 1e-4 units (its "cs"). */
long long es_record_cs(const es_sentiment *st);

/*
 * The record of comment en for the tenant of pairs[s, e) (its topics),
 * scored sco, into w: es_record_json with the tenant's sentiment.
 */
void es_record_of(es_jsonw *w, const es_topic_set *ts,
                  const es_enrich_entry *en, const es_entry_score *sco,
                  const es_terms *tm, const es_enrich_pair *pairs, size_t s,
                  size_t e);

#endif
