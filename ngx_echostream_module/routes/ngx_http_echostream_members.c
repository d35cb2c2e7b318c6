/*
 * ngx_http_echostream_members.c - /members: who belongs to a tenant, and
 * the invites that let someone join it.
 *
 * Members are es:{t:<tenant>}:members (sub → {"sub","email","role",
 * "joined_ms"}), written by es_api_signin (a user's own tenant) and
 * es_invite_accept (ngx_http_echostream_invites.c). An owner invites by
 * e-mail: the invite, with a random id, is filed twice, in
 * es:{t:<tenant>}:invites (lower-case e-mail → {"id","email","role",
 * "invited_by","created_ms","expires_ms"}, for the list) and in
 * es:{invites}:<sha256 hex of the e-mail> (inviting tenant → {"id","role",
 * "invited_by","invited_by_email","created_ms","expires_ms"}), where the
 * invitee finds it (GET /invites) and accepts or declines it. Nobody joins
 * without accepting. Both are written, checked and removed together by
 * the echostream_tenant functions (lib/redis/tenant.lua),
 * which also decide the races: no invite for an e-mail that is already a
 * member, and never removing the last owner. Several tenants may invite
 * one e-mail; no answer tells a tenant about another's invite. An invite
 * lives echostream_invite_ttl (7 days): the per-tenant entry has no TTL of
 * its own (a hash field cannot), so an expired one is left out of the list
 * here and pruned by the next invite.
 *
 * A removal sticks: the removed user keeps a record naming the tenant but
 * no membership, so sign-in gives them no tenant (403 no_tenant) until
 * they accept another invite. This worker forgets their membership at
 * once; every other worker within echostream_membership_ttl (≤ 1 s).
 * A member may remove themself (leave); only an owner removes others.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include "es_req_invite.h"
#include "es_utf8.h"
#include "auth/ngx_http_echostream_auth.h"
#include "core/ngx_http_echostream_module.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

#define NGX_HTTP_ECHOSTREAM_INVITES_MAX "1000"
#define NGX_HTTP_ECHOSTREAM_SUB_MAX     128
#define NGX_HTTP_ECHOSTREAM_INVITE_ID   16

typedef struct {
    json_t *json;
    int64_t ms;      /* joined / created, for sorting */
    const char *key; /* sub / e-mail, for sorting */
} ngx_http_echostream_member_row_t;

static void
ngx_http_echostream_members_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res);
static json_t *
ngx_http_echostream_members_rows(ngx_http_echostream_api_ctx_t *ctx,
                                 redisReply *all, ngx_uint_t invites);
static json_t *
ngx_http_echostream_member_row(ngx_http_echostream_api_ctx_t *ctx,
                               redisReply *field, redisReply *value,
                               ngx_uint_t invite, int64_t *ms);
