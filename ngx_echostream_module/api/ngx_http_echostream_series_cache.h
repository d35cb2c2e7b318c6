/*
 * ngx_http_echostream_series_cache.h - each nginx worker's cache of
 * assembled /topics/{id}/series answers, always checked against Redis.
 *
 * An entry is the JSON text of one answer's points, keyed by tenant,
 * topic, step, first bucket and number of points, and tagged with the
 * tenant's data version (the counter es:{t:<tenant>}:dv as read before
 * the buckets were). The enrich worker INCRs that counter with every
 * write that changes the tenant's counts, and the topic functions with
 * every topic write, so "same version" means "same data": the series
 * route reads the counter on every request (one tiny round trip) and
 * sends the entry only when the version is unchanged. Entries also age
 * out after NGX_HTTP_ECHOSTREAM_SERIES_CACHE_TTL, because bucket hashes
 * expire by time, without a write.
 *
 * Bounded by entries and bytes (least recently used goes first), per
 * worker (no shared memory, no locks), freed at worker exit. An entry
 * being sent is reference-counted by the request's pool, so eviction never
 * frees text still in an output chain.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_SERIES_CACHE_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_SERIES_CACHE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

/* how long an entry may answer at all, whatever the version (ms) */
#define NGX_HTTP_ECHOSTREAM_SERIES_CACHE_TTL 60000
/* tenant, topic (64 each), separators, step, first bucket, points: the
 * longest possible key (172 bytes) always fits */
#define NGX_HTTP_ECHOSTREAM_SERIES_KEY_MAX 192
/* the longest data version kept (INCR counters have at most 20 digits) */
#define NGX_HTTP_ECHOSTREAM_SERIES_DV_MAX 32

typedef struct {
    u_char data[NGX_HTTP_ECHOSTREAM_SERIES_KEY_MAX];
    size_t len;
    uint32_t hash;
} ngx_http_echostream_series_key_t;

/*
 * Creates this worker's cache: at most entries answers and bytes bytes
 * (0 entries: no cache, every call below is a no-op or a miss). Returns
 * NGX_OK or NGX_ERROR (no memory).
 */
ngx_int_t ngx_http_echostream_series_cache_init(ngx_uint_t entries,
                                                size_t bytes, ngx_log_t *log);

/* Frees the cache at worker exit (entries still being sent go when sent). */
void ngx_http_echostream_series_cache_exit(void);

/* 1 when the cache is on. */
ngx_uint_t ngx_http_echostream_series_cache_enabled(void);

/* Fills *key (the bytes and their hash) for one answer's points. */
void ngx_http_echostream_series_key(ngx_http_echostream_series_key_t *key,
                                    const u_char *tenant, size_t tenant_len,
                                    const ngx_str_t *topic, u_char step,
                                    int64_t from, ngx_uint_t npoints);

/*
 * 1 when an entry for key is held and young enough to be validated (so
 * the route asks Redis for the version first instead of reading all).
 */
ngx_uint_t ngx_http_echostream_series_cache_held(
    const ngx_http_echostream_series_key_t *key);

/*
 * The text of key's entry when it is young and was stored with data
 * version dv (dv NULL: the counter does not exist), borrowed until pool
 * is destroyed (the entry is referenced by a cleanup of pool); it is moved
 * to the front of the eviction order. NULL on a miss: a stale entry is
 * dropped, and NULL also when memory for the reference ran out.
 */
ngx_str_t *ngx_http_echostream_series_cache_get(
    const ngx_http_echostream_series_key_t *key, const ngx_str_t *dv,
    ngx_pool_t *pool);

/*
 * Stores a copy of text (len bytes) under key with data version dv (NULL:
 * no counter yet), replacing what key held, evicting the least recently
 * used entries beyond the limits. A text over an eighth of the byte limit,
 * a dv longer than NGX_HTTP_ECHOSTREAM_SERIES_DV_MAX or no memory leaves
 * the cache without the entry: caching is never needed for an answer.
 */
void ngx_http_echostream_series_cache_put(
    const ngx_http_echostream_series_key_t *key, const ngx_str_t *dv,
    const u_char *text, size_t len);

/* Drops key's entry, if any (its topic is gone). */
void ngx_http_echostream_series_cache_drop(
    const ngx_http_echostream_series_key_t *key);

#endif /* _NGX_HTTP_ECHOSTREAM_SERIES_CACHE_H_INCLUDED_ */
