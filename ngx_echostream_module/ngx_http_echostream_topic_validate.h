/*
 * ngx_http_echostream_topic_validate.h - what makes a topic valid, and
 * its canonical form.
 *
 * The rules are the contract's (docs/openapi.yaml, TopicInput): a name of
 * 1-100 characters without control characters, 1-20 subreddit names
 * (normalized to lower case by es_subreddit_normalize, duplicates
 * dropped, "all" allowed) and a query the parser of lib/es_query.c
 * accepts. The same parser compiles the query in the enrich worker, so
 * an accepted topic always loads there.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_TOPIC_VALIDATE_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_TOPIC_VALIDATE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_echostream_api.h"

#define NGX_HTTP_ECHOSTREAM_TOPIC_NAME_MAX 100
#define NGX_HTTP_ECHOSTREAM_TOPIC_SUBS_MAX 20
/* a subreddit name (at most 21 characters) and its NUL */
#define NGX_HTTP_ECHOSTREAM_SUB_SIZE 22

typedef struct {
    /* {"id","name","subreddits","query"}; one reference owned by the pool */
    json_t *topic;
    /* its compact JSON, as stored in Redis (pool memory, NUL-terminated) */
    ngx_str_t json;
    /* the normalized subreddit names, in order, without duplicates */
    char subs[NGX_HTTP_ECHOSTREAM_TOPIC_SUBS_MAX][NGX_HTTP_ECHOSTREAM_SUB_SIZE];
    ngx_uint_t nsubs;
} ngx_http_echostream_topic_t;

/*
 * Checks a topic's members name, subreddits and query (borrowed; NULL =
 * absent; query absent or null means "") and builds the topic with id
 * (NUL-terminated, valid) into t. Returns NGX_OK, or NGX_DECLINED when
 * the request was answered: 422 invalid_topic (field "name" or
 * "subreddits", a bad subreddit name quoted in the message), 422
 * invalid_query (field "query", "position" the byte offset and "column"
 * the 1-based character of the problem, the parser's reason as the
 * message), 422 validation_failed for a query that is not a string, or
 * 500 when memory ran out.
 */
ngx_int_t ngx_http_echostream_topic_validate(ngx_http_echostream_api_ctx_t *ctx,
                                             const u_char *id, json_t *name,
                                             json_t *subs, json_t *query,
                                             ngx_http_echostream_topic_t *t);

#endif /* _NGX_HTTP_ECHOSTREAM_TOPIC_VALIDATE_H_INCLUDED_ */
