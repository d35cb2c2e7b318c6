/*
 * stored.h - the per-comment records a batch's deletions reverse: read
 * from Redis before the deletions are planned, and parsed back.
 *
 * A deletion must take out exactly what the comment's creation added, and
 * what was added is described by the tenant part of the record the
 * creation stored (its topics, label, cs, creation time and terms:
 * es_record.h), not by today's topics or engines. So before a batch with
 * deletions is built, the worker reads the tenant parts of the deleted
 * ids, one HGET per deletion in one round trip, and plans each reversal
 * from its part with the code that plans a new comment (contrib.h). The
 * text read travels with the deletion: the Redis function applies the
 * reversal only while the part is still exactly that text
 * (lib/redis/enrich.lua).
 *
 * Parts are Redis content and never trusted: one that does not parse as a
 * part the worker writes (a field missing, a topic id that is not one, a
 * label letter or cs out of range, a creation time that is not a number)
 * is unreadable and reverses nothing; its deletion only leaves the
 * tombstone, as before.
 */
#ifndef ES_ENRICH_STORED_H
#define ES_ENRICH_STORED_H

#include <stddef.h>

#include <hiredis.h>
#include "contrib.h"
#include "entry.h"
#include "es_redis.h"
#include "score.h"
#include "topics.h"

typedef enum {
    ES_STORED_LIVE = 0,   /* a record as the worker writes it */
    ES_STORED_TOMBSTONE,  /* what a deletion leaves: nothing to reverse */
    ES_STORED_UNREADABLE, /* anything else: nothing to reverse */
} es_stored_kind;

/* One record's tenant part, parsed; reused from one deletion to the next. */
typedef struct {
    char *buf; /* a copy of the text, split: the strings below point in */
    size_t bcap;
    es_strv *field; /* its fields */
    size_t nfields, fcap;
    es_enrich_entry when; /* scratch: t and month of created */
    es_contrib c; /* its members (c.id unset): arrays and t below */
    const char **topics;
    size_t tcap;
    const char **terms;
    size_t *term_len;
    size_t wcap;
    char t[13];
} es_stored_record;

/*
 * Parses text[0..n) into r (whatever r held before is dropped). Returns its
 * kind; r->c holds the record's members for ES_STORED_LIVE only.
 */
es_stored_kind es_stored_parse(es_stored_record *r, const char *text, size_t n);

/* What r's comment added, as a contribution of comment id (borrows r). */
void es_stored_contrib(const es_stored_record *r, const char *id,
                       es_contrib *c);

void es_stored_record_free(es_stored_record *r);

/* The records read for a batch's deletions. */
typedef struct {
    redisReply **replies; /* one HGET reply per deletion with a bucket */
    size_t nreplies;
    /* per pair of the batch: a deletion's tenant part as read (a string or
       a nil reply), NULL for a comment's pair, a deletion without a known
       bucket or one whose read failed */
    const redisReply **rec;
    /* per pair: a deletion's record bucket YYYYMMDDHH (from the creation
       time its entry carries, or located), "" when unknown */
    char (*hour)[11];
    /* per pair: 1 when a deletion's record could not be read (retried) */
    unsigned char *failed;
    size_t npairs; /* pairs rec, hour and failed cover */
    size_t cap, hcap, fcap;
} es_stored_set;

/* 1 when pairs[0..npairs) hold a deletion. */
int es_stored_needed(const es_enrich_pair *pairs, size_t npairs);

/*
 * Reads the tenant part of every deletion pair of pairs[0..npairs) (sorted
 * by tenant, then entry) into s, on r: its bucket is the hour of the
 * creation time the deletion entry carries, or, for an entry without one,
 * the bucket es_enrich_locate finds within the tenant's retention (one
 * round trip for all such deletions first). 0, or -1 when Redis stayed
 * unreachable while stopping or memory ran out (then every deletion is
 * marked failed).
 */
int es_stored_fetch(es_stored_set *s, es_redis *r, const es_topic_set *ts,
                    const es_enrich_entry *entries, const es_enrich_pair *pairs,
                    size_t npairs);

/* Frees what was read, keeping the memory of rec. */
void es_stored_clear(es_stored_set *s);
void es_stored_free(es_stored_set *s);

#endif
