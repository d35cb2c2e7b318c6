/*
 * ngx_http_echostream_auth.c - authentication of API requests: bearer
 * token → verified claims, handed on to the membership check
 * (auth_membership.c) for the tenant and role.
 *
 * The fast path is two hash lookups in this worker's memory: the verified
 * token cache here (SHA-256 of the token → claims, until the token
 * expires) and the membership cache of auth_membership.c. The token's
 * SHA-256 itself is remembered by the token's exact bytes
 * (auth_digest.c), so a client's repeated token costs a memory compare
 * instead of hashing a kilobyte per request. A cache miss verifies the
 * token (RS256 with the JWKS key named by its kid; an unknown kid waits
 * for the rate-limited JWKS refetch without blocking anyone else).
 *
 * A refusal says little to the client ("invalid token") and the reason to
 * the log; the token itself is never logged.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_tcache.h"
#include "auth/ngx_http_echostream_auth.h"
#include "auth/ngx_http_echostream_auth_digest.h"
#include "auth/ngx_http_echostream_auth_membership.h"
#include "auth/ngx_http_echostream_jwks.h"
#include "core/ngx_http_echostream_metrics.h"

static es_tcache *ngx_http_echostream_tokens;

static void ngx_http_echostream_auth_keys_ready(ngx_http_request_t *r,
                                                void *data);
static void ngx_http_echostream_auth_verify(ngx_http_echostream_api_ctx_t *ctx);

ngx_int_t
ngx_http_echostream_auth_cache_init(ngx_cycle_t *cycle,
                                    ngx_http_echostream_main_conf_t *emcf)
{
    ngx_http_echostream_tokens = es_tcache_new(emcf->token_cache_size);
    if (ngx_http_echostream_tokens == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "echostream auth: no memory for the token cache");
        return NGX_ERROR;
    }

    if (ngx_http_echostream_auth_membership_init(cycle, emcf) != NGX_OK ||
        ngx_http_echostream_auth_digest_init(cycle) != NGX_OK) {
        ngx_http_echostream_auth_cache_free();
        return NGX_ERROR;
    }

    return NGX_OK;
}

void ngx_http_echostream_auth_cache_free(void)
{
    es_tcache_free(ngx_http_echostream_tokens);
    ngx_http_echostream_tokens = NULL;
    ngx_http_echostream_auth_membership_free();
    ngx_http_echostream_auth_digest_free();
}

void ngx_http_echostream_auth_cache_stats(uint64_t *hits, uint64_t *misses,
                                          uint64_t *entries)
{
    es_tcache_stats st;

    ngx_memzero(&st, sizeof(st));
    if (ngx_http_echostream_tokens != NULL) {
        es_tcache_stats_get(ngx_http_echostream_tokens, &st);
    }

    *hits = st.hits;
    *misses = st.misses;
    *entries = st.entries;
}

void ngx_http_echostream_auth_run(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_http_echostream_api_handler_pt done)
{
    ngx_http_request_t *r = ctx->r;
    ngx_table_elt_t *h;
    const es_jwks *set;
    es_jwt_status st;
    ngx_uint_t known;
    ngx_str_t v;
    ngx_int_t rc;

    ctx->auth_done = done;

    h = r->headers_in.authorization;
    if (h == NULL) {
        ngx_http_echostream_auth_refuse(ctx, "no authorization header");
        return;
    }

    v = h->value;
    if (v.len < 7 || ngx_strncasecmp(v.data, (u_char *)"Bearer ", 7) != 0) {
        ngx_http_echostream_auth_refuse(ctx, "not a bearer token");
        return;
    }

    v.data += 7;
    v.len -= 7;
    while (v.len > 0 && v.data[0] == ' ') {
        v.data++;
        v.len--;
    }
    while (v.len > 0 && v.data[v.len - 1] == ' ') {
        v.len--;
    }

    if (v.len == 0) {
        ngx_http_echostream_auth_refuse(ctx, "empty bearer token");
        return;
    }

    if (v.len > ES_JWT_MAX_LEN) {
        ngx_http_echostream_auth_refuse(ctx, "token too long");
        return;
    }

    ctx->token = v;
    known = ngx_http_echostream_auth_digest_get(&v, ctx->token_key);
    if (!known) {
        es_tcache_key((const char *)v.data, v.len, ctx->token_key);
    }

    if (es_tcache_get(ngx_http_echostream_tokens, ctx->token_key,
                      (int64_t)ngx_time(), &ctx->claims)) {
        if (!known) {
            ngx_http_echostream_auth_digest_put(&v, ctx->token_key);
        }
        ngx_http_echostream_metrics_token(1);
        ngx_http_echostream_auth_membership(ctx);
        return;
    }

    ngx_http_echostream_metrics_token(0);

    st = es_jwt_peek_kid((const char *)v.data, v.len, ctx->kid);
    if (st != ES_JWT_OK) {
        ngx_http_echostream_auth_refuse(ctx, es_jwt_status_str(st));
        return;
    }

    set = ngx_http_echostream_jwks_get();
    if (es_jwks_has(set, ctx->kid)) {
        ngx_http_echostream_auth_verify(ctx);
        return;
    }

    rc = ngx_http_echostream_jwks_wait(
        r, ctx->kid, ngx_http_echostream_auth_keys_ready, ctx);
    if (rc == NGX_OK) {
        return;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_echostream_auth_refuse(ctx, "unknown kid");
        return;
    }

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "out of memory");
}

/* The JWKS fetch this request waited for has ended (well or not). */
static void ngx_http_echostream_auth_keys_ready(ngx_http_request_t *r,
                                                void *data)
{
    ngx_http_echostream_api_ctx_t *ctx = data;
    const es_jwks *set;

    set = ngx_http_echostream_jwks_get();

    if (set == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "echostream auth: no signing keys from the identity "
                      "provider yet");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable",
                                      "the identity provider's keys are "
                                      "unavailable, try again shortly");

    } else if (!es_jwks_has(set, ctx->kid)) {
        ngx_http_echostream_auth_refuse(ctx, "unknown kid");

    } else {
        ngx_http_echostream_auth_verify(ctx);
    }

    /* balances the count taken by ngx_http_echostream_jwks_wait() */
    ngx_http_finalize_request(r, NGX_DONE);
}

