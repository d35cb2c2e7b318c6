/*
 * localday_test.c - unit tests for workers/summarize/localday.c: local
 * days as UTC intervals across daylight-saving changes and half-hour
 * offsets, and the calendar arithmetic around them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "localday.h"

static void check_day(const char *tz, es_sum_date d, long long start,
                      long long hours)
{
    long long a, b;

    assert_int_equal(es_sum_day_bounds(tz, d, &a, &b), 0);
    assert_int_equal(a, start);
    assert_int_equal(b - a, hours * 3600);
}

static void test_day_bounds(void **state)
{
    (void)state;
    /* 2026-11-24 00:00Z = 1795478400 */
    check_day("UTC", (es_sum_date){2026, 11, 24}, 1795478400LL, 24);
    /* Berlin is UTC+1 in November */
    check_day("Europe/Berlin", (es_sum_date){2026, 11, 24}, 1795478400LL - 3600,
              24);
    /* India: UTC+05:30, a day starting at 18:30Z the day before */
    check_day("Asia/Kolkata", (es_sum_date){2026, 11, 24},
              1795478400LL - 5 * 3600 - 1800, 24);
    /* Berlin's spring change (29 March 2026): 23 hours; autumn: 25 */
    check_day("Europe/Berlin", (es_sum_date){2026, 3, 29}, 1774738800LL, 23);
    check_day("Europe/Berlin", (es_sum_date){2026, 10, 25}, 1792879200LL, 25);
}

static void test_local_now(void **state)
{
    es_sum_date d;
    int hour;

    (void)state;
    /* 2026-11-24 23:30Z is already the 25th, 08:30, in Tokyo */
    assert_int_equal(es_sum_local_now("Asia/Tokyo",
                                      1795478400LL + 23 * 3600 + 1800, &d,
                                      &hour),
                     0);
    assert_int_equal(d.y, 2026);
    assert_int_equal(d.m, 11);
    assert_int_equal(d.d, 25);
    assert_int_equal(hour, 8);
    /* and still the 24th, 15:30, in Los Angeles */
    assert_int_equal(es_sum_local_now("America/Los_Angeles",
                                      1795478400LL + 23 * 3600 + 1800, &d,
                                      &hour),
                     0);
    assert_int_equal(d.d, 24);
    assert_int_equal(hour, 15);
}

static void test_dates(void **state)
{
    char buf[ES_SUM_DATE_SIZE];
    es_sum_date d;

    (void)state;
    es_sum_date_str(es_sum_date_add((es_sum_date){2024, 2, 28}, 1), buf);
    assert_string_equal(buf, "2024-02-29");
    es_sum_date_str(es_sum_date_add((es_sum_date){2026, 3, 1}, -1), buf);
    assert_string_equal(buf, "2026-02-28");
    es_sum_date_str(es_sum_date_add((es_sum_date){2026, 12, 31}, 1), buf);
    assert_string_equal(buf, "2027-01-01");
    es_sum_date_str(es_sum_date_add((es_sum_date){2026, 11, 24}, -30), buf);
    assert_string_equal(buf, "2026-10-25");
    assert_int_equal(es_sum_date_parse("2026-11-24", &d), 0);
    assert_int_equal(es_sum_date_cmp(d, (es_sum_date){2026, 11, 24}), 0);
    assert_true(es_sum_date_cmp(d, (es_sum_date){2026, 11, 25}) < 0);
    assert_true(es_sum_date_cmp(d, (es_sum_date){2025, 12, 31}) > 0);
    assert_int_equal(es_sum_date_parse("2026-1-24", &d), -1);
    assert_int_equal(es_sum_date_parse("2026-13-01", &d), -1);
    assert_int_equal(es_sum_date_parse("2026-11-24x", &d), -1);
    assert_int_equal(es_sum_date_parse("", &d), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_bounds),
        cmocka_unit_test(test_local_now),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
