/*
 * es_vader_test.c - one test per VADER rule of the C port (lib/es_vader*.c).
 *
 * Every expected score below is the output of NLTK 3.8's
 * SentimentIntensityAnalyzer (Debian python3-nltk) with the repository's
 * lexicon, lib/data/vader_lexicon.txt, computed once and written here as
 * literals; NLTK rounds neg/neu/pos to 3 decimals and compound to 4, and so
 * does es_vader_score, so the comparisons are exact. The broad parity check
 * over 100,000 generated texts is tests/integration/vader_parity.test.mjs.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "es_sentiment.h"
#include "es_vader.h"

static es_vader *vader;

/* The repository's lexicon, found upwards from the test binary. */
static int find_lexicon(char *out, size_t size)
{
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
    int up;

    if (n <= 0) {
        return -1;
    }
    dir[n] = '\0';
    for (up = 0; up < 8; up++) {
        char *slash = strrchr(dir, '/');

        if (slash == NULL) {
            return -1;
        }
        *slash = '\0';
        if ((size_t)snprintf(out, size, "%s/lib/data/vader_lexicon.txt", dir) <
                size &&
            access(out, R_OK) == 0) {
            return 0;
        }
    }
    return -1;
}

static int setup(void **state)
{
    char path[PATH_MAX + 64], err[256];

    (void)state;
    if (find_lexicon(path, sizeof(path)) < 0) {
        fprintf(stderr, "lib/data/vader_lexicon.txt not found\n");
        return -1;
    }
    vader = es_vader_load(path, err, sizeof(err));
    if (vader == NULL) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    es_vader_free(vader);
    return 0;
}

static es_sentiment score(const char *text)
{
    return es_vader_score(vader, text, strlen(text));
}

/* asserts the four numbers NLTK gave for text (exact: both are rounded) */
#define NLTK(text, eneg, eneu, epos, ecomp)                                    \
    do {                                                                       \
        es_sentiment s_ = score(text);                                         \
        if (s_.neg != (eneg) || s_.neu != (eneu) || s_.pos != (epos) ||        \
            s_.compound != (ecomp)) {                                          \
            fail_msg("%s: got %.3f %.3f %.3f %.4f, NLTK %.3f %.3f %.3f %.4f",  \
                     text, s_.neg, s_.neu, s_.pos, s_.compound, (eneg),        \
                     (eneu), (epos), (ecomp));                                 \
        }                                                                      \
    } while (0)

static void test_lexicon_word_scores(void **state)
{
    (void)state;
    NLTK("The food is good", 0.0, 0.508, 0.492, 0.4404);
    NLTK("The food is bad", 0.538, 0.462, 0.0, -0.5423);
    NLTK("kind", 0.0, 0.0, 1.0, 0.5267);
    NLTK("The kind woman", 0.0, 0.37, 0.63, 0.5267);
}

static void test_negation_flips_within_three_tokens(void **state)
{
    (void)state;
    NLTK("The food is not good", 0.376, 0.624, 0.0, -0.3412);
    NLTK("The food isn't good", 0.445, 0.555, 0.0, -0.3412);
    NLTK("not very good", 0.567, 0.433, 0.0, -0.3865);
    NLTK("NOT GOOD at all", 0.496, 0.504, 0.0, -0.4494);
    /* three words back still negates, four does not */
    NLTK("not the food is good", 0.0, 0.58, 0.42, 0.4404);
    NLTK("not the food here is good", 0.0, 0.633, 0.367, 0.4404);
    NLTK("It was not so good", 0.431, 0.569, 0.0, -0.464);
}

static void test_booster_increases_intensity(void **state)
{
    (void)state;
    NLTK("The food is very good", 0.0, 0.556, 0.444, 0.4927);
    NLTK("The food is really very good", 0.0, 0.59, 0.41, 0.5379);
    NLTK("The food is very bad", 0.487, 0.513, 0.0, -0.5849);
    NLTK("very very good", 0.0, 0.366, 0.634, 0.5379);
}

static void test_dampener_decreases_intensity(void **state)
{
    (void)state;
    NLTK("The food is slightly good", 0.0, 0.605, 0.395, 0.3832);
    NLTK("hardly good at all", 0.0, 0.535, 0.465, 0.3832);
}

