/*
 * es_aws_test.c - unit tests for workers/common/es_aws.c: error shapes,
 * retry classification and endpoints (the signed call itself is covered by
 * the mirror's integration test against a signature-checking double).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "es_aws.h"

static void parse(long status, const char *body, const char *qe,
                  es_aws_result *res)
{
    memset(res, 0, sizeof(*res));
    es_aws_parse_error(status, body, body ? strlen(body) : 0, qe, res);
}

static void test_error_type_loses_namespace_and_suffix(void **state)
{
    es_aws_result r;

    (void)state;
    parse(400,
          "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\","
          "\"message\":\"The specified queue does not exist.\"}",
          "AWS.SimpleQueueService.NonExistentQueue;Sender", &r);
    assert_string_equal(r.code, "QueueDoesNotExist");
    assert_string_equal(r.message, "The specified queue does not exist.");
    assert_int_equal(r.retryable, 0);
    assert_int_equal(r.auth, 0);

    parse(400,
          "{\"__type\":\"com.amazon.coral.validate#ValidationException:"
          "http://internal.amazon.com/coral/\",\"Message\":\"bad\"}",
          NULL, &r);
    assert_string_equal(r.code, "ValidationException");
    assert_string_equal(r.message, "bad");
}

static void test_throttling_is_retryable(void **state)
{
    es_aws_result r;

    (void)state;
    parse(400,
          "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\","
          "\"message\":\"Rate exceeded\"}",
          NULL, &r);
    assert_int_equal(r.throttled, 1);
    assert_int_equal(r.retryable, 1);

    /* SQS's query-compatible header alone says it is throttling */
    parse(400, "{\"__type\":\"com.amazonaws.sqs#Other\"}",
          "AWS.SimpleQueueService.RequestThrottled;Sender", &r);
    assert_int_equal(r.throttled, 1);
    assert_int_equal(r.retryable, 1);

    parse(429, "", NULL, &r);
    assert_int_equal(r.throttled, 1);
}

static void test_server_errors_retry_client_errors_do_not(void **state)
{
    static const long retry[] = {500, 502, 503, 504};
    es_aws_result r;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        parse(retry[i], "<html>gateway</html>", NULL, &r);
        assert_int_equal(r.retryable, 1);
        assert_string_equal(r.code, retry[i] == 500   ? "HTTP 500"
                                    : retry[i] == 502 ? "HTTP 502"
                                    : retry[i] == 503 ? "HTTP 503"
                                                      : "HTTP 504");
    }
    parse(400, "{\"__type\":\"InvalidParameterValue\"}", NULL, &r);
    assert_int_equal(r.retryable, 0);
    assert_int_equal(es_aws_is_retryable(0, NULL), 1);
    assert_int_equal(es_aws_is_retryable(400, "RequestTimeout"), 1);
    assert_int_equal(es_aws_is_retryable(400, "SlowDown"), 1);
    assert_int_equal(es_aws_is_retryable(400, "AccessDenied"), 0);
}

static void test_auth_errors_are_flagged(void **state)
{
    es_aws_result r;

    (void)state;
    parse(403,
          "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\""
          ",\"message\":\"The request signature we calculated does not "
          "match\"}",
          "InvalidSignatureException;Sender", &r);
    assert_string_equal(r.code, "InvalidSignatureException");
    assert_int_equal(r.auth, 1);
    assert_int_equal(r.retryable, 0);
    parse(400, "{\"__type\":\"ExpiredTokenException\"}", NULL, &r);
    assert_int_equal(r.auth, 1);
}

static void test_code_from_query_header_when_body_is_not_json(void **state)
{
    es_aws_result r;

    (void)state;
    parse(400, "oops", "AWS.SimpleQueueService.NonExistentQueue;Sender", &r);
    assert_string_equal(r.code, "AWS.SimpleQueueService.NonExistentQueue");
}

static void test_throttling_codes_list(void **state)
{
    static const char *const yes[] = {
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "AWS.SimpleQueueService.RequestThrottled"};

    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_int_equal(es_aws_code_is_throttling(yes[i]), 1);
    }
    assert_int_equal(es_aws_code_is_throttling("ValidationException"), 0);
    assert_int_equal(es_aws_code_is_throttling(NULL), 0);
}

static void test_endpoint_of_queue_url(void **state)
{
    char out[128];

    (void)state;
    assert_int_equal(
        es_aws_endpoint_of(
            "https://sqs.eu-west-1.amazonaws.com/123456789012/echostream", out,
            sizeof(out)),
        0);
    assert_string_equal(out, "https://sqs.eu-west-1.amazonaws.com");
    assert_int_equal(
        es_aws_endpoint_of("http://127.0.0.1:9324/0/q", out, sizeof(out)), 0);
    assert_string_equal(out, "http://127.0.0.1:9324");
    assert_int_equal(es_aws_endpoint_of("ftp://x/y", out, sizeof(out)), -1);
    assert_int_equal(es_aws_endpoint_of("http:///q", out, sizeof(out)), -1);
    assert_int_equal(
        es_aws_endpoint_of("http://averyveryverylonghost/q", out, 10), -1);
}

/* REST-JSON services (Bedrock, SES v2) name the error in x-amzn-ErrorType */
static void test_rest_json_error_type_header(void **state)
{
    es_aws_result r;

    (void)state;
    parse(429, "{\"message\":\"Too many requests, please wait.\"}",
          "ThrottlingException:http://internal.amazon.com/coral/"
          "com.amazon.bedrock/",
          &r);
    assert_string_equal(r.code, "ThrottlingException");
    assert_string_equal(r.message, "Too many requests, please wait.");
    assert_int_equal(r.throttled, 1);
    assert_int_equal(r.retryable, 1);

    parse(429, "{\"message\":\"not ready\"}", "ModelNotReadyException:x", &r);
    assert_string_equal(r.code, "ModelNotReadyException");
    assert_int_equal(r.retryable, 1);

    parse(400, "{\"message\":\"bad\"}", "ValidationException:http://x/", &r);
    assert_string_equal(r.code, "ValidationException");
    assert_int_equal(r.retryable, 0);

    parse(403, "{\"message\":\"no\"}", "AccessDeniedException:http://x/", &r);
    assert_int_equal(r.retryable, 0);
    assert_int_equal(r.auth, 1);

    parse(400, "{\"message\":\"Email address is not verified.\"}",
          "MessageRejected:http://internal.amazon.com/coral/", &r);
    assert_string_equal(r.code, "MessageRejected");
    assert_int_equal(r.retryable, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_type_loses_namespace_and_suffix),
        cmocka_unit_test(test_throttling_is_retryable),
        cmocka_unit_test(test_server_errors_retry_client_errors_do_not),
        cmocka_unit_test(test_auth_errors_are_flagged),
        cmocka_unit_test(test_code_from_query_header_when_body_is_not_json),
        cmocka_unit_test(test_throttling_codes_list),
        cmocka_unit_test(test_endpoint_of_queue_url),
        cmocka_unit_test(test_rest_json_error_type_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
