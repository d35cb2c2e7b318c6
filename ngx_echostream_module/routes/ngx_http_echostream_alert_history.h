/*
 * ngx_http_echostream_alert_history.h - the history of a tenant's alerts
 * as the API shows it (GET /alerts/history, and the newest events in
 * GET /alerts).
 */

#ifndef _NGX_HTTP_ECHOSTREAM_ALERT_HISTORY_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_ALERT_HISTORY_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "es_req_history.h"
#include "api/ngx_http_echostream_api.h"

/* events in GET /alerts, and the default page of GET /alerts/history */
#define NGX_HTTP_ECHOSTREAM_HISTORY_OVERVIEW ES_REQ_HISTORY_LIMIT

/* a number macro as the string of its digits, for a command argument */
#define NGX_HTTP_ECHOSTREAM_STR_(x) #x
#define NGX_HTTP_ECHOSTREAM_STR(x)  NGX_HTTP_ECHOSTREAM_STR_(x)

/*
 * The first limit events of an XREVRANGE reply of es:{t:<tenant>}:alerts:
 * history (borrowed) as a new array, newest first; NULL when memory ran
 * out. *next_cursor gets a new reference: the id of the last entry of the
 * page when more entries follow (the reply holds more than limit), else
 * null. Each event is its "event" field's JSON object with "id" set to
 * the entry id; an entry without one that parses is skipped and logged.
 */
json_t *ngx_http_echostream_history_json(ngx_http_echostream_api_ctx_t *ctx,
                                         redisReply *entries, ngx_uint_t limit,
                                         json_t **next_cursor);

#endif /* _NGX_HTTP_ECHOSTREAM_ALERT_HISTORY_H_INCLUDED_ */
