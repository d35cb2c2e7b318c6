/*
 * es_req_cursor_test.c - unit tests for lib/es_req_cursor.c, the cursor
 * of GET /topics/{id}/comments.
 *
 * Every cursor the API gives must read back to the same position, and
 * every text that reads must be one the API could have given: the forged
 * ones are those tests/integration/api_series.test.mjs sends, plus each
 * way of writing the same position twice (leading zeros, padding,
 * non-zero trailing bits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_b64url.h"
#include "es_req_cursor.h"

/* base64url of a raw cursor text, into out (room for 128 bytes) */
static const char *b64(const char *raw, char *out)
{
    es_req_b64url_encode((const unsigned char *)raw, strlen(raw), out);
    return out;
}

static es_req_cursor make(int64_t score, uint32_t ties, const char *id)
{
    es_req_cursor c;

    memset(&c, 0, sizeof(c));
    c.score = score;
    c.ties = ties;
    c.id_len = strlen(id);
    memcpy(c.id, id, c.id_len + 1);
    return c;
}

static void test_cursor_round_trips(void **state)
{
    static const struct {
        int64_t score;
        uint32_t ties;
        const char *id;
    } cases[] = {
        {0, 0, "0"},
        {1764079331000LL, 1, "k3x9a1"},
        {1764079331000LL, 999999, "zzzzzzzzzzzz"},
        {ES_REQ_CURSOR_SCORE_MAX, ES_REQ_CURSOR_TIES_MAX, "abcdefghijkl"},
        {10, 10, "a"},
    };
    char text[ES_REQ_CURSOR_LEN + 1], again[ES_REQ_CURSOR_LEN + 1];
    es_req_cursor c, back;
    int n;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        c = make(cases[i].score, cases[i].ties, cases[i].id);
        n = es_req_cursor_encode(&c, text);
        assert_true(n > 0 && n <= ES_REQ_CURSOR_LEN);
        assert_int_equal(strlen(text), (size_t)n);
        assert_int_equal(es_req_cursor_decode(text, (size_t)n, &back), 0);
        assert_true(back.score == c.score);
        assert_int_equal(back.ties, c.ties);
        assert_int_equal(back.id_len, c.id_len);
        assert_string_equal(back.id, c.id);
        assert_int_equal(es_req_cursor_encode(&back, again), n);
        assert_string_equal(again, text);
    }
}

static void test_cursor_text_is_base64url_of_its_parts(void **state)
{
    char text[ES_REQ_CURSOR_LEN + 1], want[128];
    es_req_cursor c = make(1764079331000LL, 2, "k3x9a1");

    (void)state;
    assert_true(es_req_cursor_encode(&c, text) > 0);
    assert_string_equal(text, b64("1764079331000:2:k3x9a1", want));
}

static void test_cursor_encode_refuses_values_out_of_range(void **state)
{
    char text[ES_REQ_CURSOR_LEN + 1];
    es_req_cursor c;

    (void)state;
    c = make(-1, 0, "a");
    assert_int_equal(es_req_cursor_encode(&c, text), -1);
    assert_string_equal(text, "");
    c = make(ES_REQ_CURSOR_SCORE_MAX + 1, 0, "a");
    assert_int_equal(es_req_cursor_encode(&c, text), -1);
    c = make(1, ES_REQ_CURSOR_TIES_MAX + 1, "a");
    assert_int_equal(es_req_cursor_encode(&c, text), -1);
    c = make(1, 0, "ABC");
    assert_int_equal(es_req_cursor_encode(&c, text), -1);
    c = make(1, 0, "");
    assert_int_equal(es_req_cursor_encode(&c, text), -1);
    c = make(1, 0, "abcdefghijkl");
    c.id_len = 13;
    assert_int_equal(es_req_cursor_encode(&c, text), -1);
}

