/*
 * es_schema.h - the numbers of the Redis contract that more than one
 * program, or more than one language, must agree on: how long each kind
 * of bucket lives, how long the live stream grows, which protocol the
 * enrich worker's calls speak, and the fields of a tenant's monthly usage
 * hash (written by enrich.lua, read by the enrich worker's budget check
 * and the API's GET /usage).
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
    X(ENRICH_PROTOCOL, 4,                                                      \
      "the es_enrich_write protocol the enrich worker and enrich.lua speak")

/* the fields of es:{t:<tenant>}:usage:<YYYYMM> (ES.USAGE in Lua) */
#define ES_USAGE_COMMENTS "comments"
#define ES_USAGE_UNITS    "comprehend_units"
#define ES_USAGE_USD      "comprehend_usd_micros"

#define ES_SCHEMA_ENUM_(name, value, what) ES_##name = (value),
enum es_schema_constant { ES_SCHEMA_CONSTANTS(ES_SCHEMA_ENUM_) };
#undef ES_SCHEMA_ENUM_

#endif
