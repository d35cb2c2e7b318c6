/*
 * es_tcache.h - a per-process cache of verified tokens, so a token seen
 * again costs one hash lookup instead of an RSA check.
 *
 * The key is the SHA-256 of the token's bytes (es_tcache_key), the value
 * the claims es_jwt_verify produced; an entry is good until the token's own
 * exp. The cache knows nothing of policies or key sets: a hit means "this
 * exact token passed es_jwt_verify under the policy its owner uses", so one
 * cache serves one policy (or the policy is mixed into the key).
 *
 * Open addressing (linear probing, backward-shift deletion, load at most
 * one half) over an index table and a dense entry array, both allocated
 * once by es_tcache_new: lookups and inserts never allocate and the cache
 * never grows past its capacity. Not thread-safe: each nginx worker owns
 * one.
 */
#ifndef ES_TCACHE_H
#define ES_TCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "es_jwt.h"

/* Largest capacity es_tcache_new accepts. */
#define ES_TCACHE_MAX_CAPACITY (1u << 24)

typedef struct es_tcache es_tcache;

/* Counters since creation; entries is the number held now. */
typedef struct {
    uint64_t hits;      /* es_tcache_get answered 1 */
    uint64_t misses;    /* es_tcache_get answered 0, expired drops included */
    uint64_t entries;   /* entries held now */
    uint64_t evictions; /* entries removed by es_tcache_put to make room */
} es_tcache_stats;

/*
 * A new empty cache of capacity entries (1..ES_TCACHE_MAX_CAPACITY; about
 * 520 bytes each, allocated now). Returns NULL on a capacity out of range
 * or no memory. Free with es_tcache_free.
 */
es_tcache *es_tcache_new(size_t capacity);

/* Frees c (may be NULL) and every entry. */
void es_tcache_free(es_tcache *c);

/*
 * Looks key up at time now (seconds since the epoch). Returns 1 and copies
 * the claims into *out when present and now <= their exp; an entry found
 * expired is dropped and counts as a miss. Returns 0 otherwise (*out
 * untouched). Never allocates.
 */
int es_tcache_get(es_tcache *c, const unsigned char key[32], int64_t now,
                  es_jwt_claims *out);

/*
 * Stores a copy of *claims under key, good until claims->exp; a key
 * already present has its claims replaced. When the cache is full, the
 * entry with the earliest exp among a sample of up to 16 entries (taken
 * round-robin; every entry when the cache holds no more) is evicted first,
 * so expired and soon-expiring entries go before fresh ones. Never
 * allocates.
 */
void es_tcache_put(es_tcache *c, const unsigned char key[32],
                   const es_jwt_claims *claims);

/* The cache key of token (len bytes): its SHA-256. */
void es_tcache_key(const char *token, size_t len, unsigned char key[32]);

/* Copies the counters of c into *out. */
void es_tcache_stats_get(const es_tcache *c, es_tcache_stats *out);

#endif /* ES_TCACHE_H */
