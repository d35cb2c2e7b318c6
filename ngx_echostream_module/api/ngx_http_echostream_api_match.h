/*
 * ngx_http_echostream_api_match.h - the route of a request (api_match.c),
 * for the content handler.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_API_MATCH_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_API_MATCH_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "api/ngx_http_echostream_api.h"

/*
 * Finds the route of path (below /api/v1) for r's method. NGX_OK with
 * ctx->route, ctx->route_index and the path parameters set; NGX_DECLINED
 * when none matches, *allow then holds the methods of routes whose pattern
 * matches (for 405), or 0 (404).
 */
ngx_int_t ngx_http_echostream_api_match(ngx_http_echostream_api_ctx_t *ctx,
                                        ngx_str_t *path, ngx_uint_t *allow);

#endif /* _NGX_HTTP_ECHOSTREAM_API_MATCH_H_INCLUDED_ */
