/*
 * ngx_http_echostream_auth_membership.h - the tenant and role of a
 * verified user (auth_membership.c), and the refusal both halves of the
 * access check answer with (auth.c).
 */

#ifndef _NGX_HTTP_ECHOSTREAM_AUTH_MEMBERSHIP_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_AUTH_MEMBERSHIP_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"
#include "core/ngx_http_echostream_module.h"

/* Per worker: allocate / free the membership cache (NGX_ERROR: no memory). */
ngx_int_t
ngx_http_echostream_auth_membership_init(ngx_cycle_t *cycle,
                                         ngx_http_echostream_main_conf_t *emcf);
void ngx_http_echostream_auth_membership_free(void);

/*
 * The verified user's (ctx->claims) tenant and role into ctx, then
 * ctx->auth_done(ctx), now or after a Redis call; a bad sub or tenant
 * claim is refused, a failing Redis answered by the framework.
 */
void ngx_http_echostream_auth_membership(ngx_http_echostream_api_ctx_t *ctx);

/* 401 with the reason (why) in the log only. */
void ngx_http_echostream_auth_refuse(ngx_http_echostream_api_ctx_t *ctx,
                                     const char *why);

#endif /* _NGX_HTTP_ECHOSTREAM_AUTH_MEMBERSHIP_H_INCLUDED_ */
