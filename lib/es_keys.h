/*
 * es_keys.h - the Redis key schema (docs/redis-keys.md explains each key).
 *
 * Keys that must change together share a hash tag: everything ingest writes
 * atomically is under "{ingest}", everything of one tenant under
 * "{t:<tenant>}", so the data can move to a Redis Cluster without a schema
 * change. Builders take only validated ids (es_ids.h) and return the length
 * written, or -1 when the buffer is too small.
 */
#ifndef ES_KEYS_H
#define ES_KEYS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The one stream of comments and deletion events. */
#define ES_KEY_STREAM "es:{ingest}:comments"

/* Per-chunk bitmaps of comment ids already streamed / already deleted. */
#define ES_KEY_SEEN_PREFIX "es:{ingest}:seen:"
#define ES_KEY_GONE_PREFIX "es:{ingest}:gone:"
/* 2^20 ids per bitmap chunk: 128 KiB of Redis string at most. */
#define ES_DEDUP_CHUNK_BITS 20

/* Hash per subreddit: poll cursor and rate estimate. */
#define ES_KEY_CURSOR_PREFIX "es:{ingest}:cursor:"

/* Hash: ingest's view of the Reddit rate budget (for /healthz). */
#define ES_KEY_INGEST_BUDGET "es:{ingest}:budget"

/* String: the instance whose poller may spend the Reddit budget (PX). */
#define ES_KEY_INGEST_POLLER "es:{ingest}:poller"

/* Counter: next id of the synthetic comment source. */
#define ES_KEY_SYNTH_SEQ "es:{ingest}:synthetic:seq"

/* Hash: subreddit -> number of topics (all tenants) watching it. */
#define ES_KEY_WATCH_SUBS "es:{watch}:subs"
/* Counter bumped on every watchlist change, so pollers notice cheaply. */
#define ES_KEY_WATCH_VERSION "es:{watch}:version"

/* Dead-letter stream: entries enrichment gave up on, with the error. */
#define ES_KEY_DLQ "es:{ingest}:dlq"

/* Set of every tenant id. */
#define ES_KEY_TENANTS "es:{tenants}:all"
/* Counter bumped on every change of any tenant's topics or settings. */
#define ES_KEY_TOPICS_VERSION "es:{topics}:version"
/* Stream "es:{t:<tenant>}:live" (this suffix after the tenant's prefix):
   per enrich write with new comments, field "ids" = their ids, comma-
   separated, in the order written; capped near ES_LIVE_MAXLEN entries
   (es_schema.h). */
#define ES_KEY_TENANT_LIVE "live"
/* Counter "es:{t:<tenant>}:dv": the tenant's data version, incremented by
   every enrich write that created or deleted comments and by topic
   writes; the API's answer caches check it. */
#define ES_KEY_TENANT_DV "dv"

/* Hash: "<worker>:<instance>" -> JSON heartbeat (see docs/redis-keys.md). */
#define ES_KEY_WORKERS "es:workers"

/* Hash "es:{users}:<user sub>": the user's tenant and role. */
#define ES_KEY_USER_PREFIX "es:{users}:"
/* Hash "es:{invites}:<sha256 hex of the lower-case e-mail>": the invites
   addressed to one e-mail, inviting tenant -> invite JSON. */
#define ES_KEY_INVITES_PREFIX "es:{invites}:"
/* Stream of summary requests, read by the summarizer's consumer group. */
#define ES_KEY_SUMMARY_REQUESTS "es:{summaries}:requests"
/* Stream of mail and webhook deliveries (fields tenant, id), read by the
   deliver consumer group; the delivery is es:{t:<tenant>}:deliveries. */
#define ES_KEY_DELIVER_QUEUE "es:{deliver}:queue"

/* Hash "es:{c}:<YYYYMMDDHH>[:<k>]" (this prefix, the UTC creation hour,
   the sub-bucket when the hour is split): the public part of every stored
   comment created in that hour, comment id -> public part (es_record.h),
   shared by every tenant that stored it; ":l" after the hour holds the
   parts too long for a bucket. */
#define ES_KEY_PUBLIC_PREFIX "es:{c}:"
/* Hash "es:{c}:s:<YYYYMMDD>": per hour HH of the day the number of
   sub-buckets its public parts are split into, and HH:n the parts
   written. */
#define ES_KEY_PUBLIC_SPLIT_PREFIX "es:{c}:s:"

/* The keys of the per-comment storage before schema 2 (one JSON string
   per comment, sorted sets of recent ids): read only by the migration. */
#define ES_KEY_LEGACY_RECORD "c:"      /* + <id>: the JSON record */
#define ES_KEY_LEGACY_RECENT "recent:" /* + <topic>[:<label>] */
/* String "es:{schema}:version": the schema version of the stored data
   (absent: 1); ES_SCHEMA_CURRENT is the one the workers write. */
#define ES_KEY_SCHEMA_VERSION "es:{schema}:version"
#define ES_SCHEMA_CURRENT     "2"
/* String "es:{schema}:migrating": the token of the enrich worker
   migrating the stored data to ES_SCHEMA_CURRENT (SET NX, with an expiry
   it renews while it works; docs/enrich.md). */
