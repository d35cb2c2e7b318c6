/*
 * es_unsub_test.c - unit tests for lib/es_unsub.c, the signatures of
 * unsubscribe links.
 *
 * The expected signatures were computed apart from this code (Python's
 * hmac module over the same message), so the tests hold the format the
 * mail worker and nginx share, not just agreement with itself. Each part
 * of a link is changed on its own to show it is covered by the signature.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "es_unsub.h"

#define KEY     "0123456789abcdef0123456789abcdef"
#define KEY_LEN (sizeof(KEY) - 1)
#define SUB     "7d6e3a52-91c4-4b0e-a7c1-2f6b8d9e0a13"
/* HMAC-SHA256(KEY, "unsubscribe\nacme\n" SUB "\ndigest"), and "\nalerts" */
#define SIG_DIGEST                                                             \
    "73776f9068be28c7e09dc0e7f347f023a4e6f395476ba1f2c6821d98da94679d"
#define SIG_ALERTS                                                             \
    "38224174fd2160bcba8e68af80d85e59edf4a731ca51856c2847d4e5ec8c1b08"

static const unsigned char *key = (const unsigned char *)KEY;

static void test_sign_gives_the_hmac_in_lower_hex(void **state)
{
    char hex[65];

    (void)state;
    assert_int_equal(es_unsub_sign(key, KEY_LEN, "acme", SUB, "digest", hex),
                     0);
    assert_string_equal(hex, SIG_DIGEST);
    assert_int_equal(es_unsub_sign(key, KEY_LEN, "acme", SUB, "alerts", hex),
                     0);
    assert_string_equal(hex, SIG_ALERTS);
}

static void test_verify_accepts_only_the_exact_link(void **state)
{
    (void)state;
    assert_int_equal(
        es_unsub_verify(key, KEY_LEN, "acme", SUB, "digest", SIG_DIGEST), 1);
    /* every part is signed */
    assert_int_equal(
        es_unsub_verify(key, KEY_LEN, "acmf", SUB, "digest", SIG_DIGEST), 0);
    assert_int_equal(
        es_unsub_verify(key, KEY_LEN, "acme", SUB "x", "digest", SIG_DIGEST),
        0);
    assert_int_equal(
        es_unsub_verify(key, KEY_LEN, "acme", SUB, "alerts", SIG_DIGEST), 0);
    /* and the key */
    assert_int_equal(
        es_unsub_verify(key, KEY_LEN - 1, "acme", SUB, "digest", SIG_DIGEST),
        0);
}

static void test_verify_refuses_malformed_signatures(void **state)
{
    char sig[80];

    (void)state;
    /* upper-case hex is not the signature's spelling */
    strcpy(sig, SIG_DIGEST);
    for (size_t i = 0; sig[i]; i++) {
        if (sig[i] >= 'a' && sig[i] <= 'f') {
            sig[i] = (char)(sig[i] - 'a' + 'A');
        }
    }
    assert_int_equal(es_unsub_verify(key, KEY_LEN, "acme", SUB, "digest", sig),
                     0);
    /* one character short, one too many, one flipped */
    strcpy(sig, SIG_DIGEST);
    sig[63] = '\0';
    assert_int_equal(es_unsub_verify(key, KEY_LEN, "acme", SUB, "digest", sig),
                     0);
    strcpy(sig, SIG_DIGEST "0");
    assert_int_equal(es_unsub_verify(key, KEY_LEN, "acme", SUB, "digest", sig),
                     0);
    strcpy(sig, SIG_DIGEST);
    sig[10] = sig[10] == '0' ? '1' : '0';
    assert_int_equal(es_unsub_verify(key, KEY_LEN, "acme", SUB, "digest", sig),
                     0);
    assert_int_equal(es_unsub_verify(key, KEY_LEN, "acme", SUB, "digest", ""),
                     0);
    assert_int_equal(es_unsub_verify(key, KEY_LEN, "acme", SUB, "digest", NULL),
                     0);
}

static void test_newlines_and_empty_keys_are_refused(void **state)
{
    char hex[65];

    (void)state;
    /* "a\nb" + "c" would otherwise sign what "a" + "b\nc" signs */
    assert_int_equal(es_unsub_sign(key, KEY_LEN, "acme\nx", SUB, "digest", hex),
                     -1);
    assert_string_equal(hex, "");
    assert_int_equal(es_unsub_sign(key, KEY_LEN, "acme", "x\n", "digest", hex),
                     -1);
    assert_int_equal(es_unsub_sign(key, KEY_LEN, "acme", SUB, "digest\n", hex),
                     -1);
    assert_int_equal(es_unsub_sign(key, 0, "acme", SUB, "digest", hex), -1);
    assert_int_equal(es_unsub_sign(NULL, KEY_LEN, "acme", SUB, "digest", hex),
                     -1);
    assert_int_equal(es_unsub_sign(key, KEY_LEN, NULL, SUB, "digest", hex), -1);
    assert_int_equal(es_unsub_verify(key, 0, "acme", SUB, "digest", SIG_DIGEST),
                     0);
}