static int ngx_http_echostream_member_cmp(const void *a, const void *b);
static void
ngx_http_echostream_invite_written(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_member_removed(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res);

NGX_HTTP_ECHOSTREAM_ROUTE(members_list)
{
    ngx_http_echostream_redis_cmd_t cmds[2];
    const char *members[2], *invites[2];
    ngx_str_t mkey, ikey;

    if (ngx_http_echostream_api_key(ctx, &mkey, ES_TK_MEMBERS) != NGX_OK ||
        ngx_http_echostream_api_key(ctx, &ikey, ES_TK_INVITES) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    members[0] = "HGETALL";
    members[1] = (const char *)mkey.data;
    invites[0] = "HGETALL";
    invites[1] = (const char *)ikey.data;

    cmds[0].argc = 2;
    cmds[0].argv = members;
    cmds[0].argvlen = NULL;
    cmds[1].argc = 2;
    cmds[1].argv = invites;
    cmds[1].argvlen = NULL;

    if (ngx_http_echostream_api_redis(
            ctx, cmds, 2, ngx_http_echostream_members_got) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
    }
}

static void
ngx_http_echostream_members_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res)
{
    json_t *members, *invites, *root;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    if (res->replies[0]->type != REDIS_REPLY_ARRAY ||
        res->replies[1]->type != REDIS_REPLY_ARRAY) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    members = ngx_http_echostream_members_rows(ctx, res->replies[0], 0);
    invites = ngx_http_echostream_members_rows(ctx, res->replies[1], 1);
    if (members == NULL || invites == NULL) {
        json_decref(members);
        json_decref(invites);
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    /* steals both */
    root = json_pack("{s:o, s:o}", "members", members, "invites", invites);
    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, root);
}

/*
 * The members (invites: 0) or invites (1) of an HGETALL reply as a new
 * array, oldest first; NULL when memory ran out.
 */
static json_t *
ngx_http_echostream_members_rows(ngx_http_echostream_api_ctx_t *ctx,
                                 redisReply *all, ngx_uint_t invites)
{
    ngx_http_echostream_member_row_t *rows;
    ngx_uint_t i, n;
    json_t **items;

    rows =
        ngx_palloc(ctx->r->pool, (all->elements / 2 + 1) *
                                     sizeof(ngx_http_echostream_member_row_t));
    if (rows == NULL) {
        return NULL;
    }

    n = 0;
    for (i = 0; i + 1 < all->elements; i += 2) {
        rows[n].json = ngx_http_echostream_member_row(
            ctx, all->element[i], all->element[i + 1], invites, &rows[n].ms);
        if (rows[n].json != NULL) {
            rows[n].key = all->element[i]->str;
            n++;
        }
    }

    qsort(rows, n, sizeof(ngx_http_echostream_member_row_t),
          ngx_http_echostream_member_cmp);

    /* the sorted rows' objects, for the list to steal */
    items = ngx_palloc(ctx->r->pool, (n + 1) * sizeof(json_t *));
    if (items == NULL) {
        for (i = 0; i < n; i++) {
            json_decref(rows[i].json);
        }
        return NULL;
    }
    for (i = 0; i < n; i++) {
        items[i] = rows[i].json;
    }

    return ngx_http_echostream_json_list(items, n);
}

/*
 * One member or invite as the API shows it (a new reference), checked;
 * NULL (logged) when damaged, and for an invite past its lifetime.
 */
static json_t *
ngx_http_echostream_member_row(ngx_http_echostream_api_ctx_t *ctx,
                               redisReply *field, redisReply *value,
                               ngx_uint_t invite, int64_t *ms)
{
    ngx_http_echostream_main_conf_t *emcf;
    json_t *v, *role, *email, *by, *tv, *out;
    json_int_t t, end = 0;
    char when[32], until[32];

    if (field->type != REDIS_REPLY_STRING || field->len == 0 ||
        field->len > ES_REQ_EMAIL_MAX ||
        !es_utf8_valid(field->str, field->len)) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping %s with an invalid key",
                      invite ? "invite" : "member");
        return NULL;
    }

    v = ngx_http_echostream_stored_json(
        ctx, value, invite ? "invite" : "member", field->str, field->len);
    if (v == NULL) {
        return NULL;
    }

    out = NULL;

    /* borrowed from v */
    role = json_object_get(v, "role");
    email = json_object_get(v, "email");
    by = json_object_get(v, "invited_by");
    tv = json_object_get(v, invite ? "created_ms" : "joined_ms");

    if (es_req_json_int(tv, &t) != 0 || t < 0 || t > 253402300799999LL ||
        !json_is_string(role) ||
        (ngx_strcmp(json_string_value(role), "owner") != 0 &&
         ngx_strcmp(json_string_value(role), "member") != 0) ||
        (email != NULL && !json_is_null(email) && !json_is_string(email)) ||
        (invite && (!json_is_string(by) || json_string_length(by) == 0))) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping malformed %s \"%*s\"",
                      invite ? "invite" : "member", ngx_min(field->len, 80),
                      field->str);
        goto done;
    }

    if (invite) {
        /* past its end (older invites carry only their creation time) */
        emcf =
            ngx_http_get_module_main_conf(ctx->r, ngx_http_echostream_module);
        if (es_req_json_int(json_object_get(v, "expires_ms"), &end) != 0) {
            end = t + (json_int_t)emcf->invite_ttl * 1000;
        }
        if (end <= ngx_http_echostream_api_now_ms()) {
            goto done;
        }
    }

    *ms = t;
    es_time_str(t, when);

    if (invite) {
        /* the field is the authoritative, lower-case e-mail */
        es_time_str(end, until);
        out = json_pack("{s:s%, s:O, s:O, s:s, s:s}", "email", field->str,
                        field->len, "role", role, "invited_by", by, "created",
                        when, "expires", until);

    } else {
        out = json_pack("{s:s%, s:O, s:O, s:s}", "sub", field->str, field->len,
                        "email", json_is_string(email) ? email : json_null(),
                        "role", role, "joined", when);
    }

