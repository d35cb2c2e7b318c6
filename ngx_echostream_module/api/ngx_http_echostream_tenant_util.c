/*
 * ngx_http_echostream_tenant_util.c - the helpers the tenant data routes
 * share (see ngx_http_echostream_tenant_util.h for each contract).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/ngx_http_echostream_tenant_util.h"

static void ngx_http_echostream_json_cleanup(void *data);

ngx_int_t ngx_http_echostream_random_id(ngx_http_echostream_api_ctx_t *ctx,
                                        u_char *out, size_t n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    u_char buf[64];
    size_t i, k;

    k = sizeof(buf);
    for (i = 0; i < n; /* void */) {
        if (k == sizeof(buf)) {
            if (RAND_bytes(buf, sizeof(buf)) != 1) {
                ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                              "echostream api: RAND_bytes failed");
                ngx_http_echostream_api_error(ctx,
                                              NGX_HTTP_INTERNAL_SERVER_ERROR,
                                              "internal", "no random id");
                return NGX_ERROR;
            }
            k = 0;
        }

        /* 252 = 7 * 36: larger bytes would favour the first letters */
        if (buf[k] < 252) {
            out[i++] = (u_char)alphabet[buf[k] % 36];
        }
        k++;
    }

    return NGX_OK;
}

ngx_int_t ngx_http_echostream_email_hash(const u_char *email, size_t n,
                                         u_char *hex)
{
    u_char md[EVP_MAX_MD_SIZE];
    unsigned int len;

    if (EVP_Digest(email, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
        return NGX_ERROR;
    }

    ngx_hex_dump(hex, md, len);
    hex[2 * len] = '\0';

    return NGX_OK;
}

void ngx_http_echostream_no_memory(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                  "echostream api: out of memory in %s", ctx->route->name);
    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

/* The pool cleanup of ngx_http_echostream_pool_json(). */
static void ngx_http_echostream_json_cleanup(void *data)
{
    json_decref(data);
}

ngx_int_t ngx_http_echostream_pool_json(ngx_http_echostream_api_ctx_t *ctx,
                                        json_t *json)
{
    ngx_pool_cleanup_t *cln;

    cln = ngx_pool_cleanup_add(ctx->r->pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_echostream_json_cleanup;
    cln->data = json;

    return NGX_OK;
}

ngx_int_t ngx_http_echostream_json_str(ngx_http_echostream_api_ctx_t *ctx,
                                       json_t *json, ngx_str_t *out)
{
    size_t size, flags;

    flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17);

    size = json_dumpb(json, NULL, 0, flags);
    if (size == 0) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(ctx->r->pool, size + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    if (json_dumpb(json, (char *)out->data, size, flags) != size) {
        return NGX_ERROR;
    }

    out->data[size] = '\0';
    out->len = size;

    return NGX_OK;
}

json_t *ngx_http_echostream_stored_json(ngx_http_echostream_api_ctx_t *ctx,
                                        redisReply *rep, const char *what,
                                        const char *name, size_t name_len)
{
    json_error_t jerr;
    json_t *v;

    if (rep->type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping %s \"%*s\": not a string", what,
                      ngx_min(name_len, 80), name);
        return NULL;
    }

    v = json_loadb(rep->str, rep->len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL || !json_is_object(v)) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping malformed %s \"%*s\": %s", what,
                      ngx_min(name_len, 80), name,
                      v == NULL ? jerr.text : "not an object");
        json_decref(v);
        return NULL;
    }

    return v;
}

ngx_int_t ngx_http_echostream_reply_str(ngx_http_echostream_api_ctx_t *ctx,
                                        redisReply *rep, ngx_str_t *out)
{
    out->data = ngx_pnalloc(ctx->r->pool, rep->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, rep->str, rep->len);
    out->data[rep->len] = '\0';
    out->len = rep->len;

    return NGX_OK;
}

u_char *ngx_http_echostream_path_id(ngx_http_echostream_api_ctx_t *ctx,
                                    const char *what)
{
    u_char *id;

    if (ctx->nparams < 1 || !ngx_http_echostream_api_id_valid(
                                ctx->params[0].data, ctx->params[0].len)) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such %s", what);
        return NULL;
    }

    id = ngx_pnalloc(ctx->r->pool, ctx->params[0].len + 1);
    if (id == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return NULL;
    }

    ngx_memcpy(id, ctx->params[0].data, ctx->params[0].len);
    id[ctx->params[0].len] = '\0';

    return id;
}

