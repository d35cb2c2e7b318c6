/*
 * sink.c - validated, de-duplicated, batched appends to the comment stream
 * (see sink.h; the Redis side is lib/redis/ingest.lua).
 *
 * Queued comments are copied into one growing arena and referenced by
 * offsets, so a batch costs a handful of allocations whatever its size, and
 * the producer's buffers (a listing, a dump line) can be reused at once.
 * What a comment's entry holds is decided by stream_entry.c, which the
 * backfill's bulk writer (stream_writer.c) shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_group.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_redis_lib.h"
#include "es_utf8.h"
#include "es_worker.h"
#include "sink.h"
#include "stream_entry.h"

#define ES_SINK_NFIELDS ES_ENTRY_MAX_FIELDS

/* a field stored in the arena */
typedef struct {
    size_t off;
    size_t len;
} span;

typedef struct {
    uint64_t id_num;
    int deleted;
    span seen_key, gone_key, offset, nfields_text;
    span name[ES_SINK_NFIELDS];
    span value[ES_SINK_NFIELDS];
    int nfields;
} queued;

struct es_sink {
    es_redis *r;
    int batch;
    long long ttl;
    long long max_len;
    queued *q;
    int nq;
    char *arena;
    size_t alen, acap;
    const char **argv;
    size_t *argl;
    size_t argcap;
    es_entry entry; /* the comment being queued */
    int backpressure_logged;
    long long trim_interval_ms;
    long long next_trim_ms; /* monotonic */
    es_sink_stats stats;
};

