/*
 * es_utf8_test.c - unit tests for lib/es_utf8.c.
 *
 * The byte sequences follow the well-formed table of RFC 3629 section 4 and
 * the classic malformed cases (overlongs, surrogates, code points above
 * U+10FFFF, truncated and stray bytes), each checked at the edges of its
 * range, where decoders usually go wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_utf8.h"

#define FFFD "\xef\xbf\xbd"

static size_t char_len(const char *s)
{
    return es_utf8_char_len((const unsigned char *)s, strlen(s));
}

static int valid(const char *s)
{
    return es_utf8_valid(s, strlen(s));
}

static void test_char_len_of_valid_sequences(void **state)
{
    (void)state;
    assert_int_equal(char_len("A"), 1);
    assert_int_equal(char_len("\x7f"), 1);
    assert_int_equal(char_len("\xc2\x80"), 2);         /* U+0080 */
    assert_int_equal(char_len("\xdf\xbf"), 2);         /* U+07FF */
    assert_int_equal(char_len("\xe0\xa0\x80"), 3);     /* U+0800 */
    assert_int_equal(char_len("\xed\x9f\xbf"), 3);     /* U+D7FF */
    assert_int_equal(char_len("\xee\x80\x80"), 3);     /* U+E000 */
    assert_int_equal(char_len("\xef\xbf\xbf"), 3);     /* U+FFFF */
    assert_int_equal(char_len("\xf0\x90\x80\x80"), 4); /* U+10000 */
    assert_int_equal(char_len("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
    assert_int_equal(char_len("\xf0\x9f\x98\x80"
                              "rest"),
                     4);
}

static void test_char_len_rejects_overlongs(void **state)
{
    (void)state;
    assert_int_equal(char_len("\xc0\xaf"), 0);         /* '/' in 2 */
    assert_int_equal(char_len("\xc1\xbf"), 0);         /* U+007F in 2 */
    assert_int_equal(char_len("\xe0\x80\xaf"), 0);     /* '/' in 3 */
    assert_int_equal(char_len("\xe0\x9f\xbf"), 0);     /* U+07FF in 3 */
    assert_int_equal(char_len("\xf0\x80\x80\xaf"), 0); /* '/' in 4 */
    assert_int_equal(char_len("\xf0\x8f\xbf\xbf"), 0); /* U+FFFF in 4 */
}

static void test_char_len_rejects_surrogates(void **state)
{
    (void)state;
    assert_int_equal(char_len("\xed\xa0\x80"), 0);             /* U+D800 */
    assert_int_equal(char_len("\xed\xbf\xbf"), 0);             /* U+DFFF */
    assert_int_equal(char_len("\xed\xa0\xbd\xed\xb8\x80"), 0); /* CESU */
}

static void test_char_len_rejects_above_10ffff(void **state)
{
    (void)state;
    assert_int_equal(char_len("\xf4\x90\x80\x80"), 0); /* U+110000 */
    assert_int_equal(char_len("\xf5\x80\x80\x80"), 0);
    assert_int_equal(char_len("\xf7\xbf\xbf\xbf"), 0);
    assert_int_equal(char_len("\xf8\x88\x80\x80\x80"), 0); /* 5 bytes */
    assert_int_equal(char_len("\xfc\x84\x80\x80\x80\x80"), 0);
    assert_int_equal(char_len("\xfe"), 0);
    assert_int_equal(char_len("\xff"), 0);
}

static void test_char_len_rejects_truncated_sequences(void **state)
{
    static const unsigned char euro[] = {0xe2, 0x82, 0xac};
    static const unsigned char smile[] = {0xf0, 0x9f, 0x98, 0x80};

    (void)state;
    assert_int_equal(es_utf8_char_len(euro, 0), 0);
    assert_int_equal(es_utf8_char_len(euro, 1), 0);
    assert_int_equal(es_utf8_char_len(euro, 2), 0);
    assert_int_equal(es_utf8_char_len(euro, 3), 3);
    assert_int_equal(es_utf8_char_len(smile, 3), 0);
    assert_int_equal(es_utf8_char_len(smile, 4), 4);
    /* a following ASCII byte is not a continuation */
    assert_int_equal(char_len("\xe2\x82x"), 0);
    assert_int_equal(char_len("\xc3x"), 0);
    assert_int_equal(char_len("\xf0\x9f\x98x"), 0);
}

static void test_char_len_rejects_stray_continuation_bytes(void **state)
{
    (void)state;
    assert_int_equal(char_len("\x80"), 0);
    assert_int_equal(char_len("\xbf"), 0);
    assert_int_equal(char_len("\x80\x80\x80"), 0);
}

static void test_valid_accepts_mixed_text(void **state)
{
    (void)state;
    assert_true(valid(""));
    assert_true(valid("plain ascii"));
    assert_true(valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf"
                      "\xbf end"));
}

static void test_valid_rejects_every_malformed_case(void **state)
{
    static const char *const bad[] = {
        "ok\xc0\xaf",
        "\xe0\x80\xaf",
        "\xed\xa0\x80",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "abc\xe2\x82",
        "\x80"
        "abc",
        "a\xbf"
        "b",
        "\xff",
        "\xc3",
        "caf\xc3\xa9\xa9",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (valid(bad[i])) {
            fail_msg("accepted case %zu", i);
        }
    }
}

static void test_valid_rejects_nul_byte(void **state)
{
    (void)state;
    assert_false(es_utf8_valid("ab\0cd", 5));
    assert_false(es_utf8_valid("\0", 1));
    assert_true(es_utf8_valid("ab\0cd", 2));
}

