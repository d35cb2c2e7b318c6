/*
 * ngx_http_echostream_functions.h - the Redis function libraries of the
 * module.
 *
 * Writes that must change several keys at once (a tenant's first sign-in,
 * a topic together with the watchlist union) run as Redis functions, so
 * they are atomic and race-free across every nginx worker and node. The
 * connection loads each library (FUNCTION LOAD REPLACE) as its first
 * commands after connecting, ahead of anything a request sends, so a
 * restarted or flushed Redis gets them back with no reload of nginx.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_FUNCTIONS_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_FUNCTIONS_H_INCLUDED_

/* library "echostream_tenancy" (ngx_http_echostream_tenancy_lua.c) */
extern const char ngx_http_echostream_lua_tenancy[];

/* library "echostream_tenant" (ngx_http_echostream_tenant_lua.c): topics,
 * members, settings */
extern const char ngx_http_echostream_lua_tenant[];

/* NULL-terminated list of every library, in load order */
extern const char *const ngx_http_echostream_function_libs[];

#endif /* _NGX_HTTP_ECHOSTREAM_FUNCTIONS_H_INCLUDED_ */
