/*
 * es_req_export_test.c - unit tests for lib/es_req_export.c, the query of
 * GET /export.csv, at a fixed request time.
 *
 * The topic becomes part of a key and of a file name, so besides the
 * integration tests' cases the ids an attacker would try: hash tags,
 * separators, paths, NULs, 65 characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_export.h"
#include "req_testkit.h"

/* 2026-11-25T14:00:30.123Z */
#define NOW 1795615230123LL
#define DAY 86400000LL

static int rd(const char *qs, es_req_export_args *a, es_req_err *err)
{
    memset(err, 0, sizeof(*err));
    return es_req_export_read(QS(qs), NOW, a, err);
}

static void test_topic_and_default_range(void **state)
{
    es_req_export_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("topic=rust", &a, &err), 0);
    assert_string_equal(a.topic, "rust");
    assert_int_equal(a.topic_len, 4);
    assert_true(a.to == NOW && a.from == NOW - 30 * DAY);
    assert_int_equal(rd("TOPIC=a%2Db_C9", &a, &err), 0);
    assert_string_equal(a.topic, "a-b_C9");
    /* a default from is never before 1970 */
    assert_int_equal(rd("topic=x&to=1", &a, &err), 0);
    assert_true(a.from == 0 && a.to == 1000);
}

static void test_topic_of_64_characters(void **state)
{
    char qs[100];
    es_req_export_args a;
    es_req_err err;

    (void)state;
    memcpy(qs, "topic=", 6);
    memset(qs + 6, 'a', 64);
    qs[70] = '\0';
    assert_int_equal(rd(qs, &a, &err), 0);
    assert_int_equal(a.topic_len, 64);
    assert_int_equal(a.topic[64], '\0');
    qs[70] = 'a';
    qs[71] = '\0';
    assert_bad_request(rd(qs, &a, &err), err, "topic");
}

static void test_bad_topics(void **state)
{
    static const char *const bad[] = {
        "",
        "topic=",
        "topic=bad!id",
        "topic=%7Bt%3Av%7D",
        "topic=a:b",
        "topic=a%2Fb",
        "topic=..",
        "topic=%00",
        "topic=a%00",
        "topic=has+space",
        "topic=%C3%A9",
        "topic=%",
        "topics=rust",
        "topic=\xff",
    };
    es_req_export_args a;
    es_req_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad_request(rd(bad[i], &a, &err), err, "topic");
        assert_string_equal(err.message,
                            "topic must be a topic id ([A-Za-z0-9_-]{1,64})");
        assert_string_equal(a.topic, "");
    }
    /* the topic is checked first */
    assert_bad_request(rd("from=x&topic=!", &a, &err), err, "topic");
}

static void test_range(void **state)
{
    es_req_export_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("topic=csv&from=1700000000&to=1731622400", &a, &err),
                     0);
    assert_true(a.to - a.from == 366 * DAY);
    assert_bad_request(rd("topic=csv&from=1700000000&to=1731622401", &a, &err),
                       err, "from");
    assert_string_equal(err.message, "the range is longer than 366 days");
    assert_bad_request(rd("topic=csv&from=1600000000&to=1700000000", &a, &err),
                       err, "from");
    assert_bad_request(rd("topic=csv&from=1700000000&to=1600000000", &a, &err),
                       err, "from");
    assert_string_equal(err.message, "from must be before to");
    assert_bad_request(rd("topic=csv&from=1700000000&to=1700000000", &a, &err),
                       err, "from");
}

static void test_bad_times(void **state)
{
    es_req_export_args a;
    es_req_err err;

    (void)state;
    assert_bad_request(rd("topic=csv&from=yesterday", &a, &err), err, "from");
    assert_string_equal(err.message,
                        "from must be an RFC 3339 UTC time "
                        "(2026-11-25T14:00:00Z) or epoch seconds between 1970 "
                        "and 9999");
    assert_bad_request(rd("topic=csv&to=9999-12-31T23:59:60Z", &a, &err), err,
                       "to");
    assert_bad_request(rd("topic=csv&to=%00", &a, &err), err, "to");
    /* to is read before from */
    assert_bad_request(rd("topic=csv&from=x&to=y", &a, &err), err, "to");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_and_default_range),
        cmocka_unit_test(test_topic_of_64_characters),
        cmocka_unit_test(test_bad_topics),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_bad_times),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
