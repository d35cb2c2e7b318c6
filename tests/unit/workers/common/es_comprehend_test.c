/*
 * es_comprehend_test.c - unit tests for workers/common/es_comprehend.c: the
 * text cut, billing units, the request body, the answer mapping (ErrorList
 * included) and the circuit breaker's state machine. The signed call, its
 * retries and the fallback are covered by tests/integration/
 * comprehend.test.mjs against a signature-checking double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "es_comprehend.h"
#include "es_scorer.h"
#include "es_utf8.h"

/* n copies of unit (a UTF-8 character), in a malloc'd string */
static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * n + 1);

    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + i * ul, unit, ul);
    }
    s[ul * n] = '\0';
    return s;
}

static void test_prepare_keeps_short_valid_text_in_place(void **state)
{
    char buf[ES_COMPREHEND_PREP_SIZE];
    const char *t = "naïve café ✓";
    const char *out = NULL;
    size_t n;

    (void)state;
    n = es_comprehend_prepare(t, strlen(t), buf, &out);
    assert_ptr_equal(out, t);
    assert_int_equal(n, strlen(t));
}

static void test_prepare_cuts_under_5000_bytes_at_a_boundary(void **state)
{
    char buf[ES_COMPREHEND_PREP_SIZE];
    char *t = repeat("é", 3000); /* 6000 bytes */
    char *odd = malloc(6002);
    const char *out = NULL;
    size_t n;

    (void)state;
    n = es_comprehend_prepare(t, strlen(t), buf, &out);
    assert_int_equal(n, 5000);
    assert_true(es_utf8_valid(out, n));

    /* one ASCII byte first: 5000 would split an é, so 4999 */
    assert_non_null(odd);
    odd[0] = 'a';
    memcpy(odd + 1, t, 6001);
    n = es_comprehend_prepare(odd, strlen(odd), buf, &out);
    assert_int_equal(n, 4999);
    assert_true(es_utf8_valid(out, n));
    free(odd);
    free(t);
}

static void test_prepare_repairs_invalid_utf8(void **state)
{
    char buf[ES_COMPREHEND_PREP_SIZE];
    const char bad[] = "ok \xff\xfe then \xc3";
    const char *out = NULL;
    size_t n;

    (void)state;
    n = es_comprehend_prepare(bad, sizeof(bad) - 1, buf, &out);
    assert_ptr_equal(out, buf);
    assert_true(es_utf8_valid(out, n));
    assert_string_equal(out, "ok \xEF\xBF\xBD\xEF\xBF\xBD then \xEF\xBF\xBD");
}

static void test_prepare_repairs_then_cuts_a_long_invalid_text(void **state)
{
    char buf[ES_COMPREHEND_PREP_SIZE];
    char *t = repeat("\xff", 9000);
    const char *out = NULL;
    size_t n;

    (void)state;
    n = es_comprehend_prepare(t, strlen(t), buf, &out);
    assert_true(n <= ES_COMPREHEND_MAX_BYTES);
    assert_int_equal(n, 4998); /* 1666 replacement characters */
    assert_true(es_utf8_valid(out, n));
    free(t);
}

static void test_units_are_100_chars_with_3_minimum(void **state)
{
    char *a300 = repeat("a", 300), *a301 = repeat("a", 301);
    char *e1000 = repeat("é", 1000), *emoji = repeat("😀", 1250);
    char *a6000 = repeat("a", 6000);

    (void)state;
    assert_int_equal(es_comprehend_units("", 0), 3);
    assert_int_equal(es_comprehend_units("hi", 2), 3);
    assert_int_equal(es_comprehend_units(a300, 300), 3);
    assert_int_equal(es_comprehend_units(a301, 301), 4);
    /* characters, not bytes: 1,000 é are 2,000 bytes but 10 units */
    assert_int_equal(es_comprehend_units(e1000, strlen(e1000)), 10);
    /* 1,250 four-byte emoji fill exactly 5,000 bytes */
    assert_int_equal(es_comprehend_units(emoji, strlen(emoji)), 13);
    /* only what is sent is billed: 6,000 bytes are cut to 5,000 */
    assert_int_equal(es_comprehend_units(a6000, 6000), 50);
    free(a300);
    free(a301);
    free(e1000);
    free(emoji);
    free(a6000);
}

static void test_body_lists_texts_and_language(void **state)
{
    const char *texts[] = {"I love it", "say \"hi\"\n\tnow", "ünï"};
    size_t lens[] = {9, 13, 5};
    size_t len = 0;
    char *body = es_comprehend_body(texts, lens, 3, "en", &len);
    json_t *doc, *list;

    (void)state;
    assert_non_null(body);
    assert_int_equal(len, strlen(body));
    doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    list = json_object_get(doc, "TextList");
    assert_int_equal(json_array_size(list), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(json_string_value(json_array_get(list, i)),
                            texts[i]);
    }
    assert_string_equal(json_string_value(json_object_get(doc, "LanguageCode")),
                        "en");
    assert_int_equal(json_object_size(doc), 2);
    json_decref(doc);
    free(body);
}

