/*
 * reddit_listing_test.c - unit tests for workers/ingest/reddit_listing.c.
 *
 * The fixtures are written here in Reddit's Listing shape (field names and
 * types as the API sends them); the texts are made up. When the recorded
 * API traffic of ../shared/data/reddit-api-recordings is present (a
 * development checkout), every recorded listing is parsed too; without it
 * that test is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "reddit_listing.h"

#define CHILD(id, sub, body, created)                                          \
    "{\"kind\":\"t1\",\"data\":{\"id\":\"" id "\",\"name\":\"t1_" id           \
    "\",\"subreddit\":\"" sub "\",\"subreddit_id\":\"t5_2qh1i\","              \
    "\"author\":\"someone\",\"author_fullname\":\"t2_abc\",\"body\":\"" body   \
    "\",\"body_html\":\"&lt;div&gt;\",\"created\":" created                    \
    ",\"created_utc\":" created ",\"permalink\":\"/r/" sub                     \
    "/comments/x1/a_title/" id "/\",\"score\":7,\"ups\":7,\"downs\":0,"        \
    "\"link_id\":\"t3_x1\",\"parent_id\":\"t3_x1\",\"link_title\":\"A "        \
    "title\",\"edited\":false,\"replies\":\"\",\"archived\":false}}"

static int parse(es_listing *l, const char *s)
{
    char err[200];
    return es_listing_parse(l, s, strlen(s), err, sizeof(err));
}

static int eq(es_strv v, const char *s)
{
    return v.n == strlen(s) && memcmp(v.s, s, v.n) == 0;
}

static void test_listing_yields_comments_newest_first(void **state)
{
    const char *doc =
        "{\"kind\":\"Listing\",\"data\":{\"modhash\":\"\","
        "\"dist\":2,\"geo_filter\":null,\"children\":[" CHILD(
            "k3v0jp3", "AskReddit", "second",
            "1700000001.5") "," CHILD("k3v0jp2", "AskReddit", "first",
                                      "1700000000.0") "],\"after\":\"t1_"
                                                      "k3v0jp2\",\"before\":"
                                                      "null}}";
    es_listing l;
    char name[32];

    (void)state;
    assert_int_equal(parse(&l, doc), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.skipped, 0);
    assert_int_equal(l.repaired, 0);
    assert_true(eq(l.items[0].id, "k3v0jp3"));
    assert_true(eq(l.items[0].subreddit, "AskReddit"));
    assert_true(eq(l.items[0].body, "second"));
    assert_true(eq(l.items[0].author, "someone"));
    assert_true(eq(l.items[0].link_id, "t3_x1"));
    assert_true(eq(l.items[0].link_title, "A title"));
    assert_true(
        eq(l.items[0].permalink, "/r/AskReddit/comments/x1/a_title/k3v0jp3/"));
    assert_true(l.items[0].created_utc > 1700000001.4 &&
                l.items[0].created_utc < 1700000001.6);
    assert_int_equal(l.items[0].score, 7);
    assert_string_equal(l.items[0].source, "reddit");
    assert_true(l.nums[0] == l.nums[1] + 1);
    assert_string_equal(l.after, "t1_k3v0jp2");
    assert_string_equal(l.before, "");
    es_listing_name(&l, 1, name, sizeof(name));
    assert_string_equal(name, "t1_k3v0jp2");
    es_listing_free(&l);
}

static void test_broken_documents_fail_with_a_reason(void **state)
{
    static const char *const bad[] = {
        "",
        "{\"kind\":\"Listing\",\"data\":{\"children\":[{\"kind\":\"t1\"",
        "<html>too many requests</html>",
        "{\"kind\":\"t1\",\"data\":{\"children\":[]}}",
        "{\"kind\":\"Listing\",\"data\":{\"after\":null}}",
        "{\"kind\":\"Listing\",\"data\":[]}",
        "[1,2,3]",
        "{\"kind\":\"Listing\",\"data\":{\"children\":[\"\\ud800\"]}}",
        NULL,
    };

    (void)state;
    for (const char *const *p = bad; *p; p++) {
        es_listing l;
        char err[200] = "";
        assert_int_equal(es_listing_parse(&l, *p, strlen(*p), err, sizeof(err)),
                         -1);
        assert_true(err[0] != '\0');
        assert_null(l.root);
        assert_int_equal(l.n, 0);
        es_listing_free(&l);
    }
}

static void test_unusable_children_are_skipped(void **state)
{
    const char *doc =
        "{\"kind\":\"Listing\",\"data\":{\"children\":["
        "{\"kind\":\"t3\",\"data\":{\"id\":\"abc\",\"subreddit\":\"x1\"}},"
        "{\"kind\":\"t1\",\"data\":{\"subreddit\":\"x1\"}},"
        "{\"kind\":\"t1\",\"data\":{\"id\":\"ABC\",\"subreddit\":\"x1\"}},"
        "{\"kind\":\"t1\",\"data\":{\"id\":\"abc\"}},"
        "{\"kind\":\"t1\",\"data\":\"nope\"},"
        "{\"kind\":\"more\",\"data\":{\"count\":3}},"
        "42,"
        "{\"kind\":\"t1\",\"data\":{\"id\":\"abd\",\"subreddit\":\"x1\","
        "\"created_utc\":1700000000}}"
        "],\"after\":null,\"before\":\"t1_abd\"}}";
    es_listing l;

    (void)state;
    assert_int_equal(parse(&l, doc), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.skipped, 7);
    assert_true(eq(l.items[0].id, "abd"));
    /* missing optional fields read as empty, integer time is accepted */
    assert_true(eq(l.items[0].body, ""));
    assert_true(eq(l.items[0].author, ""));
    assert_true(eq(l.items[0].link_title, ""));
    assert_int_equal(l.items[0].score, 0);
    assert_true(l.items[0].created_utc == 1700000000.0);
    assert_string_equal(l.before, "t1_abd");
    es_listing_free(&l);
}

