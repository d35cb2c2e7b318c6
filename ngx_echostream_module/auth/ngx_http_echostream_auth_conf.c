/*
 * ngx_http_echostream_auth_conf.c - directives of token checking and of
 * the per-tenant rate limit (listed in ngx_http_echostream_auth_conf.h).
 *
 * Everything an attacker could exploit in a lax verifier is fixed here, at
 * configuration time, never taken from a token: the exact issuers, the
 * accepted client ids and token uses, the JWKS address. A configuration
 * that has an API location but no issuer or no client id fails "nginx -t",
 * because an API that accepts any audience is worse than none.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "auth/ngx_http_echostream_auth.h"
#include "auth/ngx_http_echostream_auth_conf.h"
#include "auth/ngx_http_echostream_jwks.h"
#include "core/ngx_http_echostream_module.h"
#include "auth/ngx_http_echostream_ratelimit.h"

static ngx_int_t ngx_http_echostream_conf_push(ngx_conf_t *cf,
                                               ngx_array_t **arr,
                                               ngx_str_t *value);
static ngx_int_t ngx_http_echostream_conf_token_ok(ngx_str_t *s, size_t max);

ngx_int_t
ngx_http_echostream_auth_create_conf(ngx_conf_t *cf,
                                     ngx_http_echostream_main_conf_t *emcf)
{
    emcf->issuers = NGX_CONF_UNSET_PTR;
    emcf->clients = NGX_CONF_UNSET_PTR;
    emcf->token_use = NGX_CONF_UNSET_UINT;
    emcf->leeway = NGX_CONF_UNSET;
    emcf->token_cache_size = NGX_CONF_UNSET_UINT;
    emcf->membership_ttl = NGX_CONF_UNSET_MSEC;
    emcf->invite_verified_email = NGX_CONF_UNSET;
    emcf->tenant_claim = NGX_CONF_UNSET;
    emcf->invite_ttl = NGX_CONF_UNSET;
    emcf->rate = NGX_CONF_UNSET_UINT;
    emcf->jwks.timeout = NGX_CONF_UNSET_MSEC;
    emcf->jwks.refresh = NGX_CONF_UNSET;
    emcf->jwks.penalty = NGX_CONF_UNSET;

    return NGX_OK;
}

/*
 * "echostream_cognito REGION POOL_ID": Cognito's two issuer spellings and
 * its JWKS address, all derived from two checked names.
 */
