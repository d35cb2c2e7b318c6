/*
 * ngx_http_echostream_topic_validate.c - the checks of a topic and its
 * canonical form (see ngx_http_echostream_topic_validate.h).
 *
 * Names are counted in characters (code points) of the UTF-8 text, which
 * the JSON parser has already validated; C0, DEL and C1 control
 * characters are refused, since a name is shown in lists and logs.
 * Subreddit errors quote the offending name (cut to 64 bytes at a
 * character boundary) so a client can point at it.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_ids.h"
#include "es_query.h"
#include "es_utf8.h"
#include "ngx_http_echostream_tenant_util.h"
#include "ngx_http_echostream_topic_validate.h"

static const char *ngx_http_echostream_topic_name_check(json_t *name);
static ngx_int_t
ngx_http_echostream_topic_subs(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_topic_t *t, json_t *subs,
                               json_t **out);
static ngx_int_t
ngx_http_echostream_topic_query(ngx_http_echostream_api_ctx_t *ctx,
                                json_t *query, const char **q, size_t *qlen);

ngx_int_t ngx_http_echostream_topic_validate(ngx_http_echostream_api_ctx_t *ctx,
                                             const u_char *id, json_t *name,
                                             json_t *subs, json_t *query,
                                             ngx_http_echostream_topic_t *t)
{
    const char *why, *q;
    json_t *list;
    size_t qlen;

    why = ngx_http_echostream_topic_name_check(name);
    if (why != NULL) {
        ngx_http_echostream_fail(ctx, 422, "invalid_topic", "name", "%s", why);
        return NGX_DECLINED;
    }

    if (ngx_http_echostream_topic_subs(ctx, t, subs, &list) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_http_echostream_topic_query(ctx, query, &q, &qlen) != NGX_OK) {
        json_decref(list);
        return NGX_DECLINED;
    }

    /* steals list */
    t->topic =
        json_pack("{s:s, s:s%, s:o, s:s%}", "id", (const char *)id, "name",
                  json_string_value(name), json_string_length(name),
                  "subreddits", list, "query", q, qlen);
    if (t->topic == NULL ||
        ngx_http_echostream_pool_json(ctx, t->topic) != NGX_OK ||
        ngx_http_echostream_json_str(ctx, t->topic, &t->json) != NGX_OK) {
        ngx_http_echostream_no_memory(ctx);
        return NGX_DECLINED;
    }

    return NGX_OK;
}

/* NULL when name is a valid topic name, else why not. */
static const char *ngx_http_echostream_topic_name_check(json_t *name)
{
    const u_char *s;
    size_t i, n, chars;

    if (name == NULL) {
        return "name is required";
    }

    if (!json_is_string(name)) {
        return "name must be a string";
    }

    s = (const u_char *)json_string_value(name);
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

    if (chars > NGX_HTTP_ECHOSTREAM_TOPIC_NAME_MAX) {
        return "name is longer than 100 characters";
    }

    return NULL;
}

/*
 * Normalizes subs into t->subs and a new array *out (the caller owns it).
 * Returns NGX_OK, or NGX_DECLINED when the request was answered.
 */
static ngx_int_t
ngx_http_echostream_topic_subs(ngx_http_echostream_api_ctx_t *ctx,
                               ngx_http_echostream_topic_t *t, json_t *subs,
                               json_t **out)
{
    char norm[NGX_HTTP_ECHOSTREAM_SUB_SIZE];
    const char *s;
    json_t *list, *v;
    ngx_uint_t j;
    size_t i, n, len;

    if (subs == NULL) {
        ngx_http_echostream_fail(ctx, 422, "invalid_topic", "subreddits",
                                 "subreddits is required");
        return NGX_DECLINED;
    }

    n = json_array_size(subs);
    if (!json_is_array(subs) || n == 0 ||
        n > NGX_HTTP_ECHOSTREAM_TOPIC_SUBS_MAX) {
        ngx_http_echostream_fail(ctx, 422, "invalid_topic", "subreddits",
                                 "subreddits must be an array of 1 to 20 "
                                 "subreddit names");
        return NGX_DECLINED;
    }

    t->nsubs = 0;

    for (i = 0; i < n; i++) {
        v = json_array_get(subs, i); /* borrowed */
        s = json_string_value(v);
        len = json_string_length(v);

        if (s == NULL) {
            ngx_http_echostream_fail(ctx, 422, "invalid_topic", "subreddits",
                                     "subreddits[%zu] is not a string", i);
            return NGX_DECLINED;
        }

        if (es_subreddit_normalize(s, len, norm) != 0) {
            ngx_http_echostream_fail(ctx, 422, "invalid_topic", "subreddits",
                                     "invalid subreddit name \"%.*s\"",
                                     (int)es_utf8_cut(s, len, 64), s);
            return NGX_DECLINED;
        }

        for (j = 0; j < t->nsubs; j++) {
            if (ngx_strcmp(t->subs[j], norm) == 0) {
                break;
            }
        }
        if (j == t->nsubs) {
            ngx_memcpy(t->subs[t->nsubs++], norm, len + 1);
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
        ngx_http_echostream_no_memory(ctx);
        return NGX_DECLINED;
    }

    *out = list;
    return NGX_OK;
}

/*
 * Checks the query (absent or null: ""); *q is borrowed from query.
 * Returns NGX_OK, or NGX_DECLINED when the request was answered.
 */
static ngx_int_t
ngx_http_echostream_topic_query(ngx_http_echostream_api_ctx_t *ctx,
                                json_t *query, const char **q, size_t *qlen)
{
    es_query_error err;
    es_query *parsed;
    json_t *extra;

    *q = "";
    *qlen = 0;

    if (query == NULL || json_is_null(query)) {
        return NGX_OK;
    }

    if (!json_is_string(query)) {
        ngx_http_echostream_fail(ctx, 422, "validation_failed", "query",
                                 "query must be a string");
        return NGX_DECLINED;
    }

    *q = json_string_value(query);
    *qlen = json_string_length(query);

    parsed = es_query_parse(*q, *qlen, &err);
    if (parsed != NULL) {
        es_query_free(parsed);
        return NGX_OK;
    }

    if (ngx_strcmp(err.reason, "out of memory") == 0) {
        ngx_http_echostream_no_memory(ctx);
        return NGX_DECLINED;
    }

    extra = json_pack("{s:I, s:I, s:s}", "position", (json_int_t)err.offset,
                      "column", (json_int_t)err.column, "field", "query");

    /* extra is stolen; without memory it is NULL and the error goes
       out without position and column */
    ngx_http_echostream_api_error_ex(ctx, 422, "invalid_query", extra, "%s",
                                     err.reason);
    return NGX_DECLINED;
}
