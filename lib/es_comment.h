/*
 * es_comment.h - one Reddit comment as it travels through EchoStream.
 *
 * The stream entry of a comment carries exactly these fields (plus "type");
 * later stages need nothing else from Reddit. Strings are borrowed from the
 * producer (a parsed listing, a dump line): whoever keeps a comment beyond
 * the producer's buffer copies it (the ingest sink does).
 */
#ifndef ES_COMMENT_H
#define ES_COMMENT_H

#include <stddef.h>

typedef struct {
    const char *s;
    size_t n;
} es_strv;

typedef struct {
    es_strv id;        /* base-36, without the "t1_" prefix */
    es_strv subreddit; /* as Reddit spells it; stored lower-case */
    es_strv author;
    es_strv body;       /* "[deleted]"/"[removed]" mark a deletion */
    es_strv permalink;  /* relative, "/r/x/comments/…" */
    es_strv link_id;    /* "t3_…" */
    es_strv link_title; /* may be empty (dumps do not carry it) */
    double created_utc; /* seconds since the epoch */
    long long score;
    const char *source; /* "reddit", "backfill", "synthetic" */
} es_comment;

/* Stream field names, in the order entries carry them. */
#define ES_F_TYPE       "type"
#define ES_F_ID         "id"
#define ES_F_SUBREDDIT  "subreddit"
#define ES_F_AUTHOR     "author"
#define ES_F_BODY       "body"
#define ES_F_CREATED    "created_utc"
#define ES_F_PERMALINK  "permalink"
#define ES_F_LINK_ID    "link_id"
#define ES_F_LINK_TITLE "link_title"
#define ES_F_SCORE      "score"
#define ES_F_SOURCE     "source"

/* Values of the "type" field. */
#define ES_TYPE_COMMENT "comment"
#define ES_TYPE_DELETE  "delete"

/* 1 when a body is Reddit's marker of a deleted or removed comment. */
int es_comment_body_is_deleted(const char *s, size_t n);

#endif
