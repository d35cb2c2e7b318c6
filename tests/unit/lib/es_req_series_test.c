/*
 * es_req_series_test.c - unit tests for lib/es_req_series.c, the query of
 * GET /topics/{id}/series, at a fixed request time.
 *
 * Each rule of the range at its boundary (1,500 points, the 48 hours /
 * 90 days / 730 days buckets are kept, from before to, 1970 to 9999),
 * the defaults of every step, and the answers the API has always given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_series.h"
#include "req_testkit.h"

/* 2026-11-25T14:00:30.123Z */
#define NOW    1795615230123LL
#define NOW_S  1795615230LL
#define MINUTE 60000LL
#define HOUR   3600000LL
#define DAY    86400000LL

static int rd(const char *qs, es_req_series_args *a, es_req_err *err)
{
    memset(err, 0, sizeof(*err));
    return es_req_series_read(QS(qs), NOW, a, err);
}

static void test_defaults_of_each_step(void **state)
{
    es_req_series_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("", &a, &err), 0);
    assert_string_equal(es_req_series_steps[a.step].name, "hour");
    assert_true(a.to == NOW);
    assert_true(a.from == (NOW - DAY) / HOUR * HOUR);
    assert_int_equal(a.npoints, 25);

    assert_int_equal(rd("step=minute", &a, &err), 0);
    assert_int_equal(es_req_series_steps[a.step].res, 'm');
    assert_true(a.from == (NOW - HOUR) / MINUTE * MINUTE);
    assert_int_equal(a.npoints, 61);

    assert_int_equal(rd("step=day", &a, &err), 0);
    assert_int_equal(es_req_series_steps[a.step].res, 'd');
    assert_true(a.from == (NOW - 30 * DAY) / DAY * DAY);
    assert_int_equal(a.npoints, 31);
}

static void test_given_range(void **state)
{
    es_req_series_args a;
    es_req_err err;

    (void)state;
    /* an RFC 3339 from, epoch seconds to, escaped colons */
    assert_int_equal(
        rd("step=hour&from=2026-11-25T10%3A30%3A00Z&to=1795615200", &a, &err),
        0);
    assert_true(a.from == 1795615200000LL - 4 * HOUR);
    assert_true(a.to == 1795615200000LL);
    assert_int_equal(a.npoints, 4);
    /* one point: a range inside one bucket */
    assert_int_equal(rd("step=day&from=2026-11-25&to=1795564801", &a, &err), 0);
    assert_int_equal(a.npoints, 1);
    /* repeated arguments: the first counts */
    assert_int_equal(rd("step=minute&step=week", &a, &err), 0);
    assert_int_equal(es_req_series_steps[a.step].res, 'm');
}

static void test_bad_steps(void **state)
{
    static const char *const bad[] = {
        "step=week",
        "step=Hour",
        "step=",
        "step=hour%00",
        "step=%",
        "step=hour+",
        "step=hourhourhourhourhour",
        "step=\xc3\xa9",
        "step=week&step=hour",
    };
    es_req_series_args a;
    es_req_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad_request(rd(bad[i], &a, &err), err, "step");
        assert_string_equal(err.message, "step must be minute, hour or day");
    }
}

static void test_bad_times(void **state)
{
    es_req_series_args a;
    es_req_err err;

    (void)state;
    assert_bad_request(rd("from=garbage", &a, &err), err, "from");
    assert_string_equal(err.message, "from must be an RFC 3339 UTC time "
                                     "(2026-11-25T14:00:00Z) or epoch seconds");
    assert_bad_request(rd("to=%00", &a, &err), err, "to");
    assert_bad_request(rd("to=99999999999999999999", &a, &err), err, "to");
    assert_bad_request(rd("to=-1", &a, &err), err, "to");
    /* to is read before from */
    assert_bad_request(rd("from=x&to=y", &a, &err), err, "to");
    /* 9999-12-31T23:59:60Z is 10000-01-01: beyond the four-digit years */
    assert_bad_request(rd("to=9999-12-31T23:59:60Z", &a, &err), err, "to");
    assert_string_equal(err.message, "to must lie between 1970 and 9999");
}

