/*
 * ngx_http_echostream_comment_json.h - the API's comment object, built from
 * the per-comment record the enrich worker stores (es:{t:T}:c:<id>, see
 * docs/redis-keys.md).
 *
 * /comments, /stream and /export.csv all show the same object, so the
 * mapping from the record (and its checks: Redis content is never trusted)
 * lives here once.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_COMMENT_JSON_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_COMMENT_JSON_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

/*
 * Returns a new reference to the comment object
 *
 *   {"id","created":"…Z","subreddit","author","body","permalink",
 *    "link_title","score","sentiment":{"label","compound","pos","neg",
 *    "neu"},"engine","topics":[…]}
 *
 * built from record (len bytes of JSON, need not be NUL-terminated), or
 * NULL when there is nothing to show: a tombstone ({"deleted":true}), a
 * missing record (record NULL) or a malformed one. The caller skips the
 * comment (and logs a malformed one: see _ex).
 */
json_t *ngx_http_echostream_comment_json(const char *record, size_t len);

/*
 * The same; on NULL, *why is NULL for a tombstone or a missing record and
 * a static text saying what is wrong for a malformed one (for the log).
 */
json_t *ngx_http_echostream_comment_json_ex(const char *record, size_t len,
                                            const char **why);

#endif /* _NGX_HTTP_ECHOSTREAM_COMMENT_JSON_H_INCLUDED_ */
