/*
 * sub_cursor.c - per-subreddit poll state in Redis (see sub_cursor.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_ids.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_worker.h"
#include "sub_cursor.h"

static void apply_field(es_sub *s, const char *k, const char *v, size_t n)
{
    uint64_t num;

    if (strcmp(k, "before") == 0) {
        if (n + 1 < sizeof(s->before) && n > 3 && memcmp(v, "t1_", 3) == 0 &&
            es_comment_id_parse(v, n, &num) == 0) {
            memcpy(s->before, v, n);
            s->before[n] = '\0';
            s->before_num = num;
        } else if (n > 0) {
            es_log(ES_WARN, "ignoring invalid saved cursor",
                   ES_STR("sub", s->name), ES_END);
        }
    } else if (strcmp(k, "rate") == 0) {
        double r = strtod(v, NULL);
        if (r >= 0 && r < 1e6) {
            s->rate = r;
            s->have_rate = 1;
        }
    } else if (strcmp(k, "interval") == 0) {
        double iv = strtod(v, NULL);
        if (iv > 0 && iv < 86400) {
            s->interval = iv;
        }
    } else if (strcmp(k, "seen") == 0) {
        s->seen_num = strtoull(v, NULL, 10);
    } else if (strcmp(k, "last_poll_ms") == 0) {
        s->last_poll_ms = strtoll(v, NULL, 10);
    } else if (strcmp(k, "last_new") == 0) {
        s->last_new = strtoll(v, NULL, 10);
    }
}

int es_sub_load(es_sub *s, es_redis *r, const char *name,
                double default_interval)
{
    char key[128];
    redisReply *reply;

    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->interval = default_interval;
    s->group = -1;
    if (es_key_cursor(key, sizeof(key), s->name) < 0) {
        return 0;
    }
    reply = es_redis_cmd(r, "HGETALL %s", key);
    if (reply == NULL) {
        return -1;
    }
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
            redisReply *k = reply->element[i], *v = reply->element[i + 1];
            if (k->type == REDIS_REPLY_STRING &&
                v->type == REDIS_REPLY_STRING) {
                apply_field(s, k->str, v->str, v->len);
            }
        }
    }
    freeReplyObject(reply);
    /* a cursor of an older version: complete up to its newest comment */
    if (s->seen_num < s->before_num) {
        s->seen_num = s->before_num;
    }
    if (s->before[0]) {
        es_log(ES_INFO, "cursor restored", ES_STR("sub", s->name),
               ES_STR("before", s->before), ES_DBL("rate", s->rate), ES_END);
    }
    return 0;
}

int es_sub_rewind(es_sub *s, es_redis *r)
{
    char key[128];
    redisReply *reply;
    es_sub saved;

    if (es_key_cursor(key, sizeof(key), s->name) < 0) {
        return 0;
    }
    /* HGETALL, as es_sub_load: the ingest ACL user has it */
    reply = es_redis_cmd(r, "HGETALL %s", key);
    if (reply == NULL) {
        return -1;
    }
    memset(&saved, 0, sizeof(saved));
    snprintf(saved.name, sizeof(saved.name), "%s", s->name);
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
            redisReply *k = reply->element[i], *v = reply->element[i + 1];
            if (k->type == REDIS_REPLY_STRING &&
                v->type == REDIS_REPLY_STRING &&
                (strcmp(k->str, "before") == 0 ||
                 strcmp(k->str, "seen") == 0)) {
                apply_field(&saved, k->str, v->str, v->len);
            }
        }
    }
    freeReplyObject(reply);
    /* no saved cursor at all (a Redis that lost everything): the one in
     * memory is all there is; keep it rather than start without history */
    if (saved.before[0] == '\0' || saved.before_num >= s->before_num) {
        return 0;
    }
    es_log(ES_WARN, "cursor rewound to the saved one", ES_STR("sub", s->name),
           ES_STR("before", saved.before), ES_STR("was", s->before), ES_END);
    memcpy(s->before, saved.before, sizeof(s->before));
    s->before_num = saved.before_num;
    s->seen_num =
        saved.seen_num > saved.before_num ? saved.seen_num : saved.before_num;
    return 0;
}

int es_sub_save(const es_sub *s, es_redis *r, unsigned long conn)
{
    char key[128], rate[32], iv[32], last[32], newc[32], seen[32];
    redisReply *reply;

    if (es_key_cursor(key, sizeof(key), s->name) < 0) {
        return 0;
    }
    snprintf(rate, sizeof(rate), "%.6g", s->rate);
    snprintf(iv, sizeof(iv), "%.3f", s->interval);
    snprintf(last, sizeof(last), "%lld", s->last_poll_ms);
    snprintf(newc, sizeof(newc), "%lld", s->last_new);
    snprintf(seen, sizeof(seen), "%llu", (unsigned long long)s->seen_num);
    reply = es_redis_cmd_on(r, conn,
                            "HSET %s before %s seen %s rate %s interval %s "
                            "last_poll_ms %s last_new %s",
                            key, s->before, seen, rate, iv, last, newc);
    if (reply == NULL) {
        return es_stopping() ? -1 : 0;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "cursor write failed", ES_STR("sub", s->name),
               ES_STR("error", reply->str), ES_END);
    }
    freeReplyObject(reply);
    return 0;
}

void es_sub_advance(es_sub *s, const char *id, size_t n, uint64_t num)
{
    if (s->before[0] && num <= s->before_num) {
        return;
    }
    if (n + 4 > sizeof(s->before)) {
        return;
    }
    snprintf(s->before, sizeof(s->before), "t1_%.*s", (int)n, id);
    s->before_num = num;
    if (s->seen_num < num) {
        s->seen_num = num;
    }
}
