/*
 * ngx_http_echostream_api.c - the "echostream_api" content handler: route
 * matching, request bodies, CORS, the order of the checks, and the
 * helpers every route answers with.
 *
 * A request goes: route match (404/405 without touching a token, so a
 * scanner learns nothing) → body read and parsed when the route takes one
 * (413/415/400) → authentication and membership (auth.c; 401/503) → role
 * (403) → per-tenant rate limit (429) → the route handler.
 *
 * Reference counting is done here once for everyone: the handler takes a
 * reference (or ngx_http_read_client_request_body does) that the final
 * answer releases, and each asynchronous step takes one that its
 * completion releases, so routes never touch r->main->count.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdarg.h>

#include "es_keys.h"
#include "api/ngx_http_echostream_api.h"
#include "auth/ngx_http_echostream_auth.h"
#include "core/ngx_http_echostream_metrics.h"
#include "core/ngx_http_echostream_module.h"
#include "auth/ngx_http_echostream_ratelimit.h"

#define NGX_HTTP_ECHOSTREAM_API_PREFIX "/api/v1"
#define NGX_HTTP_ECHOSTREAM_PARAM_MAX  254

typedef struct {
    ngx_http_echostream_api_ctx_t *ctx;
    ngx_http_echostream_api_redis_pt next;
} ngx_http_echostream_api_step_t;

static ngx_int_t
ngx_http_echostream_api_match(ngx_http_echostream_api_ctx_t *ctx,
                              ngx_str_t *path, ngx_uint_t *allow);
static ngx_int_t ngx_http_echostream_api_param(ngx_http_request_t *r,
                                               const char *pat, size_t patlen,
                                               ngx_str_t *seg, ngx_str_t *out);
static void ngx_http_echostream_api_body_read(ngx_http_request_t *r);
static void ngx_http_echostream_api_start(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_api_authorized(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_api_redis_done(ngx_http_request_t *r, void *data,
                                   ngx_http_echostream_redis_result_t *res);
static void
ngx_http_echostream_api_preflight(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_api_not_allowed(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_uint_t allow);
static void ngx_http_echostream_api_json_free(void *data);
static void ngx_http_echostream_api_error_va(ngx_http_echostream_api_ctx_t *ctx,
                                             ngx_uint_t status,
                                             const char *code, json_t *extra,
                                             const char *fmt, va_list ap);

ngx_int_t ngx_http_echostream_api_handler(ngx_http_request_t *r)
{
    ngx_http_echostream_loc_conf_t *elcf;
    ngx_http_echostream_api_ctx_t *ctx;
    ngx_uint_t allow;
    ngx_str_t path;
    ngx_int_t rc;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_echostream_api_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->r = r;
    ctx->start = ngx_current_msec;
    ctx->route_index = ngx_http_echostream_nroutes;
    ngx_http_set_ctx(r, ctx, ngx_http_echostream_module);

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_echostream_module);

    if (r->method == NGX_HTTP_OPTIONS) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
        r->main->count++;
        ngx_http_echostream_api_preflight(ctx);
        return NGX_DONE;
    }

    path = r->uri;
    if (path.len < sizeof(NGX_HTTP_ECHOSTREAM_API_PREFIX) - 1 ||
        ngx_strncmp(path.data, NGX_HTTP_ECHOSTREAM_API_PREFIX,
                    sizeof(NGX_HTTP_ECHOSTREAM_API_PREFIX) - 1) != 0) {
        path.len = 0;
    } else {
        path.data += sizeof(NGX_HTTP_ECHOSTREAM_API_PREFIX) - 1;
        path.len -= sizeof(NGX_HTTP_ECHOSTREAM_API_PREFIX) - 1;
    }

    rc = ngx_http_echostream_api_match(ctx, &path, &allow);

    if (rc != NGX_OK || !ctx->route->body) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        r->main->count++;

        if (ctx->route == NULL) {
            if (allow) {
                ngx_http_echostream_api_not_allowed(ctx, allow);
            } else {
                ngx_http_echostream_api_error(ctx, NGX_HTTP_NOT_FOUND,
                                              "not_found", "no such resource");
            }
            return NGX_DONE;
        }

        /* notice a client that gives up while Redis or the JWKS is slow */
        r->read_event_handler = ngx_http_test_reading;

        ngx_http_echostream_api_start(ctx);
        return NGX_DONE;
    }

    if (r->headers_in.content_length_n > (off_t)elcf->max_body) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
        r->main->count++;
        ngx_http_echostream_api_error(
            ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
            "the body exceeds %uz bytes", elcf->max_body);
        return NGX_DONE;
    }

    r->request_body_in_single_buf = 1;

    rc =
        ngx_http_read_client_request_body(r, ngx_http_echostream_api_body_read);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}

