/*
 * aggregate.c - per-tenant function calls of a batch (see aggregate.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "deletion.h"
#include "record.h"
#include "tombstone.h"
#include "es_keys.h"
#include "es_schema.h"
#include "es_redis_lib.h"
#include "es_log.h"

void es_aggregate_init(es_aggregate *a, es_redis *r)
{
    memset(a, 0, sizeof(*a));
    a->r = r;
    es_wplan_init(&a->plan);
    es_wplan_init(&a->rplan);
}

void es_aggregate_cleanup(es_aggregate *a)
{
    es_jsonw_free(&a->json);
    es_jsonw_free(&a->pjson);
    es_wplan_free(&a->plan);
    es_wplan_free(&a->rplan);
    es_slotlist_free(&a->slots);
    es_stored_record_free(&a->srec);
    es_titles_free(&a->titles);
    free(a->tids);
}

int es_aggregate_prepare(es_aggregate *a)
{
    /* the readers' library too: one stack with enrich answers es_records
       (lib/redis/read.lua) for operators and tools */
    if (es_redis_load_library(a->r, &es_lua_read) != 0) {
        return -1;
    }
    return es_redis_load_library(a->r, &es_lua_enrich);
}

void es_aggregate_month(long long now_s, char *buf, size_t size)
{
    time_t t = (time_t)now_s;
    struct tm tm;

    gmtime_r(&t, &tm);
    if (snprintf(buf, size, "%04d%02d", (tm.tm_year + 1900) % 10000,
                 (tm.tm_mon + 1) % 100) >= (int)size) {
        buf[0] = '\0';
    }
}

/*
 * Adds one comment's contribution to the tenant's plan, as if it were new
 * (contrib.h), from what its record holds. A repeated id adds nothing: its
 * SET NX fails in the call. The marker of the record key remembers the
 * comment's first pair, for a deletion later in the call (deletion.h).
 */
static void plan_create(es_aggregate *a, const es_topic_set *ts,
                        const es_enrich_tenant *tn, const es_enrich_entry *en,
                        const es_entry_score *sco, const es_terms *tm,
                        const es_enrich_pair *pairs, size_t s, size_t e,
                        long long now_s, es_rec_plan *rp)
{
    const char *engine;
    const es_sentiment *st = es_record_sentiment(sco, &pairs[s], &engine);
    size_t plen = strlen(tn->prefix);
    es_contrib c;
    char key[ES_AGGREGATE_MARKER_MAX];
    int fresh;

    memset(rp, 0, sizeof(*rp));
    rp->src = SIZE_MAX;
    rp->v = es_record_cs(st);
    es_wplan_key(&a->plan, 'x', key, es_aggregate_marker(key, en->id),
                 (long long)s, &fresh);
    if (!fresh) {
        rp->dup = 1;
        return;
    }
    if (e - s > a->tcap) {
        const char **p = realloc(a->tids, (e - s) * sizeof(*p));
        if (p == NULL) {
            a->plan.oom = 1;
            return;
        }
        a->tids = p;
        a->tcap = e - s;
    }
    for (size_t i = s; i < e; i++) {
        a->tids[i - s] = ts->topics[pairs[i].topic].id;
    }
    es_contrib_comment(&c, en, a->tids, e - s, st->label, rp->v, tm);
    es_contrib_plan(&a->plan, &a->slots, tn->prefix, plen, &c, 1, now_s,
                    tn->retention_s, &rp->sl);
}

/* Creation hour, comment id, tenant part, meta (es_contrib_meta). */
static void add_create(es_aggregate *a, const es_topic_set *ts,
                       const es_enrich_entry *en, const es_entry_score *sco,
                       const es_enrich_pair *pairs, size_t s, size_t e,
                       const es_rec_plan *rp)
{
    es_argbuf *b = a->cur;
    es_jsonw *w = &a->json;
    char hour[11];

    es_record_hour(en->t, hour);
    es_argbuf_str(b, hour);
    es_argbuf_str(b, en->id);
    es_record_of(w, ts, en, sco, pairs, s, e);
    if (w->oom) {
        b->oom = 1;
        return;
    }
    es_argbuf_copy(b, w->buf, w->len);
    es_contrib_meta(b, w, &a->plan, &a->slots, rp->dup ? NULL : &rp->sl, rp->v);
}

