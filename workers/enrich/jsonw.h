/*
 * jsonw.h - appending JSON text to a growing buffer, for the two JSON
 * documents the enrich worker writes in bulk (raw archive lines and the
 * stored per-comment records), where building jansson objects per comment would
 * cost more than the rest of the work.
 */
#ifndef ES_ENRICH_JSONW_H
#define ES_ENRICH_JSONW_H

#include <stddef.h>

typedef struct {
    char *buf;
    size_t len, cap;
    int oom; /* an append failed: the text is incomplete */
} es_jsonw;

/* Appends raw bytes. */
void es_jsonw_raw(es_jsonw *w, const char *p, size_t n);

/* Appends s[0..n) as a JSON string; invalid UTF-8 becomes U+FFFD. */
void es_jsonw_str(es_jsonw *w, const char *s, size_t n);

/*
 * Appends s[0..n) as the inside of a JSON string, without the quotes (the
 * stored record's fields, es_record.h); invalid UTF-8 becomes U+FFFD.
 */
void es_jsonw_esc(es_jsonw *w, const char *s, size_t n);

/* Appends "name": (a key followed by a colon). */
void es_jsonw_key(es_jsonw *w, const char *name);

void es_jsonw_free(es_jsonw *w);

#endif
