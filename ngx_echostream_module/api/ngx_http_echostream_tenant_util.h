/*
 * ngx_http_echostream_tenant_util.h - the small pieces every route that
 * writes tenant data shares (topics, alert rules, members, settings,
 * summaries): generated ids, invite keys, the id of a written object,
 * errors with a "field", stored JSON read defensively, and the error
 * replies of the "echostream_tenant" Redis functions
 * (lib/redis/tenant.lua). What a body must hold is checked in
 * lib/es_req*.c, without nginx, so the fuzz targets run the same checks.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_TENANT_UTIL_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_TENANT_UTIL_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "api/ngx_http_echostream_api.h"

/* length of generated topic and rule ids: 12 of [a-z0-9], 62 bits */
#define NGX_HTTP_ECHOSTREAM_GEN_ID_LEN 12

/* hex SHA-256 of a lower-case e-mail (the es:{invites}:<hash> key) */
#define NGX_HTTP_ECHOSTREAM_EMAIL_HASH_LEN 64

/*
 * Writes n random characters of [a-z0-9] into out (not terminated) from
 * OpenSSL's CSPRNG: ids are guessable otherwise, and an id that can be
 * predicted can be raced. Rejection sampling keeps every character
 * equally likely. Returns NGX_OK, or NGX_ERROR when the generator fails
 * (logged, and the request answered 500).
 */
ngx_int_t ngx_http_echostream_random_id(ngx_http_echostream_api_ctx_t *ctx,
                                        u_char *out, size_t n);

/*
 * Writes the lower-case hex SHA-256 of email[0..n) into hex (room for
 * 65 bytes, NUL-terminated). Returns NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_http_echostream_email_hash(const u_char *email, size_t n,
                                         u_char *hex);

/*
 * Builds "es:{invites}:<hex SHA-256 of the lower-case e-mail>" (the
 * invites addressed to email[0..n)) in pool memory, NUL-terminated.
 */
ngx_int_t ngx_http_echostream_invite_key(ngx_http_echostream_api_ctx_t *ctx,
                                         const u_char *email, size_t n,
                                         ngx_str_t *key);

/* Answers 500 for memory that ran out, and ends the request. */
void ngx_http_echostream_no_memory(ngx_http_echostream_api_ctx_t *ctx);

/*
 * Makes the request's pool own one reference to json (decref at pool
 * destruction), so a value kept across a Redis round trip is freed even
 * when the client goes away first. On NGX_ERROR json was released.
 */
ngx_int_t ngx_http_echostream_pool_json(ngx_http_echostream_api_ctx_t *ctx,
                                        json_t *json);

/*
 * Dumps json (borrowed) compactly into pool memory, NUL-terminated, as
 * it is stored in Redis. Returns NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_http_echostream_json_str(ngx_http_echostream_api_ctx_t *ctx,
                                       json_t *json, ngx_str_t *out);

/*
 * Parses a stored value (a bulk string reply) as a JSON object: a new
 * reference, or NULL with a warning naming what and name when the reply
 * is not a string or not an object. Whatever Redis holds is not trusted:
 * one damaged value is skipped, it never takes a route down.
 */
json_t *ngx_http_echostream_stored_json(ngx_http_echostream_api_ctx_t *ctx,
                                        redisReply *rep, const char *what,
                                        const char *name, size_t name_len);

/*
 * Copies a string reply into pool memory, NUL-terminated (PATCH keeps the
 * value it merged into, for its compare-and-set). NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_http_echostream_reply_str(ngx_http_echostream_api_ctx_t *ctx,
                                        redisReply *rep, ngx_str_t *out);

/*
 * The {id} path parameter as a NUL-terminated copy in pool memory, or
 * NULL when the request was answered (404 "no such <what>", or 500).
 */
u_char *ngx_http_echostream_path_id(ngx_http_echostream_api_ctx_t *ctx,
                                    const char *what);

/*
 * The start of a POST, PUT or PATCH of an object with an id (topic,
 * alert rule): the body must be an object holding only members named in
 * allowed (es_req_members; the lists are lib's, es_req_topic_members …),
 * and an "id" in it must be valid and, on a route with a path id
 * (with_path_id; what names the object in its 404), the same
 * (es_req_body_id). Returns
 * the object's id, NUL-terminated in pool memory: the path id, the
 * body's, or for POST without one a new random id; NULL when the request
 * was answered.
 */
u_char *ngx_http_echostream_write_id(ngx_http_echostream_api_ctx_t *ctx,
                                     const char *const *allowed,
                                     const char *what, ngx_uint_t with_path_id);

/*
 * A new array of items[0..n) (the array steals every item); NULL when
 * memory ran out, and then every item was released too.
 */
json_t *ngx_http_echostream_json_list(json_t **items, ngx_uint_t n);

/* qsort order of JSON objects (json_t *) by their "id" strings. */
int ngx_http_echostream_cmp_id(const void *a, const void *b);

/*
 * The message of an error reply of an echostream_tenant function when
 * its code is code ("CONFLICT", "NOTFOUND", …): the text after the code,
 * a NUL-terminated string in the reply; NULL for any other reply.
 */
const char *ngx_http_echostream_fn_error(redisReply *rep, const char *code);

/*
 * Answers the decided outcomes of an echostream_tenant function: CONFLICT
 * → 409 conflict, NOTFOUND → 404 not_found, NOTOPIC → 422 invalid_topic
 * (field "topic"), each with the function's message. Returns 1 when the
 * request was answered; 0 for any other reply (STALE included, which
 * only the caller can act on).
 */
ngx_uint_t
ngx_http_echostream_fn_answer(ngx_http_echostream_api_ctx_t *ctx,
                              ngx_http_echostream_redis_result_t *res);

/*
 * Queues one command of NUL-terminated arguments; when that fails (no
 * memory) it answers 500 itself, so callers just return.
 */
void ngx_http_echostream_cmd(ngx_http_echostream_api_ctx_t *ctx,
                             ngx_http_echostream_api_redis_pt next, int argc,
                             const char **argv);

#endif /* _NGX_HTTP_ECHOSTREAM_TENANT_UTIL_H_INCLUDED_ */
