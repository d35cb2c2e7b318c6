/*
 * delivery_test.c - unit tests for workers/alert/delivery.c: targets
 * settled one by one, a record closed only when all are, sent when any
 * got it, retries with back-off until the attempts run out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "delivery.h"

static json_t *record(const char *to)
{
    char text[512];
    json_t *r;

    snprintf(text, sizeof(text),
             "{\"id\":\"1-0:email\",\"kind\":\"alert\",\"channel\":\"email\","
             "\"to\":%s,\"ref\":\"1-0\",\"status\":\"pending\",\"attempts\":0,"
             "\"created_ms\":1000}",
             to);
    r = json_loads(text, 0, NULL);
    assert_non_null(r);
    return r;
}

static const char *str(json_t *r, const char *k)
{
    return json_string_value(json_object_get(r, k));
}

static long long num(json_t *r, const char *k)
{
    return json_integer_value(json_object_get(r, k));
}

static void test_targets_settle_one_by_one(void **state)
{
    json_t *r = record("[\"a@x.io\",\"b@x.io\",\"c@x.io\"]");
    const char *t[8];

    (void)state;
    assert_int_equal(es_delivery_targets(r, t, 8), 3);
    assert_string_equal(t[1], "b@x.io");
    assert_int_equal(es_delivery_done(r), 0);
    assert_int_equal(es_delivery_settle(r, "a@x.io", 1, NULL, 2000), 0);
    assert_int_equal(es_delivery_settled(r, "a@x.io"), 1);
    assert_int_equal(es_delivery_settled(r, "b@x.io"), 0);
    assert_int_equal(
        es_delivery_settle(r, "b@x.io", 0, "550 no such user", 3000), 0);
    assert_int_equal(es_delivery_done(r), 0);
    assert_int_equal(es_delivery_settle(r, "c@x.io", 1, NULL, 4000), 1);
    assert_int_equal(es_delivery_done(r), 1);
    assert_string_equal(str(r, "status"), "sent");
    assert_int_equal(num(r, "sent_ms"), 4000);
    assert_int_equal(num(r, "attempts"), 1);
    assert_string_equal(str(r, "error"), "b@x.io: 550 no such user");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r, "results"), "a@x.io")),
                        "sent");
    json_decref(r);
}

static void test_all_refused_is_failed(void **state)
{
    json_t *r = record("\"https://hooks.example.com/x\"");
    const char *t[2];

    (void)state;
    assert_int_equal(es_delivery_targets(r, t, 2), 1);
    assert_string_equal(t[0], "https://hooks.example.com/x");
    assert_int_equal(es_delivery_settle(r, t[0], 0, "404", 5000), 1);
    assert_string_equal(str(r, "status"), "failed");
    assert_null(json_object_get(r, "sent_ms"));
    assert_string_equal(str(r, "error"), "https://hooks.example.com/x: 404");
    json_decref(r);
}

static void test_retries_back_off_then_give_up(void **state)
{
    json_t *r = record("[\"a@x.io\",\"b@x.io\"]");

    (void)state;
    assert_int_equal(es_delivery_settle(r, "a@x.io", 1, NULL, 1000), 0);
    assert_int_equal(es_delivery_retry(r, "timeout", 10000, 500, 3), 0);
    assert_int_equal(num(r, "attempts"), 1);
    assert_int_equal(num(r, "next_ms"), 10500);
    assert_string_equal(str(r, "error"), "timeout");
    assert_string_equal(str(r, "status"), "pending");
    assert_int_equal(es_delivery_retry(r, "timeout", 20000, 500, 3), 0);
    assert_int_equal(num(r, "attempts"), 2);
    assert_int_equal(num(r, "next_ms"), 21000);
    /* the third attempt was the last */
    assert_int_equal(es_delivery_retry(r, "421 busy", 30000, 500, 3), 1);
    assert_int_equal(num(r, "attempts"), 3);
    assert_string_equal(str(r, "status"), "sent"); /* a@ got it */
    assert_string_equal(str(r, "error"), "b@x.io: 421 busy");
    assert_null(json_object_get(r, "next_ms"));
    json_decref(r);

    /* a success after a retry drops the retry's error */
    r = record("[\"a@x.io\"]");
    assert_int_equal(es_delivery_retry(r, "timeout", 10000, 500, 8), 0);
    assert_int_equal(es_delivery_settle(r, "a@x.io", 1, NULL, 11000), 1);
    assert_string_equal(str(r, "status"), "sent");
    assert_int_equal(num(r, "attempts"), 2);
    assert_null(json_object_get(r, "error"));
    json_decref(r);
}

static void test_backoff_doubles_to_an_hour(void **state)
{
    (void)state;
    assert_int_equal(es_delivery_backoff(1, 60000), 60000);
    assert_int_equal(es_delivery_backoff(2, 60000), 120000);
    assert_int_equal(es_delivery_backoff(6, 60000), 1920000);
    assert_int_equal(es_delivery_backoff(7, 60000), 3600000);
    assert_int_equal(es_delivery_backoff(100, 60000), 3600000);
    assert_int_equal(es_delivery_backoff(1, 0), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets_settle_one_by_one),
        cmocka_unit_test(test_all_refused_is_failed),
        cmocka_unit_test(test_retries_back_off_then_give_up),
        cmocka_unit_test(test_backoff_doubles_to_an_hour),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
