/*
 * batch.c - one batch of the enrich worker (see batch.h and main.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "es_log.h"

static int reserve_entries(es_enrich *x, size_t n)
{
    void *p;

    if (n <= x->cap) {
        return 0;
    }
#define GROW(field)                                                            \
    p = realloc(x->field, n * sizeof(*x->field));                              \
    if (p == NULL) {                                                           \
        return -1;                                                             \
    }                                                                          \
    x->field = p;
    GROW(entries)
    GROW(errors)
    GROW(state)
    GROW(deliveries)
    GROW(ids)
    GROW(terms)
    GROW(scores)
#undef GROW
    x->cap = n;
    return 0;
}

static int add_pair(es_enrich *x, size_t *np, uint32_t entry, uint32_t tenant,
                    uint32_t topic)
{
    if (*np == x->pcap) {
        size_t nc = x->pcap ? x->pcap * 2 : 1024;
        es_enrich_pair *p = realloc(x->pairs, nc * sizeof(*p));
        if (p == NULL) {
            return -1;
        }
        x->pairs = p;
        x->pcap = nc;
    }
    x->pairs[*np].entry = entry;
    x->pairs[*np].tenant = tenant;
    x->pairs[*np].topic = topic;
    x->pairs[*np].comprehend = 0;
    (*np)++;
    return 0;
}

static int reserve_tenants(es_enrich *x, size_t n)
{
    void *p;

    if (n <= x->tcap) {
        return 0;
    }
#define GROW(field)                                                            \
    p = realloc(x->field, n * sizeof(*x->field));                              \
    if (p == NULL) {                                                           \
        return -1;                                                             \
    }                                                                          \
    x->field = p;
    GROW(remaining)
    GROW(units)
    GROW(micros)
    GROW(tenant_list)
    GROW(mark)
#undef GROW
    x->tcap = n;
    return 0;
}

static int cmp_entry_tenant(const void *a, const void *b)
{
    const es_enrich_pair *p = a, *q = b;

    if (p->entry != q->entry) {
        return p->entry < q->entry ? -1 : 1;
    }
    if (p->tenant != q->tenant) {
        return p->tenant < q->tenant ? -1 : 1;
    }
    return p->topic < q->topic ? -1 : p->topic > q->topic;
}

static int cmp_tenant_entry(const void *a, const void *b)
{
    const es_enrich_pair *p = a, *q = b;

    if (p->tenant != q->tenant) {
        return p->tenant < q->tenant ? -1 : 1;
    }
    if (p->entry != q->entry) {
        return p->entry < q->entry ? -1 : 1;
    }
    return p->topic < q->topic ? -1 : p->topic > q->topic;
}

/* Matches the valid entries into pairs; returns the count (-1 on OOM). */
static long long match(es_enrich *x, size_t n)
{
    const es_topic_set *ts = x->topics.cur;
    size_t np = 0;

    if (ts == NULL || ts->ntopics == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const es_enrich_entry *e = &x->entries[i];
        size_t k;

        if (x->state[i] != ST_OK) {
            continue;
        }
        if (e->is_delete) {
            k = es_topic_set_tenants_for(ts, e->subreddit, x->tenant_list,
                                         x->mark);
            for (size_t j = 0; j < k; j++) {
                if (add_pair(x, &np, (uint32_t)i, x->tenant_list[j],
                             ES_PAIR_DELETE) != 0) {
                    return -1;
                }
            }
            continue;
        }
        k = es_matcher_match(ts->matcher, e->subreddit,
                             e->author.s ? e->author.s : "", e->body.s,
                             e->body.n, x->handles, MATCH_MAX);
        if (k > MATCH_MAX) {
            es_log(ES_WARN, "comment matches more topics than counted",
                   ES_STR("id", e->id), ES_INT("topics", (long long)k), ES_END);
            k = MATCH_MAX;
        }
        x->matched += k > 0;
        for (size_t j = 0; j < k; j++) {
            uint32_t h = x->handles[j];
            if (h >= ts->ntopics) {
                continue;
            }
            if (add_pair(x, &np, (uint32_t)i, ts->topics[h].tenant, h) != 0) {
                return -1;
            }
        }
    }
    return (long long)np;
}