/*
 * Finds the route of path for r's method. NGX_OK with ctx->route set;
 * NGX_DECLINED when none matches, *allow then holds the methods of
 * routes whose pattern matches (for 405), or 0 (404).
 */
static ngx_int_t
ngx_http_echostream_api_match(ngx_http_echostream_api_ctx_t *ctx,
                              ngx_str_t *path, ngx_uint_t *allow)
{
    const ngx_http_echostream_route_t *rt;
    ngx_str_t seg, params[2];
    ngx_uint_t i, np, method, ok;
    const char *pat, *pe;
    u_char *p, *end, *se;

    /* both are copied into the context whatever the route's count */
    ngx_memzero(params, sizeof(params));

    *allow = 0;
    method = ctx->r->method;
    if (method == NGX_HTTP_HEAD) {
        method = NGX_HTTP_GET;
    }

    for (i = 0; i < ngx_http_echostream_nroutes; i++) {
        rt = &ngx_http_echostream_routes[i];
        pat = rt->pattern;
        p = path->data;
        end = path->data + path->len;
        np = 0;
        ok = 1;

        while (*pat != '\0' && ok) {
            /* both sides are at a '/' */
            if (p >= end || *p != '/' || *pat != '/') {
                ok = 0;
                break;
            }
            p++;
            pat++;

            pe = pat;
            while (*pe != '\0' && *pe != '/') {
                pe++;
            }
            se = p;
            while (se < end && *se != '/') {
                se++;
            }

            seg.data = p;
            seg.len = se - p;

            if (*pat == '{') {
                if (np == 2 ||
                    ngx_http_echostream_api_param(ctx->r, pat, pe - pat, &seg,
                                                  &params[np]) != NGX_OK) {
                    ok = 0;
                    break;
                }
                np++;

            } else if (seg.len != (size_t)(pe - pat) ||
                       ngx_strncmp(seg.data, pat, seg.len) != 0) {
                ok = 0;
                break;
            }

            pat = pe;
            p = se;
        }

        if (!ok || p != end) {
            continue;
        }

        if (rt->method != method) {
            *allow |= rt->method;
            continue;
        }

        ctx->route = rt;
        ctx->route_index = i;
        ctx->params[0] = params[0];
        ctx->params[1] = params[1];
        ctx->nparams = np;
        return NGX_OK;
    }

    return NGX_DECLINED;
}

/*
 * One path parameter: "{id}" is a plain id; "{sub}" and "{email}" are
 * URL-decoded and must be printable ASCII without '/', at most 254 bytes
 * (their handlers check them further).
 */
