/*
 * ngx_http_echostream_invites.c - /invites: the invites addressed to the
 * caller, accepted or declined explicitly.
 *
 * Joining another tenant happens only here, never at sign-in: an invite
 * filed for an e-mail address (POST /members) waits in es:{invites}:<sha256
 * hex of the address> until its addressee, signed in with that address
 * verified, accepts or declines it, or it expires (echostream_invite_ttl).
 * So an owner who invites ceo@victim.example gains nothing unless that
 * person chooses to join.
 *
 * A user belongs to one tenant at a time. Accepting moves them:
 *   - an owner whose tenant has other members and no other owner is
 *     refused (409 conflict) until ownership passes to someone else;
 *   - a user who is the only member of their tenant would leave it empty:
 *     that tenant and all its data are deleted, which the answer says
 *     first (409 confirm_required) and does only with {"confirm": true};
 *   - anyone else just leaves their old tenant.
 * The move, the consumed invite and the detached tenant (topics out of
 * the watch union, out of the tenant set, its state keys gone) are one
 * call of es_invite_accept (lib/redis/tenant.lua). The rest
 * of a deleted tenant's keys (series, comments, …) are then swept here
 * with SCAN and UNLINK, a page per round trip, so Redis never blocks on
 * it. A key the enrich worker writes in the second before it notices the
 * tenant is gone, or a sweep cut short (Redis gone), leaves keys that
 * nobody can reach and that expire by their own TTLs; the log says how
 * many keys went.
 *
 * These routes are open to a user without a tenant (a removed member),
 * who has nowhere else to go. Keys come only from the verified token (the
 * sub, the e-mail) and the validated path id.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_ids.h"
#include "es_keys.h"
#include "es_req_invite.h"
#include "auth/ngx_http_echostream_auth.h"
#include "core/ngx_http_echostream_module.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

/* keys per SCAN page of a deleted tenant's sweep */
#define NGX_HTTP_ECHOSTREAM_SWEEP_COUNT "1000"

typedef struct {
    u_char email[ES_REQ_EMAIL_MAX + 1];
    ngx_str_t ikey;   /* es:{invites}:<sha256> */
    json_t *answer;   /* of accept, kept by the pool */
    ngx_str_t match;  /* es:{t:<deleted>}:* */
    ngx_uint_t swept; /* keys unlinked */
    ngx_uint_t last;  /* the pending step only unlinks the last page */
} ngx_http_echostream_invites_ctx_t;

static ngx_http_echostream_invites_ctx_t *
ngx_http_echostream_invites_start(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_invites_call(ngx_http_echostream_api_ctx_t *ctx,
                                 const char *fn, const u_char *arg,
                                 ngx_http_echostream_api_redis_pt next);
static void
ngx_http_echostream_invites_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res);
static json_t *
ngx_http_echostream_invite_json(ngx_http_echostream_api_ctx_t *ctx,
                                redisReply *rep);
static void
ngx_http_echostream_invite_accepted(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_http_echostream_redis_result_t *res);
static void ngx_http_echostream_sweep(ngx_http_echostream_api_ctx_t *ctx,
                                      redisReply *keys, const char *cursor);
static void ngx_http_echostream_swept(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_http_echostream_redis_result_t *res);
static void ngx_http_echostream_sweep_done(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_uint_t complete);
static void
ngx_http_echostream_invite_declined(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_http_echostream_redis_result_t *res);

NGX_HTTP_ECHOSTREAM_ROUTE(invites_list)
{
    u_char *now;

    now = ngx_pnalloc(ctx->r->pool, NGX_INT64_LEN + 1);
    if (now == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }
    *ngx_sprintf(now, "%L", ngx_http_echostream_api_now_ms()) = '\0';

    ngx_http_echostream_invites_call(ctx, "es_invites_list", now,
                                     ngx_http_echostream_invites_got);
}

/*
 * FCALL fn 1 <the caller's invites key> <their e-mail> arg, continued by
 * next; answers the request itself when the caller has no usable e-mail.
 */
