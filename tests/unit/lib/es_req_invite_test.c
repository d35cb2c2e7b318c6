/*
 * es_req_invite_test.c - unit tests for lib/es_req_invite.c: the bodies
 * of POST /members (an invite) and POST /invites/{id}/accept.
 */
#include "req_testkit.h"

#include "es_req_invite.h"

static int invite(const char *text, es_req_invite *out, es_req_err *err)
{
    json_t *body;
    int rc;

    body = req_body(text);
    memset(err, 0, sizeof(*err));
    rc = es_req_invite_check(body, out, err);
    json_decref(body);
    return rc;
}

static int accept_body(const char *text, int *confirm, es_req_err *err)
{
    json_t *body;
    int rc;

    body = req_body(text);
    memset(err, 0, sizeof(*err));
    rc = es_req_accept_check(body, confirm, err);
    json_decref(body);
    return rc;
}

static void test_invite_lower_cases_the_address(void **state)
{
    es_req_invite in;
    es_req_err err;

    (void)state;
    assert_int_equal(invite("{\"email\":\"Bob@Example.COM\"}", &in, &err), 0);
    assert_string_equal(in.email, "bob@example.com");
    assert_int_equal(in.email_len, 15);
    assert_string_equal(in.role, "member");

    assert_int_equal(
        invite("{\"email\":\"a@b.c\",\"role\":\"owner\"}", &in, &err), 0);
    assert_string_equal(in.role, "owner");
    assert_int_equal(
        invite("{\"email\":\"a@b.c\",\"role\":\"member\"}", &in, &err), 0);
    assert_string_equal(in.role, "member");
}

static void test_invite_email_errors(void **state)
{
    static const char *const bad[] = {
        "{}",
        "{\"email\":null}",
        "{\"email\":5}",
        "{\"email\":[\"a@b.c\"]}",
        "{\"email\":\"\"}",
        "{\"email\":\"nobody\"}",
        "{\"email\":\"a b@c.d\"}",
        "{\"email\":\"a@b.c\\u0000\"}",
        "{\"role\":\"owner\"}",
    };
    char big[400];
    es_req_invite in;
    es_req_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *body;

        /* a NUL in a string is refused by the parser already */
        if (es_req_body_parse(bad[i], strlen(bad[i]), &body, &err) != 0) {
            req_assert_err(&err, 400, "invalid_json", NULL);
            continue;
        }
        assert_int_equal(es_req_invite_check(body, &in, &err), -1);
        json_decref(body);
        req_assert_err(&err, 422, "validation_failed", "email");
        assert_string_equal(err.message, "email must be an e-mail address");
        assert_string_equal(in.email, "");
    }

    /* 255 bytes: one over */
    strcpy(big, "{\"email\":\"a@");
    for (i = 0; i < 252; i++) {
        big[12 + i] = (i % 2) ? '.' : 'b';
    }
    big[12 + 252] = 'c';
    strcpy(big + 12 + 253, "\"}");
    assert_int_equal(invite(big, &in, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "email");
}

static void test_invite_role_errors(void **state)
{
    static const char *const bad[] = {
        "{\"email\":\"a@b.c\",\"role\":null}",
        "{\"email\":\"a@b.c\",\"role\":\"Owner\"}",
        "{\"email\":\"a@b.c\",\"role\":\"admin\"}",
        "{\"email\":\"a@b.c\",\"role\":1}",
        "{\"email\":\"a@b.c\",\"role\":\"\"}",
    };
    es_req_invite in;
    es_req_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(invite(bad[i], &in, &err), -1);
        req_assert_err(&err, 422, "validation_failed", "role");
    }
}

static void test_invite_unknown_members_come_first(void **state)
{
    es_req_invite in;
    es_req_err err;

    (void)state;
    assert_int_equal(invite("{\"email\":5,\"tenant\":\"other\"}", &in, &err),
                     -1);
    req_assert_err(&err, 422, "validation_failed", "tenant");
    assert_string_equal(err.message, "unknown member \"tenant\"");
}

static void test_accept_confirm(void **state)
{
    es_req_err err;
    int confirm;

    (void)state;
    assert_int_equal(accept_body("{}", &confirm, &err), 0);
    assert_int_equal(confirm, 0);
    assert_int_equal(accept_body("{\"confirm\":true}", &confirm, &err), 0);
    assert_int_equal(confirm, 1);
    assert_int_equal(accept_body("{\"confirm\":false}", &confirm, &err), 0);
    assert_int_equal(confirm, 0);

    assert_int_equal(accept_body("{\"confirm\":1}", &confirm, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "confirm");
    assert_string_equal(err.message, "confirm must be true or false");
    assert_int_equal(confirm, 0);
    assert_int_equal(accept_body("{\"confirm\":\"true\"}", &confirm, &err), -1);
    assert_int_equal(accept_body("{\"confirm\":null}", &confirm, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "confirm");

    assert_int_equal(
        accept_body("{\"confirm\":true,\"role\":\"owner\"}", &confirm, &err),
        -1);
    req_assert_err(&err, 422, "validation_failed", "role");
    assert_int_equal(confirm, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invite_lower_cases_the_address),
        cmocka_unit_test(test_invite_email_errors),
        cmocka_unit_test(test_invite_role_errors),
        cmocka_unit_test(test_invite_unknown_members_come_first),
        cmocka_unit_test(test_accept_confirm),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
