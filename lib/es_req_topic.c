/*
 * es_req_topic.c - the checks of a topic and its canonical form
 * (es_req_topic.h).
 *
 * Names are counted in characters (code points) of the UTF-8 text, which
 * the JSON parser has already validated; C0, DEL and C1 control
 * characters are refused, since a name is shown in lists and logs.
 * Subreddit errors quote the offending name (cut to 64 bytes at a
 * character boundary) so a client can point at it. The stored text is
 * made here, not by the caller, so the fuzz target checks the very bytes
 * that go to Redis.
 */
#include "es_req_topic.h"

#include <stdlib.h>
#include <string.h>

#include "es_ids.h"
#include "es_query.h"
#include "es_utf8.h"

const char *const es_req_topic_members[] = {"id", "name", "subreddits", "query",
                                            NULL};

static const char *es_req_topic_name_check(json_t *name);
static int es_req_topic_subs(es_req_topic *t, json_t *subs, json_t **out,
                             es_req_err *err);
static int es_req_topic_query(json_t *query, const char **q, size_t *qlen,
                              es_req_err *err);

int es_req_topic_check(json_t *body, json_t *base, const char *id,
                       es_req_topic *t, es_req_err *err)
{
    static const char *const names[3] = {"name", "subreddits", "query"};
    const char *why, *q;
    json_t *v[3], *list;
    size_t i, qlen;

    memset(t, 0, sizeof(*t));

    for (i = 0; i < 3; i++) {
        v[i] = json_object_get(body, names[i]); /* borrowed */
        if (v[i] == NULL && base != NULL) {
            v[i] = json_object_get(base, names[i]);
        }
    }

    why = es_req_topic_name_check(v[0]);
    if (why != NULL) {
        return es_req_fail(err, 422, "invalid_topic", "name", "%s", why);
    }

    if (es_req_topic_subs(t, v[1], &list, err) != 0) {
        return -1;
    }

    if (es_req_topic_query(v[2], &q, &qlen, err) != 0) {
        json_decref(list);
        return -1;
    }

    /* steals list, also when it fails */
    t->topic = json_pack("{s:s, s:s%, s:o, s:s%}", "id", id, "name",
                         json_string_value(v[0]), json_string_length(v[0]),
                         "subreddits", list, "query", q, qlen);
    if (t->topic == NULL) {
        return es_req_fail(err, 500, "internal", NULL, "out of memory");
    }

    /* as every stored value is written: compact, in insertion order */
    t->json = json_dumps(t->topic, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                       JSON_REAL_PRECISION(17));
    if (t->json == NULL) {
        es_req_topic_free(t);
        return es_req_fail(err, 500, "internal", NULL, "out of memory");
    }
    t->json_len = strlen(t->json);

    return 0;
}

int es_req_topic_item(json_t *body, json_t *base, const char *id, json_t **out,
                      es_req_err *err)
{
    es_req_topic t;

    *out = NULL;
    if (es_req_topic_check(body, base, id, &t, err) != 0) {
        return -1;
    }

    *out = json_incref(t.topic);
    es_req_topic_free(&t);
    return 0;
}

void es_req_topic_free(es_req_topic *t)
{
    json_decref(t->topic);
    t->topic = NULL;
    /* json_dumps allocates with jansson's allocator, malloc unless set */
    free(t->json);
    t->json = NULL;
    t->json_len = 0;
}

/* NULL when name (borrowed, NULL = absent) is a valid name, else why not. */
static const char *es_req_topic_name_check(json_t *name)
{
    const unsigned char *s;
    size_t i, n, chars;

    if (name == NULL) {
        return "name is required";
    }

    if (!json_is_string(name)) {
        return "name must be a string";
    }

    s = (const unsigned char *)json_string_value(name);
    n = json_string_length(name);
    chars = 0;

    for (i = 0; i < n; i++) {
        /* C0, DEL, and C1 (U+0080..U+009F, encoded C2 80..C2 9F) */
        if (s[i] < 0x20 || s[i] == 0x7f ||
            (s[i] == 0xc2 && i + 1 < n && s[i + 1] <= 0x9f)) {
            return "name must not contain control characters";
        }
        if ((s[i] & 0xc0) != 0x80) {
            chars++;
        }
    }

    if (chars == 0) {
        return "name must not be empty";
    }

    if (chars > ES_REQ_TOPIC_NAME_MAX) {
        return "name is longer than 100 characters";
    }

    return NULL;
}

