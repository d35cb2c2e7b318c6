/*
 * es_query_test.c - unit tests for lib/es_query.c and lib/es_query_eval.c.
 *
 * Good queries are checked through their canonical form (which shows the
 * tree the parser built); bad ones by the exact byte offset, column and
 * reason of the error, since the API shows those to users. The adversarial
 * inputs (100,000 parentheses, thousands of ORs, NUL bytes, a megabyte)
 * must be refused with a clear reason; their cost is bounded by the length
 * check and the linear parse, which these tests exercise without timing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_query.h"

/* The canonical form of a query that must parse. */
static const char *canon(const char *q, char *buf, size_t size)
{
    es_query_error err;
    es_query *query = es_query_parse(q, strlen(q), &err);

    if (query == NULL) {
        fail_msg("'%s' rejected: %s at %zu", q, err.reason, err.offset);
    }
    assert_true(es_query_canonical(query, buf, size) >= 0);
    es_query_free(query);
    return buf;
}

#define C(q) canon((q), buf, sizeof(buf))

/* Asserts q[0..n) is rejected at offset with reason. */
static void bad_n(const char *q, size_t n, size_t offset, size_t column,
                  const char *reason)
{
    es_query_error err;
    es_query *query = es_query_parse(q, n, &err);

    if (query != NULL) {
        es_query_free(query);
        fail_msg("'%.*s' accepted", (int)(n < 80 ? n : 80), q);
    }
    assert_string_equal(err.reason, reason);
    assert_int_equal(err.offset, offset);
    assert_int_equal(err.column, column);
}

static void bad(const char *q, size_t offset, size_t column, const char *reason)
{
    bad_n(q, strlen(q), offset, column, reason);
}

static void test_words_are_anded_and_folded(void **state)
{
    char buf[512];

    (void)state;
    assert_string_equal(C("Rust  ASYNC"), "async AND rust");
    assert_string_equal(C("rust AND async"), "async AND rust");
    assert_string_equal(C("Café"), "cafe");
    assert_string_equal(C("or not and"), "and AND not AND or");
    assert_string_equal(C("b a (c d) a"), "a AND b AND c AND d");
}

static void test_operators_build_the_expected_tree(void **state)
{
    char buf[512];

    (void)state;
    assert_string_equal(C("rust OR golang"), "golang OR rust");
    assert_string_equal(C("a b OR c"), "(a AND b) OR c");
    assert_string_equal(C("(a OR b) c"), "(a OR b) AND c");
    assert_string_equal(C("rust -java"), "NOT java AND rust");
    assert_string_equal(C("rust NOT (java OR kotlin)"),
                        "NOT (java OR kotlin) AND rust");
    assert_string_equal(C("NOT NOT rust"), "rust");
    assert_string_equal(C("--rust"), "rust");
    assert_string_equal(C("a OR (b OR c)"), "a OR b OR c");
}

static void test_phrases_prefixes_and_authors(void **state)
{
    char buf[512];

    (void)state;
    assert_string_equal(C("\"Borrow  Checker\""), "\"borrow checker\"");
    assert_string_equal(C("\"rust\""), "rust");
    assert_string_equal(C("don't"), "\"don t\"");
    assert_string_equal(C("e-mail"), "\"e mail\"");
    assert_string_equal(C("Optim*"), "optim*");
    assert_string_equal(C("Éco*"), "eco*");
    assert_string_equal(C("author:Spez_Bot-2"), "author:spez_bot-2");
    assert_string_equal(C("AUTHOR:x rust"), "author:x AND rust");
    assert_string_equal(C("東京"), "\"東 京\"");
}

