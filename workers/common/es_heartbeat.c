/*
 * es_heartbeat.c - liveness reports (see es_heartbeat.h).
 *
 * Reports use es_redis_try, not the retrying call: a worker whose Redis is
 * down must keep doing its own bounded work (and notice SIGTERM), not hang
 * in a heartbeat.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es_heartbeat.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_metrics.h"

#define ES_HEARTBEAT_PRUNE_MS (3600LL * 1000)

static void field_name(const es_heartbeat *hb, char *buf, size_t size)
{
    snprintf(buf, size, "%s:%s", hb->w->info->name, hb->w->instance);
}

void es_heartbeat_now(es_heartbeat *hb, json_t *status)
{
    char field[160];
    char *text;
    json_t *o;
    redisReply *reply;

    o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "worker", hb->w->info->name,
                  "instance", hb->w->instance, "pid", (json_int_t)getpid(),
                  "started_ms", (json_int_t)hb->w->started_ms, "beat_ms",
                  (json_int_t)es_now_ms(), "interval_ms",
                  (json_int_t)hb->interval_ms);
    if (o == NULL) {
        return;
    }
    json_object_set_new(o, "status",
                        status ? json_incref(status) : json_object());
    /* the process's metrics ride along, for the module's /metrics */
    json_object_set_new(o, "metrics", es_metrics_json());
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL) {
        return;
    }
    field_name(hb, field, sizeof(field));
    reply = es_redis_try(hb->r, "HSET %s %s %s", ES_KEY_WORKERS, field, text);
    /* at debug level, a sign of life in the log itself */
    es_log(ES_DEBUG, "heartbeat", ES_STR("field", field),
           ES_STR("stored", reply ? "yes" : "no"), ES_END);
    if (reply) {
        freeReplyObject(reply);
    }
    free(text);
    hb->last_ms = es_mono_ms();
}

void es_heartbeat_tick(es_heartbeat *hb, json_t *status)
{
    if (es_mono_ms() - hb->last_ms >= hb->interval_ms) {
        es_heartbeat_now(hb, status);
    }
}

static void prune(es_heartbeat *hb)
{
    redisReply *reply = es_redis_cmd(hb->r, "HGETALL %s", ES_KEY_WORKERS);
    long long now = es_now_ms();

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        if (reply) {
            freeReplyObject(reply);
        }
        return;
    }
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        json_t *o = json_loads(reply->element[i + 1]->str, 0, NULL);
        json_int_t beat =
            o ? json_integer_value(json_object_get(o, "beat_ms")) : 0;
        if (now - beat > ES_HEARTBEAT_PRUNE_MS) {
            redisReply *d = es_redis_try(hb->r, "HDEL %s %s", ES_KEY_WORKERS,
                                         reply->element[i]->str);
            if (d) {
                freeReplyObject(d);
            }
        }
        json_decref(o);
    }
    freeReplyObject(reply);
}

void es_heartbeat_start(es_heartbeat *hb, es_worker *w, es_redis *r,
                        long long interval_ms, json_t *status)
{
    hb->w = w;
    hb->r = r;
    hb->interval_ms = interval_ms;
    hb->last_ms = 0;
    prune(hb);
    es_heartbeat_now(hb, status);
}

void es_heartbeat_stop(es_heartbeat *hb)
{
    char field[160];
    redisReply *reply;

    field_name(hb, field, sizeof(field));
    reply = es_redis_try(hb->r, "HDEL %s %s", ES_KEY_WORKERS, field);
    if (reply) {
        freeReplyObject(reply);
    }
}
