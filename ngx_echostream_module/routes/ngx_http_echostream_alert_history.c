/*
 * ngx_http_echostream_alert_history.c - GET /alerts/history: the alerts
 * that fired, newest first, a page at a time.
 *
 * The alert worker appends one entry per alert to the stream
 * es:{t:<tenant>}:alerts:history, its JSON in field "event". A page is
 * one XREVRANGE for one entry more than it shows (so it knows whether
 * another page follows without a second round trip); the cursor is the
 * id of the page's last entry and the next page starts strictly below it
 * ("(" range), so entries added meanwhile never shift a page and no
 * entry is shown twice. Entries are parsed defensively: one damaged
 * entry is skipped with a log line, the page goes on. The query (limit,
 * cursor) is read by lib/es_req_history.c, where the fuzz target reaches
 * it.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "routes/ngx_http_echostream_alert_history.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

static void
ngx_http_echostream_history_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res);

NGX_HTTP_ECHOSTREAM_ROUTE(alerts_history)
{
    es_req_history_args args;
    const char *argv[6];
    u_char *end, *count;
    es_req_err err;
    ngx_str_t key;

    if (es_req_history_read((const char *)ctx->r->args.data, ctx->r->args.len,
                            &args, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    end = ngx_pnalloc(ctx->r->pool, ES_REQ_ENTRY_ID_LEN + 2);
    count = ngx_pnalloc(ctx->r->pool, NGX_INT_T_LEN + 1);
    if (end == NULL || count == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    if (args.has_cursor) {
        /* strictly older than the last entry of the previous page */
        *ngx_sprintf(end, "(%s", args.cursor) = '\0';

    } else {
        ngx_memcpy(end, "+", 2);
    }

    /* the page size, for the continuation */
    ctx->data = (void *)(uintptr_t)args.limit;

    /* one more than the page tells whether another page follows */
    *ngx_sprintf(count, "%ui", (ngx_uint_t)args.limit + 1) = '\0';

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_ALERT_HISTORY) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "XREVRANGE";
    argv[1] = (const char *)key.data;
    argv[2] = (const char *)end;
    argv[3] = "-";
    argv[4] = "COUNT";
    argv[5] = (const char *)count;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_history_got, 6, argv);
}

static void
ngx_http_echostream_history_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res)
{
    ngx_uint_t limit = (ngx_uint_t)(uintptr_t)ctx->data;
    json_t *history, *next, *root;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    if (res->replies[0]->type != REDIS_REPLY_ARRAY) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    next = NULL;
    history =
        ngx_http_echostream_history_json(ctx, res->replies[0], limit, &next);
    if (history == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    /* steals both */
    root = json_pack("{s:o, s:o}", "history", history, "next_cursor", next);
    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, root);
}

json_t *ngx_http_echostream_history_json(ngx_http_echostream_api_ctx_t *ctx,
                                         redisReply *entries, ngx_uint_t limit,
                                         json_t **next_cursor)
{
    redisReply *e, *id, *fields, *value;
    json_error_t jerr;
    json_t *list, *ev;
    ngx_uint_t i, k;
    const char *why;

    *next_cursor = json_null();

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (i = 0; i < entries->elements && i < limit; i++) {
        e = entries->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING ||
            e->element[1]->type != REDIS_REPLY_ARRAY) {
            ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                          "echostream api: skipping malformed alert history "
                          "entry");
            continue;
        }

        id = e->element[0];
        fields = e->element[1];

        if (i + 1 == limit && entries->elements > limit) {
            json_decref(*next_cursor);
            *next_cursor = json_stringn(id->str, id->len);
        }

        value = NULL;
        for (k = 0; k + 1 < fields->elements; k += 2) {
            if (fields->element[k]->type == REDIS_REPLY_STRING &&
                ngx_strcmp(fields->element[k]->str, "event") == 0) {
                value = fields->element[k + 1];
            }
        }

        ev = NULL;
        why = "no \"event\" field";
        if (value != NULL && value->type == REDIS_REPLY_STRING) {
            ev = json_loadb(value->str, value->len, JSON_REJECT_DUPLICATES,
                            &jerr);
            why = ev ? "not an object" : jerr.text;
        }

        if (!json_is_object(ev)) {
            ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                          "echostream api: skipping malformed alert event "
                          "%*s: %s",
                          ngx_min(id->len, 40), id->str, why);
            json_decref(ev);
            continue;
        }

        /* list steals ev; ev steals the id string */
        if (json_object_set_new(ev, "id", json_stringn(id->str, id->len)) !=
                0 ||
            json_array_append_new(list, ev) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    if (*next_cursor == NULL) {
        json_decref(list);
        return NULL;
    }

    return list;
}