/*
 * Normalizes subs (borrowed, NULL = absent) into t->subs and a new array
 * *out (the caller owns it). 0, or -1 with *err.
 */
static int es_req_topic_subs(es_req_topic *t, json_t *subs, json_t **out,
                             es_req_err *err)
{
    char norm[ES_REQ_SUB_SIZE];
    const char *s;
    json_t *list, *v;
    size_t i, j, n, len;

    *out = NULL;

    if (subs == NULL) {
        return es_req_fail(err, 422, "invalid_topic", "subreddits",
                           "subreddits is required");
    }

    n = json_array_size(subs);
    if (!json_is_array(subs) || n == 0 || n > ES_REQ_TOPIC_SUBS_MAX) {
        return es_req_fail(err, 422, "invalid_topic", "subreddits",
                           "subreddits must be an array of 1 to 20 subreddit "
                           "names");
    }

    t->nsubs = 0;

    for (i = 0; i < n; i++) {
        v = json_array_get(subs, i); /* borrowed */
        s = json_string_value(v);
        len = json_string_length(v);

        if (s == NULL) {
            return es_req_fail(err, 422, "invalid_topic", "subreddits",
                               "subreddits[%zu] is not a string", i);
        }

        /* checks len < ES_REQ_SUB_SIZE before it writes norm */
        if (es_subreddit_normalize(s, len, norm) != 0) {
            return es_req_fail(err, 422, "invalid_topic", "subreddits",
                               "invalid subreddit name \"%.*s\"",
                               (int)es_utf8_cut(s, len, 64), s);
        }

        for (j = 0; j < t->nsubs; j++) {
            if (strcmp(t->subs[j], norm) == 0) {
                break;
            }
        }

        /* n <= ES_REQ_TOPIC_SUBS_MAX bounds nsubs; the check stays here */
        if (j == t->nsubs && t->nsubs < ES_REQ_TOPIC_SUBS_MAX) {
            memcpy(t->subs[t->nsubs++], norm, strlen(norm) + 1);
        }
    }

    list = json_array();
    for (j = 0; list != NULL && j < t->nsubs; j++) {
        if (json_array_append_new(list, json_string(t->subs[j])) != 0) {
            json_decref(list);
            list = NULL;
        }
    }

    if (list == NULL) {
        return es_req_fail(err, 500, "internal", NULL, "out of memory");
    }

    *out = list;
    return 0;
}

/*
 * Checks the query (borrowed; absent or null: ""); *q is borrowed from
 * query. 0, or -1 with *err.
 */
static int es_req_topic_query(json_t *query, const char **q, size_t *qlen,
                              es_req_err *err)
{
    es_query_error qerr;
    es_query *parsed;

    *q = "";
    *qlen = 0;

    if (query == NULL || json_is_null(query)) {
        return 0;
    }

    if (!json_is_string(query)) {
        return es_req_fail(err, 422, "validation_failed", "query",
                           "query must be a string");
    }

    *q = json_string_value(query);
    *qlen = json_string_length(query);

    parsed = es_query_parse(*q, *qlen, &qerr);
    if (parsed != NULL) {
        es_query_free(parsed);
        return 0;
    }

    if (strcmp(qerr.reason, "out of memory") == 0) {
        return es_req_fail(err, 500, "internal", NULL, "out of memory");
    }

    es_req_fail(err, 422, "invalid_query", "query", "%s", qerr.reason);
    err->position = (long)qerr.offset;
    err->column = (long)qerr.column;

    return -1;
}
