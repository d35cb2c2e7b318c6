/*
 * ngx_http_echostream_items.c - the routes every kind of tenant item has
 * (see ngx_http_echostream_items.h for the contract and the descriptor).
 *
 * One request state (ngx_http_echostream_item_ctx_t in ctx->data) carries
 * a write through its Redis steps: POST and PUT check the body and write;
 * PATCH reads the stored value, merges the body over it, checks the
 * result as a whole and writes with the value it read as the expected
 * one, so a write that came between makes es_item_put answer STALE and
 * the merge starts again from the new value. The canonical item the
 * validator built is what the answer shows, so an answer never differs
 * from what a later GET returns.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include "api/ngx_http_echostream_items.h"
#include "api/ngx_http_echostream_tenant_util.h"

/* PATCH attempts before giving up on an item that keeps changing */
#define NGX_HTTP_ECHOSTREAM_ITEM_TRIES 5

typedef struct {
    const ngx_http_echostream_item_kind_t *kind;
    u_char *id;        /* NUL-terminated, validated */
    json_t *item;      /* canonical item, one reference owned by the pool */
    ngx_str_t json;    /* its stored form */
    ngx_str_t old;     /* PATCH: the value the merge started from */
    ngx_uint_t status; /* 201 (POST) or 200 */
    ngx_uint_t tries;
} ngx_http_echostream_item_ctx_t;

static ngx_http_echostream_item_ctx_t *
ngx_http_echostream_item_start(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_uint_t write, ngx_uint_t with_path_id);
static void ngx_http_echostream_item_whole(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_uint_t replace);
static void
ngx_http_echostream_item_read(ngx_http_echostream_api_ctx_t *ctx,
                              ngx_http_echostream_api_redis_pt next);
