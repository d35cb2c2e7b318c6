/*
 * ngx_http_echostream_alerts.c - /alerts: a tenant's alert rules (list,
 * create, read, replace, change, delete), and GET /alerts, the rules with
 * the newest alerts that fired (ngx_http_echostream_alert_history.c).
 *
 * A rule is stored as its canonical JSON in es:{t:<tenant>}:alerts:rules
 * (id → {"id","topic","enabled","min_volume","sensitivity",
 * "cooldown_minutes","email","webhook"}), every member present, so the
 * alert worker reads rules without defaults of its own. Writes go through
 * the es_rule_put function (lib/redis/tenant.lua), which
 * checks in the same atomic step that the rule's topic exists, that a new
 * id is free, and the 100-rule limit; PATCH is a compare-and-set on the
 * value it merged into, as for topics. A rule outlives the deletion of
 * its topic (the alert worker passes over it); rewriting it then needs a
 * topic that exists. Stored rules are re-checked on the way out: a
 * damaged one is skipped with a log line.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include "es_req_rule.h"
#include "routes/ngx_http_echostream_alert_history.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

#define NGX_HTTP_ECHOSTREAM_RULES_MAX  "100"
#define NGX_HTTP_ECHOSTREAM_RULE_TRIES 5

typedef struct {
    u_char *id;        /* NUL-terminated, validated */
    json_t *rule;      /* canonical rule, one reference owned by the pool */
    ngx_str_t json;    /* its stored form */
    ngx_str_t old;     /* PATCH: the value the merge started from */
    ngx_uint_t status; /* 201 (POST) or 200 */
    ngx_uint_t tries;
} ngx_http_echostream_rule_ctx_t;

static ngx_http_echostream_rule_ctx_t *
ngx_http_echostream_rule_start(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_uint_t with_path_id);
static void ngx_http_echostream_rule_whole(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_uint_t replace);
static ngx_int_t
ngx_http_echostream_rule_build(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_rule_ctx_t *rc,
                               json_t *base);
static void ngx_http_echostream_rule_write(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_http_echostream_rule_ctx_t *rc,
                                           const char *mode);
static void
ngx_http_echostream_rule_written(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_rule_patch_read(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_rule_patch_got(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_rules_got(ngx_http_echostream_api_ctx_t *ctx,
                              ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_rule_got(ngx_http_echostream_api_ctx_t *ctx,
                             ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_rule_deleted(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res);
static json_t *
ngx_http_echostream_rules_json(ngx_http_echostream_api_ctx_t *ctx,
                               redisReply *all);
static json_t *
ngx_http_echostream_rule_stored(ngx_http_echostream_api_ctx_t *ctx,
                                const char *id, size_t id_len,
                                redisReply *value);

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
            ctx, cmds, 2, ngx_http_echostream_rules_got) != NGX_OK) {
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

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_rules_got, 2, argv);
}

/* GET /alerts (rules and history) and GET /alerts/rules (rules only). */
static void
ngx_http_echostream_rules_got(ngx_http_echostream_api_ctx_t *ctx,
                              ngx_http_echostream_redis_result_t *res)
{
    json_t *root, *rules, *history, *next;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    if (res->replies[0]->type != REDIS_REPLY_ARRAY ||
        (res->n > 1 && res->replies[1]->type != REDIS_REPLY_ARRAY)) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    rules = ngx_http_echostream_rules_json(ctx, res->replies[0]);
    if (rules == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    if (res->n == 1) {
        root = json_pack("{s:o}", "rules", rules); /* steals rules */
        ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, root);
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

NGX_HTTP_ECHOSTREAM_ROUTE(rules_get)
{
    const char *argv[3];
    ngx_str_t key;
    u_char *id;

    id = ngx_http_echostream_path_id(ctx, "rule");
    if (id == NULL) {
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_RULES) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    ctx->data = id;

    argv[0] = "HGET";
    argv[1] = (const char *)key.data;
    argv[2] = (const char *)id;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_rule_got, 3, argv);
}

static void
ngx_http_echostream_rule_got(ngx_http_echostream_api_ctx_t *ctx,
                             ngx_http_echostream_redis_result_t *res)
{
    const char *id = ctx->data;
    json_t *rule;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    rule = NULL;
    if (res->replies[0]->type != REDIS_REPLY_NIL) {
        rule = ngx_http_echostream_rule_stored(ctx, id, ngx_strlen(id),
                                               res->replies[0]);
    }

    if (rule == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such rule");
        return;
    }

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, rule);
}

NGX_HTTP_ECHOSTREAM_ROUTE(rules_create)
{
    ngx_http_echostream_rule_whole(ctx, 0);
}

NGX_HTTP_ECHOSTREAM_ROUTE(rules_put)
{
    ngx_http_echostream_rule_whole(ctx, 1);
}

/* POST and PUT: a whole rule from the body, defaults for what it omits. */
static void ngx_http_echostream_rule_whole(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_uint_t replace)
{
    ngx_http_echostream_rule_ctx_t *rc;

    rc = ngx_http_echostream_rule_start(ctx, replace);
    if (rc == NULL) {
        return;
    }

    if (ngx_http_echostream_rule_build(ctx, rc, NULL) == NGX_OK) {
        ngx_http_echostream_rule_write(ctx, rc, replace ? "replace" : "create");
    }
}

NGX_HTTP_ECHOSTREAM_ROUTE(rules_patch)
{
    if (ngx_http_echostream_rule_start(ctx, 1) == NULL) {
        return;
    }

    ngx_http_echostream_rule_patch_read(ctx);
}

/* PATCH: reads the current rule (again, after a lost compare-and-set). */
static void
ngx_http_echostream_rule_patch_read(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_rule_ctx_t *rc = ctx->data;
    const char *argv[3];
    ngx_str_t key;

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_RULES) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HGET";
    argv[1] = (const char *)key.data;
    argv[2] = (const char *)rc->id;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_rule_patch_got, 3, argv);
}

