/*
 * aggregate.h - writes a scored batch into every matching tenant's data.
 *
 * One FCALL es_enrich_write per tenant with work in the batch (so each
 * call's keys share the tenant's hash tag), all of them sent in one
 * pipeline, after one FCALL es_enrich_public with the public parts of the
 * batch's matched comments (stored once, whatever the number of tenants
 * storing them) and the tombstones of its deleted ones. The increments of the
 * tenant's comments are summed here (wplan.h, contrib.h), assuming every
 * comment is new; the function creates the records and subtracts what the
 * comments that were not new added, in the same atomic call. A deletion is
 * computed here too, from the record it reverses (read first: stored.h,
 * deletion.h), and sent as the record text it was computed from with its summed
 * decrements; the function applies them only while the record is still that
 * text. All arithmetic on comments is done here, in C; the function only
 * applies numbers. What it does, and why a replay changes nothing, is in
 * lib/redis/enrich.lua (protocol ES_ENRICH_PROTOCOL of es_schema.h, which the
 * function gets as ES.ENRICH_PROTOCOL); the layout is in docs/redis-keys.md.
 */
#ifndef ES_ENRICH_AGGREGATE_H
#define ES_ENRICH_AGGREGATE_H

#include <stddef.h>
#include <string.h>

#include "argbuf.h"
#include "contrib.h"
#include "entry.h"
#include "es_redis.h"
#include "jsonw.h"
#include "score.h"
#include "stored.h"
#include "titles.h"
#include "es_terms.h"
#include "topics.h"
#include "wplan.h"

#define ES_ENRICH_ERR_MAX 200

/* Room for a record marker "x:<id>" and its NUL. */
#define ES_AGGREGATE_MARKER_MAX 24

/*
 * The marker of comment id's record in a tenant's plan (kind 'x', never
 * sent): a deletion later in the call finds the comment creating it
 * (deletion.h). Written into buf; returns its length.
 */
static inline size_t es_aggregate_marker(char *buf, const char *id)
{
    size_t n = strlen(id);

    if (n + 3 > ES_AGGREGATE_MARKER_MAX) {
        n = ES_AGGREGATE_MARKER_MAX - 3;
    }
    buf[0] = 'x';
    buf[1] = ':';
    memcpy(buf + 2, id, n);
    buf[n + 2] = '\0';
    return n + 2;
}

typedef struct {
    long long created;  /* new per-tenant comment records */
    long long replayed; /* records that existed: replays, no change */
    long long deleted;  /* records reversed by deletions */
    long long calls;    /* function calls made */
    long long failed;   /* function calls that returned an error */
} es_aggregate_stats;

typedef struct {
    es_redis *r;       /* the writes' connection (may be the writer thread's) */
    es_argbuf *cur;    /* the arguments being built (a job's) */
    es_jsonw json;     /* scratch for one record's tenant part */
    es_jsonw pjson;    /* and for its public part */
    es_wplan plan;     /* one tenant's summed increments of its comments */
    es_wplan rplan;    /* and of its deletions (sent after plan) */
    es_slotlist slots; /* slots each record of a tenant added to */
    const char **tids; /* scratch: one comment's topic ids */
    size_t tcap;
    es_stored_record srec; /* scratch: a record a deletion reverses */
    es_titles titles;      /* scratch: the public call's post titles */
    es_aggregate_stats stats;
} es_aggregate;

/* How one record (a comment or a deletion) of a tenant's call is sent. */
typedef struct {
    es_contrib_slots sl; /* its slots in es_aggregate.slots */
    long long v;         /* what it added to its sum slots: cs or -cs */
    int dup;             /* a comment whose id came earlier for the tenant */
    int rev;             /* a deletion reversing a record (slots in rplan) */
    int skip;            /* a deletion whose record could not be read */
    const redisReply *stored; /* a deletion: the part read (NULL: none) */
    char hour[11];            /* a deletion: its record bucket ("": unknown) */
    size_t src; /* or the first pair of the comment earlier in the call
                   whose record it expects (SIZE_MAX: none) */
} es_rec_plan;

