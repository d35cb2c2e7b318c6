/*
 * ngx_http_echostream_summaries.c - /summaries: the written summaries of
 * a tenant (list, read). Requests for a new one are
 * ngx_http_echostream_summary_requests.c.
 *
 * Summaries are written by the summarizer worker as JSON in
 * es:{t:<tenant>}:summaries (id → {"id","topic","date","created",
 * "source","text", …}); this file only reads them, and shows a summary
 * only when the members every client relies on are there and well-formed
 * (others are skipped with a log line), passing any further members
 * through. The list is sorted here, newest "created" first: the hash has
 * no order, and the summarizer keeps it to the tenant's retention.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include "es_req_summary.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

typedef struct {
    json_t *json;
    int64_t created;
} ngx_http_echostream_summary_row_t;

static void
ngx_http_echostream_summaries_got(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_summary_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res);
static json_t *
ngx_http_echostream_summary_stored(ngx_http_echostream_api_ctx_t *ctx,
                                   redisReply *value, int64_t *created);
static int ngx_http_echostream_summary_cmp(const void *a, const void *b);

NGX_HTTP_ECHOSTREAM_ROUTE(summaries_list)
{
    const char *argv[2];
    es_req_err err;
    ngx_str_t key;
    int n;

    if (es_req_summary_limit((const char *)ctx->r->args.data, ctx->r->args.len,
                             &n, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_SUMMARIES) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    ctx->data = (void *)(uintptr_t)n;

    argv[0] = "HVALS";
    argv[1] = (const char *)key.data;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_summaries_got, 2, argv);
}

static void
ngx_http_echostream_summaries_got(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_http_echostream_redis_result_t *res)
{
    ngx_uint_t limit = (ngx_uint_t)(uintptr_t)ctx->data;
    ngx_http_echostream_summary_row_t *rows;
    json_t *list, *root;
    redisReply *all;
    ngx_uint_t i, n;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    all = res->replies[0];
    if (all->type != REDIS_REPLY_ARRAY) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    rows =
        ngx_palloc(ctx->r->pool, (all->elements + 1) *
                                     sizeof(ngx_http_echostream_summary_row_t));
    if (rows == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    n = 0;
    for (i = 0; i < all->elements; i++) {
        rows[n].json = ngx_http_echostream_summary_stored(ctx, all->element[i],
                                                          &rows[n].created);
        if (rows[n].json != NULL) {
            n++;
        }
    }

    qsort(rows, n, sizeof(ngx_http_echostream_summary_row_t),
          ngx_http_echostream_summary_cmp);

    list = json_array();
    for (i = 0; i < n; i++) {
        /* list steals the rows it shows; the rest are released */
        if (list != NULL && i < limit) {
            if (json_array_append_new(list, rows[i].json) != 0) {
                json_decref(list);
                list = NULL;
            }

        } else {
            json_decref(rows[i].json);
        }
    }

    if (list == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    root = json_pack("{s:o}", "summaries", list); /* steals list */
    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, root);
}

NGX_HTTP_ECHOSTREAM_ROUTE(summaries_get)
{
    const char *argv[3];
    ngx_str_t key;
    u_char *id;

    id = ngx_http_echostream_path_id(ctx, "summary");
    if (id == NULL) {
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_SUMMARIES) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HGET";
    argv[1] = (const char *)key.data;
    argv[2] = (const char *)id;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_summary_got, 3, argv);
}

static void
ngx_http_echostream_summary_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res)
{
    json_t *summary;
    int64_t created;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    summary = NULL;
    if (res->replies[0]->type != REDIS_REPLY_NIL) {
        summary =
            ngx_http_echostream_summary_stored(ctx, res->replies[0], &created);
    }

    if (summary == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such summary");
        return;
    }

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, summary);
}

/*
 * A stored summary (a new reference) when its id, topic, date, created,
 * source and text are well-formed, with its creation time in *created;
 * NULL (logged) otherwise.
 */
static json_t *
ngx_http_echostream_summary_stored(ngx_http_echostream_api_ctx_t *ctx,
                                   redisReply *value, int64_t *created)
{
    json_t *v, *id, *topic, *date, *when, *source, *text;
    const char *d, *src;
    ngx_str_t s;
    ngx_uint_t i;

    v = ngx_http_echostream_stored_json(ctx, value, "summary", "", 0);
    if (v == NULL) {
        return NULL;
    }

    /* borrowed from v */
    id = json_object_get(v, "id");
    topic = json_object_get(v, "topic");
    date = json_object_get(v, "date");
    when = json_object_get(v, "created");
    source = json_object_get(v, "source");
    text = json_object_get(v, "text");

    if (!json_is_string(id) ||
        !ngx_http_echostream_api_id_valid((const u_char *)json_string_value(id),
                                          json_string_length(id)) ||
        topic == NULL ||
        (!json_is_null(topic) && (!json_is_string(topic) ||
                                  !ngx_http_echostream_api_id_valid(
                                      (const u_char *)json_string_value(topic),
                                      json_string_length(topic)))) ||
        !json_is_string(date) || json_string_length(date) != 10 ||
        !json_is_string(when) || !json_is_string(source) ||
        !json_is_string(text)) {
        goto malformed;
    }

    d = json_string_value(date);
    for (i = 0; i < 10; i++) {
        if ((i == 4 || i == 7) ? d[i] != '-' : (d[i] < '0' || d[i] > '9')) {
            goto malformed;
        }
    }

    src = json_string_value(source);
    if (ngx_strcmp(src, "bedrock") != 0 && ngx_strcmp(src, "local") != 0) {
        goto malformed;
    }

    /* a UTC date-time ("…Z"), not epoch seconds */
    s.data = (u_char *)json_string_value(when);
    s.len = json_string_length(when);
    if (s.len < 20 || s.data[s.len - 1] != 'Z' ||
        es_time_parse((const char *)s.data, s.len, created) != 0) {
        goto malformed;
    }

    return v;

malformed:

    ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                  "echostream api: skipping malformed summary \"%*s\"",
                  json_is_string(id) ? ngx_min(json_string_length(id), 80) : 1,
                  json_is_string(id) ? json_string_value(id) : "?");
    json_decref(v);
    return NULL;
}

/* Newest first, then by id (descending, for a stable order). */
static int ngx_http_echostream_summary_cmp(const void *a, const void *b)
{
    const ngx_http_echostream_summary_row_t *x = a, *y = b;

    if (x->created != y->created) {
        return x->created > y->created ? -1 : 1;
    }

    return -ngx_strcmp(json_string_value(json_object_get(x->json, "id")),
                       json_string_value(json_object_get(y->json, "id")));
}
