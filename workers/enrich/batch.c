/*
 * batch.c - one batch of the enrich worker (see batch.h and main.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_schema.h"

static int reserve_entries(es_enrich *x, size_t n)
{
    es_batch *b = x->b;
    void *p;

    if (n <= b->cap) {
        return 0;
    }
#define GROW(field)                                                            \
    p = realloc(b->field, n * sizeof(*b->field));                              \
    if (p == NULL) {                                                           \
        return -1;                                                             \
    }                                                                          \
    b->field = p;
    GROW(entries)
    GROW(errors)
    GROW(state)
    GROW(deliveries)
    GROW(ids)
    GROW(terms)
    GROW(scores)
#undef GROW
    b->cap = n;
    return 0;
}

static int add_pair(es_enrich *x, size_t *np, uint32_t entry, uint32_t tenant,
                    uint32_t topic)
{
    if (*np == x->b->pcap) {
        size_t nc = x->b->pcap ? x->b->pcap * 2 : 1024;
        es_enrich_pair *p = realloc(x->b->pairs, nc * sizeof(*p));
        if (p == NULL) {
            return -1;
        }
        x->b->pairs = p;
        x->b->pcap = nc;
    }
    x->b->pairs[*np].entry = entry;
    x->b->pairs[*np].tenant = tenant;
    x->b->pairs[*np].topic = topic;
    x->b->pairs[*np].comprehend = 0;
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
    GROW(fly_micros)
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
        const es_enrich_entry *e = &x->b->entries[i];
        size_t k;

        if (x->b->state[i] != ST_OK) {
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
        const es_enrich_tenant *t = &ts->tenants[x->b->pairs[i].tenant];
        if (t->engine == ES_ENGINE_COMPREHEND && t->budget_micros > 0) {
            x->mark[x->b->pairs[i].tenant] = 1;
        }
    }
    es_aggregate_month(now_s, month, sizeof(month));
    for (size_t t = 0; t < nt; t++) {
        redisReply *rep;
        if (!x->mark[t]) {
            continue;
        }
        es_tenant_key_p(key, sizeof(key), ts->tenants[t].prefix,
                        strlen(ts->tenants[t].prefix), ES_TK_USAGE, month);
        rep = es_redis_cmd(x->r, "HGET %s %s", key, ES_USAGE_USD);
        x->remaining[t] = ts->tenants[t].budget_micros;
        if (rep && rep->type == REDIS_REPLY_STRING) {
            x->remaining[t] -= strtoll(rep->str, NULL, 10);
        }
        /* the batch in flight has charged but not written its spend */
        if ((x->fly != NULL || x->ready != NULL) && x->fly_ts == ts) {
            x->remaining[t] -= x->fly_micros[t];
        }
        if (rep) {
            freeReplyObject(rep);
        }
    }
}

