/*
 * contrib.h - what one comment adds to a tenant's aggregates, as increments
 * of a write plan (wplan.h): the one place the worker derives keys, fields,
 * amounts and expiry times from a comment.
 *
 * A new comment's contribution is added (sign +1) and a deleted one's,
 * computed from the members of its stored record (stored.h), is taken
 * out (sign -1) by the same code: a deletion subtracts exactly what the
 * creation added because both come from here, and the Redis function only
 * applies the numbers it is sent (lib/redis/enrich.lua). The members a
 * contribution depends on are those of the record (es_record.h): topics,
 * label, cs, created, t, month and terms.
 *
 * Per topic: the minute, hour and day series fields n, the label's field
 * and cs; the day's share of voice; one increment per trending term in the
 * hour's terms set; the comment's entry in the recent index of the topic's
 * creation hour (its label in the entry). A bucket
 * whose fixed expiry time has passed is left out, so a backfilled comment
 * older than 48 hours adds nothing to minute series, and a deletion never
 * touches what already expired. A new comment enters the recent sets only
 * while it is within the tenant's retention; a deletion takes its entry
 * out whatever its age (an hour's index expires a retention after the
 * hour).
 */
#ifndef ES_ENRICH_CONTRIB_H
#define ES_ENRICH_CONTRIB_H

#include <stddef.h>
#include <stdint.h>

#include "argbuf.h"
#include "entry.h"
#include "es_sentiment.h"
#include "jsonw.h"
#include "es_terms.h"
#include "wplan.h"

/* One comment, as the members of its record describe it. */
typedef struct {
    const char *id;            /* comment id (in its recent entries) */
    const char *const *topics; /* ids of the topics it matched */
    size_t ntopics;
    es_label label;
    long long cs;          /* compound in 1e-4 units */
    long long created_ms;  /* epoch milliseconds */
    const char *t;         /* creation minute YYYYMMDDHHMM, UTC */
    long long month_start; /* epoch seconds of the month's first day */
    const char *const *terms;
    const size_t *term_len;
    size_t nterms;
} es_contrib;

/*
 * A new comment's contribution: comment en matched by topics[0..n), scored
 * label and cs, with terms tm (what its record will hold; borrows all).
 */
void es_contrib_comment(es_contrib *c, const es_enrich_entry *en,
                        const char *const *topics, size_t n, es_label label,
                        long long cs, const es_terms *tm);

/* Slot indexes (into a plan's slots) that records contributed to. */
typedef struct {
    uint32_t *v;
    size_t n, cap;
    int oom;
} es_slotlist;

/*
 * The slots one record contributed to, in an es_slotlist: first those it
 * added sign to (counts, terms, recent entries), then those it added
 * sign * cs to.
 */
typedef struct {
    size_t first, ncount, ncs;
} es_contrib_slots;

/*
 * Adds c's contribution to plan p with sign +1 (keys of kind 'h' HINCRBY,
 * 'z' ZINCRBY, 'a' APPEND recent entries), or takes it out with sign -1
 * (kinds 'H', 'Z' and 'A' removing entries: the function applies them only
 * to keys that exist, after every increment). Keys are the tenant's
 * (prefix[0..plen), es_keys.h); buckets expiring at or before now_s are left
 * out; retention_s decides whether a new comment is recent. The slots are
 * appended to sl, described by *out. Out of memory sets p->oom or sl->oom.
 */
void es_contrib_plan(es_wplan *p, es_slotlist *sl, const char *prefix,
                     size_t plen, const es_contrib *c, int sign,
                     long long now_s, long long retention_s,
                     es_contrib_slots *out);

/*
 * Appends a record's meta to b as one argument (built in scratch w):
 * "v|p p …|p p …", v what it added to its sum slots (cs, or -cs for a
 * deletion), then the positions (es_wplan_number) in plan p of the slots
 * it added 1 (a deletion: -1) to, then of those it added v to. With cs
 * NULL (a repeated id, nothing to take out) it is "v||".
 */
void es_contrib_meta(es_argbuf *b, es_jsonw *w, const es_wplan *p,
                     const es_slotlist *sl, const es_contrib_slots *cs,
                     long long v);

void es_slotlist_free(es_slotlist *sl);

#endif