es_sink *es_sink_new(es_redis *r, int batch, long long dedup_ttl,
                     long long max_len)
{
    es_sink *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    s->r = r;
    s->batch = batch > 0 ? batch : 500;
    s->ttl = dedup_ttl > 0 ? dedup_ttl : 2592000;
    s->max_len = max_len;
    s->q = calloc((size_t)s->batch, sizeof(queued));
    if (s->q == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void es_sink_free(es_sink *s)
{
    if (s == NULL) {
        return;
    }
    free(s->q);
    es_entry_cleanup(&s->entry);
    free(s->arena);
    free(s->argv);
    free(s->argl);
    free(s);
}

es_sink_stats es_sink_get_stats(const es_sink *s)
{
    return s->stats;
}

/* Makes room for n more bytes (plus a NUL) in the arena. */
static int reserve(es_sink *s, size_t n)
{
    size_t cap = s->acap ? s->acap : 1 << 16;
    char *na;

    if (s->alen + n + 1 <= s->acap) {
        return 0;
    }
    while (cap < s->alen + n + 1) {
        cap *= 2;
    }
    na = realloc(s->arena, cap);
    if (na == NULL) {
        return -1;
    }
    s->arena = na;
    s->acap = cap;
    return 0;
}

/* Appends bytes to the arena; the span stays valid across growth. */
static int put(es_sink *s, const char *p, size_t n, span *out)
{
    if (reserve(s, n) != 0) {
        return -1;
    }
    memcpy(s->arena + s->alen, p, n);
    out->off = s->alen;
    out->len = n;
    s->alen += n;
    s->arena[s->alen++] = '\0';
    return 0;
}

static int reject(es_sink *s, const char *why, const es_comment *c)
{
    char id[32];
    size_t n = c->id.n < sizeof(id) - 1 ? c->id.n : sizeof(id) - 1;

    es_utf8_repair(c->id.s ? c->id.s : "", c->id.s ? n : 0, id, sizeof(id));
    s->stats.rejected++;
    es_log(ES_WARN, "comment rejected", ES_STR("reason", why), ES_STR("id", id),
           ES_STR("source", c->source), ES_END);
    return 1;
}

int es_sink_add(es_sink *s, const es_comment *c)
{
    char key[64], num[64];
    const char *why;
    size_t mark = s->alen;
    es_entry *en = &s->entry;
    queued *e;
    int rc;

    if (s->nq == s->batch) {
        rc = es_sink_flush(s);
        if (rc != 0) {
            return rc;
        }
        mark = s->alen;
    }
    why = es_entry_build(en, c);
    if (why != NULL) {
        return reject(s, why, c);
    }
    e = &s->q[s->nq];
    memset(e, 0, sizeof(*e));
    e->id_num = en->id_num;
    e->deleted = en->deleted;
    for (int f = 0; f < en->nfields; f++) {
        if (put(s, en->f[f].name, en->f[f].name_len, &e->name[f]) != 0 ||
            put(s, en->f[f].value, en->f[f].len, &e->value[f]) != 0) {
            goto oom;
        }
    }
    e->nfields = en->nfields;
    es_key_seen(key, sizeof(key), e->id_num);
    if (put(s, key, strlen(key), &e->seen_key) != 0) {
        goto oom;
    }
    es_key_gone(key, sizeof(key), e->id_num);
    if (put(s, key, strlen(key), &e->gone_key) != 0) {
        goto oom;
    }
    snprintf(num, sizeof(num), "%llu",
             (unsigned long long)es_dedup_offset(e->id_num));
    if (put(s, num, strlen(num), &e->offset) != 0) {
        goto oom;
    }
    snprintf(num, sizeof(num), "%d", e->nfields);
    if (put(s, num, strlen(num), &e->nfields_text) != 0) {
        goto oom;
    }
    s->nq++;
    s->stats.queued++;
    return 0;

oom:
    s->alen = mark;
    return reject(s, "out of memory", c);
}

static int grow_argv(es_sink *s, size_t need)
{
    const char **nv;
    size_t *nl;

    if (need <= s->argcap) {
        return 0;
    }
    nv = realloc(s->argv, need * sizeof(*nv));
    if (nv == NULL) {
        return -1;
    }
    s->argv = nv;
    nl = realloc(s->argl, need * sizeof(*nl));
    if (nl == NULL) {
        return -1;
    }
    s->argl = nl;
    s->argcap = need;
    return 0;
}

static void arg(es_sink *s, size_t *n, const char *p, size_t len)
{
    s->argv[*n] = p;
    s->argl[*n] = len;
    (*n)++;
}

static void arg_span(es_sink *s, size_t *n, span sp)
{
    arg(s, n, s->arena + sp.off, sp.len);
}

int es_sink_prepare(es_sink *s)
{
    return es_redis_load_library(s->r, &es_lua_ingest);
}

void es_sink_set_trim_interval(es_sink *s, long long interval_ms)
{
    s->trim_interval_ms = interval_ms;
    s->next_trim_ms = es_mono_ms() + interval_ms;
}

void es_sink_tick(es_sink *s)
{
    if (s->trim_interval_ms > 0 && es_mono_ms() >= s->next_trim_ms) {
        s->next_trim_ms = es_mono_ms() + s->trim_interval_ms;
        es_sink_trim(s);
    }
}

/* Handles an error reply; returns 0 to retry, -1 to give up (stopping). */
static int on_error(es_sink *s, const char *err)
{
    if (strncmp(err, "BACKPRESSURE", 12) == 0) {
        if (!s->backpressure_logged) {
            es_log(ES_WARN, "stream full, waiting for consumers",
                   ES_STR("detail", err), ES_INT("max_len", s->max_len),
                   ES_END);
            s->backpressure_logged = 1;
        }
        /* what consumers acknowledged meanwhile makes room */
        es_sink_tick(s);
        es_sleep_ms(500);
        return es_stopping() ? -1 : 0;
    }
    if (strstr(err, "Function not found") || strstr(err, "function not")) {
        es_log(ES_INFO, "reloading redis functions", ES_END);
        return es_sink_prepare(s) == 0 ? 0 : -1;
    }
    es_log(ES_ERROR, "stream append failed", ES_STR("error", err), ES_END);
    es_sleep_ms(1000);
    return es_stopping() ? -1 : 0;
}

int es_sink_flush(es_sink *s)
{
    char nkeys[32], maxlen[32], ttl[32];
    size_t n = 0, need;

    if (s->nq == 0) {
        return 0;
    }
    need = 4 + 2 + (size_t)s->nq * (2 + 3 + 2 * ES_SINK_NFIELDS);
    if (grow_argv(s, need) != 0) {
        es_log(ES_ERROR, "out of memory building a batch", ES_END);
        return -1;
    }
    snprintf(nkeys, sizeof(nkeys), "%d", 1 + 2 * s->nq);
    snprintf(maxlen, sizeof(maxlen), "%lld", s->max_len);
    snprintf(ttl, sizeof(ttl), "%lld", s->ttl);
    arg(s, &n, "FCALL", 5);
    arg(s, &n, "es_ingest_add", 13);
    arg(s, &n, nkeys, strlen(nkeys));
    arg(s, &n, ES_KEY_STREAM, strlen(ES_KEY_STREAM));
    for (int i = 0; i < s->nq; i++) {
        arg_span(s, &n, s->q[i].seen_key);
        arg_span(s, &n, s->q[i].gone_key);
    }
    arg(s, &n, maxlen, strlen(maxlen));
    arg(s, &n, ttl, strlen(ttl));
    for (int i = 0; i < s->nq; i++) {
        queued *e = &s->q[i];
        arg_span(s, &n, e->offset);
        arg(s, &n, e->deleted ? "1" : "0", 1);
        arg_span(s, &n, e->nfields_text);
        for (int f = 0; f < e->nfields; f++) {
            arg_span(s, &n, e->name[f]);
            arg_span(s, &n, e->value[f]);
        }
    }

    for (;;) {
        redisReply *reply = es_redis_argv(s->r, (int)n, s->argv, s->argl);

        if (reply == NULL) {
            return -1; /* stopping: the batch stays queued */
        }
        if (reply->type == REDIS_REPLY_ARRAY) {
            for (size_t i = 0; i < reply->elements; i++) {
                long long v = reply->element[i]->integer;
                if (v == 1) {
                    s->stats.added++;
                    es_metrics_add("echostream_ingest_comments_total", 1);
                } else if (v == 2) {
                    s->stats.deletions++;
                } else {
                    s->stats.duplicates++;
                    es_metrics_add("echostream_ingest_duplicates_total", 1);
                }
            }
            freeReplyObject(reply);
            break;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            int rc = on_error(s, reply->str);
            freeReplyObject(reply);
            if (rc != 0) {
                return -1;
            }
            continue;
        }
        freeReplyObject(reply);
        es_log(ES_ERROR, "unexpected reply to stream append", ES_END);
        return -1;
    }
    if (s->backpressure_logged) {
        es_log(ES_INFO, "stream accepting again", ES_END);
        s->backpressure_logged = 0;
    }
    s->nq = 0;
    s->alen = 0;
    es_sink_tick(s);
    return 0;
}

static int valid_group_name(const char *s, size_t n)
{
    if (n == 0 || n > 64) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

int es_sink_ensure_groups(es_sink *s, const char *list)
{
    const char *p = list;

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char name[72];

        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        if (n > 0) {
            if (!valid_group_name(p, n)) {
                es_log(ES_ERROR,
                       "invalid consumer group name in "
                       "stream.groups",
                       ES_END);
                return -1;
            }
            memcpy(name, p, n);
            name[n] = '\0';
            if (es_group_create(s->r, ES_KEY_STREAM, name) < 0) {
                return -1;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

long long es_sink_trim(es_sink *s)
{
    char maxlen[32];
    long long removed;
    redisReply *reply;

    snprintf(maxlen, sizeof(maxlen), "%lld",
             s->max_len > 0 ? s->max_len : 1000000LL);
    reply = es_redis_cmd(s->r, "FCALL es_stream_trim 1 %s %s", ES_KEY_STREAM,
                         maxlen);
    if (reply == NULL) {
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        if (strstr(reply->str, "Function not found")) {
            freeReplyObject(reply);
            return es_sink_prepare(s) == 0 ? 0 : -1;
        }
        es_log(ES_WARN, "stream trim failed", ES_STR("error", reply->str),
               ES_END);
        freeReplyObject(reply);
        return -1;
    }
    removed = reply->integer;
    freeReplyObject(reply);
    if (removed > 0) {
        es_log(ES_DEBUG, "stream trimmed", ES_INT("removed", removed), ES_END);
    }
    return removed;
}
