/*
 * es_matcher_test.c - unit tests for lib/es_matcher.c.
 *
 * The semantics are checked comment by comment on small topic sets; then a
 * randomized cross-check builds hundreds of random queries over a small
 * vocabulary (so they share anchors and actually match) and compares the
 * matcher's answer for random comments with the reference evaluation of
 * every topic on its own (es_query_match plus the subreddit rule). A fixed
 * seed keeps failures reproducible.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_matcher.h"
#include "es_query.h"

typedef struct {
    es_matcher *m;
    es_query *q[64];
    size_t nq;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    f->m = es_matcher_new();
    *state = f;
    return f->m ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;

    for (size_t i = 0; i < f->nq; i++) {
        es_query_free(f->q[i]);
    }
    es_matcher_free(f->m);
    free(f);
    return 0;
}

/* Adds topic handle with a comma-separated subreddit list and a query. */
static void add(fixture *f, uint32_t handle, const char *subs,
                const char *query)
{
    char buf[256];
    const char *names[8];
    size_t n = 0;
    es_query *q = NULL;
    es_query_error err;

    snprintf(buf, sizeof(buf), "%s", subs);
    for (char *s = strtok(buf, ","); s != NULL; s = strtok(NULL, ",")) {
        names[n++] = s;
    }
    if (query != NULL) {
        q = es_query_parse(query, strlen(query), &err);
        if (q == NULL) {
            fail_msg("'%s': %s", query, err.reason);
        }
        f->q[f->nq++] = q;
    }
    assert_int_equal(es_matcher_add(f->m, handle, names, n, q), 0);
}

/* The matching handles as a bit mask (handles < 32). */
static uint32_t match(fixture *f, const char *sub, const char *author,
                      const char *body)
{
    uint32_t out[32], mask = 0;
    size_t n = es_matcher_match(f->m, sub, author, body, strlen(body), out, 32);

    assert_true(n <= 32);
    for (size_t i = 0; i < n; i++) {
        assert_true((mask & (1u << out[i])) == 0); /* each once */
        mask |= 1u << out[i];
    }
    return mask;
}

#define B(n) (1u << (n))

static void test_words_match_whole_words_case_and_accents_folded(void **state)
{
    fixture *f = *state;

    add(f, 0, "rust", "rust");
    add(f, 1, "rust", "café");
    add(f, 2, "rust", "Straße");
    assert_int_equal(es_matcher_build(f->m), 0);
    assert_int_equal(match(f, "rust", NULL, "I trust rusty code"), 0);
    assert_int_equal(match(f, "rust", NULL, "RUST is great"), B(0));
    assert_int_equal(match(f, "rust", NULL, "Rust's traits"), B(0));
    assert_int_equal(match(f, "rust", NULL, "un CAFE noir"), B(1));
    assert_int_equal(match(f, "rust", NULL, "cafe\xcc\x81 strasse"),
                     B(1) | B(2));
}

static void test_boolean_operators(void **state)
{
    fixture *f = *state;

    add(f, 0, "rust", "rust async");
    add(f, 1, "rust", "tokio OR actix");
    add(f, 2, "rust", "rust -java");
    add(f, 3, "rust", "(tokio OR actix) NOT unsafe");
    add(f, 4, "rust", "NOT (java OR go) rust");
    assert_int_equal(es_matcher_build(f->m), 0);
    assert_int_equal(match(f, "rust", NULL, "rust async"), B(0) | B(2) | B(4));
    assert_int_equal(match(f, "rust", NULL, "async only"), 0);
    assert_int_equal(match(f, "rust", NULL, "actix web"), B(1) | B(3));
    assert_int_equal(match(f, "rust", NULL, "unsafe tokio"), B(1));
    assert_int_equal(match(f, "rust", NULL, "rust and java"), 0);
    assert_int_equal(match(f, "rust", NULL, "rust and go"), B(2));
}

