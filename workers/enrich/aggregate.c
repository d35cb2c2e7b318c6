/*
 * aggregate.c - per-tenant function calls of a batch (see aggregate.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "fmt.h"
#include "record.h"
#include "es_keys.h"
#include "es_redis_lib.h"
#include "es_schema.h"
#include "es_log.h"

void es_aggregate_init(es_aggregate *a, es_redis *r)
{
    memset(a, 0, sizeof(*a));
    a->r = r;
    es_wplan_init(&a->plan);
}

void es_aggregate_cleanup(es_aggregate *a)
{
    es_jsonw_free(&a->json);
    es_wplan_free(&a->plan);
    free(a->rslots);
}

int es_aggregate_prepare(es_aggregate *a)
{
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

/* Sentiment of one (comment, tenant): the tenant's engine when it has one. */
static const es_sentiment *pick(const es_entry_score *sco,
                                const es_enrich_pair *pr, const char **engine)
{
    int cmp = pr->comprehend && sco->has_comprehend;

    *engine = cmp ? "comprehend" : "vader";
    return cmp ? &sco->comprehend : &sco->vader;
}

static const char *label_field(int label)
{
    const char *n = es_label_name(label);

    if (strcmp(n, "positive") == 0) {
        return "pos";
    }
    if (strcmp(n, "negative") == 0) {
        return "neg";
    }
    if (strcmp(n, "mixed") == 0) {
        return "mix";
    }
    return "neu";
}

/* Remembers slot s (or -1: out of memory) in the record's list. */
static void note(es_aggregate *a, long s)
{
    if (s < 0) {
        return;
    }
    if (a->nrslots == a->rscap) {
        size_t nc = a->rscap ? a->rscap * 2 : 4096;
        uint32_t *p = realloc(a->rslots, nc * sizeof(*p));
        if (p == NULL) {
            a->plan.oom = 1;
            return;
        }
        a->rslots = p;
        a->rscap = nc;
    }
    a->rslots[a->nrslots++] = (uint32_t)s;
}

