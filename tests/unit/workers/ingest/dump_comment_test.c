/*
 * dump_comment_test.c - dump lines of every generation (Pushshift with
 * string timestamps, RC without link_title, Arctic Shift with _meta) become
 * the right es_comment; unwatched subreddits are filtered; malformed lines
 * are reported, not crashed on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dump_comment.h"

static es_watchlist *wl;
static es_dump_parser parser;

#define assert_strv(v, text)                                                   \
    do {                                                                       \
        assert_int_equal((v).n, strlen(text));                                 \
        assert_memory_equal((v).s, (text), (v).n);                             \
    } while (0)

static es_dump_result parse(const char *line, const es_watchlist *w,
                            es_comment *c)
{
    return es_dump_comment_parse(&parser, line, strlen(line), w, c);
}

static void test_rc_line_gives_every_field(void **state)
{
    const char *line =
        "{\"all_awardings\":[],\"author\":\"some_user\",\"body\":\"Great "
        "post!\",\"controversiality\":0,\"created_utc\":1672531200,"
        "\"distinguished\":null,\"edited\":false,\"id\":\"j2abcd\","
        "\"link_id\":\"t3_zz9xy1\",\"parent_id\":\"t1_j2abcc\","
        "\"permalink\":\"/r/Python/comments/zz9xy1/title/j2abcd/\","
        "\"score\":42,\"subreddit\":\"Python\",\"subreddit_id\":\"t5_2qh0y\"}";
    es_comment c;

    (void)state;
    assert_int_equal(parse(line, wl, &c), ES_DUMP_KEPT);
    assert_strv(c.id, "j2abcd");
    assert_strv(c.subreddit, "Python");
    assert_strv(c.author, "some_user");
    assert_strv(c.body, "Great post!");
    assert_strv(c.permalink, "/r/Python/comments/zz9xy1/title/j2abcd/");
    assert_strv(c.link_id, "t3_zz9xy1");
    assert_strv(c.link_title, "");
    assert_true(c.created_utc == 1672531200.0);
    assert_int_equal(c.score, 42);
    assert_string_equal(c.source, "backfill");
}

static void test_old_pushshift_string_timestamp_and_no_permalink(void **state)
{
    const char *line =
        "{\"author\":\"a\",\"body\":\"b\",\"created_utc\":\"1134028003\","
        "\"id\":\"c2\",\"link_id\":\"t3_1\",\"score\":\"3\","
        "\"subreddit\":\"python\"}";
    es_comment c;

    (void)state;
    assert_int_equal(parse(line, wl, &c), ES_DUMP_KEPT);
    assert_true(c.created_utc == 1134028003.0);
    assert_strv(c.permalink, "/r/python/comments/1/_/c2/");
    assert_int_equal(c.score, 3);
}

static void test_arctic_shift_extras_are_ignored(void **state)
{
    const char *line =
        "{\"_meta\":{\"retrieved_2nd_on\":1700000000,\"subreddit\":\"nope\","
        "\"was_deleted_later\":true},\"author\":\"x\",\"body\":\"hi\","
        "\"created_utc\":1700000000.5,\"id\":\"k9\",\"link_id\":\"t3_q\","
        "\"link_title\":\"A \\\"title\\\"\",\"retrieved_on\":1700000100,"
        "\"subreddit\":\"Golang\"}";
    es_comment c;

    (void)state;
    assert_int_equal(parse(line, wl, &c), ES_DUMP_KEPT);
    assert_strv(c.subreddit, "Golang");
    assert_strv(c.link_title, "A \"title\"");
    assert_true(c.created_utc == 1700000000.5);
}

static void test_escapes_in_body_and_author_are_decoded(void **state)
{
    const char *line =
        "{\"id\":\"e1\",\"subreddit\":\"python\",\"author\":\"\\u00fcber\","
        "\"body\":\"line1\\nline2 \\ud83d\\ude00 \\\"q\\\" \\\\ end\","
        "\"created_utc\":1}";
    es_comment c;

    (void)state;
    assert_int_equal(parse(line, wl, &c), ES_DUMP_KEPT);
    assert_strv(c.author, "\xc3\xbc"
                          "ber");
    assert_strv(c.body, "line1\nline2 \xf0\x9f\x98\x80 \"q\" \\ end");
    assert_strv(c.permalink, "");
}

static void
test_unwatched_subreddit_is_filtered_case_insensitively(void **state)
{
    es_comment c;

    (void)state;
    assert_int_equal(
        parse("{\"subreddit\":\"AskReddit\",\"id\":\"a\"}", wl, &c),
        ES_DUMP_FILTERED);
    /* a filtered line is not decoded further, even when broken after */
    assert_int_equal(parse("{\"subreddit\":\"pics\",\"id\":", wl, &c),
                     ES_DUMP_FILTERED);
    assert_int_equal(parse("{\"id\":\"a\",\"subreddit\":\"PYTHON\","
                           "\"body\":\"x\",\"created_utc\":5}",
                           wl, &c),
                     ES_DUMP_KEPT);
}

