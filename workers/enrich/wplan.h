/*
 * wplan.h - a write plan: the increments of one tenant's part of a batch,
 * summed in the worker before they are sent.
 *
 * Many comments of a batch hit the same minute, hour and day fields, the
 * same trending terms and the same share-of-voice field, so summing them
 * here turns one Redis command per comment and field into one per distinct
 * field. A plan is a set of keys (each with a kind and an expiry time) and,
 * per key, a set of slots (field or member → value). Lookups are hashed, so
 * adding is O(1) per increment; keys and slots keep insertion order, which
 * is the order they are sent in. Slot positions (es_wplan_number) are what
 * the function uses to subtract the share of a comment that was replayed,
 * or of a deletion it did not apply.
 */
#ifndef ES_ENRICH_WPLAN_H
#define ES_ENRICH_WPLAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t off;     /* name in the arena */
    uint32_t len;   /* name length */
    uint32_t hash;  /* of the name */
    uint32_t first; /* first slot + 1 (0: none) */
    uint32_t last;  /* last slot + 1 */
    uint32_t n;     /* slots */
    /* 'h' HINCRBY, 'z' ZINCRBY, 'a' APPEND; 'H', 'Z', 'A' the same of a
       deletion (contrib.h); 'x' a marker, never sent */
    char kind;
    long long exp; /* EXPIREAT time ('h', 'z'); a marker's: the caller's */
} es_wkey;

typedef struct {
    size_t off;    /* field or member in the arena */
    uint32_t len;  /* its length */
    uint32_t hash; /* of key index and name */
    uint32_t key;  /* key index */
    uint32_t next; /* next slot of the key + 1 (0: none) */
    uint32_t pos;  /* 1-based position in sending order (es_wplan_number) */
    long long v;   /* summed increment */
} es_wslot;

typedef struct {
    char *arena;
    size_t alen, acap;
    es_wkey *keys;
    size_t nkeys, kcap;
    es_wslot *slots;
    size_t nslots, scap;
    uint32_t *ktab; /* key index + 1, 0 = empty; size a power of two */
    size_t ktcap;
    uint32_t *stab; /* slot index + 1, 0 = empty */
    size_t stcap;
    int oom; /* an add failed: the plan is incomplete */
} es_wplan;

void es_wplan_init(es_wplan *p);
void es_wplan_free(es_wplan *p);

/* Forgets every key and slot, keeping the memory. */
void es_wplan_reset(es_wplan *p);

/*
 * The index of key name[0..n), added with kind and exp when new (*fresh
 * set to 1, else 0). -1 when out of memory (p->oom is set).
 */
long es_wplan_key(es_wplan *p, char kind, const char *name, size_t n,
                  long long exp, int *fresh);

/*
 * Adds v to slot f[0..n) of key k (created at 0). Returns the slot index, or -1
 * when out of memory.
 */
long es_wplan_add(es_wplan *p, long k, const char *f, size_t n, long long v);

/* The index of key name[0..n), or -1 when the plan has no such key. */
long es_wplan_find(const es_wplan *p, const char *name, size_t n);

/*
 * Assigns slot positions in sending order, keys in order, then slots,
 * from after position last (0 for the first plan of a call); returns the
 * last position assigned (last when the plan has no slot).
 */
uint32_t es_wplan_number(es_wplan *p, uint32_t last);

/* The name of key k / slot s (not NUL-terminated; valid until a change). */
const char *es_wplan_key_name(const es_wplan *p, size_t k);
const char *es_wplan_slot_name(const es_wplan *p, size_t s);

#endif
