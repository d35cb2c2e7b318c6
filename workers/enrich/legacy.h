/*
 * legacy.h - a per-comment record of schema 1, read back for the migration
 * (migrate.h).
 *
 * Schema 1 kept one JSON string es:{t:<tenant>}:c:<id> per comment and
 * tenant (the members of es_record.h's ES_RECORD_MEMBERS, "terms"
 * included), or the tombstone {"deleted":true}. The migration turns a
 * record into the parts of schema 2 with the worker's own writers
 * (record.h), which take the comment as a stream entry and its sentiment;
 * so this parses the JSON into exactly those: an es_enrich_entry (id,
 * subreddit, author, body, permalink, title, score, creation time and the
 * buckets derived from it) and an es_sentiment with its engine and cs.
 * The text comes from Redis and may be anything: every member is checked
 * (type, range, and ids against the rules of the keys they become part
 * of), and a record failing any check is reported malformed with the
 * reason, never half-converted. "t" and "month" are derived from
 * "created" (as the worker derived them), and "terms" from the body
 * (es_terms.h), so they are not read.
 */
#ifndef ES_ENRICH_LEGACY_H
#define ES_ENRICH_LEGACY_H

#include <stddef.h>

#include <jansson.h>

#include "entry.h"
#include "es_sentiment.h"

/* Most topic ids one record may carry (the matcher's limit a comment). */
#define ES_LEGACY_TOPICS_MAX 4096

typedef enum {
    ES_LEGACY_RECORD = 0,
    ES_LEGACY_TOMBSTONE,
    ES_LEGACY_MALFORMED
} es_legacy_kind;

typedef struct {
    json_t *root; /* owned; every string below points into it */
    es_enrich_entry en;
    es_sentiment st;    /* the record's sentiment, of its engine */
    long long cs;       /* its compound in 1e-4 units, as stored */
    const char *engine; /* "vader" or "comprehend" */
    const char *topics[ES_LEGACY_TOPICS_MAX];
    size_t ntopics;
} es_legacy;

/*
 * Parses the record text[0..n) stored under comment id (the canonical id
 * of its key). Returns its kind; for ES_LEGACY_RECORD l is filled (free
 * with es_legacy_clear), for ES_LEGACY_MALFORMED *why says what is wrong.
 * l is cleared first, whatever the result.
 */
es_legacy_kind es_legacy_parse(es_legacy *l, const char *id, const char *text,
                               size_t n, const char **why);

/* Releases what es_legacy_parse kept (the JSON). */
void es_legacy_clear(es_legacy *l);

#endif
