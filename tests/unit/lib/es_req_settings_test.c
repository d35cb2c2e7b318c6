/*
 * es_req_settings_test.c - unit tests for lib/es_req_settings.c, the body
 * of PATCH /settings.
 *
 * The values leave as the strings Redis stores and enrich parses, so the
 * tests compare those bytes: the budget's decimal text with trailing
 * zeros dropped, "" for null, the days in decimal. The budget's cap is
 * the caller's, tried at and just over it.
 */
#include "req_testkit.h"

#include "es_req_settings.h"

static int check(const char *text, long max, es_req_settings *out,
                 es_req_err *err)
{
    json_t *body;
    int rc;

    body = req_body(text);
    memset(err, 0, sizeof(*err));
    rc = es_req_settings_check(body, max, out, err);
    json_decref(body);
    return rc;
}

static void refused(const char *text, long max, const char *field)
{
    es_req_settings s;
    es_req_err err;

    if (check(text, max, &s, &err) != -1) {
        fail_msg("accepted %s", text);
    }
    req_assert_err(&err, 422, "validation_failed", field);
}

/* The stored budget text of a body with comprehend_budget_usd v. */
static void budget(const char *v, const char *want)
{
    char text[128];
    es_req_settings s;
    es_req_err err;

    snprintf(text, sizeof(text), "{\"comprehend_budget_usd\":%s}", v);
    assert_int_equal(check(text, 1000, &s, &err), 0);
    assert_true(s.has_budget);
    assert_string_equal(s.budget, want);
}

static void test_settings_all_three_members(void **state)
{
    es_req_settings s;
    es_req_err err;

    (void)state;
    assert_int_equal(check("{\"engine\":\"comprehend\",\"comprehend_budget_"
                           "usd\":12.5,\"retention_days\":90}",
                           1000, &s, &err),
                     0);
    assert_string_equal(s.engine, "comprehend");
    assert_true(s.has_budget);
    assert_string_equal(s.budget, "12.5");
    assert_true(s.has_days);
    assert_string_equal(s.days, "90");
}

static void test_settings_absent_members_are_left_alone(void **state)
{
    es_req_settings s;
    es_req_err err;

    (void)state;
    assert_int_equal(check("{}", 1000, &s, &err), 0);
    assert_null(s.engine);
    assert_false(s.has_budget);
    assert_false(s.has_days);

    assert_int_equal(check("{\"engine\":\"vader\"}", 1000, &s, &err), 0);
    assert_string_equal(s.engine, "vader");
    assert_false(s.has_budget);
}

static void test_settings_budget_text(void **state)
{
    (void)state;
    budget("3", "3");
    budget("0", "0");
    budget("0.0", "0");
    budget("1000", "1000");
    budget("12.50", "12.5");
    budget("0.000001", "0.000001");
    budget("0.0000004", "0"); /* below a micro-dollar */
    budget("0.0000006", "0.000001");
    budget("999.9999999", "1000");
    budget("1e2", "100");
    budget("null", ""); /* no budget: the field is deleted */
}

static void test_settings_budget_range_is_the_callers(void **state)
{
    es_req_settings s;
    es_req_err err;

    (void)state;
    assert_int_equal(check("{\"comprehend_budget_usd\":50}", 50, &s, &err), 0);
    assert_string_equal(s.budget, "50");
    assert_int_equal(
        check("{\"comprehend_budget_usd\":50.000001}", 50, &s, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "comprehend_budget_usd");
    assert_string_equal(err.message, "comprehend_budget_usd must be a number "
                                     "from 0 to 50, or null");
    /* a cap of 0 allows only 0 */
    assert_int_equal(check("{\"comprehend_budget_usd\":0}", 0, &s, &err), 0);
    refused("{\"comprehend_budget_usd\":0.01}", 0, "comprehend_budget_usd");
}

static void test_settings_budget_hostile_values(void **state)
{
    (void)state;
    refused("{\"comprehend_budget_usd\":-0.01}", 1000, "comprehend_budget_usd");
    refused("{\"comprehend_budget_usd\":\"12\"}", 1000,
            "comprehend_budget_usd");
    refused("{\"comprehend_budget_usd\":true}", 1000, "comprehend_budget_usd");
    refused("{\"comprehend_budget_usd\":[1]}", 1000, "comprehend_budget_usd");
    refused("{\"comprehend_budget_usd\":1.7976931348623157e308}", 1000,
            "comprehend_budget_usd");
    refused("{\"comprehend_budget_usd\":9223372036854775807}", 1000,
            "comprehend_budget_usd");
}

static void test_settings_budget_fits_its_buffer_at_any_cap(void **state)
{
    es_req_settings s;
    es_req_err err;

    (void)state;
    /* the directive allows 1000000; a cap far above still fits */
    assert_int_equal(check("{\"comprehend_budget_usd\":999999999999.123456}",
                           1000000000000L, &s, &err),
                     0);
    assert_true(strlen(s.budget) < sizeof(s.budget));
    assert_int_equal(strncmp(s.budget, "999999999999.12", 15), 0);
}

static void test_settings_engine_errors(void **state)
{
    (void)state;
    refused("{\"engine\":\"VADER\"}", 1000, "engine");
    refused("{\"engine\":\"\"}", 1000, "engine");
    refused("{\"engine\":null}", 1000, "engine");
    refused("{\"engine\":1}", 1000, "engine");
    refused("{\"engine\":\"vader \"}", 1000, "engine");
}

static void test_settings_retention_range(void **state)
{
    es_req_settings s;
    es_req_err err;

    (void)state;
    assert_int_equal(check("{\"retention_days\":1}", 1000, &s, &err), 0);
    assert_string_equal(s.days, "1");
    assert_int_equal(check("{\"retention_days\":365.0}", 1000, &s, &err), 0);
    assert_string_equal(s.days, "365");

    refused("{\"retention_days\":0}", 1000, "retention_days");
    refused("{\"retention_days\":366}", 1000, "retention_days");
    refused("{\"retention_days\":30.5}", 1000, "retention_days");
    refused("{\"retention_days\":\"30\"}", 1000, "retention_days");
    refused("{\"retention_days\":null}", 1000, "retention_days");
    refused("{\"retention_days\":-9223372036854775808}", 1000,
            "retention_days");
    refused("{\"retention_days\":1e20}", 1000, "retention_days");
}

static void test_settings_unknown_members_and_order(void **state)
{
    (void)state;
    /* the unknown member first, then engine, budget, days */
    refused("{\"engine\":1,\"retention\":30}", 1000, "retention");
    refused("{\"engine\":1,\"retention_days\":0}", 1000, "engine");
    refused("{\"comprehend_budget_usd\":-1,\"retention_days\":0}", 1000,
            "comprehend_budget_usd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_all_three_members),
        cmocka_unit_test(test_settings_absent_members_are_left_alone),
        cmocka_unit_test(test_settings_budget_text),
        cmocka_unit_test(test_settings_budget_range_is_the_callers),
        cmocka_unit_test(test_settings_budget_hostile_values),
        cmocka_unit_test(test_settings_budget_fits_its_buffer_at_any_cap),
        cmocka_unit_test(test_settings_engine_errors),
        cmocka_unit_test(test_settings_retention_range),
        cmocka_unit_test(test_settings_unknown_members_and_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
