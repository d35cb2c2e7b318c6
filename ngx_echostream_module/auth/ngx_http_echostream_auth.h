/*
 * ngx_http_echostream_auth.h - who is asking: the bearer token checked
 * (cache, JWKS, es_jwt_verify) and the tenant and role of its user.
 *
 * The tenant comes only from the verified token: its "custom:tenant_id"
 * claim or the user's membership record, which the first authenticated
 * request creates through one Redis function call (es_api_signin), so
 * concurrent first requests of a new user create exactly one tenant.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_AUTH_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_AUTH_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"
#include "core/ngx_http_echostream_module.h"

/*
 * Authenticates ctx->r. On success fills ctx->claims, ctx->tenant and
 * ctx->role and calls done(ctx), now or later; on failure answers the
 * request itself (401, or 503 when the keys or Redis are unavailable).
 */
void ngx_http_echostream_auth_run(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_http_echostream_api_handler_pt done);

/* Forgets this worker's cached membership of sub (after a change). */
void ngx_http_echostream_auth_forget(const char *sub);

/* Per worker: allocate / free the token and membership caches. */
ngx_int_t
ngx_http_echostream_auth_cache_init(ngx_cycle_t *cycle,
                                    ngx_http_echostream_main_conf_t *emcf);
void ngx_http_echostream_auth_cache_free(void);

/* This worker's token cache counters (for /metrics). */
void ngx_http_echostream_auth_cache_stats(uint64_t *hits, uint64_t *misses,
                                          uint64_t *entries);

#endif /* _NGX_HTTP_ECHOSTREAM_AUTH_H_INCLUDED_ */
