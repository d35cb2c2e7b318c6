/*
 * record.h - the per-comment record of one comment for one tenant
 * (docs/redis-keys.md): what the API shows for a recent comment, and what
 * a deletion needs to reverse the comment exactly. es_enrich_write stores
 * it with SET NX; its Lua side reads topics, label, cs, created, t, month
 * and terms back for a deletion, so those fields are its contract.
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

#endif
