/*
 * ngx_http_echostream_settings.c - /settings: a tenant's sentiment
 * engine, monthly Comprehend budget and data retention.
 *
 * They live in es:{t:<tenant>}:meta next to the tenant's owner and
 * creation time, as the strings the enrich worker parses (engine name,
 * decimal dollars, whole days). PATCH writes them with es_settings_set
 * (ngx_http_echostream_tenant_lua.c), which bumps es:{topics}:version in
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
#include <stdio.h>
#include <stdlib.h>

#include "es_keys.h"
#include "es_utf8.h"
#include "ngx_http_echostream_module.h"
#include "ngx_http_echostream_routes.h"
#include "ngx_http_echostream_tenant_util.h"

#define NGX_HTTP_ECHOSTREAM_ENGINE_DEFAULT    "vader"
#define NGX_HTTP_ECHOSTREAM_RETENTION_DEFAULT 30
#define NGX_HTTP_ECHOSTREAM_RETENTION_MAX     365

static const char *const ngx_http_echostream_settings_members[] = {
    "engine", "comprehend_budget_usd", "retention_days", NULL};

/*
 * PATCH's FCALL: 5 fixed arguments (FCALL, the function, numkeys, two
 * keys), then a name and a value per settable member, each at most once.
 * Sized from the member table, so a member added there is room added here.
 */
#define NGX_HTTP_ECHOSTREAM_SETTINGS_ARGC                                      \
    (5 + 2 * (sizeof(ngx_http_echostream_settings_members) /                   \
                  sizeof(ngx_http_echostream_settings_members[0]) -            \
              1))

static void
ngx_http_echostream_settings_got(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res);
static json_t *ngx_http_echostream_settings_json(redisReply *values);

NGX_HTTP_ECHOSTREAM_ROUTE(settings_get)
{
    const char *argv[5];
    ngx_str_t key;

    if (ngx_http_echostream_api_key(ctx, &key, "meta") != NGX_OK) {
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
    const char *argv[NGX_HTTP_ECHOSTREAM_SETTINGS_ARGC], *engine;
    ngx_http_echostream_main_conf_t *emcf;
    json_t *body = ctx->body, *v;
    u_char *budget, *days, *p;
    json_int_t retention;
    ngx_str_t key;
    double usd;
    int argc;

    if (ngx_http_echostream_body_members(
            ctx, ngx_http_echostream_settings_members) != NGX_OK) {
        return;
    }

    budget = ngx_pnalloc(ctx->r->pool, 32);
    days = ngx_pnalloc(ctx->r->pool, NGX_INT_T_LEN + 1);
    if (budget == NULL || days == NULL ||
        ngx_http_echostream_api_key(ctx, &key, "meta") != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argc = 0;
    argv[argc++] = "FCALL";
    argv[argc++] = "es_settings_set";
    argv[argc++] = "2";
    argv[argc++] = (const char *)key.data;
    argv[argc++] = ES_KEY_TOPICS_VERSION;

    v = json_object_get(body, "engine"); /* borrowed */
    if (v != NULL) {
        engine = json_string_value(v);
        if (engine == NULL || (ngx_strcmp(engine, "vader") != 0 &&
                               ngx_strcmp(engine, "comprehend") != 0)) {
            ngx_http_echostream_fail(ctx, 422, "validation_failed", "engine",
                                     "engine must be \"vader\" or "
                                     "\"comprehend\"");
            return;
        }
        argv[argc++] = "engine";
        argv[argc++] = engine;
    }

    v = json_object_get(body, "comprehend_budget_usd"); /* borrowed */
    if (v != NULL) {
        emcf =
            ngx_http_get_module_main_conf(ctx->r, ngx_http_echostream_module);
        usd = json_number_value(v);
        if (!json_is_null(v) &&
            (!json_is_number(v) || !isfinite(usd) || usd < 0 ||
             usd > (double)emcf->comprehend_budget_max)) {
            ngx_http_echostream_fail(ctx, 422, "validation_failed",
                                     "comprehend_budget_usd",
                                     "comprehend_budget_usd must be a number "
                                     "from 0 to %ld, or null",
                                     (long)emcf->comprehend_budget_max);
            return;
        }

        /* micro-dollars, as enrich counts; trailing zeros dropped */
        budget[0] = '\0';
        if (!json_is_null(v)) {
            snprintf((char *)budget, 32, "%.6f", usd);
            p = budget + ngx_strlen(budget) - 1;
            while (*p == '0') {
                *p-- = '\0';
            }
            if (*p == '.') {
                *p = '\0';
            }
        }

        /* "" deletes the field: no budget */
        argv[argc++] = "comprehend_budget_usd";
        argv[argc++] = (const char *)budget;
    }

    v = json_object_get(body, "retention_days"); /* borrowed */
    if (v != NULL) {
        if (ngx_http_echostream_json_int(v, &retention) != NGX_OK ||
            retention < 1 || retention > NGX_HTTP_ECHOSTREAM_RETENTION_MAX) {
            ngx_http_echostream_fail(ctx, 422, "validation_failed",
                                     "retention_days",
                                     "retention_days must be an integer from "
                                     "1 to 365");
            return;
        }
        *ngx_sprintf(days, "%L", (int64_t)retention) = '\0';
        argv[argc++] = "retention_days";
        argv[argc++] = (const char *)days;
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

    name = NGX_HTTP_ECHOSTREAM_ENGINE_DEFAULT;
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

    n = NGX_HTTP_ECHOSTREAM_RETENTION_DEFAULT;
    if (days->type == REDIS_REPLY_STRING) {
        n = ngx_atoi((u_char *)days->str, days->len);
        if (n < 1 || n > NGX_HTTP_ECHOSTREAM_RETENTION_MAX) {
            n = NGX_HTTP_ECHOSTREAM_RETENTION_DEFAULT;
        }
    }

    /* steals usd */
    return json_pack("{s:s, s:o, s:I}", "engine", name, "comprehend_budget_usd",
                     usd, "retention_days", (json_int_t)n);
}
