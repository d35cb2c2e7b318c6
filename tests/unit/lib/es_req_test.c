/*
 * es_req_test.c - unit tests for lib/es_req.c: the error shape, the
 * query-string reader and the checks every JSON body goes through.
 *
 * The query-string reader replaced nginx's own, so the tests pin down
 * where the two agree (first pair wins, names compared without case, '+'
 * is a space) and where this one is deliberately stricter (a broken
 * escape or an encoded NUL is an error, never a shortened value).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_req.h"
#include "es_utf8.h"

static int arg(const char *qs, const char *name, char *out, size_t max)
{
    size_t n = 0;
    int rc;

    rc = es_req_arg(qs, strlen(qs), name, out, max, &n);
    if (rc == ES_ARG_OK) {
        assert_int_equal(n, strlen(out));
    }
    return rc;
}

static void test_arg_finds_the_first_pair(void **state)
{
    char v[32];

    (void)state;
    assert_int_equal(arg("a=1&limit=20&limit=30", "limit", v, 16), ES_ARG_OK);
    assert_string_equal(v, "20");
    assert_int_equal(arg("LIMIT=5", "limit", v, 16), ES_ARG_OK);
    assert_string_equal(v, "5");
    assert_int_equal(arg("limit=", "limit", v, 16), ES_ARG_OK);
    assert_string_equal(v, "");
    assert_int_equal(arg("xlimit=1&limitx=2", "limit", v, 16), ES_ARG_ABSENT);
    assert_int_equal(arg("limit&a=1", "limit", v, 16), ES_ARG_ABSENT);
    assert_int_equal(arg("", "limit", v, 16), ES_ARG_ABSENT);
    assert_int_equal(arg("&&&limit=7&&", "limit", v, 16), ES_ARG_OK);
    assert_string_equal(v, "7");
}

static void test_arg_decodes_escapes_and_plus(void **state)
{
    char v[32];

    (void)state;
    assert_int_equal(arg("q=a+b%2Bc%20d%3d", "q", v, 16), ES_ARG_OK);
    assert_string_equal(v, "a b+c d=");
    assert_int_equal(arg("q=%C3%A9", "q", v, 16), ES_ARG_OK);
    assert_string_equal(v, "\xc3\xa9");
}

static void test_arg_refuses_broken_escapes_nul_and_length(void **state)
{
    char v[32];

    (void)state;
    assert_int_equal(arg("q=%", "q", v, 16), ES_ARG_BAD);
    assert_int_equal(arg("q=%4", "q", v, 16), ES_ARG_BAD);
    assert_int_equal(arg("q=%zz", "q", v, 16), ES_ARG_BAD);
    assert_int_equal(arg("q=a%00b", "q", v, 16), ES_ARG_BAD);
    /* exactly max fits, one more does not, escapes counted decoded */
    assert_int_equal(arg("q=abcd", "q", v, 4), ES_ARG_OK);
    assert_int_equal(arg("q=abcde", "q", v, 4), ES_ARG_BAD);
    assert_int_equal(arg("q=%41%42%43%44", "q", v, 4), ES_ARG_OK);
    assert_string_equal(v, "ABCD");
}

static void test_arg_reads_only_its_length(void **state)
{
    char v[32];
    size_t n;

    (void)state;
    /* the value ends at len even without '&' or NUL */
    assert_int_equal(es_req_arg("q=12345", 4, "q", v, 16, &n), ES_ARG_OK);
    assert_string_equal(v, "12");
    assert_int_equal(es_req_arg("q=1%41", 5, "q", v, 16, &n), ES_ARG_BAD);
}

static void test_fail_cuts_field_on_a_character_boundary(void **state)
{
    char field[200];
    es_req_err err;
    size_t i;

    (void)state;
    /* 63 ASCII bytes then a 2-byte character: 65 bytes do not fit 64 */
    for (i = 0; i < 63; i++) {
        field[i] = 'a';
    }
    memcpy(field + 63, "\xc3\xa9tail", 7);
    assert_int_equal(
        es_req_fail(&err, 422, "validation_failed", field, "bad %s", "thing"),
        -1);
    assert_int_equal(err.status, 422);
    assert_string_equal(err.code, "validation_failed");
    assert_int_equal(strlen(err.field), 63);
    assert_string_equal(err.message, "bad thing");
    assert_int_equal(err.position, -1);
    assert_int_equal(err.column, -1);

    es_req_fail(&err, 400, "bad_request", NULL, "x");
    assert_string_equal(err.field, "");
}

