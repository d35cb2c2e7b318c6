/*
 * es_req_history_test.c - unit tests for lib/es_req_history.c and
 * lib/es_req_entry_id.c: the query of GET /alerts/history, whose cursor
 * is a stream entry id.
 *
 * The bad values are those tests/integration/api_alerts.test.mjs sends,
 * plus the other forms Redis would take as a range bound ("-", "+",
 * "<ms>" alone, "<ms>-*"), ids beyond 2^64 and 0-0, which Redis refuses
 * as the history's exclusive end, and hostile bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_history.h"
#include "req_testkit.h"

static int rd(const char *qs, es_req_history_args *a, es_req_err *err)
{
    memset(err, 0, sizeof(*err));
    return es_req_history_read(QS(qs), a, err);
}

static int eid(const char *s)
{
    return es_req_entry_id_valid(s, strlen(s));
}

static void test_entry_id_form(void **state)
{
    static const char *const good[] = {
        "0-0",
        "1-0",
        "1005-0",
        "1764079331000-12",
        "18446744073709551615-18446744073709551615",
        "00000000000000000001-00000000000000000000",
    };
    static const char *const bad[] = {
        "",
        "-",
        "+",
        "1",
        "1-",
        "-1",
        "1-*",
        "1--2",
        "1-2-3",
        "a-1",
        "1-a",
        " 1-2",
        "1-2 ",
        "1_2",
        "(1-2",
        "1-0x1",
        "123456789012345678901-0",
        "0-123456789012345678901",
        "18446744073709551616-0",
        "0-18446744073709551616",
        "99999999999999999999-99999999999999999999",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!eid(good[i])) {
            fail_msg("refused \"%s\"", good[i]);
        }
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (eid(bad[i])) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_int_equal(es_req_entry_id_valid("1-2\0", 4), 0);
}

static void test_entry_id_parts(void **state)
{
    uint64_t ms = 0, seq = 0;

    (void)state;
    assert_int_equal(es_req_entry_id(QS("1764079331000-12"), &ms, &seq), 0);
    assert_true(ms == 1764079331000ULL && seq == 12);
    assert_int_equal(es_req_entry_id(QS("18446744073709551615-0"), &ms, &seq),
                     0);
    assert_true(ms == UINT64_MAX && seq == 0);
    assert_int_equal(es_req_entry_id(QS("1-18446744073709551615"), NULL, &seq),
                     0);
    assert_true(seq == UINT64_MAX);
    ms = 7;
    assert_int_equal(es_req_entry_id(QS("18446744073709551616-0"), &ms, &seq),
                     -1);
    assert_true(ms == 7);
}

static void test_defaults_limit_and_cursor(void **state)
{
    es_req_history_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("", &a, &err), 0);
    assert_int_equal(a.limit, ES_REQ_HISTORY_LIMIT);
    assert_int_equal(a.has_cursor, 0);
    assert_int_equal(rd("limit=3&cursor=1005-0", &a, &err), 0);
    assert_int_equal(a.limit, 3);
    assert_int_equal(a.has_cursor, 1);
    assert_string_equal(a.cursor, "1005-0");
    assert_int_equal(a.cursor_len, 6);
    assert_int_equal(rd("CURSOR=1764079331000-0&limit=100", &a, &err), 0);
    assert_string_equal(a.cursor, "1764079331000-0");
    assert_int_equal(a.limit, 100);
    assert_int_equal(rd("cursor=%31-%32", &a, &err), 0);
    assert_string_equal(a.cursor, "1-2");
    /* the lowest and the highest cursors */
    assert_int_equal(rd("cursor=0-1", &a, &err), 0);
    assert_int_equal(
        rd("cursor=18446744073709551615-18446744073709551615", &a, &err), 0);
    assert_int_equal(a.cursor_len, ES_REQ_ENTRY_ID_LEN);
}

static void test_bad_limits(void **state)
{
    static const char *const bad[] = {"limit=0", "limit=101", "limit=x",
                                      "limit=",  "limit=%00", "limit=-5"};
    es_req_history_args a;
    es_req_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad_request(rd(bad[i], &a, &err), err, "limit");
        assert_string_equal(err.message, "limit must be 1..100");
    }
    assert_bad_request(rd("cursor=x&limit=x", &a, &err), err, "limit");
}

static void test_bad_cursors(void **state)
{
    static const char *const bad[] = {
        "cursor=0-0",
        "cursor=00-000",
        "cursor=18446744073709551616-0",
        "cursor=1-99999999999999999999",
        "cursor=abc",
        "cursor=1-2-3",
        "cursor=-1",
        "cursor=%28123-0",
        "cursor=",
        "cursor=%00",
        "cursor=1-2%00",
        "cursor=1+2",
        "cursor=-",
        "cursor=%2B",
        "cursor=123",
        "cursor=%",
        "cursor=1-*",
        "cursor=123456789012345678901-0",
    };
    es_req_history_args a;
    es_req_err err;
    char qs[400];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad_request(rd(bad[i], &a, &err), err, "cursor");
        assert_string_equal(err.message, "invalid cursor");
    }
    memcpy(qs, "cursor=", 7);
    memset(qs + 7, '1', 300);
    qs[307] = '\0';
    assert_bad_request(rd(qs, &a, &err), err, "cursor");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_id_form),
        cmocka_unit_test(test_entry_id_parts),
        cmocka_unit_test(test_defaults_limit_and_cursor),
        cmocka_unit_test(test_bad_limits),
        cmocka_unit_test(test_bad_cursors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
