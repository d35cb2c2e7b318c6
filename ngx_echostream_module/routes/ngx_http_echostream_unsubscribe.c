/*
 * ngx_http_echostream_unsubscribe.c - /unsubscribe: the link in every
 * digest and alert mail, which stops that kind of mail for that member
 * without signing in.
 *
 *   GET  /api/v1/unsubscribe?t=<tenant>&s=<sub>&l=<digest|alerts>&sig=<hex>
 *        a small page asking to confirm, with a button that POSTs to the
 *        same link (a mail scanner that follows links changes nothing);
 *   POST the same link, body List-Unsubscribe=One-Click (RFC 8058: what a
 *        mail client's own unsubscribe button sends; the page's button
 *        sends it too, and an empty body is taken as well) turns the
 *        member's opt-in off (digest, or alert_email) with
 *        es_member_optins, and answers 200 text/plain.
 *
 * No token: the signature is the proof (lib/es_unsub.h: HMAC-SHA256 with
 * the secret of echostream_mail_secret_file, read when the configuration
 * is; without it the route answers 503 not_configured). It is checked in
 * constant time before anything else is done, and a bad or missing one is
 * 403. A tenant or member that does not exist (any more) gets the same
 * 200 as one that does, so the link answers no question about who is a
 * member of what. The route is rate-limited per client address
 * (ROLE_PUBLIC in api.c).
 *
 * The signature never reaches a log: once read, its characters in the
 * request line and the query (what nginx's error and access logs print)
 * are overwritten with '*'. The page is built from fixed text and the
 * link's checked parts, escaped for a URL and then for HTML, and served
 * with a Content-Security-Policy of default-src 'none': no script, no
 * style, no resource from anywhere, and it cannot be framed.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_unsub.h"
#include "es_unsub.h"
#include "core/ngx_http_echostream_module.h"
#include "routes/ngx_http_echostream_routes.h"
#include "api/ngx_http_echostream_tenant_util.h"

static es_req_unsub_args *
ngx_http_echostream_unsub_start(ngx_http_echostream_api_ctx_t *ctx);
static void ngx_http_echostream_unsub_mask(ngx_str_t *s);
static void
ngx_http_echostream_unsub_done(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res);
static u_char *
ngx_http_echostream_unsub_link(ngx_http_echostream_api_ctx_t *ctx,
                               es_req_unsub_args *a);
static void ngx_http_echostream_unsub_send(ngx_http_echostream_api_ctx_t *ctx,
                                           const char *type, u_char *body,
                                           size_t len);

/* what each list is, in the page and the answer */
#define NGX_HTTP_ECHOSTREAM_UNSUB_WHAT(a)                                      \
    (ngx_strcmp((a)->list, "digest") == 0 ? "the daily digest"                 \
                                          : "alert e-mails")