static void test_range_rules(void **state)
{
    es_req_series_args a;
    es_req_err err;
    char qs[128];

    (void)state;
    /* a default from before 1970 */
    assert_bad_request(rd("to=1", &a, &err), err, "from");
    assert_string_equal(err.message, "from must not be before 1970");

    snprintf(qs, sizeof(qs), "from=%lld&to=%lld", NOW_S, NOW_S);
    assert_bad_request(rd(qs, &a, &err), err, "from");
    assert_string_equal(err.message, "from must be before to");
    snprintf(qs, sizeof(qs), "from=%lld&to=%lld", NOW_S, NOW_S - 60);
    assert_bad_request(rd(qs, &a, &err), err, "from");

    /* 1,500 minutes fit, 1,501 do not */
    snprintf(qs, sizeof(qs), "step=minute&from=%lld&to=%lld", NOW_S - 1500 * 60,
             NOW_S);
    assert_bad_request(rd(qs, &a, &err), err, "from");
    assert_string_equal(err.message,
                        "the range holds more than 1500 points of one minute");
    snprintf(qs, sizeof(qs), "step=minute&from=%lld&to=%lld",
             NOW_S / 60 * 60 - 1500 * 60, NOW_S / 60 * 60);
    assert_int_equal(rd(qs, &a, &err), 0);
    assert_int_equal(a.npoints, ES_REQ_SERIES_MAX_POINTS);

    /* older than its buckets are kept */
    snprintf(qs, sizeof(qs), "step=minute&from=%lld&to=%lld", NOW_S - 49 * 3600,
             NOW_S - 48 * 3600);
    assert_bad_request(rd(qs, &a, &err), err, "from");
    assert_string_equal(err.message,
                        "a minute range must lie within the last 48 hours");
    snprintf(qs, sizeof(qs), "step=hour&from=%lld&to=%lld", NOW_S - 91 * 86400,
             NOW_S - 90 * 86400);
    assert_bad_request(rd(qs, &a, &err), err, "from");
    assert_string_equal(err.message,
                        "a hour range must lie within the last 90 days");
    snprintf(qs, sizeof(qs), "step=day&from=%lld&to=%lld", NOW_S - 800 * 86400,
             NOW_S - 700 * 86400);
    assert_bad_request(rd(qs, &a, &err), err, "from");
    assert_string_equal(err.message,
                        "a day range must lie within the last 730 days");
    /* the oldest kept bucket itself is fine */
    snprintf(qs, sizeof(qs), "step=minute&from=%lld&to=%lld",
             (NOW - 48 * HOUR) / MINUTE * 60, NOW_S - 47 * 3600);
    assert_int_equal(rd(qs, &a, &err), 0);
}

static void test_invariants_hold_for_accepted_ranges(void **state)
{
    static const char *const qs[] = {
        "",
        "step=minute",
        "step=day",
        "to=2026-11-25",
        "from=2026-11-24",
        "step=minute&to=2026-11-25T13:59:59.999Z",
        "step=day&from=2025-01-01&to=2026-11-01",
    };
    es_req_series_args a;
    es_req_err err;
    int64_t step;

    (void)state;
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        if (rd(qs[i], &a, &err) != 0) {
            continue;
        }
        step = es_req_series_steps[a.step].step;
        assert_true(a.from >= 0 && a.from < a.to);
        assert_true(a.from % step == 0);
        assert_true(a.npoints >= 1 && a.npoints <= ES_REQ_SERIES_MAX_POINTS);
        assert_true(a.from + (int64_t)a.npoints * step >= a.to);
        assert_true(a.from + (int64_t)(a.npoints - 1) * step < a.to);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_of_each_step),
        cmocka_unit_test(test_given_range),
        cmocka_unit_test(test_bad_steps),
        cmocka_unit_test(test_bad_times),
        cmocka_unit_test(test_range_rules),
        cmocka_unit_test(test_invariants_hold_for_accepted_ranges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