/* ASCII runs are checked eight bytes at a time: a bad byte at any position
 * of a run, and runs of every length around a step, are judged alike */
static void test_valid_judges_every_position_of_ascii_runs(void **state)
{
    static const char bad[][3] = {
        {0, 0, 0}, {(char)0xff, 0, 0}, {(char)0xc3, 0, 0}, {(char)0x80, 0, 0}};
    char buf[40];

    (void)state;
    for (size_t len = 0; len <= 33; len++) {
        memset(buf, 'a', len);
        assert_true(es_utf8_valid(buf, len));
        for (size_t at = 0; at < len; at++) {
            for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
                memset(buf, 'a', len);
                buf[at] = bad[b][0];
                assert_false(es_utf8_valid(buf, len));
            }
            /* a valid two-byte character anywhere in the run */
            if (at + 1 < len) {
                memset(buf, 'a', len);
                buf[at] = (char)0xc3;
                buf[at + 1] = (char)0xa9;
                assert_true(es_utf8_valid(buf, len));
            }
        }
    }
}

static void test_repair_keeps_valid_text_unchanged(void **state)
{
    static const char text[] = "caf\xc3\xa9 \xf0\x9f\x98\x80!";
    char out[64];

    (void)state;
    assert_int_equal(es_utf8_repair(text, strlen(text), out, sizeof(out)),
                     strlen(text));
    assert_string_equal(out, text);
}

static void test_repair_replaces_invalid_bytes_and_nul(void **state)
{
    static const char in[] = "a\x80"
                             "b\0"
                             "c\xc0\xaf"
                             "d\xe2\x82";
    char out[64];
    size_t n;

    (void)state;
    n = es_utf8_repair(in, sizeof(in) - 1, out, sizeof(out));
    assert_string_equal(out, "a" FFFD "b" FFFD "c" FFFD FFFD "d" FFFD FFFD);
    assert_int_equal(n, strlen(out));
    assert_true(es_utf8_valid(out, n));
}

static void test_repair_output_is_always_valid(void **state)
{
    unsigned char in[4096];
    char *out = malloc(3 * sizeof(in) + 1);
    uint32_t x = 12345;
    size_t n;

    (void)state;
    assert_non_null(out);
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof(in); i++) {
            x = x * 1103515245u + 12345u;
            in[i] = (unsigned char)(x >> 16);
        }
        n = es_utf8_repair((const char *)in, sizeof(in), out,
                           3 * sizeof(in) + 1);
        assert_true(n != (size_t)-1);
        assert_int_equal(out[n], '\0');
        assert_true(es_utf8_valid(out, n));
    }
    free(out);
}

static void test_repair_worst_case_fits_3n_plus_1(void **state)
{
    char in[100];
    char out[3 * sizeof(in) + 1];

    (void)state;
    memset(in, 0x80, sizeof(in));
    assert_int_equal(es_utf8_repair(in, sizeof(in), out, sizeof(out)),
                     3 * sizeof(in));
    assert_int_equal(es_utf8_repair(in, sizeof(in), out, sizeof(out) - 1),
                     (size_t)-1);
}

static void test_repair_reports_small_output(void **state)
{
    char out[8];

    (void)state;
    assert_int_equal(es_utf8_repair("abcd", 4, out, 4), (size_t)-1);
    assert_int_equal(es_utf8_repair("abcd", 4, out, 5), 4);
    assert_int_equal(es_utf8_repair("", 0, out, 0), (size_t)-1);
    assert_int_equal(es_utf8_repair("", 0, out, 1), 0);
    assert_string_equal(out, "");
    /* a character never lands half-copied */
    assert_int_equal(es_utf8_repair("a\xe2\x82\xac", 4, out, 4), (size_t)-1);
}

static void test_cut_keeps_short_text_whole(void **state)
{
    (void)state;
    assert_int_equal(es_utf8_cut("abc", 3, 3), 3);
    assert_int_equal(es_utf8_cut("abc", 3, 10), 3);
    assert_int_equal(es_utf8_cut("", 0, 0), 0);
}

static void test_cut_lands_on_character_boundary(void **state)
{
    /* a, e-acute (2), euro (3), smiley (4), b */
    static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                            "b";
    static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11};
    size_t n = sizeof(s) - 1;

    (void)state;
    for (size_t max = 0; max <= n; max++) {
        size_t k = es_utf8_cut(s, n, max);
        assert_int_equal(k, want[max]);
        assert_true(es_utf8_valid(s, k));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_char_len_of_valid_sequences),
        cmocka_unit_test(test_char_len_rejects_overlongs),
        cmocka_unit_test(test_char_len_rejects_surrogates),
        cmocka_unit_test(test_char_len_rejects_above_10ffff),
        cmocka_unit_test(test_char_len_rejects_truncated_sequences),
        cmocka_unit_test(test_char_len_rejects_stray_continuation_bytes),
        cmocka_unit_test(test_valid_accepts_mixed_text),
        cmocka_unit_test(test_valid_rejects_every_malformed_case),
        cmocka_unit_test(test_valid_rejects_nul_byte),
        cmocka_unit_test(test_valid_judges_every_position_of_ascii_runs),
        cmocka_unit_test(test_repair_keeps_valid_text_unchanged),
        cmocka_unit_test(test_repair_replaces_invalid_bytes_and_nul),
        cmocka_unit_test(test_repair_output_is_always_valid),
        cmocka_unit_test(test_repair_worst_case_fits_3n_plus_1),
        cmocka_unit_test(test_repair_reports_small_output),
        cmocka_unit_test(test_cut_keeps_short_text_whole),
        cmocka_unit_test(test_cut_lands_on_character_boundary),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
