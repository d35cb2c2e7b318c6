/*
 * stored.h - the per-comment records a batch's deletions reverse: read
 * from Redis before the deletions are planned, and parsed back.
 *
 * A deletion must take out exactly what the comment's creation added, and
 * what was added is described by the record the creation stored (its
 * topics, label, cs, creation time and terms: es_record.h), not by today's
 * topics or engines. So before a batch with deletions is built, the worker
 * reads both parts of the deleted ids' records, one function call per
 * tenant in one round trip, and plans each reversal from them with the
 * code that plans a new comment (contrib.h). The tenant part read travels
 * with the deletion: the Redis function applies the reversal only while
 * the part is still exactly that text (lib/redis/enrich.lua).
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
#include "es_terms.h"
#include "score.h"
#include "topics.h"

typedef enum {
    ES_STORED_LIVE = 0,   /* a record as the worker writes it */
    ES_STORED_TOMBSTONE,  /* what a deletion leaves: nothing to reverse */
    ES_STORED_UNREADABLE, /* anything else: nothing to reverse */
} es_stored_kind;

/* A stored part split at its separators (its fields point into buf). */
typedef struct {
    char *buf;
    size_t bcap;
    es_strv *field;
    size_t n, fcap;
} es_stored_fields;

/* One record, parsed from its two parts; reused from one deletion to the
   next. */
typedef struct {
    es_stored_fields tp, pp; /* the tenant part and the public part */
    es_enrich_entry when;    /* scratch: t and month of created */
    es_contrib c;            /* its members (c.id unset): arrays and t below */
    const char **topics;
    size_t tcap;
    es_terms tm; /* the body's terms */
    es_terms_scratch scratch;
    char *jbuf; /* scratch: the body as a JSON string */
    size_t jcap;
    char t[13];
} es_stored_record;

/*
 * Parses the record of the creation hour hour (YYYYMMDDHH) from its
 * tenant part tp[0..tn) and public part pp[0..pn) (pp NULL: none) into r
 * (whatever r held before is dropped). Returns its kind; r->c holds the
 * record's members for ES_STORED_LIVE only. A VADER record's sentiment
 * is the public part's (without it a VADER record is unreadable), and
 * every record's terms are those of the public part's body (none without
 * it).
 */
es_stored_kind es_stored_parse(es_stored_record *r, const char *tp, size_t tn,
                               const char *pp, size_t pn, const char *hour);

/* What r's comment added, as a contribution of comment id (borrows r). */
void es_stored_contrib(const es_stored_record *r, const char *id,
                       es_contrib *c);

void es_stored_record_free(es_stored_record *r);

/* The records read for a batch's deletions. */
typedef struct {
    redisReply **replies; /* one es_enrich_parts reply per tenant */
    size_t nreplies;
    /* per pair of the batch, for a deletion: its record's creation hour
       YYYYMMDDHH ("" when unknown: none found), its tenant part and public
       part as read (string replies, NULL when absent), and whether the
       read failed (the deletion is then retried) */
    char (*hour)[11];
    const redisReply **tpart, **ppart;
    unsigned char *failed;
    size_t npairs; /* pairs these cover */
    size_t hcap, tcap, pcap, fcap;
} es_stored_set;

/* 1 when pairs[0..npairs) hold a deletion. */
int es_stored_needed(const es_enrich_pair *pairs, size_t npairs);

/*
 * Reads both parts of the record of every deletion pair of
 * pairs[0..npairs) (sorted by tenant, then entry) into s, on r: one
 * es_enrich_parts call per tenant with deletions, all in one round trip.
 * The record's hour is that of the creation time the deletion entry
 * carries or, for an entry without one, the hour within the tenant's
 * retention whose bucket holds the id. 0, or -1 when Redis stayed
 * unreachable while stopping or memory ran out (then every deletion is
 * marked failed).
 */
int es_stored_fetch(es_stored_set *s, es_redis *r, const es_topic_set *ts,
                    const es_enrich_entry *entries, const es_enrich_pair *pairs,
                    size_t npairs);

/* Frees what was read, keeping the memory of the arrays. */
void es_stored_clear(es_stored_set *s);
void es_stored_free(es_stored_set *s);

#endif
