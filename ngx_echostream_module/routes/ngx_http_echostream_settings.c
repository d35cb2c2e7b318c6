/*
 * ngx_http_echostream_settings.c - /settings: a tenant's sentiment
 * engine, monthly Comprehend budget and data retention.
 *
 * They live in es:{t:<tenant>}:meta next to the tenant's owner and
 * creation time, as the strings the enrich worker parses (engine name,
 * decimal dollars, whole days). PATCH writes them with es_settings_set
 * (lib/redis/tenant.lua), which bumps es:{topics}:version in
 * the same step, so enrich reloads within its refresh interval, and
 * answers the stored values, so the response is what enrich will read.
 * Values read back are checked again: anything out of range shows as the
 * default enrich falls back to. The operator pays for Comprehend, so a
 * tenant's budget is capped by echostream_comprehend_budget_max.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <stdlib.h>

#include "es_keys.h"
#include "es_req_settings.h"
#include "core/ngx_http_echostream_module.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

/*
 * PATCH's FCALL: 5 fixed arguments (FCALL, the function, numkeys, two
 * keys), then a name and a value per settable member, each at most once.
 * Sized from the member table, so a member added there is room added here.
 */
#define NGX_HTTP_ECHOSTREAM_SETTINGS_ARGC (5 + 2 * ES_REQ_SETTINGS_NMEMBERS)

static void
ngx_http_echostream_settings_got(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res);
static json_t *ngx_http_echostream_settings_json(redisReply *values);

NGX_HTTP_ECHOSTREAM_ROUTE(settings_get)
{
    const char *argv[5];
    ngx_str_t key;

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_META) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HMGET";
    argv[1] = (const char *)key.data;
    argv[2] = "engine";
    argv[3] = "comprehend_budget_usd";
    argv[4] = "retention_days";

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_settings_got, 5, argv);
}

NGX_HTTP_ECHOSTREAM_ROUTE(settings_patch)
{
    const char *argv[NGX_HTTP_ECHOSTREAM_SETTINGS_ARGC];
    ngx_http_echostream_main_conf_t *emcf;
    es_req_settings set;
    es_req_err err;
    ngx_str_t key;
    int argc;

    emcf = ngx_http_get_module_main_conf(ctx->r, ngx_http_echostream_module);

    if (es_req_settings_check(ctx->body, (long)emcf->comprehend_budget_max,
                              &set, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_META) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argc = 0;
    argv[argc++] = "FCALL";
    argv[argc++] = "es_settings_set";
    argv[argc++] = "2";
    argv[argc++] = (const char *)key.data;
    argv[argc++] = ES_KEY_TOPICS_VERSION;

    if (set.engine != NULL) {
        argv[argc++] = "engine";
        argv[argc++] = set.engine;
    }

    if (set.has_budget) {
        /* "" deletes the field: no budget */
        argv[argc++] = "comprehend_budget_usd";
        argv[argc++] = set.budget;
    }

    if (set.has_days) {
        argv[argc++] = "retention_days";
        argv[argc++] = set.days;
    }

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_settings_got, argc, argv);
}

/* Both routes end here with the three stored values (HMGET order). */
static void
ngx_http_echostream_settings_got(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res)
{
    redisReply *values;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    values = res->replies[0];
    if (values->type != REDIS_REPLY_ARRAY || values->elements != 3) {
        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "echostream api: unexpected reply reading settings");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "unexpected Redis reply");
        return;
    }

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK,
                                 ngx_http_echostream_settings_json(values));
}

/*
 * The settings object (a new reference; NULL without memory) from the
 * stored engine, budget and retention (each a string or nil).
 */
static json_t *ngx_http_echostream_settings_json(redisReply *values)
{
    redisReply *engine, *budget, *days;
    const char *name;
    json_t *usd;
    ngx_int_t n;
    double d;
    char *end;

    engine = values->element[0];
    budget = values->element[1];
    days = values->element[2];

    name = ES_REQ_ENGINE_DEFAULT;
    if (engine->type == REDIS_REPLY_STRING &&
        (ngx_strcmp(engine->str, "vader") == 0 ||
         ngx_strcmp(engine->str, "comprehend") == 0)) {
        name = engine->str;
    }

    usd = json_null();
    if (budget->type == REDIS_REPLY_STRING && budget->len > 0 &&
        budget->len < 32) {
        d = strtod(budget->str, &end);
        if (*end == '\0' && isfinite(d) && d >= 0) {
            usd = json_real(d);
        }
    }

    n = ES_REQ_RETENTION_DEFAULT;
    if (days->type == REDIS_REPLY_STRING) {
        n = ngx_atoi((u_char *)days->str, days->len);
        if (n < 1 || n > ES_REQ_RETENTION_MAX) {
            n = ES_REQ_RETENTION_DEFAULT;
        }
    }

    /* steals usd */
    return json_pack("{s:s, s:o, s:I}", "engine", name, "comprehend_budget_usd",
                     usd, "retention_days", (json_int_t)n);
}