/* The plan's keys: kind, key, expiry, slot count, then the slots. */
static void add_ops(es_argbuf *b, const es_wplan *pl)
{
    for (size_t k = 0; k < pl->nkeys; k++) {
        const es_wkey *key = &pl->keys[k];
        if (key->kind == 'x') {
            continue;
        }
        es_argbuf_copy(b, &key->kind, 1);
        es_argbuf_copy(b, es_wplan_key_name(pl, k), key->len);
        es_argbuf_int(b, key->exp);
        es_argbuf_int(b, key->n);
        for (uint32_t s = key->first; s != 0; s = pl->slots[s - 1].next) {
            const es_wslot *sl = &pl->slots[s - 1];
            es_argbuf_copy(b, es_wplan_slot_name(pl, s - 1), sl->len);
            es_argbuf_int(b, sl->v);
        }
    }
}

typedef struct {
    size_t start, end; /* pairs of the call */
    size_t arg0, argc; /* its slice of the argument buffer */
} call;

static void mark_failed(const es_enrich_pair *pairs, const call *c,
                        const char *err, char (*errors)[ES_ENRICH_ERR_MAX])
{
    for (size_t i = c->start; i < c->end; i++) {
        snprintf(errors[pairs[i].entry], ES_ENRICH_ERR_MAX, "%s", err);
    }
}

/* The call's records, as planned: pairs[s, e) of the tenant, in order. */
static void add_records(es_aggregate *a, const es_topic_set *ts,
                        const es_enrich_entry *entries,
                        const es_entry_score *scores,
                        const es_enrich_pair *pairs, size_t s, size_t e,
                        const es_rec_plan *rps)
{
    size_t nr = 0;

    for (size_t i = s; i < e; nr++) {
        size_t j = i;
        uint32_t en = pairs[i].entry;
        while (j < e && pairs[j].entry == en) {
            j++;
        }
        if (pairs[i].topic == ES_PAIR_DELETE) {
            es_deletion_args(a, ts, entries, scores, pairs, i, e, &rps[nr]);
        } else {
            add_create(a, ts, &entries[en], &scores[en], pairs, i, j, &rps[nr]);
        }
        i = j;
    }
}

/*
 * One tenant's call over pairs[s, e); -1 out of memory. A deletion whose
 * record could not be read is left out with an error in its entry.
 */
static int build_tenant(es_aggregate *a, es_aggregate_job *j,
                        const es_entry_score *scores, const es_terms *terms,
                        size_t s, size_t e, long long units, long long micros,
                        const char *month, long long now_s, es_rec_plan *rps,
                        call *c)
{
    const es_topic_set *ts = j->ts;
    const es_enrich_entry *entries = j->entries;
    const es_enrich_pair *pairs = j->pairs;
    es_argbuf *b = a->cur;
    const es_enrich_tenant *tn = &ts->tenants[pairs[s].tenant];
    size_t nr = 0, rec0;
    char meta[128], live[128];

    es_wplan_reset(&a->plan);
    es_wplan_reset(&a->rplan);
    a->slots.n = 0;
    for (size_t i = s; i < e; nr++) {
        size_t k = i;
        uint32_t en = pairs[i].entry;
        while (k < e && pairs[k].entry == en) {
            k++;
        }
        if (pairs[i].topic != ES_PAIR_DELETE) {
            plan_create(a, ts, tn, &entries[en], &scores[en], &terms[en], pairs,
                        i, k, now_s, &rps[nr]);
        } else {
            es_deletion_plan(a, ts, tn, entries, scores, pairs, i, e,
                             &j->stored, now_s, &rps[nr]);
            if (rps[nr].skip) {
                snprintf(j->errors[en], ES_ENRICH_ERR_MAX,
                         "the record to delete could not be read");
            }
        }
        i = k;
    }
    if (a->plan.oom || a->rplan.oom || a->slots.oom) {
        return -1;
    }
    /* the deletions' slots follow the comments': one numbering a call */
    es_wplan_number(&a->rplan, es_wplan_number(&a->plan, 0));
    c->start = s;
    c->end = e;
    c->arg0 = es_argbuf_count(b);
    es_tenant_key_p(meta, sizeof(meta), tn->prefix, strlen(tn->prefix),
                    ES_TK_META);
    es_tenant_key_p(live, sizeof(live), tn->prefix, strlen(tn->prefix),
                    ES_TK_LIVE);
    es_argbuf_ref(b, "FCALL", 5);
    es_argbuf_ref(b, "es_enrich_write", 15);
    es_argbuf_ref(b, "2", 1);
    es_argbuf_str(b, meta);
    es_argbuf_str(b, live);
    es_argbuf_ref(b, tn->prefix, strlen(tn->prefix));
    es_argbuf_int(b, now_s);
    es_argbuf_int(b, tn->retention_s);
    es_argbuf_str(b, month);
    es_argbuf_int(b, units);
    es_argbuf_int(b, micros);
    rec0 = es_argbuf_count(b);
    es_argbuf_int(b, 0); /* ARGV index of the first record, set below */
    add_ops(b, &a->plan);
    add_ops(b, &a->rplan);
    /* ARGV[1] is argument 5 of the call (FCALL, name, 2, two keys) */
    es_argbuf_set_int(b, rec0, (long long)(es_argbuf_count(b) - c->arg0 - 4));
    add_records(a, ts, entries, scores, pairs, s, e, rps);
    c->argc = es_argbuf_count(b) - c->arg0;
    return 0;
}