done:

    json_decref(v);
    return out;
}

/* Oldest first, then by sub / e-mail. */
static int ngx_http_echostream_member_cmp(const void *a, const void *b)
{
    const ngx_http_echostream_member_row_t *x = a, *y = b;

    if (x->ms != y->ms) {
        return x->ms < y->ms ? -1 : 1;
    }

    return ngx_strcmp(x->key, y->key);
}

NGX_HTTP_ECHOSTREAM_ROUTE(members_invite)
{
    u_char id[NGX_HTTP_ECHOSTREAM_INVITE_ID + 1];
    ngx_http_echostream_main_conf_t *emcf;
    ngx_str_t ikey, gkey, mkey, json;
    const char *role, *email, *argv[16];
    u_char now[NGX_INT64_LEN + 1], ttl[NGX_INT64_LEN + 1];
    json_t *stored, *invite;
    char when[32], until[32];
    es_req_invite in;
    es_req_err err;
    int64_t ms, end;

    if (es_req_invite_check(ctx->body, &in, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    email = in.email;
    role = in.role;

    if (ngx_http_echostream_random_id(ctx, id, NGX_HTTP_ECHOSTREAM_INVITE_ID) !=
        NGX_OK) {
        return;
    }
    id[NGX_HTTP_ECHOSTREAM_INVITE_ID] = '\0';

    emcf = ngx_http_get_module_main_conf(ctx->r, ngx_http_echostream_module);
    ms = ngx_http_echostream_api_now_ms();
    end = ms + (int64_t)emcf->invite_ttl * 1000;
    *ngx_sprintf(now, "%L", ms) = '\0';
    *ngx_sprintf(ttl, "%T", emcf->invite_ttl) = '\0';
    es_time_str(ms, when);
    es_time_str(end, until);

    stored =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "id", (char *)id, "email",
                  email, "role", role, "invited_by", ctx->claims.sub,
                  "created_ms", (json_int_t)ms, "expires_ms", (json_int_t)end);
    invite = json_pack("{s:s, s:s, s:s, s:s, s:s}", "email", email, "role",
                       role, "invited_by", ctx->claims.sub, "created", when,
                       "expires", until);

    if (stored == NULL || invite == NULL ||
        ngx_http_echostream_json_str(ctx, stored, &json) != NGX_OK ||
        ngx_http_echostream_api_key(ctx, &ikey, ES_TK_INVITES) != NGX_OK ||
        ngx_http_echostream_api_key(ctx, &mkey, ES_TK_MEMBERS) != NGX_OK ||
        ngx_http_echostream_invite_key(ctx, (const u_char *)email, in.email_len,
                                       &gkey) != NGX_OK) {
        json_decref(stored);
        json_decref(invite);
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    json_decref(stored);

    /* the answer, kept by the pool across the round trip */
    if (ngx_http_echostream_pool_json(ctx, invite) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }
    ctx->data = invite;

    argv[0] = "FCALL";
    argv[1] = "es_member_invite";
    argv[2] = "3";
    argv[3] = (const char *)ikey.data;
    argv[4] = (const char *)gkey.data;
    argv[5] = (const char *)mkey.data;
    argv[6] = (const char *)ctx->tenant;
    argv[7] = email;
    argv[8] = role;
    argv[9] = ctx->claims.sub;
    argv[10] = (const char *)now;
    argv[11] = (const char *)ttl;
    argv[12] = NGX_HTTP_ECHOSTREAM_INVITES_MAX;
    argv[13] = (const char *)json.data;
    argv[14] = (const char *)id;
    argv[15] = ctx->claims.email;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_invite_written, 16, argv);
}

static void
ngx_http_echostream_invite_written(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res)
{
    if (ngx_http_echostream_fn_answer(ctx, res) ||
        ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    /* the pool keeps its own reference */
    ngx_http_echostream_api_json(ctx, NGX_HTTP_CREATED,
                                 json_incref((json_t *)ctx->data));
}

NGX_HTTP_ECHOSTREAM_ROUTE(members_remove)
{
    ngx_str_t *sub = &ctx->params[0];
    ngx_str_t mkey;
    const char *argv[7];
    u_char *ukey, *subz, c;
    size_t i;

    /* subs are what Cognito issues (UUIDs); nothing else names a member */
    for (i = 0; ctx->nparams == 1 && i < sub->len; i++) {
        c = sub->data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || ngx_strchr("-_.:@+=", c))) {
            break;
        }
    }

    if (ctx->nparams != 1 || sub->len == 0 ||
        sub->len > NGX_HTTP_ECHOSTREAM_SUB_MAX || i != sub->len) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such member");
        return;
    }

    /* a member may leave; only an owner removes someone else */
    if (ctx->role < NGX_HTTP_ECHOSTREAM_ROLE_OWNER &&
        (sub->len != ngx_strlen(ctx->claims.sub) ||
         ngx_strncmp(sub->data, ctx->claims.sub, sub->len) != 0)) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_FORBIDDEN, "forbidden",
                                      "only an owner of the tenant may remove "
                                      "another member");
        return;
    }

    subz = ngx_pnalloc(ctx->r->pool, sub->len + 1);
    ukey = ngx_pnalloc(ctx->r->pool, sizeof(ES_KEY_USER_PREFIX) + sub->len);
    if (subz == NULL || ukey == NULL ||
        ngx_http_echostream_api_key(ctx, &mkey, ES_TK_MEMBERS) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    *ngx_cpymem(subz, sub->data, sub->len) = '\0';
    (void)es_key_user((char *)ukey, sizeof(ES_KEY_USER_PREFIX) + sub->len,
                      (char *)subz);

    argv[0] = "FCALL";
    argv[1] = "es_member_remove";
    argv[2] = "2";
    argv[3] = (const char *)mkey.data;
    argv[4] = (const char *)ukey;
    argv[5] = (const char *)ctx->tenant;
    argv[6] = (const char *)subz;

    ctx->data = subz;
    ngx_http_echostream_cmd(ctx, ngx_http_echostream_member_removed, 7, argv);
}

