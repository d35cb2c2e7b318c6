/*
 * es_group.c - consumer-group creation and pruning (see es_group.h).
 */
#include <string.h>
#include <strings.h>

#include "es_group.h"
#include "es_log.h"
#include "es_worker.h"

int es_group_create(es_redis *r, const char *stream, const char *group)
{
    redisReply *rep =
        es_redis_cmd(r, "XGROUP CREATE %s %s 0 MKSTREAM", stream, group);
    int rc = 1;

    if (rep == NULL) {
        return es_stopping() ? 0 : -1;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        if (strncmp(rep->str, "BUSYGROUP", 9) == 0) {
            rc = 0;
        } else {
            es_log(ES_ERROR, "cannot create consumer group",
                   ES_STR("stream", stream), ES_STR("group", group),
                   ES_STR("error", rep->str), ES_END);
            rc = -1;
        }
    } else {
        es_log(ES_INFO, "consumer group created", ES_STR("group", group),
               ES_END);
    }
    freeReplyObject(rep);
    return rc;
}

/*
 * Deletes one consumer only if, at that instant, it still holds nothing and
 * is still idle: checked and done in one atomic script, so an entry it took
 * meanwhile can never be dropped from the pending list.
 */
static const char prune_one_lua[] =
    "local cs = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])\n"
    "for _, c in ipairs(cs) do\n"
    "  local f = {}\n"
    "  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
    "  if f['name'] == ARGV[2] then\n"
    "    if f['pending'] == 0 and f['idle'] >= tonumber(ARGV[3]) then\n"
    "      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])\n"
    "      return 1\n"
    "    end\n"
    "    return 0\n"
    "  end\n"
    "end\n"
    "return 0\n";

/* The value of field name in a flat [k, v, k, v…] reply, or NULL. */
static const redisReply *field(const redisReply *flat, const char *name)
{
    if (flat == NULL || flat->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }
    for (size_t i = 0; i + 1 < flat->elements; i += 2) {
        const redisReply *k = flat->element[i];
        if (k->type == REDIS_REPLY_STATUS || k->type == REDIS_REPLY_STRING) {
            if (strcasecmp(k->str, name) == 0) {
                return flat->element[i + 1];
            }
        }
    }
    return NULL;
}

int es_group_prune(es_redis *r, const char *stream, const char *group,
                   const char *keep, long long min_idle_ms)
{
    redisReply *rep = es_redis_cmd(r, "XINFO CONSUMERS %s %s", stream, group);
    int deleted = 0;

    if (rep == NULL) {
        return es_stopping() ? 0 : -1;
    }
    if (rep->type != REDIS_REPLY_ARRAY) {
        es_log(ES_WARN, "cannot list consumers", ES_STR("group", group),
               ES_STR("error",
                      rep->type == REDIS_REPLY_ERROR ? rep->str : "bad reply"),
               ES_END);
        freeReplyObject(rep);
        return -1;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *c = rep->element[i];
        const redisReply *name = field(c, "name");
        const redisReply *pending = field(c, "pending");
        const redisReply *idle = field(c, "idle");
        redisReply *d;

        if (name == NULL || pending == NULL || idle == NULL ||
            name->type != REDIS_REPLY_STRING ||
            pending->type != REDIS_REPLY_INTEGER ||
            idle->type != REDIS_REPLY_INTEGER) {
            continue;
        }
        if (pending->integer != 0 || idle->integer < min_idle_ms ||
            (keep && strcmp(name->str, keep) == 0)) {
            continue;
        }
        d = es_redis_cmd(r, "EVAL %s 1 %s %s %s %lld", prune_one_lua, stream,
                         group, name->str, min_idle_ms);
        if (d && d->type == REDIS_REPLY_INTEGER && d->integer == 1) {
            deleted++;
        }
        if (d) {
            freeReplyObject(d);
        }
    }
    freeReplyObject(rep);
    if (deleted > 0) {
        es_log(ES_INFO, "idle consumers pruned", ES_STR("group", group),
               ES_INT("count", deleted), ES_END);
    }
    return deleted;
}

const redisReply *es_group_entries(const redisReply *rep)
{
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_ARRAY ||
        rep->element[0]->elements < 2) {
        return NULL;
    }
    return rep->element[0]->element[1];
}