static void test_phrases_prefixes_and_authors(void **state)
{
    fixture *f = *state;

    add(f, 0, "rust", "\"borrow checker\"");
    add(f, 1, "rust", "optim*");
    add(f, 2, "rust", "author:Ferris");
    add(f, 3, "rust", "author:ferris \"zero cost\" OR bor*");
    add(f, 4, "rust", "don't");
    assert_int_equal(es_matcher_build(f->m), 0);
    assert_int_equal(match(f, "rust", NULL, "The Borrow-Checker says no"),
                     B(0) | B(3));
    assert_int_equal(match(f, "rust", NULL, "checker borrow"), B(3));
    assert_int_equal(match(f, "rust", NULL, "optimizing OPTIMAL"), B(1));
    assert_int_equal(match(f, "rust", NULL, "suboptimal op"), 0);
    assert_int_equal(match(f, "rust", "FERRIS", "hello"), B(2));
    assert_int_equal(match(f, "rust", "ferris", "zero cost abstractions"),
                     B(2) | B(3));
    assert_int_equal(match(f, "rust", "ferris2", "zero cost"), 0);
    assert_int_equal(match(f, "rust", NULL, "I don\xe2\x80\x99t know"), B(4));
    assert_int_equal(match(f, "rust", NULL, "dont"), 0);
}

static void test_subreddits_all_and_empty_queries(void **state)
{
    fixture *f = *state;

    add(f, 0, "rust,golang", "compiler");
    add(f, 1, "all", "compiler");
    add(f, 2, "python", NULL);
    add(f, 3, "python,all", "");
    add(f, 4, "", "compiler");
    assert_int_equal(es_matcher_build(f->m), 0);
    assert_int_equal(match(f, "rust", NULL, "compiler bug"),
                     B(0) | B(1) | B(3));
    assert_int_equal(match(f, "golang", NULL, "the compiler"),
                     B(0) | B(1) | B(3));
    assert_int_equal(match(f, "java", NULL, "compiler"), B(1) | B(3));
    assert_int_equal(match(f, "python", NULL, "anything"), B(2) | B(3));
    assert_int_equal(match(f, "python", NULL, ""), B(2) | B(3));
    assert_int_equal(match(f, "java", NULL, "nothing here"), B(3));
}

static void test_many_topics_sharing_anchors_each_reported_once(void **state)
{
    es_matcher *m = es_matcher_new();
    es_query *q = es_query_parse("rust OR rusty OR rust*", 22, NULL);
    const char *subs[] = {"rust", "all", "rust"};
    uint32_t *out = calloc(5000, sizeof(uint32_t));
    char *seen = calloc(5000, 1);
    size_t n;

    (void)state;
    assert_non_null(m);
    assert_non_null(q);
    for (uint32_t i = 0; i < 5000; i++) {
        assert_int_equal(es_matcher_add(m, i, subs, 3, q), 0);
    }
    assert_int_equal(es_matcher_build(m), 0);
    assert_int_equal(es_matcher_add(m, 9, subs, 1, q), -1);
    n = es_matcher_match(m, "rust", NULL, "rust rusty rustacean", 20, out,
                         5000);
    assert_int_equal(n, 5000);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(seen[out[i]], 0);
        seen[out[i]] = 1;
    }
    /* more matches than room: the count is still exact */
    assert_int_equal(es_matcher_match(m, "x", NULL, "rust", 4, out, 10), 5000);
    assert_int_equal(es_matcher_match(m, "x", NULL, "trust", 5, out, 10), 0);
    free(out);
    free(seen);
    es_query_free(q);
    es_matcher_free(m);
}

/* --- randomized cross-check against the reference evaluation --- */

static uint32_t rnd_state = 20240601;

static uint32_t rnd(uint32_t n)
{
    rnd_state = rnd_state * 1664525u + 1013904223u;
    return (rnd_state >> 8) % n;
}

static const char *const vocab[] = {
    "rust",   "Rust",   "trust",   "café",    "CAFE",    "go",
    "golang", "borrow", "checker", "zero",    "cost",    "java",
    "don't",  "l'été",  "ete",     "optimal", "optimize"};
#define NVOCAB (sizeof(vocab) / sizeof(vocab[0]))