static long long floor_div(long long a, long long b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Slots of one record: counts first, then compound sums (see rec_plan). */
typedef struct {
    size_t first, ncount, ncs; /* in a->rslots */
    int dup;                   /* the same id came earlier for the tenant */
} rec_plan;

/*
 * A key of the tenant (es_keys.h) into key[512]: its length. The ids in it
 * are validated and at most 64 bytes each, so it always fits; were it not
 * to, the length is 0 and the plan sees an empty key, never a cut one.
 */
static size_t tenant_key(char *key, const es_enrich_tenant *tn, size_t plen,
                         es_tkey k, const char *a1, const char *a2)
{
    int n = es_tenant_key_p(key, 512, tn->prefix, plen, k, a1, a2);

    return n < 0 ? 0 : (size_t)n;
}

/*
 * Adds one comment's contribution to the tenant's plan, as if it were new:
 * exactly what es_enrich_write's apply() derives from the record for a
 * deletion (same keys, fields, expiry times and conditions). Keys come
 * from the one table of tenant keys (es_keys.h) after the tenant's prefix
 * built once; field names are put together with memcpy: a comment makes
 * about twenty of them per topic.
 */
static void plan_create(es_aggregate *a, const es_topic_set *ts,
                        const es_enrich_tenant *tn, const es_enrich_entry *en,
                        const es_entry_score *sco, const es_terms *tm,
                        const es_enrich_pair *pairs, size_t s, size_t e,
                        long long now_s, rec_plan *rp)
{
    es_wplan *pl = &a->plan;
    const char *engine;
    const es_sentiment *st = pick(sco, &pairs[s], &engine);
    const char *lf = label_field(st->label);
    const char *label = es_label_name(st->label);
    long long cs = llround(st->compound * 10000.0);
    long long sec = floor_div(en->created_ms, 1000);
    long long hour0 = sec - (sec - floor_div(sec, 3600) * 3600);
    long long day0 = sec - (sec - floor_div(sec, 86400) * 86400);
    /* the same lifetimes lib/redis/enrich.lua gives them (es_schema.h) */
    long long exps[3] = {hour0 + 3600 + ES_TTL_MINUTE,
                         day0 + 86400 + ES_TTL_HOUR,
                         en->month_start + 31 * 86400 + ES_TTL_DAY};
    long long sexp = day0 + 86400 + ES_TTL_DAY;
    static const es_tkey res[3] = {ES_TK_SERIES_MINUTE, ES_TK_SERIES_HOUR,
                                   ES_TK_SERIES_DAY};
    static const size_t klen[3] = {10, 8, 6}; /* bucket key: YYYYMMDD[HH] */
    int recent = sec >= now_s - tn->retention_s;
    const char *t = en->t;
    char key[512], fld[64];
    size_t idlen = strlen(en->id), plen = strlen(tn->prefix);
    size_t lflen = strlen(lf), n;
    int fresh;
    long k;

    rp->first = a->nrslots;
    rp->ncount = rp->ncs = 0;
    rp->dup = 0;
    n = tenant_key(key, tn, plen, ES_TK_RECORD, en->id, NULL);
    es_wplan_key(pl, 'x', key, n, 0, &fresh);
    if (!fresh) {
        rp->dup = 1; /* its SET NX fails in the call: nothing to add */
        return;
    }
    /* pass 1: counts; pass 2: compound sums (the record's list order) */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = s; i < e; i++) {
            const char *tid = ts->topics[pairs[i].topic].id;
            size_t tlen = strlen(tid);

            for (int r = 0; r < 3; r++) {
                const char *mm = t + klen[r];
                char part[12];
                if (exps[r] <= now_s) {
                    continue;
                }
                memcpy(part, t, klen[r]);
                part[klen[r]] = '\0';
                n = tenant_key(key, tn, plen, res[r], tid, part);
                k = es_wplan_key(pl, 'h', key, n, exps[r], &fresh);
                if (k < 0) {
                    return;
                }
                fld[0] = mm[0];
                fld[1] = mm[1];
                fld[2] = ':';
                if (pass == 1) {
                    memcpy(fld + 3, "cs", 2);
                    note(a, es_wplan_add(pl, k, fld, 5, cs));
                    continue;
                }
                fld[3] = 'n';
                note(a, es_wplan_add(pl, k, fld, 4, 1));
                memcpy(fld + 3, lf, lflen);
                note(a, es_wplan_add(pl, k, fld, 3 + lflen, 1));
            }
            if (pass == 1) {
                continue;
            }
            if (sexp > now_s) {
                char day[9];
                memcpy(day, t, 8);
                day[8] = '\0';
                n = tenant_key(key, tn, plen, ES_TK_SOV, day, NULL);
                k = es_wplan_key(pl, 'h', key, n, sexp, &fresh);
                if (k >= 0) {
                    note(a, es_wplan_add(pl, k, tid, tlen, 1));
                }
            }
            if (exps[0] > now_s && tm->n > 0) {
                char hour[11];
                memcpy(hour, t, 10);
                hour[10] = '\0';
                n = tenant_key(key, tn, plen, ES_TK_TERMS, tid, hour);
                k = es_wplan_key(pl, 'z', key, n, exps[0], &fresh);
                for (size_t w = 0; k >= 0 && w < tm->n; w++) {
                    note(a, es_wplan_add(pl, k, tm->term[w], tm->len[w], 1));
                }
            }
            if (!recent) {
                continue;
            }
            n = tenant_key(key, tn, plen, ES_TK_RECENT, tid, NULL);
            k = es_wplan_key(pl, 'r', key, n, 0, &fresh);
            if (k >= 0) {
                note(a, es_wplan_add(pl, k, en->id, idlen, en->created_ms));
            }
            n = tenant_key(key, tn, plen, ES_TK_RECENT_LABEL, tid, label);
            k = es_wplan_key(pl, 'r', key, n, 0, &fresh);
            if (k >= 0) {
                note(a, es_wplan_add(pl, k, en->id, idlen, en->created_ms));
            }
        }
        if (pass == 0) {
            rp->ncount = a->nrslots - rp->first;
        }
    }
    rp->ncs = a->nrslots - rp->first - rp->ncount;
}

/*
 * Appends the record's meta "cs|p p p|p p" (compound in 1e-4 units, then
 * the slot positions it added 1 to, then those it added cs to; "cs||" for
 * a repeated id) as one argument.
 */