static ngx_int_t ngx_http_echostream_api_param(ngx_http_request_t *r,
                                               const char *pat, size_t patlen,
                                               ngx_str_t *seg, ngx_str_t *out)
{
    u_char *dst, *src;
    size_t i;

    if (patlen == 4 && ngx_strncmp(pat, "{id}", 4) == 0) {
        if (!ngx_http_echostream_api_id_valid(seg->data, seg->len)) {
            return NGX_DECLINED;
        }
        /* a copy with its NUL: keys are built from C strings (es_keys.h) */
        out->data = ngx_pnalloc(r->pool, seg->len + 1);
        if (out->data == NULL) {
            return NGX_ERROR;
        }
        ngx_memcpy(out->data, seg->data, seg->len);
        out->data[seg->len] = '\0';
        out->len = seg->len;
        return NGX_OK;
    }

    if (seg->len == 0 || seg->len > 3 * NGX_HTTP_ECHOSTREAM_PARAM_MAX) {
        return NGX_DECLINED;
    }

    dst = ngx_pnalloc(r->pool, seg->len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    out->data = dst;
    src = seg->data;
    ngx_unescape_uri(&dst, &src, seg->len, 0);
    out->len = dst - out->data;
    *dst = '\0';

    if (out->len == 0 || out->len > NGX_HTTP_ECHOSTREAM_PARAM_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < out->len; i++) {
        if (out->data[i] <= ' ' || out->data[i] >= 0x7f ||
            out->data[i] == '/') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}

/* The body has arrived (or failed): parse it, then authenticate. */
static void ngx_http_echostream_api_body_read(ngx_http_request_t *r)
{
    ngx_http_echostream_loc_conf_t *elcf;
    ngx_http_echostream_api_ctx_t *ctx;
    ngx_pool_cleanup_t *cln;
    ngx_str_t *ct;
    ngx_chain_t *cl;
    u_char *text, *p;
    es_req_err err;
    size_t size, n;
    ssize_t got;

    ctx = ngx_http_get_module_ctx(r, ngx_http_echostream_module);
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_echostream_module);

    if (r->request_body == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_BAD_REQUEST, "bad_request",
                                      "the request body could not be read");
        return;
    }

    size = 0;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        size += (size_t)ngx_buf_size(cl->buf);
    }

    if (size > elcf->max_body) {
        ngx_http_echostream_api_error(
            ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
            "the body exceeds %uz bytes", elcf->max_body);
        return;
    }

    if (size == 0) {
        /* no body is an empty object: routes with optional fields work */
        ctx->body = json_object();

    } else {
        ct = r->headers_in.content_type ? &r->headers_in.content_type->value
                                        : NULL;
        if (ct == NULL || !es_req_json_type((const char *)ct->data, ct->len)) {
            ngx_http_echostream_api_error(ctx, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                          "unsupported_media_type",
                                          "the body must be application/json");
            return;
        }

        text = ngx_pnalloc(r->pool, size);
        if (text == NULL) {
            ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "internal", "out of memory");
            return;
        }

        p = text;
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            n = (size_t)ngx_buf_size(cl->buf);
            if (n == 0) {
                /* the end-of-body marker of a chunked body */
                continue;
            }
            if (ngx_buf_in_memory(cl->buf)) {
                p = ngx_cpymem(p, cl->buf->pos, n);
                continue;
            }
            got = (cl->buf->in_file && cl->buf->file != NULL)
                      ? ngx_read_file(cl->buf->file, p, n, cl->buf->file_pos)
                      : NGX_ERROR;
            if (got != (ssize_t)n) {
                ngx_http_echostream_api_error(
                    ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, "internal",
                    "the request body could not be read");
                return;
            }
            p += n;
        }

        if (es_req_body_parse((const char *)text, size, &ctx->body, &err) !=
            0) {
            ngx_http_echostream_api_req_error(ctx, &err);
            return;
        }
    }

    if (ctx->body == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(ctx->body);
        ctx->body = NULL;
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
        return;
    }
    cln->handler = ngx_http_echostream_api_json_free;
    cln->data = ctx->body;

    r->read_event_handler = ngx_http_test_reading;

    ngx_http_echostream_api_start(ctx);
}

static void ngx_http_echostream_api_json_free(void *data)
{
    json_decref(data);
}

static void ngx_http_echostream_api_start(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_auth_run(ctx, ngx_http_echostream_api_authorized);
}

/* The principal is known: role, rate limit, then the route. */
static void
ngx_http_echostream_api_authorized(ngx_http_echostream_api_ctx_t *ctx)
{
    u_char key[sizeof("~") + ES_JWT_SUB_MAX];
    ngx_table_elt_t *h;
    ngx_uint_t retry;
    ngx_int_t rc;
    size_t n;
    u_char *p;

    if (ctx->role == NGX_HTTP_ECHOSTREAM_ROLE_NONE &&
        ctx->route->min_role > NGX_HTTP_ECHOSTREAM_ROLE_NONE) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_FORBIDDEN, "no_tenant",
                                      "you are not a member of any tenant: "
                                      "accept an invite (GET /invites)");
        return;
    }

    if (ctx->role < ctx->route->min_role) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_FORBIDDEN, "forbidden",
                                      "only an owner of the tenant may do "
                                      "this");
        return;
    }

    /* a user without a tenant is limited on their own ("~" is in no
     * tenant id) */
    if (ctx->tenant_len > 0) {
        rc = ngx_http_echostream_ratelimit_check(ctx->r, ctx->tenant,
                                                 ctx->tenant_len, &retry);
    } else {
        n = ngx_sprintf(key, "~%s", ctx->claims.sub) - key;
        rc = ngx_http_echostream_ratelimit_check(ctx->r, key, n, &retry);
    }
    if (rc != NGX_OK) {
        h = ngx_list_push(&ctx->r->headers_out.headers);
        p = ngx_pnalloc(ctx->r->pool, NGX_INT_T_LEN);
        if (h != NULL && p != NULL) {
            h->hash = 1;
#if (nginx_version >= 1023000)
            h->next = NULL;
#endif
            ngx_str_set(&h->key, "Retry-After");
            h->value.data = p;
            h->value.len = ngx_sprintf(p, "%ui", retry) - p;
        }

        if (rc == NGX_ERROR) {
            ngx_http_echostream_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "unavailable",
                                          "the rate limiter is out of room, "
                                          "retry in %ui s",
                                          retry);
            return;
        }

        ngx_http_echostream_api_error(ctx, NGX_HTTP_TOO_MANY_REQUESTS,
                                      "rate_limited",
                                      "too many requests for this tenant, "
                                      "retry in %ui s",
                                      retry);
        return;
    }

    ctx->route->handler(ctx);
}