/* Month spend so far of the Comprehend tenants with a budget. */
static void load_remaining(es_enrich *x, const es_topic_set *ts, size_t np,
                           long long now_s)
{
    char month[16], key[160];
    size_t nt = ts->ntenants;

    memset(x->mark, 0, nt);
    for (size_t t = 0; t < nt; t++) {
        x->remaining[t] = 0;
        x->units[t] = 0;
        x->micros[t] = 0;
    }
    for (size_t i = 0; i < np; i++) {
        const es_enrich_tenant *t = &ts->tenants[x->pairs[i].tenant];
        if (t->engine == ES_ENGINE_COMPREHEND && t->budget_micros > 0) {
            x->mark[x->pairs[i].tenant] = 1;
        }
    }
    es_aggregate_month(now_s, month, sizeof(month));
    for (size_t t = 0; t < nt; t++) {
        redisReply *rep;
        if (!x->mark[t]) {
            continue;
        }
        snprintf(key, sizeof(key), "%susage:%s", ts->tenants[t].prefix, month);
        rep = es_redis_cmd(x->r, "HGET %s comprehend_usd_micros", key);
        x->remaining[t] = ts->tenants[t].budget_micros;
        if (rep && rep->type == REDIS_REPLY_STRING) {
            x->remaining[t] -= strtoll(rep->str, NULL, 10);
        }
        if (rep) {
            freeReplyObject(rep);
        }
    }
}

/* Moves or leaves pending the entries that failed; acks the rest. */
static int settle(es_enrich *x, size_t n)
{
    size_t nack = 0;

    for (size_t i = 0; i < n; i++) {
        int failed = x->state[i] == ST_BAD ||
                     (x->state[i] == ST_OK && x->errors[i][0] != '\0');
        if (x->state[i] == ST_DONE) {
            continue;
        }
        if (!failed) {
            x->ids[nack++] = x->entries[i].stream_id;
            continue;
        }
        x->failed++;
        if (x->deliveries[i] >= x->max_deliveries) {
            es_consumer_dead_letter(&x->c, x->entries[i].stream_id,
                                    x->errors[i], x->deliveries[i]);
        } else {
            es_log(ES_WARN, "entry failed; left pending for a retry",
                   ES_STR("stream_id", x->entries[i].stream_id),
                   ES_STR("error", x->errors[i]),
                   ES_INT("deliveries", x->deliveries[i]), ES_END);
        }
    }
    if (es_consumer_ack(&x->c, x->ids, nack) != 0) {
        return -1;
    }
    x->acked += (long long)nack;
    return 0;
}

/* Entries back from a pending list: fetch counts, dead-letter the worn. */
static void check_deliveries(es_enrich *x, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        x->ids[k++] = x->entries[i].stream_id;
    }
    if (es_consumer_deliveries(&x->c, x->ids, k, x->deliveries) != 0) {
        for (size_t i = 0; i < n; i++) {
            x->deliveries[i] = 1;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char why[ES_ENRICH_ERR_MAX];
        if (x->deliveries[i] <= x->max_deliveries || x->state[i] == ST_GONE) {
            continue;
        }
        /* earlier deliveries ended without an outcome (a crash, a stop) */
        snprintf(why, sizeof(why), "%s",
                 x->state[i] == ST_BAD ? x->errors[i]
                                       : "delivered too often without "
                                         "completing");
        es_consumer_dead_letter(&x->c, x->entries[i].stream_id, why,
                                x->deliveries[i]);
        x->state[i] = ST_DONE;
    }
}