static void test_cursor_decode_refuses_forgeries(void **state)
{
    static const char *const raw[] = {
        "12:0:abc:x",
        "1732543261000:0:ABC",
        "01:0:abc",
        "1:0:abc:x",
        "-5:0:abc",
        "1:01:abc",
        "1:-1:abc",
        "+1:0:abc",
        " 1:0:abc",
        "1:0:",
        "1:0",
        "1",
        "",
        ":0:abc",
        "1::abc",
        "1:0:abcdefghijklm",
        "1000000000000000:0:a",
        "1:1000000:a",
        "1:0:ab_c",
        "1:0:ab-c",
        "1:0:a\xc3\xa9",
        "99999999999999999999999:0:a",
        "1:0:a\n",
        "1.5:0:a",
    };
    char text[128];
    es_req_cursor c;

    (void)state;
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        b64(raw[i], text);
        if (es_req_cursor_decode(text, strlen(text), &c) != -1) {
            fail_msg("accepted \"%s\"", raw[i]);
        }
    }
    assert_int_equal(es_req_cursor_decode("1:0:a", 5, &c), -1);
    assert_int_equal(es_req_cursor_decode("", 0, &c), -1);
}

static void test_cursor_decode_refuses_other_texts_of_one_cursor(void **state)
{
    char text[ES_REQ_CURSOR_LEN + 1], bad[ES_REQ_CURSOR_LEN + 8];
    es_req_cursor c = make(1764079331000LL, 0, "k3x9a1");
    size_t n;
    int len;

    (void)state;
    len = es_req_cursor_encode(&c, text);
    assert_true(len > 0);
    n = (size_t)len;
    assert_int_equal(n % 4 == 0, 0); /* a text with a partial group */

    /* padding */
    snprintf(bad, sizeof(bad), "%s=", text);
    assert_int_equal(es_req_cursor_decode(bad, strlen(bad), &c), -1);
    snprintf(bad, sizeof(bad), "%s==", text);
    assert_int_equal(es_req_cursor_decode(bad, strlen(bad), &c), -1);
    /* the same bytes with non-zero trailing bits */
    memcpy(bad, text, n + 1);
    bad[n - 1] = (char)(bad[n - 1] == 'A' ? 'B' : bad[n - 1] + 1);
    assert_int_equal(es_req_cursor_decode(bad, n, &c), -1);
    /* cut, extended, other characters */
    assert_int_equal(es_req_cursor_decode(text + 1, n - 1, &c), -1);
    snprintf(bad, sizeof(bad), "%s*", text);
    assert_int_equal(es_req_cursor_decode(bad, strlen(bad), &c), -1);
    snprintf(bad, sizeof(bad), "%s.", text);
    assert_int_equal(es_req_cursor_decode(bad, strlen(bad), &c), -1);
    /* the standard alphabet's '+' and '/' */
    memcpy(bad, text, n + 1);
    bad[0] = '+';
    assert_int_equal(es_req_cursor_decode(bad, n, &c), -1);
    bad[0] = '/';
    assert_int_equal(es_req_cursor_decode(bad, n, &c), -1);
}

static void test_cursor_decode_refuses_long_text(void **state)
{
    char text[301];
    es_req_cursor c;

    (void)state;
    memset(text, 'x', 300);
    text[300] = '\0';
    assert_int_equal(es_req_cursor_decode(text, 300, &c), -1);
    assert_int_equal(es_req_cursor_decode(text, ES_REQ_CURSOR_LEN + 1, &c), -1);
}

static void test_cursor_id_charset(void **state)
{
    (void)state;
    assert_int_equal(es_req_cursor_id_valid("k3x9a1", 6), 1);
    assert_int_equal(es_req_cursor_id_valid("zzzzzzzzzzzz", 12), 1);
    assert_int_equal(es_req_cursor_id_valid("zzzzzzzzzzzzz", 13), 0);
    assert_int_equal(es_req_cursor_id_valid("", 0), 0);
    assert_int_equal(es_req_cursor_id_valid("K3", 2), 0);
    assert_int_equal(es_req_cursor_id_valid("a\0b", 3), 0);
    assert_int_equal(es_req_cursor_id_valid("a:b", 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_round_trips),
        cmocka_unit_test(test_cursor_text_is_base64url_of_its_parts),
        cmocka_unit_test(test_cursor_encode_refuses_values_out_of_range),
        cmocka_unit_test(test_cursor_decode_refuses_forgeries),
        cmocka_unit_test(test_cursor_decode_refuses_other_texts_of_one_cursor),
        cmocka_unit_test(test_cursor_decode_refuses_long_text),
        cmocka_unit_test(test_cursor_id_charset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