ngx_int_t ngx_http_echostream_api_redis(ngx_http_echostream_api_ctx_t *ctx,
                                        ngx_http_echostream_redis_cmd_t *cmds,
                                        ngx_uint_t n,
                                        ngx_http_echostream_api_redis_pt next)
{
    ctx->next = next;

    return ngx_http_echostream_redis_pipeline_pool(
        ctx->r, ctx->r->pool, cmds, n, ngx_http_echostream_api_redis_done, ctx);
}

ngx_int_t ngx_http_echostream_api_redis_pool(
    ngx_http_echostream_api_ctx_t *ctx, ngx_pool_t *pool,
    ngx_http_echostream_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_echostream_api_redis_pt next)
{
    ctx->next = next;

    return ngx_http_echostream_redis_pipeline_pool(
        ctx->r, pool, cmds, n, ngx_http_echostream_api_redis_done, ctx);
}

static void
ngx_http_echostream_api_redis_done(ngx_http_request_t *r, void *data,
                                   ngx_http_echostream_redis_result_t *res)
{
    ngx_http_echostream_api_ctx_t *ctx = data;

    ctx->next(ctx, res);

    /* balances the count taken by ngx_http_echostream_redis_pipeline() */
    ngx_http_finalize_request(r, NGX_DONE);
}

void ngx_http_echostream_api_redis_down(ngx_http_echostream_api_ctx_t *ctx,
                                        ngx_http_echostream_redis_result_t *res)
{
    ngx_uint_t i;

    if (res->replies == NULL) {
        ngx_log_error(NGX_LOG_WARN, ctx->r->connection->log, 0,
                      "echostream api: redis unavailable: %s",
                      res->error ? res->error : "unknown");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable",
                                      "the data store is unavailable, try "
                                      "again shortly");
        return;
    }

    for (i = 0; i < res->n; i++) {
        if (res->replies[i]->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                          "echostream api: redis error in %s: %*s",
                          ctx->route ? ctx->route->name : "auth",
                          (size_t)ngx_min(res->replies[i]->len, 200),
                          res->replies[i]->str);
            break;
        }
    }

    ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "internal", "the request failed");
}

ngx_int_t
ngx_http_echostream_api_redis_failed(ngx_http_echostream_api_ctx_t *ctx,
                                     ngx_http_echostream_redis_result_t *res)
{
    ngx_uint_t i;

    if (res->replies == NULL) {
        ngx_http_echostream_api_redis_down(ctx, res);
        return 1;
    }

    for (i = 0; i < res->n; i++) {
        if (res->replies[i]->type == REDIS_REPLY_ERROR) {
            ngx_http_echostream_api_redis_down(ctx, res);
            return 1;
        }
    }

    return 0;
}

