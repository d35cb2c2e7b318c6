/*
 * ngx_http_echostream_metrics.h - Prometheus counters of the API, kept in
 * shared memory so every worker adds to the same numbers.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_METRICS_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_METRICS_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/ngx_http_echostream_module.h"

/* Adds the shared zone (once) at configuration time. */
ngx_int_t
ngx_http_echostream_metrics_zone(ngx_conf_t *cf,
                                 ngx_http_echostream_main_conf_t *emcf);

/* One answered request: route index (nroutes = no route), status, ms. */
void ngx_http_echostream_metrics_request(ngx_uint_t route, ngx_uint_t status,
                                         ngx_msec_t ms);

/* One token-cache lookup. */
void ngx_http_echostream_metrics_token(ngx_uint_t hit);

#endif /* _NGX_HTTP_ECHOSTREAM_METRICS_H_INCLUDED_ */
