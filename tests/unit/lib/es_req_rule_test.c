/*
 * es_req_rule_test.c - unit tests for lib/es_req_rule.c, the alert rule
 * check of POST/PUT/PATCH /alerts/rules and of rules read back from
 * Redis.
 *
 * Besides each member's range on both sides, the tests hand it the
 * values a client gets wrong or an attacker tries: numbers as strings,
 * fractions, huge and non-finite-looking numbers, nulls, webhooks that
 * hide another host, and e-mail lists that are too long or repeat.
 */
#include "req_testkit.h"

#include <stdio.h>

#include "es_req_rule.h"

/* The canonical text of a rule, as the module stores it. */
static char *dump(json_t *rule)
{
    return json_dumps(rule, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                JSON_REAL_PRECISION(17));
}

static int check(const char *text, const char *base_text, json_t **out,
                 es_req_err *err)
{
    json_t *body, *base;
    int rc;

    body = req_body(text);
    base = base_text ? req_body(base_text) : NULL;
    memset(err, 0, sizeof(*err));
    rc = es_req_rule_check(body, base, "r1", out, err);
    json_decref(body);
    json_decref(base);
    return rc;
}

/* Asserts that text checks to the canonical rule want. */
static void accepted(const char *text, const char *base, const char *want)
{
    es_req_err err;
    json_t *rule;
    char *got;

    if (check(text, base, &rule, &err) != 0) {
        fail_msg("refused %s: %s", text, err.message);
    }
    got = dump(rule);
    assert_string_equal(got, want);
    free(got);
    json_decref(rule);
}

static void refused(const char *text, const char *field)
{
    es_req_err err;
    json_t *rule;

    if (check(text, NULL, &rule, &err) != -1) {
        json_decref(rule);
        fail_msg("accepted %s", text);
    }
    assert_null(rule);
    req_assert_err(&err, 422, "validation_failed", field);
}

static void test_rule_defaults_fill_every_member(void **state)
{
    (void)state;
    accepted("{\"topic\":\"t1\"}", NULL,
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,"
             "\"min_volume\":20,\"sensitivity\":3.0,\"cooldown_minutes\":60,"
             "\"email\":[],\"webhook\":null,\"metric\":\"negative_share\","
             "\"window_minutes\":60}");
}

static void test_rule_keeps_what_the_body_sets(void **state)
{
    (void)state;
    accepted("{\"topic\":\"t-2\",\"enabled\":false,\"min_volume\":5,"
             "\"sensitivity\":1.5,\"cooldown_minutes\":10,\"email\":"
             "[\"Ops@Example.com\",\"ops@example.COM\",\"b@c.de\"],"
             "\"webhook\":\"https://hooks.example.com/x?y=1\"}",
             NULL,
             "{\"id\":\"r1\",\"topic\":\"t-2\",\"enabled\":false,"
             "\"min_volume\":5,\"sensitivity\":1.5,\"cooldown_minutes\":10,"
             "\"email\":[\"ops@example.com\",\"b@c.de\"],\"webhook\":"
             "\"https://hooks.example.com/"
             "x?y=1\",\"metric\":\"negative_share\",\"window_minutes\":60}");
}

static void test_rule_whole_reals_are_integers(void **state)
{
    (void)state;
    accepted("{\"topic\":\"t1\",\"min_volume\":20.0,\"cooldown_minutes\":"
             "1e1,\"sensitivity\":2}",
             NULL,
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,"
             "\"min_volume\":20,\"sensitivity\":2.0,\"cooldown_minutes\":10,"
             "\"email\":[],\"webhook\":null,\"metric\":\"negative_share\","
             "\"window_minutes\":60}");
}