static void ngx_http_echostream_auth_verify(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_main_conf_t *emcf;
    es_jwt_status st;

    emcf = ngx_http_get_module_main_conf(ctx->r, ngx_http_echostream_module);

    st = es_jwt_verify((const char *)ctx->token.data, ctx->token.len,
                       ngx_http_echostream_jwks_get(), &emcf->policy,
                       (int64_t)ngx_time(), &ctx->claims);
    if (st != ES_JWT_OK) {
        ngx_http_echostream_auth_refuse(ctx, es_jwt_status_str(st));
        return;
    }

    es_tcache_put(ngx_http_echostream_tokens, ctx->token_key, &ctx->claims);
    ngx_http_echostream_auth_digest_put(&ctx->token, ctx->token_key);
    ngx_http_echostream_auth_membership(ctx);
}

void ngx_http_echostream_auth_refuse(ngx_http_echostream_api_ctx_t *ctx,
                                     const char *why)
{
    ngx_http_request_t *r = ctx->r;
    ngx_table_elt_t *h;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "echostream auth: token refused: %s", why);

    h = ngx_list_push(&r->headers_out.headers);
    if (h != NULL) {
        h->hash = 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        ngx_str_set(&h->key, "WWW-Authenticate");
        ngx_str_set(&h->value, "Bearer error=\"invalid_token\"");
    }

    ngx_http_echostream_api_error(ctx, NGX_HTTP_UNAUTHORIZED, "unauthorized",
                                  "missing or invalid bearer token");
}