static void test_body_refuses_invalid_utf8(void **state)
{
    const char *texts[] = {"ok", "\xff"};
    size_t lens[] = {2, 1};
    size_t len = 0;

    (void)state;
    assert_null(es_comprehend_body(texts, lens, 2, "en", &len));
}

static void test_parse_maps_scores_and_labels(void **state)
{
    const char *answer =
        "{\"ErrorList\":[],\"ResultList\":["
        "{\"Index\":1,\"Sentiment\":\"NEGATIVE\",\"SentimentScore\":"
        "{\"Mixed\":0.01,\"Negative\":0.8,\"Neutral\":0.15,"
        "\"Positive\":0.04}},"
        "{\"Index\":0,\"Sentiment\":\"POSITIVE\",\"SentimentScore\":"
        "{\"Mixed\":0.0,\"Negative\":0.1,\"Neutral\":0.2,"
        "\"Positive\":0.7}},"
        "{\"Index\":2,\"Sentiment\":\"MIXED\",\"SentimentScore\":"
        "{\"Mixed\":0.6,\"Negative\":0.2,\"Neutral\":0.0,"
        "\"Positive\":0.2}},"
        "{\"Index\":3,\"Sentiment\":\"NEUTRAL\",\"SentimentScore\":"
        "{\"Mixed\":0.0,\"Negative\":0.05,\"Neutral\":0.9,"
        "\"Positive\":0.05}}]}";
    es_comprehend_result r[4];

    (void)state;
    assert_int_equal(es_comprehend_parse(answer, strlen(answer), 4, r), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r[i].ok, 1);
    }
    assert_int_equal(r[0].s.label, ES_LABEL_POSITIVE);
    assert_true(r[0].s.pos == 0.7 && r[0].s.neg == 0.1 && r[0].s.neu == 0.2);
    assert_true(r[0].s.compound > 0.5999 && r[0].s.compound < 0.6001);
    assert_int_equal(r[1].s.label, ES_LABEL_NEGATIVE);
    assert_true(r[1].s.compound < -0.7599 && r[1].s.compound > -0.7601);
    assert_int_equal(r[2].s.label, ES_LABEL_MIXED);
    assert_true(r[2].s.compound > -1e-9 && r[2].s.compound < 1e-9);
    assert_int_equal(r[3].s.label, ES_LABEL_NEUTRAL);
}

static void test_parse_marks_errorlist_and_missing_indexes(void **state)
{
    const char *answer =
        "{\"ErrorList\":[{\"Index\":1,\"ErrorCode\":"
        "\"INTERNAL_SERVER_ERROR\",\"ErrorMessage\":\"boom\"},"
        "{\"Index\":99,\"ErrorCode\":\"X\"}],"
        "\"ResultList\":[{\"Index\":0,\"Sentiment\":\"NEUTRAL\","
        "\"SentimentScore\":{\"Mixed\":0,\"Negative\":0,\"Neutral\":1,"
        "\"Positive\":0}},{\"Index\":-1,\"Sentiment\":\"NEUTRAL\","
        "\"SentimentScore\":{}}]}";
    es_comprehend_result r[3];

    (void)state;
    assert_int_equal(es_comprehend_parse(answer, strlen(answer), 3, r), 0);
    assert_int_equal(r[0].ok, 1);
    assert_int_equal(r[1].ok, 0);
    assert_string_equal(r[1].error, "INTERNAL_SERVER_ERROR");
    assert_int_equal(r[2].ok, 0); /* in neither list */
    assert_string_equal(r[2].error, "Missing");
}

static void test_parse_refuses_unexpected_answers(void **state)
{
    const char *bad[] = {
        "",
        "not json",
        "[]",
        "{\"ErrorList\":[]}",
        "{\"ResultList\":{},\"ErrorList\":[]}",
        "{\"ResultList\":[],\"ErrorList\":7}",
    };
    es_comprehend_result r[2];
    const char *odd = "{\"ResultList\":[{\"Index\":0,\"Sentiment\":\"GLAD\","
                      "\"SentimentScore\":{}}]}";

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(es_comprehend_parse(bad[i], strlen(bad[i]), 2, r), -1);
    }
    /* an unknown label fails that text only */
    assert_int_equal(es_comprehend_parse(odd, strlen(odd), 1, r), 0);
    assert_int_equal(r[0].ok, 0);
    assert_string_equal(r[0].error, "BadResult");
}

