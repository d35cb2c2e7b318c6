/*
 * es_req_settings_test.c - unit tests for lib/es_req_settings.c and
 * lib/es_req_tz.c, the body of PATCH /settings.
 *
 * The values leave as the strings Redis stores and the workers parse, so
 * the tests compare those bytes: a budget's decimal text with trailing
 * zeros dropped, "" for null, the days and the hour in decimal, the zone
 * name as sent. The budgets' caps are the caller's, tried at and just
 * over them. Time zones are looked up in a directory the tests make (a
 * compiled zone, a text file, a FIFO, a directory, a link out of it), so
 * the outcome does not depend on the machine's tzdata, and hostile names
 * are tried against it and against the real /usr/share/zoneinfo.
 */
#include "req_testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "es_req_settings.h"
#include "es_req_tz.h"

/* the test's zone directory (made in main) */
static char zoneinfo[64];

static int check_lim(const char *text, const es_req_settings_limits *lim,
                     es_req_settings *out, es_req_err *err)
{
    json_t *body;
    int rc;

    body = req_body(text);
    memset(err, 0, sizeof(*err));
    rc = es_req_settings_check(body, lim, out, err);
    json_decref(body);
    return rc;
}

/* with a Comprehend cap of max, a Bedrock cap of 1000 */
static int check(const char *text, long max, es_req_settings *out,
                 es_req_err *err)
{
    es_req_settings_limits lim = {max, 1000, zoneinfo};

    return check_lim(text, &lim, out, err);
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
    /* the unknown member first, then engine, budget, days, hour, Bedrock
       budget, zone */
    refused("{\"engine\":1,\"retention\":30}", 1000, "retention");
    refused("{\"engine\":1,\"retention_days\":0}", 1000, "engine");
    refused("{\"comprehend_budget_usd\":-1,\"retention_days\":0}", 1000,
            "comprehend_budget_usd");
    refused("{\"time_zone\":\"x\",\"summary_hour\":99}", 1000, "summary_hour");
    refused("{\"time_zone\":\"x\",\"bedrock_budget_usd\":-1}", 1000,
            "bedrock_budget_usd");
}

static void test_settings_summary_hour_range(void **state)
{
    es_req_settings s;
    es_req_err err;

    (void)state;
    assert_int_equal(check("{\"summary_hour\":0}", 1000, &s, &err), 0);
    assert_true(s.has_hour);
    assert_string_equal(s.hour, "0");
    assert_int_equal(check("{\"summary_hour\":23.0}", 1000, &s, &err), 0);
    assert_string_equal(s.hour, "23");
    assert_int_equal(check("{}", 1000, &s, &err), 0);
    assert_false(s.has_hour);

    refused("{\"summary_hour\":24}", 1000, "summary_hour");
    refused("{\"summary_hour\":-1}", 1000, "summary_hour");
    refused("{\"summary_hour\":7.5}", 1000, "summary_hour");
    refused("{\"summary_hour\":\"7\"}", 1000, "summary_hour");
    refused("{\"summary_hour\":null}", 1000, "summary_hour");
    refused("{\"summary_hour\":true}", 1000, "summary_hour");
    refused("{\"summary_hour\":1e300}", 1000, "summary_hour");
}

