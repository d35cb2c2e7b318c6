/*
 * aggregate.c - per-tenant function calls of a batch (see aggregate.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "aggregate_lua.h"
#include "es_log.h"

void es_aggregate_init(es_aggregate *a, es_redis *r)
{
    memset(a, 0, sizeof(*a));
    a->r = r;
    es_argbuf_init(&a->args);
}

void es_aggregate_cleanup(es_aggregate *a)
{
    es_argbuf_free(&a->args);
    es_jsonw_free(&a->json);
}

int es_aggregate_prepare(es_aggregate *a)
{
    redisReply *rep =
        es_redis_cmd(a->r, "FUNCTION LOAD REPLACE %s", es_enrich_lua);
    int rc = 0;

    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "cannot load redis functions",
               ES_STR("library", ES_ENRICH_LIBRARY), ES_STR("error", rep->str),
               ES_END);
        rc = -1;
    }
    freeReplyObject(rep);
    return rc;
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

static void num4(es_jsonw *w, const char *key, double v)
{
    char buf[48];

    snprintf(buf, sizeof(buf), ",\"%s\":%.4f", key, v);
    es_jsonw_raw(w, buf, strlen(buf));
}

static void num(es_jsonw *w, const char *key, long long v)
{
    char buf[64];

    snprintf(buf, sizeof(buf), ",\"%s\":%lld", key, v);
    es_jsonw_raw(w, buf, strlen(buf));
}

static void field(es_jsonw *w, const char *key, const char *s, size_t n)
{
    es_jsonw_raw(w, ",", 1);
    es_jsonw_key(w, key);
    es_jsonw_str(w, s ? s : "", s ? n : 0);
}

/*
 * The record of one comment for one tenant (docs/redis-keys.md): what the
 * API shows, and what a deletion needs to reverse the comment exactly.
 */
static void record_json(es_jsonw *w, const es_topic_set *ts,
                        const es_enrich_entry *en, const es_sentiment *st,
                        const char *engine, long long cs, const es_terms *tm,
                        const es_enrich_pair *pairs, size_t s, size_t e)
{
    w->len = 0;
    w->oom = 0;
    es_jsonw_raw(w, "{", 1);
    es_jsonw_key(w, "id");
    es_jsonw_str(w, en->id, strlen(en->id));
    es_jsonw_raw(w, ",\"topics\":[", 11);
    for (size_t i = s; i < e; i++) {
        const char *tid = ts->topics[pairs[i].topic].id;
        if (i > s) {
            es_jsonw_raw(w, ",", 1);
        }
        es_jsonw_str(w, tid, strlen(tid));
    }
    es_jsonw_raw(w, "]", 1);
    field(w, "label", es_label_name(st->label),
          strlen(es_label_name(st->label)));
    num4(w, "compound", st->compound);
    num4(w, "neg", st->neg);
    num4(w, "neu", st->neu);
    num4(w, "pos", st->pos);
    num(w, "cs", cs);
    field(w, "engine", engine, strlen(engine));
    num(w, "created", en->created_ms);
    field(w, "t", en->t, strlen(en->t));
    num(w, "month", en->month_start);
    es_jsonw_raw(w, ",\"terms\":[", 10);
    for (size_t i = 0; i < tm->n; i++) {
        if (i > 0) {
            es_jsonw_raw(w, ",", 1);
        }
        es_jsonw_str(w, tm->term[i], tm->len[i]);
    }
    es_jsonw_raw(w, "]", 1);
    field(w, "subreddit", en->subreddit, strlen(en->subreddit));
    field(w, "author", en->author.s, en->author.n);
    field(w, "body", en->body.s, en->body.n);
    field(w, "permalink", en->permalink.s, en->permalink.n);
    field(w, "link_title", en->link_title.s, en->link_title.n);
    field(w, "score", en->score.s, en->score.n);
    es_jsonw_raw(w, "}", 1);
}

