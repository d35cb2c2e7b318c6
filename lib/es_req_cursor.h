/*
 * es_req_cursor.h - the cursor of GET /topics/{id}/comments: where the
 * next page of a topic's comments starts.
 *
 * Paging by rank would repeat or skip comments as new ones arrive, so the
 * cursor names the last comment shown: its score (creation time in ms),
 * its id, and how many comments of that very score the pages so far
 * passed (ties, a hint that lets the next ZRANGE ask for exactly enough).
 * Its text is base64url of "<score>:<ties>:<id>": opaque to clients, and
 * read strictly, canonical form only, because every part ends up in a
 * Redis command. Decoding and encoding live together here so a test can
 * check that each cursor the API accepts is one it could have given.
 */
#ifndef ES_REQ_CURSOR_H
#define ES_REQ_CURSOR_H

#include <stddef.h>
#include <stdint.h>

/* the longest cursor text read (decoded argument bytes) */
#define ES_REQ_CURSOR_LEN 64
/* scores are ms since the epoch: below 10^15 */
#define ES_REQ_CURSOR_SCORE_MAX 999999999999999LL
#define ES_REQ_CURSOR_TIES_MAX  999999
/* comment ids: 1-12 of [0-9a-z] */
#define ES_REQ_CURSOR_ID_LEN 12

typedef struct {
    int64_t score;                     /* 0..ES_REQ_CURSOR_SCORE_MAX */
    uint32_t ties;                     /* 0..ES_REQ_CURSOR_TIES_MAX */
    char id[ES_REQ_CURSOR_ID_LEN + 1]; /* NUL-terminated */
    size_t id_len;
} es_req_cursor;

/*
 * Reads the cursor text s[0..n) into *out: 0, or -1 for anything but the
 * canonical text es_req_cursor_encode() gives for some cursor.
 */
int es_req_cursor_decode(const char *s, size_t n, es_req_cursor *out);

/*
 * Writes the text of *c into out (room for ES_REQ_CURSOR_LEN + 1 bytes,
 * NUL-terminated) and returns its length, or -1 when a part of *c is out
 * of its range (out is then "").
 */
int es_req_cursor_encode(const es_req_cursor *c, char *out);

/* 1 when s[0..n) is a comment id as cursors hold them: [0-9a-z]{1,12} */
int es_req_cursor_id_valid(const char *s, size_t n);

#endif
