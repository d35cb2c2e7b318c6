/*
 * ngx_http_echostream_settings.c - /settings: a tenant's sentiment
 * engine, monthly Comprehend budget, data retention, the hour and time
 * zone of its daily summary, and its monthly Bedrock budget.
 *
 * They live in es:{t:<tenant>}:meta next to the tenant's owner and
 * creation time, as the strings the workers parse (engine name, decimal
 * dollars, whole days and hours, a zone name). PATCH writes them with
 * es_settings_put (lib/redis/tenant.lua), which bumps es:{topics}:version
 * in the same step, so the workers reload within their refresh interval,
 * and answers the stored values, so the response is what the workers
 * will read. Values read back are checked again: anything out of range
 * shows as the default the workers fall back to (a Bedrock budget never
 * set is ES_BEDROCK_BUDGET_DEFAULT_USD; a zone whose file went is UTC).
 * The operator pays for Comprehend and Bedrock, so a tenant's budgets are
 * capped by echostream_comprehend_budget_max and
 * echostream_bedrock_budget_max.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <stdlib.h>

#include "es_keys.h"
#include "es_req_settings.h"
#include "es_schema.h"
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
static double ngx_http_echostream_settings_usd(redisReply *v, double dflt);

/* the stored fields, in the order es_settings_put answers them */
static const char *const ngx_http_echostream_settings_fields[] = {
    "engine",    "comprehend_budget_usd", "retention_days", "summary_hour",
    "time_zone", "bedrock_budget_usd"};

#define NGX_HTTP_ECHOSTREAM_SETTINGS_NFIELDS                                   \
    (sizeof(ngx_http_echostream_settings_fields) /                             \
     sizeof(ngx_http_echostream_settings_fields[0]))

NGX_HTTP_ECHOSTREAM_ROUTE(settings_get)
{
    const char *argv[2 + NGX_HTTP_ECHOSTREAM_SETTINGS_NFIELDS];
    ngx_str_t key;
    ngx_uint_t i;

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_META) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HMGET";
    argv[1] = (const char *)key.data;
    for (i = 0; i < NGX_HTTP_ECHOSTREAM_SETTINGS_NFIELDS; i++) {
        argv[2 + i] = ngx_http_echostream_settings_fields[i];
    }

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_settings_got,
                            2 + NGX_HTTP_ECHOSTREAM_SETTINGS_NFIELDS, argv);
}

NGX_HTTP_ECHOSTREAM_ROUTE(settings_patch)
{
    const char *argv[NGX_HTTP_ECHOSTREAM_SETTINGS_ARGC];
    ngx_http_echostream_main_conf_t *emcf;
    es_req_settings_limits lim;
    es_req_settings set;
    es_req_err err;
    ngx_str_t key;
    int argc;

    emcf = ngx_http_get_module_main_conf(ctx->r, ngx_http_echostream_module);

    lim.comprehend_budget_max = (long)emcf->comprehend_budget_max;
    lim.bedrock_budget_max = (long)emcf->bedrock_budget_max;
    lim.zoneinfo = ES_REQ_ZONEINFO;

    if (es_req_settings_check(ctx->body, &lim, &set, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_META) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argc = 0;
    argv[argc++] = "FCALL";
    argv[argc++] = "es_settings_put";
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

    if (set.has_hour) {
        argv[argc++] = "summary_hour";
        argv[argc++] = set.hour;
    }

    if (set.has_zone) {
        argv[argc++] = "time_zone";
        argv[argc++] = set.zone;
    }

    if (set.has_bedrock) {
        /* "" deletes the field: the default budget */
        argv[argc++] = "bedrock_budget_usd";
        argv[argc++] = set.bedrock;
    }

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_settings_got, argc, argv);
}

/* Both routes end here with the six stored values (HMGET order). */
static void
ngx_http_echostream_settings_got(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res)
{
    redisReply *values;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    values = res->replies[0];
    if (values->type != REDIS_REPLY_ARRAY ||
        values->elements != NGX_HTTP_ECHOSTREAM_SETTINGS_NFIELDS) {
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
 * stored values (each a string or nil, in the order of the fields).
 */
static json_t *ngx_http_echostream_settings_json(redisReply *values)
{
    redisReply *engine, *days, *hour, *zone;
    const char *name, *tz;
    double comprehend;
    ngx_int_t n, h;

    engine = values->element[0];
    days = values->element[2];
    hour = values->element[3];
    zone = values->element[4];

    name = ES_REQ_ENGINE_DEFAULT;
    if (engine->type == REDIS_REPLY_STRING &&
        (ngx_strcmp(engine->str, "vader") == 0 ||
         ngx_strcmp(engine->str, "comprehend") == 0)) {
        name = engine->str;
    }

    /* no Comprehend budget: none is spent */
    comprehend = ngx_http_echostream_settings_usd(values->element[1], -1);

    n = ES_REQ_RETENTION_DEFAULT;
    if (days->type == REDIS_REPLY_STRING) {
        n = ngx_atoi((u_char *)days->str, days->len);
        if (n < 1 || n > ES_REQ_RETENTION_MAX) {
            n = ES_REQ_RETENTION_DEFAULT;
        }
    }

    h = ES_REQ_SUMMARY_HOUR_DEFAULT;
    if (hour->type == REDIS_REPLY_STRING) {
        h = ngx_atoi((u_char *)hour->str, hour->len);
        if (h < 0 || h > 23) {
            h = ES_REQ_SUMMARY_HOUR_DEFAULT;
        }
    }

    /* the summarizer opens the zone's file: one that went is UTC there */
    tz = ES_REQ_TIME_ZONE_DEFAULT;
    if (zone->type == REDIS_REPLY_STRING &&
        es_req_time_zone_valid(ES_REQ_ZONEINFO, zone->str, zone->len)) {
        tz = zone->str;
    }

    /* steals the budgets' values */
    return json_pack("{s:s, s:o, s:I, s:I, s:s, s:f}", "engine", name,
                     "comprehend_budget_usd",
                     comprehend >= 0 ? json_real(comprehend) : json_null(),
                     "retention_days", (json_int_t)n, "summary_hour",
                     (json_int_t)h, "time_zone", tz, "bedrock_budget_usd",
                     ngx_http_echostream_settings_usd(
                         values->element[5], ES_BEDROCK_BUDGET_DEFAULT_USD));
}

/* A stored budget (a string or nil) in dollars, or dflt when none is. */
static double ngx_http_echostream_settings_usd(redisReply *v, double dflt)
{
    char *end;
    double d;

    if (v->type != REDIS_REPLY_STRING || v->len == 0 || v->len >= 32) {
        return dflt;
    }

    d = strtod(v->str, &end);
    if (*end != '\0' || !isfinite(d) || d < 0) {
        return dflt;
    }

    return d;
}
