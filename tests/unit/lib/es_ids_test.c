/*
 * es_ids_test.c - unit tests for lib/es_ids.c.
 *
 * These checks are what keeps hostile input out of Redis key names, so
 * besides the plain rules the tests throw at them the bytes an attacker
 * would use: NUL inside the length, '{' and '}' (hash tags), ':' (the key
 * separator), '/', spaces and UTF-8 look-alikes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_ids.h"

/* Normalizes a C string; out must hold 22 bytes. */
static int sub_norm(const char *s, char *out)
{
    return es_subreddit_normalize(s, strlen(s), out);
}

static int id_parse(const char *s, uint64_t *num)
{
    return es_comment_id_parse(s, strlen(s), num);
}

static void test_subreddit_is_folded_to_lower_case(void **state)
{
    char out[22];

    (void)state;
    assert_int_equal(sub_norm("AskReddit", out), 0);
    assert_string_equal(out, "askreddit");
    assert_int_equal(sub_norm("Linux_Gaming_2", out), 0);
    assert_string_equal(out, "linux_gaming_2");
    assert_int_equal(sub_norm("ALL", out), 0);
    assert_string_equal(out, "all");
}

static void test_subreddit_length_must_be_2_to_21(void **state)
{
    char out[32];

    (void)state;
    assert_int_equal(sub_norm("", out), -1);
    assert_int_equal(sub_norm("a", out), -1);
    assert_int_equal(sub_norm("ab", out), 0);
    assert_string_equal(out, "ab");
    assert_int_equal(sub_norm("abcdefghijklmnopqrstu", out), 0); /* 21 */
    assert_string_equal(out, "abcdefghijklmnopqrstu");
    assert_int_equal(sub_norm("abcdefghijklmnopqrstuv", out), -1); /* 22 */
}

static void test_subreddit_max_length_fills_exactly_22_bytes(void **state)
{
    char out[23];

    (void)state;
    memset(out, 'Z', sizeof(out));
    assert_int_equal(sub_norm("ABCDEFGHIJKLMNOPQRSTU", out), 0);
    assert_int_equal(out[21], '\0');
    assert_int_equal(out[22], 'Z');
}

static void test_subreddit_may_not_start_with_underscore(void **state)
{
    char out[22];

    (void)state;
    assert_int_equal(sub_norm("_private", out), -1);
    assert_int_equal(sub_norm("__", out), -1);
    assert_int_equal(sub_norm("a_", out), 0);
    assert_int_equal(sub_norm("0day", out), 0);
}

static void test_subreddit_rejects_characters_outside_charset(void **state)
{
    static const char *const bad[] = {
        "ask-reddit",
        "ask reddit",
        "r/askreddit",
        "ask.reddit",
        "es:{ingest}",
        "ab:cd",
        "{ingest}",
        "ab}",
        "ab{",
        "caf\xc3\xa9",
        "\xef\xbd\x81\xef\xbd\x82", /* fullwidth */
        "ab\n",
        "ab\t",
        "a*",
        "ab%",
    };
    char out[22];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sub_norm(bad[i], out) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
}

static void test_subreddit_rejects_nul_inside_length(void **state)
{
    char out[22];

    (void)state;
    assert_int_equal(es_subreddit_normalize("ab\0cd", 5, out), -1);
    assert_int_equal(es_subreddit_normalize("abcd\0", 5, out), -1);
    /* the length given is what counts, not the NUL */
    assert_int_equal(es_subreddit_normalize("abcd:evil", 4, out), 0);
    assert_string_equal(out, "abcd");
}