static void test_body_parse(void **state)
{
    es_req_err err;
    json_t *body;

    (void)state;
    assert_int_equal(es_req_body_parse("{\"a\":1}", 7, &body, &err), 0);
    assert_true(json_is_object(body));
    json_decref(body);

    assert_int_equal(es_req_body_parse("[1]", 3, &body, &err), -1);
    assert_null(body);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "invalid_json");

    assert_int_equal(es_req_body_parse("{\"a\":1,\"a\":2}", 13, &body, &err),
                     -1);
    assert_int_equal(err.status, 400);

    assert_int_equal(es_req_body_parse("{\"a\": tru}", 10, &body, &err), -1);
    assert_string_equal(err.code, "invalid_json");
    assert_true(err.position >= 0 && err.position <= 10);

    /* invalid UTF-8 and an escaped NUL in a string */
    assert_int_equal(es_req_body_parse("{\"a\":\"\xff\"}", 9, &body, &err), -1);
    assert_int_equal(es_req_body_parse("{\"a\":\"\\u0000\"}", 14, &body, &err),
                     -1);
    /* jansson quotes the input at a syntax error, here half a character:
     * the message is still UTF-8 (it goes out in a JSON answer) */
    assert_int_equal(
        es_req_body_parse("{\"name\": \"Vt\\\xc3\xa9\"}", 17, &body, &err), -1);
    assert_string_equal(err.code, "invalid_json");
    assert_int_equal(es_utf8_valid(err.message, strlen(err.message)), 1);

    /* the length counts, not a NUL */
    assert_int_equal(es_req_body_parse("{}garbage", 2, &body, &err), 0);
    json_decref(body);
}

static void test_json_type(void **state)
{
    (void)state;
    assert_true(es_req_json_type("application/json", 16));
    assert_true(es_req_json_type("Application/JSON; charset=utf-8", 31));
    assert_false(es_req_json_type("application/jsonx", 17));
    assert_false(es_req_json_type("text/plain", 10));
    assert_false(es_req_json_type("application/js", 14));
}

static void test_members(void **state)
{
    static const char *const allowed[] = {"name", "query", NULL};
    es_req_err err;
    json_t *body;

    (void)state;
    body = json_pack("{s:s, s:s}", "name", "x", "query", "y");
    assert_int_equal(es_req_members(body, allowed, &err), 0);
    json_decref(body);

    body = json_pack("{s:s, s:i}", "name", "x", "evil\xc3\xa9", 1);
    assert_int_equal(es_req_members(body, allowed, &err), -1);
    assert_int_equal(err.status, 422);
    assert_string_equal(err.field, "evil\xc3\xa9");
    assert_int_equal(es_utf8_valid(err.message, strlen(err.message)), 1);
    json_decref(body);

    body = json_array();
    assert_int_equal(es_req_members(body, allowed, &err), -1);
    assert_int_equal(err.status, 400);
    json_decref(body);
}

static void test_json_int(void **state)
{
    json_int_t v;
    json_t *j;

    (void)state;
    j = json_integer(42);
    assert_int_equal(es_req_json_int(j, &v), 0);
    assert_int_equal(v, 42);
    json_decref(j);
    j = json_real(7.0);
    assert_int_equal(es_req_json_int(j, &v), 0);
    assert_int_equal(v, 7);
    json_decref(j);
    j = json_real(7.5);
    assert_int_equal(es_req_json_int(j, &v), -1);
    json_decref(j);
    j = json_real(1e300);
    assert_int_equal(es_req_json_int(j, &v), -1);
    json_decref(j);
    j = json_string("7");
    assert_int_equal(es_req_json_int(j, &v), -1);
    json_decref(j);
}

static void test_body_id(void **state)
{
    char id[ES_REQ_ID_MAX + 1];
    es_req_err err;
    json_t *body;

    (void)state;
    body = json_pack("{s:s}", "id", "my-topic_1");
    assert_int_equal(es_req_body_id(body, NULL, id, &err), 0);
    assert_string_equal(id, "my-topic_1");
    assert_int_equal(es_req_body_id(body, "my-topic_1", id, &err), 0);
    assert_int_equal(es_req_body_id(body, "other", id, &err), -1);
    assert_string_equal(err.field, "id");
    json_decref(body);

    body = json_object();
    assert_int_equal(es_req_body_id(body, NULL, id, &err), 0);
    assert_string_equal(id, "");
    assert_int_equal(es_req_body_id(body, "p", id, &err), 0);
    assert_string_equal(id, "p");
    json_decref(body);

    body = json_pack("{s:s}", "id", "es:{t:x}");
    assert_int_equal(es_req_body_id(body, NULL, id, &err), -1);
    assert_int_equal(err.status, 422);
    json_decref(body);

    body = json_pack("{s:i}", "id", 5);
    assert_int_equal(es_req_body_id(body, NULL, id, &err), -1);
    json_decref(body);

    body =
        json_pack("{s:s}", "id",
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaa");
    assert_int_equal(es_req_body_id(body, NULL, id, &err), -1);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arg_finds_the_first_pair),
        cmocka_unit_test(test_arg_decodes_escapes_and_plus),
        cmocka_unit_test(test_arg_refuses_broken_escapes_nul_and_length),
        cmocka_unit_test(test_arg_reads_only_its_length),
        cmocka_unit_test(test_fail_cuts_field_on_a_character_boundary),
        cmocka_unit_test(test_body_parse),
        cmocka_unit_test(test_json_type),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_json_int),
        cmocka_unit_test(test_body_id),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
