/*
 * es_jscan_test.c - the dump-line JSON scanner: members and their spans,
 * strict rejection of malformed and truncated input, nested values skipped
 * correctly, string unescaping with every escape form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_jscan.h"

static int valid(const char *s)
{
    es_jscan sc;

    es_jscan_init(&sc, s, strlen(s));
    return es_jscan_finish(&sc) == 0;
}

static void test_members_are_reported_with_types_and_spans(void **state)
{
    const char *line = "{\"a\":\"x\\\"y\",\"n\":-1.5e3,\"t\":true,"
                       "\"f\":false,\"z\":null,\"o\":{\"k\":[1,\"}\"]},"
                       "\"arr\":[]}";
    es_jscan sc;
    es_jscan_member m;

    (void)state;
    es_jscan_init(&sc, line, strlen(line));
    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_true(es_jscan_key_is(&m, "a", 1));
    assert_int_equal(m.type, ES_JSON_STRING);
    assert_int_equal(m.val_len, 4);
    assert_memory_equal(m.val, "x\\\"y", 4);
    assert_true(m.val_escaped);

    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_int_equal(m.type, ES_JSON_NUMBER);
    assert_int_equal(m.val_len, 6);
    assert_memory_equal(m.val, "-1.5e3", 6);

    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_int_equal(m.type, ES_JSON_TRUE);
    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_int_equal(m.type, ES_JSON_FALSE);
    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_int_equal(m.type, ES_JSON_NULL);

    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_true(es_jscan_key_is(&m, "o", 1));
    assert_int_equal(m.type, ES_JSON_OBJECT);
    assert_int_equal(m.val_len, strlen("{\"k\":[1,\"}\"]}"));

    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_int_equal(m.type, ES_JSON_ARRAY);
    assert_int_equal(m.val_len, 2);
    assert_int_equal(es_jscan_next(&sc, &m), 0);
    assert_int_equal(es_jscan_next(&sc, &m), 0);
    assert_null(es_jscan_error(&sc, NULL));
}

static void test_whitespace_and_empty_object_are_accepted(void **state)
{
    (void)state;
    assert_true(valid("{}"));
    assert_true(valid("  { }\r\n"));
    assert_true(valid("{ \"a\" : 1 , \"b\" :\t[ 1 , 2 ] }"));
    assert_true(valid("{\"a\":0,\"b\":0.5,\"c\":1E+2,\"d\":-0}"));
}

static void test_malformed_lines_are_rejected(void **state)
{
    static const char *const bad[] = {"",
                                      "[1,2]",
                                      "{\"a\"}",
                                      "{\"a\":}",
                                      "{\"a\":1,}",
                                      "{,}",
                                      "{\"a\":1 \"b\":2}",
                                      "{\"a\":01}",
                                      "{\"a\":1.}",
                                      "{\"a\":.5}",
                                      "{\"a\":1e}",
                                      "{\"a\":+1}",
                                      "{\"a\":tru}",
                                      "{\"a\":nul}",
                                      "{\"a\":\"x\\q\"}",
                                      "{\"a\":\"\\u12G4\"}",
                                      "{\"a\":\"tab\there\"}",
                                      "{'a':1}",
                                      "{\"a\":1}}",
                                      "{\"a\":1} x",
                                      "{\"a\":[1,]}",
                                      "{\"a\":{\"b\"}}",
                                      "{\"a\":[1 2]}",
                                      "{a:1}",
                                      NULL};

    (void)state;
    for (int i = 0; bad[i]; i++) {
        if (valid(bad[i])) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
}

static void test_every_truncation_of_a_valid_line_is_rejected(void **state)
{
    const char *line =
        "{\"id\":\"k1\",\"body\":\"a \\\"quoted\\\" \\u00e9 word\","
        "\"score\":-12,\"x\":{\"y\":[true,false,null,\"]\"]},\"e\":1.5e-3}";
    size_t n = strlen(line);

    (void)state;
    assert_true(valid(line));
    for (size_t k = 0; k < n; k++) {
        es_jscan sc;
        es_jscan_init(&sc, line, k);
        if (es_jscan_finish(&sc) == 0) {
            fail_msg("accepted a truncation at %zu", k);
        }
    }
}

static void test_error_reports_reason_and_offset(void **state)
{
    es_jscan sc;
    size_t off = 0;
    const char *s = "{\"a\":1,\"b\":x}";

    (void)state;
    es_jscan_init(&sc, s, strlen(s));
    assert_int_equal(es_jscan_finish(&sc), -1);
    assert_non_null(es_jscan_error(&sc, &off));
    assert_int_equal(off, 11);
}

static void test_deep_nesting_is_rejected_not_crashing(void **state)
{
    char buf[4096];
    size_t n = 0;

    (void)state;
    n += (size_t)sprintf(buf, "{\"a\":");
    for (int i = 0; i < 1000; i++) {
        buf[n++] = '[';
    }
    buf[n] = '\0';
    assert_false(valid(buf));

    /* nesting within the limit is fine */
    n = (size_t)sprintf(buf, "{\"a\":");
    for (int i = 0; i < 20; i++) {
        buf[n++] = '[';
    }
    for (int i = 0; i < 20; i++) {
        buf[n++] = ']';
    }
    buf[n++] = '}';
    buf[n] = '\0';
    assert_true(valid(buf));
}

