/*
 * ngx_http_echostream_summary_requests.c - POST /summaries (ask for a
 * summary now) and GET /summaries/requests/{id} (how that request is
 * doing).
 *
 * POST appends a request to the shared stream es:{summaries}:requests
 * (fields tenant, id, topic, requested_by, requested_ms, kind "request";
 * the summarizer consumes it) and records it as {"id","status":"queued",
 * …} in es:{t:<tenant>}:summary_requests for the summarizer to move on
 * (running, then done or failed), both with es_summary_request
 * (lib/redis/tenant.lua), which also checks that the topic exists. One
 * request per topic (or per whole tenant) is in flight at a time: the
 * function keeps its id in es:{t:<tenant>}:summary_pending, and a POST
 * while it is queued or running is answered 202 with that request, as it
 * stands, instead of queueing another: a client that clicks twice, or
 * retries, costs one summary. Request ids start with the time in base 36,
 * so the newest requests are the largest and the function can keep just
 * those.
 *
 * A stored request is shown only when its id, status, topic and
 * requested time are well-formed (else 404, logged), and only with the
 * members the API documents: the worker's started, finished, summary,
 * source and reason each when well-formed; who asked (requested_by) is
 * not shown.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_summary.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

/* request id: 8 base-36 digits of the time in ms, then 6 random */
#define NGX_HTTP_ECHOSTREAM_REQUEST_TIME_LEN 8
#define NGX_HTTP_ECHOSTREAM_REQUEST_ID_LEN   14
/* the longest failure reason shown */
#define NGX_HTTP_ECHOSTREAM_REASON_MAX 1024

static void
ngx_http_echostream_summary_requested(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_request_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res);
static json_t *
ngx_http_echostream_request_view(ngx_http_echostream_api_ctx_t *ctx,
                                 redisReply *value, ngx_uint_t in_flight);
static ngx_uint_t ngx_http_echostream_timestamp(json_t *v);

NGX_HTTP_ECHOSTREAM_ROUTE(summaries_request)
{
    u_char id[NGX_HTTP_ECHOSTREAM_REQUEST_ID_LEN + 1];
    u_char now[NGX_INT64_LEN + 1];
    ngx_str_t topics, requests, pending, json;
    char when[32], topic_id[ES_REQ_ID_MAX + 1];
    const char *topic, *argv[15];
    es_req_err err;
    json_t *stored;
    int64_t ms, t;
    ngx_uint_t i;

    if (es_req_summary_check(ctx->body, topic_id, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    /* NULL: a summary of the whole tenant */
    topic = topic_id[0] != '\0' ? topic_id : NULL;

    ms = ngx_http_echostream_api_now_ms();
    *ngx_sprintf(now, "%L", ms) = '\0';
    es_time_str(ms, when);

    t = ms;
    for (i = NGX_HTTP_ECHOSTREAM_REQUEST_TIME_LEN; i-- > 0; /* void */) {
        id[i] = (u_char) "0123456789abcdefghijklmnopqrstuvwxyz"[t % 36];
        t /= 36;
    }

    if (ngx_http_echostream_random_id(
            ctx, id + NGX_HTTP_ECHOSTREAM_REQUEST_TIME_LEN,
            NGX_HTTP_ECHOSTREAM_REQUEST_ID_LEN -
                NGX_HTTP_ECHOSTREAM_REQUEST_TIME_LEN) != NGX_OK) {
        return;
    }
    id[NGX_HTTP_ECHOSTREAM_REQUEST_ID_LEN] = '\0';

    stored = json_pack(
        "{s:s, s:s, s:o, s:s, s:s, s:I}", "id", (char *)id, "status", "queued",
        "topic", topic ? json_string(topic) : json_null(), "requested", when,
        "requested_by", ctx->claims.sub, "requested_ms", (json_int_t)ms);

    if (stored == NULL ||
        ngx_http_echostream_json_str(ctx, stored, &json) != NGX_OK ||
        ngx_http_echostream_api_key(ctx, &topics, ES_TK_TOPICS) != NGX_OK ||
        ngx_http_echostream_api_key(ctx, &requests, ES_TK_SUMMARY_REQUESTS) !=
            NGX_OK ||
        ngx_http_echostream_api_key(ctx, &pending, ES_TK_SUMMARY_PENDING) !=
            NGX_OK) {
        json_decref(stored);
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    json_decref(stored);

    argv[0] = "FCALL";
    argv[1] = "es_summary_request";
    argv[2] = "4";
    argv[3] = (const char *)topics.data;
    argv[4] = ES_KEY_SUMMARY_REQUESTS;
    argv[5] = (const char *)requests.data;
    argv[6] = (const char *)pending.data;
    argv[7] = (const char *)ctx->tenant;
    argv[8] = (const char *)id;
    argv[9] = topic ? topic : "";
    argv[10] = ctx->claims.sub;
    argv[11] = (const char *)now;
    argv[12] = (const char *)json.data;
    argv[13] = "10000"; /* the stream's approximate MAXLEN */
    argv[14] = "100";   /* requests kept per tenant */

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_summary_requested, 15,
                            argv);
}

/* {1 (queued now) | 0 (the one in flight), the request's stored JSON} */
static void
ngx_http_echostream_summary_requested(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_http_echostream_redis_result_t *res)
{
    redisReply *rep;
    json_t *request;

    if (ngx_http_echostream_fn_answer(ctx, res) ||
        ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    rep = res->replies[0];
    request = NULL;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_INTEGER) {
        request = ngx_http_echostream_request_view(ctx, rep->element[1], 1);
    }

    if (request == NULL) {
        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "echostream api: unexpected reply from "
                      "es_summary_request");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "unexpected Redis reply");
        return;
    }

    /* steals request */
    ngx_http_echostream_api_json(ctx, NGX_HTTP_ACCEPTED,
                                 json_pack("{s:o}", "request", request));
}