static void test_rule_patch_merges_over_the_stored_rule(void **state)
{
    static const char stored[] =
        "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,\"min_volume\":7,"
        "\"sensitivity\":4.0,\"cooldown_minutes\":30,\"email\":[\"a@b.c\"],"
        "\"webhook\":\"https://h.example.com/\"}";
    es_req_err err;
    json_t *rule;

    (void)state;
    accepted("{\"enabled\":false,\"webhook\":null}", stored,
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":false,"
             "\"min_volume\":7,\"sensitivity\":4.0,\"cooldown_minutes\":30,"
             "\"email\":[\"a@b.c\"],\"webhook\":null,\"metric\":\"negative_"
             "share\",\"window_minutes\":60}");
    /* the merge is checked whole: a damaged stored member fails */
    assert_int_equal(check("{\"enabled\":false}",
                           "{\"topic\":\"t1\",\"min_volume\":0}", &rule, &err),
                     -1);
    req_assert_err(&err, 422, "validation_failed", "min_volume");
    /* an empty base needs the topic from the body */
    assert_int_equal(check("{\"enabled\":false}", "{}", &rule, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "topic");
    assert_string_equal(err.message, "topic is required");
}

static void test_rule_topic_errors(void **state)
{
    es_req_err err;
    json_t *rule;

    (void)state;
    assert_int_equal(check("{}", NULL, &rule, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "topic");
    assert_string_equal(err.message, "topic is required");
    assert_int_equal(check("{\"topic\":null}", NULL, &rule, &err), -1);
    assert_string_equal(err.message, "topic must be a topic id");
    refused("{\"topic\":5}", "topic");
    refused("{\"topic\":\"\"}", "topic");
    refused("{\"topic\":\"a b\"}", "topic");
    refused("{\"topic\":\"t:{x}\"}", "topic");
    refused(
        "{\"topic\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxx\"}",
        "topic"); /* 65 */
}

static void test_rule_number_ranges(void **state)
{
    (void)state;
    accepted("{\"topic\":\"t1\",\"min_volume\":1,\"sensitivity\":0.5,"
             "\"cooldown_minutes\":1}",
             NULL,
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,"
             "\"min_volume\":1,\"sensitivity\":0.5,\"cooldown_minutes\":1,"
             "\"email\":[],\"webhook\":null,\"metric\":\"negative_share\","
             "\"window_minutes\":60}");
    accepted("{\"topic\":\"t1\",\"min_volume\":1000000,\"sensitivity\":20,"
             "\"cooldown_minutes\":10080}",
             NULL,
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,"
             "\"min_volume\":1000000,\"sensitivity\":20.0,"
             "\"cooldown_minutes\":10080,\"email\":[],\"webhook\":null,"
             "\"metric\":\"negative_share\",\"window_minutes\":60}");

    refused("{\"topic\":\"t1\",\"min_volume\":0}", "min_volume");
    refused("{\"topic\":\"t1\",\"min_volume\":1000001}", "min_volume");
    refused("{\"topic\":\"t1\",\"min_volume\":2.5}", "min_volume");
    refused("{\"topic\":\"t1\",\"min_volume\":\"20\"}", "min_volume");
    refused("{\"topic\":\"t1\",\"min_volume\":null}", "min_volume");
    refused("{\"topic\":\"t1\",\"min_volume\":-20}", "min_volume");
    refused("{\"topic\":\"t1\",\"min_volume\":1e300}", "min_volume");
    refused("{\"topic\":\"t1\",\"min_volume\":9223372036854775807}",
            "min_volume");
    refused("{\"topic\":\"t1\",\"sensitivity\":0.4999}", "sensitivity");
    refused("{\"topic\":\"t1\",\"sensitivity\":20.0001}", "sensitivity");
    refused("{\"topic\":\"t1\",\"sensitivity\":null}", "sensitivity");
    refused("{\"topic\":\"t1\",\"sensitivity\":\"3\"}", "sensitivity");
    refused("{\"topic\":\"t1\",\"sensitivity\":1.7976931348623157e308}",
            "sensitivity");
    refused("{\"topic\":\"t1\",\"sensitivity\":-4.9e-324}", "sensitivity");
    refused("{\"topic\":\"t1\",\"cooldown_minutes\":0}", "cooldown_minutes");
    refused("{\"topic\":\"t1\",\"cooldown_minutes\":10081}",
            "cooldown_minutes");
    refused("{\"topic\":\"t1\",\"cooldown_minutes\":true}", "cooldown_minutes");
}

static void test_rule_non_finite_numbers_never_arrive(void **state)
{
    static const char *const bad[] = {
        "{\"topic\":\"t1\",\"sensitivity\":1e309}",
        "{\"topic\":\"t1\",\"sensitivity\":-1e309}",
        "{\"topic\":\"t1\",\"sensitivity\":NaN}",
        "{\"topic\":\"t1\",\"sensitivity\":Infinity}",
    };
    es_req_err err;
    json_t *body;
    size_t i;

    (void)state;
    /* the body parser refuses them: the rule check never sees one */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(es_req_body_parse(bad[i], strlen(bad[i]), &body, &err),
                         -1);
        req_assert_err(&err, 400, "invalid_json", NULL);
        assert_null(body);
    }
}

static void test_rule_enabled_must_be_boolean(void **state)
{
    (void)state;
    refused("{\"topic\":\"t1\",\"enabled\":1}", "enabled");
    refused("{\"topic\":\"t1\",\"enabled\":\"true\"}", "enabled");
    refused("{\"topic\":\"t1\",\"enabled\":null}", "enabled");
}

static void test_rule_webhooks(void **state)
{
    static const char *const good[] = {
        "https://x.test",
        "HTTPS://X.test/",
        "https://x.test:8443/h?a=b#c",
        "https://[2001:db8::1]:443/h",
        "http://localhost:9000/hook",
        "http://127.0.0.1/hook",
        "http://LOCALHOST/",
    };
    static const char *const bad[] = {
        "http://example.com/h",
        "ftp://example.com/h",
        "https://",
        "https:///path",
        "https://user@evil.test/",
        "http://localhost@evil.test/",
        "http://localhost.evil.test/",
        "https://a b.test/",
        "https://x.test:99999999/",
        "https://x.test:/",
        "https://x.test:8a/",
        "https://[]/",
        "https://[::1/",
        "https://[::g]/",
        "https://[::1]x/",
        "https://x_y.test/",
        "https://x.test/\\u00e9",
        "https://x.test/\\u0001",
        "//x.test/",
        "http://127.0.0.2/",
        "http://[::1]/",
    };
    char text[2200];
    es_req_err err;
    json_t *rule;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "{\"topic\":\"t\",\"webhook\":\"%s\"}",
                 good[i]);
        if (check(text, NULL, &rule, &err) != 0) {
            fail_msg("refused %s", good[i]);
        }
        json_decref(rule);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "{\"topic\":\"t\",\"webhook\":\"%s\"}",
                 bad[i]);
        refused(text, "webhook");
    }
    refused("{\"topic\":\"t\",\"webhook\":5}", "webhook");
    refused("{\"topic\":\"t\",\"webhook\":{}}", "webhook");

    /* 2048 characters pass, 2049 do not */
    strcpy(text, "{\"topic\":\"t\",\"webhook\":\"https://x.test/");
    i = strlen(text);
    memset(text + i, 'a', 2048 - 15);
    strcpy(text + i + 2048 - 15, "\"}");
    assert_int_equal(check(text, NULL, &rule, &err), 0);
    json_decref(rule);
    memset(text + i, 'a', 2049 - 15);
    strcpy(text + i + 2049 - 15, "\"}");
    refused(text, "webhook");
}

