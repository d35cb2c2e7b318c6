/*
 * es_text_test.c - unit tests for lib/es_text.c.
 *
 * The tokenizer decides what "the same word" means for queries and
 * comments alike, so each folding and splitting rule of es_text.h has a
 * test here, written as the list of folded words a text must produce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_text.h"

/* Tokenizes s and joins the folded words with '|' into out. */
static const char *words(const char *s, size_t n, char *out, size_t size)
{
    char *fold = malloc(n + 1);
    es_token *tok = malloc(es_text_max_tokens(n) * sizeof(es_token));
    size_t nt, o = 0;

    assert_non_null(fold);
    assert_non_null(tok);
    nt = es_text_tokenize(s, n, fold, tok, es_text_max_tokens(n));
    out[0] = '\0';
    for (size_t i = 0; i < nt; i++) {
        assert_true(o + tok[i].len + 2 < size);
        if (i > 0) {
            out[o++] = '|';
        }
        memcpy(out + o, fold + tok[i].off, tok[i].len);
        o += tok[i].len;
        out[o] = '\0';
        assert_true(tok[i].hash == es_text_hash(fold + tok[i].off, tok[i].len));
    }
    free(fold);
    free(tok);
    return out;
}

#define W(s) words((s), strlen(s), buf, sizeof(buf))

static void
test_ascii_words_are_lower_cased_and_split_on_punctuation(void **state)
{
    char buf[256];

    (void)state;
    assert_string_equal(W("Hello, World! RUST2024 is_great"),
                        "hello|world|rust2024|is|great");
    assert_string_equal(W("  ...  "), "");
    assert_string_equal(W(""), "");
    assert_string_equal(W("c++ e-mail 3.14"), "c|e|mail|3|14");
}

static void test_latin_accents_fold_to_ascii(void **state)
{
    char buf[256];

    (void)state;
    assert_string_equal(W("Café CRÈME brûlée Ñandú"),
                        "cafe|creme|brulee|nandu");
    assert_string_equal(W("Straße Æsir Œuvre Øl Łódź Đak Þorn"),
                        "strasse|aesir|oeuvre|ol|lodz|dak|thorn");
    assert_string_equal(W("Ǆemal ĳs İstanbul ıi ſ"),
                        "dzemal|ijs|istanbul|ii|s");
    assert_string_equal(W("Việt Nam Ỹ"), "viet|nam|y");
}

static void test_combining_marks_are_dropped_inside_words(void **state)
{
    char buf[256];

    (void)state;
    /* e + U+0301 (decomposed é) and a soft hyphen inside a word */
    assert_string_equal(W("cafe\xcc\x81 co\xc2\xadoperate"), "cafe|cooperate");
}

static void test_apostrophes_split_words(void **state)
{
    char buf[256];

    (void)state;
    assert_string_equal(W("don't"), "don|t");
    assert_string_equal(W("don\xe2\x80\x99t"), "don|t");
    assert_string_equal(W("l'été Rust's"), "l|ete|rust|s");
}

static void test_greek_and_cyrillic_are_lower_cased(void **state)
{
    char buf[256];

    (void)state;
    assert_string_equal(W("ΣΊΣΥΦΟΣ Αθήνα"), "σισυφοσ|αθηνα");
    assert_string_equal(W("МОСКВА Ёлка"), "москва|елка");
}

static void test_cjk_and_emoji_are_one_token_per_character(void **state)
{
    char buf[256];

    (void)state;
    assert_string_equal(W("東京タワー"), "東|京|タ|ワ|ー");
    assert_string_equal(W("ship it🚀🚀 👍🏽!"), "ship|it|🚀|🚀|👍");
    assert_string_equal(W("한국어 텍스트"), "한국어|텍스트");
}

static void test_fullwidth_and_ligatures_fold(void **state)
{
    char buf[256];

    (void)state;
    assert_string_equal(W("ＲＵＳＴ ﬁne"), "rust|fine");
}

static void test_invalid_utf8_and_nul_separate_words(void **state)
{
    char buf[256];
    const char s[] = "ab\xff"
                     "cd\xc3"
                     "ef\0gh\xed\xa0\x80ij";

    (void)state;
    assert_string_equal(words(s, sizeof(s) - 1, buf, sizeof(buf)),
                        "ab|cd|ef|gh|ij");
}

static void
test_folded_text_never_exceeds_input_and_tokens_fit_bound(void **state)
{
    char s[4096];
    uint32_t x = 12345;

    (void)state;
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)(x % 300);
        char *fold = malloc(n + 1);
        size_t max = es_text_max_tokens(n);
        es_token *tok = malloc(max * sizeof(es_token));
        size_t nt, used = 0;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            s[i] = (char)(x >> 16);
        }
        nt = es_text_tokenize(s, n, fold, tok, max);
        assert_true(nt <= max);
        for (size_t i = 0; i < nt; i++) {
            assert_true(tok[i].len > 0);
            assert_true(tok[i].off + tok[i].len <= n);
            used += tok[i].len;
        }
        assert_true(used <= n);
        free(fold);
        free(tok);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_ascii_words_are_lower_cased_and_split_on_punctuation),
        cmocka_unit_test(test_latin_accents_fold_to_ascii),
        cmocka_unit_test(test_combining_marks_are_dropped_inside_words),
        cmocka_unit_test(test_apostrophes_split_words),
        cmocka_unit_test(test_greek_and_cyrillic_are_lower_cased),
        cmocka_unit_test(test_cjk_and_emoji_are_one_token_per_character),
        cmocka_unit_test(test_fullwidth_and_ligatures_fold),
        cmocka_unit_test(test_invalid_utf8_and_nul_separate_words),
        cmocka_unit_test(
            test_folded_text_never_exceeds_input_and_tokens_fit_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
