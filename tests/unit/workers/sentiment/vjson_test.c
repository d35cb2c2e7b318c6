/*
 * vjson_test.c - the sentiment CLI's fast JSON line (vjson.c) against
 * es_sentiment_json, on every value VADER can give: each number of
 * thousandths for neg, neu and pos, each number of ten-thousandths for
 * compound (both signs, and -0.0), every label.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "es_sentiment.h"
#include "vjson.h"

/* Compares the two printers on s, already rounded as es_vader_score does. */
static void same(es_sentiment s)
{
    char fast[ES_VADER_JSON_MAX + 1], ref[160];
    size_t n;
    int m;

    s = es_sentiment_nltk_round(&s);
    n = es_vader_json(&s, fast);
    assert_true(n <= ES_VADER_JSON_MAX);
    fast[n] = '\0';
    m = es_sentiment_json(&s, ref, sizeof(ref));
    assert_true(m > 0);
    if ((size_t)m != n || strcmp(fast, ref) != 0) {
        fail_msg("fast %s\n      ref  %s", fast, ref);
    }
}

static void test_every_thousandth_prints_as_es_sentiment_json(void **state)
{
    (void)state;
    for (int k = 0; k <= 1000; k++) {
        double x = k / 1000.0;
        es_sentiment s = {x, 1.0 - x, x / 2, 0.0, ES_LABEL_NEUTRAL};

        same(s);
        s.neg = (1000 - k) / 1000.0;
        s.pos = (k % 7) / 1000.0;
        same(s);
    }
}

static void test_every_compound_prints_as_es_sentiment_json(void **state)
{
    (void)state;
    for (int k = -10000; k <= 10000; k++) {
        es_sentiment s = {0.0, 1.0, 0.0, k / 10000.0, ES_LABEL_NEUTRAL};

        s.label = es_label_from_compound(s.compound);
        same(s);
    }
    /* a tiny negative compound rounds to -0.0, printed "-0.0" */
    {
        es_sentiment s = {0.0, 1.0, 0.0, -0.00001, ES_LABEL_NEUTRAL};
        char buf[ES_VADER_JSON_MAX + 1];
        size_t n;

        same(s);
        s = es_sentiment_nltk_round(&s);
        n = es_vader_json(&s, buf);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "\"compound\":-0.0,"));
    }
}

static void test_labels_and_the_longest_line(void **state)
{
    (void)state;
    for (int l = ES_LABEL_NEUTRAL; l <= ES_LABEL_MIXED; l++) {
        es_sentiment s = {0.123, 0.456, 0.421, -0.9999, (es_label)l};

        same(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_thousandth_prints_as_es_sentiment_json),
        cmocka_unit_test(test_every_compound_prints_as_es_sentiment_json),
        cmocka_unit_test(test_labels_and_the_longest_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