static void test_invalid_utf8_is_replaced_not_fatal(void **state)
{
    const char *doc = "{\"kind\":\"Listing\",\"data\":{\"children\":["
                      "{\"kind\":\"t1\",\"data\":{\"id\":\"a1\","
                      "\"subreddit\":\"x1\",\"body\":\"ok \xff\xc3 end\"}},"
                      "{\"kind\":\"t1\",\"data\":{\"id\":\"a0\","
                      "\"subreddit\":\"x1\",\"body\":\"fine\"}}"
                      "],\"after\":null,\"before\":null}}";
    es_listing l;

    (void)state;
    assert_int_equal(parse(&l, doc), 0);
    assert_int_equal(l.repaired, 1);
    assert_int_equal(l.n, 2);
    assert_non_null(strstr(l.items[0].body.s, "\xef\xbf\xbd"));
    assert_non_null(strstr(l.items[0].body.s, " end"));
    assert_true(eq(l.items[1].body, "fine"));
    es_listing_free(&l);
}

static void test_empty_listing_has_no_items(void **state)
{
    const char *doc = "{\"kind\": \"Listing\", \"data\": {\"modhash\": \"\","
                      " \"children\": [], \"after\": null, \"before\": "
                      "null}}";
    es_listing l;

    (void)state;
    assert_int_equal(parse(&l, doc), 0);
    assert_int_equal(l.n, 0);
    assert_string_equal(l.after, "");
    assert_string_equal(l.before, "");
    es_listing_free(&l);
}

/* Every recorded /comments listing parses with no child lost. */
static void test_recorded_reddit_listings_parse(void **state)
{
    static const char *const files[] = {
        "TestSubredditListings.test_comments.json",
        "TestSubredditStreams.test_comments.json",
        "TestSubredditStreams.test_comments__with_continue_after_id.json",
        NULL,
    };
    const char *dir = "../shared/data/reddit-api-recordings";
    int checked = 0;

    (void)state;
    for (const char *const *f = files; *f; f++) {
        char path[512];
        json_t *cassette, *inter;
        size_t i;
        json_t *it;

        snprintf(path, sizeof(path), "%s/%s", dir, *f);
        cassette = json_load_file(path, 0, NULL);
        if (cassette == NULL) {
            continue;
        }
        inter = json_object_get(cassette, "interactions");
        json_array_foreach(inter, i, it)
        {
            json_t *body = json_object_get(
                json_object_get(json_object_get(it, "response"), "body"),
                "string");
            const char *uri = json_string_value(
                json_object_get(json_object_get(it, "request"), "uri"));
            json_t *doc;
            es_listing l;
            char err[200];
            size_t children;

            if (uri == NULL || strstr(uri, "/comments") == NULL ||
                !json_is_string(body)) {
                continue;
            }
            doc = json_loads(json_string_value(body), 0, NULL);
            children = json_array_size(
                json_object_get(json_object_get(doc, "data"), "children"));
            json_decref(doc);
            assert_int_equal(es_listing_parse(&l, json_string_value(body),
                                              json_string_length(body), err,
                                              sizeof(err)),
                             0);
            assert_int_equal(l.n, children);
            /* Reddit orders by arrival: ids are only nearly sorted */
            for (size_t k = 0; k < l.n; k++) {
                assert_true(l.nums[k] > 0);
                assert_true(l.items[k].created_utc > 1e9);
            }
            es_listing_free(&l);
            checked++;
        }
        json_decref(cassette);
    }
    if (checked == 0) {
        skip();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listing_yields_comments_newest_first),
        cmocka_unit_test(test_broken_documents_fail_with_a_reason),
        cmocka_unit_test(test_unusable_children_are_skipped),
        cmocka_unit_test(test_invalid_utf8_is_replaced_not_fatal),
        cmocka_unit_test(test_empty_listing_has_no_items),
        cmocka_unit_test(test_recorded_reddit_listings_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
