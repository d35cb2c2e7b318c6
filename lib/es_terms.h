/*
 * es_terms.h - the words of a comment counted as trending terms.
 *
 * A term is a word as the query language sees it (lib/es_text.h: folded
 * to lower case without accents, split at punctuation and apostrophes), at
 * least 3 characters and at most ES_TERM_MAX_BYTES bytes long, not only
 * digits, not an English stop word. Using the matcher's own tokenizer means
 * a trending term typed into a query finds the comments it came from. Each
 * distinct term counts once per comment, so one long rant repeating a word
 * cannot make it trend alone, and only the first ES_TERMS_MAX distinct
 * terms of a comment count: each is one sorted-set increment per topic, the
 * largest share of the write cost, and a comment's opening words carry its
 * subject.
 */
#ifndef ES_TERMS_H
#define ES_TERMS_H

#include <stddef.h>

#define ES_TERM_MAX_BYTES 40
#define ES_TERMS_MAX      8 /* distinct terms kept per comment */

typedef struct {
    char buf[ES_TERMS_MAX * (ES_TERM_MAX_BYTES + 1)];
    const char *term[ES_TERMS_MAX];
    size_t len[ES_TERMS_MAX];
    size_t n;
} es_terms;

/* Tokenizer buffers reused across comments (grown on demand). */
typedef struct {
    char *fold;
    void *tok;
    size_t cap; /* bytes of text the buffers fit */
} es_terms_scratch;

void es_terms_scratch_free(es_terms_scratch *s);

/*
 * Extracts the distinct terms of text[0..n) in order of appearance. Out of
 * memory leaves out empty (a comment without terms, logged by no one: the
 * counts of the series do not depend on it).
 */
void es_terms_extract(const char *text, size_t n, es_terms_scratch *scratch,
                      es_terms *out);

/* 1 when the lower-case word w[0..n) is a stop word. */
int es_terms_is_stop(const char *w, size_t n);

#endif
