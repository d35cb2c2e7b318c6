/*
 * es_lua.h - the Redis function libraries of lib/redis/, as the programs
 * carry them, and the rule for loading one.
 *
 * Each library is a .lua file under lib/redis/; the build turns it into
 * C (lib/redis/luagen.c writes build/gen/es_lua_<file>.c), with the
 * schema constants (es_schema.h) as a prelude and, registered last, a
 * function "<library>_version" that answers the version the file
 * declares. Loading asks Redis for that version first and never replaces
 * a newer one: during a rolling upgrade the old and the new programs do
 * not overwrite each other's code back and forth, and a program older
 * than the code in Redis says so in its log instead of downgrading it.
 */
#ifndef ES_LUA_H
#define ES_LUA_H

#include <stddef.h>

typedef struct {
    const char *name;       /* "echostream_tenant" */
    const char *version_fn; /* "echostream_tenant_version" */
    const char *code;       /* the whole library, NUL-terminated */
    size_t len;             /* strlen(code) */
    long version;           /* >= 1 */
} es_lua_lib;

/* the libraries (build/gen/es_lua_<file>.c) */
extern const es_lua_lib es_lua_tenancy;   /* the module: sign-in */
extern const es_lua_lib es_lua_tenant;    /* the module: tenant writes */
extern const es_lua_lib es_lua_enrich;    /* enrich: tenant data */
extern const es_lua_lib es_lua_ingest;    /* ingest: the comment stream */
extern const es_lua_lib es_lua_summarize; /* summarize: request lives */
extern const es_lua_lib es_lua_alert;     /* alert: events, deliveries */
extern const es_lua_lib es_lua_read;      /* readers of stored comments */

typedef enum {
    ES_LUA_LOAD, /* Redis lacks it or holds an older version: replace */
    ES_LUA_SAME, /* Redis holds this version: nothing to do */
    ES_LUA_NEWER /* Redis holds a newer version: keep it, and say so */
} es_lua_plan;

/*
 * What to do when Redis answered the version function with have (0 when
 * the library or its version function is missing, or the answer was not
 * a positive integer).
 */
es_lua_plan es_lua_plan_for(long have, const es_lua_lib *lib);

#endif
