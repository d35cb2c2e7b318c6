/*
 * es_matcher.h - matching comments against every topic of every tenant.
 *
 * Topics are added once (subreddit list + parsed query) and compiled into an
 * index: topics by subreddit, and by "anchor" words a comment must contain
 * for the query to be able to match. A comment is tokenized and folded once;
 * only topics reached through its subreddit and its own words are evaluated,
 * so the cost per comment does not grow with the number of topics in the
 * system. A matcher is immutable after es_matcher_build: the enrich worker
 * builds a new one when topics change and swaps it in.
 */
#ifndef ES_MATCHER_H
#define ES_MATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "es_query.h"

typedef struct es_matcher es_matcher;

es_matcher *es_matcher_new(void);
void es_matcher_free(es_matcher *m);

/*
 * Adds a topic under a caller-chosen handle (e.g. an index into the caller's
 * topic table). subreddits are lower-case names ("all" = every subreddit);
 * query may be NULL or empty (every comment of those subreddits). The query
 * is compiled into the matcher: the caller keeps ownership of it. Returns 0,
 * or -1 when out of memory or after build.
 */
int es_matcher_add(es_matcher *m, uint32_t handle,
                   const char *const *subreddits, size_t nsubs,
                   const es_query *query);

/* Compiles the index; no adds after this. 0 or -1 (out of memory). */
int es_matcher_build(es_matcher *m);

/*
 * Finds every topic matching a comment. Writes up to max handles into out
 * (each once, in no particular order) and returns how many topics matched
 * (which may exceed max). Uses scratch space inside the matcher, so one
 * thread at a time (the enrich worker is single-threaded).
 */
size_t es_matcher_match(es_matcher *m, const char *subreddit,
                        const char *author, const char *body, size_t body_len,
                        uint32_t *out, size_t max);

#endif
