/*
 * ngx_http_echostream_api.c - the "echostream_api" content handler: the
 * order of the checks, request bodies, CORS preflight and 405 answers.
 *
 * A request goes: route match (api_match.c; 404/405 without touching a
 * token, so a scanner learns nothing) → body read and parsed when the
 * route takes one (413/415/400) → authentication and membership (auth.c;
 * 401/503) → role (403) → per-tenant rate limit (429) → the route
 * handler, which answers with api_answer.c and reaches Redis through
 * api_redis.c. A public route (ROLE_PUBLIC: a link in a mail, which
 * proves itself) skips the token and the role, and is limited per client
 * address instead of per tenant: a stranger's requests never spend a
 * tenant's allowance.
 *
 * Reference counting is done once for everyone: the handler takes a
 * reference (or ngx_http_read_client_request_body does) that the final
 * answer releases, and each asynchronous step takes one that its
 * completion releases, so routes never touch r->main->count.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_keys.h"
#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_api_match.h"
#include "auth/ngx_http_echostream_auth.h"
#include "core/ngx_http_echostream_module.h"
#include "auth/ngx_http_echostream_ratelimit.h"

#define NGX_HTTP_ECHOSTREAM_API_PREFIX "/api/v1"

static void ngx_http_echostream_api_body_read(ngx_http_request_t *r);
static void ngx_http_echostream_api_start(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_api_authorized(ngx_http_echostream_api_ctx_t *ctx);
static void ngx_http_echostream_api_limit(ngx_http_echostream_api_ctx_t *ctx,
                                          const u_char *key, size_t n);
static void
ngx_http_echostream_api_preflight(ngx_http_echostream_api_ctx_t *ctx);
static void
ngx_http_echostream_api_not_allowed(ngx_http_echostream_api_ctx_t *ctx,
                                    ngx_uint_t allow);
static void ngx_http_echostream_api_json_free(void *data);

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

    ct = r->headers_in.content_type ? &r->headers_in.content_type->value : NULL;

    if (size == 0) {
        /* no body is an empty object: routes with optional fields work */
        ctx->body = json_object();

    } else {
        if (ctx->route->body != NGX_HTTP_ECHOSTREAM_BODY_RAW &&
            (ct == NULL ||
             !es_req_json_type((const char *)ct->data, ct->len))) {
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

        ctx->raw.data = text;
        ctx->raw.len = size;

        if (ctx->route->body == NGX_HTTP_ECHOSTREAM_BODY_RAW) {
            /* the route reads it: not JSON, and not parsed here */
            r->read_event_handler = ngx_http_test_reading;
            ngx_http_echostream_api_start(ctx);
            return;
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
    ngx_str_t *addr;
    u_char *key;

    if (ctx->route->min_role != NGX_HTTP_ECHOSTREAM_ROLE_PUBLIC) {
        ngx_http_echostream_auth_run(ctx, ngx_http_echostream_api_authorized);
        return;
    }

    /* "!" and the address: no tenant id, no "~<sub>" looks like it */
    addr = &ctx->r->connection->addr_text;
    key = ngx_pnalloc(ctx->r->pool, addr->len + 1);
    if (key == NULL) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                      "internal", "out of memory");
        return;
    }
    key[0] = '!';
    ngx_memcpy(key + 1, addr->data, addr->len);

    ngx_http_echostream_api_limit(ctx, key, addr->len + 1);
}

/* The principal is known: role, rate limit, then the route. */
static void
ngx_http_echostream_api_authorized(ngx_http_echostream_api_ctx_t *ctx)
{
    u_char key[sizeof("~") + ES_JWT_SUB_MAX];
    size_t n;

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
        ngx_http_echostream_api_limit(ctx, ctx->tenant, ctx->tenant_len);
        return;
    }

    n = ngx_sprintf(key, "~%s", ctx->claims.sub) - key;
    ngx_http_echostream_api_limit(ctx, key, n);
}

/* Counts the request against bucket key[0..n), then runs the route. */
static void ngx_http_echostream_api_limit(ngx_http_echostream_api_ctx_t *ctx,
                                          const u_char *key, size_t n)
{
    ngx_table_elt_t *h;
    ngx_uint_t retry;
    ngx_int_t rc;
    u_char *p;

    rc = ngx_http_echostream_ratelimit_check(ctx->r, key, n, &retry);
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

        ngx_http_echostream_api_error(
            ctx, NGX_HTTP_TOO_MANY_REQUESTS, "rate_limited",
            "too many requests for this %s, retry in %ui s",
            ctx->route->min_role == NGX_HTTP_ECHOSTREAM_ROLE_PUBLIC ? "address"
                                                                    : "tenant",
            retry);
        return;
    }

    ctx->route->handler(ctx);
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