NGX_HTTP_ECHOSTREAM_ROUTE(summary_request_get)
{
    const char *argv[3];
    ngx_str_t key;
    u_char *id;

    id = ngx_http_echostream_path_id(ctx, "summary request");
    if (id == NULL) {
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_SUMMARY_REQUESTS) !=
        NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HGET";
    argv[1] = (const char *)key.data;
    argv[2] = (const char *)id;

    ctx->data = id;
    ngx_http_echostream_cmd(ctx, ngx_http_echostream_request_got, 3, argv);
}

static void
ngx_http_echostream_request_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res)
{
    json_t *request;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    request = NULL;
    if (res->replies[0]->type != REDIS_REPLY_NIL) {
        request = ngx_http_echostream_request_view(ctx, res->replies[0], 0);
    }

    /* a record filed under another id is not this request */
    if (request != NULL &&
        ngx_strcmp(json_string_value(json_object_get(request, "id")),
                   ctx->data) != 0) {
        json_decref(request);
        request = NULL;
    }

    if (request == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such summary request");
        return;
    }

    /* steals request */
    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK,
                                 json_pack("{s:o}", "request", request));
}

/*
 * What the API shows of a stored request (a new object), or NULL (logged)
 * when it is malformed, or, with in_flight, when it is not queued or
 * running any more (or memory ran out).
 */
static json_t *
ngx_http_echostream_request_view(ngx_http_echostream_api_ctx_t *ctx,
                                 redisReply *value, ngx_uint_t in_flight)
{
    static const char *const statuses[] = {"queued", "running", "done",
                                           "failed"};
    static const char *const times[] = {"started", "finished"};
    json_t *v, *out, *id, *status, *topic, *m;
    ngx_uint_t i, known;
    const char *s;

    v = ngx_http_echostream_stored_json(ctx, value, "summary request", "", 0);
    if (v == NULL) {
        return NULL;
    }

    /* borrowed from v */
    id = json_object_get(v, "id");
    status = json_object_get(v, "status");
    topic = json_object_get(v, "topic");

    known = 0;
    s = json_string_value(status);
    for (i = 0; s != NULL && i < (in_flight ? 2 : 4); i++) {
        known |= ngx_strcmp(s, statuses[i]) == 0;
    }

    if (!json_is_string(id) ||
        !ngx_http_echostream_api_id_valid((const u_char *)json_string_value(id),
                                          json_string_length(id)) ||
        !known || topic == NULL ||
        (!json_is_null(topic) && (!json_is_string(topic) ||
                                  !ngx_http_echostream_api_id_valid(
                                      (const u_char *)json_string_value(topic),
                                      json_string_length(topic)))) ||
        !ngx_http_echostream_timestamp(json_object_get(v, "requested"))) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping a malformed summary request");
        json_decref(v);
        return NULL;
    }

    out = json_object();
    if (out == NULL || json_object_set(out, "id", id) != 0 ||
        json_object_set(out, "status", status) != 0 ||
        json_object_set(out, "topic", topic) != 0 ||
        json_object_set(out, "requested", json_object_get(v, "requested")) !=
            0) {
        goto nomem;
    }

    /* the worker's members, each only when well-formed */
    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        m = json_object_get(v, times[i]);
        if (ngx_http_echostream_timestamp(m) &&
            json_object_set(out, times[i], m) != 0) {
            goto nomem;
        }
    }

    m = json_object_get(v, "summary");
    if (json_is_string(m) &&
        ngx_http_echostream_api_id_valid((const u_char *)json_string_value(m),
                                         json_string_length(m)) &&
        json_object_set(out, "summary", m) != 0) {
        goto nomem;
    }

    m = json_object_get(v, "source");
    s = json_string_value(m);
    if (s != NULL &&
        (ngx_strcmp(s, "bedrock") == 0 || ngx_strcmp(s, "local") == 0) &&
        json_object_set(out, "source", m) != 0) {
        goto nomem;
    }

    m = json_object_get(v, "reason");
    if (json_is_string(m) && json_string_length(m) > 0 &&
        json_string_length(m) <= NGX_HTTP_ECHOSTREAM_REASON_MAX &&
        json_object_set(out, "reason", m) != 0) {
        goto nomem;
    }

    json_decref(v);
    return out;

nomem:

    json_decref(out);
    json_decref(v);
    return NULL;
}

/* 1 when v is a UTC date-time as the API writes them: "…T…(.f)?Z". */
static ngx_uint_t ngx_http_echostream_timestamp(json_t *v)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    const char *s;
    size_t n, i;
    int64_t ms;

    s = json_string_value(v);
    n = json_string_length(v);
    if (s == NULL || n < sizeof(shape) || n > sizeof(shape) + 10 ||
        s[n - 1] != 'Z') {
        return 0;
    }

    for (i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) {
            return 0;
        }
    }

    /* an optional fraction of 1-9 digits before the Z */
    if (i < n - 1) {
        if (s[i] != '.' || n - 1 - (i + 1) < 1) {
            return 0;
        }
        for (i++; i < n - 1; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return 0;
            }
        }
    }

    return es_time_parse(s, n, &ms) == 0;
}