static void test_rule_emails(void **state)
{
    (void)state;
    refused("{\"topic\":\"t\",\"email\":\"a@b.c\"}", "email");
    refused("{\"topic\":\"t\",\"email\":null}", "email");
    refused("{\"topic\":\"t\",\"email\":[5]}", "email");
    refused("{\"topic\":\"t\",\"email\":[\"not-an-address\"]}", "email");
    refused("{\"topic\":\"t\",\"email\":[\"a@b.c\",\"x y@b.c\"]}", "email");
    /* 11 addresses are too many, even repeated */
    refused("{\"topic\":\"t\",\"email\":[\"a@b.c\",\"a@b.c\",\"a@b.c\","
            "\"a@b.c\",\"a@b.c\",\"a@b.c\",\"a@b.c\",\"a@b.c\",\"a@b.c\","
            "\"a@b.c\",\"a@b.c\"]}",
            "email");
    accepted("{\"topic\":\"t\",\"email\":[\"a@b.c\",\"A@B.C\",\"c@d.e\","
             "\"a@b.c\",\"a@b.c\",\"a@b.c\",\"a@b.c\",\"a@b.c\",\"a@b.c\","
             "\"a@b.c\"]}",
             NULL,
             "{\"id\":\"r1\",\"topic\":\"t\",\"enabled\":true,"
             "\"min_volume\":20,\"sensitivity\":3.0,\"cooldown_minutes\":60,"
             "\"email\":[\"a@b.c\",\"c@d.e\"],\"webhook\":null,\"metric\":"
             "\"negative_share\",\"window_minutes\":60}");
}

