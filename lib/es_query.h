/*
 * es_query.h - the keyword query language of topics (docs/queries.md):
 *
 *   rust async          both words (AND is the default)
 *   "borrow checker"    an exact phrase
 *   rust OR golang      either
 *   -java  NOT java     without
 *   (a OR b) c          grouping
 *   optim*              a prefix
 *   author:name         comments by that author
 *
 * Matching is case-insensitive on whole words of UTF-8 text, with accents of
 * Latin scripts folded (café matches cafe). One parser serves the API (to
 * validate, with the position and reason of an error) and the enrich worker
 * (compiled into a matcher, es_matcher.h). Limits keep every query cheap:
 * length, terms, nesting depth and prefix length are bounded, and a query
 * that could only ever match by negation is rejected.
 */
#ifndef ES_QUERY_H
#define ES_QUERY_H

#include <stddef.h>

#define ES_QUERY_MAX_BYTES 1024
#define ES_QUERY_MAX_TERMS 64
#define ES_QUERY_MAX_DEPTH 8

typedef struct es_query es_query;

typedef struct {
    size_t offset;    /* byte offset of the problem in the query */
    size_t column;    /* 1-based character (code point) column */
    char reason[160]; /* "unbalanced parenthesis", … */
} es_query_error;

/*
 * Parses q[0..n). Returns a new query (free with es_query_free), or NULL
 * with err filled. An empty query (only spaces) is valid and matches every
 * comment of the topic's subreddits.
 */
es_query *es_query_parse(const char *q, size_t n, es_query_error *err);

void es_query_free(es_query *query);

/*
 * Writes the query in a canonical form (normalized terms, explicit
 * operators) into buf; returns its length or -1 if it does not fit. Two
 * queries with the same canonical form match the same comments.
 */
int es_query_canonical(const es_query *query, char *buf, size_t size);

/*
 * The parsed form, read by the matcher and by tests. Leaves hold folded
 * text (es_text.h): a word, the words of a phrase separated by single
 * spaces, a prefix without its '*', or a lower-case author name. A query
 * word that folds to several words ("don't", "e-mail", "東京") is a phrase.
 * AND and OR have two or more children and never a child of their own kind;
 * NOT has one child that is never a NOT.
 */
typedef enum {
    ES_QN_WORD,
    ES_QN_PHRASE,
    ES_QN_PREFIX,
    ES_QN_AUTHOR,
    ES_QN_AND,
    ES_QN_OR,
    ES_QN_NOT
} es_qnode_kind;

typedef struct es_qnode {
    es_qnode_kind kind;
    unsigned nkids;                     /* AND, OR: >= 2; NOT: 1 */
    const struct es_qnode *const *kids; /* borrowed from the query */
    const char *text;                   /* leaves; not NUL-terminated */
    size_t len;                         /* bytes of text */
    unsigned nwords;                    /* phrase: number of words */
    size_t offset;                      /* byte offset in the source */
} es_qnode;

/* The root node (borrowed, lives as long as query), NULL when empty. */
const es_qnode *es_query_root(const es_query *query);

/*
 * The reference evaluation of one query against one comment: tokenizes the
 * body and walks the tree, scanning the words for every term. Slow (the
 * matcher is the fast path) but obviously right; the tests and benchmarks
 * compare the matcher with it. author may be NULL. Returns 1 (matches),
 * 0 (does not) or -1 (out of memory). An empty query matches.
 */
int es_query_match(const es_query *query, const char *author, const char *body,
                   size_t body_len);

#endif
