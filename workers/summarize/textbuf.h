/*
 * textbuf.h - a growing text buffer for the summaries and prompts this
 * worker writes.
 *
 * Appends never fail loudly one by one: the first allocation failure marks
 * the buffer, later appends do nothing, and es_tb_take answers NULL, so a
 * writer composes a whole text and checks once.
 */
#ifndef ES_SUM_TEXTBUF_H
#define ES_SUM_TEXTBUF_H

#include <stddef.h>

typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} es_tb;

void es_tb_printf(es_tb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void es_tb_put(es_tb *b, const char *s, size_t n);

/*
 * Appends s with '&', '<', '>' and '"' as character references (every
 * attribute written is double-quoted, so '\'' stays as written), a
 * line break ("\n"; "\r" is dropped) as newline, and a tab as a space:
 * markup-safe text for the HTML of the digest (newline "<br>\n") and for
 * the <comment> blocks of the Bedrock prompt (newline " ").
 */
void es_tb_put_escaped(es_tb *b, const char *s, const char *newline);

/* The text (caller frees), or NULL when an append failed; b is reset. */
char *es_tb_take(es_tb *b);

void es_tb_free(es_tb *b);

#endif
