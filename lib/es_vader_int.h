/*
 * es_vader_int.h - what the files of the VADER port share (es_vader.c: the
 * scoring rules, es_vader_lexicon.c: the word table, es_vader_text.c: the
 * tokenizer). Not a public interface.
 *
 * One open-addressing table holds every word the rules ask about, keyed by
 * its lower-case UTF-8 bytes: the lexicon valences and, merged into the same
 * entries, NLTK's NEGATE list, the single-word boosters and dampeners, and
 * the few words that NLTK compares literally ("but", "least", "never",
 * the idiom words...). A token is therefore classified by one lookup.
 *
 * Lookups are the hot path of scoring, so keys are handled as zero-padded
 * 64-bit words: the tokenizer lower-cases a token into a buffer with zeros
 * after it and hashes it a word at a time (two words, without a loop, for
 * the keys of 16 bytes or less that nearly all are). Probing reads a
 * separate array of 16-bit hash tags, 64 KiB that stay in cache, so a token
 * that is no key (most are) usually touches nothing else; a matching tag is
 * confirmed in its entry, which holds the first 16 key bytes inline: two
 * word compares, no memcmp. Only keys longer than 16 bytes (a handful)
 * finish the compare in the key arena.
 */
#ifndef ES_VADER_INT_H
#define ES_VADER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "es_vader.h"

/* entry flags (ES_VW_*) and token-only flags (ES_VT_*) */
#define ES_VW_LEX     0x01 /* in the lexicon: val is its valence */
#define ES_VW_NEGATE  0x02 /* in NLTK's NEGATE */
#define ES_VW_BOOST   0x04 /* booster: +0.293 */
#define ES_VW_DAMPEN  0x08 /* dampener: -0.293 */
#define ES_VT_NT      0x10 /* contains "n't" (case-insensitively) */
#define ES_VT_UPPER   0x20 /* str.isupper() */
#define ES_VT_LATER   0x40 /* tokenizer only: lookup of k0, k1 pending */
#define ES_VT_SAME    0x80 /* tokenizer only: the key is the token as is */
#define ES_VT_NEGATED (ES_VW_NEGATE | ES_VT_NT)

/* words NLTK compares after lower-casing */
enum {
    ES_VL_NONE = 0,
    ES_VL_KIND,
    ES_VL_OF,
    ES_VL_LEAST,
    ES_VL_AT,
    ES_VL_VERY,
    ES_VL_BUT
};

/* words NLTK compares exactly as written (never, so, idioms...) */
enum {
    ES_VC_NONE = 0,
    ES_VC_NEVER,
    ES_VC_SO,
    ES_VC_THIS,
    ES_VC_THE,
    ES_VC_SHIT,
    ES_VC_BOMB,
    ES_VC_BAD,
    ES_VC_ASS,
    ES_VC_YEAH,
    ES_VC_RIGHT,
    ES_VC_CUT,
    ES_VC_MUSTARD,
    ES_VC_KISS,
    ES_VC_OF,
    ES_VC_DEATH,
    ES_VC_HAND,
    ES_VC_TO,
    ES_VC_MOUTH,
    ES_VC_JUST,
    ES_VC_ENOUGH,
    ES_VC_KIND,
    ES_VC_SORT
};

/* 64-bit words handled as vectors of bytes or 16-bit lanes, GCC-style. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ES_VADER_SWAR 1
#else
#define ES_VADER_SWAR 0
#endif

/* Longest key a token is ever looked up with (tokens are lower-cased into
 * a buffer of this size plus padding). */
#define ES_VADER_KEY_MAX 248

typedef struct {
    uint64_t k0, k1; /* the key's first 16 bytes, zero-padded */
    double val;      /* valence when flags has ES_VW_LEX */
    uint32_t off;    /* the whole key in the arena (8-aligned, zero-padded) */
    uint8_t len;     /* key bytes (<= ES_VADER_KEY_MAX); 0: empty slot */
    uint8_t flags;
    uint8_t lw; /* ES_VL_* */
    uint8_t cs; /* ES_VC_* */
} es_vader_entry;

struct es_vader {
    /* es_vader_tag of each slot's key, 0 for an empty slot; then copies of
       the first 3, so that 4 tags can be read from any slot on */
    uint16_t *tags;
    es_vader_entry *slots;
    size_t mask;  /* slots - 1 (a power of two minus one) */
    size_t count; /* entries in use */
    char *arena;  /* every key, each 8-aligned with zeros up to 16 bytes or
                     the next multiple of 8 */
    size_t arena_len, arena_cap;
    size_t max_key; /* longest key in bytes: longer tokens skip the lookup */
    size_t key_cap; /* max_key capped at ES_VADER_KEY_MAX */
    uint64_t seed;  /* per-table seed of the per-text duplicate hash */
    es_vader_entry spill; /* written for keys too long to be looked up */
};

