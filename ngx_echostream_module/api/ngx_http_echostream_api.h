/*
 * ngx_http_echostream_api.h - the /api/v1 framework: one content handler
 * ("echostream_api") that authenticates, resolves the tenant, applies the
 * per-tenant rate limit and CORS, then dispatches to a route handler.
 *
 * A route handler runs only for a verified principal whose tenant and role
 * allow the route; it never sees the token, and every key it builds comes
 * from ctx->tenant (validated) and validated path ids. Its contract:
 *
 *   - It ends the request exactly once, with ngx_http_echostream_api_json()
 *     / _error() / _no_content(), or, when it sends its own headers and
 *     body (a body printed straight into buffers as the series route does,
 *     or a streamed one as the CSV export and /stream), with
 *     ngx_http_echostream_api_finalize(); either before it returns or from
 *     a continuation.
 *   - It reaches Redis only through ngx_http_echostream_api_redis() (or
 *     _redis_pool() for long-lived responses), whose continuation gets the
 *     replies; "Redis down" arrives there as res->replies == NULL, answered
 *     with ngx_http_echostream_api_redis_down().
 *   - Memory comes from r->pool (or a route's own page pools); jansson
 *     values are freed on every path.
 *
 * The framework keeps r->main->count balanced around every asynchronous
 * step, so handlers never touch it.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_API_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_API_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "es_jwt.h"
#include "es_keys.h"
#include "es_req.h"
#include "es_time.h"
#include "redis/ngx_http_echostream_redis.h"

#define NGX_HTTP_ECHOSTREAM_ID_MAX 64

/*
 * A principal's role in its tenant. NONE: a user without a tenant (removed,
 * or left), who may still answer invites; a route open to NONE
 * (min_role) sees an empty ctx->tenant.
 */
typedef enum {
    NGX_HTTP_ECHOSTREAM_ROLE_NONE = 0,
    NGX_HTTP_ECHOSTREAM_ROLE_MEMBER = 1,
    NGX_HTTP_ECHOSTREAM_ROLE_OWNER = 2,
    NGX_HTTP_ECHOSTREAM_ROLE_INVALID = 3, /* a reply that names no role */
    /*
     * a route's min_role only: no token is read and no principal resolved
     * (ctx->claims and ctx->tenant stay empty); the request carries its
     * own proof, which the handler checks (an unsubscribe link's
     * signature). Rate-limited per client address.
     */
    NGX_HTTP_ECHOSTREAM_ROLE_PUBLIC = 4
} ngx_http_echostream_role_e;

/* what a route reads as its body (ngx_http_echostream_route_t.body) */
#define NGX_HTTP_ECHOSTREAM_BODY_NONE 0 /* discarded */
#define NGX_HTTP_ECHOSTREAM_BODY_JSON 1 /* a JSON object, into ctx->body */
#define NGX_HTTP_ECHOSTREAM_BODY_RAW  2 /* any type, as is, into ctx->raw */

typedef struct ngx_http_echostream_api_ctx_s ngx_http_echostream_api_ctx_t;

typedef void (*ngx_http_echostream_api_handler_pt)(
    ngx_http_echostream_api_ctx_t *ctx);

typedef void (*ngx_http_echostream_api_redis_pt)(
    ngx_http_echostream_api_ctx_t *ctx,
    ngx_http_echostream_redis_result_t *res);

/* One row of the route table (ngx_http_echostream_routes.c). */
typedef struct {
    ngx_uint_t method;   /* NGX_HTTP_GET | …; HEAD is allowed with GET */
    const char *pattern; /* "/topics/{id}/series" relative to /api/v1 */
    const char *name;    /* metrics label: "topics.series" */
    ngx_uint_t min_role; /* NGX_HTTP_ECHOSTREAM_ROLE_* */
    ngx_uint_t body;     /* NGX_HTTP_ECHOSTREAM_BODY_*: read first */
    ngx_http_echostream_api_handler_pt handler;
    const void *data; /* the handler's own: an item kind's descriptor */
} ngx_http_echostream_route_t;

struct ngx_http_echostream_api_ctx_s {
    ngx_http_request_t *r;
    const ngx_http_echostream_route_t *route;
    ngx_uint_t route_index; /* for metrics */

    /* path parameters: the {id}-like segments, in order, validated, in
     * pool memory with a NUL after each */
    ngx_str_t params[2];
    ngx_uint_t nparams;

    /* the principal, from the verified token and its membership record */
    es_jwt_claims claims;
    u_char tenant[ES_JWT_TENANT_MAX + 1]; /* NUL-terminated */
    size_t tenant_len;
    ngx_uint_t role;

