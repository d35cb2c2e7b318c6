/*
 * es_redis_lib.h - loading a Redis function library from a worker.
 *
 * The blocking twin of the module's loader (ngx_http_echostream_redis_
 * conn.c): both ask Redis for the library's version first and follow the
 * same rule (es_lua_plan_for), so a worker never downgrades code a newer
 * worker or module already loaded.
 */
#ifndef ES_REDIS_LIB_H
#define ES_REDIS_LIB_H

#include "es_lua.h"
#include "es_redis.h"

/*
 * Loads lib unless Redis holds the same or a newer version (a newer one
 * is kept and logged as a warning). Returns 0, or -1 when Redis refused
 * the code (logged) or the worker is stopping.
 */
int es_redis_load_library(es_redis *r, const es_lua_lib *lib);

#endif
