/*
 * ngx_http_echostream_auth.c - authentication of API requests: bearer
 * token → verified claims → tenant and role.
 *
 * The fast path is two hash lookups in this worker's memory: the verified
 * token cache (SHA-256 of the token → claims, until the token expires) and
 * the membership cache (user → tenant and role, or no tenant, for
 * echostream_membership_ttl, at most 1 s: a removed member loses access
 * everywhere within a second, at the cost of one Redis call per active
 * user per worker per second instead of one per request). The token's
 * SHA-256 itself is remembered too, by the token's exact bytes (a small
 * direct-mapped table, slot chosen by a fast hash of the signature's last
 * bytes, the whole token compared in constant time): a client's repeated
 * token then costs a memory compare instead of hashing a kilobyte per
 * request, while the verified-token cache keeps its bounded, SHA-256
 * keyed store. Only tokens that verified (now or before) are remembered,
 * so forged ones cannot churn the table. A cache miss
 * verifies the token (RS256 with the JWKS key named by its kid; an unknown
 * kid waits for the rate-limited JWKS refetch without blocking anyone
 * else) and asks Redis for the membership with es_api_signin. The
 * token's custom:tenant_id counts only with echostream_tenant_claim on.
 *
 * A refusal says little to the client ("invalid token") and the reason to
 * the log; the token itself is never logged.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "es_ids.h"
#include "es_keys.h"
#include "es_tcache.h"
#include "auth/ngx_http_echostream_auth.h"
#include "auth/ngx_http_echostream_jwks.h"
#include "core/ngx_http_echostream_metrics.h"

#define NGX_HTTP_ECHOSTREAM_MEMBERSHIP_SLOTS 4096
/* remembered token digests, and the longest token remembered */
#define NGX_HTTP_ECHOSTREAM_DIGEST_SLOTS     1024
#define NGX_HTTP_ECHOSTREAM_DIGEST_TOKEN_MAX 4096
/* the token's last bytes (its signature's) that choose the slot */
#define NGX_HTTP_ECHOSTREAM_DIGEST_TAIL 32

typedef struct {
    char sub[ES_JWT_SUB_MAX + 1];
    char claim[ES_JWT_TENANT_MAX + 1]; /* the token's tenant claim */
    char tenant[ES_JWT_TENANT_MAX + 1];
    ngx_uint_t role;
    ngx_msec_t expires;
} ngx_http_echostream_membership_t;

/* a token's bytes (heap copy) and their SHA-256, the token cache's key */
typedef struct {
    u_char *token; /* NULL: empty */
    size_t len;
    u_char key[SHA256_DIGEST_LENGTH];
} ngx_http_echostream_digest_t;

static es_tcache *ngx_http_echostream_tokens;
static ngx_http_echostream_digest_t *ngx_http_echostream_digests;
static ngx_http_echostream_membership_t *ngx_http_echostream_members;
static ngx_msec_t ngx_http_echostream_membership_ttl;
static ngx_flag_t ngx_http_echostream_tenant_claim;

static void ngx_http_echostream_auth_keys_ready(ngx_http_request_t *r,
                                                void *data);
