/*
 * es_bedrock_test.c - unit tests for workers/common/es_bedrock.c: the
 * Converse body, the escaped model path and the answer parser (the signed
 * call and its retries are covered by tests/integration/aws against the
 * Bedrock double).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_bedrock.h"

static void test_body_has_system_user_and_max_tokens(void **state)
{
    size_t len = 0;
    char *b;

    (void)state;
    b = es_bedrock_body("Summarize.", "say \"hi\"", 300, 0.2, &len);
    assert_non_null(b);
    assert_string_equal(
        b, "{\"system\":[{\"text\":\"Summarize.\"}],\"messages\":[{\"role\":"
           "\"user\",\"content\":[{\"text\":\"say \\\"hi\\\"\"}]}],"
           "\"inferenceConfig\":{\"maxTokens\":300,\"temperature\":0.2}}");
    assert_int_equal(len, strlen(b));
    free(b);
}

static void test_body_defaults_max_tokens_and_drops_empty_system(void **state)
{
    char *b;

    (void)state;
    b = es_bedrock_body("", "x", 0, 7.0, NULL);
    assert_non_null(b);
    assert_null(strstr(b, "\"system\""));
    assert_non_null(strstr(b, "\"maxTokens\":800"));
    assert_non_null(strstr(b, "\"temperature\":1"));
    free(b);
    b = es_bedrock_body(NULL, "x", -5, -1.0, NULL);
    assert_non_null(b);
    assert_non_null(strstr(b, "\"maxTokens\":800"));
    assert_non_null(strstr(b, "\"temperature\":0"));
    free(b);
}

static void test_body_repairs_invalid_utf8(void **state)
{
    char *b;

    (void)state;
    b = es_bedrock_body("s", "bad \xff byte", 10, 0.0, NULL);
    assert_non_null(b);
    assert_non_null(strstr(b, "bad \xef\xbf\xbd byte"));
    free(b);
}

static void test_path_escapes_colon_and_slash(void **state)
{
    char p[256];

    (void)state;
    assert_int_equal(
        es_bedrock_path("global.anthropic.claude-haiku-4-5-20251001-v1:0", p,
                        sizeof(p)),
        0);
    assert_string_equal(
        p, "/model/global.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse");
    assert_int_equal(es_bedrock_path("arn:aws:bedrock:us-east-1:123456789012:"
                                     "inference-profile/us.anthropic.x-v1:0",
                                     p, sizeof(p)),
                     0);
    assert_string_equal(p, "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A"
                           "123456789012%3Ainference-profile%2Fus.anthropic."
                           "x-v1%3A0/converse");
    assert_int_equal(es_bedrock_path("", p, sizeof(p)), -1);
    assert_int_equal(es_bedrock_path("a:b", p, 10), -1);
}

static void test_parse_joins_text_blocks_and_reads_usage(void **state)
{
    static const char answer[] =
        "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":["
        "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"hmm\"}}},"
        "{\"text\":\"Mostly \"},{\"text\":\"positive.\"}]}},"
        "\"stopReason\":\"end_turn\",\"usage\":{\"inputTokens\":120,"
        "\"outputTokens\":9,\"totalTokens\":129},\"metrics\":{\"latencyMs\":"
        "412}}";
    es_bedrock_result r;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(es_bedrock_parse(answer, strlen(answer), &r), 0);
    assert_string_equal(r.text, "Mostly positive.");
    assert_int_equal(r.input_tokens, 120);
    assert_int_equal(r.output_tokens, 9);
    assert_string_equal(r.stop_reason, "end_turn");
    es_bedrock_result_free(&r);
    assert_null(r.text);
}

static void test_parse_refuses_answers_without_text(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "{\"output\":{}}",
        "{\"output\":{\"message\":{\"content\":[]}}}",
        "{\"output\":{\"message\":{\"content\":[{\"toolUse\":{}}]}}}",
    };
    es_bedrock_result r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&r, 0, sizeof(r));
        assert_int_equal(es_bedrock_parse(bad[i], strlen(bad[i]), &r), -1);
        assert_null(r.text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_has_system_user_and_max_tokens),
        cmocka_unit_test(test_body_defaults_max_tokens_and_drops_empty_system),
        cmocka_unit_test(test_body_repairs_invalid_utf8),
        cmocka_unit_test(test_path_escapes_colon_and_slash),
        cmocka_unit_test(test_parse_joins_text_blocks_and_reads_usage),
        cmocka_unit_test(test_parse_refuses_answers_without_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
