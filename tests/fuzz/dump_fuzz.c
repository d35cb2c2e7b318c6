/*
 * dump_fuzz.c - lines of Reddit comment dumps (Pushshift / Arctic Shift
 * NDJSON), as `echostream-ingest --backfill` hands them to
 * es_dump_comment_parse, with and without a watchlist.
 *
 * Invariants: every string of a kept comment lies inside the line or the
 * parser's scratch space; the id and subreddit checks the sink applies
 * next stay within their bounds; a malformed line says why.
 */
#include "dump_comment.h"
#include "es_ids.h"
#include "fuzz.h"

/* v lies inside the line or inside the parser's scratch space (or is
 * the parser's default for a missing author) */
static int inside(es_strv v, const char *line, size_t n,
                  const es_dump_parser *p)
{
    if (v.n == 0 || (v.n == 9 && memcmp(v.s, "[deleted]", 9) == 0)) {
        return 1;
    }
    if (v.s >= line && v.s + v.n <= line + n) {
        return 1;
    }
    return p->buf != NULL && v.s >= p->buf && v.s + v.n <= p->buf + p->cap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char idbuf[16], sub[22];
    es_dump_parser p;
    es_dump_result r;
    uint64_t num;
    es_comment c;
    char *line;

    line = es_fuzz_copy(data, size, 0);
    memset(&p, 0, sizeof(p));

    r = es_dump_comment_parse(&p, line, size, NULL, &c);
    if (r == ES_DUMP_KEPT) {
        ES_FUZZ_CHECK(inside(c.id, line, size, &p));
        ES_FUZZ_CHECK(inside(c.subreddit, line, size, &p));
        ES_FUZZ_CHECK(inside(c.author, line, size, &p));
        ES_FUZZ_CHECK(inside(c.body, line, size, &p));
        ES_FUZZ_CHECK(inside(c.permalink, line, size, &p));
        ES_FUZZ_CHECK(inside(c.link_id, line, size, &p));
        /* what the sink checks next (ids and names are its to refuse) */
        if (es_comment_id_parse(c.id.s, c.id.n, &num) == 0) {
            es_comment_id_format(num, idbuf);
            ES_FUZZ_CHECK(strlen(idbuf) <= 13);
        }
        if (es_subreddit_normalize(c.subreddit.s, c.subreddit.n, sub) == 0) {
            ES_FUZZ_CHECK(strlen(sub) >= 2 && strlen(sub) <= 21);
        }
    } else if (r == ES_DUMP_MALFORMED) {
        ES_FUZZ_CHECK(p.error != NULL);
    }

    es_dump_comment_cleanup(&p);
    free(line);
    return 0;
}