static void test_settings_bedrock_budget(void **state)
{
    es_req_settings_limits lim = {1000, 5, zoneinfo};
    es_req_settings s;
    es_req_err err;

    (void)state;
    assert_int_equal(check_lim("{\"bedrock_budget_usd\":2.50}", &lim, &s, &err),
                     0);
    assert_true(s.has_bedrock);
    assert_string_equal(s.bedrock, "2.5");
    assert_false(s.has_budget);
    /* 0: never Bedrock; null: back to the default */
    assert_int_equal(check_lim("{\"bedrock_budget_usd\":0}", &lim, &s, &err),
                     0);
    assert_string_equal(s.bedrock, "0");
    assert_int_equal(check_lim("{\"bedrock_budget_usd\":null}", &lim, &s, &err),
                     0);
    assert_true(s.has_bedrock);
    assert_string_equal(s.bedrock, "");
    /* its own cap, not Comprehend's */
    assert_int_equal(check_lim("{\"bedrock_budget_usd\":5}", &lim, &s, &err),
                     0);
    assert_int_equal(
        check_lim("{\"bedrock_budget_usd\":5.000001}", &lim, &s, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "bedrock_budget_usd");
    assert_string_equal(err.message, "bedrock_budget_usd must be a number "
                                     "from 0 to 5, or null");
    assert_int_equal(
        check_lim("{\"comprehend_budget_usd\":900}", &lim, &s, &err), 0);

    refused("{\"bedrock_budget_usd\":-1}", 1000, "bedrock_budget_usd");
    refused("{\"bedrock_budget_usd\":\"1\"}", 1000, "bedrock_budget_usd");
    refused("{\"bedrock_budget_usd\":{}}", 1000, "bedrock_budget_usd");
}

/* A time zone body's outcome: 1 accepted (with the name stored), 0 not. */
static int zone(const char *dir, const char *json_name)
{
    es_req_settings_limits lim = {1000, 1000, dir};
    char text[1024];
    es_req_settings s;
    es_req_err err;
    json_t *body;
    int rc;

    /* NULs allowed here, which the module's parser refuses (400): the
       check itself must refuse them too */
    snprintf(text, sizeof(text), "{\"time_zone\":%s}", json_name);
    body = json_loads(text, JSON_ALLOW_NUL, NULL);
    if (body == NULL) {
        fail_msg("test body does not parse: %s", text);
    }
    rc = es_req_settings_check(body, &lim, &s, &err);
    if (rc == 0) {
        assert_true(s.has_zone);
        assert_string_equal(
            s.zone, json_string_value(json_object_get(body, "time_zone")));
    } else {
        req_assert_err(&err, 422, "validation_failed", "time_zone");
    }
    json_decref(body);
    return rc == 0;
}

static void test_settings_time_zone_names_a_zone_file(void **state)
{
    (void)state;
    assert_true(zone(zoneinfo, "\"Europe/Berlin\""));
    assert_true(zone(zoneinfo, "\"Etc/GMT+5\""));
    assert_true(zone(zoneinfo, "\"America/Argentina/Buenos_Aires\""));
    /* UTC needs no file */
    assert_true(zone(zoneinfo, "\"UTC\""));
    assert_true(zone("/nonexistent", "\"UTC\""));
    assert_false(zone(zoneinfo, "\"utc\""));
    /* missing, not a zone, not a regular file */
    assert_false(zone(zoneinfo, "\"Europe/Atlantis\""));
    assert_false(zone(zoneinfo, "\"leapseconds\""));
    assert_false(zone(zoneinfo, "\"fifo\""));
    assert_false(zone(zoneinfo, "\"Europe\""));
    assert_false(zone(zoneinfo, "\"empty\""));
    assert_false(zone("/nonexistent", "\"Europe/Berlin\""));
}

static void test_settings_time_zone_hostile_names(void **state)
{
    static const char *const bad[] = {
        "\"../../etc/passwd\"",
        "\"UTC/../x\"",
        "\"Europe/../Europe/Berlin\"",
        "\"./Europe/Berlin\"",
        "\"/Europe/Berlin\"",
        "\"Europe/Berlin/\"",
        "\"Europe//Berlin\"",
        "\"..\"",
        "\".\"",
        "\"zone.tab\"",
        "\"Europe\\\\Berlin\"",
        "\"Europe/Berlin\\u0000\"",
        "\"Europe/Berlin\\n\"",
        "\" UTC\"",
        "\"Europe/Z\\u00fcrich\"",
        "\"\\u0130stanbul\"",
        "\"America/Argentina/Buenos_Aires/x\"",
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", /* 33 in one segment */
        "\"%2e%2e/etc/passwd\"",
        "\"Europe/Berlin;rm\"",
        "\"\"",
        "null",
        "7",
        "[\"UTC\"]",
    };
    char longest[400];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (zone(zoneinfo, bad[i]) || zone(ES_REQ_ZONEINFO, bad[i])) {
            fail_msg("accepted %s", bad[i]);
        }
    }

    /* 300 characters */
    longest[0] = '"';
    memset(longest + 1, 'a', 300);
    strcpy(longest + 301, "\"");
    assert_false(zone(zoneinfo, longest));

    /* the pattern at its limits */
    assert_true(es_req_time_zone_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32));
    assert_false(
        es_req_time_zone_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 33));
    assert_true(es_req_time_zone_name("a/b/c", 5));
    assert_false(es_req_time_zone_name("a/b/c/d", 7));
    assert_false(es_req_time_zone_name("Europe\0Berlin", 13));
    assert_false(es_req_time_zone_name(NULL, 0));
}

static void test_settings_all_six_members(void **state)
{
    es_req_settings s;
    es_req_err err;

    (void)state;
    assert_int_equal(check("{\"engine\":\"vader\",\"comprehend_budget_usd\":"
                           "null,\"retention_days\":7,\"summary_hour\":18,"
                           "\"time_zone\":\"Europe/Berlin\","
                           "\"bedrock_budget_usd\":3}",
                           1000, &s, &err),
                     0);
    assert_string_equal(s.engine, "vader");
    assert_string_equal(s.budget, "");
    assert_string_equal(s.days, "7");
    assert_string_equal(s.hour, "18");
    assert_string_equal(s.zone, "Europe/Berlin");
    assert_string_equal(s.bedrock, "3");
}

/* a zone file: "TZif" and some bytes */
static void put_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", zoneinfo, name);
    f = fopen(path, "wb");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static void make_zoneinfo(void)
{
    char path[256];

    strcpy(zoneinfo, "/tmp/es_req_tz_test.XXXXXX");
    if (mkdtemp(zoneinfo) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/Europe", zoneinfo);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/Etc", zoneinfo);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/America", zoneinfo);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/America/Argentina", zoneinfo);
    mkdir(path, 0700);
    put_file("Europe/Berlin", "TZif2 and the rest");
    put_file("Etc/GMT+5", "TZif2");
    put_file("America/Argentina/Buenos_Aires", "TZif3");
    put_file("leapseconds", "# leap seconds\n");
    put_file("empty", "");
    put_file("zone.tab", "TZif");
    snprintf(path, sizeof(path), "%s/fifo", zoneinfo);
    mkfifo(path, 0600);
}

static void remove_zoneinfo(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", zoneinfo);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", zoneinfo);
    }
}

int main(void)
{
    int failed;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_all_six_members),
        cmocka_unit_test(test_settings_summary_hour_range),
        cmocka_unit_test(test_settings_bedrock_budget),
        cmocka_unit_test(test_settings_time_zone_names_a_zone_file),
        cmocka_unit_test(test_settings_time_zone_hostile_names),
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

    make_zoneinfo();
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    remove_zoneinfo();
    return failed;
}
