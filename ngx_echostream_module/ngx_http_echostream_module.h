/*
 * ngx_http_echostream_module.h - configuration shared by the files of the
 * EchoStream nginx module.
 *
 * The module is split by concern (directives, the async Redis adapter, one
 * file per route); each file reads the configuration through the types
 * declared here, so directives are parsed once at configuration time and
 * never per request.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_MODULE_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_MODULE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_redis_url.h"

typedef struct {
    es_redis_url redis;   /* parsed "echostream_redis" */
    ngx_flag_t redis_set; /* given explicitly (else the default) */
    ngx_flag_t used;      /* some location needs Redis */
} ngx_http_echostream_main_conf_t;

typedef struct {
    ngx_msec_t redis_timeout;    /* per command, "echostream_redis_timeout" */
    ngx_array_t *expect_workers; /* of ngx_str_t */
} ngx_http_echostream_loc_conf_t;

extern ngx_module_t ngx_http_echostream_module;

/* The content handler of "echostream_healthz" (healthz.c). */
ngx_int_t ngx_http_echostream_healthz_handler(ngx_http_request_t *r);

#endif /* _NGX_HTTP_ECHOSTREAM_MODULE_H_INCLUDED_ */