static void
ngx_http_echostream_invites_call(ngx_http_echostream_api_ctx_t *ctx,
                                 const char *fn, const u_char *arg,
                                 ngx_http_echostream_api_redis_pt next)
{
    ngx_http_echostream_invites_ctx_t *ic;
    const char **argv;

    ic = ngx_http_echostream_invites_start(ctx);
    if (ic == NULL) {
        return;
    }

    argv = ngx_palloc(ctx->r->pool, 6 * sizeof(char *));
    if (argv == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    argv[0] = "FCALL";
    argv[1] = fn;
    argv[2] = "1";
    argv[3] = (const char *)ic->ikey.data;
    argv[4] = (const char *)ic->email;
    argv[5] = (const char *)arg;

    ngx_http_echostream_cmd(ctx, next, 6, argv);
}

/*
 * The caller's invite state: their verified, normalized e-mail and its
 * invites key, in a new ctx->data; NULL when the request was answered
 * (403 without a usable e-mail, 500).
 */
static ngx_http_echostream_invites_ctx_t *
ngx_http_echostream_invites_start(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_main_conf_t *emcf;
    ngx_http_echostream_invites_ctx_t *ic;
    size_t n;

    emcf = ngx_http_get_module_main_conf(ctx->r, ngx_http_echostream_module);

    ic = ngx_pcalloc(ctx->r->pool, sizeof(ngx_http_echostream_invites_ctx_t));
    if (ic == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return NULL;
    }

    n = es_req_email_normalize(ctx->claims.email, ngx_strlen(ctx->claims.email),
                               (char *)ic->email);
    if (n == 0) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_FORBIDDEN, "no_email",
                                      "invites are addressed by e-mail, and "
                                      "the token has no usable e-mail");
        return NULL;
    }

    if (emcf->invite_verified_email && !ctx->claims.email_verified) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_FORBIDDEN,
                                      "email_not_verified",
                                      "verify your e-mail address to see and "
                                      "accept invites");
        return NULL;
    }

    if (ngx_http_echostream_invite_key(ctx, ic->email, n, &ic->ikey) !=
        NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return NULL;
    }

    ctx->data = ic;
    return ic;
}

