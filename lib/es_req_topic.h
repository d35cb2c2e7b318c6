/*
 * es_req_topic.h - what makes a topic valid, and its canonical form.
 *
 * The rules are the contract's (docs/openapi.yaml, TopicInput): a name of
 * 1-100 characters without control characters, 1-20 subreddit names
 * (normalized to lower case by es_subreddit_normalize, duplicates
 * dropped, "all" allowed) and a query the parser of lib/es_query.c
 * accepts. The same parser compiles the query in the enrich worker, so
 * an accepted topic always loads there.
 *
 * POST and PUT check a whole body, PATCH the body's members over the
 * stored topic: one function does both (a base of NULL is a whole body),
 * so a merged topic passes exactly the checks a new one does.
 */
#ifndef ES_REQ_TOPIC_H
#define ES_REQ_TOPIC_H

#include <stddef.h>

#include <jansson.h>

#include "es_req.h"

#define ES_REQ_TOPIC_NAME_MAX 100
#define ES_REQ_TOPIC_SUBS_MAX 20
/* a subreddit name (at most 21 characters) and its NUL */
#define ES_REQ_SUB_SIZE 22

/* the members a topic body may have, NULL-terminated (for es_req_members) */
extern const char *const es_req_topic_members[];

typedef struct {
    /* {"id","name","subreddits","query"}: a new reference */
    json_t *topic;
    /* its compact JSON as stored in Redis, NUL-terminated (malloc) */
    char *json;
    size_t json_len;
    /* the normalized subreddit names, in order, without duplicates */
    char subs[ES_REQ_TOPIC_SUBS_MAX][ES_REQ_SUB_SIZE];
    size_t nsubs;
} es_req_topic;

/*
 * Checks the topic's members name, subreddits and query, each taken from
 * body (borrowed), or when body lacks it from base (borrowed, may be
 * NULL: PATCH merges over the stored topic); a query absent or null is
 * "". On success returns 0 with the topic of id (NUL-terminated, valid)
 * in *t, which the caller releases with es_req_topic_free. Else -1 with
 * nothing to release and *err: 422 invalid_topic (field "name" or
 * "subreddits", a bad subreddit name quoted in the message), 422
 * invalid_query (field "query", "position" the byte offset and "column"
 * the 1-based character of the problem, the parser's reason as the
 * message), 422 validation_failed for a query that is not a string, or
 * 500 internal when memory ran out. Members outside the topic's are not
 * looked at (es_req_members checks a body for them).
 */
int es_req_topic_check(json_t *body, json_t *base, const char *id,
                       es_req_topic *t, es_req_err *err);

/*
 * es_req_topic_check as the validator of the API's item layer: 0 with a
 * new reference to the canonical topic in *out, or -1 with *out NULL and
 * *err as above.
 */
int es_req_topic_item(json_t *body, json_t *base, const char *id, json_t **out,
                      es_req_err *err);

/* Releases what es_req_topic_check put in t (the topic and its text). */
void es_req_topic_free(es_req_topic *t);

#endif