static void
ngx_http_echostream_item_listed(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_item_got(ngx_http_echostream_api_ctx_t *ctx,
                             ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_item_patch_got(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res);
static ngx_int_t
ngx_http_echostream_item_build(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_item_ctx_t *it,
                               json_t *base);
static void ngx_http_echostream_item_write(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_http_echostream_item_ctx_t *it,
                                           const char *mode);
static void
ngx_http_echostream_item_written(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_item_deleted(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_item_fcall(ngx_http_echostream_api_ctx_t *ctx,
                               const char *fn, const char **keys, int nkeys,
                               const char **args, int nargs,
                               ngx_http_echostream_api_redis_pt next);
static json_t *
ngx_http_echostream_item_stored(ngx_http_echostream_api_ctx_t *ctx,
                                const ngx_http_echostream_item_kind_t *k,
                                const char *id, size_t id_len,
                                redisReply *value);
static void ngx_http_echostream_item_missing(ngx_http_echostream_api_ctx_t *ctx,
                                             const char *what);

#define ngx_http_echostream_item_kind(ctx)                                     \
    ((const ngx_http_echostream_item_kind_t *)(ctx)->route->data)

void ngx_http_echostream_item_list(ngx_http_echostream_api_ctx_t *ctx)
{
    const char *argv[2];
    ngx_str_t key;

    if (ngx_http_echostream_api_key(
            ctx, &key, ngx_http_echostream_item_kind(ctx)->key) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HGETALL";
    argv[1] = (const char *)key.data;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_item_listed, 2, argv);
}

static void
ngx_http_echostream_item_listed(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res)
{
    const ngx_http_echostream_item_kind_t *k =
        ngx_http_echostream_item_kind(ctx);
    json_t *list;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    if (res->replies[0]->type != REDIS_REPLY_ARRAY) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    list = ngx_http_echostream_items_json(ctx, k, res->replies[0]);
    if (list == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    /* steals list */
    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK,
                                 json_pack("{s:o}", k->list, list));
}

void ngx_http_echostream_item_get(ngx_http_echostream_api_ctx_t *ctx)
{
    if (ngx_http_echostream_item_start(ctx, 0, 1) != NULL) {
        ngx_http_echostream_item_read(ctx, ngx_http_echostream_item_got);
    }
}

static void
ngx_http_echostream_item_got(ngx_http_echostream_api_ctx_t *ctx,
                             ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_item_ctx_t *it = ctx->data;
    json_t *item;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    item = NULL;
    if (res->replies[0]->type != REDIS_REPLY_NIL) {
        item = ngx_http_echostream_item_stored(
            ctx, it->kind, (const char *)it->id, ngx_strlen(it->id),
            res->replies[0]);
    }

    if (item == NULL) {
        ngx_http_echostream_item_missing(ctx, it->kind->what);
        return;
    }

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, item);
}

void ngx_http_echostream_item_create(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_item_whole(ctx, 0);
}

void ngx_http_echostream_item_put(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_item_whole(ctx, 1);
}

/* POST and PUT: a whole item from the body, defaults for what it omits. */
static void ngx_http_echostream_item_whole(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_uint_t replace)
{
    ngx_http_echostream_item_ctx_t *it;

    it = ngx_http_echostream_item_start(ctx, 1, replace);
    if (it == NULL) {
        return;
    }

    if (ngx_http_echostream_item_build(ctx, it, NULL) == NGX_OK) {
        ngx_http_echostream_item_write(ctx, it, replace ? "replace" : "create");
    }
}

void ngx_http_echostream_item_patch(ngx_http_echostream_api_ctx_t *ctx)
{
    if (ngx_http_echostream_item_start(ctx, 1, 1) != NULL) {
        ngx_http_echostream_item_read(ctx, ngx_http_echostream_item_patch_got);
    }
}

/* One HGET of the item (PATCH: again after a lost compare-and-set). */
static void ngx_http_echostream_item_read(ngx_http_echostream_api_ctx_t *ctx,
                                          ngx_http_echostream_api_redis_pt next)
{
    ngx_http_echostream_item_ctx_t *it = ctx->data;
    const char *argv[3];
    ngx_str_t key;

    if (ngx_http_echostream_api_key(ctx, &key, it->kind->key) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "HGET";
    argv[1] = (const char *)key.data;
    argv[2] = (const char *)it->id;

    ngx_http_echostream_cmd(ctx, next, 3, argv);
}

/*
 * PATCH: the body's members over the stored item, checked as a whole. A
 * stored value that does not parse merges as {}, so a PATCH naming every
 * member repairs it.
 */
static void
ngx_http_echostream_item_patch_got(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_item_ctx_t *it = ctx->data;
    redisReply *rep;
    ngx_int_t rc;
    json_t *old;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    rep = res->replies[0];
    if (rep->type == REDIS_REPLY_NIL) {
        ngx_http_echostream_item_missing(ctx, it->kind->what);
        return;
    }

    if (rep->type != REDIS_REPLY_STRING) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    if (ngx_http_echostream_reply_str(ctx, rep, &it->old) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    old = ngx_http_echostream_stored_json(
        ctx, rep, it->kind->what, (const char *)it->id, ngx_strlen(it->id));

    rc = ngx_http_echostream_item_build(ctx, it, old);
    json_decref(old);

    if (rc == NGX_OK) {
        ngx_http_echostream_item_write(ctx, it, "replace");
    }
}

void ngx_http_echostream_item_delete(ngx_http_echostream_api_ctx_t *ctx)
{
    const char *keys[1 + NGX_HTTP_ECHOSTREAM_ITEM_HOOK_MAX];
    const char *args[3 + NGX_HTTP_ECHOSTREAM_ITEM_HOOK_MAX];
    const ngx_http_echostream_item_kind_t *k;
    ngx_http_echostream_item_ctx_t *it;
    ngx_str_t hash;
    int nkeys, nargs;

    it = ngx_http_echostream_item_start(ctx, 0, 1);
    if (it == NULL) {
        return;
    }
    k = it->kind;

    if (ngx_http_echostream_api_key(ctx, &hash, k->key) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    nkeys = 0;
    keys[nkeys++] = (const char *)hash.data;
    nargs = 0;
    args[nargs++] = k->what;
    args[nargs++] = (const char *)it->id;
    args[nargs++] = k->hook ? k->hook : "";

    if (k->hook_args != NULL &&
        k->hook_args(ctx, NULL, keys, &nkeys, args, &nargs) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    ngx_http_echostream_item_fcall(ctx, "es_item_delete", keys, nkeys, args,
                                   nargs, ngx_http_echostream_item_deleted);
}

static void
ngx_http_echostream_item_deleted(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res)
{
    if (ngx_http_echostream_fn_answer(ctx, res) ||
        ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    ngx_http_echostream_api_no_content(ctx);
}

/*
 * The request state of every route but the list, in ctx->data: for a
 * write (POST, PUT, PATCH) the body checked (only the kind's members, an
 * "id" in it valid and the same as the path's), for GET and DELETE the
 * path id. NULL when the request was answered.
 */
static ngx_http_echostream_item_ctx_t *
ngx_http_echostream_item_start(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_uint_t write, ngx_uint_t with_path_id)
{
    const ngx_http_echostream_item_kind_t *k =
        ngx_http_echostream_item_kind(ctx);
    ngx_http_echostream_item_ctx_t *it;
    u_char *id;

    if (write) {
        id = ngx_http_echostream_write_id(ctx, k->members, k->what,
                                          with_path_id);
    } else {
        id = ngx_http_echostream_path_id(ctx, k->what);
    }
    if (id == NULL) {
        return NULL;
    }

    it = ngx_pcalloc(ctx->r->pool, sizeof(ngx_http_echostream_item_ctx_t));
    if (it == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return NULL;
    }

    it->kind = k;
    it->id = id;
    it->status = with_path_id ? NGX_HTTP_OK : NGX_HTTP_CREATED;
    ctx->data = it;

    return it;
}

/*
 * Checks the body's item merged over base (borrowed, may be NULL) into
 * it->item and its stored text. Returns NGX_OK, or NGX_DECLINED when the
 * request was answered.
 */
static ngx_int_t
ngx_http_echostream_item_build(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_item_ctx_t *it, json_t *base)
{
    es_req_err err;

    if (it->kind->check(ctx->body, base, (const char *)it->id, &it->item,
                        &err) != 0) {
        if (err.status == NGX_HTTP_INTERNAL_SERVER_ERROR) {
            ngx_http_echostream_no_memory(ctx);
        } else {
            ngx_http_echostream_api_req_error(ctx, &err);
        }
        return NGX_DECLINED;
    }

    if (ngx_http_echostream_pool_json(ctx, it->item) != NGX_OK ||
        ngx_http_echostream_json_str(ctx, it->item, &it->json) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return NGX_DECLINED;
    }

    return NGX_OK;
}

/* One es_item_put call: mode "create" or "replace". */
static void ngx_http_echostream_item_write(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_http_echostream_item_ctx_t *it,
                                           const char *mode)
{
    const char *keys[2 + NGX_HTTP_ECHOSTREAM_ITEM_HOOK_MAX];
    const char *args[8 + NGX_HTTP_ECHOSTREAM_ITEM_HOOK_MAX];
    const ngx_http_echostream_item_kind_t *k = it->kind;
    ngx_str_t hash, ref;
    const char *ref_id;
    int nkeys, nargs;

    ref_id = "";
    if (k->ref_member != NULL) {
        ref_id = json_string_value(json_object_get(it->item, k->ref_member));
        if (ref_id == NULL) {
            ref_id = "";
        }
    }

    if (ngx_http_echostream_api_key(ctx, &hash, k->key) != NGX_OK ||
        ngx_http_echostream_api_key(ctx, &ref, k->ref ? k->ref->key : k->key) !=
            NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    nkeys = 0;
    keys[nkeys++] = (const char *)hash.data;
    keys[nkeys++] = (const char *)ref.data;
    nargs = 0;
    args[nargs++] = k->what;
    args[nargs++] = mode;
    args[nargs++] = it->old.data ? (const char *)it->old.data : "";
    args[nargs++] = (const char *)it->id;
    args[nargs++] = (const char *)it->json.data;
    args[nargs++] = k->limit;
    args[nargs++] = ref_id;
    args[nargs++] = k->hook ? k->hook : "";

    if (k->hook_args != NULL &&
        k->hook_args(ctx, it->item, keys, &nkeys, args, &nargs) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    ngx_http_echostream_item_fcall(ctx, "es_item_put", keys, nkeys, args, nargs,
                                   ngx_http_echostream_item_written);
}

/* Queues FCALL fn with keys[0..nkeys) and args[0..nargs). */
static void
ngx_http_echostream_item_fcall(ngx_http_echostream_api_ctx_t *ctx,
                               const char *fn, const char **keys, int nkeys,
                               const char **args, int nargs,
                               ngx_http_echostream_api_redis_pt next)
{
    const char *argv[3 + 2 * (8 + NGX_HTTP_ECHOSTREAM_ITEM_HOOK_MAX)];
    u_char numkeys[NGX_INT_T_LEN + 1];
    int argc, i;

    *ngx_sprintf(numkeys, "%d", nkeys) = '\0';

    argc = 0;
    argv[argc++] = "FCALL";
    argv[argc++] = fn;
    argv[argc++] = (const char *)numkeys;
    for (i = 0; i < nkeys; i++) {
        argv[argc++] = keys[i];
    }
    for (i = 0; i < nargs; i++) {
        argv[argc++] = args[i];
    }

    ngx_http_echostream_cmd(ctx, next, argc, argv);
}

static void
ngx_http_echostream_item_written(ngx_http_echostream_api_ctx_t *ctx,
                                 ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_item_ctx_t *it = ctx->data;
    const ngx_http_echostream_item_kind_t *k = it->kind;
    const char *ref;
    es_req_err err;

    if (ngx_http_echostream_fn_answer(ctx, res)) {
        return;
    }

    if (res->replies != NULL && k->ref != NULL) {
        ref = ngx_http_echostream_fn_error(res->replies[0], "NOREF");
        if (ref != NULL) {
            /* the same answer a request check gives for a member at fault */
            es_req_fail(&err, 422, k->ref_code, k->ref_member, "no such %s: %s",
                        k->ref->what, ref);
            ngx_http_echostream_api_req_error(ctx, &err);
            return;
        }
    }

    /* PATCH lost its compare-and-set: merge into the new value */
    if (res->replies != NULL &&
        ngx_http_echostream_fn_error(res->replies[0], "STALE") != NULL) {
        if (++it->tries < NGX_HTTP_ECHOSTREAM_ITEM_TRIES) {
            ngx_http_echostream_item_read(ctx,
                                          ngx_http_echostream_item_patch_got);
            return;
        }

        ngx_http_echostream_api_error(ctx, NGX_HTTP_CONFLICT, "conflict",
                                      "the %s keeps changing; retry", k->what);
        return;
    }

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    /* the pool keeps its own reference */
    ngx_http_echostream_api_json(ctx, it->status, json_incref(it->item));
}

json_t *ngx_http_echostream_items_json(ngx_http_echostream_api_ctx_t *ctx,
                                       const ngx_http_echostream_item_kind_t *k,
                                       redisReply *all)
{
    redisReply *f;
    ngx_uint_t i, n;
    json_t **items;

    items =
        ngx_palloc(ctx->r->pool, (all->elements / 2 + 1) * sizeof(json_t *));
    if (items == NULL) {
        return NULL;
    }

    n = 0;
    for (i = 0; i + 1 < all->elements; i += 2) {
        f = all->element[i];
        if (f->type != REDIS_REPLY_STRING) {
            continue;
        }
        items[n] = ngx_http_echostream_item_stored(ctx, k, f->str, f->len,
                                                   all->element[i + 1]);
        if (items[n] != NULL) {
            n++;
        }
    }

    qsort(items, n, sizeof(json_t *), ngx_http_echostream_cmp_id);

    return ngx_http_echostream_json_list(items, n);
}

/*
 * A stored item, re-checked by the kind's validator and rebuilt (a new
 * reference); NULL (logged) when it is damaged.
 */
static json_t *
ngx_http_echostream_item_stored(ngx_http_echostream_api_ctx_t *ctx,
                                const ngx_http_echostream_item_kind_t *k,
                                const char *id, size_t id_len,
                                redisReply *value)
{
    u_char idz[NGX_HTTP_ECHOSTREAM_ID_MAX + 1];
    es_req_err err;
    json_t *v, *out;

    if (!ngx_http_echostream_api_id_valid((const u_char *)id, id_len)) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping %s with invalid id", k->what);
        return NULL;
    }

    ngx_memcpy(idz, id, id_len);
    idz[id_len] = '\0';

    v = ngx_http_echostream_stored_json(ctx, value, k->what, id, id_len);
    if (v == NULL) {
        return NULL;
    }

    out = NULL;
    if (k->check(v, NULL, (const char *)idz, &out, &err) != 0) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping malformed %s \"%s\": %s",
                      k->what, idz, err.message);
    }
    json_decref(v);

    return out;
}

/* 404 "no such <what>". */
static void ngx_http_echostream_item_missing(ngx_http_echostream_api_ctx_t *ctx,
                                             const char *what)
{
    ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no such %s", what);
}
