/*
 * watchlist.h - the set of subreddits some topic watches, as ingest sees it.
 *
 * The API writes es:{watch}:subs (subreddit -> number of topics watching it)
 * and bumps es:{watch}:version on every change. Ingest reads the small
 * version counter often and reloads the hash only when it moved, so a
 * watchlist change reaches the pollers within one refresh interval at the
 * cost of one GET. Lookups are O(1) in an open-addressing hash set, because
 * a backfill asks once per dump line.
 */
#ifndef ES_INGEST_WATCHLIST_H
#define ES_INGEST_WATCHLIST_H

#include <stddef.h>

#include "es_redis.h"

typedef struct es_watchlist es_watchlist;

/* An empty watchlist (never loaded); NULL when out of memory. */
es_watchlist *es_watchlist_new(void);

void es_watchlist_free(es_watchlist *wl);

/*
 * Reads es:{watch}:version and, on the first call or when it changed,
 * reloads es:{watch}:subs. Fields that are not valid subreddit names are
 * skipped with a log line; values <= 0 are not watched. Returns 1 when the
 * set was (re)loaded, 0 when unchanged (or Redis answered with an error,
 * logged: the previous set is kept), -1 when the worker is stopping.
 */
int es_watchlist_refresh(es_watchlist *wl, es_redis *r);

/*
 * Replaces the set with n names (any case; invalid ones skipped), without
 * Redis: for tests and fixed lists. 0, or -1 when out of memory.
 */
int es_watchlist_set_names(es_watchlist *wl, const char *const *names,
                           size_t n);

/* 1 when sub_lower[0..n) (lower-case) is in the set. */
int es_watchlist_contains(const es_watchlist *wl, const char *sub_lower,
                          size_t n);

/* Number of names in the set, and the i-th (borrowed, lower-case). */
size_t es_watchlist_count(const es_watchlist *wl);
const char *es_watchlist_name(const es_watchlist *wl, size_t i);

/* 1 when the set holds "all": every subreddit counts as watched. */
int es_watchlist_all(const es_watchlist *wl);

#endif
