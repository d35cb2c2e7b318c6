/*
 * es_schema.h - the numbers of the Redis contract that more than one
 * program, or more than one language, must agree on: how long each kind
 * of bucket lives, how long the live stream grows, which protocol the
 * enrich worker's calls speak, the fields of a tenant's monthly usage
 * hash (written by enrich.lua and the summarizer, read by the workers'
 * budget checks and the API's GET /usage) and the Bedrock budget a tenant
 * has until it sets one.
 *
 * One X-macro table, so C gets them as enum constants and the Redis
 * functions get them as the table ES of a prelude the build writes in
 * front of every library (lib/redis/luagen.c): a lifetime changed here
 * changes everywhere at once, and nothing repeats it by hand. Values are
 * seconds unless the name says otherwise; each fits an int.
 */
#ifndef ES_SCHEMA_H
#define ES_SCHEMA_H

/* X(name, value, what it is) */
#define ES_SCHEMA_CONSTANTS(X)                                                 \
    X(TTL_MINUTE, 2 * 86400,                                                   \
      "minute buckets live this long after their hour ends")                   \
    X(TTL_HOUR, 90 * 86400,                                                    \
      "hour buckets live this long after their day ends")                      \
    X(TTL_DAY, 730 * 86400,                                                    \
      "day buckets (and share of voice) live this long after their month "     \
      "(day) ends")                                                            \
    X(TTL_USAGE, 400 * 86400, "a tenant's monthly usage counters")             \
    X(LIVE_MAXLEN, 10000, "entries kept, about, in a tenant's live stream")    \
    X(ENRICH_PROTOCOL, 5,                                                      \
      "the es_enrich_write protocol the enrich worker and enrich.lua speak")   \
    X(BUCKET_TARGET, 64,                                                       \
      "records an hour's record bucket is split to hold, about")               \
    X(BUCKET_SPLIT_MAX, 1024, "most sub-buckets an hour's records split into") \
    X(PUBLIC_INLINE_MAX, 512,                                                  \
      "longest public part kept in its bucket; longer ones in the hour's :l")

/* the fields of es:{t:<tenant>}:usage:<YYYYMM> */
#define ES_USAGE_COMMENTS       "comments"
#define ES_USAGE_UNITS          "comprehend_units"
#define ES_USAGE_USD            "comprehend_usd_micros"
#define ES_USAGE_BEDROCK_INPUT  "bedrock_input_tokens"
#define ES_USAGE_BEDROCK_OUTPUT "bedrock_output_tokens"
#define ES_USAGE_BEDROCK_USD    "bedrock_usd_micros"
#define ES_USAGE_SUMMARIES      "summaries"

/*
 * The same fields as one table, X(name, field): the Redis functions get
 * it as ES.USAGE.<name> (lib/redis/luagen.c), so a field added above and
 * here is a field Lua spells alike.
 */
#define ES_USAGE_FIELDS(X)                                                     \
    X(COMMENTS, ES_USAGE_COMMENTS)                                             \
    X(UNITS, ES_USAGE_UNITS)                                                   \
    X(USD, ES_USAGE_USD)                                                       \
    X(BEDROCK_INPUT, ES_USAGE_BEDROCK_INPUT)                                   \
    X(BEDROCK_OUTPUT, ES_USAGE_BEDROCK_OUTPUT)                                 \
    X(BEDROCK_USD, ES_USAGE_BEDROCK_USD)                                       \
    X(SUMMARIES, ES_USAGE_SUMMARIES)

/*
 * A tenant's monthly Bedrock budget in US dollars when its meta holds no
 * bedrock_budget_usd (0 there means: never Bedrock, always the local
 * summary).
 */
#define ES_BEDROCK_BUDGET_DEFAULT_USD 1.00

#define ES_SCHEMA_ENUM_(name, value, what) ES_##name = (value),
enum es_schema_constant { ES_SCHEMA_CONSTANTS(ES_SCHEMA_ENUM_) };
#undef ES_SCHEMA_ENUM_

#endif