static void
ngx_http_echostream_invites_got(ngx_http_echostream_api_ctx_t *ctx,
                                ngx_http_echostream_redis_result_t *res)
{
    redisReply *rep;
    json_t **items;
    ngx_uint_t i, n;

    if (ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    rep = res->replies[0];
    if (rep->type != REDIS_REPLY_ARRAY) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    items = ngx_palloc(ctx->r->pool, (rep->elements + 1) * sizeof(json_t *));
    if (items == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    n = 0;
    for (i = 0; i < rep->elements; i++) {
        items[n] = ngx_http_echostream_invite_json(ctx, rep->element[i]);
        if (items[n] != NULL) {
            n++;
        }
    }

    /* es_invites_list answers them oldest first */
    /* the list steals the items, the object the list */
    ngx_http_echostream_api_json(
        ctx, NGX_HTTP_OK,
        json_pack("{s:o}", "invites", ngx_http_echostream_json_list(items, n)));
}

/* One invite of es_invites_list as the API shows it (new), or NULL. */
static json_t *
ngx_http_echostream_invite_json(ngx_http_echostream_api_ctx_t *ctx,
                                redisReply *rep)
{
    json_t *v, *id, *tenant, *role, *by, *by_email, *out;
    json_int_t created, expires;
    char c[32], e[32];

    v = ngx_http_echostream_stored_json(ctx, rep, "invite", "", 0);
    if (v == NULL) {
        return NULL;
    }

    out = NULL;

    /* borrowed from v */
    id = json_object_get(v, "id");
    tenant = json_object_get(v, "tenant");
    role = json_object_get(v, "role");
    by = json_object_get(v, "invited_by");
    by_email = json_object_get(v, "invited_by_email");

    if (!json_is_string(id) ||
        !ngx_http_echostream_api_id_valid((const u_char *)json_string_value(id),
                                          json_string_length(id)) ||
        !json_is_string(tenant) || !json_is_string(role) ||
        es_req_json_int(json_object_get(v, "created_ms"), &created) != 0 ||
        es_req_json_int(json_object_get(v, "expires_ms"), &expires) != 0 ||
        created < 0 || expires < 0 || created > 253402300799999LL ||
        expires > 253402300799999LL) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: skipping a malformed invite");
        goto done;
    }

    es_time_str(created, c);
    es_time_str(expires, e);

    out = json_pack("{s:O, s:O, s:O, s:o, s:o, s:s, s:s}", "id", id, "tenant",
                    tenant, "role", role, "invited_by",
                    json_is_string(by) ? json_incref(by) : json_null(),
                    "invited_by_email",
                    json_is_string(by_email) && json_string_length(by_email)
                        ? json_incref(by_email)
                        : json_null(),
                    "created", c, "expires", e);

done:

    json_decref(v);
    return out;
}

NGX_HTTP_ECHOSTREAM_ROUTE(invites_accept)
{
    ngx_http_echostream_invites_ctx_t *ic;
    u_char now[NGX_INT64_LEN + 1];
    const char **argv;
    u_char *id, *ukey;
    es_req_err err;
    int confirm;

    if (es_req_accept_check(ctx->body, &confirm, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    id = ngx_http_echostream_path_id(ctx, "invite");
    if (id == NULL) {
        return;
    }

    ic = ngx_http_echostream_invites_start(ctx);
    if (ic == NULL) {
        return;
    }

    ukey =
        ngx_pnalloc(ctx->r->pool, sizeof(ES_KEY_USER_PREFIX) + ES_JWT_SUB_MAX);
    argv = ngx_palloc(ctx->r->pool, 14 * sizeof(char *));
    if (ukey == NULL || argv == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    /* the sub is checked at sign-in: a safe alphabet, bounded */
    (void)es_key_user((char *)ukey, sizeof(ES_KEY_USER_PREFIX) + ES_JWT_SUB_MAX,
                      ctx->claims.sub);
    *ngx_sprintf(now, "%L", ngx_http_echostream_api_now_ms()) = '\0';

    argv[0] = "FCALL";
    argv[1] = "es_invite_accept";
    argv[2] = "6";
    argv[3] = (const char *)ukey;
    argv[4] = (const char *)ic->ikey.data;
    argv[5] = ES_KEY_TENANTS;
    argv[6] = ES_KEY_TOPICS_VERSION;
    argv[7] = ES_KEY_WATCH_SUBS;
    argv[8] = ES_KEY_WATCH_VERSION;
    argv[9] = ctx->claims.sub;
    argv[10] = (const char *)ic->email;
    argv[11] = (const char *)id;
    argv[12] = confirm ? "1" : "0";
    argv[13] = (const char *)now;

    ngx_http_echostream_cmd(ctx, ngx_http_echostream_invite_accepted, 14, argv);
}

static void
ngx_http_echostream_invite_accepted(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_invites_ctx_t *ic = ctx->data;
    redisReply *rep, *deleted;
    int n;

    if (ngx_http_echostream_fn_answer(ctx, res) ||
        ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    rep = res->replies[0];
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_STRING ||
        rep->element[2]->type != REDIS_REPLY_STRING) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return;
    }

    /* the new membership holds in this worker at once */
    ngx_http_echostream_auth_forget(ctx->claims.sub);

    deleted = rep->element[2];
    ic->answer = json_pack(
        "{s:s%, s:s%, s:o}", "tenant", rep->element[0]->str,
        rep->element[0]->len, "role", rep->element[1]->str,
        rep->element[1]->len, "deleted_tenant",
        deleted->len ? json_stringn(deleted->str, deleted->len) : json_null());
    if (ic->answer == NULL ||
        ngx_http_echostream_pool_json(ctx, ic->answer) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, ctx->r->connection->log, 0,
                  "echostream api: a user accepted an invite to tenant "
                  "\"%*s\"%s%*s",
                  rep->element[0]->len, rep->element[0]->str,
                  deleted->len ? ", deleting their tenant " : "", deleted->len,
                  deleted->str);

    if (deleted->len == 0) {
        ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, json_incref(ic->answer));
        return;
    }

    /* the tenant id came back from Redis: checked before it makes a key */
    if (es_tenant_id_valid(deleted->str, deleted->len) != 0) {
        ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                      "echostream api: no sweep of a deleted tenant with an "
                      "invalid id");
        ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, json_incref(ic->answer));
        return;
    }

    /* every key of the tenant: its prefix (es_keys.h) and a wildcard */
    ic->match.data = ngx_pnalloc(
        ctx->r->pool, sizeof(ES_KEY_TENANT_PREFIX_FMT "*") + deleted->len);
    if (ic->match.data == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }
    n = es_tenant_prefix((char *)ic->match.data,
                         sizeof(ES_KEY_TENANT_PREFIX_FMT "*") + deleted->len,
                         deleted->str);
    if (n < 0) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }
    ic->match.data[n] = '*';
    ic->match.data[n + 1] = '\0';
    ic->match.len = (size_t)n + 1;

    ngx_http_echostream_sweep(ctx, NULL, "0");
}

/*
 * Unlinks keys (may be NULL or empty) and asks for the page at cursor;
 * with no cursor (the last page came back) it only unlinks.
 */
