/*
 * enrich_text_test.c - the enrich worker's text formatting against the
 * simple forms it replaced: JSON strings (jsonw.c: one pass, eight bytes
 * at a time) against validating with es_utf8_valid, repairing and escaping
 * byte by byte; numbers (fmt.h) against snprintf's "%lld" and "%.4f".
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_utf8.h"
#include "fmt.h"
#include "jsonw.h"

/* The reference JSON string of s[0..n) into out (room for 6n + 3). */
static size_t ref_json(const char *s, size_t n, char *out)
{
    char *fixed = malloc(3 * n + 1);
    size_t fl, o = 0;

    assert_non_null(fixed);
    if (es_utf8_valid(s, n)) {
        memcpy(fixed, s, n);
        fl = n;
    } else {
        fl = es_utf8_repair(s, n, fixed, 3 * n + 1);
    }
    out[o++] = '"';
    for (size_t i = 0; i < fl; i++) {
        unsigned char c = (unsigned char)fixed[i];

        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            o += (size_t)sprintf(out + o, "\\n");
        } else if (c == '\r') {
            o += (size_t)sprintf(out + o, "\\r");
        } else if (c == '\t') {
            o += (size_t)sprintf(out + o, "\\t");
        } else if (c < 0x20) {
            o += (size_t)sprintf(out + o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    free(fixed);
    return o;
}

static void check_json(const char *s, size_t n)
{
    es_jsonw w = {0};
    char *want = malloc(6 * n + 3);
    size_t wn;

    assert_non_null(want);
    es_jsonw_raw(&w, "x", 1); /* appends after what is there */
    es_jsonw_str(&w, s, n);
    wn = ref_json(s, n, want);
    assert_false(w.oom);
    if (w.len != wn + 1 || memcmp(w.buf + 1, want, wn) != 0 ||
        w.buf[w.len] != '\0') {
        fail_msg("string of %zu bytes: got %.*s want %.*s", n, (int)w.len - 1,
                 w.buf + 1, (int)wn, want);
    }
    es_jsonw_free(&w);
    free(want);
}

static void test_json_strings_match_the_byte_by_byte_form(void **state)
{
    static const char *const fixed[] = {
        "",
        "plain text that is long enough for several words",
        "quote \" backslash \\ newline \n tab \t cr \r bell \x07 del \x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ok",
        "bad \xff byte",
        "truncated \xe2\x82",
        "surrogate \xed\xa0\x80 half",
        "overlong \xc0\xaf slash",
        "12345678\"2345678\\",
        "1234567\xc3\xa9",
    };
    unsigned x = 12345;
    char buf[300];

    (void)state;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        check_json(fixed[i], strlen(fixed[i]));
    }
    /* a NUL is invalid text, repaired like any invalid byte */
    check_json("a\0b", 3);
    /* random strings over every byte value, and over mostly ASCII */
    for (int r = 0; r < 20000; r++) {
        size_t n = r % 257;

        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] =
                (char)(r % 2 ? (x >> 16) & 0xff
                             : ((x >> 16) % 50 == 0 ? (x >> 8) & 0xff
                                                    : 'a' + (x >> 20) % 26));
        }
        check_json(buf, n);
    }
}

static void test_integers_print_as_lld(void **state)
{
    static const long long v[] = {0,
                                  1,
                                  -1,
                                  9,
                                  10,
                                  -10,
                                  123456789,
                                  -987654321,
                                  LLONG_MAX,
                                  LLONG_MIN,
                                  1000000000000LL};
    char got[ES_FMT_LL_MAX + 1], want[32];

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = es_fmt_ll(got, v[i]);

        got[n] = '\0';
        snprintf(want, sizeof(want), "%lld", v[i]);
        assert_string_equal(got, want);
    }
}

static void check_fixed4(double v)
{
    char got[ES_FMT_FIXED4_MAX], want[ES_FMT_FIXED4_MAX];
    size_t n = es_fmt_fixed4(got, v);

    got[n] = '\0';
    snprintf(want, sizeof(want), "%.4f", v);
    if (strcmp(got, want) != 0) {
        fail_msg("%.17g: got %s want %s", v, got, want);
    }
}

static void test_fixed4_prints_as_printf(void **state)
{
    unsigned x = 99;

    (void)state;
    /* every score VADER gives (rounded), and their neighbours */
    for (int k = -10000; k <= 10000; k++) {
        double v = k / 10000.0;

        check_fixed4(v);
        check_fixed4(nextafter(v, 2.0));
        check_fixed4(nextafter(v, -2.0));
        check_fixed4(k / 1000.0);
    }
    /* Comprehend's probabilities, ties, signs, and the odd value */
    for (int r = 0; r < 100000; r++) {
        x = x * 1103515245u + 12345u;
        check_fixed4((double)x / 4294967296.0);
        check_fixed4(-(double)x / 4294967296.0 * 3.0);
    }
    check_fixed4(0.00005);
    check_fixed4(0.00015);
    check_fixed4(-0.00005);
    check_fixed4(-0.0);
    check_fixed4(123456789.12345);
    check_fixed4(1e300);
    check_fixed4(-1e300);
    check_fixed4(INFINITY);
    check_fixed4(NAN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_strings_match_the_byte_by_byte_form),
        cmocka_unit_test(test_integers_print_as_lld),
        cmocka_unit_test(test_fixed4_prints_as_printf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
