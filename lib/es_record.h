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
 * UTC creation hour, instead of one key and one JSON text per comment:
 *   - the public part, the comment as Reddit published it and what is the
 *     same for every tenant (subreddit, author, score, post title, link,
 *     VADER's sentiment, body), ES_RECORD_PUBLIC_FIELDS,
 *     stored once for all the tenants that store the comment, in
 *     es:{c}:<YYYYMMDDHH>;
 *   - the tenant part, what this tenant's record alone holds (its topics,
 *     the engine, the creation time within the hour and, when Comprehend
 *     scored it for the tenant, that sentiment), ES_RECORD_TENANT_FIELDS,
 *     in es:{t:<tenant>}:cr:<YYYYMMDDHH>.
 * An hour with many records is split into sub-buckets (":<k>" after the
 * hour; the split is chosen at the hour's first write and kept in a small
 * hash of its day), so each bucket holds about ES_BUCKET_TARGET records
 * and Redis can keep it as a listpack, a few bytes of overhead a record
 * instead of about a hundred. Fields are separated by ES_RECORD_SEP
 * (0x1f), which JSON-escaped text never holds raw; strings are stored
 * JSON-escaped without their quotes, so assembling the JSON form is
 * concatenation. Numbers of 4 decimals are stored as integers in 1e-4
 * units, the label and engine as one letter, created as milliseconds into
 * the hour in base 36, and t and month (derived from created) and the
 * trending terms (derived from the body, es_terms.h) not at all.
 * Both parts of a deleted comment become ES_RECORD_GONE. The writer is
 * workers/enrich/record.c, the parser (what a deletion reverses)
 * workers/enrich/stored.c, and the readers the Redis functions of
 * lib/redis/read.lua and enrich.lua (the bucket keys are theirs); a stored
 * part outlives the worker that wrote it, so these tables change only
 * with a migration.
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
 * The tenant part's fields, in order: X(name, meaning). The sentiment
 * fields follow only when ENGINE is Comprehend's letter; a VADER record
 * shows the public part's.
 */
#define ES_RECORD_TENANT_FIELDS(X)                                             \
    X(TOPICS, "the topic ids, comma-separated")                                \
    X(ENGINE, "the engine's letter (ES_RECORD_ENGINES)")                       \
    X(OFFSET, "creation time: ms into the hour, base 36")                      \
    X(LABEL, "the label's letter (ES_RECORD_LABELS)")                          \
    X(CS, "the compound in 1e-4 units, as the series sum it")                  \
    X(COMPOUND, "the compound as shown, in 1e-4 units; empty: equal to cs")    \
    X(NEG, "negative share in 1e-4 units")                                     \
    X(NEU, "neutral share in 1e-4 units")                                      \
    X(POS, "positive share in 1e-4 units")

/* The public part's fields, in order: X(name, meaning). */
#define ES_RECORD_PUBLIC_FIELDS(X)                                             \
    X(SUBREDDIT, "lower-case subreddit name")                                  \
    X(AUTHOR, "author name (JSON-escaped)")                                    \
    X(SCORE, "Reddit score when fetched (JSON-escaped)")                       \
    X(LINK_TITLE, "#<12 hex digits>: the post's title in the hour's :t, "      \
                  "or empty (none)")                                           \
    X(PERMALINK, "~<post>/<slug> for /r/<subreddit>/comments/<post>/<slug>/"   \
                 "<id>/, else the link (JSON-escaped)")                        \
    X(LABEL, "VADER's label letter (ES_RECORD_LABELS)")                        \
    X(CS, "VADER's compound in 1e-4 units, as the series sum it")              \
    X(COMPOUND, "VADER's compound as shown; empty: equal to cs")               \
    X(NEG, "VADER's negative share in 1e-4 units")                             \
    X(NEU, "VADER's neutral share in 1e-4 units")                              \
    X(POS, "VADER's positive share in 1e-4 units")                             \
    X(BODY, "comment text (JSON-escaped), the last field")

/* A public part too long for its bucket: the bucket holds this, the part
   is in the hour's es:{c}:<YYYYMMDDHH>:l. Post titles are in the hour's
   es:{c}:<YYYYMMDDHH>:t, once for all the comments of a post. */
#define ES_RECORD_LONG "\x1d"

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
