/*
 * es_req_comments.h - the query of GET /topics/{id}/comments: limit,
 * sentiment and cursor, checked before the route builds a key.
 *
 * Checked in that order; the first bad one is answered 400 bad_request
 * naming it, with the words the API has always used.
 */
#ifndef ES_REQ_COMMENTS_H
#define ES_REQ_COMMENTS_H

#include <stddef.h>

#include "es_req.h"
#include "es_req_cursor.h"

#define ES_REQ_COMMENTS_LIMIT     25
#define ES_REQ_COMMENTS_LIMIT_MAX 100

/* the sentiment labels, in the order of es_req_comments_args.sentiment */
#define ES_REQ_SENTIMENTS 4
extern const char *const es_req_sentiments[ES_REQ_SENTIMENTS];

typedef struct {
    unsigned limit; /* 1..ES_REQ_COMMENTS_LIMIT_MAX */
    int sentiment;  /* index into es_req_sentiments, -1: every comment */
    int has_cursor;
    es_req_cursor cursor; /* when has_cursor */
} es_req_comments_args;

/* Reads qs[0..len) into *out: 0, or -1 with *err (400 bad_request). */
int es_req_comments_read(const char *qs, size_t len, es_req_comments_args *out,
                         es_req_err *err);

#endif
