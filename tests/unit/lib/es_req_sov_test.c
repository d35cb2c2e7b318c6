/*
 * es_req_sov_test.c - unit tests for lib/es_req_sov.c, the days of GET
 * /share-of-voice, at a fixed request time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_sov.h"
#include "req_testkit.h"

/* 2026-11-25T14:00:30.123Z: day 20782 */
#define NOW   1795615230123LL
#define TODAY 20782

static int rd(const char *qs, es_req_sov_args *a, es_req_err *err)
{
    memset(err, 0, sizeof(*err));
    return es_req_sov_read(QS(qs), NOW, a, err);
}

static void test_defaults_are_a_week(void **state)
{
    es_req_sov_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("", &a, &err), 0);
    assert_true(a.to == TODAY && a.from == TODAY - 6);
    assert_int_equal(a.ndays, 7);
    /* from alone: a week from it, but not beyond today */
    assert_int_equal(rd("from=2026-11-01", &a, &err), 0);
    assert_true(a.from == TODAY - 24 && a.to == TODAY - 18);
    assert_int_equal(rd("from=2026-11-23", &a, &err), 0);
    assert_true(a.from == TODAY - 2 && a.to == TODAY);
    assert_int_equal(a.ndays, 3);
    /* to alone: the week up to it */
    assert_int_equal(rd("to=2026-11-07", &a, &err), 0);
    assert_true(a.to == TODAY - 18 && a.from == TODAY - 24);
}

static void test_any_time_names_its_day(void **state)
{
    es_req_sov_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(
        rd("from=2026-11-24T23%3A59%3A59Z&to=1795615230", &a, &err), 0);
    assert_true(a.from == TODAY - 1 && a.to == TODAY);
    assert_int_equal(a.ndays, 2);
    /* a default from before 1970 is kept as it always was */
    assert_int_equal(rd("to=1970-01-02", &a, &err), 0);
    assert_true(a.to == 1 && a.from == -5);
}

static void test_range_limits(void **state)
{
    es_req_sov_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("from=2025-01-01&to=2026-01-01", &a, &err), 0);
    assert_int_equal(a.ndays, ES_REQ_SOV_DAYS_MAX);
    assert_bad_request(rd("from=2025-01-01&to=2026-01-02", &a, &err), err,
                       "from");
    assert_string_equal(err.message, "the range holds more than 366 days");
    assert_bad_request(rd("from=2026-11-20&to=2026-11-19", &a, &err), err,
                       "from");
    assert_string_equal(err.message, "from must not be after to");
    /* from after today with no to: the default end is today */
    assert_bad_request(rd("from=2026-12-01", &a, &err), err, "from");
    assert_int_equal(rd("from=2026-11-19&to=2026-11-19", &a, &err), 0);
    assert_int_equal(a.ndays, 1);
}

static void test_bad_days(void **state)
{
    static const char *const bad_from[] = {
        "from=last-week",    "from=",           "from=%00",
        "from=2026-02-30x",  "from=1969-12-31", "from=%",
        "from=2026-11-25+",  "from=\xff",       "from=9999-12-31T23:59:60Z",
        "from=123456789012",
    };
    es_req_sov_args a;
    es_req_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_from) / sizeof(bad_from[0]); i++) {
        assert_bad_request(rd(bad_from[i], &a, &err), err, "from");
        assert_string_equal(err.message,
                            "from must be a date (2026-11-25), an RFC 3339 "
                            "UTC time or epoch seconds between 1970 and 9999");
    }
    assert_bad_request(rd("to=tomorrow", &a, &err), err, "to");
    /* from is read first */
    assert_bad_request(rd("to=x&from=y", &a, &err), err, "from");
    /* the last day of 9999 is the last one */
    assert_int_equal(
        rd("from=9999-12-31&to=9999-12-31T23%3A59%3A59Z", &a, &err), 0);
    assert_true(a.to == ES_REQ_SOV_LAST_DAY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_a_week),
        cmocka_unit_test(test_any_time_names_its_day),
        cmocka_unit_test(test_range_limits),
        cmocka_unit_test(test_bad_days),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
