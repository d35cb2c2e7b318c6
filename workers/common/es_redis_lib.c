/*
 * es_redis_lib.c - loading a Redis function library from a worker (see
 * es_redis_lib.h).
 */
#include "es_redis_lib.h"

#include "es_log.h"

/* The version Redis holds: 0 for none, or a library from before versions. */
static long held_version(es_redis *r, const es_lua_lib *lib, int *stopping)
{
    redisReply *rep = es_redis_cmd(r, "FCALL_RO %s 0", lib->version_fn);
    long have = 0;

    if (rep == NULL) {
        *stopping = 1;
        return 0;
    }
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0 &&
        rep->integer < 1000000) {
        have = (long)rep->integer;
    }
    freeReplyObject(rep);
    return have;
}

int es_redis_load_library(es_redis *r, const es_lua_lib *lib)
{
    redisReply *rep;
    int stopping = 0;
    long have;

    have = held_version(r, lib, &stopping);
    if (stopping) {
        return -1;
    }

    switch (es_lua_plan_for(have, lib)) {
    case ES_LUA_SAME:
        return 0;
    case ES_LUA_NEWER:
        es_log(ES_WARN,
               "redis holds a newer function library: kept, not downgraded; "
               "upgrade this worker",
               ES_STR("library", lib->name), ES_INT("redis_version", have),
               ES_INT("version", lib->version), ES_END);
        return 0;
    case ES_LUA_LOAD:
        break;
    }

    rep = es_redis_cmd(r, "FUNCTION LOAD REPLACE %b", lib->code, lib->len);
    if (rep == NULL) {
        return -1;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "cannot load redis functions",
               ES_STR("library", lib->name), ES_STR("error", rep->str), ES_END);
        freeReplyObject(rep);
        return -1;
    }
    freeReplyObject(rep);
    es_log(ES_INFO, "loaded redis function library",
           ES_STR("library", lib->name), ES_INT("version", lib->version),
           ES_INT("redis_version", have), ES_END);
    return 0;
}
