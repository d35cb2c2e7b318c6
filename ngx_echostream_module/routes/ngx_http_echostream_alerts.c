/*
 * ngx_http_echostream_alerts.c - /alerts: the alert rule item kind (list,
 * create, read, replace, change and delete of /alerts/rules run by the
 * item layer, api/ngx_http_echostream_items.c), and GET /alerts, the rules
 * with the newest alerts that fired (ngx_http_echostream_alert_history.c).
 *
 * A rule is stored as its canonical JSON in es:{t:<tenant>}:alerts:rules
 * (id → {"id","topic","enabled","min_volume","sensitivity",
 * "cooldown_minutes","email","webhook","metric","window_minutes"}), every
 * member present, so the alert worker reads rules without defaults of its
 * own; a rule stored before metric and window_minutes existed is read
 * back, and answered, with their defaults. Its validator is
 * lib/es_req_rule.c; its "topic" must name a topic of the tenant, which
 * es_item_put checks in the same atomic step as the write (422
 * invalid_topic otherwise). A rule outlives the deletion of its topic
 * (the alert worker passes over it); rewriting it then needs a topic that
 * exists.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_rule.h"
#include "routes/ngx_http_echostream_alert_history.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

const ngx_http_echostream_item_kind_t ngx_http_echostream_item_rules = {
    .what = "rule",
    .list = "rules",
    .key = ES_TK_RULES,
    .limit = "100",
    .members = es_req_rule_members,
    .check = es_req_rule_check,
    .ref_member = "topic",
    .ref = &ngx_http_echostream_item_topics,
    .ref_code = "invalid_topic",
};

static void
ngx_http_echostream_alerts_got(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res);

NGX_HTTP_ECHOSTREAM_ROUTE(alerts_get)
{
    ngx_http_echostream_redis_cmd_t cmds[2];
    const char *hgetall[2], *xrevrange[6];
    ngx_str_t rules, history;

    if (ngx_http_echostream_api_key(ctx, &rules, ES_TK_RULES) != NGX_OK ||
        ngx_http_echostream_api_key(ctx, &history, ES_TK_ALERT_HISTORY) !=
            NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    hgetall[0] = "HGETALL";
    hgetall[1] = (const char *)rules.data;

    xrevrange[0] = "XREVRANGE";
    xrevrange[1] = (const char *)history.data;
    xrevrange[2] = "+";
    xrevrange[3] = "-";
    xrevrange[4] = "COUNT";
    xrevrange[5] =
        NGX_HTTP_ECHOSTREAM_STR(NGX_HTTP_ECHOSTREAM_HISTORY_OVERVIEW);

    cmds[0].argc = 2;
    cmds[0].argv = hgetall;
    cmds[0].argvlen = NULL;
    cmds[1].argc = 6;
    cmds[1].argv = xrevrange;
    cmds[1].argvlen = NULL;

    if (ngx_http_echostream_api_redis(
            ctx, cmds, 2, ngx_http_echostream_alerts_got) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
    }
}

NGX_HTTP_ECHOSTREAM_ROUTE(rules_list)
{
    const char *argv[2];
    ngx_str_t key;

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_RULES) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HGETALL";
    argv[1] = (const char *)key.data;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_alerts_got, 2, argv);
}

/* GET /alerts: the rules and the newest alerts that fired. */
static void
ngx_http_echostream_alerts_got(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res)
{
    json_t *root, *rules, *history, *next;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    if (res->replies[0]->type != REDIS_REPLY_ARRAY ||
        res->replies[1]->type != REDIS_REPLY_ARRAY) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    rules = ngx_http_echostream_items_json(ctx, &ngx_http_echostream_item_rules,
                                           res->replies[0]);
    if (rules == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    next = NULL;
    history = ngx_http_echostream_history_json(
        ctx, res->replies[1], NGX_HTTP_ECHOSTREAM_HISTORY_OVERVIEW, &next);
    json_decref(next);
    if (history == NULL) {
        json_decref(rules);
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    /* steals both */
    root = json_pack("{s:o, s:o}", "rules", rules, "history", history);
    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, root);
}