static void ngx_http_echostream_auth_verify(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_auth_membership(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_auth_signed_in(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res);
static void ngx_http_echostream_auth_refuse(ngx_http_echostream_api_ctx_t *ctx,
                                            const char *why);
static ngx_http_echostream_membership_t *
ngx_http_echostream_auth_slot(const char *sub);
static ngx_uint_t ngx_http_echostream_auth_role(const char *s, size_t n);
static ngx_uint_t ngx_http_echostream_auth_sub_valid(const char *sub);
static ngx_http_echostream_digest_t *
ngx_http_echostream_auth_digest_slot(const u_char *token, size_t len);
static ngx_uint_t ngx_http_echostream_auth_digest_get(const ngx_str_t *token,
                                                      u_char *key);
static void ngx_http_echostream_auth_digest_put(const ngx_str_t *token,
                                                const u_char *key);
static ngx_uint_t ngx_http_echostream_auth_same(const u_char *a,
                                                const u_char *b, size_t len);

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

    ngx_http_echostream_members =
        ngx_calloc(NGX_HTTP_ECHOSTREAM_MEMBERSHIP_SLOTS *
                       sizeof(ngx_http_echostream_membership_t),
                   cycle->log);
    ngx_http_echostream_digests = ngx_calloc(
        NGX_HTTP_ECHOSTREAM_DIGEST_SLOTS * sizeof(ngx_http_echostream_digest_t),
        cycle->log);
    if (ngx_http_echostream_members == NULL ||
        ngx_http_echostream_digests == NULL) {
        ngx_http_echostream_auth_cache_free();
        return NGX_ERROR;
    }

    ngx_http_echostream_membership_ttl = emcf->membership_ttl;
    ngx_http_echostream_tenant_claim = emcf->tenant_claim;

    return NGX_OK;
}

void ngx_http_echostream_auth_cache_free(void)
{
    ngx_uint_t i;

    es_tcache_free(ngx_http_echostream_tokens);
    ngx_http_echostream_tokens = NULL;
    ngx_free(ngx_http_echostream_members);
    ngx_http_echostream_members = NULL;

    if (ngx_http_echostream_digests != NULL) {
        for (i = 0; i < NGX_HTTP_ECHOSTREAM_DIGEST_SLOTS; i++) {
            ngx_free(ngx_http_echostream_digests[i].token);
        }
        ngx_free(ngx_http_echostream_digests);
        ngx_http_echostream_digests = NULL;
    }
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

/*
 * The verified user's tenant and role: from this worker's cache, or from
 * es_api_signin, which also creates the tenant or accepts an invite on
 * the user's first request.
 */
static void
ngx_http_echostream_auth_membership(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_membership_t *m;
    ngx_http_echostream_redis_cmd_t cmd;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    static const char hex[] = "0123456789abcdef";
    const char *claim, **argv;
    char *ukey, *dflt, *email;
    size_t i, n;

    /* the user's id becomes part of a key: only a safe alphabet */
    if (!ngx_http_echostream_auth_sub_valid(ctx->claims.sub)) {
        ngx_http_echostream_auth_refuse(ctx, "invalid sub claim");
        return;
    }

    /*
     * The tenant claim counts only where the operator opted in: by default
     * a user could set it (an app client that may write the attribute, or
     * cognito-local) and join any tenant. Membership is stored instead.
     */
    claim = "";
    if (ngx_http_echostream_tenant_claim && ctx->claims.tenant[0] != '\0') {
        if (es_tenant_id_valid(ctx->claims.tenant,
                               strlen(ctx->claims.tenant)) != 0) {
            ngx_http_echostream_auth_refuse(ctx,
                                            "invalid custom:tenant_id claim");
            return;
        }
        claim = ctx->claims.tenant;
    }

    m = ngx_http_echostream_auth_slot(ctx->claims.sub);
    if (m->expires > ngx_current_msec && strcmp(m->sub, ctx->claims.sub) == 0 &&
        strcmp(m->claim, claim) == 0) {
        ctx->tenant_len = ngx_strlen(m->tenant);
        ngx_memcpy(ctx->tenant, m->tenant, ctx->tenant_len + 1);
        ctx->role = m->role;
        ctx->auth_done(ctx);
        return;
    }

    ukey =
        ngx_pnalloc(ctx->r->pool, sizeof(ES_KEY_USER_PREFIX) + ES_JWT_SUB_MAX);
    dflt = ngx_pnalloc(ctx->r->pool, 2 + 20);
    email = ngx_pnalloc(ctx->r->pool, ES_JWT_EMAIL_MAX + 1);
    argv = ngx_palloc(ctx->r->pool, 10 * sizeof(char *));
    if (ukey == NULL || dflt == NULL || email == NULL || argv == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
        return;
    }

    /* the user's own tenant id, should one be created: stable per user */
    SHA256((const unsigned char *)ctx->claims.sub, strlen(ctx->claims.sub),
           digest);
    dflt[0] = 'u';
    for (i = 0; i < 10; i++) {
        dflt[1 + 2 * i] = hex[digest[i] >> 4];
        dflt[2 + 2 * i] = hex[digest[i] & 0xf];
    }
    dflt[21] = '\0';

    /* kept with the membership, lower-case (claims.email is bounded) */
    n = strlen(ctx->claims.email);
    for (i = 0; i <= n; i++) {
        email[i] = (char)ngx_tolower(ctx->claims.email[i]);
    }

    (void)es_key_user(ukey, sizeof(ES_KEY_USER_PREFIX) + ES_JWT_SUB_MAX,
                      ctx->claims.sub);

    argv[0] = "FCALL";
    argv[1] = "es_api_signin";
    argv[2] = "3";
    argv[3] = ukey;
    argv[4] = ES_KEY_TENANTS;
    argv[5] = ES_KEY_TOPICS_VERSION;
    argv[6] = ctx->claims.sub;
    argv[7] = email;
    argv[8] = claim;
    argv[9] = dflt;

    cmd.argc = 10;
    cmd.argv = argv;
    cmd.argvlen = NULL;

    if (ngx_http_echostream_api_redis(
            ctx, &cmd, 1, ngx_http_echostream_auth_signed_in) != NGX_OK) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
    }
}

static void
ngx_http_echostream_auth_signed_in(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_membership_t *m;
    redisReply *rep;
    ngx_uint_t role;

    if (res->replies == NULL || res->replies[0]->type == REDIS_REPLY_ERROR) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    rep = res->replies[0];

    /* {tenant, "owner"|"member"} with a valid tenant, or {"", "none"} */
    role = NGX_HTTP_ECHOSTREAM_ROLE_INVALID;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_STRING) {
        role = ngx_http_echostream_auth_role(rep->element[1]->str,
                                             rep->element[1]->len);
        if (role == NGX_HTTP_ECHOSTREAM_ROLE_NONE
                ? rep->element[0]->len != 0
                : es_tenant_id_valid(rep->element[0]->str,
                                     rep->element[0]->len) != 0) {
            role = NGX_HTTP_ECHOSTREAM_ROLE_INVALID;
        }
    }

    if (role == NGX_HTTP_ECHOSTREAM_ROLE_INVALID) {
        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "echostream auth: unexpected reply from es_api_signin");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "membership lookup failed");
        return;
    }

    ctx->tenant_len = rep->element[0]->len;
    ngx_memcpy(ctx->tenant, rep->element[0]->str, ctx->tenant_len);
    ctx->tenant[ctx->tenant_len] = '\0';
    ctx->role = role;

    m = ngx_http_echostream_auth_slot(ctx->claims.sub);
    ngx_cpystrn((u_char *)m->sub, (u_char *)ctx->claims.sub, sizeof(m->sub));
    ngx_cpystrn(
        (u_char *)m->claim,
        (u_char *)(ngx_http_echostream_tenant_claim ? ctx->claims.tenant : ""),
        sizeof(m->claim));
    ngx_memcpy(m->tenant, ctx->tenant, ctx->tenant_len + 1);
    m->role = role;
    m->expires = ngx_current_msec + ngx_http_echostream_membership_ttl;

    ctx->auth_done(ctx);
}