static void
test_escaped_quotes_inside_nested_strings_do_not_end_them(void **state)
{
    const char *s = "{\"m\":{\"k\":\"\\\\\\\"}\"},\"z\":1}";
    es_jscan sc;
    es_jscan_member m;

    (void)state;
    es_jscan_init(&sc, s, strlen(s));
    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_int_equal(m.type, ES_JSON_OBJECT);
    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_true(es_jscan_key_is(&m, "z", 1));
    assert_int_equal(es_jscan_next(&sc, &m), 0);
}

static void test_huge_string_values_are_scanned(void **state)
{
    size_t body = 5u << 20;
    char *s = malloc(body + 64);
    size_t n;
    es_jscan sc;
    es_jscan_member m;

    (void)state;
    assert_non_null(s);
    n = (size_t)sprintf(s, "{\"body\":\"");
    for (size_t i = 0; i < body; i++) {
        s[n++] = (char)('a' + i % 26);
    }
    /* an escape near the end, past the word-at-a-time fast path */
    memcpy(s + n - 10, "\\n", 2);
    n += (size_t)sprintf(s + n, "\",\"id\":\"x\"}");
    es_jscan_init(&sc, s, n);
    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_int_equal(m.val_len, body);
    assert_true(m.val_escaped);
    assert_int_equal(es_jscan_next(&sc, &m), 1);
    assert_int_equal(es_jscan_next(&sc, &m), 0);
    free(s);
}

static void test_control_bytes_are_caught_at_every_alignment(void **state)
{
    char s[64];

    (void)state;
    for (int pos = 0; pos < 20; pos++) {
        int n = sprintf(s, "{\"a\":\"");
        for (int i = 0; i < 24; i++) {
            s[n + i] = i == pos ? '\x01' : 'b';
        }
        n += 24;
        n += sprintf(s + n, "\"}");
        assert_false(valid(s));
        s[6 + pos] = 'b';
        assert_true(valid(s));
    }
}

static void test_unescape_decodes_every_escape(void **state)
{
    const char *in = "a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac";
    char out[64];
    size_t n;

    (void)state;
    n = es_jscan_unescape(in, strlen(in), out, sizeof(out));
    assert_int_equal(n, strlen("a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac"));
    assert_string_equal(out, "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac");
}

static void test_unescape_joins_surrogate_pairs(void **state)
{
    const char *in = "\\ud83d\\ude00!";
    char out[16];

    (void)state;
    assert_int_equal(es_jscan_unescape(in, strlen(in), out, sizeof(out)), 5);
    assert_string_equal(out, "\xf0\x9f\x98\x80!");
}

static void test_unescape_replaces_lone_surrogates_and_nul(void **state)
{
    const char *hi = "x\\ud83dy";
    const char *lo = "\\ude00";
    const char *hi_hi = "\\ud83d\\ud83d";
    const char *nul = "a\\u0000b";
    char out[32];

    (void)state;
    es_jscan_unescape(hi, strlen(hi), out, sizeof(out));
    assert_string_equal(out, "x\xef\xbf\xbdy");
    es_jscan_unescape(lo, strlen(lo), out, sizeof(out));
    assert_string_equal(out, "\xef\xbf\xbd");
    es_jscan_unescape(hi_hi, strlen(hi_hi), out, sizeof(out));
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
    es_jscan_unescape(nul, strlen(nul), out, sizeof(out));
    assert_string_equal(out, "a\xef\xbf\xbd"
                             "b");
}

static void test_unescape_fits_in_input_length_plus_one(void **state)
{
    static const char *const ins[] = {"\\n",     "\\u00e9", "\\ud83d\\ude00",
                                      "\\ud83d", "plain",   "\\u20ac\\\\",
                                      NULL};
    char out[32];

    (void)state;
    for (int i = 0; ins[i]; i++) {
        size_t n = strlen(ins[i]);
        assert_int_not_equal(es_jscan_unescape(ins[i], n, out, n + 1),
                             (size_t)-1);
        assert_int_equal(es_jscan_unescape(ins[i], n, out, 1), (size_t)-1);
    }
}

static void test_unescape_rejects_bad_escapes(void **state)
{
    char out[32];

    (void)state;
    assert_int_equal(es_jscan_unescape("\\x", 2, out, sizeof(out)), (size_t)-1);
    assert_int_equal(es_jscan_unescape("\\u12", 4, out, sizeof(out)),
                     (size_t)-1);
    assert_int_equal(es_jscan_unescape("ab\\", 3, out, sizeof(out)),
                     (size_t)-1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_are_reported_with_types_and_spans),
        cmocka_unit_test(test_whitespace_and_empty_object_are_accepted),
        cmocka_unit_test(test_malformed_lines_are_rejected),
        cmocka_unit_test(test_every_truncation_of_a_valid_line_is_rejected),
        cmocka_unit_test(test_error_reports_reason_and_offset),
        cmocka_unit_test(test_deep_nesting_is_rejected_not_crashing),
        cmocka_unit_test(
            test_escaped_quotes_inside_nested_strings_do_not_end_them),
        cmocka_unit_test(test_huge_string_values_are_scanned),
        cmocka_unit_test(test_control_bytes_are_caught_at_every_alignment),
        cmocka_unit_test(test_unescape_decodes_every_escape),
        cmocka_unit_test(test_unescape_joins_surrogate_pairs),
        cmocka_unit_test(test_unescape_replaces_lone_surrogates_and_nul),
        cmocka_unit_test(test_unescape_fits_in_input_length_plus_one),
        cmocka_unit_test(test_unescape_rejects_bad_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