/*
 * The public call of the batch into b, at j->calls' slot for it (pc): "P"
 * with the public part of every comment some tenant matched (expiring a
 * retention after its hour, or after now when later: the longest
 * retention of its tenants) and its post's title ("T", titles.h); the deleted
 * comments' tombstones come after the tenants' calls (tombstone.h).
 * Returns 1 when there is such a call, 0 when not, -1 out of memory.
 */
static int build_public(es_aggregate *a, es_aggregate_job *j,
                        const es_entry_score *scores, long long now_s, call *pc)
{
    es_argbuf *b = a->cur;
    size_t nent = es_aggregate_job_entries(j), ops = 0;
    long long *ret;

    ret = calloc(nent + 1, sizeof(*ret));
    if (ret == NULL) {
        return -1;
    }
    for (size_t i = 0; i < j->npairs; i++) {
        const es_enrich_pair *pr = &j->pairs[i];
        long long r = j->ts->tenants[pr->tenant].retention_s;
        if (pr->topic != ES_PAIR_DELETE) {
            ret[pr->entry] = r > ret[pr->entry] ? r : ret[pr->entry];
        }
    }
    pc->arg0 = es_argbuf_count(b);
    es_argbuf_ref(b, "FCALL", 5);
    es_argbuf_ref(b, "es_enrich_public", 16);
    es_argbuf_ref(b, "0", 1);
    for (size_t k = 0; k < nent; k++) {
        const es_enrich_entry *en = &j->entries[k];
        char hour[11];

        if (ret[k] > 0) {
            long long end = (en->created_ms / 3600000 + 1) * 3600;
            /* kept at least as long as the trending terms a deletion
               takes out of the topics' hours */
            long long keep = ret[k] > ES_TTL_MINUTE ? ret[k] : ES_TTL_MINUTE;
            es_record_hour(en->t, hour);
            es_argbuf_ref(b, "P", 1);
            es_argbuf_str(b, hour);
            es_argbuf_int(b, (end > now_s ? end : now_s) + keep);
            es_argbuf_str(b, en->id);
            es_record_public(&a->json, en, &scores[k].vader);
            if (a->json.oom) {
                b->oom = 1;
                break;
            }
            es_argbuf_copy(b, a->json.buf, a->json.len);
            ops++;
            if (en->link_title.n > 0 &&
                es_titles_add(&a->titles, hour, j->entries, k,
                              (end > now_s ? end : now_s) + keep) != 0) {
                b->oom = 1;
                break;
            }
        }
    }
    /* its posts' titles, each once, in the hours' tables */
    es_titles_emit(&a->titles, b, j->entries, &a->json);
    free(ret);
    pc->argc = es_argbuf_count(b) - pc->arg0;
    return ops > 0 ? 1 : 0;
}

