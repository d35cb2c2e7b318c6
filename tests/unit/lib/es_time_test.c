/*
 * es_time_test.c - unit tests for lib/es_time.c, the API's times.
 *
 * Dates near the edges of the calendar arithmetic (leap days, century
 * years, the epoch, the year 9999) and the clamping that keeps any stored
 * value, checked or not, within the 21 bytes of the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_time.h"

static int parse(const char *s, int64_t *ms)
{
    return es_time_parse(s, strlen(s), ms);
}

static void test_str_formats_utc(void **state)
{
    char buf[ES_TIME_STR_SIZE];

    (void)state;
    es_time_str(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    es_time_str(1764079200000LL, buf);
    assert_string_equal(buf, "2025-11-25T14:00:00Z");
    es_time_str(951782400000LL, buf); /* 2000-02-29 */
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
    es_time_str(-1000, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

static void test_str_clamps_to_years_0000_9999(void **state)
{
    char buf[ES_TIME_STR_SIZE];

    (void)state;
    es_time_str(INT64_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    es_time_str(INT64_MIN, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00Z");
}

static void test_parse_forms(void **state)
{
    int64_t ms;

    (void)state;
    assert_int_equal(parse("1764079200", &ms), 0);
    assert_int_equal(ms, 1764079200000LL);
    assert_int_equal(parse("2025-11-25T14:00:00Z", &ms), 0);
    assert_int_equal(ms, 1764079200000LL);
    assert_int_equal(parse("2025-11-25t14:00:00.123456z", &ms), 0);
    assert_int_equal(ms, 1764079200000LL);
    assert_int_equal(parse("2025-11-25T14:00:00+00:00", &ms), 0);
    assert_int_equal(ms, 1764079200000LL);
    assert_int_equal(parse("2025-11-25", &ms), 0);
    assert_int_equal(ms, 1764028800000LL);
    assert_int_equal(parse("2000-02-29", &ms), 0);
    assert_int_equal(ms, 951782400000LL);
}

static void test_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "",
        "123456789012",                              /* 12 digits of seconds */
        "1969-12-31",                                /* before the epoch */
        "2025-13-01",                                /* month */
        "2025-11-32",                                /* day */
        "2025-11-25T24:00:00Z",                      /* hour */
        "2025-11-25T14:00:00",                       /* no zone */
        "2025-11-25T14:00:00+01:00",                 /* not UTC */
        "2025-11-25T14:00Z",                         /* no seconds */
        "2025/11/25",                                /* separators */
        "-5",                                        /* sign */
        "2025-11-25T14:00:00Zjunk",                  /* trailing bytes */
        "2025-11-25T14:00:00.Z.Z.Z.Z.Z.Z.Z.Z.Z.Z.Z", /* over 40 bytes */
    };
    int64_t ms;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &ms) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    /* the length bounds the read, not a NUL */
    assert_int_equal(es_time_parse("2025-11-25T14:00:00Z", 12, &ms), -1);
}

static void test_parse_and_str_round_trip(void **state)
{
    char buf[ES_TIME_STR_SIZE];
    int64_t ms, t;

    (void)state;
    for (t = 0; t < 253402300799LL; t += 86400LL * 397 + 3671) {
        es_time_str(t * 1000, buf);
        assert_int_equal(parse(buf, &ms), 0);
        assert_int_equal(ms, t * 1000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_formats_utc),
        cmocka_unit_test(test_str_clamps_to_years_0000_9999),
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_parse_and_str_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
