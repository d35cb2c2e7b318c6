/*
 * es_req_terms_test.c - unit tests for lib/es_req_terms.c, the query of
 * GET /topics/{id}/terms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_terms.h"
#include "req_testkit.h"

static int rd(const char *qs, es_req_terms_args *a, es_req_err *err)
{
    memset(err, 0, sizeof(*err));
    return es_req_terms_read(QS(qs), a, err);
}

static void test_defaults_and_bounds(void **state)
{
    es_req_terms_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("", &a, &err), 0);
    assert_int_equal(a.hours, 24);
    assert_int_equal(a.limit, 20);
    assert_int_equal(rd("hours=1&limit=1", &a, &err), 0);
    assert_int_equal(a.hours, 1);
    assert_int_equal(a.limit, 1);
    assert_int_equal(rd("limit=100&hours=24", &a, &err), 0);
    assert_int_equal(a.hours, 24);
    assert_int_equal(a.limit, 100);
    assert_int_equal(rd("Hours=3&LIMIT=4&hours=x", &a, &err), 0);
    assert_int_equal(a.hours, 3);
    assert_int_equal(a.limit, 4);
}

static void test_bad_hours_and_limits(void **state)
{
    static const char *const hours[] = {
        "hours=0",  "hours=25",  "hours=x",  "hours=",
        "hours=-1", "hours=%00", "hours=1+", "hours=99999999999"};
    static const char *const limits[] = {"limit=0", "limit=101", "limit=1.0",
                                         "limit=%", "limit=\xc3\xa9"};
    es_req_terms_args a;
    es_req_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(hours) / sizeof(hours[0]); i++) {
        assert_bad_request(rd(hours[i], &a, &err), err, "hours");
        assert_string_equal(err.message, "hours must be 1..24");
    }
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        assert_bad_request(rd(limits[i], &a, &err), err, "limit");
        assert_string_equal(err.message, "limit must be 1..100");
    }
    /* hours is checked first */
    assert_bad_request(rd("limit=0&hours=0", &a, &err), err, "hours");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_bounds),
        cmocka_unit_test(test_bad_hours_and_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