static void record_meta(es_argbuf *b, es_jsonw *w, const es_aggregate *a,
                        const rec_plan *rp, long long cs)
{
    char num[ES_FMT_LL_MAX + 2];
    size_t n = es_fmt_ll(num, cs), total = rp->dup ? 0 : rp->ncount + rp->ncs;

    num[n++] = '|';
    w->len = 0;
    w->oom = 0;
    es_jsonw_raw(w, num, n);
    for (size_t i = 0; i < total; i++) {
        uint32_t pos = a->plan.slots[a->rslots[rp->first + i]].pos;

        n = 0;
        if (i == rp->ncount) {
            num[n++] = '|';
        } else if (i > 0) {
            num[n++] = ' ';
        }
        n += es_fmt_ll(num + n, (long long)pos);
        es_jsonw_raw(w, num, n);
    }
    if (rp->dup || rp->ncs == 0) {
        es_jsonw_raw(w, "|", 1);
    }
    if (w->oom) {
        b->oom = 1;
        return;
    }
    es_argbuf_copy(b, w->buf, w->len);
}

/* Record key, record JSON, meta (see record_meta). */
static void add_create(es_aggregate *a, const es_topic_set *ts,
                       const es_enrich_tenant *tn, const es_enrich_entry *en,
                       const es_entry_score *sco, const es_terms *tm,
                       const es_enrich_pair *pairs, size_t s, size_t e,
                       const rec_plan *rp)
{
    es_argbuf *b = a->cur;
    es_jsonw *w = &a->json;
    const char *engine;
    const es_sentiment *st = pick(sco, &pairs[s], &engine);
    long long cs = llround(st->compound * 10000.0);
    char key[160];

    es_tenant_key_p(key, sizeof(key), tn->prefix, strlen(tn->prefix),
                    ES_TK_RECORD, en->id);
    es_argbuf_str(b, key);
    es_record_json(w, ts, en, st, engine, cs, tm, pairs, s, e);
    if (w->oom) {
        b->oom = 1;
        return;
    }
    es_argbuf_copy(b, w->buf, w->len);
    record_meta(b, w, a, rp, cs);
}

