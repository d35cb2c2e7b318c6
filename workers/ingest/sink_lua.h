/*
 * sink_lua.h - source of the Redis function library the ingest sink loads.
 */
#ifndef ES_INGEST_SINK_LUA_H
#define ES_INGEST_SINK_LUA_H

extern const char es_sink_lua[];

#endif
