/*
 * ngx_http_echostream_comment_json.c - the API's comment object from a
 * per-comment record (see ngx_http_echostream_comment_json.h).
 *
 * The record is written by the enrich worker, but Redis content is never
 * trusted: every member the answer shows is checked against what the API
 * promises (docs/openapi.yaml, schema Comment) so a damaged or foreign
 * record is skipped instead of breaking a client or the response shape.
 * The checks are those of the schema: the id is base 36, the subreddit
 * lower case, label and engine from their sets, scores within their
 * ranges. Texts (author, body, …) are only required to be strings; jansson
 * has already rejected invalid UTF-8 while parsing. The score comes as a
 * string from the stream ("7"); one that does not parse counts as 0, since
 * dumps may lack it and it is not worth hiding the comment for. Members
 * are looked up by the names of the record's one table (es_record.h), so
 * the writer and this reader cannot drift apart.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <math.h>

#include "es_ids.h"
#include "es_record.h"
#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_comment_json.h"

/* 10000-01-01T00:00:00Z: later times do not fit the "YYYY-" format */
#define NGX_HTTP_ECHOSTREAM_CJ_MAX_MS 253402300800000LL

/* "bad \"<member>\"" for each member of the record (es_record.h) */
#define NGX_HTTP_ECHOSTREAM_CJ_BAD(name, member, type, meaning)                \
    "bad \"" member "\"",
static const char *const ngx_http_echostream_cj_bad[] = {
    ES_RECORD_MEMBERS(NGX_HTTP_ECHOSTREAM_CJ_BAD)};
#undef NGX_HTTP_ECHOSTREAM_CJ_BAD

static int ngx_http_echostream_cj_id_valid(const char *s, size_t len);
static json_t *ngx_http_echostream_cj_topics(json_t *topics);
static int ngx_http_echostream_cj_number(json_t *v, double min, double max,
                                         double *out);
static json_int_t ngx_http_echostream_cj_score(json_t *v);
static const char *ngx_http_echostream_cj_text(json_t *rec, const char *name,
                                               size_t *len);

json_t *ngx_http_echostream_comment_json(const char *record, size_t len)
{
    const char *why;

    return ngx_http_echostream_comment_json_ex(record, len, &why);
}

json_t *ngx_http_echostream_comment_json_ex(const char *record, size_t len,
                                            const char **why)
{
    json_t *rec, *id, *created, *label, *engine, *sub, *topics, *out;
    const char *author, *body, *permalink, *link_title, *l, *e;
    size_t author_len, body_len, permalink_len, link_title_len;
    double compound, pos, neg, neu;
    char subreddit[32], created_str[32];
    json_int_t created_ms;
    json_error_t jerr;

    *why = NULL;
    rec = NULL;
    topics = NULL;
    author_len = body_len = permalink_len = link_title_len = 0;

    if (record == NULL) {
        return NULL;
    }

    rec = json_loadb(record, len, JSON_REJECT_DUPLICATES, &jerr);
    if (rec == NULL || !json_is_object(rec)) {
        *why = "not a JSON object";
        goto malformed;
    }

    /* a deleted comment leaves this behind for the retention */
    if (json_is_true(json_object_get(rec, ES_REC(DELETED)))) {
        json_decref(rec);
        return NULL;
    }

    /* all borrowed from rec */
    id = json_object_get(rec, ES_REC(ID));
    created = json_object_get(rec, ES_REC(CREATED));
    label = json_object_get(rec, ES_REC(LABEL));
    engine = json_object_get(rec, ES_REC(ENGINE));
    sub = json_object_get(rec, ES_REC(SUBREDDIT));

    if (!json_is_string(id) ||
        !ngx_http_echostream_cj_id_valid(json_string_value(id),
                                         json_string_length(id))) {
        *why = ngx_http_echostream_cj_bad[ES_REC_ID];
        goto malformed;
    }

    if (!json_is_integer(created) || json_integer_value(created) < 0 ||
        json_integer_value(created) >= NGX_HTTP_ECHOSTREAM_CJ_MAX_MS) {
        *why = ngx_http_echostream_cj_bad[ES_REC_CREATED];
        goto malformed;
    }
    created_ms = json_integer_value(created);

    if (!json_is_string(sub) ||
        es_subreddit_normalize(json_string_value(sub), json_string_length(sub),
                               subreddit) != 0) {
        *why = ngx_http_echostream_cj_bad[ES_REC_SUBREDDIT];
        goto malformed;
    }

    l = json_string_value(label); /* NULL when not a string */
    if (l == NULL ||
        (ngx_strcmp(l, "positive") != 0 && ngx_strcmp(l, "negative") != 0 &&
         ngx_strcmp(l, "neutral") != 0 && ngx_strcmp(l, "mixed") != 0)) {
        *why = ngx_http_echostream_cj_bad[ES_REC_LABEL];
        goto malformed;
    }

    e = json_string_value(engine);
    if (e == NULL ||
        (ngx_strcmp(e, "vader") != 0 && ngx_strcmp(e, "comprehend") != 0)) {
        *why = ngx_http_echostream_cj_bad[ES_REC_ENGINE];
        goto malformed;
    }

    if (!ngx_http_echostream_cj_number(json_object_get(rec, ES_REC(COMPOUND)),
                                       -1, 1, &compound) ||
        !ngx_http_echostream_cj_number(json_object_get(rec, ES_REC(POS)), 0, 1,
                                       &pos) ||
        !ngx_http_echostream_cj_number(json_object_get(rec, ES_REC(NEG)), 0, 1,
                                       &neg) ||
        !ngx_http_echostream_cj_number(json_object_get(rec, ES_REC(NEU)), 0, 1,
                                       &neu)) {
        *why = "bad sentiment scores";
        goto malformed;
    }

    author = ngx_http_echostream_cj_text(rec, ES_REC(AUTHOR), &author_len);
    body = ngx_http_echostream_cj_text(rec, ES_REC(BODY), &body_len);
    permalink =
        ngx_http_echostream_cj_text(rec, ES_REC(PERMALINK), &permalink_len);
    link_title =
        ngx_http_echostream_cj_text(rec, ES_REC(LINK_TITLE), &link_title_len);
    if (author == NULL || body == NULL || permalink == NULL ||
        link_title == NULL) {
        *why = "a text member is not a string";
        goto malformed;
    }

    topics = json_object_get(rec, ES_REC(TOPICS)); /* borrowed */
    if (!json_is_array(topics)) {
        topics = NULL;
        *why = ngx_http_echostream_cj_bad[ES_REC_TOPICS];
        goto malformed;
    }

    /* new reference, stolen by out below */
    topics = ngx_http_echostream_cj_topics(topics);
    if (topics == NULL) {
        *why = "out of memory";
        goto malformed;
    }

    es_time_str((int64_t)created_ms, created_str);

    /*
     * The names below are the API's (docs/openapi.yaml, schema Comment),
     * not the record's: the record may rename a member without changing
     * the answer. "o" steals topics, also when packing fails.
     */
    out = json_pack(
        "{s:s%, s:s, s:s, s:s%, s:s%, s:s%, s:s%, s:I, "
        "s:{s:s, s:f, s:f, s:f, s:f}, s:s, s:o}",
        "id", json_string_value(id), json_string_length(id), "created",
        created_str, "subreddit", subreddit, "author", author, author_len,
        "body", body, body_len, "permalink", permalink, permalink_len,
        "link_title", link_title, link_title_len, "score",
        ngx_http_echostream_cj_score(json_object_get(rec, ES_REC(SCORE))),
        "sentiment", "label", l, "compound", compound, "pos", pos, "neg", neg,
        "neu", neu, "engine", e, "topics", topics);
    topics = NULL;
    if (out == NULL) {
        *why = "out of memory";
        goto malformed;
    }

    json_decref(rec);
    return out;

malformed:

    json_decref(topics);
    json_decref(rec);
    return NULL;
}