NGX_HTTP_ECHOSTREAM_ROUTE(unsubscribe_page)
{
    static const char head[] =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        "<title>Unsubscribe - EchoStream</title>\n</head>\n<body>\n"
        "<h1>Unsubscribe</h1>\n<p>Stop sending ";
    static const char mid[] = " from EchoStream to this address?</p>\n"
                              "<form method=\"post\" action=\"";
    static const char tail[] =
        "\">\n<input type=\"hidden\" name=\"List-Unsubscribe\" "
        "value=\"One-Click\">\n<button type=\"submit\">Unsubscribe</button>\n"
        "</form>\n</body>\n</html>\n";
    es_req_unsub_args *a;
    const char *what;
    u_char *link, *page, *p;
    size_t len;

    a = ngx_http_echostream_unsub_start(ctx);
    if (a == NULL) {
        return;
    }

    link = ngx_http_echostream_unsub_link(ctx, a);
    if (link == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    what = NGX_HTTP_ECHOSTREAM_UNSUB_WHAT(a);
    len = sizeof(head) - 1 + ngx_strlen(what) + sizeof(mid) - 1 +
          ngx_strlen(link) + sizeof(tail) - 1;

    page = ngx_pnalloc(ctx->r->pool, len);
    if (page == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }

    p = ngx_cpymem(page, head, sizeof(head) - 1);
    p = ngx_cpymem(p, what, ngx_strlen(what));
    p = ngx_cpymem(p, mid, sizeof(mid) - 1);
    p = ngx_cpymem(p, link, ngx_strlen(link));
    p = ngx_cpymem(p, tail, sizeof(tail) - 1);

    ngx_http_echostream_unsub_send(ctx, "text/html; charset=utf-8", page,
                                   p - page);
}

NGX_HTTP_ECHOSTREAM_ROUTE(unsubscribe)
{
    ngx_table_elt_t *ct;
    es_req_unsub_args *a;
    const char *argv[7];
    es_req_err err;
    ngx_str_t key;
    u_char *k;
    int n;

    a = ngx_http_echostream_unsub_start(ctx);
    if (a == NULL) {
        return;
    }

    ct = ctx->r->headers_in.content_type;
    if (es_req_unsub_body(ct ? (const char *)ct->value.data : NULL,
                          ct ? ct->value.len : 0, (const char *)ctx->raw.data,
                          ctx->raw.len, &err) != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return;
    }

    /* the link's tenant, not the caller's (there is none): checked above */
    k = ngx_pnalloc(ctx->r->pool, 512);
    if (k == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }
    n = es_tenant_key((char *)k, 512, a->tenant, ES_TK_MEMBERS);
    if (n < 0) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }
    key.data = k;
    key.len = (size_t)n;

    argv[0] = "FCALL";
    argv[1] = "es_member_optins";
    argv[2] = "1";
    argv[3] = (const char *)key.data;
    argv[4] = a->sub;
    argv[5] = ngx_strcmp(a->member, "digest") == 0 ? "0" : "";
    argv[6] = ngx_strcmp(a->member, "alert_email") == 0 ? "0" : "";

    ctx->data = a;
    ngx_http_echostream_cmd(ctx, ngx_http_echostream_unsub_done, 7, argv);
}

static void
ngx_http_echostream_unsub_done(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_redis_result_t *res)
{
    static const char done[] = "You are unsubscribed: EchoStream sends no "
                               "more %s to this address.\n";
    es_req_unsub_args *a = ctx->data;
    u_char *text, *p;
    size_t len;

    /* no such tenant or member: the same answer (nothing to do) */
    if (res->replies == NULL ||
        ngx_http_echostream_fn_error(res->replies[0], "NOTFOUND") == NULL) {
        if (ngx_http_echostream_api_redis_failed(ctx, res)) {
            return;
        }
    }

    len = sizeof(done) + 32;
    text = ngx_pnalloc(ctx->r->pool, len);
    if (text == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return;
    }
    p = ngx_snprintf(text, len, done, NGX_HTTP_ECHOSTREAM_UNSUB_WHAT(a));

    ngx_http_echostream_unsub_send(ctx, "text/plain; charset=utf-8", text,
                                   p - text);
}

/*
 * What both methods check first: the secret is configured, the link's
 * parts have their shapes, and the signature is the link's (then masked
 * in what the logs print). The parsed link in pool memory, or NULL when
 * the request was answered.
 */
static es_req_unsub_args *
ngx_http_echostream_unsub_start(ngx_http_echostream_api_ctx_t *ctx)
{
    ngx_http_echostream_main_conf_t *emcf;
    ngx_http_request_t *r = ctx->r;
    es_req_unsub_args *a;
    es_req_err err;
    int rc;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_echostream_module);

    if (emcf->mail_secret.len == 0) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "not_configured",
                                      "unsubscribe links are not configured "
                                      "on this server");
        return NULL;
    }

    a = ngx_palloc(r->pool, sizeof(es_req_unsub_args));
    if (a == NULL) {
        ngx_http_echostream_no_memory(ctx);
        return NULL;
    }

    rc = es_req_unsub_read((const char *)r->args.data, r->args.len, a, &err);

    /* from here on no log line carries the signature */
    ngx_http_echostream_unsub_mask(&r->request_line);
    ngx_http_echostream_unsub_mask(&r->unparsed_uri);
    ngx_http_echostream_unsub_mask(&r->args);

    if (rc != 0) {
        ngx_http_echostream_api_req_error(ctx, &err);
        return NULL;
    }

    if (!es_unsub_verify(emcf->mail_secret.data, emcf->mail_secret.len,
                         a->tenant, a->sub, a->list, a->sig)) {
        ngx_http_echostream_api_error(ctx, NGX_HTTP_FORBIDDEN,
                                      "invalid_signature",
                                      "this unsubscribe link is not valid");
        return NULL;
    }

    return a;
}

