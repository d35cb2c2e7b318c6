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

/* Redis function library loaded by the workers. */
#define ES_FUNCTION_LIBRARY "echostream"

int es_key_cursor(char *buf, size_t size, const char *subreddit);
int es_key_seen(char *buf, size_t size, uint64_t id_num);
int es_key_gone(char *buf, size_t size, uint64_t id_num);

/* Bit offset of a comment id inside its chunk. */
uint64_t es_dedup_offset(uint64_t id_num);

#endif
