/*
 * ngx_http_echostream_ratelimit.h - the per-tenant request rate limit
 * ("echostream_rate_limit RATE [burst=N] [zone=SIZE]").
 */

#ifndef _NGX_HTTP_ECHOSTREAM_RATELIMIT_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_RATELIMIT_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

/* Shared zone initializer (set on the zone by the directive). */
ngx_int_t ngx_http_echostream_ratelimit_init_zone(ngx_shm_zone_t *zone,
                                                  void *data);

/*
 * Counts one request of tenant (len bytes). NGX_OK: go on; NGX_BUSY: over
 * the limit, *retry_after = whole seconds until a request would pass;
 * NGX_ERROR: the zone has no room even after evicting (answer 503, retry
 * in *retry_after seconds). Always NGX_OK when no limit is configured.
 */
ngx_int_t ngx_http_echostream_ratelimit_check(ngx_http_request_t *r,
                                              const u_char *tenant, size_t len,
                                              ngx_uint_t *retry_after);

#endif /* _NGX_HTTP_ECHOSTREAM_RATELIMIT_H_INCLUDED_ */