/* Comment ids as enrich writes them: [0-9a-z]{1,12}. */
static int ngx_http_echostream_cj_id_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > 12) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z'))) {
            return 0;
        }
    }

    return 1;
}

/*
 * A new array of the valid topic ids of topics (borrowed); NULL when
 * topics is not an array or memory ran out. An id that is not one (it
 * would break the schema) is left out.
 */
static json_t *ngx_http_echostream_cj_topics(json_t *topics)
{
    json_t *out, *t;
    size_t i;

    if (!json_is_array(topics)) {
        return NULL;
    }

    out = json_array();
    if (out == NULL) {
        return NULL;
    }

    json_array_foreach(topics, i, t)
    {
        if (!json_is_string(t) ||
            !ngx_http_echostream_api_id_valid(
                (const u_char *)json_string_value(t), json_string_length(t))) {
            continue;
        }

        if (json_array_append(out, t) != 0) {
            json_decref(out);
            return NULL;
        }
    }

    return out;
}

/*
 * A number within [min, max], rounded to 4 decimals (the record's own
 * precision) into *out; 0 when v is no such number.
 */
static int ngx_http_echostream_cj_number(json_t *v, double min, double max,
                                         double *out)
{
    double d;

    if (!json_is_number(v)) {
        return 0;
    }

    d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max) {
        return 0;
    }

    *out = round(d * 10000.0) / 10000.0;
    return 1;
}

/* The Reddit score: an integer, or a string holding one; else 0. */
static json_int_t ngx_http_echostream_cj_score(json_t *v)
{
    const char *s, *p;
    json_int_t n;
    int neg;

    if (json_is_integer(v)) {
        return json_integer_value(v);
    }

    s = json_string_value(v);
    if (s == NULL) {
        return 0;
    }

    p = s;
    neg = (*p == '-');
    if (neg) {
        p++;
    }

    /* at most 15 digits: no overflow, and no score is near that */
    n = 0;
    if (*p == '\0' || ngx_strlen(p) > 15) {
        return 0;
    }

    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return 0;
        }
        n = n * 10 + (*p - '0');
    }

    return neg ? -n : n;
}

/*
 * The string member name of rec (borrowed) and its length; "" when it is
 * absent or null, NULL when it is something else.
 */
static const char *ngx_http_echostream_cj_text(json_t *rec, const char *name,
                                               size_t *len)
{
    json_t *v;

    v = json_object_get(rec, name);
    if (v == NULL || json_is_null(v)) {
        *len = 0;
        return "";
    }

    if (!json_is_string(v)) {
        return NULL;
    }

    *len = json_string_length(v);
    return json_string_value(v);
}
