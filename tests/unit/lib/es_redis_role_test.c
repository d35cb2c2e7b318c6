/*
 * es_redis_role_test.c - unit tests for lib/es_redis_role.c: the replies a
 * sentinel and a node give about where the primary is, well-formed and not.
 * A sentinel or node answering oddly must give an error, never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_redis_role.h"
#include "reply_testkit.h"

static void test_sentinel_answer(void **state)
{
    redisReply h = reply_str("10.0.0.7"), p = reply_str("6380"),
               *el[2] = {&h, &p};
    redisReply a = reply_arr(el, 2);
    es_redis_addr out;
    char err[128];

    (void)state;
    assert_int_equal(es_redis_sentinel_parse_addr(&a, &out, err, sizeof(err)),
                     0);
    assert_string_equal(out.host, "10.0.0.7");
    assert_int_equal(out.port, 6380);
}

static void test_sentinel_bad_answers(void **state)
{
    static const char *const ports[] = {"0", "65536", "", "63x", "-1", " 1"};
    redisReply h = reply_str("10.0.0.7"), p, *el[2] = {&h, &p}, a, nil, e, n;
    char longhost[300];
    es_redis_addr out;
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        p = reply_str(ports[i]);
        a = reply_arr(el, 2);
        assert_int_equal(
            es_redis_sentinel_parse_addr(&a, &out, err, sizeof(err)), -1);
    }
    p = reply_str("6379");
    a = reply_arr(el, 1);
    assert_int_equal(es_redis_sentinel_parse_addr(&a, &out, err, sizeof(err)),
                     -1);
    memset(longhost, 'h', sizeof(longhost) - 1);
    longhost[sizeof(longhost) - 1] = '\0';
    h = reply_str(longhost);
    a = reply_arr(el, 2);
    assert_int_equal(es_redis_sentinel_parse_addr(&a, &out, err, sizeof(err)),
                     -1);
    h = reply_str("");
    assert_int_equal(es_redis_sentinel_parse_addr(&a, &out, err, sizeof(err)),
                     -1);
    h.type = REDIS_REPLY_INTEGER;
    assert_int_equal(es_redis_sentinel_parse_addr(&a, &out, err, sizeof(err)),
                     -1);

    memset(&nil, 0, sizeof(nil));
    nil.type = REDIS_REPLY_NIL;
    assert_int_equal(es_redis_sentinel_parse_addr(&nil, &out, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "does not monitor"));
    e = reply_str("ERR unknown command");
    e.type = REDIS_REPLY_ERROR;
    assert_int_equal(es_redis_sentinel_parse_addr(&e, &out, err, sizeof(err)),
                     -1);
    n = reply_str("x");
    assert_int_equal(es_redis_sentinel_parse_addr(&n, &out, err, sizeof(err)),
                     -1);
    assert_int_equal(es_redis_sentinel_parse_addr(NULL, &out, err, sizeof(err)),
                     -1);
}

static void test_role(void **state)
{
    redisReply m = reply_str("master"), s = reply_str("slave"), *el[1], a, e;
    char err[128];

    (void)state;
    el[0] = &m;
    a = reply_arr(el, 1);
    assert_int_equal(es_redis_role_is_primary(&a, err, sizeof(err)), 0);
    el[0] = &s;
    assert_int_equal(es_redis_role_is_primary(&a, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "slave"));
    a = reply_arr(el, 0);
    assert_int_equal(es_redis_role_is_primary(&a, err, sizeof(err)), -1);
    e = reply_str(
        "NOPERM this user has no permissions to run the 'role' command");
    e.type = REDIS_REPLY_ERROR;
    assert_int_equal(es_redis_role_is_primary(&e, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "NOPERM"));
    assert_int_equal(es_redis_role_is_primary(NULL, err, sizeof(err)), -1);
}

static void test_readonly(void **state)
{
    redisReply e =
        reply_str("READONLY You can't write against a read only replica.");
    redisReply o = reply_str("READONLY");

    (void)state;
    e.type = REDIS_REPLY_ERROR;
    assert_true(es_redis_is_readonly(&e));
    assert_false(es_redis_is_readonly(&o)); /* a string, not an error */
    e.str = "ERR something";
    assert_false(es_redis_is_readonly(&e));
    assert_false(es_redis_is_readonly(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentinel_answer),
        cmocka_unit_test(test_sentinel_bad_answers),
        cmocka_unit_test(test_role),
        cmocka_unit_test(test_readonly),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
