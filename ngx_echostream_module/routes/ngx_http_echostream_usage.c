/*
 * ngx_http_echostream_usage.c - GET /usage: this month's comments,
 * Comprehend units and cost, Bedrock tokens and cost, summaries written,
 * and the budgets they count against.
 *
 * The counts are what the workers add to one hash per UTC month,
 * es:{t:<tenant>}:usage:<YYYYMM> (the fields ES_USAGE_* of es_schema.h:
 * the enrich worker's comments and Comprehend units and micro-dollars,
 * the summarizer's Bedrock tokens and micro-dollars and its summaries),
 * read with the tenant's engine and budgets from its meta in one round
 * trip. Money is counted in micro-dollars (integers, so concurrent
 * HINCRBYs add exactly) and shown in dollars. The Bedrock budget shown is
 * the one in force: the tenant's, or ES_BEDROCK_BUDGET_DEFAULT_USD when
 * it set none.
 *
 * With "echostream_prices" (ngx_http_echostream_prices.c) the answer
 * also holds the month's prediction: the metered spend so far (Comprehend
 * and Bedrock) extrapolated to the month's end at the month's pace so far
 * (counted from one day at least, so a first hour's brief is not taken
 * for a month of them), plus the tenant's share of the deployment's fixed
 * cost, split evenly among the tenants (SCARD of the tenant set, read in
 * the same round trip). The fixed cost was computed when the
 * configuration was read, from the same price file as the cost model
 * (docs/cost.md); without the directive there is no prediction.
 *
 * Fields that are not integers are logged and read as 0: Redis content
 * is not trusted.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <stdlib.h>

#include "es_keys.h"
#include "es_schema.h"
#include "core/ngx_http_echostream_module.h"
#include "api/ngx_http_echostream_api.h"
#include "routes/ngx_http_echostream_routes.h"

/* the usage fields read, in HMGET order */
enum {
    NGX_HTTP_ECHOSTREAM_U_COMMENTS = 0,
    NGX_HTTP_ECHOSTREAM_U_UNITS,
    NGX_HTTP_ECHOSTREAM_U_USD,
    NGX_HTTP_ECHOSTREAM_U_BEDROCK_INPUT,
    NGX_HTTP_ECHOSTREAM_U_BEDROCK_OUTPUT,
    NGX_HTTP_ECHOSTREAM_U_BEDROCK_USD,
    NGX_HTTP_ECHOSTREAM_U_SUMMARIES,
    NGX_HTTP_ECHOSTREAM_U_N
};

static const char *const ngx_http_echostream_usage_fields[] = {
    ES_USAGE_COMMENTS,      ES_USAGE_UNITS,          ES_USAGE_USD,
    ES_USAGE_BEDROCK_INPUT, ES_USAGE_BEDROCK_OUTPUT, ES_USAGE_BEDROCK_USD,
    ES_USAGE_SUMMARIES};

static void
ngx_http_echostream_usage_done(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res);
static double ngx_http_echostream_usage_budget(redisReply *v, double dflt,
                                               ngx_uint_t *bad);
static json_t *
ngx_http_echostream_usage_prediction(ngx_http_echostream_api_ctx_t *ctx,
                                     int64_t metered, redisReply *tenants);

