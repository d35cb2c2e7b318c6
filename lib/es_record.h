/*
 * es_record.h - the per-comment record es:{t:<tenant>}:c:<id>: the JSON
 * object the enrich worker stores for each comment a tenant's topics
 * matched (docs/redis-keys.md).
 *
 * Three programs read it: the nginx module (what the API shows of a recent
 * comment), the enrich worker itself (what a deletion of the comment
 * reverses) and the Redis functions (which recognise the tombstone a
 * deletion leaves). So its members are one X-macro table, in the order the
 * record carries them: X(name, member, JSON type, meaning). The writer
 * (workers/enrich/record.c), the readers (workers/enrich/stored.c, the
 * module's api/ngx_http_echostream_comment_json.c) and the prelude of the
 * Redis functions (lib/redis/luagen.c) take every member name from here,
 * and a test (docs) holds this table and the one of docs/redis-keys.md
 * together in both directions. A record stays in Redis for the tenant's
 * retention, so renaming a member here is a migration of stored data, not
 * an edit: readers would no longer find the old name.
 *
 * The type is the JSON type the member holds ("integer": a number without
 * a fraction). The tombstone is the object with the one member "deleted"
 * set to true ({"deleted":true}); every other member belongs to a live
 * record, and a live record carries all of them.
 */
#ifndef ES_RECORD_H
#define ES_RECORD_H

/* X(name, member, JSON type, meaning) */
#define ES_RECORD_MEMBERS(X)                                                   \
    X(ID, "id", "string", "the comment id, base 36")                           \
    X(TOPICS, "topics", "array of strings",                                    \
      "ids of the tenant's topics the comment matched")                        \
    X(LABEL, "label", "string", "positive, negative, neutral or mixed")        \
    X(COMPOUND, "compound", "number", "compound score, -1 to 1, 4 decimals")   \
    X(NEG, "neg", "number", "negative share, 0 to 1")                          \
    X(NEU, "neu", "number", "neutral share, 0 to 1")                           \
    X(POS, "pos", "number", "positive share, 0 to 1")                          \
    X(CS, "cs", "integer",                                                     \
      "the compound in units of 1e-4, as the series sum it")                   \
    X(ENGINE, "engine", "string", "vader or comprehend: who scored it")        \
    X(CREATED, "created", "integer", "creation time, ms since the epoch")      \
    X(T, "t", "string", "creation minute YYYYMMDDHHMM, UTC")                   \
    X(MONTH, "month", "integer", "first second (UTC) of the creation month")   \
    X(TERMS, "terms", "array of strings", "the comment's trending terms")      \
    X(SUBREDDIT, "subreddit", "string", "lower-case subreddit name")           \
    X(AUTHOR, "author", "string", "author name")                               \
    X(BODY, "body", "string", "comment text")                                  \
    X(PERMALINK, "permalink", "string", "relative link to the comment")        \
    X(LINK_TITLE, "link_title", "string", "the post's title (may be empty)")   \
    X(SCORE, "score", "string", "Reddit score when fetched, as streamed")      \
    X(DELETED, "deleted", "boolean", "true, only member of the tombstone")

#define ES_REC_ENUM_(name, member, type, meaning) ES_REC_##name,
typedef enum { ES_RECORD_MEMBERS(ES_REC_ENUM_) ES_REC_COUNT } es_rec_member;
#undef ES_REC_ENUM_

/* The member name of m ("label"); m must be one of the table. */
static inline const char *es_record_member(es_rec_member m)
{
#define ES_REC_NAME_(name, member, type, meaning) member,
    static const char *const names[] = {ES_RECORD_MEMBERS(ES_REC_NAME_)};
#undef ES_REC_NAME_

    return names[m];
}

/* ES_REC(LABEL) is "label": how C code spells a member. */
#define ES_REC(name) es_record_member(ES_REC_##name)

#endif