/* CORS preflight: no token needed, nothing but headers. */
static void
ngx_http_echostream_api_preflight(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_request_t *r = ctx->r;
    ngx_str_t v;
    ngx_int_t rc;

    if (ngx_http_echostream_api_common_headers(ctx) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_str_set(&v, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    if (ngx_http_echostream_api_add_header(r, "Access-Control-Allow-Methods",
                                           &v) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_str_set(&v, "Authorization, Content-Type, Last-Event-ID");
    if (ngx_http_echostream_api_add_header(r, "Access-Control-Allow-Headers",
                                           &v) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_str_set(&v, "600");
    if (ngx_http_echostream_api_add_header(r, "Access-Control-Max-Age", &v) !=
        NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;
    ctx->status = NGX_HTTP_NO_CONTENT;

    rc = ngx_http_send_header(r);
    ngx_http_echostream_api_finalize(ctx, rc);
}

static void
ngx_http_echostream_api_not_allowed(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_uint_t allow)
{
    static const struct {
        ngx_uint_t m;
        const char *name;
    } names[] = {{NGX_HTTP_GET, "GET, HEAD"},
                 {NGX_HTTP_POST, "POST"},
                 {NGX_HTTP_PUT, "PUT"},
                 {NGX_HTTP_PATCH, "PATCH"},
                 {NGX_HTTP_DELETE, "DELETE"}};
    u_char buf[64], *p;
    ngx_str_t v;
    ngx_uint_t i;

    p = buf;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (allow & names[i].m) {
            p = ngx_slprintf(p, buf + sizeof(buf), "%s%s", p == buf ? "" : ", ",
                             names[i].name);
        }
    }

    v.len = p - buf;
    v.data = ngx_pnalloc(ctx->r->pool, v.len);
    if (v.data != NULL) {
        ngx_memcpy(v.data, buf, v.len);
        (void)ngx_http_echostream_api_add_header(ctx->r, "Allow", &v);
    }

    ngx_http_echostream_api_error(
        ctx, NGX_HTTP_NOT_ALLOWED, "method_not_allowed",
        "method not allowed here; allowed: %*s", (size_t)(p - buf), buf);
}

void ngx_http_echostream_api_json(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_uint_t status, json_t *body)
{
    ngx_http_request_t *r = ctx->r;
    ngx_chain_t out;
    ngx_buf_t *b;
    size_t size, flags;
    ngx_int_t rc;

    if (body == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "echostream api: out of memory building a response");
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
        return;
    }

    flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);

    size = json_dumpb(body, NULL, 0, flags);
    b = size ? ngx_create_temp_buf(r->pool, size + 1) : NULL;
    if (b == NULL || json_dumpb(body, (char *)b->pos, size, flags) != size) {
        json_decref(body);
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    json_decref(body);

    b->last = b->pos + size;
    *b->last++ = '\n';
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    if (ngx_http_echostream_api_common_headers(ctx) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    ctx->status = status;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_echostream_api_finalize(ctx, rc);
        return;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_echostream_api_finalize(ctx, ngx_http_output_filter(r, &out));
}

void ngx_http_echostream_api_error(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_uint_t status, const char *code,
                                   const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ngx_http_echostream_api_error_va(ctx, status, code, NULL, fmt, ap);
    va_end(ap);
}

void ngx_http_echostream_api_error_ex(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_uint_t status, const char *code,
                                      json_t *extra, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ngx_http_echostream_api_error_va(ctx, status, code, extra, fmt, ap);
    va_end(ap);
}

void ngx_http_echostream_api_req_error(ngx_http_echostream_api_ctx_t *ctx,
                                       const es_req_err *err)
{
    json_t *extra;

    /* packing fails only without memory: the error goes out without them */
    extra = json_object();
    if (extra != NULL && err->field[0] != '\0') {
        json_object_set_new(extra, "field", json_string(err->field));
    }
    if (extra != NULL && err->position >= 0) {
        json_object_set_new(extra, "position",
                            json_integer((json_int_t)err->position));
    }
    if (extra != NULL && err->column >= 0) {
        json_object_set_new(extra, "column",
                            json_integer((json_int_t)err->column));
    }

    ngx_http_echostream_api_error_ex(ctx, (ngx_uint_t)err->status, err->code,
                                     extra, "%s", err->message);
}

static void ngx_http_echostream_api_error_va(ngx_http_echostream_api_ctx_t *ctx,
                                             ngx_uint_t status,
                                             const char *code, json_t *extra,
                                             const char *fmt, va_list ap)
{
    u_char msg[512], *p;
    json_t *err, *body;

    p = ngx_vslprintf(msg, msg + sizeof(msg) - 1, fmt, ap);
    *p = '\0';

    err = json_pack("{s:s, s:s%}", "code", code, "message", (char *)msg,
                    (size_t)(p - msg));
    if (err != NULL && extra != NULL) {
        (void)json_object_update(err, extra);
    }
    json_decref(extra);

    body = err ? json_pack("{s:o}", "error", err) : NULL;

    if (body == NULL) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_echostream_api_json(ctx, status, body);
}

void ngx_http_echostream_api_no_content(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_request_t *r = ctx->r;
    ngx_int_t rc;

    if (ngx_http_echostream_api_common_headers(ctx) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;
    ctx->status = NGX_HTTP_NO_CONTENT;

    rc = ngx_http_send_header(r);
    ngx_http_echostream_api_finalize(ctx, rc);
}

void ngx_http_echostream_api_finalize(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_int_t rc)
{
    ngx_uint_t status;

    if (ctx->done) {
        ngx_log_error(NGX_LOG_ALERT, ctx->r->connection->log, 0,
                      "echostream api: request answered twice");
        return;
    }
    ctx->done = 1;

    status = ctx->status;
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        status = (ngx_uint_t)rc;
    } else if (status == 0) {
        status = ctx->r->headers_out.status;
    }

    ngx_http_echostream_metrics_request(ctx->route_index, status,
                                        ngx_current_msec - ctx->start);

    ngx_http_finalize_request(ctx->r, rc);
}
