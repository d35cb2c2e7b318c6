/*
 * deletion.c - a deletion in a tenant's call (see deletion.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "deletion.h"
#include "es_keys.h"
#include "es_log.h"
#include "record.h"

/*
 * The first pair of the comment earlier in the call that creates the
 * record of id, or SIZE_MAX: its creation left a marker of the record key
 * in a->plan holding that pair (aggregate.c).
 */
static size_t created_before(const es_aggregate *a, const char *id)
{
    char key[ES_AGGREGATE_MARKER_MAX];
    long k = es_wplan_find(&a->plan, key, es_aggregate_marker(key, id));

    if (k < 0 || a->plan.keys[k].kind != 'x') {
        return SIZE_MAX;
    }
    return (size_t)a->plan.keys[k].exp;
}

/* The tenant part comment pairs[s] creates, into a->json. */
static void created_record(es_aggregate *a, const es_topic_set *ts,
                           const es_enrich_entry *entries,
                           const es_entry_score *scores,
                           const es_enrich_pair *pairs, size_t s, size_t e)
{
    uint32_t en = pairs[s].entry;
    size_t k = s;

    while (k < e && pairs[k].entry == en) {
        k++;
    }
    es_record_of(&a->json, ts, &entries[en], &scores[en], pairs, s, k);
}

void es_deletion_plan(es_aggregate *a, const es_topic_set *ts,
                      const es_enrich_tenant *tn,
                      const es_enrich_entry *entries,
                      const es_entry_score *scores, const es_enrich_pair *pairs,
                      size_t i, size_t e, const es_stored_set *st,
                      long long now_s, es_rec_plan *rp)
{
    const char *id = entries[pairs[i].entry].id, *text, *pub = NULL;
    size_t n, pn = 0;
    es_contrib c;

    memset(rp, 0, sizeof(*rp));
    rp->src = SIZE_MAX;
    if (st == NULL || i >= st->npairs || st->failed[i]) {
        rp->skip = 1;
        return;
    }
    memcpy(rp->hour, st->hour[i], sizeof(rp->hour));
    if (st->tpart[i] != NULL) {
        rp->stored = st->tpart[i];
        text = rp->stored->str;
        n = rp->stored->len;
        if (st->ppart[i] != NULL) {
            pub = st->ppart[i]->str;
            pn = st->ppart[i]->len;
        }
    } else {
        /* the pairs before i are the call's: only their creations count */
        uint32_t src;

        rp->src = created_before(a, id);
        if (rp->src == SIZE_MAX) {
            return; /* nothing stored: the deletion leaves the tombstone */
        }
        src = pairs[rp->src].entry;
        es_record_hour(entries[src].t, rp->hour);
        created_record(a, ts, entries, scores, pairs, rp->src, e);
        es_record_public(&a->pjson, &entries[src], &scores[src].vader);
        if (a->json.oom || a->pjson.oom) {
            a->rplan.oom = 1;
            return;
        }
        text = a->json.buf;
        n = a->json.len;
        pub = a->pjson.buf;
        pn = a->pjson.len;
    }
    if (es_stored_parse(&a->srec, text, n, pub, pn, rp->hour) !=
        ES_STORED_LIVE) {
        return; /* a tombstone, or not a record: nothing to reverse */
    }
    es_stored_contrib(&a->srec, id, &c);
    rp->rev = 1;
    rp->v = -c.cs;
    es_contrib_plan(&a->rplan, &a->slots, tn->prefix, strlen(tn->prefix), &c,
                    -1, now_s, tn->retention_s, &rp->sl);
}

void es_deletion_args(es_aggregate *a, const es_topic_set *ts,
                      const es_enrich_entry *entries,
                      const es_entry_score *scores, const es_enrich_pair *pairs,
                      size_t i, size_t e, const es_rec_plan *rp)
{
    es_argbuf *b = a->cur;
    const char *id = entries[pairs[i].entry].id;

    if (rp->skip) {
        return; /* unreadable: retried */
    }
    es_argbuf_ref(b, "D", 1);
    es_argbuf_str(b, rp->hour);
    es_argbuf_str(b, id);
    if (rp->stored != NULL) {
        /* borrowed: the read's reply lives as long as the job */
        es_argbuf_ref(b, rp->stored->str, rp->stored->len);
    } else if (rp->src != SIZE_MAX) {
        created_record(a, ts, entries, scores, pairs, rp->src, e);
        if (a->json.oom) {
            b->oom = 1;
            return;
        }
        es_argbuf_copy(b, a->json.buf, a->json.len);
    } else {
        es_argbuf_ref(b, "", 0);
    }
    if (rp->rev) {
        es_contrib_meta(b, &a->json, &a->rplan, &a->slots, &rp->sl, rp->v);
    } else {
        es_argbuf_ref(b, "", 0);
    }
}

void es_deletion_stale(const es_enrich_entry *entries,
                       const es_enrich_pair *pairs, size_t s, size_t e,
                       const redisReply *ids, char (*errors)[ES_ENRICH_ERR_MAX])
{
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        return;
    }
    for (size_t k = 0; k < ids->elements; k++) {
        const redisReply *id = ids->element[k];

        if (id->type != REDIS_REPLY_STRING) {
            continue;
        }
        for (size_t i = s; i < e; i++) {
            const es_enrich_entry *en = &entries[pairs[i].entry];
            if (pairs[i].topic != ES_PAIR_DELETE ||
                strcmp(en->id, id->str) != 0) {
                continue;
            }
            snprintf(errors[pairs[i].entry], ES_ENRICH_ERR_MAX,
                     "the record of %s changed after it was read; its "
                     "deletion was not applied",
                     en->id);
        }
    }
}
