/*
 * ngx_http_echostream_directives.h - the handlers of the module's own
 * directives (ngx_http_echostream_module.c), for the one command table
 * of ngx_http_echostream_directives.c. The token and rate-limit
 * directives' handlers are in ngx_http_echostream_auth_conf.h.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_DIRECTIVES_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_DIRECTIVES_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

/* the table itself, for the module definition */
extern ngx_command_t ngx_http_echostream_commands[];

char *ngx_http_echostream_conf_redis(ngx_conf_t *cf, ngx_command_t *cmd,
                                     void *conf);
char *ngx_http_echostream_conf_redis_timeout(ngx_conf_t *cf, ngx_command_t *cmd,
                                             void *conf);
char *ngx_http_echostream_conf_expect_workers(ngx_conf_t *cf,
                                              ngx_command_t *cmd, void *conf);
char *ngx_http_echostream_conf_healthz(ngx_conf_t *cf, ngx_command_t *cmd,
                                       void *conf);
char *ngx_http_echostream_conf_livez(ngx_conf_t *cf, ngx_command_t *cmd,
                                     void *conf);
char *ngx_http_echostream_conf_readyz(ngx_conf_t *cf, ngx_command_t *cmd,
                                      void *conf);
char *ngx_http_echostream_conf_healthz_token(ngx_conf_t *cf, ngx_command_t *cmd,
                                             void *conf);
char *ngx_http_echostream_conf_api(ngx_conf_t *cf, ngx_command_t *cmd,
                                   void *conf);
char *ngx_http_echostream_conf_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
                                       void *conf);
char *ngx_http_echostream_conf_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd,
                                            void *conf);
char *ngx_http_echostream_conf_series_cache(ngx_conf_t *cf, ngx_command_t *cmd,
                                            void *conf);
char *ngx_http_echostream_conf_mail_secret(ngx_conf_t *cf, ngx_command_t *cmd,
                                           void *conf);
char *ngx_http_echostream_conf_prices(ngx_conf_t *cf, ngx_command_t *cmd,
                                      void *conf);

#endif /* _NGX_HTTP_ECHOSTREAM_DIRECTIVES_H_INCLUDED_ */
