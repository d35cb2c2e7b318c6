/*
 * rules_test.c - unit tests for workers/alert/rules.c: stored rules with
 * and without metric and window_minutes, malformed rules refused with a
 * reason, and the recipients of an alert (rule addresses and opted-in
 * members, lower-cased, each once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "rules.h"

static int parse(const char *text, es_alert_rule *r, char *err)
{
    return es_alert_rule_parse("r1", text, strlen(text), r, err, 256);
}

static void test_old_rule_takes_the_defaults(void **state)
{
    es_alert_rule r;
    char err[256];

    (void)state;
    assert_int_equal(
        parse("{\"id\":\"r1\",\"topic\":\"rust\",\"enabled\":true,"
              "\"min_volume\":20,\"sensitivity\":3.0,\"cooldown_minutes\":60,"
              "\"email\":[\"A@Example.com\"],\"webhook\":null}",
              &r, err),
        0);
    assert_string_equal(r.id, "r1");
    assert_string_equal(r.topic, "rust");
    assert_int_equal(r.enabled, 1);
    assert_int_equal(r.spike.metric, ES_METRIC_NEGATIVE_SHARE);
    assert_int_equal(r.spike.window_minutes, 60);
    assert_int_equal(r.spike.min_volume, 20);
    assert_true(r.spike.k == 3.0);
    assert_int_equal(r.cooldown_ms, 3600000);
    assert_null(r.webhook);
    assert_int_equal(json_array_size(r.email), 1);
    assert_string_equal(json_string_value(json_array_get(r.email, 0)),
                        "a@example.com");
    es_alert_rule_free(&r);

    /* the bare minimum: a topic */
    assert_int_equal(parse("{\"topic\":\"t1\"}", &r, err), 0);
    assert_int_equal(r.enabled, 1);
    assert_int_equal(r.spike.min_volume, 20);
    assert_int_equal(r.cooldown_ms, 60 * 60000);
    es_alert_rule_free(&r);
}

static void test_new_members_are_read(void **state)
{
    es_alert_rule r;
    char err[256];

    (void)state;
    assert_int_equal(parse("{\"topic\":\"t1\",\"metric\":\"volume\","
                           "\"window_minutes\":15,\"enabled\":false,"
                           "\"webhook\":\"https://hooks.example.com/x\"}",
                           &r, err),
                     0);
    assert_int_equal(r.spike.metric, ES_METRIC_VOLUME);
    assert_int_equal(r.spike.window_minutes, 15);
    assert_int_equal(r.enabled, 0);
    assert_string_equal(r.webhook, "https://hooks.example.com/x");
    es_alert_rule_free(&r);

    assert_int_equal(parse("{\"topic\":\"t1\",\"metric\":\"mean_compound\","
                           "\"window_minutes\":1440.0}",
                           &r, err),
                     0);
    assert_int_equal(r.spike.metric, ES_METRIC_MEAN_COMPOUND);
    assert_int_equal(r.spike.window_minutes, 1440);
    es_alert_rule_free(&r);
}

static void test_malformed_rules_are_refused(void **state)
{
    static const char *const bad[] = {
        "not json",
        "[]",
        "{}",
        "{\"topic\":\"t 1\"}",
        "{\"topic\":\"t1\",\"metric\":\"positive_share\"}",
        "{\"topic\":\"t1\",\"metric\":3}",
        "{\"topic\":\"t1\",\"window_minutes\":4}",
        "{\"topic\":\"t1\",\"window_minutes\":1441}",
        "{\"topic\":\"t1\",\"window_minutes\":\"60\"}",
        "{\"topic\":\"t1\",\"window_minutes\":7.5}",
        "{\"topic\":\"t1\",\"sensitivity\":0}",
        "{\"topic\":\"t1\",\"min_volume\":\"20\"}",
        "{\"topic\":\"t1\",\"email\":[\"nope\"]}",
        "{\"topic\":\"t1\",\"webhook\":\"ftp://x\"}",
        "{\"topic\":\"t1\",\"topic\":\"t2\"}",
    };
    es_alert_rule r;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (parse(bad[i], &r, err) != -1) {
            fail_msg("accepted: %s", bad[i]);
        }
        assert_true(err[0] != '\0');
        assert_null(r.email);
        assert_null(r.webhook);
    }
    assert_int_equal(
        es_alert_rule_parse("bad id", "{\"topic\":\"t1\"}", 14, &r, err, 256),
        -1);
}

static void test_recipients_merge_rule_and_opted_in_members(void **state)
{
    const char *members[] = {
        "{\"sub\":\"u1\",\"email\":\"OPS@example.com\",\"alert_email\":true}",
        "{\"sub\":\"u2\",\"email\":\"b@example.com\",\"alert_email\":true}",
        "{\"sub\":\"u3\",\"email\":\"c@example.com\",\"alert_email\":false}",
        "{\"sub\":\"u4\",\"email\":\"d@example.com\"}",
        "{\"sub\":\"u5\",\"email\":null,\"alert_email\":true}",
        "{broken",
        "{\"sub\":\"u6\",\"email\":\"B@EXAMPLE.COM\",\"alert_email\":true}",
    };
    size_t lens[7];
    es_alert_rule r;
    char err[256];
    json_t *to;

    (void)state;
    for (size_t i = 0; i < 7; i++) {
        lens[i] = strlen(members[i]);
    }
    assert_int_equal(parse("{\"topic\":\"t1\",\"email\":[\"ops@example.com\","
                           "\"x@example.com\"]}",
                           &r, err),
                     0);
    to = es_alert_recipients(&r, members, lens, 7);
    assert_non_null(to);
    assert_int_equal(json_array_size(to), 3);
    assert_string_equal(json_string_value(json_array_get(to, 0)),
                        "ops@example.com");
    assert_string_equal(json_string_value(json_array_get(to, 1)),
                        "x@example.com");
    assert_string_equal(json_string_value(json_array_get(to, 2)),
                        "b@example.com");
    json_decref(to);
    es_alert_rule_free(&r);

    /* nobody at all: an empty list */
    assert_int_equal(parse("{\"topic\":\"t1\"}", &r, err), 0);
    to = es_alert_recipients(&r, members + 2, lens + 2, 2);
    assert_int_equal(json_array_size(to), 0);
    json_decref(to);
    es_alert_rule_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_rule_takes_the_defaults),
        cmocka_unit_test(test_new_members_are_read),
        cmocka_unit_test(test_malformed_rules_are_refused),
        cmocka_unit_test(test_recipients_merge_rule_and_opted_in_members),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