static void test_rule_errors_come_in_a_fixed_order(void **state)
{
    (void)state;
    /* topic, enabled, min_volume, sensitivity, cooldown, webhook, email */
    refused("{\"enabled\":1,\"email\":5}", "topic");
    refused("{\"topic\":\"t\",\"enabled\":1,\"min_volume\":0}", "enabled");
    refused("{\"topic\":\"t\",\"min_volume\":0,\"sensitivity\":0}",
            "min_volume");
    refused("{\"topic\":\"t\",\"sensitivity\":0,\"cooldown_minutes\":0}",
            "sensitivity");
    refused("{\"topic\":\"t\",\"cooldown_minutes\":0,\"webhook\":5}",
            "cooldown_minutes");
    refused("{\"topic\":\"t\",\"webhook\":5,\"email\":5}", "webhook");
}

static void test_rule_canonical_form_checks_to_itself(void **state)
{
    es_req_err err;
    json_t *rule, *again;
    char *a, *b;

    (void)state;
    assert_int_equal(check("{\"topic\":\"t1\",\"sensitivity\":0.1e1,"
                           "\"email\":[\"X@Y.z\"],\"webhook\":"
                           "\"http://localhost:1/\"}",
                           NULL, &rule, &err),
                     0);
    assert_int_equal(es_req_rule_check(rule, NULL, "r1", &again, &err), 0);
    a = dump(rule);
    b = dump(again);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(rule);
    json_decref(again);
}

