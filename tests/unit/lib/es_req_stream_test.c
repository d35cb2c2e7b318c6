/*
 * es_req_stream_test.c - unit tests for lib/es_req_stream.c, the
 * Last-Event-ID of GET /stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_stream.h"
#include "req_testkit.h"

static int rd(const char *v, es_req_stream_args *a, es_req_err *err)
{
    memset(err, 0, sizeof(*err));
    return es_req_stream_read(v, v ? strlen(v) : 0, a, err);
}

static void test_without_header_starts_at_the_end(void **state)
{
    es_req_stream_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd(NULL, &a, &err), 0);
    assert_int_equal(a.resume, 0);
    assert_int_equal(a.last_len, 0);
}

static void test_entry_id_resumes(void **state)
{
    es_req_stream_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("1764079331000-0", &a, &err), 0);
    assert_int_equal(a.resume, 1);
    assert_string_equal(a.last, "1764079331000-0");
    assert_int_equal(a.last_len, 15);
    assert_int_equal(rd("0-0", &a, &err), 0);
    assert_string_equal(a.last, "0-0");
    assert_int_equal(rd("18446744073709551615-18446744073709551614", &a, &err),
                     0);
    assert_int_equal(a.last_len, ES_REQ_ENTRY_ID_LEN);
    assert_int_equal(rd("18446744073709551614-18446744073709551615", &a, &err),
                     0);
}

static void test_bad_values(void **state)
{
    static const char *const bad[] = {
        "",
        "abc",
        "1-",
        "-1",
        "1-2-3",
        " 1-2",
        "1-2 ",
        "1-*",
        "+",
        "-",
        "1",
        "%31-2",
        "1-2\r\nX: y",
        "\xc3\xa9-1",
        "123456789012345678901-0",
        /* beyond Redis's ids, and the last id, after which nothing comes */
        "18446744073709551616-0",
        "0-18446744073709551616",
        "99999999999999999999-99999999999999999999",
        "18446744073709551615-18446744073709551615",
    };
    es_req_stream_args a;
    es_req_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad_request(rd(bad[i], &a, &err), err, "Last-Event-ID");
        assert_string_equal(err.message,
                            "Last-Event-ID must be an event id of this "
                            "stream");
        assert_int_equal(a.resume, 0);
    }
    assert_bad_request(es_req_stream_read("1-2\0", 4, &a, &err), err,
                       "Last-Event-ID");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_header_starts_at_the_end),
        cmocka_unit_test(test_entry_id_resumes),
        cmocka_unit_test(test_bad_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
