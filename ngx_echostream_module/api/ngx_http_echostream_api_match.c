/*
 * ngx_http_echostream_api_match.c - which route of the table a request's
 * path and method name, and the path parameters it carries.
 *
 * The path is matched segment by segment against the fixed table of
 * routes.c before anything else is looked at: no match is 404, a match
 * with another method 405 with the methods that would do, and no token is
 * touched on the way, so a scanner learns nothing. Path parameters are
 * checked here, before any handler runs: an {id} is a plain id, a {sub}
 * or {email} a bounded printable string, so every key a route builds from
 * them is safe.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_api_match.h"

#define NGX_HTTP_ECHOSTREAM_PARAM_MAX 254

static ngx_int_t ngx_http_echostream_api_param(ngx_http_request_t *r,
                                               const char *pat, size_t patlen,
                                               ngx_str_t *seg, ngx_str_t *out);

ngx_int_t ngx_http_echostream_api_match(ngx_http_echostream_api_ctx_t *ctx,
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
