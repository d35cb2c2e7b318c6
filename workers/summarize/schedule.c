/*
 * schedule.c - queueing the daily summaries (schedule.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "es_ids.h"
#include "es_keys.h"
#include "es_req_tz.h"
#include "digest.h"
#include "es_log.h"
#include "es_time.h"
#include "localday.h"
#include "schedule.h"

#define STREAM_MAXLEN "10000"
#define KEEP_REQUESTS "100"
#define DEFAULT_HOUR  7
/* HMGET meta, GET summary_sched, HKEYS topics, GET digest_sched */
#define TENANT_CMDS 4

static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

void es_sum_request_id(long long now_ms, char out[15])
{
    unsigned char rnd[6];
    long long t = now_ms;

    for (int i = 8; i-- > 0;) {
        out[i] = b36[t % 36];
        t /= 36;
    }
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        for (size_t i = 0; i < sizeof(rnd); i++) {
            rnd[i] = (unsigned char)rand();
        }
    }
    for (int i = 0; i < 6; i++) {
        out[8 + i] = b36[rnd[i] % 36];
    }
    out[14] = '\0';
}

/* Queues tenant's summaries of date (topics from the HKEYS reply). */
static int queue_day(es_summarizer *s, const char *tenant, const char *date,
                     const redisReply *topics, long long now_ms)
{
    char sched[256], reqs[256], ms[24], iso[ES_TIME_STR_SIZE];
    size_t n =
        topics && topics->type == REDIS_REPLY_ARRAY ? topics->elements : 0;
    size_t argc = 0, cap = 12 + 2 * (n + 1);
    const char **argv = calloc(cap, sizeof(char *));
    char(*ids)[15] = calloc(n + 1, sizeof(*ids));
    redisReply *rep = NULL;
    int rc = -1;

    if (argv == NULL || ids == NULL) {
        goto done;
    }
    es_tenant_key(sched, sizeof(sched), tenant, ES_TK_SUMMARY_SCHED);
    es_tenant_key(reqs, sizeof(reqs), tenant, ES_TK_SUMMARY_REQUESTS);
    snprintf(ms, sizeof(ms), "%lld", now_ms);
    es_time_str(now_ms, iso);
    argv[argc++] = "FCALL";
    argv[argc++] = "es_summary_schedule";
    argv[argc++] = "3";
    argv[argc++] = sched;
    argv[argc++] = ES_KEY_SUMMARY_REQUESTS;
    argv[argc++] = reqs;
    argv[argc++] = tenant;
    argv[argc++] = date;
    argv[argc++] = ms;
    argv[argc++] = iso;
    argv[argc++] = STREAM_MAXLEN;
    argv[argc++] = KEEP_REQUESTS;
    /* the topics first, the whole tenant last: its brief comes after */
    for (size_t i = 0; i < n; i++) {
        const redisReply *t = topics->element[i];
        if (t->type != REDIS_REPLY_STRING || !es_sum_id_ok(t->str)) {
            continue;
        }
        es_sum_request_id(now_ms, ids[i]);
        argv[argc++] = ids[i];
        argv[argc++] = t->str;
    }
    es_sum_request_id(now_ms, ids[n]);
    argv[argc++] = ids[n];
    argv[argc++] = "";
    rep = es_redis_argv(s->r, (int)argc, argv, NULL);
    if (rep == NULL) {
        goto done;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "summary function failed",
               ES_STR("call", "es_summary_schedule"), ES_STR("error", rep->str),
               ES_END);
    } else if (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0) {
        s->scheduled += rep->integer;
        es_log(ES_INFO, "daily summaries queued", ES_STR("tenant", tenant),
               ES_STR("date", date), ES_INT("requests", rep->integer), ES_END);
    }
    rc = 0;

done:
    freeReplyObject(rep);
    free(argv);
    free(ids);
    return rc;
}

