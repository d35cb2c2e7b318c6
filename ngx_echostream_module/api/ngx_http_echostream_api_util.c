/*
 * ngx_http_echostream_api_util.c - small helpers of the API framework that
 * every route uses: response headers (Cache-Control, CORS), query
 * arguments, tenant keys, ids, the clock and integer replies.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdarg.h>

#include "api/ngx_http_echostream_api.h"
#include "core/ngx_http_echostream_module.h"

ngx_int_t
ngx_http_echostream_api_common_headers(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_loc_conf_t *elcf;
    ngx_http_request_t *r = ctx->r;
    ngx_str_t v, *origins;
    ngx_table_elt_t *origin;
    ngx_uint_t i;

    ngx_str_set(&v, "no-store");
    if (ngx_http_echostream_api_add_header(r, "Cache-Control", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_echostream_module);
    if (elcf->cors_origins == NULL) {
        return NGX_OK;
    }

    ngx_str_set(&v, "Origin");
    if (ngx_http_echostream_api_add_header(r, "Vary", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    origin = ngx_http_echostream_api_header(r, "Origin");

    if (origin == NULL) {
        return NGX_OK;
    }

    origins = elcf->cors_origins->elts;
    for (i = 0; i < elcf->cors_origins->nelts; i++) {
        if ((origins[i].len == 1 && origins[i].data[0] == '*') ||
            (origins[i].len == origin->value.len &&
             ngx_strncasecmp(origins[i].data, origin->value.data,
                             origins[i].len) == 0)) {
            break;
        }
    }

    if (i == elcf->cors_origins->nelts) {
        return NGX_OK;
    }

    if (ngx_http_echostream_api_add_header(r, "Access-Control-Allow-Origin",
                                           &origin->value) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&v, "Retry-After, WWW-Authenticate, Content-Disposition");
    return ngx_http_echostream_api_add_header(
        r, "Access-Control-Expose-Headers", &v);
}

/* Adds one response header (value must outlive the request's headers). */
ngx_int_t ngx_http_echostream_api_add_header(ngx_http_request_t *r,
                                             const char *key, ngx_str_t *value)
{
    ngx_table_elt_t *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *)key;
    h->key.len = ngx_strlen(key);
    h->value = *value;

    return NGX_OK;
}

ngx_int_t ngx_http_echostream_api_arg(ngx_http_echostream_api_ctx_t *ctx,
                                      const char *name, size_t max,
                                      ngx_str_t *value)
{
    size_t n;
    int rc;

    value->data = ngx_pnalloc(ctx->r->pool, max + 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    rc = es_req_arg((const char *)ctx->r->args.data, ctx->r->args.len, name,
                    (char *)value->data, max, &n);
    value->len = n;

    return rc == ES_ARG_OK       ? NGX_OK
           : rc == ES_ARG_ABSENT ? NGX_DECLINED
                                 : NGX_ERROR;
}

ngx_int_t ngx_http_echostream_api_key(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_str_t *out, es_tkey k, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, k);
    n = es_tenant_key_v(buf, sizeof(buf), (const char *)ctx->tenant, k, ap);
    va_end(ap);

    if (n < 0) {
        return NGX_ERROR;
    }

    out->len = (size_t)n;
    out->data = ngx_pnalloc(ctx->r->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, buf, out->len + 1);

    return NGX_OK;
}

ngx_int_t ngx_http_echostream_api_records_mget(
    ngx_http_echostream_api_ctx_t *ctx, ngx_pool_t *pool, const u_char *ids,
    size_t stride, const size_t *lens, ngx_uint_t n, const char ***argv,
    size_t **argvlen)
{
    char prefix[ES_JWT_TENANT_MAX + sizeof("es:{t:}:")], buf[512],
        id[ES_REQ_ID_MAX + 1];
    const char **a;
    size_t *l;
    ngx_uint_t i;
    u_char *key;
    int plen, klen;

    plen = es_tenant_prefix(prefix, sizeof(prefix), (const char *)ctx->tenant);
    a = ngx_palloc(pool, (n + 1) * sizeof(char *));
    l = ngx_palloc(pool, (n + 1) * sizeof(size_t));
    if (plen < 0 || a == NULL || l == NULL) {
        return NGX_ERROR;
    }

    a[0] = "MGET";
    l[0] = sizeof("MGET") - 1;

    /* the prefix is built once: a page holds up to hundreds of ids */
    for (i = 0; i < n; i++) {
        if (lens[i] > ES_REQ_ID_MAX) {
            return NGX_ERROR;
        }
        ngx_memcpy(id, ids + i * stride, lens[i]);
        id[lens[i]] = '\0';

        klen = es_tenant_key_p(buf, sizeof(buf), prefix, (size_t)plen,
                               ES_TK_RECORD, id);
        key = klen < 0 ? NULL : ngx_pnalloc(pool, (size_t)klen);
        if (key == NULL) {
            return NGX_ERROR;
        }
        ngx_memcpy(key, buf, (size_t)klen);
        a[i + 1] = (const char *)key;
        l[i + 1] = (size_t)klen;
    }

    *argv = a;
    *argvlen = l;
    return NGX_OK;
}

int64_t ngx_http_echostream_api_now_ms(void)
{
    ngx_time_t *tp;

    tp = ngx_timeofday();

    return (int64_t)tp->sec * 1000 + (int64_t)tp->msec;
}

int ngx_http_echostream_api_id_valid(const u_char *s, size_t len)
{
    return es_req_id_valid((const char *)s, len);
}

ngx_table_elt_t *ngx_http_echostream_api_header(ngx_http_request_t *r,
                                                const char *name)
{
    ngx_list_part_t *part;
    ngx_table_elt_t *h;
    size_t len;
    ngx_uint_t i;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len &&
            ngx_strncasecmp(h[i].key.data, (u_char *)name, len) == 0) {
            return &h[i];
        }
    }
}

int64_t ngx_http_echostream_api_reply_int(redisReply *v, ngx_uint_t *bad)
{
    int64_t n;
    size_t i;
    int neg;

    if (v->type == REDIS_REPLY_NIL) {
        return 0;
    }

    /* 15 characters: sums stay far from overflowing below */
    if (v->type != REDIS_REPLY_STRING || v->len == 0 || v->len > 15) {
        goto bad;
    }

    neg = (v->str[0] == '-');
    if (neg && v->len == 1) {
        goto bad;
    }

    n = 0;
    for (i = neg; i < v->len; i++) {
        if (v->str[i] < '0' || v->str[i] > '9') {
            goto bad;
        }
        n = n * 10 + (v->str[i] - '0');
    }

    return neg ? -n : n;

bad:

    (*bad)++;
    return 0;
}
