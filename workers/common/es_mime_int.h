/*
 * es_mime_int.h - the pieces es_mime.c assembles a message from: an output
 * buffer that knows its column, the header writer (folding, RFC 2047
 * encoded words, mailboxes) of es_mime_hdr.c and the quoted-printable
 * body encoder. Internal to es_mime*.c and their unit test.
 */
#ifndef ES_MIME_INT_H
#define ES_MIME_INT_H

#include <stddef.h>

/* RFC 5322 2.1.1: lines SHOULD stay within 78 characters, MUST within 998 */
#define ES_MIME_LINE_SOFT 78
/* RFC 2047 2: an encoded word is at most 75 characters */
#define ES_MIME_WORD_MAX 75
/* RFC 2045 6.7: quoted-printable lines are at most 76 characters */
#define ES_MIME_QP_LINE 76
/* display names longer than this are refused (no sane sender needs it) */
#define ES_MIME_NAME_MAX 256
/* a subject longer than this is refused */
#define ES_MIME_SUBJECT_MAX 2048

typedef struct {
    char *p;
    size_t len;
    size_t cap;
    size_t col;    /* characters since the last LF */
    int line_used; /* a token follows the header name on this line */
    int oom;
} es_mbuf;

/* Appends s[0..n), keeping col; sets oom (and appends nothing) on failure. */
void es_mbuf_put(es_mbuf *b, const char *s, size_t n);
void es_mbuf_puts(es_mbuf *b, const char *s);

/* Starts a header line "Name:". */
void es_mhdr_begin(es_mbuf *b, const char *name);

/*
 * Appends a token that may not be folded inside. With space set it is
 * preceded by one space, or by CRLF SP when the line would pass 78
 * columns; without, it is glued to what came before.
 */
void es_mhdr_token(es_mbuf *b, const char *tok, size_t n, int space);

/* Appends s[0..n) (valid UTF-8) as space-separated B encoded words. */
void es_mhdr_words(es_mbuf *b, const char *s, size_t n);

/* Ends the header line with CRLF. */
void es_mhdr_end(es_mbuf *b);

/*
 * Writes "Name: value" for an unstructured value (Subject): folded plain
 * text when it is printable ASCII, encoded words otherwise. -1 when the
 * value is refused (CR, LF, invalid UTF-8, too long).
 */
int es_mhdr_unstructured(es_mbuf *b, const char *name, const char *value);

/*
 * Splits a mailbox ("addr", "Name <addr>", "\"Name\" <addr>") into its
 * display name (name, room for ES_MIME_NAME_MAX + 1 bytes, unquoted) and
 * addr-spec (addr, room for ES_MIME_ADDR_MAX + 1). 0, or -1 if refused.
 */
int es_mime_mailbox_split(const char *s, char *name, char *addr);

/*
 * Writes "Name: mailbox, mailbox..." for n mailboxes; -1 if one is
 * refused. The addr-spec of the first is copied to first_addr (room for
 * ES_MIME_ADDR_MAX + 1) when that is not NULL.
 */
int es_mhdr_mailboxes(es_mbuf *b, const char *name, const char *const *list,
                      size_t n, char *first_addr);

/* 1 when s is "left@right" with both sides dot-atom-text (a Message-ID) */
int es_mime_dot_atom_id(const char *s);

/*
 * Appends s[0..n) quoted-printable (RFC 2045 6.7) with CRLF line ends;
 * any line break of the input (CRLF, LF, CR) is a hard break. -1 when s is
 * not valid UTF-8.
 */
int es_mime_qp(es_mbuf *b, const char *s, size_t n);

#endif
