/*
 * es_s3_test.c - unit tests for workers/common/es_s3.c: key encoding,
 * object URLs in both addressing styles, the payload hash and S3's XML
 * errors. The signed PUT and its retries are covered by
 * tests/integration/s3.test.mjs against a signature-checking double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_s3.h"

static void test_key_keeps_unreserved_and_slashes(void **state)
{
    char out[256];

    (void)state;
    assert_int_equal(
        es_s3_encode_key("a/B-c_d.e~f/0.jsonl.zst", out, sizeof(out)), 23);
    assert_string_equal(out, "a/B-c_d.e~f/0.jsonl.zst");
}

static void test_key_escapes_everything_else_in_upper_hex(void **state)
{
    char out[256];

    (void)state;
    assert_true(es_s3_encode_key("source=reddit/dt=2026-11-25/a b+ü*.z", out,
                                 sizeof(out)) > 0);
    assert_string_equal(out,
                        "source%3Dreddit/dt%3D2026-11-25/a%20b%2B%C3%BC%2A.z");
}

static void test_key_refuses_unusable_keys(void **state)
{
    char out[4096], *big = malloc(1026);

    (void)state;
    assert_int_equal(es_s3_encode_key("", out, sizeof(out)), -1);
    assert_int_equal(es_s3_encode_key("a/../b", out, sizeof(out)), -1);
    assert_int_equal(es_s3_encode_key("./b", out, sizeof(out)), -1);
    assert_int_equal(es_s3_encode_key("a/..", out, sizeof(out)), -1);
    assert_true(es_s3_encode_key("a/...b/.c", out, sizeof(out)) > 0);
    assert_int_equal(es_s3_encode_key("abc", out, 3), -1); /* no room */
    assert_non_null(big);
    memset(big, 'k', 1025);
    big[1025] = '\0';
    assert_int_equal(es_s3_encode_key(big, out, sizeof(out)), -1);
    free(big);
}

static void test_url_is_virtual_hosted_by_default(void **state)
{
    char url[512];

    (void)state;
    assert_int_equal(
        es_s3_object_url("", "eu-west-1", "lake", 0, "a/b.z", url, sizeof(url)),
        0);
    assert_string_equal(url, "https://lake.s3.eu-west-1.amazonaws.com/a/b.z");
    assert_int_equal(es_s3_object_url("http://localhost:9000/", "x", "lake", 0,
                                      "k", url, sizeof(url)),
                     0);
    assert_string_equal(url, "http://lake.localhost:9000/k");
}

static void test_url_path_style_puts_bucket_in_path(void **state)
{
    char url[512];

    (void)state;
    assert_int_equal(es_s3_object_url("http://127.0.0.1:9000", "us-east-1",
                                      "lake", 1, "a/b.z", url, sizeof(url)),
                     0);
    assert_string_equal(url, "http://127.0.0.1:9000/lake/a/b.z");
    assert_int_equal(
        es_s3_object_url("ftp://x", "r", "b", 1, "k", url, sizeof(url)), -1);
    assert_int_equal(
        es_s3_object_url("http://127.0.0.1:9000", "r", "lake", 1, "k", url, 10),
        -1);
}

static void test_sha256_is_lower_hex(void **state)
{
    char hex[65];

    (void)state;
    es_s3_sha256_hex("", 0, hex);
    assert_string_equal(
        hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    es_s3_sha256_hex("abc", 3, hex);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_xml_error_gives_code_and_message(void **state)
{
    const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"
                      "<Code>SlowDown</Code><Message>Please reduce your "
                      "request rate.</Message><RequestId>X</RequestId>"
                      "</Error>";
    char code[32], msg[64];

    (void)state;
    es_s3_parse_error(xml, strlen(xml), code, sizeof(code), msg, sizeof(msg));
    assert_string_equal(code, "SlowDown");
    assert_string_equal(msg, "Please reduce your request rate.");
    es_s3_parse_error("<Error><Code>Trunc", 18, code, sizeof(code), msg,
                      sizeof(msg));
    assert_string_equal(code, "");
    es_s3_parse_error(NULL, 0, code, sizeof(code), msg, sizeof(msg));
    assert_string_equal(msg, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_keeps_unreserved_and_slashes),
        cmocka_unit_test(test_key_escapes_everything_else_in_upper_hex),
        cmocka_unit_test(test_key_refuses_unusable_keys),
        cmocka_unit_test(test_url_is_virtual_hosted_by_default),
        cmocka_unit_test(test_url_path_style_puts_bucket_in_path),
        cmocka_unit_test(test_sha256_is_lower_hex),
        cmocka_unit_test(test_xml_error_gives_code_and_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
