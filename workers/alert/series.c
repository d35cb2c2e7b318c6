/*
 * series.c - reading a rule's buckets and sample records (see series.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es_ids.h"
#include "es_keys.h"
#include "es_time.h"
#include "es_log.h"
#include "series.h"

/* fields per bucket: n, neg, cs */
#define NF 3
static const char *const field_names[NF] = {"n", "neg", "cs"};

/* One HMGET: a bucket key and the buckets out[0..count) it holds. */
typedef struct {
    char key[256];
    es_bucket *out;
    int count;
    int first; /* the first bucket's minute of the hour, or hour of day */
    const char **argv;
    size_t *lens;
    char (*fields)[8];
} hmget;

static void hmget_free(hmget *g)
{
    free(g->argv);
    free(g->lens);
    free(g->fields);
}

static int hmget_build(hmget *g)
{
    size_t n = 2 + (size_t)g->count * NF;

    g->argv = calloc(n, sizeof(*g->argv));
    g->lens = calloc(n, sizeof(*g->lens));
    g->fields = calloc((size_t)g->count * NF, sizeof(*g->fields));
    if (g->argv == NULL || g->lens == NULL || g->fields == NULL) {
        return -1;
    }
    g->argv[0] = "HMGET";
    g->argv[1] = g->key;
    for (int i = 0; i < g->count; i++) {
        for (int f = 0; f < NF; f++) {
            char *s = g->fields[i * NF + f];
            snprintf(s, 8, "%02d:%s", (g->first + i) % 100, field_names[f]);
            g->argv[2 + i * NF + f] = s;
        }
    }
    for (size_t i = 0; i < n; i++) {
        g->lens[i] = strlen(g->argv[i]);
    }
    return 0;
}

static long long int_of(const redisReply *v)
{
    if (v == NULL || v->type != REDIS_REPLY_STRING) {
        return 0;
    }
    return strtoll(v->str, NULL, 10);
}

static void hmget_take(hmget *g, const redisReply *rep)
{
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
        rep->elements != (size_t)g->count * NF) {
        return; /* the buckets stay zero; the caller logged nothing wrong */
    }
    for (int i = 0; i < g->count; i++) {
        g->out[i].n = int_of(rep->element[i * NF]);
        g->out[i].neg = int_of(rep->element[i * NF + 1]);
        g->out[i].cs = int_of(rep->element[i * NF + 2]);
    }
}

/*
 * The HMGETs of count units (minutes or hours, numbered since the epoch)
 * from first: a new group starts when the unit's key changes. Returns
 * the number of groups, or -1.
 */
static int plan(hmget *gs, int max, const char *prefix, size_t plen,
                const char *topic, int minutes, long long first, int count,
                es_bucket *out)
{
    int ng = 0;
    char part[16];

    for (int i = 0; i < count; i++) {
        long long unit = first + i;
        time_t t = (time_t)(unit * (minutes ? 60 : 3600));
        struct tm tm;
        int sub;

        gmtime_r(&t, &tm);
        if (minutes) {
            strftime(part, sizeof(part), "%Y%m%d%H", &tm);
            sub = tm.tm_min;
        } else {
            strftime(part, sizeof(part), "%Y%m%d", &tm);
            sub = tm.tm_hour;
        }
        if (ng == 0 || sub == 0 || i == 0) {
            if (ng >= max) {
                return -1;
            }
            memset(&gs[ng], 0, sizeof(gs[ng]));
            if (es_tenant_key_p(gs[ng].key, sizeof(gs[ng].key), prefix, plen,
                                minutes ? ES_TK_SERIES_MINUTE
                                        : ES_TK_SERIES_HOUR,
                                topic, part) < 0) {
                return -1;
            }
            gs[ng].out = &out[i];
            gs[ng].first = sub;
            ng++;
        }
        gs[ng - 1].count++;
    }
    return ng;
}

#define MAX_GROUPS 40

