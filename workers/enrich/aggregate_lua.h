/*
 * aggregate_lua.h - the Redis function library "echostream_enrich" (source
 * text in aggregate_lua.c, documented there and in docs/enrich.md).
 */
#ifndef ES_ENRICH_AGGREGATE_LUA_H
#define ES_ENRICH_AGGREGATE_LUA_H

#define ES_ENRICH_LIBRARY "echostream_enrich"

extern const char es_enrich_lua[];

#endif
