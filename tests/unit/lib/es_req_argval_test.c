/*
 * es_req_argval_test.c - unit tests for lib/es_req_argval.c: count and
 * time query arguments.
 *
 * A count must take exactly what ngx_atoi() took before (digits only, at
 * most 8 of them), so the values clients send keep their answers; the
 * hostile ones are signs, spaces ('+'), escapes and huge numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_argval.h"
#include "req_testkit.h"

static int count(const char *qs, unsigned max, unsigned *out)
{
    return es_req_arg_count(QS(qs), "limit", max, out);
}

static void test_count_reads_digits_within_range(void **state)
{
    unsigned v = 0;

    (void)state;
    assert_int_equal(count("limit=1", 100, &v), ES_ARG_OK);
    assert_int_equal(v, 1);
    assert_int_equal(count("limit=100", 100, &v), ES_ARG_OK);
    assert_int_equal(v, 100);
    assert_int_equal(count("a=b&limit=42&c", 100, &v), ES_ARG_OK);
    assert_int_equal(v, 42);
    /* leading zeros, as ngx_atoi read them */
    assert_int_equal(count("limit=00000007", 100, &v), ES_ARG_OK);
    assert_int_equal(v, 7);
    assert_int_equal(count("limit=%31%30", 100, &v), ES_ARG_OK);
    assert_int_equal(v, 10);
}

static void test_count_absent_leaves_the_default(void **state)
{
    unsigned v = 25;

    (void)state;
    assert_int_equal(count("", 100, &v), ES_ARG_ABSENT);
    assert_int_equal(count("limits=5&xlimit=5&limit", 100, &v), ES_ARG_ABSENT);
    assert_int_equal(v, 25);
}

static void test_count_refuses_out_of_range_and_non_digits(void **state)
{
    static const char *const bad[] = {
        "limit=",         "limit=0",
        "limit=101",      "limit=-1",
        "limit=-0",       "limit=+5",
        "limit=%2B5",     "limit=5.5",
        "limit=1e2",      "limit=0x10",
        "limit= 5",       "limit=5%20",
        "limit=%00",      "limit=5%00",
        "limit=%",        "limit=%4",
        "limit=%zz",      "limit=000000001",
        "limit=99999999", "limit=99999999999999999999",
        "limit=\xc3\xa9", "limit=%ff",
        "limit=NaN",
    };
    unsigned v = 25;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (count(bad[i], 100, &v) != ES_ARG_BAD) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(v, 25);
}

static void test_count_takes_the_first_of_repeated_args(void **state)
{
    unsigned v = 0;

    (void)state;
    assert_int_equal(count("limit=3&limit=x", 100, &v), ES_ARG_OK);
    assert_int_equal(v, 3);
    assert_int_equal(count("limit=x&limit=3", 100, &v), ES_ARG_BAD);
    /* names compare without regard to case, as nginx's $arg_ do */
    assert_int_equal(count("LIMIT=9", 100, &v), ES_ARG_OK);
    assert_int_equal(v, 9);
}

static void test_count_max_eight_digits(void **state)
{
    unsigned v = 0;

    (void)state;
    assert_int_equal(count("limit=99999999", 99999999, &v), ES_ARG_OK);
    assert_int_equal(v, 99999999);
    assert_int_equal(count("limit=100000000", 4000000000u, &v), ES_ARG_BAD);
}

static void test_time_reads_every_form(void **state)
{
    int64_t ms = 0;

    (void)state;
    assert_int_equal(es_req_arg_time(QS("to=1764079200"), "to", &ms),
                     ES_ARG_OK);
    assert_true(ms == 1764079200000LL);
    assert_int_equal(es_req_arg_time(QS("to=2026-11-25"), "to", &ms),
                     ES_ARG_OK);
    assert_true(ms == 1795564800000LL);
    assert_int_equal(
        es_req_arg_time(QS("to=2026-11-25T14%3A00%3A00Z"), "to", &ms),
        ES_ARG_OK);
    assert_true(ms == 1795615200000LL);
    /* '+' is a space: "+00:00" must come escaped */
    assert_int_equal(
        es_req_arg_time(QS("to=2026-11-25T14:00:00%2B00:00"), "to", &ms),
        ES_ARG_OK);
    assert_true(ms == 1795615200000LL);
    assert_int_equal(
        es_req_arg_time(QS("to=2026-11-25T14:00:00+00:00"), "to", &ms),
        ES_ARG_BAD);
}

static void test_time_absent_and_bad(void **state)
{
    static const char *const bad[] = {
        "to=",           "to=yesterday", "to=%00",          "to=1%00",
        "to=%",          "to=-1",        "to=123456789012", "to=2026-13-01",
        "to=1969-12-31", "to=\xff\xfe",  "to=1e9",          "to=%E2%80%8B1",
    };
    int64_t ms = 7;
    char big[200];

    (void)state;
    assert_int_equal(es_req_arg_time(QS("from=1"), "to", &ms), ES_ARG_ABSENT);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (es_req_arg_time(QS(bad[i]), "to", &ms) != ES_ARG_BAD) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    /* longer than 64 decoded bytes */
    memcpy(big, "to=", 3);
    memset(big + 3, '1', 65);
    big[68] = '\0';
    assert_int_equal(es_req_arg_time(QS(big), "to", &ms), ES_ARG_BAD);
    assert_true(ms == 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_reads_digits_within_range),
        cmocka_unit_test(test_count_absent_leaves_the_default),
        cmocka_unit_test(test_count_refuses_out_of_range_and_non_digits),
        cmocka_unit_test(test_count_takes_the_first_of_repeated_args),
        cmocka_unit_test(test_count_max_eight_digits),
        cmocka_unit_test(test_time_reads_every_form),
        cmocka_unit_test(test_time_absent_and_bad),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