/* The role named by a reply of es_api_signin. */
static ngx_uint_t ngx_http_echostream_auth_role(const char *s, size_t n)
{
    if (n == 5 && ngx_strncmp(s, "owner", 5) == 0) {
        return NGX_HTTP_ECHOSTREAM_ROLE_OWNER;
    }

    if (n == 6 && ngx_strncmp(s, "member", 6) == 0) {
        return NGX_HTTP_ECHOSTREAM_ROLE_MEMBER;
    }

    if (n == 4 && ngx_strncmp(s, "none", 4) == 0) {
        return NGX_HTTP_ECHOSTREAM_ROLE_NONE;
    }

    return NGX_HTTP_ECHOSTREAM_ROLE_INVALID;
}

void ngx_http_echostream_auth_forget(const char *sub)
{
    ngx_http_echostream_membership_t *m;

    if (ngx_http_echostream_members == NULL) {
        return;
    }

    m = ngx_http_echostream_auth_slot(sub);
    if (strcmp(m->sub, sub) == 0) {
        m->expires = 0;
    }
}

static ngx_http_echostream_membership_t *
ngx_http_echostream_auth_slot(const char *sub)
{
    ngx_uint_t h;

    h = ngx_hash_key((u_char *)sub, ngx_strlen(sub));

    return &ngx_http_echostream_members[h &
                                        (NGX_HTTP_ECHOSTREAM_MEMBERSHIP_SLOTS -
                                         1)];
}