void es_aggregate_init(es_aggregate *a, es_redis *r);
void es_aggregate_cleanup(es_aggregate *a);

/* Loads the function library (FUNCTION LOAD REPLACE). 0 or -1. */
int es_aggregate_prepare(es_aggregate *a);

/*
 * One batch's calls, from building to replies. Building (on the thread that
 * owns the batch) and sending (es_aggregate_send, which only touches the
 * job and a->r, so it can run on another thread) are separate, so the next
 * batch can be prepared while Redis works on this one. Everything the job
 * borrows (pairs, errors, the topic set, the entries' reply) must stay
 * valid until es_aggregate_finish.
 */
typedef struct {
    es_argbuf args; /* the calls' arguments */
    void *calls;    /* per call: its pairs and argument slice */
    es_redis_cmdv *cmds;
    redisReply **replies;
    long long n; /* tenant calls (cmds and replies: after the public one) */
    int pub;     /* 1 when cmds[0] is the es_enrich_public call */
    int rc;      /* of es_aggregate_send: 0, or -1 Redis unreachable */
    const es_topic_set *ts;
    const es_enrich_entry *entries;
    const es_enrich_pair *pairs;
    size_t npairs;
    char (*errors)[ES_ENRICH_ERR_MAX];
    es_stored_set stored; /* the records the deletions reverse */
} es_aggregate_job;

void es_aggregate_job_init(es_aggregate_job *j);

/* One past the highest entry index of j's pairs (0 without pairs). */
size_t es_aggregate_job_entries(const es_aggregate_job *j);
void es_aggregate_job_free(es_aggregate_job *j);

/* Frees the job's calls and replies, keeping its argument memory. */
void es_aggregate_job_clear(es_aggregate_job *j);

/*
 * Builds the batch's calls into j (arguments as for es_aggregate_write).
 * When the batch holds deletions, the records they reverse are read first
 * (es_stored_fetch, on a->r): it must then run only after the previous
 * batch's calls were answered, since a deletion reverses what they stored,
 * and while no send uses a->r. A deletion whose record could not be read
 * gets an error (it is retried) and is left out. 0, or -1 out of memory
 * (every pair's entry then has an error; j is empty).
 */
int es_aggregate_build(es_aggregate *a, es_aggregate_job *j,
                       const es_topic_set *ts, const es_enrich_entry *entries,
                       const es_entry_score *scores, const es_terms *terms,
                       const es_enrich_pair *pairs, size_t npairs,
                       const long long *charge_units,
                       const long long *charge_micros, long long now_s,
                       char (*errors)[ES_ENRICH_ERR_MAX]);

/*
 * The same with the deletions' records already in j->stored (read for
 * these pairs): no I/O. Exposed for the tests.
 */
int es_aggregate_build_stored(
    es_aggregate *a, es_aggregate_job *j, const es_topic_set *ts,
    const es_enrich_entry *entries, const es_entry_score *scores,
    const es_terms *terms, const es_enrich_pair *pairs, size_t npairs,
    const long long *charge_units, const long long *charge_micros,
    long long now_s, char (*errors)[ES_ENRICH_ERR_MAX]);

/* Sends j's calls in one pipeline and keeps the replies (blocking). */
void es_aggregate_send(es_aggregate *a, es_aggregate_job *j);

/*
 * Counts the replies into a->stats, writes failed calls' errors into
 * their entries, and an error into each deletion the function did not
 * apply because its record changed after it was read (so it is retried),
 * clears j. 0, or -1 when the send could not reach Redis (nothing may be
 * acknowledged).
 */
int es_aggregate_finish(es_aggregate *a, es_aggregate_job *j);

/*
 * Writes the batch: build, send and finish in one. pairs must be sorted by
 * tenant, then entry. terms[i] are entry i's terms; charge_units/charge_micros
 * are per tenant. An entry whose tenant call failed gets the error text in
 * errors[entry] (entries without one stay untouched). Returns 0, or -1 when the
 * worker is stopping and Redis stayed unreachable (nothing may be
 * acknowledged).
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