static void ngx_http_echostream_sweep(ngx_http_echostream_api_ctx_t *ctx,
                                      redisReply *keys, const char *cursor)
{
    ngx_http_echostream_invites_ctx_t *ic = ctx->data;
    ngx_http_echostream_redis_cmd_t cmds[2], *cmd;
    const char **unlink, **scan;
    ngx_uint_t i, n;

    cmd = cmds;
    n = (keys != NULL) ? keys->elements : 0;

    if (n > 0) {
        unlink = ngx_palloc(ctx->r->pool, (n + 1) * sizeof(char *));
        if (unlink == NULL) {
            ngx_http_echostream_no_memory(ctx);
            return;
        }
        unlink[0] = "UNLINK";
        for (i = 0; i < n; i++) {
            unlink[i + 1] = keys->element[i]->str;
        }
        cmd->argc = (int)n + 1;
        cmd->argv = unlink;
        cmd->argvlen = NULL;
        cmd++;
        ic->swept += n;
    }

    if (cursor != NULL) {
        scan = ngx_palloc(ctx->r->pool, 6 * sizeof(char *));
        if (scan == NULL) {
            ngx_http_echostream_no_memory(ctx);
            return;
        }
        scan[0] = "SCAN";
        scan[1] = cursor;
        scan[2] = "MATCH";
        scan[3] = (const char *)ic->match.data;
        scan[4] = "COUNT";
        scan[5] = NGX_HTTP_ECHOSTREAM_SWEEP_COUNT;
        cmd->argc = 6;
        cmd->argv = scan;
        cmd->argvlen = NULL;
        cmd++;
    }

    ic->last = (cursor == NULL);

    /* the last page held none of the tenant's keys: nothing left to send */
    if (cmd == cmds) {
        ngx_http_echostream_sweep_done(ctx, 1);
        return;
    }

    if (ngx_http_echostream_api_redis(ctx, cmds, cmd - cmds,
                                      ngx_http_echostream_swept) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
    }
}

static void ngx_http_echostream_swept(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_invites_ctx_t *ic = ctx->data;
    redisReply *page, *keys;
    ngx_uint_t i;

    page = (res->replies != NULL) ? res->replies[res->n - 1] : NULL;

    if (ic->last && page != NULL) {
        ngx_http_echostream_sweep_done(ctx, 1);
        return;
    }

    if (page == NULL || ic->last || page->type != REDIS_REPLY_ARRAY ||
        page->elements != 2 || page->element[0]->type != REDIS_REPLY_STRING ||
        page->element[1]->type != REDIS_REPLY_ARRAY) {
        ngx_http_echostream_sweep_done(ctx, 0);
        return;
    }

    keys = page->element[1];
    for (i = 0; i < keys->elements; i++) {
        if (keys->element[i]->type != REDIS_REPLY_STRING) {
            ngx_http_echostream_api_redis_down(ctx, res);
            return;
        }
    }

    /* cursor "0": the iteration is complete, these keys are the last */
    ngx_http_echostream_sweep(
        ctx, keys,
        (page->element[0]->len == 1 && page->element[0]->str[0] == '0')
            ? NULL
            : page->element[0]->str);
}

/*
 * The end of a sweep, complete or cut short by Redis failing: the accept
 * holds either way (what is left is unreachable and expires by its TTLs),
 * so the answer is the accept's; the log says which.
 */
static void ngx_http_echostream_sweep_done(ngx_http_echostream_api_ctx_t *ctx,
                                           ngx_uint_t complete)
{
    ngx_http_echostream_invites_ctx_t *ic = ctx->data;

    if (complete) {
        ngx_log_error(NGX_LOG_NOTICE, ctx->r->connection->log, 0,
                      "echostream api: swept %ui keys of \"%V\"", ic->swept,
                      &ic->match);
    } else {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: the sweep of \"%V\" stopped after %ui "
                      "keys (Redis failed); the rest expire by their TTLs",
                      &ic->match, ic->swept);
    }

    ngx_http_echostream_api_json(ctx, NGX_HTTP_OK, json_incref(ic->answer));
}

NGX_HTTP_ECHOSTREAM_ROUTE(invites_decline)
{
    u_char *id;

    id = ngx_http_echostream_path_id(ctx, "invite");
    if (id == NULL) {
        return;
    }

    ngx_http_echostream_invites_call(ctx, "es_invite_decline", id,
                                     ngx_http_echostream_invite_declined);
}

static void
ngx_http_echostream_invite_declined(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_http_echostream_redis_result_t *res)
{
    if (ngx_http_echostream_fn_answer(ctx, res) ||
        ngx_http_echostream_api_redis_failed(ctx, res)) {
        return;
    }

    ngx_http_echostream_api_no_content(ctx);
}