NGX_HTTP_ECHOSTREAM_ROUTE(usage)
{
    const char *usage[2 + NGX_HTTP_ECHOSTREAM_U_N], *meta[5], *count[2];
    ngx_http_echostream_main_conf_t *emcf;
    ngx_http_echostream_redis_cmd_t cmds[3];
    u_char yyyymm[8];
    ngx_str_t ukey, mkey;
    u_char *month;
    ngx_uint_t i;
    ngx_tm_t tm;

    ngx_gmtime((time_t)(ngx_http_echostream_api_now_ms() / 1000), &tm);

    *ngx_snprintf(yyyymm, sizeof(yyyymm) - 1, "%04d%02d", tm.ngx_tm_year,
                  tm.ngx_tm_mon) = '\0';
    if (ngx_http_echostream_api_key(ctx, &ukey, ES_TK_USAGE, (char *)yyyymm) !=
            NGX_OK ||
        ngx_http_echostream_api_key(ctx, &mkey, ES_TK_META) != NGX_OK) {
        goto nomem;
    }

    /* the pipeline copies the arguments: stack arrays will do */
    usage[0] = "HMGET";
    usage[1] = (const char *)ukey.data;
    for (i = 0; i < NGX_HTTP_ECHOSTREAM_U_N; i++) {
        usage[2 + i] = ngx_http_echostream_usage_fields[i];
    }
    cmds[0].argc = 2 + NGX_HTTP_ECHOSTREAM_U_N;
    cmds[0].argv = usage;
    cmds[0].argvlen = NULL;

    meta[0] = "HMGET";
    meta[1] = (const char *)mkey.data;
    meta[2] = "engine";
    meta[3] = "comprehend_budget_usd";
    meta[4] = "bedrock_budget_usd";
    cmds[1].argc = 5;
    cmds[1].argv = meta;
    cmds[1].argvlen = NULL;

    /* the tenants sharing the fixed cost, for the prediction only */
    emcf = ngx_http_get_module_main_conf(ctx->r, ngx_http_echostream_module);
    count[0] = "SCARD";
    count[1] = ES_KEY_TENANTS;
    cmds[2].argc = 2;
    cmds[2].argv = count;
    cmds[2].argvlen = NULL;

    /* the month counted is the one of this request, kept for the answer */
    month = ngx_pnalloc(ctx->r->pool, sizeof("YYYY-MM"));
    if (month == NULL) {
        goto nomem;
    }
    *ngx_sprintf(month, "%04d-%02d", tm.ngx_tm_year, tm.ngx_tm_mon) = '\0';
    ctx->data = month;

    if (ngx_http_echostream_api_redis(ctx, cmds, emcf->prices_set ? 3 : 2,
                                      ngx_http_echostream_usage_done) !=
        NGX_OK) {
        goto nomem;
    }

    return;

nomem:

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

static void
ngx_http_echostream_usage_done(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res)
{
    int64_t n[NGX_HTTP_ECHOSTREAM_U_N];
    double comprehend, bedrock;
    redisReply *u, *m, *engine;
    const char *eng;
    ngx_uint_t bad, i;
    json_t *body;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    u = res->replies[0];
    m = res->replies[1];
    if (u->type != REDIS_REPLY_ARRAY ||
        u->elements != NGX_HTTP_ECHOSTREAM_U_N ||
        m->type != REDIS_REPLY_ARRAY || m->elements != 3) {
        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "echostream api: unexpected reply reading usage");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal",
                                      "unexpected reply from redis");
        return;
    }

    bad = 0;
    for (i = 0; i < NGX_HTTP_ECHOSTREAM_U_N; i++) {
        n[i] =
            ngx_max(ngx_http_echostream_api_reply_int(u->element[i], &bad), 0);
    }

    engine = m->element[0];
    eng = "vader";
    if (engine->type == REDIS_REPLY_STRING &&
        ngx_strcmp(engine->str, "comprehend") == 0) {
        eng = "comprehend";
    }

    /* no Comprehend budget: none is spent; no Bedrock budget: the default */
    comprehend = ngx_http_echostream_usage_budget(m->element[1], -1, &bad);
    bedrock = ngx_http_echostream_usage_budget(
        m->element[2], ES_BEDROCK_BUDGET_DEFAULT_USD, &bad);

    if (bad) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: %ui malformed usage fields read as 0 "
                      "or the default",
                      bad);
    }

    body = json_pack(
        "{s:s, s:I, s:I, s:f, s:o, s:s, s:I, s:I, s:f, s:f, s:I}", "month",
        (char *)ctx->data, "comments",
        (json_int_t)n[NGX_HTTP_ECHOSTREAM_U_COMMENTS], "comprehend_units",
        (json_int_t)n[NGX_HTTP_ECHOSTREAM_U_UNITS], "comprehend_usd",
        (double)n[NGX_HTTP_ECHOSTREAM_U_USD] / 1e6, "budget_usd",
        comprehend >= 0 ? json_real(comprehend) : json_null(), "engine", eng,
        "bedrock_input_tokens",
        (json_int_t)n[NGX_HTTP_ECHOSTREAM_U_BEDROCK_INPUT],
        "bedrock_output_tokens",
        (json_int_t)n[NGX_HTTP_ECHOSTREAM_U_BEDROCK_OUTPUT], "bedrock_usd",
        (double)n[NGX_HTTP_ECHOSTREAM_U_BEDROCK_USD] / 1e6,
        "bedrock_budget_usd", bedrock, "summaries",
        (json_int_t)n[NGX_HTTP_ECHOSTREAM_U_SUMMARIES]);

    if (body != NULL && res->n > 2) {
        json_t *p = ngx_http_echostream_usage_prediction(
            ctx,
            n[NGX_HTTP_ECHOSTREAM_U_USD] + n[NGX_HTTP_ECHOSTREAM_U_BEDROCK_USD],
            res->replies[2]);
        if (p == NULL || json_object_set_new(body, "prediction", p) != 0) {
            json_decref(body);
            body = NULL;
        }
    }

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, body);
}

