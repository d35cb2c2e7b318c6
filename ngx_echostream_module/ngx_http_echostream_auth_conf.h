/*
 * ngx_http_echostream_auth_conf.h - the directives of token checking and
 * the per-tenant rate limit (ngx_http_echostream_auth_conf.c), kept apart
 * from the module's core directives so each file stays about one thing.
 *
 *   echostream_cognito REGION POOL_ID;   issuer(s) and JWKS of a Cognito
 *                                        user pool
 *   echostream_issuer URL;               or: one exact issuer …
 *   echostream_jwks_uri URL;             … and its JWKS (default
 *                                        URL/.well-known/jwks.json)
 *   echostream_client_ids ID …;          accepted app client ids
 *   echostream_token_use id|access …;    default: both
 *   echostream_jwt_leeway TIME;          clock skew, default 30s
 *   echostream_jwks_trusted_certificate FILE;  CA file for an https JWKS
 *   echostream_jwks_timeout TIME;        default 5s
 *   echostream_jwks_refresh TIME;        default 1h, 0 = never
 *   echostream_jwks_penalty TIME;        after a fetch, unknown kids wait
 *                                        this long for the next; 10s
 *   echostream_token_cache N;            verified tokens kept per worker,
 *                                        default 10000
 *   echostream_membership_ttl TIME;      how long a worker trusts a
 *                                        user's tenant and role, default 1s
 *                                        (at most 1s: a removal must hold
 *                                        everywhere within a second)
 *   echostream_tenant_claim on|off;      the token's custom:tenant_id names
 *                                        the tenant (operators who
 *                                        provision tenants in the identity
 *                                        provider), default off
 *   echostream_invite_verified_email on|off;  invites need a verified
 *                                        e-mail claim, default on
 *   echostream_invite_ttl TIME;          how long an invite stays valid,
 *                                        default 7d
 *   echostream_rate_limit RATE [burst=N] [zone=SIZE];  per tenant, e.g.
 *                                        20r/s burst=40; default off
 *
 * All are http-level (main) settings: one identity provider per nginx.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_AUTH_CONF_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_AUTH_CONF_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_echostream_module.h"

#define NGX_HTTP_ECHOSTREAM_TOKEN_USE_ID     1
#define NGX_HTTP_ECHOSTREAM_TOKEN_USE_ACCESS 2

char *ngx_http_echostream_conf_cognito(ngx_conf_t *cf, ngx_command_t *cmd,
                                       void *conf);
char *ngx_http_echostream_conf_issuer(ngx_conf_t *cf, ngx_command_t *cmd,
                                      void *conf);
char *ngx_http_echostream_conf_strings(ngx_conf_t *cf, ngx_command_t *cmd,
                                       void *conf);
char *ngx_http_echostream_conf_token_use(ngx_conf_t *cf, ngx_command_t *cmd,
                                         void *conf);
char *ngx_http_echostream_conf_rate_limit(ngx_conf_t *cf, ngx_command_t *cmd,
                                          void *conf);

#define NGX_HTTP_ECHOSTREAM_MAIN(name, args, set, field)                       \
    {                                                                          \
        ngx_string(name), NGX_HTTP_MAIN_CONF | (args), set,                    \
            NGX_HTTP_MAIN_CONF_OFFSET,                                         \
            offsetof(ngx_http_echostream_main_conf_t, field), NULL             \
    }

#define NGX_HTTP_ECHOSTREAM_AUTH_COMMANDS                                      \
    NGX_HTTP_ECHOSTREAM_MAIN("echostream_cognito", NGX_CONF_TAKE2,             \
                             ngx_http_echostream_conf_cognito, issuers),       \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_issuer", NGX_CONF_TAKE1,          \
                                 ngx_http_echostream_conf_issuer, issuers),    \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_jwks_uri", NGX_CONF_TAKE1,        \
                                 ngx_conf_set_str_slot, jwks.uri),             \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_client_ids", NGX_CONF_1MORE,      \
                                 ngx_http_echostream_conf_strings, clients),   \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_token_use", NGX_CONF_TAKE12,      \
                                 ngx_http_echostream_conf_token_use,           \
                                 token_use),                                   \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_jwt_leeway", NGX_CONF_TAKE1,      \
                                 ngx_conf_set_sec_slot, leeway),               \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_jwks_trusted_certificate",        \
                                 NGX_CONF_TAKE1, ngx_conf_set_str_slot,        \
                                 jwks.trusted_certificate),                    \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_jwks_timeout", NGX_CONF_TAKE1,    \
                                 ngx_conf_set_msec_slot, jwks.timeout),        \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_jwks_refresh", NGX_CONF_TAKE1,    \
                                 ngx_conf_set_sec_slot, jwks.refresh),         \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_token_cache", NGX_CONF_TAKE1,     \
                                 ngx_conf_set_num_slot, token_cache_size),     \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_membership_ttl", NGX_CONF_TAKE1,  \
                                 ngx_conf_set_msec_slot, membership_ttl),      \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_invite_verified_email",           \
                                 NGX_CONF_FLAG, ngx_conf_set_flag_slot,        \
                                 invite_verified_email),                       \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_tenant_claim", NGX_CONF_FLAG,     \
                                 ngx_conf_set_flag_slot, tenant_claim),        \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_invite_ttl", NGX_CONF_TAKE1,      \
                                 ngx_conf_set_sec_slot, invite_ttl),           \
        NGX_HTTP_ECHOSTREAM_MAIN("echostream_rate_limit", NGX_CONF_TAKE123,    \
                                 ngx_http_echostream_conf_rate_limit, rate)

/* Sets every field to "unset"; called from create_main_conf. */
ngx_int_t
ngx_http_echostream_auth_create_conf(ngx_conf_t *cf,
                                     ngx_http_echostream_main_conf_t *emcf);

/*
 * Applies defaults, checks that a location with "echostream_api" has an
 * issuer and client ids, builds the token policy and prepares the JWKS
 * fetcher; called from init_main_conf.
 */
char *ngx_http_echostream_auth_init_conf(ngx_conf_t *cf,
                                         ngx_http_echostream_main_conf_t *emcf);

/* Per worker: token cache, membership cache, first JWKS fetch. */
ngx_int_t
ngx_http_echostream_auth_init_process(ngx_cycle_t *cycle,
                                      ngx_http_echostream_main_conf_t *emcf);
void ngx_http_echostream_auth_exit_process(ngx_cycle_t *cycle);

#endif /* _NGX_HTTP_ECHOSTREAM_AUTH_CONF_H_INCLUDED_ */