char *ngx_http_echostream_conf_cognito(ngx_conf_t *cf, ngx_command_t *cmd,
                                       void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    ngx_str_t *value, s;
    ngx_uint_t i;
    u_char *p;

    if (emcf->auth_directive != NULL) {
        return "is duplicate (or conflicts with \"echostream_issuer\")";
    }

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (!((value[1].data[i] >= 'a' && value[1].data[i] <= 'z') ||
              (value[1].data[i] >= '0' && value[1].data[i] <= '9') ||
              value[1].data[i] == '-')) {
            break;
        }
    }
    if (value[1].len == 0 || value[1].len > 32 || i < value[1].len) {
        return "has an invalid region (like \"eu-west-1\")";
    }

    /* a pool id is "<region>_<letters and digits>" */
    if (value[2].len <= value[1].len + 1 || value[2].len > 64 ||
        ngx_strncmp(value[2].data, value[1].data, value[1].len) != 0 ||
        value[2].data[value[1].len] != '_' ||
        !ngx_http_echostream_conf_token_ok(&value[2], 64)) {
        return "has an invalid user pool id (like \"eu-west-1_AbC123\")";
    }

    s.len = sizeof("https://issuer.cognito-idp..amazonaws.com/") - 1 +
            value[1].len + value[2].len + 1;
    s.data = ngx_pnalloc(cf->pool, s.len);
    if (s.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_sprintf(s.data, "https://cognito-idp.%V.amazonaws.com/%V%Z",
                    &value[1], &value[2]);
    s.len = p - s.data - 1;
    if (ngx_http_echostream_conf_push(cf, &emcf->issuers, &s) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    s.data = ngx_pnalloc(cf->pool, s.len + sizeof("issuer."));
    if (s.data == NULL) {
        return NGX_CONF_ERROR;
    }
    p = ngx_sprintf(s.data, "https://issuer.cognito-idp.%V.amazonaws.com/%V%Z",
                    &value[1], &value[2]);
    s.len = p - s.data - 1;
    if (ngx_http_echostream_conf_push(cf, &emcf->issuers, &s) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* used unless "echostream_jwks_uri" names another address */
    s.len = sizeof("https://cognito-idp..amazonaws.com//.well-known/"
                   "jwks.json") +
            value[1].len + value[2].len;
    s.data = ngx_pnalloc(cf->pool, s.len);
    if (s.data == NULL) {
        return NGX_CONF_ERROR;
    }
    p = ngx_sprintf(s.data,
                    "https://cognito-idp.%V.amazonaws.com/%V"
                    "/.well-known/jwks.json",
                    &value[1], &value[2]);
    s.len = p - s.data;
    emcf->cognito_jwks = s;

    emcf->auth_directive = "echostream_cognito";

    return NGX_CONF_OK;
}

/* "echostream_issuer URL": any OpenID provider that signs with RS256. */
char *ngx_http_echostream_conf_issuer(ngx_conf_t *cf, ngx_command_t *cmd,
                                      void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    ngx_str_t *value;

    if (emcf->auth_directive != NULL) {
        return "is duplicate (or conflicts with \"echostream_cognito\")";
    }

    value = cf->args->elts;

    if (!(ngx_strncmp(value[1].data, "https://", 8) == 0 ||
          ngx_strncmp(value[1].data, "http://", 7) == 0) ||
        !ngx_http_echostream_conf_token_ok(&value[1], 512) ||
        value[1].data[value[1].len - 1] == '/') {
        return "needs an http(s) URL without a trailing slash";
    }

    if (ngx_http_echostream_conf_push(cf, &emcf->issuers, &value[1]) !=
        NGX_OK) {
        return NGX_CONF_ERROR;
    }

    emcf->auth_directive = "echostream_issuer";

    return NGX_CONF_OK;
}

/* "echostream_client_ids ID …" */
char *ngx_http_echostream_conf_strings(ngx_conf_t *cf, ngx_command_t *cmd,
                                       void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    ngx_str_t *value;
    ngx_uint_t i;

    if (emcf->clients != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts - 1 > ES_JWT_MAX_CLIENTS) {
        return "takes at most 8 client ids";
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (!ngx_http_echostream_conf_token_ok(&value[i], 128)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid client id \"%V\" in \"%V\"", &value[i],
                               &cmd->name);
            return NGX_CONF_ERROR;
        }
        if (ngx_http_echostream_conf_push(cf, &emcf->clients, &value[i]) !=
            NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}

/* "echostream_token_use id", "… access" or "… id access" */
char *ngx_http_echostream_conf_token_use(ngx_conf_t *cf, ngx_command_t *cmd,
                                         void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    ngx_str_t *value;
    ngx_uint_t i;

    if (emcf->token_use != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    emcf->token_use = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 2 && ngx_strncmp(value[i].data, "id", 2) == 0) {
            emcf->token_use |= NGX_HTTP_ECHOSTREAM_TOKEN_USE_ID;

        } else if (value[i].len == 6 &&
                   ngx_strncmp(value[i].data, "access", 6) == 0) {
            emcf->token_use |= NGX_HTTP_ECHOSTREAM_TOKEN_USE_ACCESS;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\": use id, "
                               "access or both",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}

/*
 * "echostream_rate_limit 20r/s [burst=40] [zone=2m]" (or r/m): a leaky
 * bucket per tenant in shared memory of the given size (2m by default,
 * about 16,000 tenants), so every worker counts the same requests.
 */
char *ngx_http_echostream_conf_rate_limit(ngx_conf_t *cf, ngx_command_t *cmd,
                                          void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    ngx_str_t *value, s, arg;
    ngx_int_t rate, burst, scale;
    ssize_t zone;
    ngx_uint_t i;
    u_char *p;

    if (emcf->rate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    p = value[1].data + value[1].len;
    scale = 1;

    if (value[1].len > 3 && ngx_strncmp(p - 3, "r/s", 3) == 0) {
        scale = 1;
    } else if (value[1].len > 3 && ngx_strncmp(p - 3, "r/m", 3) == 0) {
        scale = 60;
    } else {
        return "needs a rate like \"20r/s\" or \"600r/m\"";
    }

    rate = ngx_atoi(value[1].data, value[1].len - 3);
    if (rate <= 0 || rate > 1000000) {
        return "needs a rate between 1 and 1000000 requests";
    }

    burst = 0;
    zone = 2 * 1024 * 1024;
    for (i = 2; i < cf->args->nelts; i++) {
        if (value[i].len > 6 && ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            burst = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (burst < 0 || burst > 1000000) {
                return "needs a burst between 0 and 1000000";
            }

        } else if (value[i].len > 5 &&
                   ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            arg.data = value[i].data + 5;
            arg.len = value[i].len - 5;
            zone = ngx_parse_size(&arg);
            /* nginx's slab allocator needs 8 pages to start */
            if (zone < (ssize_t)(8 * ngx_pagesize) ||
                zone > 1024 * 1024 * 1024) {
                return "needs a zone size between 32k and 1g";
            }

        } else {
            return "takes \"burst=N\" and \"zone=SIZE\" after the rate";
        }
    }

    emcf->rate = (ngx_uint_t)(rate * 1000 / scale);
    emcf->burst = (ngx_uint_t)burst * 1000;

    ngx_str_set(&s, "echostream_rate_limit");
    emcf->rate_zone = ngx_shared_memory_add(cf, &s, (size_t)zone,
                                            &ngx_http_echostream_module);
    if (emcf->rate_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    emcf->rate_zone->init = ngx_http_echostream_ratelimit_init_zone;
    emcf->rate_zone->data = emcf;

    return NGX_CONF_OK;
}

char *ngx_http_echostream_auth_init_conf(ngx_conf_t *cf,
                                         ngx_http_echostream_main_conf_t *emcf)
{
    const char *jwks_directive;
    ngx_str_t *s, uri;
    ngx_uint_t i;
    u_char *p;
    char *rv;

    ngx_conf_init_uint_value(emcf->token_use,
                             NGX_HTTP_ECHOSTREAM_TOKEN_USE_ID |
                                 NGX_HTTP_ECHOSTREAM_TOKEN_USE_ACCESS);
    ngx_conf_init_value(emcf->leeway, 30);
    ngx_conf_init_uint_value(emcf->token_cache_size, 10000);
    ngx_conf_init_msec_value(emcf->membership_ttl, 1000);
    ngx_conf_init_value(emcf->invite_verified_email, 1);
    ngx_conf_init_value(emcf->tenant_claim, 0);
    ngx_conf_init_value(emcf->invite_ttl, 7 * 86400);

    /* a removed member loses access everywhere within a second */
    if (emcf->membership_ttl > 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_membership_ttl\" must be at most 1s");
        return NGX_CONF_ERROR;
    }

    if (emcf->invite_ttl < 1 || emcf->invite_ttl > 90 * 86400) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_invite_ttl\" must be from 1s to 90d");
        return NGX_CONF_ERROR;
    }
    ngx_conf_init_msec_value(emcf->jwks.timeout, 5000);
    ngx_conf_init_value(emcf->jwks.refresh, 3600);
    ngx_conf_init_value(emcf->jwks.penalty, 10);
    if (emcf->jwks.timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_jwks_timeout\" must be more than 0");
        return NGX_CONF_ERROR;
    }

    if (emcf->issuers == NGX_CONF_UNSET_PTR) {
        emcf->issuers = NULL;
    }
    if (emcf->clients == NGX_CONF_UNSET_PTR) {
        emcf->clients = NULL;
    }
    if (emcf->rate == NGX_CONF_UNSET_UINT) {
        emcf->rate = 0;
    }

    if (emcf->leeway < 0 || emcf->leeway > 300) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_jwt_leeway\" must be at most 300s");
        return NGX_CONF_ERROR;
    }

    if (emcf->token_cache_size == 0 || emcf->token_cache_size > 10000000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_token_cache\" must be between 1 "
                           "and 10000000");
        return NGX_CONF_ERROR;
    }

    if (!emcf->api_used) {
        return NGX_CONF_OK;
    }

    if (emcf->issuers == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_api\" needs \"echostream_cognito\" "
                           "or \"echostream_issuer\"");
        return NGX_CONF_ERROR;
    }

    if (emcf->clients == NULL) {
        ngx_conf_log_error(
            NGX_LOG_EMERG, cf, 0,
            "\"echostream_api\" needs \"echostream_client_ids\"");
        return NGX_CONF_ERROR;
    }

    /* an error about the JWKS address names the directive that gave it */
    jwks_directive = emcf->jwks.uri.data != NULL
                         ? "echostream_jwks_uri"
                         : (emcf->auth_directive ? emcf->auth_directive
                                                 : "echostream_jwks_uri");

    if (emcf->jwks.uri.data == NULL && emcf->cognito_jwks.data != NULL) {
        emcf->jwks.uri = emcf->cognito_jwks;
    }

    /* an issuer without a JWKS address serves it at the standard place */
    if (emcf->jwks.uri.data == NULL) {
        s = emcf->issuers->elts;
        uri.len = s[0].len + sizeof("/.well-known/jwks.json") - 1;
        uri.data = ngx_pnalloc(cf->pool, uri.len);
        if (uri.data == NULL) {
            return NGX_CONF_ERROR;
        }
        p = ngx_sprintf(uri.data, "%V/.well-known/jwks.json", &s[0]);
        uri.len = p - uri.data;
        emcf->jwks.uri = uri;
    }

    if (emcf->jwks.trusted_certificate.data == NULL) {
        ngx_str_set(&emcf->jwks.trusted_certificate,
                    NGX_HTTP_ECHOSTREAM_JWKS_DEFAULT_CA);
    }

    rv = ngx_http_echostream_jwks_init_conf(cf, &emcf->jwks, jwks_directive);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    ngx_memzero(&emcf->policy, sizeof(es_jwt_policy));

    s = emcf->issuers->elts;
    for (i = 0; i < emcf->issuers->nelts && i < ES_JWT_MAX_ISSUERS; i++) {
        emcf->policy.issuers[i] = (const char *)s[i].data;
    }
    emcf->policy.n_issuers = i;

    s = emcf->clients->elts;
    for (i = 0; i < emcf->clients->nelts && i < ES_JWT_MAX_CLIENTS; i++) {
        emcf->policy.clients[i] = (const char *)s[i].data;
    }
    emcf->policy.n_clients = i;

    emcf->policy.accept_id =
        (emcf->token_use & NGX_HTTP_ECHOSTREAM_TOKEN_USE_ID) != 0;
    emcf->policy.accept_access =
        (emcf->token_use & NGX_HTTP_ECHOSTREAM_TOKEN_USE_ACCESS) != 0;
    emcf->policy.leeway_s = emcf->leeway;

    return NGX_CONF_OK;
}

