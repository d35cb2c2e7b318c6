/*
 * ngx_http_echostream_api_util.c - small helpers of the API framework that
 * every route uses: response headers (Cache-Control, CORS), query
 * arguments, tenant keys, ids, the clock and integer replies.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdarg.h>

#include "es_time.h"
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

ngx_int_t ngx_http_echostream_api_records_cmd(
    ngx_http_echostream_api_ctx_t *ctx, ngx_pool_t *pool, const u_char *ids,
    size_t stride, const size_t *lens, const u_char *hours, ngx_uint_t n,
    int *argc, const char ***argv, const size_t **argvlen)
{
    char prefix[ES_JWT_TENANT_MAX + sizeof("es:{t:}:")], buf[512];
    const char **a;
    size_t *l;
    ngx_uint_t i;
    u_char *p;
    int plen, mlen;

    plen = es_tenant_prefix(prefix, sizeof(prefix), (const char *)ctx->tenant);
    mlen = plen < 0 ? -1
                    : es_tenant_key_p(buf, sizeof(buf), prefix, (size_t)plen,
                                      ES_TK_META);
    a = ngx_palloc(pool, (2 * n + 5) * sizeof(char *));
    l = ngx_palloc(pool, (2 * n + 5) * sizeof(size_t));
    p = mlen < 0 ? NULL : ngx_pnalloc(pool, (size_t)(mlen + plen));
    if (p == NULL || a == NULL || l == NULL) {
        return NGX_ERROR;
    }

    a[0] = "FCALL_RO";
    l[0] = sizeof("FCALL_RO") - 1;
    a[1] = "es_records";
    l[1] = sizeof("es_records") - 1;
    a[2] = "1";
    l[2] = 1;
    ngx_memcpy(p, buf, (size_t)mlen);
    a[3] = (const char *)p;
    l[3] = (size_t)mlen;
    ngx_memcpy(p + mlen, prefix, (size_t)plen);
    a[4] = (const char *)p + mlen;
    l[4] = (size_t)plen;

    /* ids and hours point into the caller's memory, which outlives the
       command (the pipeline copies the arguments when it is queued) */
    for (i = 0; i < n; i++) {
        if (lens[i] > ES_REQ_ID_MAX) {
            return NGX_ERROR;
        }
        a[5 + 2 * i] = (const char *)ids + i * stride;
        l[5 + 2 * i] = lens[i];
        a[6 + 2 * i] = (const char *)hours + 10 * i;
        l[6 + 2 * i] = 10;
    }

    *argc = (int)(2 * n + 5);
    *argv = a;
    *argvlen = l;
    return NGX_OK;
}

void ngx_http_echostream_api_hour(int64_t ms, u_char *out)
{
    char hour[11];

    es_time_hour(ms, hour);
    ngx_memcpy(out, hour, 10);
}

ngx_int_t ngx_http_echostream_api_recent_cmd(
    ngx_http_echostream_api_ctx_t *ctx, ngx_http_echostream_redis_cmd_t *cmd,
    ngx_str_t *topic, const char *label, ngx_str_t *min, ngx_str_t *max,
    ngx_uint_t offset, ngx_uint_t count, int desc)
{
    char prefix[ES_JWT_TENANT_MAX + sizeof("es:{t:}:")], buf[512];
    const char **a;
    size_t *l;
    u_char *p, *q;
    int plen, mlen;

    plen = es_tenant_prefix(prefix, sizeof(prefix), (const char *)ctx->tenant);
    mlen = plen < 0 ? -1
                    : es_tenant_key_p(buf, sizeof(buf), prefix, (size_t)plen,
                                      ES_TK_META);
    a = ngx_palloc(ctx->r->pool, 12 * sizeof(char *));
    l = ngx_palloc(ctx->r->pool, 12 * sizeof(size_t));
    p = mlen < 0 ? NULL
                 : ngx_pnalloc(ctx->r->pool, (size_t)(mlen + plen) +
                                                 topic->len + min->len +
                                                 max->len + 2 * NGX_INT_T_LEN);
    if (p == NULL || a == NULL || l == NULL) {
        return NGX_ERROR;
    }

    a[0] = "FCALL_RO";
    a[1] = "es_recent";
    a[2] = "1";
    q = p;
    a[3] = (const char *)q;
    q = ngx_cpymem(q, buf, (size_t)mlen);
    a[4] = (const char *)q;
    q = ngx_cpymem(q, prefix, (size_t)plen);
    a[5] = (const char *)q;
    q = ngx_cpymem(q, topic->data, topic->len);
    a[6] = label ? label : "";
    a[7] = (const char *)q;
    q = ngx_cpymem(q, min->data, min->len);
    a[8] = (const char *)q;
    q = ngx_cpymem(q, max->data, max->len);
    a[9] = (const char *)q;
    q = ngx_sprintf(q, "%ui", offset);
    a[10] = (const char *)q;
    q = ngx_sprintf(q, "%ui", count);
    a[11] = desc ? "desc" : "asc";

    l[0] = sizeof("FCALL_RO") - 1;
    l[1] = sizeof("es_recent") - 1;
    l[2] = 1;
    l[3] = (size_t)mlen;
    l[4] = (size_t)plen;
    l[5] = topic->len;
    l[6] = ngx_strlen(a[6]);
    l[7] = min->len;
    l[8] = max->len;
    l[9] = (size_t)((const u_char *)a[10] - (const u_char *)a[9]);
    l[10] = (size_t)(q - (const u_char *)a[10]);
    l[11] = ngx_strlen(a[11]);

    cmd->argc = 12;
    cmd->argv = a;
    cmd->argvlen = l;
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
