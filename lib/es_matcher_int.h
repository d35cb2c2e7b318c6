/*
 * es_matcher_int.h - the matcher's data, shared by its two halves:
 * es_matcher.c (adding and compiling topics) and es_matcher_match.c
 * (building the index and matching comments). Not a public interface.
 */
#ifndef ES_MATCHER_INT_H
#define ES_MATCHER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "es_matcher.h"
#include "es_text.h"

enum { K_WORD = 1, K_PREFIX, K_AUTHOR };
enum { OP_TERM, OP_PHRASE, OP_NOT, OP_AND, OP_OR };

#define OP(op, arg) (((uint32_t)(op) << 28) | (uint32_t)(arg))
#define NONE        UINT32_MAX
#define ALWAYS      0x0fffffffu /* pseudo-term every comment has */
#define AUTHOR_MAX  64

typedef struct {
    uint64_t *keys; /* 0 = empty */
    uint32_t *vals;
    size_t cap, n; /* cap is a power of two */
} map;

typedef struct {
    uint32_t text, len;
    uint8_t kind;
} term;

typedef struct {
    uint32_t handle, code, ncode;
} topic;

typedef struct {
    uint32_t sub, tid, topic;
} posting;

struct es_matcher {
    int built;
    char *pool; /* term and subreddit texts */
    size_t npool, cpool;
    term *terms;
    size_t nterms, cterms;
    map term_map;
    uint32_t *subs; /* pool offsets of subreddit names; 0 is "all" */
    size_t nsubs, csubs;
    map sub_map;
    topic *topics;
    size_t ntopics, ctopics;
    uint32_t *code;
    size_t ncode, ccode, max_code;
    uint32_t *phr; /* phrase p: phr[p] = nwords, then the word term ids */
    size_t nphr, cphr;
    posting *post;
    size_t npost, cpost;
    uint8_t plen_used[ES_QUERY_MAX_BYTES + 1]; /* prefix lengths in use */
    uint32_t plens[ES_QUERY_MAX_BYTES + 1];
    size_t nplens;
    /* built */
    map pair_map;     /* (sub, term) -> range in post_topics */
    uint32_t *ranges; /* start, count pairs */
    uint32_t *post_topics;
    uint64_t *filter;
    uint64_t filter_mask;
    /* per comment scratch */
    uint32_t gen;
    uint32_t *term_stamp, *topic_stamp;
    char *fold;
    es_token *toks;
    uint32_t *tok_tid;
    size_t scratch_bytes;
    uint32_t *present;
    uint8_t *stack;
};

/* Hash maps of 64-bit keys (never 0) to 32-bit values; 0 or -1. */
int es_mx_map_init(map *m, size_t want);
int es_mx_map_put(map *m, uint64_t key, uint32_t val);

/* A term hash mixed with its kind: the key of the term map. */
uint64_t es_mx_mix(uint64_t h, unsigned kind);

/* The term id of (kind, s[0..n)) with text hash h, or NONE. */
uint32_t es_mx_term_find(const es_matcher *m, unsigned kind, uint64_t h,
                         const char *s, size_t n);

/* The id of subreddit s[0..n) (0 is "all"), or NONE. */
uint32_t es_mx_sub_find(const es_matcher *m, const char *s, size_t n);

#endif