/* Builds every tenant's call; returns how many (-1 out of memory). */
static long long build(es_aggregate *a, es_aggregate_job *j,
                       const es_entry_score *scores, const es_terms *terms,
                       const long long *charge_units,
                       const long long *charge_micros, long long now_s)
{
    es_argbuf *b = a->cur;
    call *calls = j->calls;
    es_rec_plan *rps = calloc(j->npairs + 1, sizeof(*rps));
    char month[16];
    size_t ncalls = 0;

    if (rps == NULL) {
        return -1;
    }
    es_aggregate_month(now_s, month, sizeof(month));
    es_argbuf_reset(b);
    /* the public call goes first: a tenant's record never shows without
       its public part (calls[npairs] is its slot) */
    j->pub = build_public(a, j, scores, now_s, &calls[j->npairs]);
    if (j->pub < 0) {
        free(rps);
        return -1;
    }
    if (!j->pub) {
        es_argbuf_reset(b);
    }
    for (size_t s = 0; s < j->npairs;) {
        uint32_t t = j->pairs[s].tenant;
        size_t e = s;

        while (e < j->npairs && j->pairs[e].tenant == t) {
            e++;
        }
        if (build_tenant(a, j, scores, terms, s, e, charge_units[t],
                         charge_micros[t], month, now_s, rps,
                         &calls[ncalls++]) != 0) {
            free(rps);
            return -1;
        }
        s = e;
    }
    free(rps);
    return es_argbuf_finish(b) == 0 ? (long long)ncalls : -1;
}

size_t es_aggregate_job_entries(const es_aggregate_job *j)
{
    size_t nent = 0;

    for (size_t i = 0; i < j->npairs; i++) {
        if (j->pairs[i].entry + 1 > nent) {
            nent = j->pairs[i].entry + 1;
        }
    }
    return nent;
}

void es_aggregate_job_init(es_aggregate_job *j)
{
    memset(j, 0, sizeof(*j));
    es_argbuf_init(&j->args);
}

void es_aggregate_job_free(es_aggregate_job *j)
{
    es_aggregate_job_clear(j);
    es_stored_free(&j->stored);
    es_argbuf_free(&j->args);
}

/* Frees the calls and their replies (not the records read). */
static void clear_calls(es_aggregate_job *j)
{
    for (long long i = 0; j->replies && i < j->n + j->pub; i++) {
        if (j->replies[i]) {
            freeReplyObject(j->replies[i]);
        }
    }
    free(j->calls);
    free(j->cmds);
    free(j->replies);
    j->calls = NULL;
    j->cmds = NULL;
    j->replies = NULL;
    j->n = 0;
    j->pub = 0;
    j->rc = 0;
}

void es_aggregate_job_clear(es_aggregate_job *j)
{
    clear_calls(j);
    es_stored_clear(&j->stored);
}

int es_aggregate_build(es_aggregate *a, es_aggregate_job *j,
                       const es_topic_set *ts, const es_enrich_entry *entries,
                       const es_entry_score *scores, const es_terms *terms,
                       const es_enrich_pair *pairs, size_t npairs,
                       const long long *charge_units,
                       const long long *charge_micros, long long now_s,
                       char (*errors)[ES_ENRICH_ERR_MAX])
{
    es_aggregate_job_clear(j);
    /* a read that failed leaves every deletion unread: they get errors */
    if (es_stored_needed(pairs, npairs) &&
        es_stored_fetch(&j->stored, a->r, ts, entries, pairs, npairs) != 0) {
        es_log(ES_ERROR, "the records to delete could not be read", ES_END);
    }
    return es_aggregate_build_stored(a, j, ts, entries, scores, terms, pairs,
                                     npairs, charge_units, charge_micros, now_s,
                                     errors);
}

int es_aggregate_build_stored(
    es_aggregate *a, es_aggregate_job *j, const es_topic_set *ts,
    const es_enrich_entry *entries, const es_entry_score *scores,
    const es_terms *terms, const es_enrich_pair *pairs, size_t npairs,
    const long long *charge_units, const long long *charge_micros,
    long long now_s, char (*errors)[ES_ENRICH_ERR_MAX])
{
    call *calls;
    long long n;

    clear_calls(j);
    j->ts = ts;
    j->entries = entries;
    j->pairs = pairs;
    j->npairs = npairs;
    j->errors = errors;
    if (npairs == 0) {
        return 0;
    }
    j->calls = calls = calloc(npairs + 1, sizeof(*calls));
    j->cmds = calloc(npairs + 2, sizeof(*j->cmds));
    j->replies = calloc(npairs + 2, sizeof(*j->replies));
    if (calls == NULL || j->cmds == NULL || j->replies == NULL) {
        goto oom;
    }
    a->cur = &j->args;
    n = build(a, j, scores, terms, charge_units, charge_micros, now_s);
    if (n < 0) {
        goto oom;
    }
    if (j->pub) {
        j->cmds[0].argc = (int)calls[npairs].argc;
        j->cmds[0].argv = j->args.argv + calls[npairs].arg0;
        j->cmds[0].lens = j->args.lens + calls[npairs].arg0;
    }
    for (long long i = 0; i < n; i++) {
        j->cmds[j->pub + i].argc = (int)calls[i].argc;
        j->cmds[j->pub + i].argv = j->args.argv + calls[i].arg0;
        j->cmds[j->pub + i].lens = j->args.lens + calls[i].arg0;
    }
    j->n = n;
    return 0;

oom:
    es_log(ES_ERROR, "out of memory building tenant writes", ES_END);
    for (size_t i = 0; i < npairs; i++) {
        snprintf(errors[pairs[i].entry], ES_ENRICH_ERR_MAX, "out of memory");
    }
    es_aggregate_job_clear(j);
    return -1;
}

