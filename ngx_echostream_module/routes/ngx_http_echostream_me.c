/*
 * ngx_http_echostream_me.c - GET /api/v1/me: who the token says the caller
 * is, and the tenant and role the module resolved for them. Answered from
 * the request context alone, without Redis: it is what the dashboard asks
 * first, on every page load.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "routes/ngx_http_echostream_routes.h"

NGX_HTTP_ECHOSTREAM_ROUTE(me)
{
    json_t *body;

    body = json_pack(
        "{s:s, s:o, s:s, s:s, s:s}", "sub", ctx->claims.sub, "email",
        ctx->claims.email[0] ? json_string(ctx->claims.email) : json_null(),
        "tenant", (const char *)ctx->tenant, "role",
        ctx->role == NGX_HTTP_ECHOSTREAM_ROLE_OWNER ? "owner" : "member",
        "token_use", ctx->claims.token_use_id ? "id" : "access");

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, body);
}