/* Archives the valid entries; retries until durable or stopping. */
static int archive(es_enrich *x, size_t n, const char *first, const char *last)
{
    es_enrich_entry *v = calloc(n + 1, sizeof(*v));
    size_t k = 0;
    int rc = -1;

    if (v == NULL) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (x->state[i] == ST_OK) {
            v[k++] = x->entries[i];
        }
    }
    while (k > 0) {
        if (es_archive_write(&x->lake, v, k, first, last) == 0) {
            rc = 0;
            break;
        }
        if (es_stopping()) {
            break;
        }
        es_sleep_ms(1000);
    }
    if (k == 0) {
        rc = 0;
    }
    free(v);
    return rc;
}

/* One batch; -1 when it could not be finished (left pending). */
int es_enrich_process(es_enrich *x, const redisReply *list, int redelivered)
{
    size_t n = list->elements;
    const es_topic_set *ts;
    long long np, now_s = es_now_ms() / 1000;

    if (reserve_entries(x, n) != 0) {
        es_log(ES_ERROR, "out of memory for a batch", ES_END);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char err[ES_ENRICH_ERR_MAX];
        x->errors[i][0] = '\0';
        x->deliveries[i] = 1;
        x->state[i] = ST_OK;
        if (es_enrich_entry_parse(list->element[i], &x->entries[i], err,
                                  sizeof(err)) != 0) {
            snprintf(x->errors[i], ES_ENRICH_ERR_MAX, "%s", err);
            x->state[i] = x->entries[i].stream_id && !x->entries[i].fields
                              ? ST_GONE
                              : ST_BAD;
            if (x->entries[i].stream_id == NULL) {
                x->entries[i].stream_id = "0-0";
                x->state[i] = ST_DONE;
            }
            continue;
        }
        x->comments += !x->entries[i].is_delete;
        x->deletions += x->entries[i].is_delete;
    }
    x->read += (long long)n;
    if (redelivered) {
        check_deliveries(x, n);
    }
    if (x->lake_enabled && archive(x, n, x->entries[0].stream_id,
                                   x->entries[n - 1].stream_id) != 0) {
        es_log(ES_ERROR, "batch not archived; left pending", ES_END);
        return -1;
    }
    ts = x->topics.cur;
    if (ts != NULL && reserve_tenants(x, ts->ntenants + 1) != 0) {
        return -1;
    }
    np = match(x, n);
    if (np < 0) {
        es_log(ES_ERROR, "out of memory matching a batch", ES_END);
        return -1;
    }
    if (np > 0) {
        qsort(x->pairs, (size_t)np, sizeof(*x->pairs), cmp_entry_tenant);
        memset(x->scores, 0, n * sizeof(*x->scores));
        for (long long i = 0; i < np; i++) {
            uint32_t e = x->pairs[i].entry;
            if (x->pairs[i].topic != ES_PAIR_DELETE &&
                (i == 0 || x->pairs[i - 1].entry != e)) {
                es_terms_extract(x->entries[e].body.s, x->entries[e].body.n,
                                 &x->tscratch, &x->terms[e]);
            }
        }
        load_remaining(x, ts, (size_t)np, now_s);
        es_enrich_score(x->scorer, x->vader, ts, x->entries, x->pairs,
                        (size_t)np, x->price_micros, x->remaining, x->units,
                        x->micros, x->scores);
        qsort(x->pairs, (size_t)np, sizeof(*x->pairs), cmp_tenant_entry);
        if (es_aggregate_write(&x->agg, ts, x->entries, x->scores, x->terms,
                               x->pairs, (size_t)np, x->units, x->micros, now_s,
                               x->errors) != 0) {
            return -1;
        }
    }
    return settle(x, n);
}

void es_enrich_batch_free(es_enrich *x)
{
    free(x->entries);
    free(x->errors);
    free(x->state);
    free(x->deliveries);
    free(x->ids);
    free(x->terms);
    free(x->scores);
    free(x->pairs);
    free(x->remaining);
    free(x->units);
    free(x->micros);
    free(x->tenant_list);
    free(x->mark);
    es_terms_scratch_free(&x->tscratch);
}