static void test_no_watchlist_or_all_keeps_everything(void **state)
{
    const char *line = "{\"id\":\"a\",\"subreddit\":\"pics\",\"body\":\"x\","
                       "\"created_utc\":5}";
    const char *names[] = {"all"};
    es_watchlist *every = es_watchlist_new();
    es_comment c;

    (void)state;
    assert_int_equal(parse(line, NULL, &c), ES_DUMP_KEPT);
    assert_int_equal(es_watchlist_set_names(every, names, 1), 0);
    assert_true(es_watchlist_all(every));
    assert_int_equal(parse(line, every, &c), ES_DUMP_KEPT);
    assert_int_equal(parse(line, wl, &c), ES_DUMP_FILTERED);
    es_watchlist_free(every);
}

static void test_missing_author_and_null_score(void **state)
{
    es_comment c;

    (void)state;
    assert_int_equal(parse("{\"id\":\"a\",\"subreddit\":\"python\","
                           "\"body\":\"x\",\"created_utc\":5,"
                           "\"score\":null,\"author\":null}",
                           wl, &c),
                     ES_DUMP_KEPT);
    assert_strv(c.author, "[deleted]");
    assert_int_equal(c.score, 0);
}

static void test_malformed_lines_are_reported(void **state)
{
    static const char *const bad[] = {
        "{\"id\":\"a\",\"subreddit\":\"python\",\"body\":\"x\","
        "\"created_utc\":5",
        "not json at all",
        "{\"subreddit\":\"python\",\"body\":\"x\",\"created_utc\":5}",
        "{\"id\":7,\"subreddit\":\"python\",\"body\":\"x\","
        "\"created_utc\":5}",
        "{\"id\":\"a\",\"subreddit\":\"python\",\"body\":null,"
        "\"created_utc\":5}",
        "{\"id\":\"a\",\"subreddit\":\"python\",\"body\":\"x\","
        "\"created_utc\":\"soon\"}",
        "{\"id\":\"a\",\"subreddit\":\"python\",\"body\":\"x\"}",
        "{\"id\":\"a\",\"subreddit\":[\"python\"],\"body\":\"x\","
        "\"created_utc\":5}",
        "{\"id\":\"a\",\"subreddit\":\"python\",\"body\":\"\\x\","
        "\"created_utc\":5}",
        NULL};
    es_comment c;

    (void)state;
    for (int i = 0; bad[i]; i++) {
        parser.error = NULL;
        if (parse(bad[i], wl, &c) != ES_DUMP_MALFORMED) {
            fail_msg("accepted: %s", bad[i]);
        }
        assert_non_null(parser.error);
    }
}

static void test_huge_body_is_decoded(void **state)
{
    size_t body = 2u << 20, n = 0;
    char *line = malloc(body * 2 + 200);
    es_comment c;

    (void)state;
    assert_non_null(line);
    n += (size_t)snprintf(line, 100,
                          "{\"id\":\"h\",\"subreddit\":\"python\","
                          "\"created_utc\":1,\"body\":\"");
    for (size_t i = 0; i < body; i++) {
        if (i % 1000 == 0) {
            memcpy(line + n, "\\n", 2);
            n += 2;
        } else {
            line[n++] = 'z';
        }
    }
    memcpy(line + n, "\"}", 3);
    n += 2;
    assert_int_equal(es_dump_comment_parse(&parser, line, n, wl, &c),
                     ES_DUMP_KEPT);
    assert_int_equal(c.body.n, body);
    assert_int_equal(c.body.s[0], '\n');
    assert_int_equal(c.body.s[1], 'z');
    free(line);
}

static int setup(void **state)
{
    const char *names[] = {"python", "golang", "bad name!"};

    (void)state;
    wl = es_watchlist_new();
    if (wl == NULL || es_watchlist_set_names(wl, names, 3) != 0) {
        return -1;
    }
    return es_watchlist_count(wl) == 2 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    es_watchlist_free(wl);
    es_dump_comment_cleanup(&parser);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rc_line_gives_every_field),
        cmocka_unit_test(test_old_pushshift_string_timestamp_and_no_permalink),
        cmocka_unit_test(test_arctic_shift_extras_are_ignored),
        cmocka_unit_test(test_escapes_in_body_and_author_are_decoded),
        cmocka_unit_test(
            test_unwatched_subreddit_is_filtered_case_insensitively),
        cmocka_unit_test(test_no_watchlist_or_all_keeps_everything),
        cmocka_unit_test(test_missing_author_and_null_score),
        cmocka_unit_test(test_malformed_lines_are_reported),
        cmocka_unit_test(test_huge_body_is_decoded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
