/*
 * es_record.h - the per-comment record: what the enrich worker keeps of a
 * comment a tenant's topics matched (docs/redis-keys.md), in the JSON
 * form every reader gets and the compact form Redis stores.
 *
 * The JSON form. Three programs read a record: the nginx module (what the
 * API shows of a recent comment), the summarizer and the alert worker
 * (samples), all as the JSON object the Redis function es_records
 * (lib/redis/read.lua) assembles. Its members are one X-macro table, in
 * the order the object carries them: X(name, member, JSON type, meaning).
 * The readers (the module's api/ngx_http_echostream_comment_json.c, the
 * workers) and the prelude of the Redis functions (lib/redis/luagen.c)
 * take every member name from here, and a test (docs) holds this table and
 * the one of docs/redis-keys.md together in both directions. The type is
 * the JSON type the member holds ("integer": a number without a
 * fraction). The tombstone is the object with the one member "deleted"
 * set to true ({"deleted":true}); every other member belongs to a live
 * record, and a live record carries all of them.
 *
 * The stored form. Memory decides what EchoStream costs to run, so Redis
 * holds a record as two short texts in hashes bucketed by the comment's
 * UTC creation hour (one Redis key per hour instead of one per comment):
 *   - the tenant part, in es:{t:<tenant>}:cr:<YYYYMMDDHH> under the
 *     comment id: what this tenant's record alone holds (topics,
 *     sentiment, engine, creation time, terms), ES_RECORD_TENANT_FIELDS;
 *   - the public part, in es:{c}:<YYYYMMDDHH> under the comment id: the
 *     comment as Reddit published it (subreddit, author, score, post
 *     title, link, body), ES_RECORD_PUBLIC_FIELDS, once for every tenant
 *     that stored the comment.
 * Fields are separated by ES_RECORD_SEP (0x1f), which JSON-escaped text
 * never holds raw; strings are stored JSON-escaped without their quotes,
 * so assembling the JSON form is concatenation. Numbers of 4 decimals are
 * stored as integers in 1e-4 units, the label and engine as one letter,
 * and t and month (derived from created) not at all. Both parts of a
 * deleted comment become ES_RECORD_GONE. The writer is
 * workers/enrich/record.c, the parser of the tenant part (what a deletion
 * reverses) workers/enrich/stored.c, and the assembler the Redis function
 * es_records; a stored part outlives the worker that wrote it, so these
 * tables change only with a migration.
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

/* The stored form's field separator, and the text of a deleted part. */
#define ES_RECORD_SEP   '\x1f'
#define ES_RECORD_SEP_S "\x1f"
#define ES_RECORD_GONE  "-"

/*
 * The tenant part's fields, in order: X(name, meaning). TERMS is not one
 * field but every field after ENGINE's successor: one per term.
 */
#define ES_RECORD_TENANT_FIELDS(X)                                             \
    X(TOPICS, "the topic ids, comma-separated")                                \
    X(LABEL, "the label's letter (ES_RECORD_LABELS)")                          \
    X(CS, "the compound in 1e-4 units, as the series sum it")                  \
    X(COMPOUND, "the compound as shown, in 1e-4 units; empty: equal to cs")    \
    X(NEG, "negative share in 1e-4 units")                                     \
    X(NEU, "neutral share in 1e-4 units")                                      \
    X(POS, "positive share in 1e-4 units")                                     \
    X(ENGINE, "the engine's letter (ES_RECORD_ENGINES)")                       \
    X(CREATED, "creation time, ms since the epoch")                            \
    X(TERMS, "the trending terms, one field each (JSON-escaped)")

/* The public part's fields, in order: X(name, meaning). */
#define ES_RECORD_PUBLIC_FIELDS(X)                                             \
    X(SUBREDDIT, "lower-case subreddit name")                                  \
    X(AUTHOR, "author name (JSON-escaped)")                                    \
    X(SCORE, "Reddit score when fetched (JSON-escaped)")                       \
    X(LINK_TITLE, "the post's title (JSON-escaped)")                           \
    X(PERMALINK, "~<post>/<slug> for /r/<subreddit>/comments/<post>/<slug>/"   \
                 "<id>/, else the link (JSON-escaped)")                        \
    X(BODY, "comment text (JSON-escaped)")

#define ES_RT_ENUM_(name, meaning) ES_RT_##name,
typedef enum { ES_RECORD_TENANT_FIELDS(ES_RT_ENUM_) ES_RT_COUNT } es_rt_field;
#undef ES_RT_ENUM_
#define ES_RP_ENUM_(name, meaning) ES_RP_##name,
typedef enum { ES_RECORD_PUBLIC_FIELDS(ES_RP_ENUM_) ES_RP_COUNT } es_rp_field;
#undef ES_RP_ENUM_

/* The letters of the labels and engines: X(letter, name). */
#define ES_RECORD_LABELS(X)                                                    \
    X('p', "positive") X('n', "negative") X('u', "neutral") X('m', "mixed")
#define ES_RECORD_ENGINES(X) X('v', "vader") X('c', "comprehend")

#endif