/* Queues tenant's day when its hour has come; replies of TENANT_CMDS. */
static int consider(es_summarizer *s, const char *tenant, redisReply **rep,
                    long long now_ms)
{
    const redisReply *meta = rep[0], *sched = rep[1];
    char tz[128] = "UTC", date[ES_SUM_DATE_SIZE];
    long long hour_set = DEFAULT_HOUR, created_ms = 0, start_s, end_s;
    es_sum_date today, day, last;
    int hour;

    if (meta && meta->type == REDIS_REPLY_ARRAY && meta->elements == 3) {
        if (meta->element[0]->type == REDIS_REPLY_STRING) {
            char *end;
            long long h = strtoll(meta->element[0]->str, &end, 10);
            hour_set = *end == '\0' && h >= 0 && h <= 23 ? h : DEFAULT_HOUR;
        }
        if (meta->element[1]->type == REDIS_REPLY_STRING &&
            es_req_time_zone_valid(ES_REQ_ZONEINFO, meta->element[1]->str,
                                   strlen(meta->element[1]->str))) {
            snprintf(tz, sizeof(tz), "%s", meta->element[1]->str);
        }
        if (meta->element[2]->type == REDIS_REPLY_STRING) {
            created_ms = strtoll(meta->element[2]->str, NULL, 10);
        }
    }
    /* the digest of the day last queued, once its summaries are written */
    if (es_sum_digest_tick(
            s, tenant, tz,
            sched && sched->type == REDIS_REPLY_STRING ? sched->str : NULL,
            rep[3] && rep[3]->type == REDIS_REPLY_STRING ? rep[3]->str
                                                         : NULL) != 0) {
        return -1;
    }
    if (es_sum_local_now(tz, now_ms / 1000, &today, &hour) != 0 ||
        hour < hour_set) {
        return 0;
    }
    day = es_sum_date_add(today, -1);
    if (sched && sched->type == REDIS_REPLY_STRING &&
        es_sum_date_parse(sched->str, &last) == 0 &&
        es_sum_date_cmp(last, day) >= 0) {
        return 0;
    }
    if (es_sum_day_bounds(tz, day, &start_s, &end_s) != 0 ||
        created_ms / 1000 >= end_s) {
        return 0;
    }
    es_sum_date_str(day, date);
    return queue_day(s, tenant, date, rep[2], now_ms);
}

int es_sum_schedule_tick(es_summarizer *s, long long now_s)
{
    redisReply *all = es_redis_cmd(s->r, "SMEMBERS %s", ES_KEY_TENANTS);
    redisReply **rep = NULL;
    es_redis_cmdv *cmds = NULL;
    char(*keys)[4][256] = NULL;
    const char *(*argv)[5] = NULL;
    size_t n, ncmd = 0;
    int rc = -1;

    if (all == NULL) {
        return -1;
    }
    if (all->type != REDIS_REPLY_ARRAY || all->elements == 0) {
        freeReplyObject(all);
        return 0;
    }
    n = all->elements;
    keys = calloc(n, sizeof(*keys));
    argv = calloc(n * TENANT_CMDS, sizeof(*argv));
    cmds = calloc(n * TENANT_CMDS, sizeof(*cmds));
    rep = calloc(n * TENANT_CMDS, sizeof(*rep));
    if (keys == NULL || argv == NULL || cmds == NULL || rep == NULL) {
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = all->element[i]->str;
        if (all->element[i]->type != REDIS_REPLY_STRING ||
            es_tenant_id_valid(t, strlen(t)) != 0) {
            continue;
        }
        es_tenant_key(keys[i][0], 256, t, ES_TK_META);
        es_tenant_key(keys[i][1], 256, t, ES_TK_SUMMARY_SCHED);
        es_tenant_key(keys[i][2], 256, t, ES_TK_TOPICS);
        argv[ncmd][0] = "HMGET";
        argv[ncmd][1] = keys[i][0];
        argv[ncmd][2] = "summary_hour";
        argv[ncmd][3] = "time_zone";
        argv[ncmd][4] = "created_ms";
        cmds[ncmd] = (es_redis_cmdv){5, argv[ncmd], NULL};
        ncmd++;
        argv[ncmd][0] = "GET";
        argv[ncmd][1] = keys[i][1];
        cmds[ncmd] = (es_redis_cmdv){2, argv[ncmd], NULL};
        ncmd++;
        argv[ncmd][0] = "HKEYS";
        argv[ncmd][1] = keys[i][2];
        cmds[ncmd] = (es_redis_cmdv){2, argv[ncmd], NULL};
        ncmd++;
        es_tenant_key(keys[i][3], 256, t, ES_TK_DIGEST_SCHED);
        argv[ncmd][0] = "GET";
        argv[ncmd][1] = keys[i][3];
        cmds[ncmd] = (es_redis_cmdv){2, argv[ncmd], NULL};
        ncmd++;
    }
    if (ncmd == 0) {
        rc = 0;
        goto done;
    }
    if (es_redis_pipeline(s->r, cmds, (int)ncmd, rep) != 0) {
        goto done;
    }
    rc = 0;
    for (size_t i = 0, c = 0; i < n && c < ncmd; i++) {
        if (keys[i][0][0] == '\0') {
            continue;
        }
        if (rc == 0 &&
            consider(s, all->element[i]->str, &rep[c], now_s * 1000) != 0) {
            rc = -1;
        }
        c += TENANT_CMDS;
    }

done:
    for (size_t i = 0; rep && i < ncmd; i++) {
        freeReplyObject(rep[i]);
    }
    free(rep);
    free(cmds);
    free(argv);
    free(keys);
    freeReplyObject(all);
    return rc;
}