/* The plan's keys: kind, key, expiry, slot count, then the slots. */
static void add_ops(es_aggregate *a)
{
    const es_wplan *pl = &a->plan;
    es_argbuf *b = a->cur;

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
            if (key->kind == 'r') {
                es_argbuf_int(b, sl->v);
                es_argbuf_copy(b, es_wplan_slot_name(pl, s - 1), sl->len);
            } else {
                es_argbuf_copy(b, es_wplan_slot_name(pl, s - 1), sl->len);
                es_argbuf_int(b, sl->v);
            }
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

/* One tenant's call over pairs[s, e); -1 out of memory. */
static int build_tenant(es_aggregate *a, const es_topic_set *ts,
                        const es_enrich_entry *entries,
                        const es_entry_score *scores, const es_terms *terms,
                        const es_enrich_pair *pairs, size_t s, size_t e,
                        long long units, long long micros, const char *month,
                        long long now_s, rec_plan *rps, call *c)
{
    es_argbuf *b = a->cur;
    const es_enrich_tenant *tn = &ts->tenants[pairs[s].tenant];
    size_t nr = 0, rec0;
    char meta[128], live[128];

    es_wplan_reset(&a->plan);
    a->nrslots = 0;
    for (size_t i = s; i < e;) {
        size_t j = i;
        while (j < e && pairs[j].entry == pairs[i].entry) {
            j++;
        }
        if (pairs[i].topic != ES_PAIR_DELETE) {
            uint32_t en = pairs[i].entry;
            plan_create(a, ts, tn, &entries[en], &scores[en], &terms[en], pairs,
                        i, j, now_s, &rps[nr]);
        }
        nr++;
        i = j;
    }
    if (a->plan.oom) {
        return -1;
    }
    es_wplan_number(&a->plan);
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
    add_ops(a);
    /* ARGV[1] is argument 5 of the call (FCALL, name, 2, two keys) */
    es_argbuf_set_int(b, rec0, (long long)(es_argbuf_count(b) - c->arg0 - 4));
    nr = 0;
    for (size_t i = s; i < e;) {
        size_t j = i;
        const es_enrich_entry *en = &entries[pairs[i].entry];
        while (j < e && pairs[j].entry == pairs[i].entry) {
            j++;
        }
        if (pairs[i].topic == ES_PAIR_DELETE) {
            es_argbuf_ref(b, "d", 1);
            es_argbuf_ref(b, en->id, strlen(en->id));
        } else {
            add_create(a, ts, tn, en, &scores[pairs[i].entry],
                       &terms[pairs[i].entry], pairs, i, j, &rps[nr]);
        }
        nr++;
        i = j;
    }
    c->argc = es_argbuf_count(b) - c->arg0;
    return 0;
}

/* Builds every tenant's call; returns how many (-1 out of memory). */
static long long
build(es_aggregate *a, const es_topic_set *ts, const es_enrich_entry *entries,
      const es_entry_score *scores, const es_terms *terms,
      const es_enrich_pair *pairs, size_t npairs, const long long *charge_units,
      const long long *charge_micros, long long now_s, call *calls)
{
    es_argbuf *b = a->cur;
    rec_plan *rps = calloc(npairs + 1, sizeof(*rps));
    char month[16];
    size_t ncalls = 0;

    if (rps == NULL) {
        return -1;
    }
    es_aggregate_month(now_s, month, sizeof(month));
    es_argbuf_reset(b);
    for (size_t s = 0; s < npairs;) {
        uint32_t t = pairs[s].tenant;
        size_t e = s;

        while (e < npairs && pairs[e].tenant == t) {
            e++;
        }
        if (build_tenant(a, ts, entries, scores, terms, pairs, s, e,
                         charge_units[t], charge_micros[t], month, now_s, rps,
                         &calls[ncalls++]) != 0) {
            free(rps);
            return -1;
        }
        s = e;
    }
    free(rps);
    return es_argbuf_finish(b) == 0 ? (long long)ncalls : -1;
}

void es_aggregate_job_init(es_aggregate_job *j)
{
    memset(j, 0, sizeof(*j));
    es_argbuf_init(&j->args);
}

void es_aggregate_job_free(es_aggregate_job *j)
{
    es_aggregate_job_clear(j);
    es_argbuf_free(&j->args);
}

void es_aggregate_job_clear(es_aggregate_job *j)
{
    for (long long i = 0; j->replies && i < j->n; i++) {
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
    j->rc = 0;
}

int es_aggregate_build(es_aggregate *a, es_aggregate_job *j,
                       const es_topic_set *ts, const es_enrich_entry *entries,
                       const es_entry_score *scores, const es_terms *terms,
                       const es_enrich_pair *pairs, size_t npairs,
                       const long long *charge_units,
                       const long long *charge_micros, long long now_s,
                       char (*errors)[ES_ENRICH_ERR_MAX])
{
    call *calls;
    long long n;

    es_aggregate_job_clear(j);
    j->ts = ts;
    j->pairs = pairs;
    j->npairs = npairs;
    j->errors = errors;
    if (npairs == 0) {
        return 0;
    }
    j->calls = calls = calloc(npairs + 1, sizeof(*calls));
    j->cmds = calloc(npairs + 1, sizeof(*j->cmds));
    j->replies = calloc(npairs + 1, sizeof(*j->replies));
    if (calls == NULL || j->cmds == NULL || j->replies == NULL) {
        goto oom;
    }
    a->cur = &j->args;
    n = build(a, ts, entries, scores, terms, pairs, npairs, charge_units,
              charge_micros, now_s, calls);
    if (n < 0) {
        goto oom;
    }
    for (long long i = 0; i < n; i++) {
        j->cmds[i].argc = (int)calls[i].argc;
        j->cmds[i].argv = j->args.argv + calls[i].arg0;
        j->cmds[i].lens = j->args.lens + calls[i].arg0;
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
    j->rc = 0;
    if (j->n == 0) {
        return;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int reload = 0;

        if (es_redis_pipeline(a->r, j->cmds, (int)j->n, j->replies) != 0) {
            j->rc = -1;
            return;
        }
        for (long long i = 0; i < j->n; i++) {
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
        for (long long i = 0; i < j->n; i++) {
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

    for (long long i = 0; rc == 0 && i < j->n; i++) {
        redisReply *rep = j->replies[i];
        const char *err =
            rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply";
        a->stats.calls++;
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3) {
            a->stats.created += rep->element[0]->integer;
            a->stats.replayed += rep->element[1]->integer;
            a->stats.deleted += rep->element[2]->integer;
            continue;
        }
        a->stats.failed++;
        es_log(ES_ERROR, "tenant write failed",
               ES_STR("tenant",
                      j->ts->tenants[j->pairs[calls[i].start].tenant].id),
               ES_STR("error", err), ES_END);
        mark_failed(j->pairs, &calls[i], err, j->errors);
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
