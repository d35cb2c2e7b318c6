/*
 * es_req_topic_test.c - unit tests for lib/es_req_topic.c, the topic
 * check of POST/PUT/PATCH /topics.
 *
 * What is asserted is what a client sees (status, code, field, and for a
 * query its position and column) and what Redis stores (the canonical
 * text and the subreddits handed to es_topic_put), for good bodies,
 * every error, the limits on both sides, and hostile values.
 */
#include "req_testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "es_req_topic.h"

/* Checks body text (merged over base text, may be NULL) as topic "t1". */
static int check(const char *text, const char *base_text, es_req_topic *t,
                 es_req_err *err)
{
    json_t *body, *base;
    int rc;

    body = req_body(text);
    base = base_text ? req_body(base_text) : NULL;
    memset(err, 0, sizeof(*err));
    rc = es_req_topic_check(body, base, "t1", t, err);
    json_decref(body);
    json_decref(base);
    return rc;
}

/* Asserts body text fails with 422 code/field; returns the message. */
static void refused(const char *text, const char *code, const char *field,
                    const char *in_message)
{
    es_req_topic t;
    es_req_err err;

    if (check(text, NULL, &t, &err) != -1) {
        es_req_topic_free(&t);
        fail_msg("accepted %s", text);
    }
    req_assert_err(&err, 422, code, field);
    assert_null(t.topic);
    assert_null(t.json);
    if (in_message != NULL && strstr(err.message, in_message) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err.message, in_message);
    }
}

static void test_topic_is_canonical_with_normalized_subreddits(void **state)
{
    es_req_topic t;
    es_req_err err;

    (void)state;
    assert_int_equal(check("{\"name\":\"Rust async\",\"subreddits\":"
                           "[\"RUST\",\"golang\",\"rust\"],\"query\":"
                           "\"(tokio OR \\\"async-std\\\") -java\"}",
                           NULL, &t, &err),
                     0);
    assert_string_equal(t.json,
                        "{\"id\":\"t1\",\"name\":\"Rust async\","
                        "\"subreddits\":[\"rust\",\"golang\"],\"query\":"
                        "\"(tokio OR \\\"async-std\\\") -java\"}");
    assert_int_equal(t.json_len, strlen(t.json));
    assert_int_equal(t.nsubs, 2);
    assert_string_equal(t.subs[0], "rust");
    assert_string_equal(t.subs[1], "golang");
    assert_string_equal(json_string_value(json_object_get(t.topic, "name")),
                        "Rust async");
    es_req_topic_free(&t);
    assert_null(t.topic);
    assert_null(t.json);
    es_req_topic_free(&t); /* twice is harmless */
}

static void test_topic_query_absent_or_null_is_empty(void **state)
{
    es_req_topic t;
    es_req_err err;

    (void)state;
    assert_int_equal(
        check("{\"name\":\"x\",\"subreddits\":[\"all\"]}", NULL, &t, &err), 0);
    assert_string_equal(t.json, "{\"id\":\"t1\",\"name\":\"x\",\"subreddits\":"
                                "[\"all\"],\"query\":\"\"}");
    es_req_topic_free(&t);

    assert_int_equal(check("{\"name\":\"x\",\"subreddits\":[\"ALL\"],"
                           "\"query\":null}",
                           NULL, &t, &err),
                     0);
    assert_string_equal(json_string_value(json_object_get(t.topic, "query")),
                        "");
    assert_string_equal(t.subs[0], "all");
    es_req_topic_free(&t);
}

static void test_topic_patch_merges_over_the_stored_topic(void **state)
{
    static const char stored[] =
        "{\"id\":\"t1\",\"name\":\"Old\",\"subreddits\":[\"rust\"],"
        "\"query\":\"tokio\"}";
    es_req_topic t;
    es_req_err err;

    (void)state;
    assert_int_equal(check("{\"name\":\"New\"}", stored, &t, &err), 0);
    assert_string_equal(t.json, "{\"id\":\"t1\",\"name\":\"New\","
                                "\"subreddits\":[\"rust\"],\"query\":"
                                "\"tokio\"}");
    es_req_topic_free(&t);

    /* an explicit null query clears it; a null name is no name */
    assert_int_equal(check("{\"query\":null}", stored, &t, &err), 0);
    assert_string_equal(json_string_value(json_object_get(t.topic, "query")),
                        "");
    es_req_topic_free(&t);
    assert_int_equal(check("{\"name\":null}", stored, &t, &err), -1);
    req_assert_err(&err, 422, "invalid_topic", "name");

    /* the merged topic is checked whole: a bad stored member fails */
    assert_int_equal(check("{\"name\":\"x\"}",
                           "{\"subreddits\":[\"a b\"],\"name\":\"y\"}", &t,
                           &err),
                     -1);
    req_assert_err(&err, 422, "invalid_topic", "subreddits");

    /* an empty base (a damaged stored value) needs every member */
    assert_int_equal(check("{\"query\":\"a\"}", "{}", &t, &err), -1);
    req_assert_err(&err, 422, "invalid_topic", "name");
}

