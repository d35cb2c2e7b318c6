/*
 * ngx_http_echostream_auth_digest.h - the SHA-256 of tokens this worker
 * has seen verify, remembered by their exact bytes (auth_digest.c), for
 * the token check of auth.c.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_AUTH_DIGEST_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_AUTH_DIGEST_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

/* Per worker: allocate / free the table (NGX_ERROR: no memory). */
ngx_int_t ngx_http_echostream_auth_digest_init(ngx_cycle_t *cycle);
void ngx_http_echostream_auth_digest_free(void);

/* 1 and the token's SHA-256 in key when the exact token is remembered. */
ngx_uint_t ngx_http_echostream_auth_digest_get(const ngx_str_t *token,
                                               u_char *key);

/* Remembers a verified token's SHA-256 (replacing its slot's token). */
void ngx_http_echostream_auth_digest_put(const ngx_str_t *token,
                                         const u_char *key);

#endif /* _NGX_HTTP_ECHOSTREAM_AUTH_DIGEST_H_INCLUDED_ */
