/*
 * ngx_http_echostream_topics.c - /topics: list, create, read, replace,
 * change and delete a tenant's topics.
 *
 * A topic is stored as its canonical JSON {"id","name","subreddits",
 * "query"} in es:{t:<tenant>}:topics, the hash the enrich worker loads.
 * Everything a client sends is checked before Redis sees it, by
 * lib/es_req_topic.c (the code the fuzz targets run): subreddit names are
 * normalized (lower case, duplicates dropped) and the query goes through
 * the same parser enrich compiles it with, so a topic that was accepted
 * always loads, and a query error comes back with its byte position and
 * column.
 *
 * Every write is one call of a Redis function (es_topic_put /
 * es_topic_delete, lib/redis/tenant.lua) that changes the
 * topic, the watch union es:{watch}:subs ingest polls, and both version
 * counters together, and decides the races (id taken, topic gone, the
 * 100-topic limit) atomically. PATCH merges into what it read and writes
 * only if the topic is still that value (compare-and-set), re-reading a
 * few times when another write came between. A deleted topic's series,
 * terms and comment keys are not deleted: they expire with their bucket
 * or the tenant's retention, so a DELETE costs one call however much data
 * the topic gathered.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include "es_keys.h"
#include "es_req_topic.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

#define NGX_HTTP_ECHOSTREAM_TOPICS_MAX "100"
/* PATCH attempts before giving up on a topic that keeps changing */
#define NGX_HTTP_ECHOSTREAM_PATCH_TRIES 5

typedef struct {
    u_char *id;        /* NUL-terminated, validated */
    es_req_topic t;    /* the checked topic; released by a pool cleanup */
    ngx_str_t old;     /* PATCH: the value the merge started from */
    ngx_uint_t status; /* 201 (POST) or 200 */
    ngx_uint_t tries;
} ngx_http_echostream_topic_ctx_t;

static ngx_http_echostream_topic_ctx_t *
ngx_http_echostream_topic_start(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_uint_t with_path_id);
static void ngx_http_echostream_topic_whole(ngx_http_echostream_api_ctx_t *ctx,
                                            ngx_uint_t replace);
static ngx_int_t
ngx_http_echostream_topic_build(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_topic_ctx_t *t,
                                json_t *base);
static void ngx_http_echostream_topic_cleanup(void *data);
static void ngx_http_echostream_topic_write(ngx_http_echostream_api_ctx_t *ctx,
                                            ngx_http_echostream_topic_ctx_t *t,
                                            const char *mode);
static void
ngx_http_echostream_topic_written(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_topic_patch_read(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_topic_patch_got(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_topics_list_done(ngx_http_echostream_api_ctx_t *ctx,
                                     ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_topics_get_done(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_topics_delete_done(ngx_http_echostream_api_ctx_t *ctx,
                                       ngx_http_echostream_redis_result_t *res);
static json_t *
ngx_http_echostream_topic_stored(ngx_http_echostream_api_ctx_t *ctx,
                                 const char *id, size_t id_len,
                                 redisReply *value);

NGX_HTTP_ECHOSTREAM_ROUTE(topics_list)
{
    const char *argv[2];
    ngx_str_t key;

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_TOPICS) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HGETALL";
    argv[1] = (const char *)key.data;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_topics_list_done, 2, argv);
}

static void
ngx_http_echostream_topics_list_done(ngx_http_echostream_api_ctx_t *ctx,
                                     ngx_http_echostream_redis_result_t *res)
{
    redisReply *all, *f;
    json_t **topics, *list, *root;
    ngx_uint_t i, n;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    all = res->replies[0];
    if (all->type != REDIS_REPLY_ARRAY) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    topics =
        ngx_palloc(ctx->r->pool, (all->elements / 2 + 1) * sizeof(json_t *));
    if (topics == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    n = 0;
    for (i = 0; i + 1 < all->elements; i += 2) {
        f = all->element[i];
        if (f->type != REDIS_REPLY_STRING) {
            continue;
        }
        topics[n] = ngx_http_echostream_topic_stored(ctx, f->str, f->len,
                                                     all->element[i + 1]);
        if (topics[n] != NULL) {
            n++;
        }
    }

    qsort(topics, n, sizeof(json_t *), ngx_http_echostream_cmp_id);

    list = ngx_http_echostream_json_list(topics, n);

    if (list == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    root = json_pack("{s:o}", "topics", list); /* steals list */
    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, root);
}

NGX_HTTP_ECHOSTREAM_ROUTE(topics_get)
{
    const char *argv[3];
    ngx_str_t key;
    u_char *id;

    id = ngx_http_echostream_path_id(ctx, "topic");
    if (id == NULL) {
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_TOPICS) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    ctx->data = id;

    argv[0] = "HGET";
    argv[1] = (const char *)key.data;
    argv[2] = (const char *)id;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_topics_get_done, 3, argv);
}

static void
ngx_http_echostream_topics_get_done(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_http_echostream_redis_result_t *res)
{
    const char *id = ctx->data;
    json_t *topic;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    topic = NULL;
    if (res->replies[0]->type != REDIS_REPLY_NIL) {
        topic = ngx_http_echostream_topic_stored(ctx, id, ngx_strlen(id),
                                                 res->replies[0]);
    }

    if (topic == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such topic");
        return;
    }

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, topic);
}

NGX_HTTP_ECHOSTREAM_ROUTE(topics_create)
{
    ngx_http_echostream_topic_whole(ctx, 0);
}

NGX_HTTP_ECHOSTREAM_ROUTE(topics_put)
{
    ngx_http_echostream_topic_whole(ctx, 1);
}

/* POST and PUT: a whole topic from the body ("query" may be left out). */
static void ngx_http_echostream_topic_whole(ngx_http_echostream_api_ctx_t *ctx,
                                            ngx_uint_t replace)
{
    ngx_http_echostream_topic_ctx_t *t;

    t = ngx_http_echostream_topic_start(ctx, replace);
    if (t == NULL) {
        return;
    }

    if (ngx_http_echostream_topic_build(ctx, t, NULL) == NGX_OK) {
        ngx_http_echostream_topic_write(ctx, t, replace ? "replace" : "create");
    }
}

NGX_HTTP_ECHOSTREAM_ROUTE(topics_patch)
{
    if (ngx_http_echostream_topic_start(ctx, 1) == NULL) {
        return;
    }

    ngx_http_echostream_topic_patch_read(ctx);
}

/* PATCH: reads the current topic (again, after a lost compare-and-set). */
static void
ngx_http_echostream_topic_patch_read(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_topic_ctx_t *t = ctx->data;
    const char *argv[3];
    ngx_str_t key;

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_TOPICS) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HGET";
    argv[1] = (const char *)key.data;
    argv[2] = (const char *)t->id;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_topic_patch_got, 3, argv);
}

