/*
 * es_consumer.c - one consumer of a consumer group on a stream (see
 * es_consumer.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_consumer.h"
#include "es_group.h"
#include "es_log.h"
#include "es_worker.h"

void es_consumer_init(es_consumer *c, es_redis *r, const char *stream,
                      const char *group, const char *consumer, long long batch,
                      long long block_ms, long long claim_idle_ms)
{
    memset(c, 0, sizeof(*c));
    c->r = r;
    c->stream = stream;
    c->group = group;
    c->consumer = consumer;
    c->batch = batch;
    c->block_ms = block_ms;
    c->claim_idle_ms = claim_idle_ms;
    c->own_recovery = 1;
    snprintf(c->own_cursor, sizeof(c->own_cursor), "0");
    snprintf(c->claim_cursor, sizeof(c->claim_cursor), "0-0");
}

int es_consumer_create_group(es_consumer *c)
{
    if (es_group_create(c->r, c->stream, c->group) < 0) {
        return -1;
    }
    if (c->prune_idle_ms > 0) {
        es_group_prune(c->r, c->stream, c->group, c->consumer,
                       c->prune_idle_ms);
    }
    return 0;
}

/* Logs an error reply and recovers; 1 when rep was one (freed). */
static int read_error(es_consumer *c, redisReply *rep, const char *what)
{
    if (rep == NULL || rep->type != REDIS_REPLY_ERROR) {
        return 0;
    }
    es_log(ES_ERROR, "stream read failed", ES_STR("command", what),
           ES_STR("error", rep->str), ES_END);
    if (strncmp(rep->str, "NOGROUP", 7) == 0) {
        es_consumer_create_group(c);
    } else {
        es_sleep_ms(1000);
    }
    freeReplyObject(rep);
    return 1;
}

static size_t count(const redisReply *list)
{
    return list && list->type == REDIS_REPLY_ARRAY ? list->elements : 0;
}

redisReply *es_consumer_read(es_consumer *c, const redisReply **entries,
                             int *redelivered)
{
    long long now = es_mono_ms();
    redisReply *rep;

    *entries = NULL;
    *redelivered = 1;
    if (c->own_recovery) {
        const redisReply *list;
        rep = es_redis_cmd(
            c->r, "XREADGROUP GROUP %s %s COUNT %lld STREAMS %s %s", c->group,
            c->consumer, c->batch, c->stream, c->own_cursor);
        if (rep == NULL || read_error(c, rep, "XREADGROUP 0")) {
            return NULL;
        }
        list = es_group_entries(rep);
        if (count(list) == 0) {
            c->own_recovery = 0;
            freeReplyObject(rep);
            return NULL;
        }
        snprintf(c->own_cursor, sizeof(c->own_cursor), "%s",
                 list->element[list->elements - 1]->element[0]->str);
        *entries = list;
        return rep;
    }
    if (now >= c->next_claim_ms) {
        rep = es_redis_cmd(c->r, "XAUTOCLAIM %s %s %s %lld %s COUNT %lld",
                           c->stream, c->group, c->consumer, c->claim_idle_ms,
                           c->claim_cursor, c->batch);
        if (rep == NULL || read_error(c, rep, "XAUTOCLAIM")) {
            snprintf(c->claim_cursor, sizeof(c->claim_cursor), "0-0");
            c->next_claim_ms = now + c->claim_idle_ms / 2 + 1;
            return NULL;
        }
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
            rep->element[0]->type == REDIS_REPLY_STRING) {
            snprintf(c->claim_cursor, sizeof(c->claim_cursor), "%s",
                     rep->element[0]->str);
        } else {
            snprintf(c->claim_cursor, sizeof(c->claim_cursor), "0-0");
        }
        if (strcmp(c->claim_cursor, "0-0") == 0) {
            /* a whole sweep done: the next one after half the idle time */
            c->next_claim_ms = now + c->claim_idle_ms / 2 + 1;
        }
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
            count(rep->element[1]) > 0) {
            es_log(ES_INFO, "claimed pending entries",
                   ES_INT("count", (long long)count(rep->element[1])), ES_END);
            *entries = rep->element[1];
            return rep;
        }
        freeReplyObject(rep);
        return NULL;
    }
    *redelivered = 0;
    if (c->block_ms > 0) {
        rep = es_redis_cmd(c->r,
                           "XREADGROUP GROUP %s %s COUNT %lld BLOCK %lld "
                           "STREAMS %s >",
                           c->group, c->consumer, c->batch, c->block_ms,
                           c->stream);
    } else {
        /* block_ms 0: only what is there now (BLOCK 0 would wait forever) */
        rep = es_redis_cmd(c->r,
                           "XREADGROUP GROUP %s %s COUNT %lld "
                           "STREAMS %s >",
                           c->group, c->consumer, c->batch, c->stream);
    }
    if (rep == NULL || read_error(c, rep, "XREADGROUP >")) {
        return NULL;
    }
    *entries = es_group_entries(rep);
    if (count(*entries) == 0) {
        freeReplyObject(rep);
        *entries = NULL;
        return NULL;
    }
    return rep;
}

int es_consumer_deliveries(es_consumer *c, const char *const *ids, size_t n,
                           long long *counts)
{
    redisReply *rep;
    size_t k = 0;

    memset(counts, 0, n * sizeof(*counts));
    if (n == 0) {
        return 0;
    }
    /* one range query covers the batch: extended XPENDING form */
    rep = es_redis_cmd(c->r, "XPENDING %s %s %s %s %lld", c->stream, c->group,
                       ids[0], ids[n - 1], (long long)n * 4 + 16);
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        if (rep) {
            freeReplyObject(rep);
        }
        return -1;
    }
    for (size_t i = 0; i < rep->elements && k < n; i++) {
        const redisReply *p = rep->element[i];
        if (p->type != REDIS_REPLY_ARRAY || p->elements < 4) {
            continue;
        }
        /* both lists are in stream order: walk them together */
        while (k < n && strcmp(ids[k], p->element[0]->str) != 0) {
            k++;
        }
        if (k < n) {
            counts[k++] = p->element[3]->integer;
        }
    }
    freeReplyObject(rep);
    return 0;
}

int es_consumer_ack(es_consumer *c, const char *const *ids, size_t n)
{
    const char **argv = calloc(n + 3, sizeof(*argv));
    size_t *lens = calloc(n + 3, sizeof(*lens));
    redisReply *rep;
    int rc = -1;

    if (n == 0) {
        rc = 0;
        goto cleanup;
    }
    if (argv == NULL || lens == NULL) {
        es_log(ES_ERROR, "out of memory acknowledging", ES_END);
        goto cleanup;
    }
    argv[0] = "XACK";
    argv[1] = c->stream;
    argv[2] = c->group;
    for (size_t i = 0; i < n; i++) {
        argv[3 + i] = ids[i];
    }
    for (size_t i = 0; i < n + 3; i++) {
        lens[i] = strlen(argv[i]);
    }
    rep = es_redis_argv(c->r, (int)(n + 3), argv, lens);
    if (rep == NULL) {
        goto cleanup;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "xack failed", ES_STR("error", rep->str), ES_END);
    } else {
        rc = 0;
    }
    freeReplyObject(rep);

cleanup:
    free(argv);
    free(lens);
    return rc;
}