void es_aggregate_send(es_aggregate *a, es_aggregate_job *j)
{
    long long total = j->n + j->pub;

    j->rc = 0;
    if (total == 0) {
        return;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int reload = 0;

        if (es_redis_pipeline(a->r, j->cmds, (int)total, j->replies) != 0) {
            j->rc = -1;
            return;
        }
        for (long long i = 0; i < total; i++) {
            redisReply *rep = j->replies[i];
            if (rep->type == REDIS_REPLY_ERROR &&
                strstr(rep->str, "Function not found") && attempt == 0) {
                reload = 1;
            }
        }
        if (!reload) {
            return;
        }
        /* Redis lost the library (a restart without persistence): every
           call of this pipeline failed before writing, so resend it all */
        for (long long i = 0; i < total; i++) {
            freeReplyObject(j->replies[i]);
            j->replies[i] = NULL;
        }
        es_log(ES_INFO, "reloading redis functions", ES_END);
        if (es_aggregate_prepare(a) != 0) {
            j->rc = -1;
            return;
        }
    }
}

int es_aggregate_finish(es_aggregate *a, es_aggregate_job *j)
{
    const call *calls = j->calls;
    int rc = j->rc;

    if (rc == 0 && j->pub && j->replies[0]->type != REDIS_REPLY_INTEGER) {
        /* the public parts were not written: the whole batch is retried
           (the tenants' records it did write are replays then) */
        const char *err = j->replies[0]->type == REDIS_REPLY_ERROR
                              ? j->replies[0]->str
                              : "unexpected reply";
        call all = {0, j->npairs, 0, 0};
        es_log(ES_ERROR, "public parts not written", ES_STR("error", err),
               ES_END);
        mark_failed(j->pairs, &all, err, j->errors);
    }
    for (long long i = 0; rc == 0 && i < j->n; i++) {
        redisReply *rep = j->replies[j->pub + i];
        const char *err =
            rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply";
        a->stats.calls++;
        /* a fourth element lists the deletions it did not apply */
        if (rep->type == REDIS_REPLY_ARRAY &&
            (rep->elements == 3 || rep->elements == 4)) {
            a->stats.created += rep->element[0]->integer;
            a->stats.replayed += rep->element[1]->integer;
            a->stats.deleted += rep->element[2]->integer;
            if (rep->elements == 4) {
                es_deletion_stale(j->entries, j->pairs, calls[i].start,
                                  calls[i].end, rep->element[3], j->errors);
            }
            continue;
        }
        a->stats.failed++;
        es_log(ES_ERROR, "tenant write failed",
               ES_STR("tenant",
                      j->ts->tenants[j->pairs[calls[i].start].tenant].id),
               ES_STR("error", err), ES_END);
        mark_failed(j->pairs, &calls[i], err, j->errors);
    }
    if (rc == 0) {
        /* an entry that failed keeps its pending state either way */
        es_tombstone_public(a->r, j);
    }
    es_aggregate_job_clear(j);
    return rc;
}

int es_aggregate_write(es_aggregate *a, const es_topic_set *ts,
                       const es_enrich_entry *entries,
                       const es_entry_score *scores, const es_terms *terms,
                       const es_enrich_pair *pairs, size_t npairs,
                       const long long *charge_units,
                       const long long *charge_micros, long long now_s,
                       char (*errors)[ES_ENRICH_ERR_MAX])
{
    es_aggregate_job j;
    int rc = 0;

    es_aggregate_job_init(&j);
    if (es_aggregate_build(a, &j, ts, entries, scores, terms, pairs, npairs,
                           charge_units, charge_micros, now_s, errors) == 0) {
        es_aggregate_send(a, &j);
        rc = es_aggregate_finish(a, &j);
    }
    es_aggregate_job_free(&j);
    return rc;
}