/* PATCH: the body's members over the stored rule, checked as a whole. */
static void
ngx_http_echostream_rule_patch_got(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_rule_ctx_t *rc = ctx->data;
    redisReply *rep;
    ngx_int_t rv;
    json_t *old;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    rep = res->replies[0];
    if (rep->type == REDIS_REPLY_NIL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such rule");
        return;
    }

    if (rep->type != REDIS_REPLY_STRING) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    if (ngx_http_echostream_reply_str(ctx, rep, &rc->old) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    /* a damaged stored rule merges as {}: a full PATCH repairs it */
    old = ngx_http_echostream_stored_json(
        ctx, rep, "alert rule", (const char *)rc->id, ngx_strlen(rc->id));

    rv = ngx_http_echostream_rule_build(ctx, rc, old);
    json_decref(old);

    if (rv == NGX_OK) {
        ngx_http_echostream_rule_write(ctx, rc, "replace");
    }
}

NGX_HTTP_ECHOSTREAM_ROUTE(rules_delete)
{
    const char *argv[3];
    ngx_str_t key;
    u_char *id;

    id = ngx_http_echostream_path_id(ctx, "rule");
    if (id == NULL) {
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_RULES) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HDEL";
    argv[1] = (const char *)key.data;
    argv[2] = (const char *)id;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_rule_deleted, 3, argv);
}

static void
ngx_http_echostream_rule_deleted(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res)
{
    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    if (res->replies[0]->type != REDIS_REPLY_INTEGER ||
        res->replies[0]->integer == 0) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such rule");
        return;
    }

    ngx_http_echostream_api_no_content(ctx);
}

/*
 * Common start of POST, PUT and PATCH: the body and the rule's id
 * checked, the route state allocated (ctx->data). NULL when answered.
 */
static ngx_http_echostream_rule_ctx_t *
ngx_http_echostream_rule_start(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_uint_t with_path_id)
{
    ngx_http_echostream_rule_ctx_t *rc;
    u_char *id;

    id = ngx_http_echostream_write_id(ctx, es_req_rule_members, "rule",
                                      with_path_id);
    if (id == NULL) {
        return NULL;
    }

    rc = ngx_pcalloc(ctx->r->pool, sizeof(ngx_http_echostream_rule_ctx_t));
    if (rc == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return NULL;
    }

    rc->id = id;
    rc->status = with_path_id ? NGX_HTTP_OK : NGX_HTTP_CREATED;
    ctx->data = rc;

    return rc;
}

/*
 * Checks the body's rule, merged over base (borrowed, may be NULL; see
 * es_req_rule_check), and builds the canonical rule into rc. Returns
 * NGX_OK, or NGX_DECLINED when the request was answered.
 */
