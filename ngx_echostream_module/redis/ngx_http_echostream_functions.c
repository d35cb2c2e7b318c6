/*
 * ngx_http_echostream_functions.c - the list of Redis function libraries
 * the connection loads (see ngx_http_echostream_functions.h).
 */

#include <stddef.h>

#include "redis/ngx_http_echostream_functions.h"

const es_lua_lib *const ngx_http_echostream_function_libs[] = {
    &es_lua_tenancy, &es_lua_tenant, &es_lua_read, NULL};
