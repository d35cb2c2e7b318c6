/*
 * ngx_http_echostream_functions.h - the Redis function libraries of the
 * module.
 *
 * Writes that must change several keys at once (a tenant's first sign-in,
 * a topic together with the watchlist union) run as Redis functions, so
 * they are atomic and race-free across every nginx worker and node. The
 * code is Lua under lib/redis/, built into C (es_lua.h). The connection
 * loads each library as its first commands after connecting, ahead of
 * anything a request sends, so a restarted or flushed Redis gets them
 * back with no reload of nginx; it never replaces a newer version.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_FUNCTIONS_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_FUNCTIONS_H_INCLUDED_

#include "es_lua.h"

/*
 * NULL-terminated list of every library, in load order: es_lua_tenancy
 * (sign-in: lib/redis/tenancy.lua), es_lua_tenant (topics, rules,
 * members, invites, settings: lib/redis/tenant.lua) and es_lua_read (the
 * stored comments as records and recent ids: lib/redis/read.lua)
 */
extern const es_lua_lib *const ngx_http_echostream_function_libs[];

#endif /* _NGX_HTTP_ECHOSTREAM_FUNCTIONS_H_INCLUDED_ */