static void test_caps_emphasis_only_with_mixed_case(void **state)
{
    (void)state;
    NLTK("The food is GOOD", 0.0, 0.452, 0.548, 0.5622);
    NLTK("THE FOOD IS GOOD", 0.0, 0.508, 0.492, 0.4404);
    NLTK("The food is VERY good", 0.0, 0.505, 0.495, 0.6028);
    /* str.isupper() outside ASCII */
    NLTK("CAF\xc3\x89 is GOOD", 0.0, 0.355, 0.645, 0.5622);
    NLTK("\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91 is GOOD", 0.0, 0.355, 0.645,
         0.5622);
    NLTK("\xc4\xb0STANBUL is GOOD", 0.0, 0.355, 0.645, 0.5622);
}

static void test_but_weights_clause_after(void **state)
{
    (void)state;
    NLTK("The food is good but the service is bad", 0.347, 0.511, 0.142,
         -0.5859);
    NLTK("The food is bad but the service is good", 0.172, 0.534, 0.294,
         0.3818);
}

static void test_exclamation_adds_up_to_four(void **state)
{
    (void)state;
    NLTK("The food is good !", 0.0, 0.484, 0.516, 0.4926);
    NLTK("The food is good !!", 0.0, 0.534, 0.466, 0.5399);
    NLTK("The food is good !!!!", 0.0, 0.496, 0.504, 0.6209);
    NLTK("The food is good !!!!!!!!", 0.0, 0.496, 0.504, 0.6209);
    NLTK("The food is bad !!!!!!!!", 0.539, 0.461, 0.0, -0.6876);
}

static void test_question_marks_emphasis(void **state)
{
    (void)state;
    NLTK("The food is good?", 0.0, 0.508, 0.492, 0.4404);
    NLTK("The food is good??", 0.0, 0.479, 0.521, 0.504);
    NLTK("The food is good???", 0.0, 0.466, 0.534, 0.533);
    NLTK("The food is good ????", 0.0, 0.509, 0.491, 0.594);
}

static void test_punctuation_stripped_only_from_punc_list(void **state)
{
    (void)state;
    NLTK("The food is good!", 0.0, 0.484, 0.516, 0.4926);
    /* "good!!!!" is not word + a PUNC_LIST item: no lexicon word left */
    NLTK("The food is good!!!!", 0.0, 1.0, 0.0, 0.0);
    NLTK("The food is good??????", 0.0, 1.0, 0.0, 0.0);
    NLTK("good! (good) 'good' !!good good!!!!", 0.0, 0.301, 0.699, 0.7887);
    NLTK("It is good, isn't it?", 0.0, 0.58, 0.42, 0.4404);
}

static void test_kind_of_idiom(void **state)
{
    (void)state;
    NLTK("It was kind of good", 0.0, 0.605, 0.395, 0.3832);
    NLTK("kind of good", 0.0, 0.408, 0.592, 0.4404);
    NLTK("It was sort of good", 0.0, 0.605, 0.395, 0.3832);
    /* U+212A KELVIN SIGN lower-cases to "k": "Kind of" is "kind of" */
    NLTK("\xe2\x84\xaaind of good day", 0.0, 0.508, 0.492, 0.4404);
}

static void test_least_negates(void **state)
{
    (void)state;
    NLTK("It is the least good", 0.376, 0.624, 0.0, -0.3412);
    NLTK("least good", 0.706, 0.294, 0.0, -0.3412);
    NLTK("It is at least good", 0.0, 0.58, 0.42, 0.4404);
    NLTK("It is the very least good", 0.0, 0.611, 0.389, 0.4902);
}

static void test_never_so_is_booster_not_negation(void **state)
{
    (void)state;
    NLTK("It was never so good", 0.0, 0.439, 0.561, 0.7279);
    NLTK("It was never this good", 0.0, 0.467, 0.533, 0.677);
    NLTK("I have never been so happy", 0.0, 0.458, 0.542, 0.6948);
}

static void test_without_doubt(void **state)
{
    (void)state;
    /* NLTK 3.8 has no "without doubt" rule: "without" negates "doubt" */
    NLTK("without doubt", 0.0, 0.322, 0.678, 0.2755);
    NLTK("without doubt good", 0.436, 0.181, 0.383, -0.0762);
    NLTK("It is without doubt the best", 0.355, 0.422, 0.223, -0.3089);
}

static void test_special_case_idioms(void **state)
{
    (void)state;
    NLTK("this movie is the shit", 0.0, 0.5, 0.5, 0.6124);
    NLTK("this movie is the bomb", 0.0, 0.5, 0.5, 0.6124);
    NLTK("he is one bad ass", 0.0, 0.375, 0.625, 0.6124);
    NLTK("oh yeah right", 0.0, 0.476, 0.524, 0.296);
    NLTK("my plan was the kiss of death", 0.5, 0.5, 0.0, -0.6124);
}