u_char *ngx_http_echostream_write_id(ngx_http_echostream_api_ctx_t *ctx,
                                     const char *const *allowed,
                                     const char *what, ngx_uint_t with_path_id)
{
    u_char *id, *path;
    es_req_err err;
    size_t n;

    if (es_req_members(ctx->body, allowed, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return NULL;
    }

    path = NULL;
    if (with_path_id) {
        path = ngx_http_echostream_path_id(ctx, what);
        if (path == NULL) {
            return NULL;
        }
    }

    id = ngx_pnalloc(ctx->r->pool, ES_REQ_ID_MAX + 1);
    if (id == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return NULL;
    }

    if (es_req_body_id(ctx->body, (const char *)path, (char *)id, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return NULL;
    }

    n = ngx_strlen(id);
    if (n > 0) {
        return id;
    }

    if (ngx_http_echostream_random_id(
            ctx, id, NGX_HTTP_ECHOSTREAM_GEN_ID_LEN) != NGX_OK) {
        return NULL;
    }
    id[NGX_HTTP_ECHOSTREAM_GEN_ID_LEN] = '\0';

    return id;
}

json_t *ngx_http_echostream_json_list(json_t **items, ngx_uint_t n)
{
    json_t *list;
    ngx_uint_t i;

    list = json_array();

    for (i = 0; i < n; i++) {
        if (list == NULL) {
            json_decref(items[i]);
            continue;
        }

        /* steals items[i], even when appending fails */
        if (json_array_append_new(list, items[i]) != 0) {
            json_decref(list);
            list = NULL;
        }
    }

    return list;
}

int ngx_http_echostream_cmp_id(const void *a, const void *b)
{
    json_t *const *x = a, *const *y = b;

    return ngx_strcmp(json_string_value(json_object_get(*x, "id")),
                      json_string_value(json_object_get(*y, "id")));
}

const char *ngx_http_echostream_fn_error(redisReply *rep, const char *code)
{
    size_t n;

    if (rep->type != REDIS_REPLY_ERROR) {
        return NULL;
    }

    n = ngx_strlen(code);
    if (rep->len <= n || ngx_strncmp(rep->str, code, n) != 0 ||
        rep->str[n] != ' ') {
        return NULL;
    }

    return rep->str + n + 1;
}

ngx_uint_t
ngx_http_echostream_fn_answer(ngx_http_echostream_api_ctx_t *ctx,
                              ngx_http_echostream_redis_result_t *res)
{
    const char *msg;
    es_req_err err;

    if (res->replies == NULL) {
        return 0;
    }

    msg = ngx_http_echostream_fn_error(res->replies[0], "CONFLICT");
    if (msg != NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_CONFLICT, "conflict", "%s",
                                      msg);
        return 1;
    }

    msg = ngx_http_echostream_fn_error(res->replies[0], "NOTFOUND");
    if (msg != NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "%s", msg);
        return 1;
    }

    msg = ngx_http_echostream_fn_error(res->replies[0], "GONE");
    if (msg != NULL) {
        ngx_http_echostream_api_error(ctx, 410, "invite_expired", "%s", msg);
        return 1;
    }

    msg = ngx_http_echostream_fn_error(res->replies[0], "CONFIRM");
    if (msg != NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_CONFLICT,
                                      "confirm_required", "%s", msg);
        return 1;
    }

    msg = ngx_http_echostream_fn_error(res->replies[0], "NOTOPIC");
    if (msg != NULL) {
        /* the same answer a request check gives for a field at fault */
        es_req_fail(&err, 422, "invalid_topic", "topic", "%s", msg);
        ngx_http_echostream_api_req_error(ctx, &err);
        return 1;
    }

    return 0;
}

void ngx_http_echostream_cmd(ngx_http_echostream_api_ctx_t *ctx,
                             ngx_http_echostream_api_redis_pt next, int argc,
                             const char **argv)
{
    ngx_http_echostream_redis_cmd_t cmd;

    cmd.argc = argc;
    cmd.argv = argv;
    cmd.argvlen = NULL;

    if (ngx_http_echostream_api_redis(ctx, &cmd, 1, next) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
    }
}

/* "es:{invites}:<sha256 hex of the lower-case e-mail>" in pool memory. */
ngx_int_t ngx_http_echostream_invite_key(ngx_http_echostream_api_ctx_t *ctx,
                                         const u_char *email, size_t n,
                                         ngx_str_t *key)
{
    u_char hex[NGX_HTTP_ECHOSTREAM_EMAIL_HASH_LEN + 1];

    if (ngx_http_echostream_email_hash(email, n, hex) != NGX_OK) {
        return NGX_ERROR;
    }

    key->len =
        sizeof(ES_KEY_INVITES_PREFIX) - 1 + NGX_HTTP_ECHOSTREAM_EMAIL_HASH_LEN;
    key->data = ngx_pnalloc(ctx->r->pool, key->len + 1);
    if (key->data == NULL ||
        es_key_invites((char *)key->data, key->len + 1, (char *)hex) < 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}