/* The digest slot of a token: by a hash of its length and last bytes. */
static ngx_http_echostream_digest_t *
ngx_http_echostream_auth_digest_slot(const u_char *token, size_t len)
{
    size_t tail;
    uint32_t h;

    tail = ngx_min(len, NGX_HTTP_ECHOSTREAM_DIGEST_TAIL);
    h = ngx_murmur_hash2((u_char *)token + len - tail, tail) ^ (uint32_t)len;

    return &ngx_http_echostream_digests[h &
                                        (NGX_HTTP_ECHOSTREAM_DIGEST_SLOTS - 1)];
}

/* 1 and the token's SHA-256 in key when the exact token is remembered. */
static ngx_uint_t ngx_http_echostream_auth_digest_get(const ngx_str_t *token,
                                                      u_char *key)
{
    ngx_http_echostream_digest_t *d;

    if (ngx_http_echostream_digests == NULL) {
        return 0;
    }

    d = ngx_http_echostream_auth_digest_slot(token->data, token->len);
    if (d->token == NULL || d->len != token->len ||
        !ngx_http_echostream_auth_same(d->token, token->data, token->len)) {
        return 0;
    }

    ngx_memcpy(key, d->key, SHA256_DIGEST_LENGTH);
    return 1;
}

/* Remembers a verified token's SHA-256 (replacing its slot's token). */
static void ngx_http_echostream_auth_digest_put(const ngx_str_t *token,
                                                const u_char *key)
{
    ngx_http_echostream_digest_t *d;

    if (ngx_http_echostream_digests == NULL ||
        token->len > NGX_HTTP_ECHOSTREAM_DIGEST_TOKEN_MAX) {
        return;
    }

    d = ngx_http_echostream_auth_digest_slot(token->data, token->len);

    if (d->token == NULL || d->len != token->len) {
        ngx_free(d->token);
        d->len = 0;
        d->token = ngx_alloc(token->len, ngx_cycle->log);
        if (d->token == NULL) {
            return;
        }
    }

    ngx_memcpy(d->token, token->data, token->len);
    d->len = token->len;
    ngx_memcpy(d->key, key, SHA256_DIGEST_LENGTH);
}

/*
 * 1 when a and b (len bytes each) are equal, in time that depends on len
 * only: how much of a remembered token a forged one matches must not
 * show in the answer's timing.
 */
static ngx_uint_t ngx_http_echostream_auth_same(const u_char *a,
                                                const u_char *b, size_t len)
{
    uint64_t x, y, diff;
    size_t i;

    diff = 0;

    for (i = 0; i + 8 <= len; i += 8) {
        ngx_memcpy(&x, a + i, 8);
        ngx_memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }

    for (; i < len; i++) {
        diff |= (uint64_t)(a[i] ^ b[i]);
    }

    return diff == 0;
}

/* 401 with the reason in the log only. */
static void ngx_http_echostream_auth_refuse(ngx_http_echostream_api_ctx_t *ctx,
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

/*
 * 1 when sub (a Cognito user id is a UUID) holds only letters, digits and
 * "-_.:@+": no braces, so it can never change a key's hash tag, no
 * spaces or control characters.
 */
static ngx_uint_t ngx_http_echostream_auth_sub_valid(const char *sub)
{
    const u_char *p;

    for (p = (const u_char *)sub; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
              *p == ':' || *p == '@' || *p == '+')) {
            return 0;
        }
    }

    return p != (const u_char *)sub;
}