static void test_emoticons_in_lexicon(void **state)
{
    (void)state;
    NLTK(":)", 0.0, 0.0, 1.0, 0.4588);
    NLTK(":(", 1.0, 0.0, 0.0, -0.4404);
    NLTK("I am :D today", 0.0, 0.332, 0.668, 0.6166);
    NLTK("<3 you", 0.0, 0.256, 0.744, 0.4404);
    NLTK("lol", 0.0, 0.0, 1.0, 0.4215);
}

static void test_repeated_word_scored_at_first_occurrence(void **state)
{
    (void)state;
    NLTK("good good good", 0.0, 0.0, 1.0, 0.8271);
    NLTK("good good good GOOD", 0.0, 0.0, 1.0, 0.9068);
    /* the second "good" is negated too: it is scored where the first is */
    NLTK("not good good", 0.828, 0.172, 0.0, -0.5875);
}

static void test_unicode_whitespace_splits(void **state)
{
    (void)state;
    NLTK("good\xc2\xa0"
         "bad\xe3\x80\x80great",
         0.333, 0.0, 0.667, 0.5423);
    /* U+200B is not white space for Python */
    NLTK("good\xe2\x80\x8b"
         "bad",
         0.0, 1.0, 0.0, 0.0);
    NLTK("The caf\xc3\xa9 is good", 0.0, 0.508, 0.492, 0.4404);
}

static void test_empty_and_whitespace(void **state)
{
    es_sentiment s;

    (void)state;
    NLTK("", 0.0, 0.0, 0.0, 0.0);
    NLTK("   ", 0.0, 0.0, 0.0, 0.0);
    NLTK("a b c", 0.0, 0.0, 0.0, 0.0);
    s = es_vader_score(vader, NULL, 0);
    assert_true(s.compound == 0.0 && s.label == ES_LABEL_NEUTRAL);
}

static void assert_sane(es_sentiment s)
{
    assert_true(s.neg >= 0.0 && s.neg <= 1.0);
    assert_true(s.neu >= 0.0 && s.neu <= 1.0);
    assert_true(s.pos >= 0.0 && s.pos <= 1.0);
    assert_true(s.compound >= -1.0 && s.compound <= 1.0);
}

static void test_invalid_utf8_is_safe(void **state)
{
    static const char *const bad[] = {"\xff",
                                      "good \xff",
                                      "\xc3",
                                      "good \xe2\x82",
                                      "\xed\xa0\x80 bad",
                                      "\xf0\x9f\x98 good",
                                      "\xc0\xaf\xc0\xaf",
                                      "\xf4\x90\x80\x80!!"};
    unsigned seed = 12345;
    char buf[512];
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_sane(score(bad[i]));
    }
    /* a lone invalid byte is one (replacement) character: dropped */
    NLTK("good \xff", 0.0, 0.0, 1.0, 0.4404);
    /* random bytes, including NUL */
    for (i = 0; i < 20000; i++) {
        size_t n = (seed = seed * 1103515245u + 12345u) % sizeof(buf);

        for (j = 0; j < n; j++) {
            seed = seed * 1103515245u + 12345u;
            buf[j] = (char)(seed >> 16);
        }
        assert_sane(es_vader_score(vader, buf, n));
    }
}

static void test_long_text_is_linear(void **state)
{
    size_t n = 1 << 20, i;
    char *big = malloc(n);
    es_sentiment s;

    (void)state;
    assert_non_null(big);
    /* 1 MB of one repeated lexicon word */
    for (i = 0; i + 5 <= n; i += 5) {
        memcpy(big + i, "good ", 5);
    }
    s = es_vader_score(vader, big, i);
    assert_true(s.pos == 1.0 && s.compound == 1.0);
    /* 1 MB of emoji with no white space: one huge token */
    for (i = 0; i + 4 <= n; i += 4) {
        memcpy(big + i, "\xf0\x9f\x98\x80", 4);
    }
    s = es_vader_score(vader, big, i);
    assert_true(s.neu == 1.0 && s.compound == 0.0);
    /* distinct words, many negations and "but"s */
    for (i = 0; i + 16 <= n; i += 16) {
        memcpy(big + i, i % 32 ? "not good but ok " : "never so bad!? ",
               i % 32 ? 16 : 15);
        if (i % 32 == 0) {
            big[i + 15] = ' ';
        }
    }
    assert_sane(es_vader_score(vader, big, i));
    free(big);
}