static void test_topic_name_errors(void **state)
{
    char big[512];

    (void)state;
    refused("{\"subreddits\":[\"rust\"]}", "invalid_topic", "name",
            "name is required");
    refused("{\"name\":\"\",\"subreddits\":[\"rust\"]}", "invalid_topic",
            "name", "empty");
    refused("{\"name\":42,\"subreddits\":[\"rust\"]}", "invalid_topic", "name",
            "string");
    refused("{\"name\":[],\"subreddits\":[\"rust\"]}", "invalid_topic", "name",
            "string");
    refused("{\"name\":\"tab\\there\",\"subreddits\":[\"rust\"]}",
            "invalid_topic", "name", "control");
    refused("{\"name\":\"bell\\u0007\",\"subreddits\":[\"rust\"]}",
            "invalid_topic", "name", "control");
    refused("{\"name\":\"del\\u007f\",\"subreddits\":[\"rust\"]}",
            "invalid_topic", "name", "control");
    refused("{\"name\":\"c1\\u0085\",\"subreddits\":[\"rust\"]}",
            "invalid_topic", "name", "control");

    /* 101 characters (202 bytes) is one too many */
    strcpy(big, "{\"name\":\"");
    for (int i = 0; i < 101; i++) {
        strcat(big, "\xc3\xa9");
    }
    strcat(big, "\",\"subreddits\":[\"rust\"]}");
    refused(big, "invalid_topic", "name", "longer than 100");
}

static void test_topic_name_boundaries(void **state)
{
    char big[512];
    es_req_topic t;
    es_req_err err;

    (void)state;
    /* exactly 100 characters of 2 bytes each */
    strcpy(big, "{\"name\":\"");
    for (int i = 0; i < 100; i++) {
        strcat(big, "\xc3\xa9");
    }
    strcat(big, "\",\"subreddits\":[\"rust\"]}");
    assert_int_equal(check(big, NULL, &t, &err), 0);
    es_req_topic_free(&t);

    /* U+00A0 (C2 A0) is past the C1 block; a lone space is a name */
    assert_int_equal(check("{\"name\":\"a\\u00a0b\",\"subreddits\":[\"ab\"]}",
                           NULL, &t, &err),
                     0);
    es_req_topic_free(&t);
    assert_int_equal(
        check("{\"name\":\" \",\"subreddits\":[\"ab\"]}", NULL, &t, &err), 0);
    es_req_topic_free(&t);
}

static void test_topic_subreddit_errors(void **state)
{
    (void)state;
    refused("{\"name\":\"x\"}", "invalid_topic", "subreddits",
            "subreddits is required");
    refused("{\"name\":\"x\",\"subreddits\":[]}", "invalid_topic", "subreddits",
            "1 to 20");
    refused("{\"name\":\"x\",\"subreddits\":\"rust\"}", "invalid_topic",
            "subreddits", "1 to 20");
    refused("{\"name\":\"x\",\"subreddits\":null}", "invalid_topic",
            "subreddits", "1 to 20");
    refused("{\"name\":\"x\",\"subreddits\":{\"a\":\"rust\"}}", "invalid_topic",
            "subreddits", "1 to 20");
    refused("{\"name\":\"x\",\"subreddits\":[\"rust\",5]}", "invalid_topic",
            "subreddits", "subreddits[1] is not a string");
    refused("{\"name\":\"x\",\"subreddits\":[null]}", "invalid_topic",
            "subreddits", "subreddits[0]");
    refused("{\"name\":\"x\",\"subreddits\":[\"not a sub\"]}", "invalid_topic",
            "subreddits", "\"not a sub\"");
    refused("{\"name\":\"x\",\"subreddits\":[\"_under\"]}", "invalid_topic",
            "subreddits", "\"_under\"");
    refused("{\"name\":\"x\",\"subreddits\":[\"x\"]}", "invalid_topic",
            "subreddits", "\"x\"");
    refused("{\"name\":\"x\",\"subreddits\":[\"aaaaaaaaaaaaaaaaaaaaaa\"]}",
            "invalid_topic", "subreddits", "invalid subreddit name");
    refused("{\"name\":\"x\",\"subreddits\":[\"r/rust\"]}", "invalid_topic",
            "subreddits", "\"r/rust\"");
    refused("{\"name\":\"x\",\"subreddits\":[\"t:{x}\"]}", "invalid_topic",
            "subreddits", "\"t:{x}\"");
    refused("{\"name\":\"x\",\"subreddits\":[\"caf\\u00e9s\"]}",
            "invalid_topic", "subreddits", "caf\xc3\xa9s");
}

