/*
 * ngx_http_echostream_variables.c - the module's nginx variables, for
 * log_format (and anything else that reads variables):
 *
 *   $echostream_tenant  the tenant of the verified token's principal;
 *                       empty without a token, for a user without a
 *                       tenant, outside the API
 *   $echostream_route   the name of the matched row of the route table
 *                       ("topics.series", the metrics' route label);
 *                       empty when no route matched, outside the API
 *
 * Both read the API's request context (ngx_http_echostream_api.h), which
 * holds only validated values: a tenant id is [A-Za-z0-9_-] and a route
 * name comes from the table, so neither can forge a log line. Registered
 * in preconfiguration, so they exist before any log_format names them.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"
#include "core/ngx_http_echostream_module.h"

static ngx_int_t ngx_http_echostream_variable_tenant(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_echostream_variable_route(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_echostream_variable_set(ngx_http_variable_value_t *v,
                                             u_char *data, size_t len);

static ngx_http_variable_t ngx_http_echostream_vars[] = {
    {ngx_string("echostream_tenant"), NULL, ngx_http_echostream_variable_tenant,
     0, NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("echostream_route"), NULL, ngx_http_echostream_variable_route,
     0, NGX_HTTP_VAR_NOCACHEABLE, 0},
    ngx_http_null_variable};

ngx_int_t ngx_http_echostream_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t *var, *v;

    for (v = ngx_http_echostream_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}

static ngx_int_t ngx_http_echostream_variable_tenant(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_echostream_api_ctx_t *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_echostream_module);

    if (ctx == NULL || ctx->tenant_len == 0) {
        ngx_http_echostream_variable_set(v, NULL, 0);
    } else {
        ngx_http_echostream_variable_set(v, ctx->tenant, ctx->tenant_len);
    }

    return NGX_OK;
}

static ngx_int_t
ngx_http_echostream_variable_route(ngx_http_request_t *r,
                                   ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_echostream_api_ctx_t *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_echostream_module);

    if (ctx == NULL || ctx->route == NULL) {
        ngx_http_echostream_variable_set(v, NULL, 0);
    } else {
        ngx_http_echostream_variable_set(v, (u_char *)ctx->route->name,
                                         ngx_strlen(ctx->route->name));
    }

    return NGX_OK;
}

/*
 * No value is "not found": empty wherever a variable is read, and "-" in
 * an access log line, as nginx's own variables are.
 */
static void ngx_http_echostream_variable_set(ngx_http_variable_value_t *v,
                                             u_char *data, size_t len)
{
    v->data = data != NULL ? data : (u_char *)"";
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = data == NULL;
}
