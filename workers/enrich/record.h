/*
 * record.h - the stored per-comment record of one comment for one tenant
 * (docs/redis-keys.md, fields in es_record.h): its tenant part (what the
 * tenant's record alone holds: topics, engine, creation time, a Comprehend
 * sentiment) and its public part (the comment as Reddit published it with
 * VADER's sentiment, shared by the tenants that store it),
 * and the comment's entry in a topic's recent index. es_enrich_write
 * stores the tenant part with HSETNX; a deletion reads topics, label, cs
 * and created back from the two, and the terms from the body (stored.h),
 * so those fields are the contract between a version of the worker and
 * the next.
 */
#ifndef ES_ENRICH_RECORD_H
#define ES_ENRICH_RECORD_H

#include <stddef.h>

#include "entry.h"
#include "es_sentiment.h"
#include "jsonw.h"
#include "score.h"
#include "es_terms.h"
#include "topics.h"

/* Room for a title reference (12 hex digits) and its NUL. */
#define ES_RECORD_TITLE_REF_MAX 13

/*
 * The reference of comment en's post title in its hour's title table
 * (es:{c}:<YYYYMMDDHH>:t; the public part holds "#" and it) into ref
 * (ES_RECORD_TITLE_REF_MAX bytes): a hash of the title. Returns its
 * length. Many comments of an hour share a post, so its title is stored
 * once there.
 */
size_t es_record_title_ref(const es_enrich_entry *en, char *ref);

/* Room for a recent entry "<id>:<label letter><offset>;" and its NUL. */
#define ES_RECORD_ENTRY_MAX 40

/*
 * Writes the tenant part into w (reset first): comment en, its topics
 * those of pairs[s, e), scored by engine ("vader" or "comprehend"): a
 * Comprehend score st (compound cs in 1e-4 units) is the tenant's and is
 * written here, VADER's is the public part's. On allocation failure
 * w->oom is set.
 */
void es_record_tenant(es_jsonw *w, const es_topic_set *ts,
                      const es_enrich_entry *en, const es_sentiment *st,
                      const char *engine, long long cs,
                      const es_enrich_pair *pairs, size_t s, size_t e);

/*
 * Writes comment en's public part into w (reset first), with VADER's
 * sentiment vader (its trending terms are not stored: they are the body's,
 * es_terms.h).
 */
void es_record_public(es_jsonw *w, const es_enrich_entry *en,
                      const es_sentiment *vader);

/*
 * The entry of comment id, labelled label and created at created_ms, in
 * its topics' recent index of its creation hour, into buf (at least
 * ES_RECORD_ENTRY_MAX bytes): "<id>:<label letter><ms into the hour, base
 * 36>;". Returns its length.
 */
size_t es_record_recent_entry(char *buf, const char *id, es_label label,
                              long long created_ms);

/* The record bucket's hour YYYYMMDDHH of creation minute t, into hour. */
void es_record_hour(const char *t, char hour[11]);

/* The same of a creation time in ms (es_time_hour). */
void es_record_hour_ms(long long ms, char hour[11]);

/* The label's letter in the stored record (ES_RECORD_LABELS). */
char es_record_label_letter(es_label label);

/* v as the whole number of 1e-4 units its 4-decimal text shows. */
long long es_record_units4(double v);

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
 * The tenant part of comment en for the tenant of pairs[s, e) (its
 * topics), scored sco, into w: es_record_tenant with the tenant's
 * sentiment.
 */
void es_record_of(es_jsonw *w, const es_topic_set *ts,
                  const es_enrich_entry *en, const es_entry_score *sco,
                  const es_enrich_pair *pairs, size_t s, size_t e);

#endif
