/*
 * es_ses_test.c - unit tests for workers/common/es_ses.c: the SendEmail
 * body and the checks made before any request (the signed call itself is
 * covered by tests/integration/aws against the SES double).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_ses.h"

static void test_body_carries_base64_of_the_message(void **state)
{
    static const char *const to[] = {"a@example.com", "b@example.com"};
    static const char mime[] = "Subject: hi\r\n\r\nhi\r\n";
    size_t len = 0;
    char *b;

    (void)state;
    b = es_ses_body("EchoStream <es@example.com>", to, 2, mime, strlen(mime),
                    &len);
    assert_non_null(b);
    assert_string_equal(b,
                        "{\"FromEmailAddress\":\"EchoStream <es@example.com>\","
                        "\"Destination\":{\"ToAddresses\":[\"a@example.com\","
                        "\"b@example.com\"]},\"Content\":{\"Raw\":{\"Data\":"
                        "\"U3ViamVjdDogaGkNCg0KaGkNCg==\"}}}");
    assert_int_equal(len, strlen(b));
    free(b);
}

static void test_bad_input_fails_before_any_request(void **state)
{
    static const char *const to[] = {"a@example.com"};
    es_aws_creds c;
    char id[64], err[256];

    (void)state;
    memset(&c, 0, sizeof(c));
    /* h is never touched: each of these is refused first */
    assert_int_equal(es_ses_send_raw(NULL, &c, "", "us-east-1", 0, "", to, 1,
                                     "x", 1, id, sizeof(id), err, sizeof(err)),
                     -1);
    assert_int_equal(es_ses_send_raw(NULL, &c, "", "us-east-1", 0, "f", to, 0,
                                     "x", 1, id, sizeof(id), err, sizeof(err)),
                     -1);
    assert_int_equal(es_ses_send_raw(NULL, &c, "", "us-east-1", 0, "f", to, 1,
                                     "x", 0, id, sizeof(id), err, sizeof(err)),
                     -1);
    assert_int_equal(es_ses_send_raw(NULL, &c, "", "us-east-1", 0, "f", to,
                                     ES_SES_MAX_RECIPIENTS + 1, "x", 1, id,
                                     sizeof(id), err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "bad message"));
    assert_string_equal(id, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_carries_base64_of_the_message),
        cmocka_unit_test(test_bad_input_fails_before_any_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
