/*
 * reddit_listing.h - a `/r/{sub}/comments` Listing, parsed into comments.
 *
 * Reddit answers {"kind":"Listing","data":{"after","before","children":[
 * {"kind":"t1","data":{…}}]}}, newest comment first. The parser keeps the
 * jansson document alive and hands out es_comment values whose strings are
 * borrowed from it, so a page costs one parse and no copies.
 *
 * Bad input is expected, not exceptional: a body that is not JSON, not a
 * Listing, or truncated fails as a whole with a message; a child that is not
 * a t1 or lacks an id or subreddit is skipped and counted; a missing optional
 * field reads as empty. Invalid UTF-8 (which jansson refuses outright) is
 * repaired first: each bad sequence becomes U+FFFD and the page is parsed,
 * so one broken comment never hides the ninety-nine good ones around it.
 */
#ifndef ES_INGEST_REDDIT_LISTING_H
#define ES_INGEST_REDDIT_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "es_comment.h"

typedef struct {
    json_t *root;      /* the parsed document (owned) */
    es_comment *items; /* newest first; strings borrowed from root */
    uint64_t *nums;    /* numeric id of each item */
    size_t n;          /* usable comments */
    size_t skipped;    /* children that were not usable comments */
    int repaired;      /* 1 when invalid UTF-8 was replaced */
    char before[40];   /* data.before ("" when null) */
    char after[40];    /* data.after ("" when null) */
} es_listing;

/*
 * Parses body[0..len). Returns 0 and fills l, or -1 with a reason in err
 * (l is then empty). Either way es_listing_free releases l.
 */
int es_listing_parse(es_listing *l, const char *body, size_t len, char *err,
                     size_t errlen);

void es_listing_free(es_listing *l);

/* "t1_<id>" of item i into buf (size >= 20). */
void es_listing_name(const es_listing *l, size_t i, char *buf, size_t size);

#endif
