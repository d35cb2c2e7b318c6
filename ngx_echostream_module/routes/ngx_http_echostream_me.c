/*
 * ngx_http_echostream_me.c - /api/v1/me: who the token says the caller
 * is, the tenant and role the module resolved for them, and their own
 * mail opt-ins (GET); PATCH changes those opt-ins.
 *
 * The identity, tenant and role come from the request context; the
 * opt-ins ("digest", "alert_email") are members of the caller's record in
 * es:{t:<tenant>}:members, read with one HGET (this is what the dashboard
 * asks first on every page load, so it stays one round trip) and absent
 * = false. PATCH goes through es_member_optins (lib/redis/tenant.lua),
 * which changes those two members of the caller's own record and nothing
 * else, atomically, and answers the record it stored: the sub is the
 * token's, never the body's, so nobody changes another member's mail.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_me.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

static void ngx_http_echostream_me_got(ngx_http_echostream_api_ctx_t *ctx,
                                       ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_me_changed(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res);
static void ngx_http_echostream_me_answer(ngx_http_echostream_api_ctx_t *ctx,
                                          redisReply *record);

NGX_HTTP_ECHOSTREAM_ROUTE(me)
{
    const char *argv[3];
    ngx_str_t key;

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_MEMBERS) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HGET";
    argv[1] = (const char *)key.data;
    argv[2] = ctx->claims.sub;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_me_got, 3, argv);
}

static void ngx_http_echostream_me_got(ngx_http_echostream_api_ctx_t *ctx,
                                       ngx_http_echostream_redis_result_t *res)
{
    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    ngx_http_echostream_me_answer(ctx, res->replies[0]);
}

NGX_HTTP_ECHOSTREAM_ROUTE(me_patch)
{
    const char *argv[7];
    es_req_err err;
    ngx_str_t key;
    es_req_me me;

    if (es_req_me_check(ctx->body, &me, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_MEMBERS) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "FCALL";
    argv[1] = "es_member_optins";
    argv[2] = "1";
    argv[3] = (const char *)key.data;
    argv[4] = ctx->claims.sub;
    argv[5] = me.digest < 0 ? "" : (me.digest ? "1" : "0");
    argv[6] = me.alert_email < 0 ? "" : (me.alert_email ? "1" : "0");

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_me_changed, 7, argv);
}

static void
ngx_http_echostream_me_changed(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res)
{
    /* NOTFOUND: removed between the membership check and now */
    if (ngx_http_echostream_fn_answer(ctx, res) ||
        ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    if (res->replies[0]->type != REDIS_REPLY_STRING) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    ngx_http_echostream_me_answer(ctx, res->replies[0]);
}

/*
 * The Me object, its opt-ins from the caller's membership record (a
 * string reply, or nil: both false).
 */
static void ngx_http_echostream_me_answer(ngx_http_echostream_api_ctx_t *ctx,
                                          redisReply *record)
{
    json_t *m;
    int digest, alerts;

    digest = 0;
    alerts = 0;
    if (record->type == REDIS_REPLY_STRING) {
        m = ngx_http_echostream_stored_json(ctx, record, "membership",
                                            ctx->claims.sub,
                                            ngx_strlen(ctx->claims.sub));
        /* borrowed from m; anything but true is false */
        digest = json_is_true(json_object_get(m, "digest"));
        alerts = json_is_true(json_object_get(m, "alert_email"));
        json_decref(m);
    }

    ngx_http_echostream_api_json(
        ctx, NGX_HTTP_OK,
        json_pack(
            "{s:s, s:o, s:s, s:s, s:s, s:b, s:b}", "sub", ctx->claims.sub,
            "email",
            ctx->claims.email[0] ? json_string(ctx->claims.email) : json_null(),
            "tenant", (const char *)ctx->tenant, "role",
            ctx->role == NGX_HTTP_ECHOSTREAM_ROLE_OWNER ? "owner" : "member",
            "token_use", ctx->claims.token_use_id ? "id" : "access", "digest",
            digest, "alert_email", alerts));
}