static size_t rand_expr(char *q, size_t o, int depth)
{
    size_t terms = 1 + rnd(3);

    for (size_t t = 0; t < terms; t++) {
        uint32_t k = rnd(10);
        if (t > 0) {
            o += (size_t)sprintf(q + o, rnd(3) == 0 ? " OR " : " ");
        }
        if (rnd(5) == 0) {
            o += (size_t)sprintf(q + o, rnd(2) ? "-" : "NOT ");
        }
        if (k == 0 && depth < 3) {
            o += (size_t)sprintf(q + o, "(");
            o = rand_expr(q, o, depth + 1);
            o += (size_t)sprintf(q + o, ")");
        } else if (k == 1) {
            o += (size_t)sprintf(q + o, "\"%s %s\"", vocab[rnd(NVOCAB)],
                                 vocab[rnd(NVOCAB)]);
        } else if (k == 2) {
            const char *pre[] = {"ru", "opt", "caf", "go", "che"};
            o += (size_t)sprintf(q + o, "%s*", pre[rnd(5)]);
        } else if (k == 3) {
            o += (size_t)sprintf(q + o, "author:%s", rnd(2) ? "bob" : "Eve");
        } else {
            o += (size_t)sprintf(q + o, "%s", vocab[rnd(NVOCAB)]);
        }
    }
    return o;
}

static void test_matcher_agrees_with_reference_on_random_queries(void **state)
{
    enum { NTOPICS = 400, NCOMMENTS = 3000 };
    const char *subs[] = {"rust", "golang", "java", "all"};
    es_query **qs = calloc(NTOPICS, sizeof(*qs));
    uint32_t *tsubs = calloc(NTOPICS, sizeof(uint32_t)); /* bit mask */
    uint32_t *out = calloc(NTOPICS, sizeof(uint32_t));
    char *got = calloc(NTOPICS, 1);
    es_matcher *m = es_matcher_new();
    size_t ntop = 0, total = 0;

    (void)state;
    assert_non_null(m);
    while (ntop < NTOPICS) {
        char q[512];
        const char *names[4];
        size_t n = 0, len = rand_expr(q, 0, 0);
        es_query *query = es_query_parse(q, len, NULL);
        if (query == NULL) {
            continue; /* e.g. only negated terms */
        }
        tsubs[ntop] = 0;
        for (uint32_t s = 0; s < 4; s++) {
            if (rnd(3) == 0) {
                names[n++] = subs[s];
                tsubs[ntop] |= 1u << s;
            }
        }
        qs[ntop] = rnd(40) == 0 ? NULL : query;
        assert_int_equal(es_matcher_add(m, (uint32_t)ntop, names, n, qs[ntop]),
                         0);
        if (qs[ntop] == NULL) {
            es_query_free(query);
        }
        ntop++;
    }
    assert_int_equal(es_matcher_build(m), 0);
    for (int c = 0; c < NCOMMENTS; c++) {
        char body[512];
        size_t o = 0, words = rnd(12), n;
        uint32_t sub = rnd(3);
        const char *author = rnd(3) == 0 ? "BOB" : rnd(2) ? "eve" : "al";
        const char *seps[] = {" ", ", ", "-", "! ", "\xe2\x80\x99", "\xff"};
        for (size_t w = 0; w < words; w++) {
            o += (size_t)sprintf(body + o, "%s%s", vocab[rnd(NVOCAB)],
                                 seps[rnd(6)]);
        }
        n = es_matcher_match(m, subs[sub], author, body, o, out, NTOPICS);
        memset(got, 0, NTOPICS);
        for (size_t i = 0; i < n; i++) {
            got[out[i]] = 1;
        }
        for (size_t t = 0; t < NTOPICS; t++) {
            int want =
                (tsubs[t] & ((1u << sub) | 8u)) != 0 &&
                (qs[t] == NULL || es_query_match(qs[t], author, body, o) == 1);
            if (want != got[t]) {
                char canon[512] = "";
                if (qs[t] != NULL) {
                    es_query_canonical(qs[t], canon, sizeof(canon));
                }
                fail_msg("topic %zu [%s] on r/%s by %s: '%.*s': want %d", t,
                         canon, subs[sub], author, (int)o, body, want);
            }
            total += (size_t)want;
        }
    }
    assert_true(total > 1000); /* the test exercises real matches */
    for (size_t t = 0; t < NTOPICS; t++) {
        es_query_free(qs[t]);
    }
    es_matcher_free(m);
    free(qs);
    free(tsubs);
    free(out);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_words_match_whole_words_case_and_accents_folded, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_boolean_operators, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_phrases_prefixes_and_authors,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_subreddits_all_and_empty_queries,
                                        setup, teardown),
        cmocka_unit_test(test_many_topics_sharing_anchors_each_reported_once),
        cmocka_unit_test(test_matcher_agrees_with_reference_on_random_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