/*
 * PATCH: merges the body into the stored topic and validates the result
 * as a whole. A stored value that does not parse merges as {}, so a
 * PATCH naming every field repairs it.
 */
static void
ngx_http_echostream_topic_patch_got(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_topic_ctx_t *t = ctx->data;
    redisReply *rep;
    ngx_int_t rc;
    json_t *old;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    rep = res->replies[0];
    if (rep->type == REDIS_REPLY_NIL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such topic");
        return;
    }

    if (rep->type != REDIS_REPLY_STRING) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    if (ngx_http_echostream_reply_str(ctx, rep, &t->old) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    old = ngx_http_echostream_stored_json(
        ctx, rep, "topic", (const char *)t->id, ngx_strlen(t->id));

    rc = ngx_http_echostream_topic_build(ctx, t, old);
    json_decref(old);

    if (rc == NGX_OK) {
        ngx_http_echostream_topic_write(ctx, t, "replace");
    }
}

NGX_HTTP_ECHOSTREAM_ROUTE(topics_delete)
{
    const char *argv[8];
    ngx_str_t key;
    u_char *id;

    id = ngx_http_echostream_path_id(ctx, "topic");
    if (id == NULL) {
        return;
    }

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_TOPICS) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "FCALL";
    argv[1] = "es_topic_delete";
    argv[2] = "4";
    argv[3] = (const char *)key.data;
    argv[4] = ES_KEY_WATCH_SUBS;
    argv[5] = ES_KEY_WATCH_VERSION;
    argv[6] = ES_KEY_TOPICS_VERSION;
    argv[7] = (const char *)id;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_topics_delete_done, 8,
                            argv);
}

