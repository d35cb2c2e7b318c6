/*
 * es_req_summary_test.c - unit tests for lib/es_req_summary.c: the body
 * of POST /summaries and the limit of GET /summaries.
 */
#include "req_testkit.h"

#include "es_req_summary.h"

static int request(const char *text, char *topic, es_req_err *err)
{
    json_t *body;
    int rc;

    body = req_body(text);
    memset(err, 0, sizeof(*err));
    rc = es_req_summary_check(body, topic, err);
    json_decref(body);
    return rc;
}

static int limit(const char *qs, int *n, es_req_err *err)
{
    memset(err, 0, sizeof(*err));
    return es_req_summary_limit(qs, strlen(qs), n, err);
}

static void test_summary_topic_or_whole_tenant(void **state)
{
    char topic[ES_REQ_ID_MAX + 1];
    es_req_err err;

    (void)state;
    assert_int_equal(request("{\"topic\":\"t-1_A\"}", topic, &err), 0);
    assert_string_equal(topic, "t-1_A");
    assert_int_equal(request("{}", topic, &err), 0);
    assert_string_equal(topic, "");
    assert_int_equal(request("{\"topic\":null}", topic, &err), 0);
    assert_string_equal(topic, "");
}

static void test_summary_topic_errors(void **state)
{
    static const char *const bad[] = {
        "{\"topic\":5}",
        "{\"topic\":\"\"}",
        "{\"topic\":\"a b\"}",
        "{\"topic\":[\"a\"]}",
        "{\"topic\":\"t:{x}\"}",
        "{\"topic\":false}",
        "{\"topic\":\"caf\\u00e9\"}",
    };
    char topic[ES_REQ_ID_MAX + 1], text[128];
    es_req_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(request(bad[i], topic, &err), -1);
        req_assert_err(&err, 422, "validation_failed", "topic");
        assert_string_equal(err.message, "topic must be a topic id");
    }

    /* 64 characters fill the buffer; 65 are refused */
    strcpy(text, "{\"topic\":\"");
    memset(text + 10, 'x', 64);
    strcpy(text + 74, "\"}");
    assert_int_equal(request(text, topic, &err), 0);
    assert_int_equal(strlen(topic), 64);
    memset(text + 10, 'x', 65);
    strcpy(text + 75, "\"}");
    assert_int_equal(request(text, topic, &err), -1);

    assert_int_equal(request("{\"topic\":\"a\",\"when\":1}", topic, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "when");
}

static void test_summary_limit(void **state)
{
    es_req_err err;
    int n;

    (void)state;
    assert_int_equal(limit("", &n, &err), 0);
    assert_int_equal(n, ES_REQ_SUMMARIES_DEFAULT);
    assert_int_equal(limit("other=5", &n, &err), 0);
    assert_int_equal(n, 20);
    assert_int_equal(limit("limit=1", &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(limit("a=b&LIMIT=100", &n, &err), 0);
    assert_int_equal(n, 100);
    assert_int_equal(limit("limit=007", &n, &err), 0);
    assert_int_equal(n, 7);
}

static void test_summary_limit_errors(void **state)
{
    static const char *const bad[] = {
        "limit=",    "limit=0",    "limit=101", "limit=-1",
        "limit=1.5", "limit=1e2",  "limit=+5",  "limit=%",
        "limit=%00", "limit=5%20", "limit=abc", "limit=99999999999999999999999",
    };
    es_req_err err;
    size_t i;
    int n;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = -7;
        if (limit(bad[i], &n, &err) != -1) {
            fail_msg("accepted %s", bad[i]);
        }
        req_assert_err(&err, 400, "bad_request", "limit");
        assert_string_equal(err.message, "limit must be 1..100");
        assert_int_equal(n, -7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_topic_or_whole_tenant),
        cmocka_unit_test(test_summary_topic_errors),
        cmocka_unit_test(test_summary_limit),
        cmocka_unit_test(test_summary_limit_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
