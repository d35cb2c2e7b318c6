/*
 * es_req_b64url_test.c - unit tests for lib/es_req_b64url.c.
 *
 * Known answers from RFC 4648 (in the URL alphabet, without padding),
 * round trips of every length around the 3-byte groups, and the texts a
 * canonical decoder must refuse: padding, foreign characters, a lone last
 * character and non-zero bits below the last byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_b64url.h"

static int dec(const char *s, unsigned char *out, size_t size, size_t *n)
{
    return es_req_b64url_decode(s, strlen(s), out, size, n);
}

static void test_encode_known_answers(void **state)
{
    static const char *const in[] = {"",     "f",     "fo",    "foo",
                                     "foob", "fooba", "foobar"};
    static const char *const out[] = {"",       "Zg",      "Zm8",     "Zm9v",
                                      "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    char buf[16];

    (void)state;
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        assert_int_equal(es_req_b64url_encode((const unsigned char *)in[i],
                                              strlen(in[i]), buf),
                         strlen(out[i]));
        assert_string_equal(buf, out[i]);
        assert_int_equal(ES_REQ_B64URL_LEN(strlen(in[i])), strlen(out[i]));
    }
}

static void test_encode_uses_the_url_alphabet(void **state)
{
    static const unsigned char in[] = {0xfb, 0xff, 0xbf};
    char buf[8];

    (void)state;
    es_req_b64url_encode(in, 3, buf);
    assert_string_equal(buf, "-_-_");
}

static void test_round_trips_every_length(void **state)
{
    unsigned char in[64] = {0}, back[64];
    char text[ES_REQ_B64URL_LEN(64) + 1];
    size_t n, len, got;

    (void)state;
    for (n = 0; n < sizeof(in); n++) {
        for (size_t i = 0; i < n; i++) {
            in[i] = (unsigned char)(i * 37 + n * 11);
        }
        len = es_req_b64url_encode(in, n, text);
        assert_int_equal(len, ES_REQ_B64URL_LEN(n));
        assert_int_equal(strlen(text), len);
        assert_int_equal(es_req_b64url_decode(text, len, back, n, &got), 0);
        assert_int_equal(got, n);
        assert_memory_equal(back, in, n);
    }
}

static void test_decode_refuses_non_canonical_text(void **state)
{
    static const char *const bad[] = {
        "Zg==", "Zg=",  "Zm9v=", "Z",      "Zm9vY", "Zh",   "Zm9",
        "Zm+v", "Zm/v", "Zm 9v", "Zm9v\n", "Zm.v",  "Zm%v", "\xc3\xa9Zm",
    };
    unsigned char out[32];
    size_t n;

    (void)state;
    /* "Zh", "Zm9" with bits below the last byte: "Zg", "Zm8" are canonical */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (dec(bad[i], out, sizeof(out), &n) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(es_req_b64url_decode("Zm\0v", 4, out, sizeof(out), &n),
                     -1);
}

static void test_decode_refuses_a_small_buffer(void **state)
{
    unsigned char out[6];
    size_t n;

    (void)state;
    assert_int_equal(dec("Zm9vYmFy", out, 6, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(dec("Zm9vYmFyYg", out, 6, &n), -1);
    assert_int_equal(dec("", out, 0, &n), 0);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_known_answers),
        cmocka_unit_test(test_encode_uses_the_url_alphabet),
        cmocka_unit_test(test_round_trips_every_length),
        cmocka_unit_test(test_decode_refuses_non_canonical_text),
        cmocka_unit_test(test_decode_refuses_a_small_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