static void test_topic_subreddit_name_is_quoted_cut(void **state)
{
    char text[1200], quoted[128];
    es_req_topic t;
    es_req_err err;

    (void)state;
    /* 300 x 'é': quoted cut to 64 bytes, on a character boundary */
    strcpy(text, "{\"name\":\"x\",\"subreddits\":[\"");
    for (int i = 0; i < 300; i++) {
        strcat(text, "\xc3\xa9");
    }
    strcat(text, "\"]}");
    assert_int_equal(check(text, NULL, &t, &err), -1);
    req_assert_err(&err, 422, "invalid_topic", "subreddits");
    strcpy(quoted, "invalid subreddit name \"");
    for (int i = 0; i < 32; i++) {
        strcat(quoted, "\xc3\xa9");
    }
    strcat(quoted, "\"");
    assert_string_equal(err.message, quoted);
}

static void test_topic_subreddit_count_limits(void **state)
{
    char text[2048];
    es_req_topic t;
    es_req_err err;

    (void)state;
    /* 20 distinct names fill every slot */
    strcpy(text, "{\"name\":\"x\",\"subreddits\":[");
    for (int i = 0; i < 20; i++) {
        sprintf(text + strlen(text), "%s\"sub_%02d_abcdefghijklmn\"",
                i ? "," : "", i);
    }
    strcat(text, "]}");
    assert_int_equal(check(text, NULL, &t, &err), 0);
    assert_int_equal(t.nsubs, 20);
    assert_string_equal(t.subs[19], "sub_19_abcdefghijklmn"); /* 21 chars */
    es_req_topic_free(&t);

    /* 21 is refused, even when they are all the same */
    strcpy(text, "{\"name\":\"x\",\"subreddits\":[");
    for (int i = 0; i < 21; i++) {
        strcat(text, i ? ",\"rust\"" : "\"rust\"");
    }
    strcat(text, "]}");
    refused(text, "invalid_topic", "subreddits", "1 to 20");

    /* 20 spellings of one name are one subreddit */
    strcpy(text, "{\"name\":\"x\",\"subreddits\":[");
    for (int i = 0; i < 20; i++) {
        strcat(text, i % 2 ? ",\"RUST\"" : (i ? ",\"Rust\"" : "\"rust\""));
    }
    strcat(text, "]}");
    assert_int_equal(check(text, NULL, &t, &err), 0);
    assert_int_equal(t.nsubs, 1);
    assert_string_equal(t.json, "{\"id\":\"t1\",\"name\":\"x\",\"subreddits\":"
                                "[\"rust\"],\"query\":\"\"}");
    es_req_topic_free(&t);
}

/* The query error of body text: position, column and reason. */
static void query_error(const char *query_json, const char *reason,
                        long position, long column)
{
    char text[4096];
    es_req_topic t;
    es_req_err err;

    snprintf(text, sizeof(text),
             "{\"name\":\"q\",\"subreddits\":[\"rust\"],\"query\":%s}",
             query_json);
    assert_int_equal(check(text, NULL, &t, &err), -1);
    req_assert_err(&err, 422, "invalid_query", "query");
    assert_string_equal(err.message, reason);
    assert_int_equal(err.position, position);
    assert_int_equal(err.column, column);
}

static void test_topic_query_errors_carry_position_and_column(void **state)
{
    char big[1100];

    (void)state;
    query_error("\"rust (async\"", "unbalanced parenthesis", 5, 6);
    query_error("\"caf\\u00e9 (tokio\"", "unbalanced parenthesis", 6, 6);
    query_error("\"\\\"borrow checker\"", "unterminated quote", 0, 1);
    query_error("\"rust OR\"", "OR needs a term on both sides", 5, 6);
    query_error("\"-java\"", "query cannot match: only negated terms", 0, 1);
    query_error("\"ab*cd\"", "'*' is only allowed at the end of a word", 2, 3);

    /* 1025 bytes is one too many; 1024 pass */
    big[0] = '"';
    memset(big + 1, 'x', 1025);
    strcpy(big + 1026, "\"");
    query_error(big, "query too long (max 1024 bytes)", 1024, 1025);
}