static void
ngx_http_echostream_topics_delete_done(ngx_http_echostream_api_ctx_t *ctx,
                                       ngx_http_echostream_redis_result_t *res)
{
    if (ngx_http_echostream_fn_answer(ctx, res) ||
        ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    ngx_http_echostream_api_no_content(ctx);
}

/*
 * Common start of POST, PUT and PATCH: the body and the topic's id
 * checked, the route state allocated (ctx->data). NULL when answered.
 */
static ngx_http_echostream_topic_ctx_t *
ngx_http_echostream_topic_start(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_uint_t with_path_id)
{
    ngx_http_echostream_topic_ctx_t *t;
    ngx_pool_cleanup_t *cln;
    u_char *id;

    id = ngx_http_echostream_write_id(ctx, es_req_topic_members, "topic",
                                      with_path_id);
    if (id == NULL) {
        return NULL;
    }

    t = ngx_pcalloc(ctx->r->pool, sizeof(ngx_http_echostream_topic_ctx_t));
    cln = ngx_pool_cleanup_add(ctx->r->pool, 0);
    if (t == NULL || cln == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return NULL;
    }

    /* t->t is zeroed: releasing it before a check is a no-op */
    cln->handler = ngx_http_echostream_topic_cleanup;
    cln->data = &t->t;

    t->id = id;
    t->status = with_path_id ? NGX_HTTP_OK : NGX_HTTP_CREATED;
    ctx->data = t;

    return t;
}

/*
 * Checks the body's topic merged over base (borrowed, may be NULL; see
 * es_req_topic_check) into t->t, releasing the topic of an earlier
 * attempt first (PATCH after a lost compare-and-set). Returns NGX_OK, or
 * NGX_DECLINED when the request was answered.
 */
static ngx_int_t
ngx_http_echostream_topic_build(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_topic_ctx_t *t,
                                json_t *base)
{
    es_req_err err;

    es_req_topic_free(&t->t);

    if (es_req_topic_check(ctx->body, base, (const char *)t->id, &t->t, &err) !=
        0) {
        if (err.status == NGX_HTTP_INTERNAL_SERVER_ERROR) {
            ngx_http_echostream_no_memory(ctx);
        } else {
            ngx_http_echostream_api_req_error(ctx, &err);
        }
        return NGX_DECLINED;
    }

    return NGX_OK;
}

/* The pool cleanup of the route state: the topic and its stored text. */
static void ngx_http_echostream_topic_cleanup(void *data)
{
    es_req_topic_free(data);
}

/* One es_topic_put call: mode "create" or "replace". */
static void ngx_http_echostream_topic_write(ngx_http_echostream_api_ctx_t *ctx,
                                            ngx_http_echostream_topic_ctx_t *t,
                                            const char *mode)
{
    const char *argv[14 + ES_REQ_TOPIC_SUBS_MAX];
    ngx_str_t key;
    size_t i;
    int argc;

    if (ngx_http_echostream_api_key(ctx, &key, ES_TK_TOPICS) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argc = 0;
    argv[argc++] = "FCALL";
    argv[argc++] = "es_topic_put";
    argv[argc++] = "5";
    argv[argc++] = (const char *)key.data;
    argv[argc++] = ES_KEY_WATCH_SUBS;
    argv[argc++] = ES_KEY_WATCH_VERSION;
    argv[argc++] = ES_KEY_TOPICS_VERSION;
    argv[argc++] = ES_KEY_TENANTS;
    argv[argc++] = mode;
    argv[argc++] = t->old.data ? (const char *)t->old.data : "";
    argv[argc++] = (const char *)t->id;
    argv[argc++] = t->t.json;
    argv[argc++] = NGX_HTTP_ECHOSTREAM_TOPICS_MAX;
    argv[argc++] = (const char *)ctx->tenant;
    for (i = 0; i < t->t.nsubs; i++) {
        argv[argc++] = t->t.subs[i];
    }

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_topic_written, argc, argv);
}

static void
ngx_http_echostream_topic_written(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_topic_ctx_t *t = ctx->data;

    if (ngx_http_echostream_fn_answer(ctx, res)) {
        return;
    }

    /* PATCH lost its compare-and-set: merge into the new value */
    if (res->replies != NULL &&
        ngx_http_echostream_fn_error(res->replies[0], "STALE") != NULL) {
        if (++t->tries < NGX_HTTP_ECHOSTREAM_PATCH_TRIES) {
            ngx_http_echostream_topic_patch_read(ctx);
            return;
        }

        ngx_http_echostream_api_error(ctx, NGX_HTTP_CONFLICT, "conflict",
                                      "the topic keeps changing; retry");
        return;
    }

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    /* the pool keeps its own reference */
    ngx_http_echostream_api_json(ctx, t->status, json_incref(t->t.topic));
}

/*
 * A stored topic as the API shows it (a new reference), rebuilt from its
 * checked members; NULL (logged) when it is damaged.
 */
static json_t *
ngx_http_echostream_topic_stored(ngx_http_echostream_api_ctx_t *ctx,
                                 const char *id, size_t id_len,
                                 redisReply *value)
{
    json_t *v, *name, *subs, *query, *s, *out;
    size_t i;

    if (!ngx_http_echostream_api_id_valid((const u_char *)id, id_len)) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping topic with invalid id");
        return NULL;
    }

    v = ngx_http_echostream_stored_json(ctx, value, "topic", id, id_len);
    if (v == NULL) {
        return NULL;
    }

    out = NULL;

    /* borrowed from v */
    name = json_object_get(v, "name");
    subs = json_object_get(v, "subreddits");
    query = json_object_get(v, "query");

    if (!json_is_string(name) || !json_is_array(subs) ||
        (query != NULL && !json_is_string(query))) {
        goto malformed;
    }

    for (i = 0; i < json_array_size(subs); i++) {
        s = json_array_get(subs, i);
        if (!json_is_string(s)) {
            goto malformed;
        }
    }

    out = json_pack("{s:s%, s:O, s:O, s:s}", "id", id, id_len, "name", name,
                    "subreddits", subs, "query",
                    query ? json_string_value(query) : "");
    json_decref(v);
    return out;

malformed:

    ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                  "echostream api: skipping malformed topic \"%*s\"", id_len,
                  id);
    json_decref(v);
    return NULL;
}
