/*
 * es_vader_int.h - what the files of the VADER port share (es_vader.c: the
 * scoring rules, es_vader_lexicon.c: the word table, es_vader_text.c: the
 * tokenizer). Not a public interface.
 *
 * One table holds every word the rules ask about, keyed by its lower-case
 * UTF-8 bytes: the lexicon valences and, merged into the same entries,
 * NLTK's NEGATE list, the single-word boosters and dampeners, and the few
 * words that NLTK compares literally ("but", "least", "never", the idiom
 * words...). A token is therefore classified by one lookup.
 *
 * Lookups are the hot path of scoring, so the table is a perfect hash
 * (hash and displace): a key's hash picks a bucket, the bucket's
 * displacement (a small array that stays in L1) picks the one slot the key
 * can be in, and one compare of that slot says whether it is there. No
 * probing, no branch that depends on the word: a token costs one cache
 * line of the slot array, which is dense (load up to 15/16) so the whole
 * lexicon fits in L2. Keys are handled as zero-padded 64-bit words: the
 * tokenizer lower-cases a token into two registers (keys of 16 bytes or
 * less, nearly all) and a slot holds the first 16 key bytes inline, so the
 * compare is two word compares; only keys longer than 16 bytes (a handful)
 * finish the compare in the key arena.
 */
#ifndef ES_VADER_INT_H
#define ES_VADER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "es_vader.h"
#include "es_vader_ucd.h"

/*
 * entry flags (ES_VW_*) and token-only flags (ES_VT_*). ES_VT_MOD marks a
 * word the rules for the lexicon words after it act on: ES_VT_NEGATED, a
 * booster or a dampener, or "never", "so", "this" as written.
 */
#define ES_VW_LEX     0x01 /* in the lexicon: val is its valence */
#define ES_VW_NEGATE  0x02 /* in NLTK's NEGATE */
#define ES_VW_BOOST   0x04 /* booster: +0.293 */
#define ES_VW_DAMPEN  0x08 /* dampener: -0.293 */
#define ES_VT_NT      0x10 /* contains "n't" (case-insensitively) */
#define ES_VT_UPPER   0x20 /* str.isupper() */
#define ES_VT_MOD     0x40 /* see above */
#define ES_VT_LATER   0x80 /* tokenizer only: lookup of k0, k1 pending */
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

/*
 * Bit b of es_vader_idiom_next[a]: the words a b (ES_VC_*), adjacent, begin
 * one of the idioms or two-word boosters of es_vader.c's rules.
 */
extern const uint32_t es_vader_idiom_next[32];

/* 64-bit words handled as vectors of bytes or 16-bit lanes, GCC-style. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ES_VADER_SWAR 1
#else
#define ES_VADER_SWAR 0
#endif

#if defined(__GNUC__)
#define ES_VADER_PREFETCH(p) __builtin_prefetch(p)
#else
#define ES_VADER_PREFETCH(p) ((void)(p))
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
    /* the perfect hash: key k is in slots[es_vader_slot(k)] or nowhere */
    es_vader_entry *slots; /* mask + 1 slots, 64-byte aligned */
    uint32_t *disp;        /* one displacement per bucket */
    uint64_t mask;         /* slots - 1 (a power of two minus one) */
    unsigned bshift;       /* bucket = hash >> bshift */
    uint64_t hseed;        /* seed of the key hash, chosen by the build */
    char *arena;           /* every key, each 8-aligned with zeros up to 16
                              bytes or the next multiple of 8 */
    size_t arena_len, arena_cap;
    size_t count;   /* keys */
    size_t max_key; /* longest key in bytes: longer tokens skip the lookup */
    size_t key_cap; /* max_key capped at ES_VADER_KEY_MAX */
    uint64_t seed;  /* per-table seed of the per-text duplicate hash */
    es_vader_entry spill; /* written for keys too long to be looked up */
    /* Unicode case: see es_vader_case_info */
    uint16_t *case1;     /* per block of code points: its block in case2 */
    int32_t *case2;      /* per code point: lower-case delta * 4 + class */
    uint32_t case_limit; /* code points from here on are uncased */
    /* while loading only: an open-addressing dictionary of the keys */
    es_vader_entry *build;
    size_t build_mask;
};