#define ES_KEY_SCHEMA_LOCK "es:{schema}:migrating"

/* The prefix of every key of one tenant: "es:{t:<tenant>}:". */
#define ES_KEY_TENANT_PREFIX_FMT "es:{t:%s}:"

/*
 * Every key of one tenant, in one table: X(name, format, pattern). The key
 * is the tenant's prefix followed by format, whose %s (only %s) take
 * validated ids and dates in the order of pattern, which is how
 * docs/redis-keys.md names the key (a test holds the table and the page
 * together, both ways). The nginx module and the workers build keys only
 * through es_tenant_key(); the Redis functions get the formats in their
 * prelude as ES.KEY.<name> (lib/redis/luagen.c) and build them with
 * string.format. A key added here is a key every program spells alike.
 */
#define ES_TENANT_KEYS(X)                                                      \
    X(META, "meta", "meta")                                                    \
    X(MEMBERS, "members", "members")                                           \
    X(INVITES, "invites", "invites")                                           \
    X(REMOVED, "removed", "removed")                                           \
    X(TOPICS, "topics", "topics")                                              \
    X(RULES, "alerts:rules", "alerts:rules")                                   \
    X(ALERT_HISTORY, "alerts:history", "alerts:history")                       \
    X(SUMMARIES, "summaries", "summaries")                                     \
    X(SUMMARY_REQUESTS, "summary_requests", "summary_requests")                \
    X(SUMMARY_PENDING, "summary_pending", "summary_pending")                   \
    X(SUMMARY_SCHED, "summary_sched", "summary_sched")                         \
    X(SUMMARY_LOCK, "summary_lock", "summary_lock")                            \
    X(DIGEST_SCHED, "digest_sched", "digest_sched")                            \
    X(ALERT_STATE, "alerts:state", "alerts:state")                             \
    X(DELIVERIES, "deliveries", "deliveries")                                  \
    X(RECORDS, "cr:%s", "cr:<YYYYMMDDHH>")                                     \
    X(RECORD_SPLIT, "crs:%s", "crs:<YYYYMMDD>")                                \
    X(EARLY_GONE, "cg", "cg")                                                  \
    X(FAR_HOURS, "crh", "crh")                                                 \
    X(SERIES_MINUTE, "ts:%s:m:%s", "ts:<topic>:m:<YYYYMMDDHH>")                \
    X(SERIES_HOUR, "ts:%s:h:%s", "ts:<topic>:h:<YYYYMMDD>")                    \
    X(SERIES_DAY, "ts:%s:d:%s", "ts:<topic>:d:<YYYYMM>")                       \
    X(RECENT, "rc:%s:%s", "rc:<topic>:<YYYYMMDDHH>")                           \
    X(TERMS, "terms:%s:%s", "terms:<topic>:<YYYYMMDDHH>")                      \
    X(SOV, "sov:%s", "sov:<YYYYMMDD>")                                         \
    X(USAGE, "usage:%s", "usage:<YYYYMM>")                                     \
    X(DV, ES_KEY_TENANT_DV, "dv")                                              \
    X(LIVE, ES_KEY_TENANT_LIVE, "live")

#define ES_TK_ENUM_(name, format, pattern) ES_TK_##name,
typedef enum { ES_TENANT_KEYS(ES_TK_ENUM_) ES_TK_COUNT } es_tkey;
#undef ES_TK_ENUM_

/* The format of tenant key k after the prefix ("ts:%s:m:%s"). */
const char *es_tenant_key_format(es_tkey k);

/* How docs/redis-keys.md names tenant key k after the prefix. */
const char *es_tenant_key_pattern(es_tkey k);

/*
 * Writes tenant's key k into buf (size bytes, NUL-terminated): the prefix,
 * then the format with its %s taken, in order, from the const char *
 * arguments that follow (exactly as many as the format has). Returns the
 * length, or -1 when buf is too small or k is not a key.
 */
int es_tenant_key(char *buf, size_t size, const char *tenant, es_tkey k, ...);
int es_tenant_key_v(char *buf, size_t size, const char *tenant, es_tkey k,
                    va_list ap);

/*
 * The same after a prefix the caller built once (prefix[0..plen), as
 * es_tenant_prefix writes it): for the many keys of one tenant a batch
 * makes.
 */
int es_tenant_key_p(char *buf, size_t size, const char *prefix, size_t plen,
                    es_tkey k, ...);

/* "es:{t:<tenant>}:" into buf: its length, or -1. */
int es_tenant_prefix(char *buf, size_t size, const char *tenant);

/* "es:{users}:<sub>" and "es:{invites}:<hex>": length, or -1. */
int es_key_user(char *buf, size_t size, const char *sub);
int es_key_invites(char *buf, size_t size, const char *email_hash_hex);

/* Redis function library loaded by ingest. */
#define ES_FUNCTION_LIBRARY "echostream"

int es_key_cursor(char *buf, size_t size, const char *subreddit);
int es_key_seen(char *buf, size_t size, uint64_t id_num);
int es_key_gone(char *buf, size_t size, uint64_t id_num);

/* Bit offset of a comment id inside its chunk. */
uint64_t es_dedup_offset(uint64_t id_num);

#endif
