/*
 * es_req_email_test.c - unit tests for lib/es_req_email.c.
 *
 * An address becomes part of a key (its hash) and is compared with the
 * address a user proved, so besides the plain rules the tests try the
 * spellings that would make one address two, and the characters that
 * would need quoting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_email.h"

static size_t norm(const char *s, char *out)
{
    return es_req_email_normalize(s, strlen(s), out);
}

static void test_email_is_lower_cased_whole(void **state)
{
    char out[ES_REQ_EMAIL_MAX + 1];

    (void)state;
    assert_int_equal(norm("Ann.Smith+news@Example.COM", out), 26);
    assert_string_equal(out, "ann.smith+news@example.com");
    assert_int_equal(norm("a@b", out), 3);
    assert_string_equal(out, "a@b");
}

static void test_email_keeps_utf8_in_the_local_part(void **state)
{
    char out[ES_REQ_EMAIL_MAX + 1];

    (void)state;
    assert_int_equal(norm("J\xc3\xb6rg@example.de", out), 16);
    assert_string_equal(out, "j\xc3\xb6rg@example.de");
    /* but not in the domain (IDNs come as xn--) */
    assert_int_equal(norm("jorg@b\xc3\xbc.de", out), 0);
    assert_int_equal(norm("jorg@xn--b-eha.de", out), 17);
}

static void test_email_length_limits(void **state)
{
    char s[400], out[ES_REQ_EMAIL_MAX + 1];

    (void)state;
    /* 64 bytes before the '@', not 65 */
    memset(s, 'a', 64);
    strcpy(s + 64, "@example.com");
    assert_int_equal(norm(s, out), 76);
    memset(s, 'a', 65);
    strcpy(s + 65, "@example.com");
    assert_int_equal(norm(s, out), 0);

    /* a label of 63 bytes, not 64 */
    strcpy(s, "a@");
    memset(s + 2, 'b', 63);
    strcpy(s + 65, ".io");
    assert_int_equal(norm(s, out), 68);
    memset(s + 2, 'b', 64);
    strcpy(s + 66, ".io");
    assert_int_equal(norm(s, out), 0);

    /* 254 bytes in all, not 255: out is filled to its last byte */
    strcpy(s, "a@");
    for (size_t i = 2; i < 254; i += 2) {
        s[i] = 'b';
        s[i + 1] = '.';
    }
    s[253] = 'c';
    s[254] = '\0';
    assert_int_equal(norm(s, out), 254);
    assert_int_equal(strlen(out), 254);
    s[254] = 'd';
    s[255] = '\0';
    assert_int_equal(norm(s, out), 0);

    assert_int_equal(norm("", out), 0);
    assert_int_equal(norm("a@", out), 0);
}

static void test_email_rejects_malformed_addresses(void **state)
{
    static const char *const bad[] = {
        "plain",     "@example.com", "a@",      "a@@b.c",    "a@b@c.d",
        "a b@c.d",   "a@b c.d",      "a\t@b.c", "\"a\"@b.c", "a(x)@b.c",
        "a,b@c.d",   "a:b@c.d",      "a;b@c.d", "<a@b.c>",   "a[1]@b.c",
        "a\\b@c.d",  "a/b@c.d",      "a@.b",    "a@b.",      "a@b..c",
        "a@-b.c",    "a@b-.c",       "a@b.c-",  "a@b_c.d",   "a@[127.0.0.1]",
        "a\x7f@b.c", "a\x01@b.c",    "a@b:25",
    };
    char out[ES_REQ_EMAIL_MAX + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (norm(bad[i], out) != 0) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    /* a NUL inside the length is no terminator */
    assert_int_equal(es_req_email_normalize("a\0b@c.d", 7, out), 0);
}

static void test_email_accepts_inner_hyphens_and_digits(void **state)
{
    char out[ES_REQ_EMAIL_MAX + 1];

    (void)state;
    assert_int_equal(norm("x@my-host-2.example.org", out), 23);
    assert_int_equal(norm("1@2.3", out), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_is_lower_cased_whole),
        cmocka_unit_test(test_email_keeps_utf8_in_the_local_part),
        cmocka_unit_test(test_email_length_limits),
        cmocka_unit_test(test_email_rejects_malformed_addresses),
        cmocka_unit_test(test_email_accepts_inner_hyphens_and_digits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