/* Appends a NUL-terminated copy of value to *arr (created on first use). */
static ngx_int_t ngx_http_echostream_conf_push(ngx_conf_t *cf,
                                               ngx_array_t **arr,
                                               ngx_str_t *value)
{
    ngx_str_t *s;

    if (*arr == NGX_CONF_UNSET_PTR || *arr == NULL) {
        *arr = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (*arr == NULL) {
            return NGX_ERROR;
        }
    }

    s = ngx_array_push(*arr);
    if (s == NULL) {
        return NGX_ERROR;
    }

    s->len = value->len;
    s->data = ngx_pnalloc(cf->pool, value->len + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }
    ngx_cpystrn(s->data, value->data, value->len + 1);

    return NGX_OK;
}

/* 1 when s is 1..max printable ASCII bytes without spaces or quotes. */
static ngx_int_t ngx_http_echostream_conf_token_ok(ngx_str_t *s, size_t max)
{
    size_t i;

    if (s->len == 0 || s->len > max) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] <= ' ' || s->data[i] >= 0x7f || s->data[i] == '"' ||
            s->data[i] == '\\') {
            return 0;
        }
    }

    return 1;
}

ngx_int_t
ngx_http_echostream_auth_init_process(ngx_cycle_t *cycle,
                                      ngx_http_echostream_main_conf_t *emcf)
{
    if (ngx_http_echostream_auth_cache_init(cycle, emcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_echostream_jwks_init_process(cycle, &emcf->jwks);
}

void ngx_http_echostream_auth_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_echostream_jwks_exit_process(cycle);
    ngx_http_echostream_auth_cache_free();
}
