/*
 * prune.c - deleting old closed delivery records (see prune.h).
 *
 * HSCAN walks the hash a page at a time, so a tenant with many records
 * never costs one long Redis command; HDEL of a record that was closed
 * long ago races nothing (only pending records are written).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "es_keys.h"
#include "es_log.h"
#include "prune.h"

/* 1 when the record text is closed and created before cutoff */
static int stale(const redisReply *v, long long cutoff)
{
    json_t *o = json_loadb(v->str, v->len, 0, NULL);
    const char *st = json_string_value(json_object_get(o, "status"));
    long long created =
        (long long)json_number_value(json_object_get(o, "created_ms"));
    int old = st != NULL && strcmp(st, "pending") != 0 && created > 0 &&
              created < cutoff;

    json_decref(o);
    return old;
}

long long es_alert_prune_deliveries(es_redis *r, const char *tenant,
                                    long long now_ms, long long keep_ms)
{
    char key[160], cursor[32] = "0";
    long long n = 0;

    if (es_tenant_key(key, sizeof(key), tenant, ES_TK_DELIVERIES) < 0) {
        return -1;
    }
    do {
        redisReply *rep = es_redis_cmd(r, "HSCAN %s %s COUNT 200", key, cursor);
        const redisReply *kv;

        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
            rep->elements != 2) {
            if (rep) {
                freeReplyObject(rep);
            }
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        kv = rep->element[1];
        for (size_t i = 0; i + 1 < kv->elements; i += 2) {
            redisReply *d;
            if (kv->element[i + 1]->type != REDIS_REPLY_STRING ||
                !stale(kv->element[i + 1], now_ms - keep_ms)) {
                continue;
            }
            d = es_redis_cmd(r, "HDEL %s %b", key, kv->element[i]->str,
                             kv->element[i]->len);
            n += d && d->type == REDIS_REPLY_INTEGER ? d->integer : 0;
            if (d) {
                freeReplyObject(d);
            }
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    if (n > 0) {
        es_log(ES_INFO, "old delivery records deleted",
               ES_STR("tenant", tenant), ES_INT("count", n), ES_END);
    }
    return n;
}
