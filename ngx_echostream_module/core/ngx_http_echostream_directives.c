/*
 * ngx_http_echostream_directives.c - every directive of the module, in
 * one table.
 *
 * This table is the one place a directive exists: its name, where it may
 * appear, how many arguments it takes and which field or handler takes
 * them. What each means, its default and the checks nginx -t makes are in
 * docs/module.md (a test compares the two in both directions); defaults
 * are applied only when the configuration is finished
 * (ngx_http_echostream_module.c, ngx_http_echostream_auth_conf.c).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "auth/ngx_http_echostream_auth_conf.h"
#include "core/ngx_http_echostream_directives.h"
#include "core/ngx_http_echostream_module.h"

#define ANY  (NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF)
#define MAIN NGX_HTTP_MAIN_CONF
#define LOC  NGX_HTTP_LOC_CONF

/* a directive of the main (http) configuration */
#define M(name, args, set, field)                                              \
    {                                                                          \
        ngx_string(name), MAIN | (args), set, NGX_HTTP_MAIN_CONF_OFFSET,       \
            offsetof(ngx_http_echostream_main_conf_t, field), NULL             \
    }

/* a directive of locations (and, with ANY, of http and server blocks) */
#define L(name, where, args, set, field)                                       \
    {                                                                          \
        ngx_string(name), (where) | (args), set, NGX_HTTP_LOC_CONF_OFFSET,     \
            offsetof(ngx_http_echostream_loc_conf_t, field), NULL              \
    }

/* a directive whose handler finds its own place */
#define H(name, where, args, set, offset)                                      \
    {                                                                          \
        ngx_string(name), (where) | (args), set, offset, 0, NULL               \
    }

ngx_command_t ngx_http_echostream_commands[] = {

    /* Redis and health */
    H("echostream_redis", MAIN, NGX_CONF_TAKE1, ngx_http_echostream_conf_redis,
      NGX_HTTP_MAIN_CONF_OFFSET),
    H("echostream_redis_timeout", ANY, NGX_CONF_TAKE1,
      ngx_http_echostream_conf_redis_timeout, NGX_HTTP_LOC_CONF_OFFSET),
    H("echostream_expect_workers", ANY, NGX_CONF_1MORE,
      ngx_http_echostream_conf_expect_workers, NGX_HTTP_LOC_CONF_OFFSET),
    H("echostream_healthz", LOC, NGX_CONF_NOARGS,
      ngx_http_echostream_conf_healthz, NGX_HTTP_LOC_CONF_OFFSET),
    L("echostream_healthz_loopback", ANY, NGX_CONF_FLAG, ngx_conf_set_flag_slot,
      healthz_loopback),
    H("echostream_healthz_token_file", ANY, NGX_CONF_TAKE1,
      ngx_http_echostream_conf_healthz_token, NGX_HTTP_LOC_CONF_OFFSET),
    H("echostream_livez", LOC, NGX_CONF_NOARGS, ngx_http_echostream_conf_livez,
      NGX_HTTP_LOC_CONF_OFFSET),
    H("echostream_readyz", LOC, NGX_CONF_NOARGS,
      ngx_http_echostream_conf_readyz, NGX_HTTP_LOC_CONF_OFFSET),

    /* the API and its answers */
    H("echostream_api", LOC, NGX_CONF_NOARGS, ngx_http_echostream_conf_api,
      NGX_HTTP_LOC_CONF_OFFSET),
    H("echostream_metrics", LOC, NGX_CONF_NOARGS,
      ngx_http_echostream_conf_metrics, NGX_HTTP_LOC_CONF_OFFSET),
    L("echostream_api_max_body", ANY, NGX_CONF_TAKE1, ngx_conf_set_size_slot,
      max_body),
    H("echostream_cors_origins", ANY, NGX_CONF_1MORE,
      ngx_http_echostream_conf_cors_origins, NGX_HTTP_LOC_CONF_OFFSET),
    H("echostream_series_cache", MAIN, NGX_CONF_TAKE12,
      ngx_http_echostream_conf_series_cache, NGX_HTTP_MAIN_CONF_OFFSET),
    M("echostream_comprehend_budget_max", NGX_CONF_TAKE1, ngx_conf_set_num_slot,
      comprehend_budget_max),
    M("echostream_bedrock_budget_max", NGX_CONF_TAKE1, ngx_conf_set_num_slot,
      bedrock_budget_max),
    M("echostream_mail_secret_file", NGX_CONF_TAKE1,
      ngx_http_echostream_conf_mail_secret, mail_secret),
    M("echostream_prices", NGX_CONF_TAKE123, ngx_http_echostream_conf_prices,
      prices_set),

    /* the identity provider and its signing keys */
    M("echostream_cognito", NGX_CONF_TAKE2, ngx_http_echostream_conf_cognito,
      issuers),
    M("echostream_issuer", NGX_CONF_TAKE1, ngx_http_echostream_conf_issuer,
      issuers),
    M("echostream_jwks_uri", NGX_CONF_TAKE1, ngx_conf_set_str_slot, jwks.uri),
    M("echostream_client_ids", NGX_CONF_1MORE, ngx_http_echostream_conf_strings,
      clients),
    M("echostream_token_use", NGX_CONF_TAKE12,
      ngx_http_echostream_conf_token_use, token_use),
    M("echostream_jwt_leeway", NGX_CONF_TAKE1, ngx_conf_set_sec_slot, leeway),
    M("echostream_jwks_trusted_certificate", NGX_CONF_TAKE1,
      ngx_conf_set_str_slot, jwks.trusted_certificate),
    M("echostream_jwks_timeout", NGX_CONF_TAKE1, ngx_conf_set_msec_slot,
      jwks.timeout),
    M("echostream_jwks_refresh", NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
      jwks.refresh),
    M("echostream_jwks_penalty", NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
      jwks.penalty),
    M("echostream_token_cache", NGX_CONF_TAKE1, ngx_conf_set_num_slot,
      token_cache_size),

    /* tenancy */
    M("echostream_membership_ttl", NGX_CONF_TAKE1, ngx_conf_set_msec_slot,
      membership_ttl),
    M("echostream_tenant_claim", NGX_CONF_FLAG, ngx_conf_set_flag_slot,
      tenant_claim),
    M("echostream_invite_verified_email", NGX_CONF_FLAG, ngx_conf_set_flag_slot,
      invite_verified_email),
    M("echostream_invite_ttl", NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
      invite_ttl),
    M("echostream_rate_limit", NGX_CONF_TAKE123,
      ngx_http_echostream_conf_rate_limit, rate),

    ngx_null_command};
