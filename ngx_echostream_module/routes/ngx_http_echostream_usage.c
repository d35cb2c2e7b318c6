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
 * Fields that are not integers are logged and read as 0: Redis content
 * is not trusted.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <stdlib.h>

#include "es_schema.h"
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

NGX_HTTP_ECHOSTREAM_ROUTE(usage)
{
    const char *usage[2 + NGX_HTTP_ECHOSTREAM_U_N], *meta[5];
    ngx_http_echostream_redis_cmd_t cmds[2];
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

    /* the month counted is the one of this request, kept for the answer */
    month = ngx_pnalloc(ctx->r->pool, sizeof("YYYY-MM"));
    if (month == NULL) {
        goto nomem;
    }
    *ngx_sprintf(month, "%04d-%02d", tm.ngx_tm_year, tm.ngx_tm_mon) = '\0';
    ctx->data = month;

    if (ngx_http_echostream_api_redis(
            ctx, cmds, 2, ngx_http_echostream_usage_done) != NGX_OK) {
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

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, body);
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
