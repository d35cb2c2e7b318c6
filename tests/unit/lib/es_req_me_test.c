/*
 * es_req_me_test.c - unit tests for lib/es_req_me.c, the body of PATCH
 * /me: the caller's two mail opt-ins and nothing else.
 */
#include "req_testkit.h"

#include "es_req_me.h"

static int check(const char *text, es_req_me *out, es_req_err *err)
{
    json_t *body;
    int rc;

    body = req_body(text);
    memset(err, 0, sizeof(*err));
    rc = es_req_me_check(body, out, err);
    json_decref(body);
    return rc;
}

static void refused(const char *text, const char *field)
{
    es_req_err err;
    es_req_me me;

    if (check(text, &me, &err) != -1) {
        fail_msg("accepted %s", text);
    }
    req_assert_err(&err, 422, "validation_failed", field);
}

static void test_me_sets_either_or_both(void **state)
{
    es_req_err err;
    es_req_me me;

    (void)state;
    assert_int_equal(check("{\"digest\":true}", &me, &err), 0);
    assert_int_equal(me.digest, 1);
    assert_int_equal(me.alert_email, -1);
    assert_int_equal(check("{\"alert_email\":false}", &me, &err), 0);
    assert_int_equal(me.digest, -1);
    assert_int_equal(me.alert_email, 0);
    assert_int_equal(
        check("{\"digest\":false,\"alert_email\":true}", &me, &err), 0);
    assert_int_equal(me.digest, 0);
    assert_int_equal(me.alert_email, 1);
}

static void test_me_needs_one_of_them(void **state)
{
    (void)state;
    refused("{}", "digest");
}

static void test_me_takes_only_booleans(void **state)
{
    (void)state;
    refused("{\"digest\":1}", "digest");
    refused("{\"digest\":\"true\"}", "digest");
    refused("{\"digest\":null}", "digest");
    refused("{\"alert_email\":0}", "alert_email");
    refused("{\"alert_email\":[true]}", "alert_email");
    /* digest is checked first */
    refused("{\"alert_email\":0,\"digest\":0}", "digest");
}

static void test_me_refuses_every_other_member(void **state)
{
    (void)state;
    refused("{\"digest\":true,\"role\":\"owner\"}", "role");
    refused("{\"digest\":true,\"sub\":\"someone-else\"}", "sub");
    refused("{\"tenant\":\"acme\"}", "tenant");
    refused("{\"email\":\"x@y.z\"}", "email");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_me_sets_either_or_both),
        cmocka_unit_test(test_me_needs_one_of_them),
        cmocka_unit_test(test_me_takes_only_booleans),
        cmocka_unit_test(test_me_refuses_every_other_member),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