static ngx_int_t
ngx_http_echostream_rule_build(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_rule_ctx_t *rc, json_t *base)
{
    es_req_err err;

    if (es_req_rule_check(ctx->body, base, (const char *)rc->id, &rc->rule,
                          &err) != 0) {
        if (err.status == NGX_HTTP_INTERNAL_SERVER_ERROR) {
            ngx_http_echostream_no_memory(ctx);
        } else {
            ngx_http_echostream_api_req_error(ctx, &err);
        }
        return NGX_DECLINED;
    }

    if (ngx_http_echostream_pool_json(ctx, rc->rule) != NGX_OK ||
        ngx_http_echostream_json_str(ctx, rc->rule, &rc->json) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return NGX_DECLINED;
    }

    return NGX_OK;
}

/* One es_rule_put call: mode "create" or "replace". */
static void ngx_http_echostream_rule_write(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_http_echostream_rule_ctx_t *rc,
                                           const char *mode)
{
    ngx_str_t rules, topics;
    const char *argv[11];

    if (ngx_http_echostream_api_key(ctx, &rules, ES_TK_RULES) != NGX_OK ||
        ngx_http_echostream_api_key(ctx, &topics, ES_TK_TOPICS) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "FCALL";
    argv[1] = "es_rule_put";
    argv[2] = "2";
    argv[3] = (const char *)rules.data;
    argv[4] = (const char *)topics.data;
    argv[5] = mode;
    argv[6] = rc->old.data ? (const char *)rc->old.data : "";
    argv[7] = (const char *)rc->id;
    argv[8] = (const char *)rc->json.data;
    argv[9] = NGX_HTTP_ECHOSTREAM_RULES_MAX;
    argv[10] = json_string_value(json_object_get(rc->rule, "topic"));

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_rule_written, 11, argv);
}

static void
ngx_http_echostream_rule_written(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_rule_ctx_t *rc = ctx->data;

    if (ngx_http_echostream_fn_answer(ctx, res)) {
        return;
    }

    /* PATCH lost its compare-and-set: merge into the new value */
    if (res->replies != NULL &&
        ngx_http_echostream_fn_error(res->replies[0], "STALE") != NULL) {
        if (++rc->tries < NGX_HTTP_ECHOSTREAM_RULE_TRIES) {
            ngx_http_echostream_rule_patch_read(ctx);
            return;
        }

        ngx_http_echostream_api_error(ctx, NGX_HTTP_CONFLICT, "conflict",
                                      "the rule keeps changing; retry");
        return;
    }

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    /* the pool keeps its own reference */
    ngx_http_echostream_api_json(ctx, rc->status, json_incref(rc->rule));
}

/* An HGETALL of the rules as a new array sorted by id; NULL: no memory. */
static json_t *
ngx_http_echostream_rules_json(ngx_http_echostream_api_ctx_t *ctx,
                               redisReply *all)
{
    json_t **rules, *list;
    redisReply *f;
    ngx_uint_t i, n;

    rules =
        ngx_palloc(ctx->r->pool, (all->elements / 2 + 1) * sizeof(json_t *));
    if (rules == NULL) {
        return NULL;
    }

    n = 0;
    for (i = 0; i + 1 < all->elements; i += 2) {
        f = all->element[i];
        if (f->type != REDIS_REPLY_STRING) {
            continue;
        }
        rules[n] = ngx_http_echostream_rule_stored(ctx, f->str, f->len,
                                                   all->element[i + 1]);
        if (rules[n] != NULL) {
            n++;
        }
    }

    qsort(rules, n, sizeof(json_t *), ngx_http_echostream_cmp_id);

    list = ngx_http_echostream_json_list(rules, n);

    return list;
}

/*
 * A stored rule, re-checked and rebuilt (a new reference); NULL (logged)
 * when it is damaged.
 */
static json_t *
ngx_http_echostream_rule_stored(ngx_http_echostream_api_ctx_t *ctx,
                                const char *id, size_t id_len,
                                redisReply *value)
{
    u_char idz[NGX_HTTP_ECHOSTREAM_ID_MAX + 1];
    es_req_err err;
    json_t *v, *out;

    if (!ngx_http_echostream_api_id_valid((const u_char *)id, id_len)) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping alert rule with invalid id");
        return NULL;
    }

    ngx_memcpy(idz, id, id_len);
    idz[id_len] = '\0';

    v = ngx_http_echostream_stored_json(ctx, value, "alert rule", id, id_len);
    if (v == NULL) {
        return NULL;
    }

    if (es_req_rule_check(v, NULL, (const char *)idz, &out, &err) != 0) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping malformed alert rule "
                      "\"%s\": %s",
                      idz, err.message);
    }
    json_decref(v);

    return out;
}
