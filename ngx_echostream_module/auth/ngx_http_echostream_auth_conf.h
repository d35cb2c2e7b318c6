/*
 * ngx_http_echostream_auth_conf.h - the directives of token checking and
 * the per-tenant rate limit (ngx_http_echostream_auth_conf.c), kept apart
 * from the module's core directives so each file stays about one thing.
 *
 * They are registered with the others in ngx_http_echostream_directives.c
 * and documented in docs/module.md.
 *
 * All are http-level (main) settings: one identity provider per nginx.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_AUTH_CONF_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_AUTH_CONF_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/ngx_http_echostream_module.h"

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