/* Moves or leaves pending the entries that failed; acks the rest. */
static int settle(es_enrich *x, es_batch *b, size_t n)
{
    size_t nack = 0;

    for (size_t i = 0; i < n; i++) {
        int failed = b->state[i] == ST_BAD ||
                     (b->state[i] == ST_OK && b->errors[i][0] != '\0');
        if (b->state[i] == ST_DONE) {
            continue;
        }
        if (!failed) {
            b->ids[nack++] = b->entries[i].stream_id;
            continue;
        }
        x->failed++;
        es_metrics_add("echostream_enrich_failed_total", 1);
        if (b->deliveries[i] >= x->max_deliveries) {
            if (es_enrich_dead_letter(&x->c, b->entries[i].stream_id,
                                      b->errors[i], b->deliveries[i]) == 1) {
                x->dead_lettered++;
                es_metrics_add("echostream_enrich_dead_letters_total", 1);
            }
        } else {
            es_log(ES_WARN, "entry failed; left pending for a retry",
                   ES_STR("stream_id", b->entries[i].stream_id),
                   ES_STR("error", b->errors[i]),
                   ES_INT("deliveries", b->deliveries[i]), ES_END);
        }
    }
    if (es_consumer_ack(&x->c, b->ids, nack) != 0) {
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
        x->b->ids[k++] = x->b->entries[i].stream_id;
    }
    if (es_consumer_deliveries(&x->c, x->b->ids, k, x->b->deliveries) != 0) {
        for (size_t i = 0; i < n; i++) {
            x->b->deliveries[i] = 1;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char why[ES_ENRICH_ERR_MAX];
        if (x->b->deliveries[i] <= x->max_deliveries ||
            x->b->state[i] == ST_GONE) {
            continue;
        }
        /* earlier deliveries ended without an outcome (a crash, a stop) */
        snprintf(why, sizeof(why), "%s",
                 x->b->state[i] == ST_BAD ? x->b->errors[i]
                                          : "delivered too often without "
                                            "completing");
        if (es_enrich_dead_letter(&x->c, x->b->entries[i].stream_id, why,
                                  x->b->deliveries[i]) == 1) {
            x->dead_lettered++;
            es_metrics_add("echostream_enrich_dead_letters_total", 1);
        }
        x->b->state[i] = ST_DONE;
    }
}

/* The batch's calls (its deletions' records read first, if any). */
static void build(es_enrich *x, es_batch *b)
{
    es_aggregate_build(&x->agg, &b->job, x->topics.cur, b->entries, b->scores,
                       b->terms, b->pairs, b->np, x->units, x->micros, b->now_s,
                       b->errors);
}

/* One batch; -1 when it could not be finished (left pending). */
static int process(es_enrich *x, const redisReply *list, int redelivered)
{
    size_t n = list->elements;
    const es_topic_set *ts;
    long long np, now_s = es_now_ms() / 1000;
    long long comments_before = x->comments;

    x->b->n = 0;
    x->b->deferred = 0;
    x->b->arch_running = 0;
    x->b->arch_rc = x->lake_enabled ? -1 : 0;
    if (reserve_entries(x, n) != 0) {
        es_log(ES_ERROR, "out of memory for a batch", ES_END);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char err[ES_ENRICH_ERR_MAX];
        x->b->errors[i][0] = '\0';
        x->b->deliveries[i] = 1;
        x->b->state[i] = ST_OK;
        if (es_enrich_entry_parse(list->element[i], &x->b->entries[i], err,
                                  sizeof(err)) != 0) {
            snprintf(x->b->errors[i], ES_ENRICH_ERR_MAX, "%s", err);
            x->b->state[i] =
                x->b->entries[i].stream_id && !x->b->entries[i].fields ? ST_GONE
                                                                       : ST_BAD;
            if (x->b->entries[i].stream_id == NULL) {
                x->b->entries[i].stream_id = "0-0";
                x->b->state[i] = ST_DONE;
            }
            continue;
        }
        x->comments += !x->b->entries[i].is_delete;
        x->deletions += x->b->entries[i].is_delete;
    }
    x->read += (long long)n;
    es_metrics_add("echostream_enrich_entries_total", (double)n);
    es_metrics_add("echostream_enrich_comments_total",
                   (double)(x->comments - comments_before));
    if (redelivered) {
        check_deliveries(x, n);
    }
    if (x->lake_enabled) {
        /* the previous batch's archive may still be running: the archive's
           lock makes this one wait for it on its own thread */
        if (es_batch_archive_start(x, n, x->b->entries[0].stream_id,
                                   x->b->entries[n - 1].stream_id) != 0) {
            es_log(ES_ERROR, "out of memory archiving a batch", ES_END);
            return -1;
        }
    }
    ts = x->topics.cur;
    if (ts != NULL && reserve_tenants(x, ts->ntenants + 1) != 0) {
        return -1;
    }
    x->b->n = n;
    np = match(x, n);
    if (np < 0) {
        es_log(ES_ERROR, "out of memory matching a batch", ES_END);
        return -1;
    }
    if (np > 0) {
        qsort(x->b->pairs, (size_t)np, sizeof(*x->b->pairs), cmp_entry_tenant);
        memset(x->b->scores, 0, n * sizeof(*x->b->scores));
        for (long long i = 0; i < np; i++) {
            uint32_t e = x->b->pairs[i].entry;
            if (x->b->pairs[i].topic != ES_PAIR_DELETE &&
                (i == 0 || x->b->pairs[i - 1].entry != e)) {
                es_terms_extract(x->b->entries[e].body.s,
                                 x->b->entries[e].body.n, &x->tscratch,
                                 &x->b->terms[e]);
            }
        }
        load_remaining(x, ts, (size_t)np, now_s);
        es_enrich_score(x->scorer, x->vader, ts, x->b->entries, x->b->pairs,
                        (size_t)np, x->price_micros, x->remaining, x->units,
                        x->micros, x->b->scores);
        qsort(x->b->pairs, (size_t)np, sizeof(*x->b->pairs), cmp_tenant_entry);
        x->b->np = (size_t)np;
        x->b->now_s = now_s;
        /* a deletion reverses what is stored, which the writes in flight
           may still change: such a batch is built after they are answered
           (es_enrich_process) */
        x->b->deferred = es_stored_needed(x->b->pairs, (size_t)np);
        if (!x->b->deferred) {
            build(x, x->b);
        }
    }
    return 0;
}

/* The writer thread: one batch's writes. */
static void *writer_main(void *arg)
{
    es_enrich *x = arg;

    es_aggregate_send(&x->agg, &x->fly->job);
    return NULL;
}

/*
 * The reader thread: the read ahead, on a connection of its own. Redis
 * serves it between the writes' calls and this thread parses the reply
 * while they run; read after the writes on their thread, Redis would idle
 * through that parse. It does not wait for new entries: when the stream is
 * drained, the batch built meanwhile must not wait enrich.block_ms for its
 * writes and acknowledgement (es_enrich_read settles it first).
 */
static void *reader_main(void *arg)
{
    es_enrich *x = arg;
    long long block = x->rd.block_ms;

    x->rd.block_ms = 0;
    x->next = es_consumer_read(&x->rd, &x->next_list, &x->next_redelivered);
    x->rd.block_ms = block;
    x->drained = x->next == NULL;
    return NULL;
}

redisReply *es_enrich_read(es_enrich *x, const redisReply **list,
                           int *redelivered)
{
    redisReply *rep = x->next;

    if (rep != NULL) {
        x->next = NULL;
        *list = x->next_list;
        *redelivered = x->next_redelivered;
        return rep;
    }
    /* the read ahead found nothing: write and acknowledge the batch
       built meanwhile before waiting for new entries */
    if (x->drained) {
        x->drained = 0;
        es_enrich_flush(x);
    }
    return es_consumer_read(&x->rd, list, redelivered);
}

/*
 * Hands the ready batch's writes, if any, to the writer thread and, with
 * prefetch, the next read to the reader thread. The read ahead starts also
 * when nothing is ready (the first batch after a quiet spell): it is what
 * tells es_enrich_read that the stream is drained, so a lone batch is
 * written as soon as it is built instead of after a read that blocks for
 * enrich.block_ms.
 */
static void send_ready(es_enrich *x, int prefetch)
{
    if (x->ready != NULL) {
        x->fly = x->ready;
        x->ready = NULL;
        x->fly_thread = pthread_create(&x->writer, NULL, writer_main, x) == 0;
        if (!x->fly_thread) {
            /* no thread: write here, in order all the same */
            es_log(ES_WARN, "writer thread not started; writing inline",
                   ES_END);
            writer_main(x);
        }
    }
    if (prefetch && x->next == NULL && !es_stopping()) {
        x->read_thread = pthread_create(&x->reader, NULL, reader_main, x) == 0;
        if (!x->read_thread) {
            reader_main(x);
        }
    }
}

/* Waits for the writes in flight and settles their batch. */
static int settle_fly(es_enrich *x)
{
    es_batch *f = x->fly;
    int rc;

    if (x->read_thread) {
        pthread_join(x->reader, NULL);
        x->read_thread = 0;
    }
    if (f == NULL) {
        return 0;
    }
    if (x->fly_thread) {
        pthread_join(x->writer, NULL);
        x->fly_thread = 0;
    }
    x->fly = NULL;
    rc = es_aggregate_finish(&x->agg, &f->job);
    if (es_batch_archive_join(f) != 0) {
        es_log(ES_ERROR, "batch not archived; left pending", ES_END);
        rc = -1;
    }
    if (rc == 0) {
        rc = settle(x, f, f->n);
    }
    freeReplyObject(f->reply);
    f->reply = NULL;
    return rc;
}

int es_enrich_flush(es_enrich *x)
{
    int rc = settle_fly(x);

    send_ready(x, 0);
    return settle_fly(x) != 0 ? -1 : rc;
}

int es_enrich_process(es_enrich *x, redisReply *rep, const redisReply *list,
                      int redelivered)
{
    es_batch *b;
    int rc, frc;

    /* the previous batch's writes go out now, followed by the next read:
       Redis works on them while this batch is parsed, archived, matched
       and scored */
    send_ready(x, 1);
    b = x->b = x->fly == &x->bufs[0] ? &x->bufs[1] : &x->bufs[0];
    rc = process(x, list, redelivered);
    frc = settle_fly(x);
    if (rc == 0 && b->deferred) {
        build(x, b);
    }
    if (rc != 0 || b->job.n == 0) {
        /* nothing to write (or the batch failed): settle it now */
        if (es_batch_archive_join(b) != 0 && rc == 0) {
            es_log(ES_ERROR, "batch not archived; left pending", ES_END);
            rc = -1;
        }
        if (rc == 0) {
            rc = es_aggregate_finish(&x->agg, &b->job);
        }
        if (rc == 0 && b->n > 0) {
            rc = settle(x, b, b->n);
        }
        freeReplyObject(rep);
        return rc != 0 ? rc : frc;
    }
    b->reply = rep;
    x->ready = b;
    x->fly_ts = x->topics.cur;
    if (x->fly_ts != NULL) {
        memcpy(x->fly_micros, x->micros,
               x->fly_ts->ntenants * sizeof(*x->fly_micros));
    }
    return frc;
}

void es_enrich_batch_init(es_enrich *x)
{
    for (int i = 0; i < 2; i++) {
        memset(&x->bufs[i], 0, sizeof(x->bufs[i]));
        es_aggregate_job_init(&x->bufs[i].job);
    }
    x->b = &x->bufs[0];
    x->fly = NULL;
    x->ready = NULL;
}

void es_enrich_batch_free(es_enrich *x)
{
    for (int i = 0; i < 2; i++) {
        es_batch *b = &x->bufs[i];
        free(b->entries);
        free(b->errors);
        free(b->state);
        free(b->deliveries);
        free(b->ids);
        free(b->terms);
        free(b->scores);
        free(b->pairs);
        es_batch_archive_join(b);
        free(b->arch_v);
        if (b->reply != NULL) {
            freeReplyObject(b->reply);
        }
        b->reply = NULL;
        es_aggregate_job_free(&b->job);
    }
    free(x->fly_micros);
    if (x->next != NULL) {
        freeReplyObject(x->next);
        x->next = NULL;
    }
    free(x->remaining);
    free(x->units);
    free(x->micros);
    free(x->tenant_list);
    free(x->mark);
    es_terms_scratch_free(&x->tscratch);
}
