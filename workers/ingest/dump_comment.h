/*
 * dump_comment.h - one line of a Reddit comment dump as an es_comment.
 *
 * Dumps (Pushshift RC_*.zst, Arctic Shift) hold one JSON object per comment
 * with dozens of fields, of which EchoStream keeps nine. The subreddit is
 * looked at first: a line of a subreddit nobody watches is dropped before
 * anything is decoded, which is what makes a backfill of a whole month
 * affordable. Differences between dump generations are absorbed here:
 * created_utc as a number or a string (old Pushshift), no permalink (built
 * from link_id and id), no link_title (empty), extra fields (retrieved_on,
 * _meta) ignored.
 */
#ifndef ES_INGEST_DUMP_COMMENT_H
#define ES_INGEST_DUMP_COMMENT_H

#include <stddef.h>

#include "es_comment.h"
#include "watchlist.h"

/*
 * Decoding scratch space, reused from line to line so a steady backfill
 * allocates nothing. Zero-initialize, then release with
 * es_dump_comment_cleanup.
 */
typedef struct {
    char *buf;
    size_t cap;
    const char *error; /* reason of the last -1 (static text) */
    size_t error_off;  /* byte offset of a syntax error */
} es_dump_parser;

typedef enum {
    ES_DUMP_KEPT = 1,
    ES_DUMP_FILTERED = 0, /* subreddit not watched */
    ES_DUMP_MALFORMED = -1
} es_dump_result;

/*
 * Parses line[0..n) into *c. wl NULL keeps every subreddit; otherwise only
 * subreddits in wl (or every one when wl holds "all"). On ES_DUMP_KEPT the
 * strings of *c point into line or into p's scratch space (borrowed until
 * the next call); c->source is "backfill". ES_DUMP_MALFORMED sets
 * p->error: invalid JSON, a missing or mistyped id/subreddit/body, or no
 * memory for the scratch space. A filtered line is not validated further.
 */
es_dump_result es_dump_comment_parse(es_dump_parser *p, const char *line,
                                     size_t n, const es_watchlist *wl,
                                     es_comment *c);

void es_dump_comment_cleanup(es_dump_parser *p);

#endif
