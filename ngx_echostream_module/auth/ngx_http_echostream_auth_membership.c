/*
 * ngx_http_echostream_auth_membership.c - the tenant and role of a
 * verified user: from this worker's membership cache, or from Redis
 * (es_api_signin).
 *
 * The cache maps a user to a tenant and role, or to no tenant, for
 * echostream_membership_ttl, at most 1 s: a removed member loses access
 * everywhere within a second, at the cost of one Redis call per active
 * user per worker per second instead of one per request. A miss asks
 * Redis for the membership with es_api_signin, which also creates the
 * tenant or accepts an invite on the user's first request. The token's
 * custom:tenant_id counts only with echostream_tenant_claim on.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "es_ids.h"
#include "es_keys.h"
#include "auth/ngx_http_echostream_auth.h"
#include "auth/ngx_http_echostream_auth_membership.h"

#define NGX_HTTP_ECHOSTREAM_MEMBERSHIP_SLOTS 4096

typedef struct {
    char sub[ES_JWT_SUB_MAX + 1];
    char claim[ES_JWT_TENANT_MAX + 1]; /* the token's tenant claim */
    char tenant[ES_JWT_TENANT_MAX + 1];
    ngx_uint_t role;
    ngx_msec_t expires;
} ngx_http_echostream_membership_t;

static ngx_http_echostream_membership_t *ngx_http_echostream_members;
static ngx_msec_t ngx_http_echostream_membership_ttl;
static ngx_flag_t ngx_http_echostream_tenant_claim;

static void
ngx_http_echostream_auth_signed_in(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res);
static ngx_http_echostream_membership_t *
ngx_http_echostream_auth_slot(const char *sub);
static ngx_uint_t ngx_http_echostream_auth_role(const char *s, size_t n);

ngx_int_t
ngx_http_echostream_auth_membership_init(ngx_cycle_t *cycle,
                                         ngx_http_echostream_main_conf_t *emcf)
{
    ngx_http_echostream_members =
        ngx_calloc(NGX_HTTP_ECHOSTREAM_MEMBERSHIP_SLOTS *
                       sizeof(ngx_http_echostream_membership_t),
                   cycle->log);
    if (ngx_http_echostream_members == NULL) {
        return NGX_ERROR;
    }

    ngx_http_echostream_membership_ttl = emcf->membership_ttl;
    ngx_http_echostream_tenant_claim = emcf->tenant_claim;

    return NGX_OK;
}

void ngx_http_echostream_auth_membership_free(void)
{
    ngx_free(ngx_http_echostream_members);
    ngx_http_echostream_members = NULL;
}

/*
 * The verified user's tenant and role: from this worker's cache, or from
 * es_api_signin, which also creates the tenant or accepts an invite on
 * the user's first request.
 */
void ngx_http_echostream_auth_membership(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_membership_t *m;
    ngx_http_echostream_redis_cmd_t cmd;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    static const char hex[] = "0123456789abcdef";
    const char *claim, **argv;
    char *ukey, *dflt, *email;
    size_t i, n;

    /* the user's id becomes part of a key: only a safe alphabet */
    if (es_user_sub_valid(ctx->claims.sub, strlen(ctx->claims.sub)) != 0) {
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