static void test_empty_query_is_valid(void **state)
{
    char buf[16];
    es_query_error err;
    es_query *q = es_query_parse("  \t ", 4, &err);

    (void)state;
    assert_non_null(q);
    assert_null(es_query_root(q));
    assert_int_equal(es_query_canonical(q, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_int_equal(es_query_match(q, NULL, "anything", 8), 1);
    es_query_free(q);
}

static void test_canonical_form_parses_back_to_itself(void **state)
{
    const char *qs[] = {"(a OR \"b c\") -d author:x ef*", "x NOT (y z) OR w",
                        "\"l'été\" OR ß*"};
    char c1[512], c2[512];

    (void)state;
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        canon(qs[i], c1, sizeof(c1));
        canon(c1, c2, sizeof(c2));
        assert_string_equal(c1, c2);
    }
}

static void test_canonical_reports_a_small_buffer(void **state)
{
    es_query *q = es_query_parse("alpha beta", 10, NULL);
    char buf[4];

    (void)state;
    assert_non_null(q);
    assert_int_equal(es_query_canonical(q, buf, sizeof(buf)), -1);
    es_query_free(q);
}

static void test_errors_give_offset_column_and_reason(void **state)
{
    (void)state;
    bad("(rust", 0, 1, "unbalanced parenthesis");
    bad("rust)", 4, 5, "unbalanced parenthesis");
    bad("a \"borrow checker", 2, 3, "unterminated quote");
    bad("a () b", 2, 3, "empty group");
    bad("OR rust", 0, 1, "OR needs a term on both sides");
    bad("rust OR", 5, 6, "OR needs a term on both sides");
    bad("rust OR OR go", 5, 6, "OR needs a term on both sides");
    bad("(rust OR) go", 6, 7, "OR needs a term on both sides");
    bad("AND rust", 0, 1, "AND needs a term on both sides");
    bad("rust NOT", 5, 6, "NOT needs a term after it");
    bad("rust - go", 5, 6, "'-' must be followed directly by a term");
    bad("a*", 0, 1, "prefix needs at least 2 characters");
    bad("x é*", 2, 3, "prefix needs at least 2 characters");
    bad("ab*cd", 2, 3, "'*' is only allowed at the end of a word");
    bad("foo-bar*", 0, 1, "a prefix must be a single word");
    bad("\"\"", 0, 1, "empty phrase");
    bad("rust !!!", 5, 6, "term has no letters or digits");
    bad("author:", 0, 1, "author: needs a name");
    bad("author:a.b", 8, 9, "author names are letters, digits, '_' and '-'");
    bad("-java", 0, 1, "query cannot match: only negated terms");
    bad("NOT (java OR go)", 0, 1, "query cannot match: only negated terms");
    bad("rust OR -java", 0, 1,
        "query can match without any positive term (a negated term alone "
        "in an OR)");
    bad("((((((((( a )))))))))", 8, 9, "nesting deeper than 8");
}

static void test_columns_count_characters_not_bytes(void **state)
{
    (void)state;
    /* "été " is 6 bytes but 4 characters */
    bad("été (x", 6, 5, "unbalanced parenthesis");
    bad("東京 )", 7, 4, "unbalanced parenthesis");
}

static void test_invalid_utf8_and_nul_are_rejected_with_their_byte(void **state)
{
    (void)state;
    bad_n("rust \xff go", 9, 5, 6, "invalid UTF-8 at byte 5");
    bad_n("ab\xc3", 3, 2, 3, "invalid UTF-8 at byte 2");
    bad_n("ab\0cd", 5, 2, 3, "NUL character at byte 2");
}

static void test_limits_on_terms_and_length(void **state)
{
    char q[2048], out[1100];
    size_t o = 0;

    (void)state;
    for (int i = 0; i < 65; i++) {
        o += (size_t)sprintf(q + o, "w%d ", i);
    }
    bad(q, 4 * 10 + 3 * 10 + 4 * 44, 4 * 10 + 3 * 10 + 4 * 44 + 1,
        "too many terms (max 64)");
    memset(q, 'a', 1025);
    bad_n(q, 1025, 1024, 1025, "query too long (max 1024 bytes)");
    memset(q, 'a', 1024);
    q[1024] = '\0';
    assert_string_equal(canon(q, out, sizeof(out)), q);
}

static void test_adversarial_inputs_fail_fast_and_clearly(void **state)
{
    size_t big = 1 << 20;
    char *q = malloc(big);
    size_t o = 0;

    (void)state;
    assert_non_null(q);
    memset(q, '(', 100000);
    bad_n(q, 100000, 1024, 1025, "query too long (max 1024 bytes)");
    bad_n(q, 1000, 8, 9, "nesting deeper than 8");
    while (o + 3 <= 1000) {
        memcpy(q + o, "OR ", 3);
        o += 3;
    }
    bad_n(q, o, 0, 1, "OR needs a term on both sides");
    for (o = 0; o < 50; o += 5) {
        memcpy(q + o, "a OR ", 5);
    }
    bad_n(q, o, o - 3, o - 2, "OR needs a term on both sides");
    for (o = 0; o + 5 <= 1020; o += 5) {
        memcpy(q + o, "a OR ", 5);
    }
    bad_n(q, o, 64 * 5, 64 * 5 + 1, "too many terms (max 64)");
    for (o = 0; o < 10000 * 5; o += 5) {
        memcpy(q + o, "a OR ", 5);
    }
    bad_n(q, o, 1024, 1025, "query too long (max 1024 bytes)");
    memset(q, '!', 1000);
    bad_n(q, 1000, 0, 1, "term has no letters or digits");
    memset(q, 0, 1000);
    bad_n(q, 1000, 0, 1, "NUL character at byte 0");
    memset(q, '-', 1000);
    bad_n(q, 1000, 999, 1000, "'-' must be followed directly by a term");
    memset(q, 'x', big);
    bad_n(q, big, 1024, 1025, "query too long (max 1024 bytes)");
    for (o = 0; o + 4 <= 996; o += 4) { /* 249: an odd count */
        memcpy(q + o, "NOT ", 4);
    }
    memcpy(q + o, "x", 1);
    bad_n(q, o + 1, 0, 1, "query cannot match: only negated terms");
    free(q);
}

static void test_reference_match_follows_the_rules(void **state)
{
    struct {
        const char *q, *author, *body;
        int want;
    } cases[] = {
        {"rust", NULL, "I trust it", 0},
        {"rust", NULL, "RUST's borrow checker", 1},
        {"cafe", NULL, "un café crème", 1},
        {"\"borrow checker\"", NULL, "the borrow-checker!", 1},
        {"\"borrow checker\"", NULL, "checker borrow", 0},
        {"optim*", NULL, "Optimizing code", 1},
        {"optim*", NULL, "suboptimal", 0},
        {"rust -java", NULL, "rust and java", 0},
        {"author:Spez", "spez", "x", 1},
        {"author:spez", "spezz", "x", 0},
        {"author:spez", NULL, "x", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        es_query *q = es_query_parse(cases[i].q, strlen(cases[i].q), NULL);
        assert_non_null(q);
        assert_int_equal(es_query_match(q, cases[i].author, cases[i].body,
                                        strlen(cases[i].body)),
                         cases[i].want);
        es_query_free(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_are_anded_and_folded),
        cmocka_unit_test(test_operators_build_the_expected_tree),
        cmocka_unit_test(test_phrases_prefixes_and_authors),
        cmocka_unit_test(test_empty_query_is_valid),
        cmocka_unit_test(test_canonical_form_parses_back_to_itself),
        cmocka_unit_test(test_canonical_reports_a_small_buffer),
        cmocka_unit_test(test_errors_give_offset_column_and_reason),
        cmocka_unit_test(test_columns_count_characters_not_bytes),
        cmocka_unit_test(
            test_invalid_utf8_and_nul_are_rejected_with_their_byte),
        cmocka_unit_test(test_limits_on_terms_and_length),
        cmocka_unit_test(test_adversarial_inputs_fail_fast_and_clearly),
        cmocka_unit_test(test_reference_match_follows_the_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