    json_t *body;  /* parsed request body (new ref, freed with the pool) */
    ngx_str_t raw; /* a BODY_RAW route's body, in pool memory (may be "") */

    /* the continuation of the pending Redis step */
    ngx_http_echostream_api_redis_pt next;
    void *data; /* for the route handler's own state */

    ngx_msec_t start;  /* for the latency histogram */
    ngx_uint_t status; /* answered with, for metrics */
    unsigned done : 1;
    unsigned streaming : 1; /* long-lived response (SSE, CSV) */

    /* private to the framework and auth/ (auth.c, auth_membership.c) */
    ngx_str_t token;
    u_char token_key[32];
    char kid[ES_JWT_KID_MAX + 1];
    ngx_http_echostream_api_handler_pt auth_done;
};

/* The route table and its size (ngx_http_echostream_routes.c). */
extern const ngx_http_echostream_route_t ngx_http_echostream_routes[];
extern const ngx_uint_t ngx_http_echostream_nroutes;

/* The "echostream_api" content handler. */
ngx_int_t ngx_http_echostream_api_handler(ngx_http_request_t *r);

/*
 * Queues a Redis pipeline for the route; next(ctx, res) is called once,
 * later, with replies owned by r->pool. On NGX_ERROR (no memory) nothing
 * is queued and the caller answers with ngx_http_echostream_api_error(ctx,
 * 500, …). One pipeline at a time per request (ctx->next is its
 * continuation).
 */
ngx_int_t ngx_http_echostream_api_redis(ngx_http_echostream_api_ctx_t *ctx,
                                        ngx_http_echostream_redis_cmd_t *cmds,
                                        ngx_uint_t n,
                                        ngx_http_echostream_api_redis_pt next);

/*
 * The same for long-lived routes (CSV export, SSE): the replies are owned
 * by pool, a pool the route creates per page and destroys once the page
 * has left, so memory does not grow with the response. pool must stay
 * until next has run, or be destroyed by the request's end (a request
 * pool cleanup of the route): the end of the request detaches a pending
 * pipeline, whichever pool goes first. The request count is kept as by
 * ngx_http_echostream_api_redis().
 */
ngx_int_t ngx_http_echostream_api_redis_pool(
    ngx_http_echostream_api_ctx_t *ctx, ngx_pool_t *pool,
    ngx_http_echostream_redis_cmd_t *cmds, ngx_uint_t n,
    ngx_http_echostream_api_redis_pt next);

/* Sends body (steals the reference; NULL → 500) with status and ends. */
void ngx_http_echostream_api_json(ngx_http_echostream_api_ctx_t *ctx,
                                  ngx_uint_t status, json_t *body);

/*
 * Sends {"error":{"code":code,"message":<printf fmt>}} with status and ends.
 * ngx_http_echostream_api_error_ex adds the members of extra (stolen, may
 * be NULL) inside "error" (position, column, field).
 */
void ngx_http_echostream_api_error(ngx_http_echostream_api_ctx_t *ctx,
                                   ngx_uint_t status, const char *code,
                                   const char *fmt, ...);
void ngx_http_echostream_api_error_ex(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_uint_t status, const char *code,
                                      json_t *extra, const char *fmt, ...);

/*
 * Answers a failed check of lib/es_req*.c: its status, code and message,
 * with "field", "position" and "column" inside "error" when it names them.
 */
void ngx_http_echostream_api_req_error(ngx_http_echostream_api_ctx_t *ctx,
                                       const es_req_err *err);

/* 204 No Content, and ends. */
void ngx_http_echostream_api_no_content(ngx_http_echostream_api_ctx_t *ctx);

/*
 * An integer reply string (a counter Redis holds as text): nil is 0;
 * anything else that is not an optional '-' and 1..15 digits is 0 and
 * counted in *bad. 15 digits keep sums far from overflowing.
 */
int64_t ngx_http_echostream_api_reply_int(redisReply *v, ngx_uint_t *bad);

/*
 * 1 when the pipeline failed or one of its replies is a Redis error: the
 * request has then been answered with ngx_http_echostream_api_redis_down()
 * and the continuation just returns. 0 when every reply can be read.
 */
ngx_int_t
ngx_http_echostream_api_redis_failed(ngx_http_echostream_api_ctx_t *ctx,
                                     ngx_http_echostream_redis_result_t *res);

/*
 * Answers a failed pipeline: 503 "unavailable" (logged with res->error),
 * or, when a reply is a Redis error, 500 "internal" (logged).
 */