/* The record of one comment for one tenant, its topics from pairs[s, e). */
static void add_create(es_argbuf *b, es_jsonw *w, const es_topic_set *ts,
                       const es_enrich_entry *en, const es_entry_score *sco,
                       const es_terms *tm, const es_enrich_pair *pairs,
                       size_t s, size_t e)
{
    int cmp = pairs[s].comprehend && sco->has_comprehend;
    const es_sentiment *st = cmp ? &sco->comprehend : &sco->vader;
    const char *engine = cmp ? "comprehend" : "vader";
    long long cs = llround(st->compound * 10000.0);

    es_argbuf_ref(b, "c", 1);
    es_argbuf_ref(b, en->id, strlen(en->id));
    es_argbuf_int(b, en->created_ms);
    es_argbuf_ref(b, en->t, strlen(en->t));
    es_argbuf_int(b, en->month_start);
    es_argbuf_str(b, es_label_name(st->label));
    es_argbuf_int(b, cs);
    es_argbuf_int(b, (long long)(e - s));
    for (size_t i = s; i < e; i++) {
        const char *tid = ts->topics[pairs[i].topic].id;
        es_argbuf_ref(b, tid, strlen(tid));
    }
    es_argbuf_int(b, (long long)tm->n);
    for (size_t i = 0; i < tm->n; i++) {
        es_argbuf_ref(b, tm->term[i], tm->len[i]);
    }
    record_json(w, ts, en, st, engine, cs, tm, pairs, s, e);
    if (w->oom) {
        b->oom = 1;
        return;
    }
    es_argbuf_copy(b, w->buf, w->len);
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

/* Builds every tenant's call; returns how many (-1 out of memory). */
static long long
build(es_aggregate *a, const es_topic_set *ts, const es_enrich_entry *entries,
      const es_entry_score *scores, const es_terms *terms,
      const es_enrich_pair *pairs, size_t npairs, const long long *charge_units,
      const long long *charge_micros, long long now_s, call *calls)
{
    es_argbuf *b = &a->args;
    char month[16];
    size_t ncalls = 0;

    es_aggregate_month(now_s, month, sizeof(month));
    es_argbuf_reset(b);
    for (size_t s = 0; s < npairs;) {
        uint32_t t = pairs[s].tenant;
        const es_enrich_tenant *tn = &ts->tenants[t];
        call *c = &calls[ncalls++];
        char meta[128];
        size_t e = s;

        while (e < npairs && pairs[e].tenant == t) {
            e++;
        }
        c->start = s;
        c->end = e;
        c->arg0 = es_argbuf_count(b);
        snprintf(meta, sizeof(meta), "%smeta", tn->prefix);
        es_argbuf_ref(b, "FCALL", 5);
        es_argbuf_ref(b, "es_enrich_write", 15);
        es_argbuf_ref(b, "1", 1);
        es_argbuf_str(b, meta);
        es_argbuf_ref(b, tn->prefix, strlen(tn->prefix));
        es_argbuf_int(b, now_s);
        es_argbuf_int(b, tn->retention_s);
        es_argbuf_str(b, month);
        es_argbuf_int(b, charge_units[t]);
        es_argbuf_int(b, charge_micros[t]);
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
                add_create(b, &a->json, ts, en, &scores[pairs[i].entry],
                           &terms[pairs[i].entry], pairs, i, j);
            }
            i = j;
        }
        c->argc = es_argbuf_count(b) - c->arg0;
        s = e;
    }
    return es_argbuf_finish(b) == 0 ? (long long)ncalls : -1;
}

int es_aggregate_write(es_aggregate *a, const es_topic_set *ts,
                       const es_enrich_entry *entries,
                       const es_entry_score *scores, const es_terms *terms,
                       const es_enrich_pair *pairs, size_t npairs,
                       const long long *charge_units,
                       const long long *charge_micros, long long now_s,
                       char (*errors)[ES_ENRICH_ERR_MAX])
{
    call *calls = calloc(npairs + 1, sizeof(*calls));
    es_redis_cmdv *cmds = calloc(npairs + 1, sizeof(*cmds));
    redisReply **replies = calloc(npairs + 1, sizeof(*replies));
    long long n = -1;
    int rc = 0;

    if (npairs == 0) {
        goto cleanup;
    }
    if (calls == NULL || cmds == NULL || replies == NULL) {
        goto oom;
    }
    n = build(a, ts, entries, scores, terms, pairs, npairs, charge_units,
              charge_micros, now_s, calls);
    if (n < 0) {
        goto oom;
    }
    for (long long i = 0; i < n; i++) {
        cmds[i].argc = (int)calls[i].argc;
        cmds[i].argv = a->args.argv + calls[i].arg0;
        cmds[i].lens = a->args.lens + calls[i].arg0;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int reload = 0;

        if (es_redis_pipeline(a->r, cmds, (int)n, replies) != 0) {
            rc = -1;
            goto cleanup;
        }
        for (long long i = 0; i < n; i++) {
            redisReply *rep = replies[i];
            if (rep->type == REDIS_REPLY_ERROR &&
                strstr(rep->str, "Function not found") && attempt == 0) {
                reload = 1;
            }
        }
        if (!reload) {
            break;
        }
        /* Redis lost the library (a restart without persistence): every
           call of this pipeline failed before writing, so resend it all */
        for (long long i = 0; i < n; i++) {
            freeReplyObject(replies[i]);
            replies[i] = NULL;
        }
        es_log(ES_INFO, "reloading redis functions", ES_END);
        if (es_aggregate_prepare(a) != 0) {
            rc = -1;
            goto cleanup;
        }
    }
    for (long long i = 0; i < n; i++) {
        redisReply *rep = replies[i];
        a->stats.calls++;
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3) {
            a->stats.created += rep->element[0]->integer;
            a->stats.replayed += rep->element[1]->integer;
            a->stats.deleted += rep->element[2]->integer;
            continue;
        }
        a->stats.failed++;
        es_log(ES_ERROR, "tenant write failed",
               ES_STR("tenant", ts->tenants[pairs[calls[i].start].tenant].id),
               ES_STR("error", rep->type == REDIS_REPLY_ERROR
                                   ? rep->str
                                   : "unexpected reply"),
               ES_END);
        mark_failed(pairs, &calls[i],
                    rep->type == REDIS_REPLY_ERROR ? rep->str
                                                   : "unexpected reply",
                    errors);
    }
    goto cleanup;

oom:
    es_log(ES_ERROR, "out of memory building tenant writes", ES_END);
    for (size_t i = 0; i < npairs; i++) {
        snprintf(errors[pairs[i].entry], ES_ENRICH_ERR_MAX, "out of memory");
    }

cleanup:
    for (long long i = 0; replies && i < n; i++) {
        if (replies[i]) {
            freeReplyObject(replies[i]);
        }
    }
    free(calls);
    free(cmds);
    free(replies);
    return rc;
}