/* The case table's blocks: 128 code points. */
#define ES_VADER_CASE_SHIFT 7

/* The case classes of str.isupper(). */
#define ES_VADER_CASE_UPPER    1 /* an upper-case letter */
#define ES_VADER_CASE_NOTUPPER 2 /* lower or title case: never isupper() */

/* One token as NLTK's words_and_emoticons holds it, classified. */
typedef struct {
    const char *p;
    uint32_t len;
    uint8_t flags;   /* ES_VW_* of its lower-case form, ES_VT_* */
    uint8_t lw;      /* ES_VL_*; while ES_VT_LATER: whether the key is the
                        token as written */
    uint8_t cs;      /* ES_VC_* */
    uint8_t klen;    /* while ES_VT_LATER: the key's length (<= 16), */
    uint64_t k0, k1; /* and its bytes, zero-padded */
    const es_vader_entry *e; /* its entry, or &es_vader_none (while
                                ES_VT_LATER: the one slot it can be in) */
} es_vader_tok;

/* 64-bit hash of any n bytes with a seed (the per-text duplicate table). */
uint64_t es_vader_hash(const char *s, size_t n, uint64_t seed);

/*
 * Hash of a word-table key of n bytes with the table's seed: k0 and k1 are
 * its first 16 bytes, zero-padded; key is read only when n > 16, 64 bits at
 * a time, and must then be readable, and zero, from n up to the next
 * multiple of 8. Every bit of the result depends on every key bit (the
 * perfect hash takes its bucket and its slot from different bits).
 */
