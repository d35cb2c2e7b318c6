/*
 * titles.h - the post titles of a batch's public call, each once.
 *
 * A comment's public part names its post's title by reference (a hash of
 * the title, record.h) and the title itself lives once per creation hour
 * in es:{c}:<hour>:t. Comments of one thread arrive together, so a batch
 * holds the same title many times; sending it once per hour and batch
 * spares Redis an HSETNX and five arguments per comment. The expiry sent
 * is the latest any of its comments needs.
 */
#ifndef ES_ENRICH_TITLES_H
#define ES_ENRICH_TITLES_H

#include <stddef.h>

#include "argbuf.h"
#include "entry.h"
#include "jsonw.h"

typedef struct {
    char key[24];  /* hour (10 digits) and title reference (12 hex) */
    long long exp; /* the latest expiry its comments need */
    size_t entry;  /* a comment whose title it is */
} es_title_op;

typedef struct {
    es_title_op *ops;
    size_t n, cap;
} es_titles;

/* Forgets the titles collected (keeps the memory). */
void es_titles_clear(es_titles *t);

/* Collects the title of entries[entry] for hour; 0, or -1 out of memory. */
int es_titles_add(es_titles *t, const char *hour,
                  const es_enrich_entry *entries, size_t entry, long long exp);

/*
 * Appends one "T" operation per distinct hour and title to b (hour,
 * expiry, reference, escaped title; json is scratch) and clears t.
 */
void es_titles_emit(es_titles *t, es_argbuf *b, const es_enrich_entry *entries,
                    es_jsonw *json);

void es_titles_free(es_titles *t);

#endif
