/*
 * deadletter.c - setting aside an entry that keeps failing (see
 * deadletter.h).
 */
#include "deadletter.h"

#include "es_keys.h"
#include "es_log.h"

int es_enrich_dead_letter(es_consumer *c, const char *id, const char *error,
                          long long deliveries)
{
    redisReply *rep = es_redis_cmd(
        c->r, "FCALL es_enrich_dlq 2 %s %s %s %s %s %lld %d", ES_KEY_STREAM,
        ES_KEY_DLQ, c->group, id, error, deliveries, ES_DLQ_MAX_LEN);
    int rc = -1;

    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_INTEGER) {
        rc = rep->integer > 0 ? 1 : 0;
        if (rc == 1) {
            es_log(ES_WARN, "entry moved to the dead-letter stream",
                   ES_STR("stream_id", id), ES_STR("error", error),
                   ES_INT("deliveries", deliveries), ES_END);
        }
    } else {
        es_log(ES_ERROR, "dead-letter move failed", ES_STR("stream_id", id),
               ES_STR("error",
                      rep->type == REDIS_REPLY_ERROR ? rep->str : "reply"),
               ES_END);
    }
    freeReplyObject(rep);
    return rc;
}