/* A temporary file holding text[0..n); its path in path. */
static void temp_file(char *path, const char *text, size_t n)
{
    FILE *f;
    int fd;

    strcpy(path, "/tmp/es_unsub_test.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void test_key_read_strips_trailing_newlines(void **state)
{
    static const char *const texts[] = {KEY, KEY "\n", KEY "\r\n", KEY "\n\n"};
    unsigned char buf[ES_UNSUB_KEY_MAX];
    char path[64], err[128];
    long n;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        temp_file(path, texts[i], strlen(texts[i]));
        n = es_unsub_key_read(path, buf, sizeof(buf), err, sizeof(err));
        unlink(path);
        assert_int_equal(n, (long)KEY_LEN);
        assert_memory_equal(buf, KEY, KEY_LEN);
    }

    /* a newline inside the secret is the secret's */
    temp_file(path, "0123456789\nabcdef\n", 18);
    n = es_unsub_key_read(path, buf, sizeof(buf), err, sizeof(err));
    unlink(path);
    assert_int_equal(n, 17);
}

static void test_key_read_refuses_missing_short_and_large_files(void **state)
{
    unsigned char buf[ES_UNSUB_KEY_MAX];
    char path[64], err[128], *big;

    (void)state;
    assert_int_equal(es_unsub_key_read("/nonexistent/es-secret", buf,
                                       sizeof(buf), err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "cannot open"));

    temp_file(path, "short\n", 6);
    assert_int_equal(
        es_unsub_key_read(path, buf, sizeof(buf), err, sizeof(err)), -1);
    unlink(path);
    assert_non_null(strstr(err, "fewer than"));
    assert_null(strstr(err, "short"));

    temp_file(path, "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", 18);
    assert_int_equal(
        es_unsub_key_read(path, buf, sizeof(buf), err, sizeof(err)), -1);
    unlink(path);

    big = malloc(ES_UNSUB_KEY_MAX + 1);
    assert_non_null(big);
    memset(big, 'k', ES_UNSUB_KEY_MAX + 1);
    temp_file(path, big, ES_UNSUB_KEY_MAX);
    assert_int_equal(
        es_unsub_key_read(path, buf, sizeof(buf), err, sizeof(err)),
        ES_UNSUB_KEY_MAX);
    unlink(path);
    temp_file(path, big, ES_UNSUB_KEY_MAX + 1);
    assert_int_equal(
        es_unsub_key_read(path, buf, sizeof(buf), err, sizeof(err)), -1);
    unlink(path);
    assert_non_null(strstr(err, "larger than"));
    free(big);
}

static void test_link_is_signed_and_encoded(void **state)
{
    char hex[65], link[512], want[512];

    (void)state;
    assert_int_equal(
        es_unsub_sign(key, KEY_LEN, "acme", "a b@c/d", "digest", hex), 0);
    snprintf(want, sizeof(want),
             "https://echo.example/api/v1/unsubscribe?t=acme&s=a%%20b%%40c%%2Fd"
             "&l=digest&sig=%s",
             hex);
    assert_int_equal(es_unsub_link(key, KEY_LEN, "https://echo.example/",
                                   "acme", "a b@c/d", "digest", link,
                                   sizeof(link)),
                     0);
    assert_string_equal(link, want);
    /* too small a buffer, a newline in a part, no base: refused */
    assert_int_equal(es_unsub_link(key, KEY_LEN, "https://echo.example/",
                                   "acme", SUB, "digest", link, 40),
                     -1);
    assert_int_equal(es_unsub_link(key, KEY_LEN, "https://e/", "acme", "x\ny",
                                   "digest", link, sizeof(link)),
                     -1);
    assert_int_equal(es_unsub_link(key, KEY_LEN, NULL, "acme", SUB, "digest",
                                   link, sizeof(link)),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_gives_the_hmac_in_lower_hex),
        cmocka_unit_test(test_verify_accepts_only_the_exact_link),
        cmocka_unit_test(test_verify_refuses_malformed_signatures),
        cmocka_unit_test(test_newlines_and_empty_keys_are_refused),
        cmocka_unit_test(test_key_read_strips_trailing_newlines),
        cmocka_unit_test(test_key_read_refuses_missing_short_and_large_files),
        cmocka_unit_test(test_link_is_signed_and_encoded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