/*
 * This month's predicted spend of the tenant: metered (micro-dollars so
 * far) at the month's pace, plus its share of the fixed cost.
 */
static json_t *
ngx_http_echostream_usage_prediction(ngx_http_echostream_api_ctx_t *ctx,
                                     int64_t metered, redisReply *tenants)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    ngx_http_echostream_main_conf_t *emcf;
    double month_s, elapsed_s, metered_month, share;
    int64_t n;
    ngx_tm_t tm;
    int y, mdays;

    emcf = ngx_http_get_module_main_conf(ctx->r, ngx_http_echostream_module);
    ngx_gmtime((time_t)(ngx_http_echostream_api_now_ms() / 1000), &tm);
    y = tm.ngx_tm_year;
    mdays = days[tm.ngx_tm_mon - 1];
    if (tm.ngx_tm_mon == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        mdays = 29;
    }
    month_s = (double)mdays * 86400;
    elapsed_s = (double)(tm.ngx_tm_mday - 1) * 86400 + tm.ngx_tm_hour * 3600 +
                tm.ngx_tm_min * 60 + tm.ngx_tm_sec;
    metered_month = (double)metered * month_s / ngx_max(elapsed_s, 86400.0);

    /* at least this tenant, whatever the set says */
    n = tenants->type == REDIS_REPLY_INTEGER ? tenants->integer : 1;
    if (n < 1) {
        n = 1;
    }
    share = (double)emcf->prices_fixed_micros / (double)n;

    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:I, s:s, s:s}", "month_usd",
                     round(metered_month + share) / 1e6, "metered_usd",
                     (double)metered / 1e6, "metered_month_usd",
                     round(metered_month) / 1e6, "fixed_usd",
                     (double)emcf->prices_fixed_micros / 1e6, "fixed_share_usd",
                     round(share) / 1e6, "tenants", (json_int_t)n, "instance",
                     (char *)emcf->prices_instance.data, "prices_date",
                     (char *)emcf->prices_date);
}

/*
 * A stored budget (a string or nil) in dollars; dflt when none is stored,
 * or when the stored one is not a number >= 0 (then counted in *bad).
 */
static double ngx_http_echostream_usage_budget(redisReply *v, double dflt,
                                               ngx_uint_t *bad)
{
    char *end;
    double d;

    if (v->type != REDIS_REPLY_STRING || v->len == 0) {
        return dflt;
    }

    d = strtod(v->str, &end);
    if (*end != '\0' || !isfinite(d) || d < 0) {
        (*bad)++;
        return dflt;
    }

    return d;
}