static void test_rule_members_list_names_the_body(void **state)
{
    es_req_err err;
    json_t *body;

    (void)state;
    body = req_body("{\"id\":\"r\",\"topic\":\"t\",\"enabled\":true,"
                    "\"min_volume\":1,\"sensitivity\":1,"
                    "\"cooldown_minutes\":1,\"email\":[],\"webhook\":null,"
                    "\"metric\":\"volume\",\"window_minutes\":5}");
    assert_int_equal(es_req_members(body, es_req_rule_members, &err), 0);
    json_decref(body);
    body = req_body("{\"topic\":\"t\",\"threshold\":1}");
    assert_int_equal(es_req_members(body, es_req_rule_members, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "threshold");
    json_decref(body);
}

static void test_rule_metric_and_window(void **state)
{
    (void)state;
    accepted("{\"topic\":\"t1\",\"metric\":\"volume\",\"window_minutes\":5}",
             NULL,
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,"
             "\"min_volume\":20,\"sensitivity\":3.0,\"cooldown_minutes\":60,"
             "\"email\":[],\"webhook\":null,\"metric\":\"volume\","
             "\"window_minutes\":5}");
    accepted("{\"topic\":\"t1\",\"metric\":\"mean_compound\","
             "\"window_minutes\":1440.0}",
             NULL,
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,"
             "\"min_volume\":20,\"sensitivity\":3.0,\"cooldown_minutes\":60,"
             "\"email\":[],\"webhook\":null,\"metric\":\"mean_compound\","
             "\"window_minutes\":1440}");

    refused("{\"topic\":\"t1\",\"metric\":\"Volume\"}", "metric");
    refused("{\"topic\":\"t1\",\"metric\":\"\"}", "metric");
    refused("{\"topic\":\"t1\",\"metric\":null}", "metric");
    refused("{\"topic\":\"t1\",\"metric\":[\"volume\"]}", "metric");
    refused("{\"topic\":\"t1\",\"metric\":\"volume \"}", "metric");
    refused("{\"topic\":\"t1\",\"window_minutes\":4}", "window_minutes");
    refused("{\"topic\":\"t1\",\"window_minutes\":1441}", "window_minutes");
    refused("{\"topic\":\"t1\",\"window_minutes\":60.5}", "window_minutes");
    refused("{\"topic\":\"t1\",\"window_minutes\":\"60\"}", "window_minutes");
    refused("{\"topic\":\"t1\",\"window_minutes\":null}", "window_minutes");
    refused("{\"topic\":\"t1\",\"window_minutes\":1e300}", "window_minutes");
    /* after the older members: their errors come first */
    refused("{\"topic\":\"t1\",\"metric\":\"x\",\"webhook\":5}", "webhook");
    refused("{\"topic\":\"t1\",\"metric\":\"x\",\"window_minutes\":0}",
            "metric");
}

static void test_rule_metric_with_a_nul_is_refused(void **state)
{
    es_req_err err;
    json_t *body, *rule;

    (void)state;
    /* the API's parser refuses NULs; a check on its own must too */
    body = json_loads("{\"topic\":\"t1\",\"metric\":\"volume\\u0000x\"}",
                      JSON_ALLOW_NUL, NULL);
    assert_non_null(body);
    assert_int_equal(es_req_rule_check(body, NULL, "r1", &rule, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "metric");
    json_decref(body);
}

static void test_rule_stored_before_metric_takes_the_defaults(void **state)
{
    (void)state;
    /* a rule as version 5 of the API stored it: no metric, no window */
    accepted("{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":false,"
             "\"min_volume\":7,\"sensitivity\":4.0,\"cooldown_minutes\":30,"
             "\"email\":[],\"webhook\":null}",
             NULL,
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":false,"
             "\"min_volume\":7,\"sensitivity\":4.0,\"cooldown_minutes\":30,"
             "\"email\":[],\"webhook\":null,\"metric\":\"negative_share\","
             "\"window_minutes\":60}");
    /* and a PATCH over it keeps them, or changes one */
    accepted("{\"window_minutes\":15}",
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,"
             "\"min_volume\":7,\"sensitivity\":4.0,\"cooldown_minutes\":30,"
             "\"email\":[],\"webhook\":null}",
             "{\"id\":\"r1\",\"topic\":\"t1\",\"enabled\":true,"
             "\"min_volume\":7,\"sensitivity\":4.0,\"cooldown_minutes\":30,"
             "\"email\":[],\"webhook\":null,\"metric\":\"negative_share\","
             "\"window_minutes\":15}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_defaults_fill_every_member),
        cmocka_unit_test(test_rule_keeps_what_the_body_sets),
        cmocka_unit_test(test_rule_whole_reals_are_integers),
        cmocka_unit_test(test_rule_patch_merges_over_the_stored_rule),
        cmocka_unit_test(test_rule_topic_errors),
        cmocka_unit_test(test_rule_number_ranges),
        cmocka_unit_test(test_rule_non_finite_numbers_never_arrive),
        cmocka_unit_test(test_rule_enabled_must_be_boolean),
        cmocka_unit_test(test_rule_webhooks),
        cmocka_unit_test(test_rule_emails),
        cmocka_unit_test(test_rule_errors_come_in_a_fixed_order),
        cmocka_unit_test(test_rule_canonical_form_checks_to_itself),
        cmocka_unit_test(test_rule_members_list_names_the_body),
        cmocka_unit_test(test_rule_metric_and_window),
        cmocka_unit_test(test_rule_metric_with_a_nul_is_refused),
        cmocka_unit_test(test_rule_stored_before_metric_takes_the_defaults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
