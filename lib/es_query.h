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
    size_t offset;      /* byte offset of the problem in the query */
    size_t column;      /* 1-based character (code point) column */
    char reason[160];   /* "unbalanced parenthesis", … */
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

#endif
