/*
 * es_jscan.h - an allocation-free scanner for one flat JSON object.
 *
 * Dump files hold one JSON object per line and a backfill reads hundreds of
 * millions of them, of which it keeps a few fields. Building a tree (as
 * jansson does) for every line would cost far more than the decompression,
 * so this scanner walks the top-level members of the object in one pass
 * without allocating: each member is reported as its key and the raw span
 * of its value, nested objects and arrays are skipped (but still checked),
 * and string bodies are skipped eight bytes at a time. Strings are decoded
 * only when the caller wants their value (es_jscan_unescape).
 *
 * Syntax is checked strictly (RFC 8259): a truncated or malformed line is an
 * error, never a partial object. Byte sequences inside strings are not
 * checked for valid UTF-8 here; whoever stores text repairs it (es_utf8.h).
 */
#ifndef ES_JSCAN_H
#define ES_JSCAN_H

#include <stddef.h>

typedef enum {
    ES_JSON_STRING = 0,
    ES_JSON_NUMBER,
    ES_JSON_TRUE,
    ES_JSON_FALSE,
    ES_JSON_NULL,
    ES_JSON_OBJECT,
    ES_JSON_ARRAY
} es_json_type;

/* Deepest nesting accepted inside a value (deeper input is an error). */
#define ES_JSCAN_MAX_DEPTH 64

/*
 * One top-level member. Spans point into the scanned buffer (borrowed).
 * For a string the span is its body between the quotes, still escaped when
 * *_escaped is set; for other types it is the value's text as written.
 */
typedef struct {
    const char *key;
    size_t key_len;
    int key_escaped;
    const char *val;
    size_t val_len;
    int val_escaped;
    es_json_type type;
} es_jscan_member;

typedef struct {
    const char *start;
    const char *p;
    const char *end;
    int state;       /* 0 before '{', 1 first member, 2 later, 3 done, -1 */
    const char *err; /* static message once state is -1 */
    size_t err_off;  /* byte offset of the error */
} es_jscan;

/* Prepares a scan of buf[0..n); buf is borrowed for the scan's lifetime. */
void es_jscan_init(es_jscan *s, const char *buf, size_t n);

/*
 * Reports the next member in *m. Returns 1 for a member, 0 once the object
 * is closed and only whitespace follows it, -1 on a syntax error (see
 * es_jscan_error; every later call returns -1 too).
 */
int es_jscan_next(es_jscan *s, es_jscan_member *m);

/* Runs the scan to its end: 0 when the whole object is valid, else -1. */
int es_jscan_finish(es_jscan *s);

/* The reason of the last error (static text) and its offset, or NULL. */
const char *es_jscan_error(const es_jscan *s, size_t *offset);

/*
 * Decodes a string body (as reported in a member) into out: every escape,
 * \uXXXX included, becomes UTF-8; surrogate pairs combine, a lone surrogate
 * and \u0000 become U+FFFD (so the result is a safe C string). The result
 * is never longer than n bytes, so out_size >= n + 1 always suffices; it is
 * NUL-terminated. Returns the length, or (size_t)-1 when out is too small or
 * an escape is malformed.
 */
size_t es_jscan_unescape(const char *s, size_t n, char *out, size_t out_size);

/* 1 when the member's key equals the NUL-terminated name (unescaped keys). */
int es_jscan_key_is(const es_jscan_member *m, const char *name, size_t len);

#endif
