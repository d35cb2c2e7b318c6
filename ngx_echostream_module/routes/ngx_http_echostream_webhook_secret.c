/*
 * ngx_http_echostream_webhook_secret.c - /settings/webhook-secret: the
 * key a tenant's alert webhooks are signed with (the deliver worker sends
 * X-EchoStream-Signature: t=…,v1=<HMAC-SHA256>), for an owner to give the
 * receiving end.
 *
 * It lives in es:{t:<tenant>}:meta as webhook_secret: 64 lower-case hex
 * characters, 32 bytes of OpenSSL's CSPRNG. Whoever needs it first makes
 * it, with HSETNX, so GET here and a worker about to send can never make
 * two different ones: GET proposes a new secret and reads back whichever
 * won, in one pipeline. POST replaces it (HSET) and answers the new one;
 * a delivery already signed keeps the old. Only owners reach either
 * route, and the secret is never logged; the answer carries
 * Cache-Control: no-store like every answer of the API.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

#define NGX_HTTP_ECHOSTREAM_SECRET_BYTES 32
#define NGX_HTTP_ECHOSTREAM_SECRET_FIELD "webhook_secret"

static ngx_int_t
ngx_http_echostream_secret_new(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_str_t *key, u_char **hex);
static void
ngx_http_echostream_secret_got(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_secret_set(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_secret_answer(ngx_http_echostream_api_ctx_t *ctx,
                                  const char *hex, size_t len);

NGX_HTTP_ECHOSTREAM_ROUTE(webhook_secret_get)
{
    ngx_http_echostream_redis_cmd_t cmds[2];
    const char *hsetnx[4], *hget[3];
    ngx_str_t key;
    u_char *hex;

    if (ngx_http_echostream_secret_new(ctx, &key, &hex) != NGX_OK) {
        return;
    }

    hsetnx[0] = "HSETNX";
    hsetnx[1] = (const char *)key.data;
    hsetnx[2] = NGX_HTTP_ECHOSTREAM_SECRET_FIELD;
    hsetnx[3] = (const char *)hex;

    hget[0] = "HGET";
    hget[1] = (const char *)key.data;
    hget[2] = NGX_HTTP_ECHOSTREAM_SECRET_FIELD;

    cmds[0].argc = 4;
    cmds[0].argv = hsetnx;
    cmds[0].argvlen = NULL;
    cmds[1].argc = 3;
    cmds[1].argv = hget;
    cmds[1].argvlen = NULL;

    if (ngx_http_echostream_api_redis(
            ctx, cmds, 2, ngx_http_echostream_secret_got) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
    }
}

static void
ngx_http_echostream_secret_got(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res)
{
    redisReply *secret;
    ngx_uint_t i;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    /* what another writer stored is not trusted either: hex of 32 bytes */
    secret = res->replies[1];
    if (secret->type != REDIS_REPLY_STRING ||
        secret->len != 2 * NGX_HTTP_ECHOSTREAM_SECRET_BYTES) {
        goto damaged;
    }
    for (i = 0; i < secret->len; i++) {
        if (!((secret->str[i] >= '0' && secret->str[i] <= '9') ||
              (secret->str[i] >= 'a' && secret->str[i] <= 'f'))) {
            goto damaged;
        }
    }

    ngx_http_echostream_secret_answer(ctx, secret->str, secret->len);
    return;

damaged:

    ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                  "echostream api: the stored webhook secret is malformed; "
                  "POST /settings/webhook-secret replaces it");
    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "the stored secret is damaged");
}

NGX_HTTP_ECHOSTREAM_ROUTE(webhook_secret_rotate)
{
    const char *argv[4];
    ngx_str_t key;
    u_char *hex;

    if (ngx_http_echostream_secret_new(ctx, &key, &hex) != NGX_OK) {
        return;
    }

    argv[0] = "HSET";
    argv[1] = (const char *)key.data;
    argv[2] = NGX_HTTP_ECHOSTREAM_SECRET_FIELD;
    argv[3] = (const char *)hex;

    ctx->data = hex;
    ngx_http_echostream_cmd(ctx, ngx_http_echostream_secret_set, 4, argv);
}

static void
ngx_http_echostream_secret_set(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res)
{
    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    ngx_http_echostream_secret_answer(ctx, ctx->data,
                                      2 * NGX_HTTP_ECHOSTREAM_SECRET_BYTES);
}

/*
 * The tenant's meta key and a new secret's hex (NUL-terminated), both in
 * pool memory. NGX_OK, or NGX_ERROR when the request was answered.
 */
static ngx_int_t
ngx_http_echostream_secret_new(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_str_t *key, u_char **hex)
{
    u_char bytes[NGX_HTTP_ECHOSTREAM_SECRET_BYTES];

    *hex = ngx_pnalloc(ctx->r->pool, 2 * sizeof(bytes) + 1);
    if (*hex == NULL ||
        ngx_http_echostream_api_key(ctx, key, ES_TK_META) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return NGX_ERROR;
    }

    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "echostream api: RAND_bytes failed");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "no random secret");
        return NGX_ERROR;
    }

    /* ngx_hex_dump writes lower-case hex */
    *ngx_hex_dump(*hex, bytes, sizeof(bytes)) = '\0';
    OPENSSL_cleanse(bytes, sizeof(bytes));

    return NGX_OK;
}

/* {"secret": <hex>} */
static void
ngx_http_echostream_secret_answer(ngx_http_echostream_api_ctx_t *ctx,
                                  const char *hex, size_t len)
{
    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK,
                                 json_pack("{s:s%}", "secret", hex, len));
}