static inline uint64_t es_vader_key_hash(uint64_t seed, uint64_t k0,
                                         uint64_t k1, const char *key, size_t n)
{
    /* two independent products: short latency */
    uint64_t h = ((k0 ^ seed) * 0x9e3779b97f4a7c15ull) ^
                 (k1 * 0xff51afd7ed558ccdull) ^ (uint64_t)n,
             w;
    size_t i;

    for (i = 16; i < n; i += 8) {
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    return h ^ (h >> 29);
}

/* The entry of every word that is no key: all zero, no flags. */
extern const es_vader_entry es_vader_none;

/*
 * The one slot a key of hash h can be in: its bucket's displacement d
 * steps from the home h1 by d times the odd h2 (so d = 0 .. mask reaches
 * every slot), h1, h2 and the bucket coming from disjoint bits of h.
 */
static inline const es_vader_entry *es_vader_slot(const es_vader *v, uint64_t h)
{
    uint64_t d = v->disp[h >> v->bshift];
    uint64_t h1 = h & 0xffffffffu, h2 = ((h >> 32) & 0xffffu) | 1;

    return &v->slots[(h1 + d * h2) & v->mask];
}

/*
 * e if the candidate slot e holds the key of n <= 16 bytes k0, k1 (as for
 * es_vader_key_hash), else &es_vader_none. Without a branch: whether a
 * token is a word of the lexicon is as good as random.
 */
static inline const es_vader_entry *
es_vader_confirm16(const es_vader_entry *e, uint64_t k0, uint64_t k1, size_t n)
{
    uintptr_t ok = (uintptr_t)0 -
                   (uintptr_t)((e->k0 == k0) & (e->k1 == k1) & (e->len == n));

    /* a select, not a branch: whether a token is a key is as good as random */
    return (const es_vader_entry *)(((uintptr_t)e & ok) |
                                    ((uintptr_t)&es_vader_none & ~ok));
}

/* es_vader_confirm16 for a key of any length n >= 1 (key as for
 * es_vader_key_hash). */
static inline const es_vader_entry *es_vader_confirm(const es_vader *v,
                                                     const es_vader_entry *e,
                                                     uint64_t k0, uint64_t k1,
                                                     const char *key, size_t n)
{
    if (n <= 16) {
        return es_vader_confirm16(e, k0, k1, n);
    }
    if (e->k0 == k0 && e->k1 == k1 && e->len == n &&
        memcmp(v->arena + e->off + 16, key + 16, n - 16) == 0) {
        return e;
    }
    return &es_vader_none;
}

/* The entry of a lower-case key (as es_vader_confirm), or &es_vader_none. */
static inline const es_vader_entry *es_vader_find(const es_vader *v,
                                                  uint64_t k0, uint64_t k1,
                                                  const char *key, size_t n)
{
    uint64_t h = es_vader_key_hash(v->hseed, k0, k1, key, n);

    return es_vader_confirm(v, es_vader_slot(v, h), k0, k1, key, n);
}

/*
 * Decodes the character at s (n >= 1 bytes available) into *cp and returns
 * its length. An invalid sequence gives U+FFFD and the length of its maximal
 * subpart, exactly as Python's UTF-8 decoder with errors="replace" would.
 */
size_t es_vader_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Python's str.isspace() for non-ASCII code points. */
int es_vader_uspace(uint32_t cp);

/*
 * Builds v's case table from es_vader_ucd.h (see es_vader_case.c); -1 when
 * out of memory. es_vader_free frees it.
 */
int es_vader_case_build(es_vader *v);

/* Index of code point cp (< v->case_limit) in v->case2. */
static inline size_t es_vader_case_slot(const es_vader *v, uint32_t cp)
{
    return ((size_t)v->case1[cp >> ES_VADER_CASE_SHIFT]
            << ES_VADER_CASE_SHIFT) |
           (cp & ((1u << ES_VADER_CASE_SHIFT) - 1));
}

/* The case info of cp: (lower case - cp) * 4 + ES_VADER_CASE_* class. */
static inline int32_t es_vader_case_info(const es_vader *v, uint32_t cp)
{
    return cp < v->case_limit ? v->case2[es_vader_case_slot(v, cp)] : 0;
}

/* str.isupper()'s class of cp: ES_VADER_CASE_UPPER, _NOTUPPER or 0. */
static inline int es_vader_case_class(const es_vader *v, uint32_t cp)
{
    return (int)((uint32_t)es_vader_case_info(v, cp) & 3);
}

/* The lower case of cp (single code point mappings; U+0130 is not one). */
static inline uint32_t es_vader_case_lower(const es_vader *v, uint32_t cp)
{
    int32_t info = es_vader_case_info(v, cp);

    return (uint32_t)((int32_t)cp + (info - (info & 3)) / 4);
}

/*
 * What the tokenizer finds over the whole text on its way, besides the
 * tokens: what the rules ask of the text as a whole, gathered in its last
 * pass over the tokens so that the rules need none of their own.
 */
typedef struct {
    size_t nupper; /* ALL CAPS tokens */
    size_t nexcl;  /* '!' anywhere in the text */
    size_t nquest; /* '?' anywhere in the text */
    size_t but;    /* index of the first "but" token; the token count if none */
    size_t nlex;   /* lexicon tokens (their indices: the lex array) */
    int idioms;    /* two adjacent tokens start an idiom or a two-word
                      booster: without, the idiom rules cannot apply */
} es_vader_counts;

/*
 * Splits text into NLTK's words_and_emoticons, classifying each token. At
 * most cap tokens are written to toks (cap >= es_vader_max_tokens(n) never
 * truncates); the indices of the lexicon tokens go to lex (room for cap).
 * Returns the number of tokens and fills *counts.
 */
size_t es_vader_tokenize(const es_vader *v, const char *text, size_t n,
                         es_vader_tok *toks, size_t cap, uint32_t *lex,
                         es_vader_counts *counts);

/* An upper bound of the tokens of an n-byte text. */
size_t es_vader_max_tokens(size_t n);

#endif