int es_alert_series_load(es_redis *r, const char *prefix, size_t plen,
                         const char *topic, const es_spike_span *sp,
                         es_bucket *win, es_bucket *hours)
{
    hmget gs[MAX_GROUPS];
    es_redis_cmdv cmds[MAX_GROUPS];
    redisReply *reps[MAX_GROUPS];
    int nm, nh, n, rc = -1;

    memset(win, 0, (size_t)sp->nminutes * sizeof(*win));
    memset(hours, 0, (size_t)sp->nhours * sizeof(*hours));
    nm = plan(gs, MAX_GROUPS, prefix, plen, topic, 1, sp->first_minute,
              sp->nminutes, win);
    nh = nm < 0 ? -1
                : plan(gs + nm, MAX_GROUPS - nm, prefix, plen, topic, 0,
                       sp->first_hour, sp->nhours, hours);
    if (nm < 0 || nh < 0) {
        es_log(ES_ERROR, "series span too long", ES_STR("topic", topic),
               ES_END);
        return -1;
    }
    n = nm + nh;
    for (int i = 0; i < n; i++) {
        if (hmget_build(&gs[i]) != 0) {
            es_log(ES_ERROR, "out of memory reading series", ES_END);
            goto cleanup;
        }
        cmds[i].argc = 2 + gs[i].count * NF;
        cmds[i].argv = gs[i].argv;
        cmds[i].lens = gs[i].lens;
    }
    if (es_redis_pipeline(r, cmds, n, reps) != 0) {
        goto cleanup;
    }
    rc = 0;
    for (int i = 0; i < n; i++) {
        if (reps[i] && reps[i]->type == REDIS_REPLY_ERROR) {
            es_log(ES_ERROR, "series read failed", ES_STR("key", gs[i].key),
                   ES_STR("error", reps[i]->str), ES_END);
            rc = -1;
        } else {
            hmget_take(&gs[i], reps[i]);
        }
        if (reps[i]) {
            freeReplyObject(reps[i]);
        }
    }

cleanup:
    for (int i = 0; i < n; i++) {
        hmget_free(&gs[i]);
    }
    return rc;
}

redisReply *es_alert_sample_records(es_redis *r, const char *prefix,
                                    size_t plen, const char *topic,
                                    int negative, long long from_ms,
                                    long long to_ms, size_t max)
{
    char meta[256], max_s[24], min_s[24], count[24], pre[256];
    const char **argv = NULL;
    size_t *lens = NULL, n;
    char(*hours)[11] = NULL;
    redisReply *ids, *recs = NULL;

    if (es_tenant_key_p(meta, sizeof(meta), prefix, plen, ES_TK_META) < 0 ||
        plen >= sizeof(pre)) {
        return NULL;
    }
    memcpy(pre, prefix, plen);
    pre[plen] = '\0';
    snprintf(max_s, sizeof(max_s), "%lld", to_ms);
    snprintf(min_s, sizeof(min_s), "%lld", from_ms);
    snprintf(count, sizeof(count), "%zu", max);
    /* the newest ids and creation times (lib/redis/read.lua) */
    ids = es_redis_cmd(r, "FCALL_RO es_recent 1 %s %s %s %s %s %s 0 %s desc",
                       meta, pre, topic, negative ? "negative" : "", min_s,
                       max_s, count);
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY || ids->elements < 2) {
        goto cleanup;
    }
    n = ids->elements / 2;
    argv = calloc(2 * n + 5, sizeof(*argv));
    lens = calloc(2 * n + 5, sizeof(*lens));
    hours = calloc(n, sizeof(*hours));
    if (argv == NULL || lens == NULL || hours == NULL) {
        goto cleanup;
    }
    argv[0] = "FCALL_RO";
    argv[1] = "es_records";
    argv[2] = "1";
    argv[3] = meta;
    argv[4] = pre;
    for (size_t i = 0; i < 5; i++) {
        lens[i] = strlen(argv[i]);
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *id = ids->element[2 * i];
        const redisReply *ms = ids->element[2 * i + 1];
        uint64_t num;
        /* ids come from Redis: each is checked before it is sent back */
        if (id->type != REDIS_REPLY_STRING || ms->type != REDIS_REPLY_STRING ||
            es_comment_id_parse(id->str, id->len, &num) != 0 ||
            strncmp(id->str, "t1_", 3) == 0) {
            goto cleanup;
        }
        es_time_hour(strtoll(ms->str, NULL, 10), hours[i]);
        argv[5 + 2 * i] = id->str;
        lens[5 + 2 * i] = id->len;
        argv[6 + 2 * i] = hours[i];
        lens[6 + 2 * i] = 10;
    }
    recs = es_redis_argv(r, (int)(2 * n + 5), argv, lens);
    if (recs && recs->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(recs);
        recs = NULL;
    }

cleanup:
    if (ids) {
        freeReplyObject(ids);
    }
    free(argv);
    free(lens);
    free(hours);
    return recs;
}