NGX_HTTP_ECHOSTREAM_ROUTE(invites_remove)
{
    u_char email[ES_REQ_EMAIL_MAX + 1];
    ngx_str_t ikey, gkey;
    const char *argv[7];
    u_char *emailz;
    size_t n;

    n = 0;
    if (ctx->nparams == 1) {
        n = es_req_email_normalize((const char *)ctx->params[0].data,
                                   ctx->params[0].len, (char *)email);
    }

    if (n == 0) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND, "not_found",
                                      "no such invite");
        return;
    }

    emailz = ngx_pnalloc(ctx->r->pool, n + 1);
    if (emailz == NULL ||
        ngx_http_echostream_api_key(ctx, &ikey, ES_TK_INVITES) != NGX_OK ||
        ngx_http_echostream_invite_key(ctx, email, n, &gkey) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }
    ngx_memcpy(emailz, email, n + 1);

    argv[0] = "FCALL";
    argv[1] = "es_invite_remove";
    argv[2] = "2";
    argv[3] = (const char *)ikey.data;
    argv[4] = (const char *)gkey.data;
    argv[5] = (const char *)ctx->tenant;
    argv[6] = (const char *)emailz;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_member_removed, 7, argv);
}

/* The end of both DELETEs (ctx->data: the removed member's sub, or NULL). */
static void
ngx_http_echostream_member_removed(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_http_echostream_redis_result_t *res)
{
    if (ngx_http_echostream_fn_answer(ctx, res) ||
        ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    /* this worker at once; the others within echostream_membership_ttl */
    if (ctx->data != NULL) {
        ngx_http_echostream_auth_forget(ctx->data);
    }

    ngx_http_echostream_api_no_content(ctx);
}