void ngx_http_echostream_api_redis_down(
    ngx_http_echostream_api_ctx_t *ctx,
    ngx_http_echostream_redis_result_t *res);

/*
 * For routes that send their own headers and body (a buffer printed by
 * the route, as the series route's, or a streamed body): records the
 * status for metrics and ends the request with rc (as
 * ngx_http_finalize_request, e.g. the result of ngx_http_output_filter()).
 * Call once, instead of _json() / _error() / _no_content().
 */
void ngx_http_echostream_api_finalize(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_int_t rc);

/*
 * Adds the response headers every API answer carries (Cache-Control,
 * CORS); routes that send their own headers call it before
 * ngx_http_send_header().
 */
ngx_int_t
ngx_http_echostream_api_common_headers(ngx_http_echostream_api_ctx_t *ctx);

/* Adds one response header; key and value must outlive the response. */
ngx_int_t ngx_http_echostream_api_add_header(ngx_http_request_t *r,
                                             const char *key, ngx_str_t *value);

/*
 * Query argument name, URL-decoded into pool memory, NUL-terminated.
 * Returns NGX_OK (found), NGX_DECLINED (absent), NGX_ERROR (no memory or
 * longer than max bytes after decoding: the caller answers 400).
 */
ngx_int_t ngx_http_echostream_api_arg(ngx_http_echostream_api_ctx_t *ctx,
                                      const char *name, size_t max,
                                      ngx_str_t *value);

/*
 * Builds the tenant's key k (es_keys.h: "es:{t:<tenant>}:" and the key's
 * format) in pool memory (NUL-terminated, also in out->len); the format's
 * %s take the const char * arguments that follow (validated ids, dates).
 * Returns NGX_OK or NGX_ERROR (no memory, or a key over 511 bytes).
 */
ngx_int_t ngx_http_echostream_api_key(ngx_http_echostream_api_ctx_t *ctx,
                                      ngx_str_t *out, es_tkey k, ...);

/*
 * The command reading the tenant's per-comment records of n comments,
 * "FCALL_RO es_records 1 <meta> <prefix>" then each comment's id and
 * creation hour (lib/redis/read.lua answers each with its record's JSON,
 * the tombstone or nil): the i-th id is lens[i] bytes at ids + i * stride
 * (at most ES_REQ_ID_MAX), its hour the 10 bytes YYYYMMDDHH at
 * hours + 10 * i. All in pool: *argv and *argvlen get *argc entries, for
 * a pipeline command. Returns NGX_OK or NGX_ERROR (no memory).
 */
ngx_int_t ngx_http_echostream_api_records_cmd(
    ngx_http_echostream_api_ctx_t *ctx, ngx_pool_t *pool, const u_char *ids,
    size_t stride, const size_t *lens, const u_char *hours, ngx_uint_t n,
    int *argc, const char ***argv, const size_t **argvlen);

/* The UTC hour YYYYMMDDHH (10 bytes, no NUL) of a time in ms into out. */
void ngx_http_echostream_api_hour(int64_t ms, u_char *out);

/*
 * The command reading a topic's recent comment ids (es_recent of
 * lib/redis/read.lua, answering as ZRANGE ... BYSCORE LIMIT WITHSCORES
 * does): of topic (label NULL: every label), created within [min, max]
 * (each a whole number of ms, or "-inf" / "+inf"), skipping offset rows,
 * at most count, descending when desc. The strings are copied into the
 * request's pool; *cmd gets the command. NGX_OK or NGX_ERROR (no memory).
 */
ngx_int_t ngx_http_echostream_api_recent_cmd(
    ngx_http_echostream_api_ctx_t *ctx, ngx_http_echostream_redis_cmd_t *cmd,
    ngx_str_t *topic, const char *label, ngx_str_t *min, ngx_str_t *max,
    ngx_uint_t offset, ngx_uint_t count, int desc);

/*
 * The request's first header named name (compared without regard to
 * case), or NULL: for the headers nginx 1.22 does not index (Origin,
 * Last-Event-ID).
 */
ngx_table_elt_t *ngx_http_echostream_api_header(ngx_http_request_t *r,
                                                const char *name);

/* Milliseconds since the epoch, from nginx's cached clock. */
int64_t ngx_http_echostream_api_now_ms(void);

/* 1 when s (len bytes) is a topic/rule/summary id: [A-Za-z0-9_-]{1,64}. */
int ngx_http_echostream_api_id_valid(const u_char *s, size_t len);

#endif /* _NGX_HTTP_ECHOSTREAM_API_H_INCLUDED_ */