static void test_comment_id_parses_base36(void **state)
{
    uint64_t v = 99;

    (void)state;
    assert_int_equal(id_parse("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(id_parse("z", &v), 0);
    assert_int_equal(v, 35);
    assert_int_equal(id_parse("10", &v), 0);
    assert_int_equal(v, 36);
    assert_int_equal(id_parse("abc123", &v), 0);
    assert_int_equal(
        v, ((((10ULL * 36 + 11) * 36 + 12) * 36 + 1) * 36 + 2) * 36 + 3);
}

static void test_comment_id_accepts_t1_prefix(void **state)
{
    uint64_t a = 0, b = 1;

    (void)state;
    assert_int_equal(id_parse("t1_k2j4x9p", &a), 0);
    assert_int_equal(id_parse("k2j4x9p", &b), 0);
    assert_true(a == b);
    /* the prefix alone, other kinds and upper case are not ids */
    assert_int_equal(id_parse("t1_", &a), -1);
    assert_int_equal(id_parse("t3_abc", &a), -1);
    assert_int_equal(id_parse("T1_abc", &a), -1);
    assert_int_equal(id_parse("t1_t1_abc", &a), -1);
}

static void test_comment_id_length_is_1_to_12(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(id_parse("", &v), -1);
    assert_int_equal(id_parse("zzzzzzzzzzzz", &v), 0); /* 12 */
    assert_true(v == 4738381338321616895ULL);          /* 36^12 - 1 */
    assert_int_equal(id_parse("t1_zzzzzzzzzzzz", &v), 0);
    assert_int_equal(id_parse("1000000000000", &v), -1); /* 13 */
    assert_int_equal(id_parse("t1_1000000000000", &v), -1);
}

static void test_comment_id_rejects_bad_characters(void **state)
{
    static const char *const bad[] = {
        "ABC",  "ab-c",     "ab_c", "ab c", "{ab}", "ab:c",
        "ab\n", "\xc3\xa9", "+12",  "-1",   " 1",   "1 ",
    };
    uint64_t v = 7;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (id_parse(bad[i], &v) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(es_comment_id_parse("ab\0c", 4, &v), -1);
    assert_int_equal(v, 7);
}

static void test_comment_id_format_round_trips(void **state)
{
    static const char *const ids[] = {"0",       "1",   "z",           "10",
                                      "k2j4x9p", "abc", "zzzzzzzzzzzz"};
    char out[14];
    uint64_t v;

    (void)state;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        assert_int_equal(id_parse(ids[i], &v), 0);
        es_comment_id_format(v, out);
        assert_string_equal(out, ids[i]);
    }
    for (uint64_t n = 0; n < 100000; n += 7) {
        uint64_t back = n + 1;
        es_comment_id_format(n, out);
        assert_int_equal(id_parse(out, &back), 0);
        assert_true(back == n);
    }
}

static void test_comment_id_format_of_max_fits_14_bytes(void **state)
{
    char out[15];

    (void)state;
    memset(out, 'Z', sizeof(out));
    es_comment_id_format(UINT64_MAX, out);
    assert_string_equal(out, "3w5e11264sgsf");
    assert_int_equal(out[14], 'Z');
}

static void test_tenant_id_accepts_its_charset(void **state)
{
    char longest[65];

    (void)state;
    assert_int_equal(es_tenant_id_valid("acme", 4), 0);
    assert_int_equal(es_tenant_id_valid("Acme_Corp-01", 12), 0);
    assert_int_equal(es_tenant_id_valid("x", 1), 0);
    memset(longest, 'a', 64);
    longest[64] = 'a';
    assert_int_equal(es_tenant_id_valid(longest, 64), 0);
    assert_int_equal(es_tenant_id_valid(longest, 65), -1);
    assert_int_equal(es_tenant_id_valid("", 0), -1);
}

static void test_tenant_id_rejects_hostile_input(void **state)
{
    static const char *const bad[] = {
        "t:acme", "{acme}", "ac}me",       "ac{me", "a b",  "a/b",
        "a.b",    "a\n",    "caf\xc3\xa9", "*",     "a\\b",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (es_tenant_id_valid(bad[i], strlen(bad[i])) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(es_tenant_id_valid("ac\0me", 5), -1);
}

static void test_user_sub_accepts_uuids_and_its_charset(void **state)
{
    char longest[ES_USER_SUB_MAX + 1];

    (void)state;
    assert_int_equal(
        es_user_sub_valid("7d6e3a52-91c4-4b0e-a7c1-2f6b8d9e0a13", 36), 0);
    assert_int_equal(es_user_sub_valid("a.b:c@d+e_F-9", 13), 0);
    memset(longest, 'a', sizeof(longest));
    assert_int_equal(es_user_sub_valid(longest, ES_USER_SUB_MAX), 0);
    assert_int_equal(es_user_sub_valid(longest, ES_USER_SUB_MAX + 1), -1);
    assert_int_equal(es_user_sub_valid("", 0), -1);
}

static void test_user_sub_rejects_hostile_input(void **state)
{
    static const char *const bad[] = {
        "{t:acme}", "a}b",  "a b", "a/b", "a\n",  "a\r",   "caf\xc3\xa9",
        "*",        "a\\b", "a,b", "a<b", "a\"b", "a&b=c", "a%41",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (es_user_sub_valid(bad[i], strlen(bad[i])) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(es_user_sub_valid("ab\0cd", 5), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subreddit_is_folded_to_lower_case),
        cmocka_unit_test(test_subreddit_length_must_be_2_to_21),
        cmocka_unit_test(test_subreddit_max_length_fills_exactly_22_bytes),
        cmocka_unit_test(test_subreddit_may_not_start_with_underscore),
        cmocka_unit_test(test_subreddit_rejects_characters_outside_charset),
        cmocka_unit_test(test_subreddit_rejects_nul_inside_length),
        cmocka_unit_test(test_comment_id_parses_base36),
        cmocka_unit_test(test_comment_id_accepts_t1_prefix),
        cmocka_unit_test(test_comment_id_length_is_1_to_12),
        cmocka_unit_test(test_comment_id_rejects_bad_characters),
        cmocka_unit_test(test_comment_id_format_round_trips),
        cmocka_unit_test(test_comment_id_format_of_max_fits_14_bytes),
        cmocka_unit_test(test_tenant_id_accepts_its_charset),
        cmocka_unit_test(test_tenant_id_rejects_hostile_input),
        cmocka_unit_test(test_user_sub_accepts_uuids_and_its_charset),
        cmocka_unit_test(test_user_sub_rejects_hostile_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
