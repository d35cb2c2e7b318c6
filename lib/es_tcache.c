/*
 * es_tcache.c - verified-token cache (see es_tcache.h).
 *
 * Two arrays: a power-of-two index of uint32 slots (0 empty, else entry
 * position + 1) at least twice the capacity, and the entries themselves,
 * kept dense in [0, count) by moving the last one into any hole. The index
 * keeps probe chains short; the dense array lets eviction sample entries
 * without wading through empty slots. Keys are SHA-256 digests, uniform
 * already, so their first 8 bytes are the hash.
 *
 * Deleting from a linear-probing table shifts later members of the chain
 * back into the hole (no tombstones), so lookups stay as fast after many
 * expiries as on a fresh table.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "es_tcache.h"

/* Entries looked at to choose a victim when the cache is full. */
#define EVICT_SAMPLE 16

typedef struct {
    unsigned char key[32];
    es_jwt_claims claims;
} es_tcache_entry;

struct es_tcache {
    size_t capacity;
    size_t count;
    size_t mask;              /* index slots - 1 */
    size_t hand;              /* where the next eviction sample starts */
    uint32_t *slots;          /* 0, or entry position + 1 */
    es_tcache_entry *entries; /* dense: [0, count) in use */
    uint64_t hits, misses, evictions;
};

static size_t home_slot(const es_tcache *c, const unsigned char *key)
{
    uint64_t h;

    memcpy(&h, key, sizeof(h));
    return (size_t)h & c->mask;
}

/* The index slot holding key, or (size_t)-1. */
static size_t find_slot(const es_tcache *c, const unsigned char *key)
{
    size_t i = home_slot(c, key);

    /* the load is at most one half: an empty slot always ends the chain */
    while (c->slots[i] != 0) {
        if (memcmp(c->entries[c->slots[i] - 1].key, key, 32) == 0) {
            return i;
        }
        i = (i + 1) & c->mask;
    }
    return (size_t)-1;
}

/* Removes the entry the index slot i points at. */
static void remove_at(es_tcache *c, size_t i)
{
    size_t pos = c->slots[i] - 1, last = c->count - 1, j = i, home;

    /* backward shift: pull later chain members into the hole at i */
    c->slots[i] = 0;
    for (;;) {
        j = (j + 1) & c->mask;
        if (c->slots[j] == 0) {
            break;
        }
        home = home_slot(c, c->entries[c->slots[j] - 1].key);
        /* the member at j may move to i unless its home lies in (i, j] */
        if (((j - home) & c->mask) >= ((j - i) & c->mask)) {
            c->slots[i] = c->slots[j];
            c->slots[j] = 0;
            i = j;
        }
    }
    /* keep the entries dense: the last one fills the hole */
    if (pos != last) {
        c->entries[pos] = c->entries[last];
        c->slots[find_slot(c, c->entries[pos].key)] = (uint32_t)(pos + 1);
    }
    c->count--;
}

/* Evicts the entry expiring first among a round-robin sample. */
static void evict_one(es_tcache *c)
{
    size_t n = c->count < EVICT_SAMPLE ? c->count : EVICT_SAMPLE;
    size_t victim = c->hand % c->count;

    for (size_t k = 0; k < n; k++) {
        size_t pos = (c->hand + k) % c->count;

        if (c->entries[pos].claims.exp < c->entries[victim].claims.exp) {
            victim = pos;
        }
    }
    c->hand = (c->hand + n) % c->count;
    remove_at(c, find_slot(c, c->entries[victim].key));
    c->evictions++;
}

es_tcache *es_tcache_new(size_t capacity)
{
    es_tcache *c;
    size_t slots = 2;

    if (capacity == 0 || capacity > ES_TCACHE_MAX_CAPACITY) {
        return NULL;
    }
    while (slots < capacity * 2) {
        slots *= 2;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->capacity = capacity;
    c->mask = slots - 1;
    c->slots = calloc(slots, sizeof(*c->slots));
    c->entries = calloc(capacity, sizeof(*c->entries));
    if (c->slots == NULL || c->entries == NULL) {
        es_tcache_free(c);
        return NULL;
    }
    return c;
}

void es_tcache_free(es_tcache *c)
{
    if (c == NULL) {
        return;
    }
    free(c->slots);
    free(c->entries);
    free(c);
}

int es_tcache_get(es_tcache *c, const unsigned char key[32], int64_t now,
                  es_jwt_claims *out)
{
    size_t i = find_slot(c, key);
    const es_tcache_entry *e;

    if (i == (size_t)-1) {
        c->misses++;
        return 0;
    }
    e = &c->entries[c->slots[i] - 1];
    if (now > e->claims.exp) {
        remove_at(c, i);
        c->misses++;
        return 0;
    }
    *out = e->claims;
    c->hits++;
    return 1;
}

void es_tcache_put(es_tcache *c, const unsigned char key[32],
                   const es_jwt_claims *claims)
{
    size_t i = find_slot(c, key);
    es_tcache_entry *e;

    if (i != (size_t)-1) {
        c->entries[c->slots[i] - 1].claims = *claims;
        return;
    }
    if (c->count == c->capacity) {
        evict_one(c);
    }
    e = &c->entries[c->count];
    memcpy(e->key, key, 32);
    e->claims = *claims;
    i = home_slot(c, key);
    while (c->slots[i] != 0) {
        i = (i + 1) & c->mask;
    }
    c->count++;
    c->slots[i] = (uint32_t)c->count;
}

void es_tcache_key(const char *token, size_t len, unsigned char key[32])
{
    SHA256((const unsigned char *)token, len, key);
}

void es_tcache_stats_get(const es_tcache *c, es_tcache_stats *out)
{
    out->hits = c->hits;
    out->misses = c->misses;
    out->entries = c->count;
    out->evictions = c->evictions;
}