/*
 * Overwrites the value of every "sig" argument in s (a request line, URI
 * or query string) with '*', in place: the name is matched as es_req_arg
 * matches it (any case) after '?' or '&'.
 */
static void ngx_http_echostream_unsub_mask(ngx_str_t *s)
{
    u_char *p, *end;

    if (s->data == NULL) {
        return;
    }

    end = s->data + s->len;
    for (p = s->data; p + 4 <= end; p++) {
        if ((p == s->data || p[-1] == '?' || p[-1] == '&') &&
            ngx_strncasecmp(p, (u_char *)"sig=", 4) == 0) {
            for (p += 4; p < end && *p != '&' && *p != ' ' && *p != '#'; p++) {
                *p = '*';
            }
            if (p == end) {
                break;
            }
        }
    }
}

/*
 * The page's form action: "?t=…&s=…&l=…&sig=…" (the same link, relative
 * to the page), each part escaped for a query and the whole for an HTML
 * attribute; NUL-terminated in pool memory, or NULL.
 */
static u_char *
ngx_http_echostream_unsub_link(ngx_http_echostream_api_ctx_t *ctx,
                               es_req_unsub_args *a)
{
    const char *parts[4], *names[4] = {"?t=", "&s=", "&l=", "&sig="};
    u_char *query, *html, *p;
    size_t len, i;

    parts[0] = a->tenant;
    parts[1] = a->sub;
    parts[2] = a->list;
    parts[3] = a->sig;

    len = 1;
    for (i = 0; i < 4; i++) {
        len += ngx_strlen(names[i]) + ngx_strlen(parts[i]) +
               2 * ngx_escape_uri(NULL, (u_char *)parts[i],
                                  ngx_strlen(parts[i]), NGX_ESCAPE_ARGS);
    }

    query = ngx_pnalloc(ctx->r->pool, len);
    if (query == NULL) {
        return NULL;
    }

    p = query;
    for (i = 0; i < 4; i++) {
        p = ngx_cpymem(p, names[i], ngx_strlen(names[i]));
        p = (u_char *)ngx_escape_uri(p, (u_char *)parts[i],
                                     ngx_strlen(parts[i]), NGX_ESCAPE_ARGS);
    }
    *p = '\0';

    len = p - query;
    html =
        ngx_pnalloc(ctx->r->pool, len + ngx_escape_html(NULL, query, len) + 1);
    if (html == NULL) {
        return NULL;
    }

    p = (u_char *)ngx_escape_html(html, query, len);
    *p = '\0';

    return html;
}

/* 200 with body[0..len) of type, and the headers a page of ours needs. */
static void ngx_http_echostream_unsub_send(ngx_http_echostream_api_ctx_t *ctx,
                                           const char *type, u_char *body,
                                           size_t len)
{
    static const struct {
        const char *name;
        ngx_str_t value;
    } headers[] = {
        {"Content-Security-Policy",
         ngx_string("default-src 'none'; form-action 'self'; "
                    "frame-ancestors 'none'; base-uri 'none'")},
        {"X-Content-Type-Options", ngx_string("nosniff")},
        {"X-Frame-Options", ngx_string("DENY")},
        {"Referrer-Policy", ngx_string("no-referrer")},
    };
    ngx_http_request_t *r = ctx->r;
    ngx_chain_t out;
    ngx_str_t v;
    ngx_buf_t *b;
    ngx_uint_t i;
    ngx_int_t rc;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL || ngx_http_echostream_api_common_headers(ctx) != NGX_OK) {
        ngx_http_echostream_api_finalize(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        v = headers[i].value;
        if (ngx_http_echostream_api_add_header(r, headers[i].name, &v) !=
            NGX_OK) {
            ngx_http_echostream_api_finalize(ctx,
                                             NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type.data = (u_char *)type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    ctx->status = NGX_HTTP_OK;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_echostream_api_finalize(ctx, rc);
        return;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_echostream_api_finalize(ctx, ngx_http_output_filter(r, &out));
}
