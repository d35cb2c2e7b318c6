/*
 * es_req_comments_test.c - unit tests for lib/es_req_comments.c, the
 * query of GET /topics/{id}/comments.
 *
 * The bad values are those tests/integration/api_series.test.mjs sends
 * and the hostile ones a query string can carry: escapes, NULs, '+',
 * repeated and differently cased names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "es_req_b64url.h"
#include "es_req_comments.h"
#include "req_testkit.h"

static int rd(const char *qs, es_req_comments_args *a, es_req_err *err)
{
    memset(err, 0, sizeof(*err));
    return es_req_comments_read(QS(qs), a, err);
}

static void test_defaults(void **state)
{
    es_req_comments_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("", &a, &err), 0);
    assert_int_equal(a.limit, ES_REQ_COMMENTS_LIMIT);
    assert_int_equal(a.sentiment, -1);
    assert_int_equal(a.has_cursor, 0);
    assert_int_equal(rd("other=1&cursors=x", &a, &err), 0);
    assert_int_equal(a.has_cursor, 0);
}

static void test_limit_and_sentiment(void **state)
{
    es_req_comments_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("limit=100&sentiment=mixed", &a, &err), 0);
    assert_int_equal(a.limit, 100);
    assert_string_equal(es_req_sentiments[a.sentiment], "mixed");
    assert_int_equal(rd("sentiment=positive&limit=1", &a, &err), 0);
    assert_int_equal(a.limit, 1);
    assert_string_equal(es_req_sentiments[a.sentiment], "positive");
    assert_int_equal(rd("sentiment=neg%61tive", &a, &err), 0);
    assert_string_equal(es_req_sentiments[a.sentiment], "negative");
    assert_int_equal(rd("SENTIMENT=neutral", &a, &err), 0);
    assert_string_equal(es_req_sentiments[a.sentiment], "neutral");
}

static void test_bad_limits(void **state)
{
    static const char *const bad[] = {
        "limit=0",
        "limit=101",
        "limit=x",
        "limit=-1",
        "limit=5.5",
        "limit=",
        "limit=%00",
        "limit=%",
        "limit=+1",
        "limit=1%20",
        "limit=99999999999999999999",
        "limit=0&limit=5",
    };
    es_req_comments_args a;
    es_req_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad_request(rd(bad[i], &a, &err), err, "limit");
        assert_string_equal(err.message, "limit must be 1..100");
    }
}

static void test_bad_sentiments(void **state)
{
    static const char *const bad[] = {
        "sentiment=happy",
        "sentiment=Positive",
        "sentiment=",
        "sentiment=positive%00",
        "sentiment=positive+",
        "sentiment=%",
        "sentiment=positiveeeeeeeeeeeeeeeeeeee",
        "sentiment=\xff",
        "sentiment=mixed%0a",
    };
    es_req_comments_args a;
    es_req_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_bad_request(rd(bad[i], &a, &err), err, "sentiment");
        assert_string_equal(
            err.message,
            "sentiment must be positive, negative, neutral or mixed");
    }
}

static void test_first_bad_argument_is_named(void **state)
{
    es_req_comments_args a;
    es_req_err err;

    (void)state;
    assert_bad_request(rd("cursor=x&sentiment=x&limit=x", &a, &err), err,
                       "limit");
    assert_bad_request(rd("cursor=x&sentiment=x", &a, &err), err, "sentiment");
}

static void test_cursor_given_back_reads(void **state)
{
    char text[ES_REQ_CURSOR_LEN + 1], qs[128];
    es_req_comments_args a;
    es_req_cursor c;
    es_req_err err;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.score = 1764079331000LL;
    c.ties = 3;
    memcpy(c.id, "k3x9a1", 7);
    c.id_len = 6;
    assert_true(es_req_cursor_encode(&c, text) > 0);

    snprintf(qs, sizeof(qs), "limit=3&cursor=%s", text);
    assert_int_equal(rd(qs, &a, &err), 0);
    assert_int_equal(a.has_cursor, 1);
    assert_true(a.cursor.score == c.score);
    assert_int_equal(a.cursor.ties, 3);
    assert_string_equal(a.cursor.id, "k3x9a1");
}

static void test_forged_cursors(void **state)
{
    static const char *const raw[] = {"1732543261000:0:ABC", "01:0:abc",
                                      "1:0:abc:x", "-5:0:abc"};
    static const char *const texts[] = {
        "cursor=not+a+cursor",
        "cursor=%00",
        "cursor=",
        "cursor=%",
        "cursor=MTI6MDphYmM%3D",
        "cursor=MTI6MDphYmM*",
        "cursor=MTI6MDphYmM.",
        "cursor=TI6MDphYmM",
        "cursor=MTI6MDphYmM!",
    };
    char b64[128], qs[400];
    es_req_comments_args a;
    es_req_err err;

    (void)state;
    /* MTI6MDphYmM is "12:0:abc", a good cursor, so its variants are bad */
    assert_int_equal(rd("cursor=MTI6MDphYmM", &a, &err), 0);
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        es_req_b64url_encode((const unsigned char *)raw[i], strlen(raw[i]),
                             b64);
        snprintf(qs, sizeof(qs), "cursor=%s", b64);
        assert_bad_request(rd(qs, &a, &err), err, "cursor");
        assert_string_equal(err.message, "cursor is not one this API gave");
    }
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        assert_bad_request(rd(texts[i], &a, &err), err, "cursor");
    }
    memcpy(qs, "cursor=", 7);
    memset(qs + 7, 'x', 300);
    qs[307] = '\0';
    assert_bad_request(rd(qs, &a, &err), err, "cursor");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_limit_and_sentiment),
        cmocka_unit_test(test_bad_limits),
        cmocka_unit_test(test_bad_sentiments),
        cmocka_unit_test(test_first_bad_argument_is_named),
        cmocka_unit_test(test_cursor_given_back_reads),
        cmocka_unit_test(test_forged_cursors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
