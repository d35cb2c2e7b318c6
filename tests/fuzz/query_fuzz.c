/*
 * query_fuzz.c - topic queries, as POST/PUT/PATCH /topics hand them to
 * es_query_parse, and the evaluation of a parsed query against comment
 * text.
 *
 * The input is "query NUL body" (no NUL: all query, a fixed body).
 * Invariants: a refused query has an error whose offset lies within the
 * query; a parsed one prints a canonical form that parses again to the
 * same canonical form; evaluation answers 0 or 1.
 */
#include "es_query.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char fixed[] = "Rust's borrow checker, async fn and Go";
    char canon[8192], canon2[8192];
    const uint8_t *nul;
    es_query_error err;
    es_query *q, *q2;
    size_t qn, bn;
    char *query, *body;
    int rc;

    nul = memchr(data, 0, size);
    qn = nul ? (size_t)(nul - data) : size;
    bn = nul ? size - qn - 1 : sizeof(fixed) - 1;

    query = es_fuzz_copy(data, qn, 0);
    body = nul ? es_fuzz_copy(nul + 1, bn, 1)
               : es_fuzz_copy((const uint8_t *)fixed, bn, 1);

    memset(&err, 0, sizeof(err));
    q = es_query_parse(query, qn, &err);
    if (q == NULL) {
        ES_FUZZ_CHECK(err.offset <= qn);
    } else {
        if (es_query_canonical(q, canon, sizeof(canon)) == 0) {
            q2 = es_query_parse(canon, strlen(canon), &err);
            ES_FUZZ_CHECK(q2 != NULL);
            ES_FUZZ_CHECK(es_query_canonical(q2, canon2, sizeof(canon2)) == 0);
            ES_FUZZ_CHECK(strcmp(canon, canon2) == 0);
            es_query_free(q2);
        }
        rc = es_query_match(q, "fuzz_author", body, bn);
        ES_FUZZ_CHECK(rc == 0 || rc == 1);
        es_query_free(q);
    }

    free(query);
    free(body);
    return 0;
}