static void test_rounding_matches_python(void **state)
{
    es_sentiment in = {0.0625, 0.1875, 0.0005, 0.03125, ES_LABEL_NEUTRAL};
    es_sentiment r;

    (void)state;
    /* Python: round(0.0625, 3) = 0.062, round(0.1875, 3) = 0.188,
     * round(0.0005, 3) = 0.001, round(0.03125, 4) = 0.0312 */
    r = es_sentiment_nltk_round(&in);
    assert_true(r.neg == 0.062 && r.neu == 0.188 && r.pos == 0.001);
    assert_true(r.compound == 0.0312);
    in.compound = 0.28125;
    assert_true(es_sentiment_nltk_round(&in).compound == 0.2812);
    in.compound = 0.12345;
    assert_true(es_sentiment_nltk_round(&in).compound == 0.1235);
}

static void test_json_prints_like_python(void **state)
{
    es_sentiment s = {0.0, 0.508, 0.492, 0.4404, ES_LABEL_POSITIVE};
    es_sentiment z = {0.0, 1.0, 0.0, -0.00004, ES_LABEL_NEUTRAL};
    char buf[160];

    (void)state;
    assert_int_equal(es_sentiment_json(&s, buf, sizeof(buf)), 72);
    assert_string_equal(buf, "{\"neg\":0.0,\"neu\":0.508,\"pos\":0.492,"
                             "\"compound\":0.4404,\"label\":\"positive\"}");
    es_sentiment_json(&z, buf, sizeof(buf));
    assert_string_equal(buf, "{\"neg\":0.0,\"neu\":1.0,\"pos\":0.0,"
                             "\"compound\":-0.0,\"label\":\"neutral\"}");
    assert_int_equal(es_sentiment_json(&s, buf, 20), -1);
}

static void test_labels(void **state)
{
    es_label l;

    (void)state;
    assert_int_equal(es_label_from_compound(0.05), ES_LABEL_POSITIVE);
    assert_int_equal(es_label_from_compound(0.0499), ES_LABEL_NEUTRAL);
    assert_int_equal(es_label_from_compound(-0.05), ES_LABEL_NEGATIVE);
    assert_int_equal(score("The food is bad").label, ES_LABEL_NEGATIVE);
    assert_string_equal(es_label_name(ES_LABEL_MIXED), "mixed");
    assert_int_equal(es_label_parse("negative", &l), 0);
    assert_int_equal(l, ES_LABEL_NEGATIVE);
    assert_int_equal(es_label_parse("bogus", &l), -1);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_lexicon_file_errors_and_overrides(void **state)
{
    char path[] = "/tmp/es_vader_test_XXXXXX";
    char err[256];
    es_vader *v;
    es_sentiment s;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_null(es_vader_load("/nonexistent/lexicon", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/lexicon"));
    write_file(path, "good\t1.9\nbad\n");
    assert_null(es_vader_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, "line 2"));
    write_file(path, "good\tx\n");
    assert_null(es_vader_load(path, err, sizeof(err)));
    /* a later line wins, as in NLTK's dict; a trailing newline is fine */
    write_file(path, "good\t1.0\t0.1\t[1]\ngood\t1.9\n");
    v = es_vader_load(path, err, sizeof(err));
    assert_non_null(v);
    s = es_vader_score(v, "The food is good", 16);
    assert_true(s.compound == 0.4404);
    es_vader_free(v);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lexicon_word_scores),
        cmocka_unit_test(test_negation_flips_within_three_tokens),
        cmocka_unit_test(test_booster_increases_intensity),
        cmocka_unit_test(test_dampener_decreases_intensity),
        cmocka_unit_test(test_caps_emphasis_only_with_mixed_case),
        cmocka_unit_test(test_but_weights_clause_after),
        cmocka_unit_test(test_exclamation_adds_up_to_four),
        cmocka_unit_test(test_question_marks_emphasis),
        cmocka_unit_test(test_punctuation_stripped_only_from_punc_list),
        cmocka_unit_test(test_kind_of_idiom),
        cmocka_unit_test(test_least_negates),
        cmocka_unit_test(test_never_so_is_booster_not_negation),
        cmocka_unit_test(test_without_doubt),
        cmocka_unit_test(test_special_case_idioms),
        cmocka_unit_test(test_emoticons_in_lexicon),
        cmocka_unit_test(test_repeated_word_scored_at_first_occurrence),
        cmocka_unit_test(test_unicode_whitespace_splits),
        cmocka_unit_test(test_empty_and_whitespace),
        cmocka_unit_test(test_invalid_utf8_is_safe),
        cmocka_unit_test(test_long_text_is_linear),
        cmocka_unit_test(test_rounding_matches_python),
        cmocka_unit_test(test_json_prints_like_python),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_lexicon_file_errors_and_overrides),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
