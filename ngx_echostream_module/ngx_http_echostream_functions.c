/*
 * ngx_http_echostream_functions.c - the list of Redis function libraries
 * the connection loads (see ngx_http_echostream_functions.h).
 */

#include <stddef.h>

#include "ngx_http_echostream_functions.h"

const char *const ngx_http_echostream_function_libs[] = {
    ngx_http_echostream_lua_tenancy, ngx_http_echostream_lua_tenant, NULL};