static void test_topic_query_boundaries_and_types(void **state)
{
    char text[1200];
    es_req_topic t;
    es_req_err err;
    size_t n;

    (void)state;
    strcpy(text, "{\"name\":\"q\",\"subreddits\":[\"rust\"],\"query\":\"rust ");
    n = strlen(text);
    memset(text + n, 'x', 1019);
    strcpy(text + n + 1019, "\"}");
    assert_int_equal(check(text, NULL, &t, &err), 0);
    assert_int_equal(json_string_length(json_object_get(t.topic, "query")),
                     1024);
    es_req_topic_free(&t);

    refused("{\"name\":\"q\",\"subreddits\":[\"rust\"],\"query\":5}",
            "validation_failed", "query", "query must be a string");
    refused("{\"name\":\"q\",\"subreddits\":[\"rust\"],\"query\":[\"a\"]}",
            "validation_failed", "query", "string");
    refused("{\"name\":\"q\",\"subreddits\":[\"rust\"],\"query\":false}",
            "validation_failed", "query", "string");
}

static void test_topic_errors_come_in_member_order(void **state)
{
    (void)state;
    /* name before subreddits before query */
    refused("{\"name\":1,\"subreddits\":[],\"query\":5}", "invalid_topic",
            "name", NULL);
    refused("{\"name\":\"x\",\"subreddits\":[],\"query\":5}", "invalid_topic",
            "subreddits", NULL);
}

static void test_topic_canonical_form_checks_to_itself(void **state)
{
    es_req_topic t, t2;
    es_req_err err;

    (void)state;
    assert_int_equal(
        check("{\"id\":\"ignored\",\"name\":\"Caf\\u00e9 \\u2615\","
              "\"subreddits\":[\"Coffee\",\"TEA\",\"coffee\"],"
              "\"query\":\"espresso OR \\\"pour over\\\"\"}",
              NULL, &t, &err),
        0);
    assert_int_equal(es_req_topic_check(t.topic, NULL, "t1", &t2, &err), 0);
    assert_string_equal(t.json, t2.json);
    assert_int_equal(t.nsubs, t2.nsubs);
    es_req_topic_free(&t);
    es_req_topic_free(&t2);
}

/* the item layer's validator: the same topic, or the same error */
static void test_topic_item_is_the_checked_topic(void **state)
{
    json_t *body, *item;
    es_req_topic t;
    es_req_err err;
    char *a;

    (void)state;
    body = req_body("{\"name\":\"Rust\",\"subreddits\":[\"Rust\",\"rust\"]}");
    assert_int_equal(es_req_topic_check(body, NULL, "t1", &t, &err), 0);
    assert_int_equal(es_req_topic_item(body, NULL, "t1", &item, &err), 0);
    a = json_dumps(item, JSON_COMPACT);
    assert_string_equal(a, t.json);
    free(a);
    json_decref(item);
    es_req_topic_free(&t);
    json_decref(body);

    item = (json_t *)&err; /* must come back NULL */
    body = req_body("{\"name\":\"\",\"subreddits\":[\"rust\"]}");
    assert_int_equal(es_req_topic_item(body, NULL, "t1", &item, &err), -1);
    assert_null(item);
    req_assert_err(&err, 422, "invalid_topic", "name");
    json_decref(body);
}

static void test_topic_members_list_names_the_body(void **state)
{
    json_t *body;
    es_req_err err;

    (void)state;
    body = req_body("{\"id\":\"a\",\"name\":\"x\",\"subreddits\":[],"
                    "\"query\":\"\"}");
    assert_int_equal(es_req_members(body, es_req_topic_members, &err), 0);
    json_decref(body);
    body = req_body("{\"name\":\"x\",\"color\":\"red\"}");
    assert_int_equal(es_req_members(body, es_req_topic_members, &err), -1);
    req_assert_err(&err, 422, "validation_failed", "color");
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_is_canonical_with_normalized_subreddits),
        cmocka_unit_test(test_topic_item_is_the_checked_topic),
        cmocka_unit_test(test_topic_query_absent_or_null_is_empty),
        cmocka_unit_test(test_topic_patch_merges_over_the_stored_topic),
        cmocka_unit_test(test_topic_name_errors),
        cmocka_unit_test(test_topic_name_boundaries),
        cmocka_unit_test(test_topic_subreddit_errors),
        cmocka_unit_test(test_topic_subreddit_name_is_quoted_cut),
        cmocka_unit_test(test_topic_subreddit_count_limits),
        cmocka_unit_test(test_topic_query_errors_carry_position_and_column),
        cmocka_unit_test(test_topic_query_boundaries_and_types),
        cmocka_unit_test(test_topic_errors_come_in_member_order),
        cmocka_unit_test(test_topic_canonical_form_checks_to_itself),
        cmocka_unit_test(test_topic_members_list_names_the_body),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