/* One token as NLTK's words_and_emoticons holds it, classified. */
typedef struct {
    const char *p;
    uint32_t len;
    uint8_t flags; /* ES_VW_* of its lower-case form, ES_VT_* */
    uint8_t lw;
    uint8_t cs;
    const es_vader_entry *e; /* its entry, or &es_vader_none */
    uint64_t k0, k1;         /* tokenizer only: its key, when ES_VT_LATER */
} es_vader_tok;

/* 64-bit hash of any n bytes with a seed (the per-text duplicate table). */
uint64_t es_vader_hash(const char *s, size_t n, uint64_t seed);

/*
 * Hash of a word-table key of n bytes: k0 and k1 are its first 16 bytes,
 * zero-padded; key is read only when n > 16, 64 bits at a time, and must
 * then be readable, and zero, from n up to the next multiple of 8.
 */
static inline uint64_t es_vader_key_hash(uint64_t k0, uint64_t k1,
                                         const char *key, size_t n)
{
    /* two independent products: short latency, and the table is fixed */
    uint64_t h = (k0 * 0x9e3779b97f4a7c15ull) ^ (k1 * 0xff51afd7ed558ccdull) ^
                 (uint64_t)n,
             w;
    size_t i;

    for (i = 16; i < n; i += 8) {
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    }
    return h ^ (h >> 29);
}

/* The tag of a key hash: its top bits, never 0 (the empty slot's). */
static inline uint16_t es_vader_tag(uint64_t h)
{
    return (uint16_t)((h >> 48) | 1);
}

/* The entry of every word that is no key: all zero, no flags. */
extern const es_vader_entry es_vader_none;

/* Scalar probing from slot i: the reference the fast path falls back to. */
static inline const es_vader_entry *es_vader_probe(const es_vader *v,
                                                   uint64_t k0, uint64_t k1,
                                                   const char *key, size_t n,
                                                   uint16_t tag, size_t i)
{
    for (;; i = (i + 1) & v->mask) {
        uint16_t t = v->tags[i];
        const es_vader_entry *e;

        if (t == 0) {
            return &es_vader_none;
        }
        if (t != tag) {
            continue;
        }
        e = &v->slots[i];
        if (e->k0 == k0 && e->k1 == k1 && e->len == n &&
            (n <= 16 ||
             memcmp(v->arena + e->off + 16, key + 16, n - 16) == 0)) {
            return e;
        }
    }
}

/*
 * The entry of a lower-case key of n bytes (1 <= n), or &es_vader_none; k0,
 * k1 and key as es_vader_key_hash takes them.
 *
 * The usual case takes no data-dependent branch (whether a token is a word
 * of the lexicon is as good as random): the four tags from the home slot
 * are compared at once, the first match before the first empty slot picks
 * the entry (or es_vader_none), and that entry confirms the key. Only a
 * run of four full slots, a tag that matches a different key or a key
 * longer than 16 bytes goes on probing one slot at a time.
 */
static inline const es_vader_entry *es_vader_find(const es_vader *v,
                                                  uint64_t k0, uint64_t k1,
                                                  const char *key, size_t n)
{
    uint64_t h = es_vader_key_hash(k0, k1, key, n);
    uint16_t tag = es_vader_tag(h);
    size_t i = h & v->mask;
#if ES_VADER_SWAR
    const uint64_t ones = 0x0001000100010001ull, top = 0x8000800080008000ull;
    uint64_t w, x, match, empty;
    const es_vader_entry *e;
    int ok;

    memcpy(&w, v->tags + i, 8); /* v->tags has 3 slots more, see there */
    x = w ^ (tag * ones);
    /* bit 15 of each lane that is zero: exact up to the first such lane */
    match = (x - ones) & ~x & top;
    empty = (w - ones) & ~w & top;
    if (empty != 0) {
        match &= ((uint64_t)1 << __builtin_ctzll(empty)) - 1;
        e = match != 0
                ? &v->slots[(i + (__builtin_ctzll(match) >> 4)) & v->mask]
                : &es_vader_none;
        ok = (e->k0 == k0) & (e->k1 == k1) & (e->len == n) & (n <= 16);
        if (ok | (match == 0)) {
            return e;
        }
    }
#endif
    return es_vader_probe(v, k0, k1, key, n, tag, i);
}

/* What the tokenizer counts over the whole text on its way. */
typedef struct {
    size_t nupper; /* ALL CAPS tokens */
    size_t nexcl;  /* '!' anywhere in the text */
    size_t nquest; /* '?' anywhere in the text */
} es_vader_counts;

/*
 * Splits text into NLTK's words_and_emoticons, classifying each token. At
 * most cap tokens are written to toks (cap >= es_vader_max_tokens(n) never
 * truncates); returns the number of tokens and fills *counts.
 */
size_t es_vader_tokenize(const es_vader *v, const char *text, size_t n,
                         es_vader_tok *toks, size_t cap,
                         es_vader_counts *counts);

/* An upper bound of the tokens of an n-byte text. */
size_t es_vader_max_tokens(size_t n);

#endif