static void test_label_names_parse(void **state)
{
    es_label l;

    (void)state;
    assert_int_equal(es_comprehend_label("MIXED", &l), 0);
    assert_int_equal(l, ES_LABEL_MIXED);
    assert_int_equal(es_comprehend_label("positive", &l), -1);
    assert_int_equal(es_comprehend_label(NULL, &l), -1);
}

static void test_breaker_opens_after_consecutive_failures(void **state)
{
    es_breaker b;

    (void)state;
    es_breaker_init(&b, 3, 1000);
    assert_true(es_breaker_allow(&b, 0));
    es_breaker_failure(&b, 10);
    es_breaker_failure(&b, 20);
    assert_int_equal(b.state, ES_BREAKER_CLOSED);
    assert_true(es_breaker_allow(&b, 30));
    es_breaker_failure(&b, 30);
    assert_int_equal(b.state, ES_BREAKER_OPEN);
    assert_int_equal(b.opens, 1);
    assert_false(es_breaker_allow(&b, 31));
    assert_false(es_breaker_allow(&b, 1029));
    assert_true(es_breaker_blocking(&b, 1029));
}

static void test_breaker_success_resets_the_count(void **state)
{
    es_breaker b;

    (void)state;
    es_breaker_init(&b, 2, 1000);
    es_breaker_failure(&b, 0);
    es_breaker_success(&b);
    es_breaker_failure(&b, 1);
    assert_int_equal(b.state, ES_BREAKER_CLOSED);
    assert_true(es_breaker_allow(&b, 2));
}

static void test_breaker_half_open_lets_one_trial_through(void **state)
{
    es_breaker b;

    (void)state;
    es_breaker_init(&b, 1, 1000);
    es_breaker_failure(&b, 0);
    assert_false(es_breaker_allow(&b, 999));
    assert_true(es_breaker_allow(&b, 1000));
    assert_int_equal(b.state, ES_BREAKER_HALF_OPEN);
    assert_false(es_breaker_allow(&b, 1001)); /* trial still out */
    assert_true(es_breaker_blocking(&b, 1001));
    es_breaker_success(&b);
    assert_int_equal(b.state, ES_BREAKER_CLOSED);
    assert_false(es_breaker_blocking(&b, 1002));
    assert_true(es_breaker_allow(&b, 1002));
    assert_true(es_breaker_allow(&b, 1003));
}

static void test_breaker_failed_trial_opens_for_another_cooldown(void **state)
{
    es_breaker b;

    (void)state;
    es_breaker_init(&b, 5, 1000);
    for (int i = 0; i < 5; i++) {
        es_breaker_failure(&b, 0);
    }
    assert_true(es_breaker_allow(&b, 1500));
    es_breaker_failure(&b, 1500);
    assert_int_equal(b.state, ES_BREAKER_OPEN);
    assert_int_equal(b.opens, 2);
    assert_false(es_breaker_allow(&b, 2499));
    assert_true(es_breaker_allow(&b, 2500));
}

static void test_breaker_threshold_is_at_least_one(void **state)
{
    es_breaker b;

    (void)state;
    es_breaker_init(&b, 0, -5);
    assert_int_equal(b.threshold, 1);
    assert_int_equal(b.cooldown_ms, 0);
    es_breaker_failure(&b, 7);
    assert_int_equal(b.state, ES_BREAKER_OPEN);
    assert_true(es_breaker_allow(&b, 7)); /* no cooldown: trial at once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_keeps_short_valid_text_in_place),
        cmocka_unit_test(test_prepare_cuts_under_5000_bytes_at_a_boundary),
        cmocka_unit_test(test_prepare_repairs_invalid_utf8),
        cmocka_unit_test(test_prepare_repairs_then_cuts_a_long_invalid_text),
        cmocka_unit_test(test_units_are_100_chars_with_3_minimum),
        cmocka_unit_test(test_body_lists_texts_and_language),
        cmocka_unit_test(test_body_refuses_invalid_utf8),
        cmocka_unit_test(test_parse_maps_scores_and_labels),
        cmocka_unit_test(test_parse_marks_errorlist_and_missing_indexes),
        cmocka_unit_test(test_parse_refuses_unexpected_answers),
        cmocka_unit_test(test_label_names_parse),
        cmocka_unit_test(test_breaker_opens_after_consecutive_failures),
        cmocka_unit_test(test_breaker_success_resets_the_count),
        cmocka_unit_test(test_breaker_half_open_lets_one_trial_through),
        cmocka_unit_test(test_breaker_failed_trial_opens_for_another_cooldown),
        cmocka_unit_test(test_breaker_threshold_is_at_least_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
