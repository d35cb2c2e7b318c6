/*
 * listing_fuzz.c - Reddit API listing bodies (GET /r/{sub}/comments), as
 * the ingest poller hands them to es_listing_parse: whatever a server
 * (or something in between) may answer.
 *
 * Invariants: every usable comment has an id, a subreddit and a body;
 * the paging cursors are terminated within their arrays; an error says
 * why; names fit the buffer they are printed into.
 */
#include "fuzz.h"
#include "reddit_listing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[160], name[24];
    es_listing l;
    size_t i;
    char *body;

    body = es_fuzz_copy(data, size, 0);
    memset(&l, 0, sizeof(l));
    memset(err, 0x55, sizeof(err));

    if (es_listing_parse(&l, body, size, err, sizeof(err)) == 0) {
        ES_FUZZ_CHECK(memchr(l.before, '\0', sizeof(l.before)) != NULL);
        ES_FUZZ_CHECK(memchr(l.after, '\0', sizeof(l.after)) != NULL);
        for (i = 0; i < l.n; i++) {
            ES_FUZZ_CHECK(l.items[i].id.n > 0 && l.items[i].id.s != NULL);
            ES_FUZZ_CHECK(l.items[i].subreddit.n > 0);
            ES_FUZZ_CHECK(l.items[i].body.s != NULL || l.items[i].body.n == 0);
            es_listing_name(&l, i, name, sizeof(name));
            ES_FUZZ_CHECK(memchr(name, '\0', sizeof(name)) != NULL);
        }
    } else {
        ES_FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    }

    es_listing_free(&l);
    free(body);
    return 0;
}
