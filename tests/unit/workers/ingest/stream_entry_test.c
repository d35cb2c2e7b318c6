/*
 * stream_entry_test.c - a comment becomes the stream entry docs/redis-keys.md
 * describes: canonical id, lower-case subreddit, capped and repaired text,
 * three-decimal time (the hand-made path for whole seconds agrees with
 * printf everywhere), a deletion with only id, subreddit, creation time
 * (when the source gives one) and source, and bad ids or names refused
 * with the reason the log gives.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stream_entry.h"

static es_entry e;

#define SV(text) ((es_strv){(text), sizeof(text) - 1})

static es_comment base(void)
{
    es_comment c = {0};

    c.id = SV("t1_k2x9q1");
    c.subreddit = SV("Python");
    c.author = SV("alice");
    c.body = SV("Great post!");
    c.permalink = SV("/r/Python/comments/p1/x/k2x9q1/");
    c.link_id = SV("t3_p1");
    c.link_title = SV("A post");
    c.created_utc = 1732543261.25;
    c.score = -7;
    c.source = "backfill";
    return c;
}

static void assert_field(int i, const char *name, const char *value, size_t len)
{
    assert_true(i < e.nfields);
    assert_int_equal(e.f[i].name_len, strlen(name));
    assert_memory_equal(e.f[i].name, name, strlen(name));
    assert_int_equal(e.f[i].len, len);
    if (len > 0) {
        assert_memory_equal(e.f[i].value, value, len);
    }
}

#define FIELD(i, name, value) assert_field(i, name, value, strlen(value))

static void test_a_comment_has_every_field_in_order(void **state)
{
    es_comment c = base();

    (void)state;
    assert_null(es_entry_build(&e, &c));
    assert_int_equal(e.deleted, 0);
    assert_int_equal(e.nfields, 10);
    FIELD(0, "id", "k2x9q1");
    FIELD(1, "subreddit", "python");
    FIELD(2, "author", "alice");
    FIELD(3, "body", "Great post!");
    FIELD(4, "created_utc", "1732543261.250");
    FIELD(5, "permalink", "/r/Python/comments/p1/x/k2x9q1/");
    FIELD(6, "link_id", "t3_p1");
    FIELD(7, "link_title", "A post");
    FIELD(8, "score", "-7");
    FIELD(9, "source", "backfill");
    /* text that needs nothing is not copied */
    assert_ptr_equal(e.f[3].value, c.body.s);
}

static void test_a_deleted_comment_is_a_deletion_event(void **state)
{
    static const char *const bodies[] = {"[deleted]", "[removed]",
                                         "[ Removed by Reddit ]"};

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        es_comment c = base();
        c.body.s = bodies[i];
        c.body.n = strlen(bodies[i]);
        c.source = NULL;
        assert_null(es_entry_build(&e, &c));
        assert_int_equal(e.deleted, 1);
        assert_int_equal(e.nfields, 4);
        FIELD(0, "id", "k2x9q1");
        FIELD(1, "subreddit", "python");
        /* the creation time stays: enrich finds the record by its hour */
        FIELD(2, "created_utc", "1732543261.250");
        FIELD(3, "source", "reddit"); /* no source: Reddit's */
    }
}

static void test_a_deletion_keeps_its_creation_time_when_known(void **state)
{
    /* whole seconds (the hand-made path), a fraction (printf's), and the
       times a source that lacks one gives: 0 or less, NaN, infinity */
    static const struct {
        double t;
        const char *want; /* NULL: no created_utc field */
    } cases[] = {
        {1672531200.0, "1672531200.000"},
        {1.0, "1.000"},
        {1672531200.5, "1672531200.500"},
        {0.0005, "0.001"},
        {0.0, NULL},
        {-0.0, NULL},
        {-5.0, NULL},
        {NAN, NULL},
        {INFINITY, NULL},
        {-INFINITY, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        es_comment c = base();
        c.body = SV("[removed]");
        c.created_utc = cases[i].t;
        assert_null(es_entry_build(&e, &c));
        assert_int_equal(e.deleted, 1);
        FIELD(0, "id", "k2x9q1");
        FIELD(1, "subreddit", "python");
        if (cases[i].want != NULL) {
            assert_int_equal(e.nfields, 4);
            FIELD(2, "created_utc", cases[i].want);
            FIELD(3, "source", "backfill");
        } else {
            assert_int_equal(e.nfields, 3);
            FIELD(2, "source", "backfill");
        }
    }
    /* a live comment after a deletion still has every field in order */
    {
        es_comment c = base();
        assert_null(es_entry_build(&e, &c));
        assert_int_equal(e.nfields, 10);
        FIELD(4, "created_utc", "1732543261.250");
        FIELD(9, "source", "backfill");
    }
}

static void test_whole_and_fractional_times_print_as_printf(void **state)
{
    static const double times[] = {0.0,
                                   -0.0,
                                   1.0,
                                   1672531200.0,
                                   1672531200.5,
                                   1e15,
                                   1e15 + 1,
                                   9007199254740991.0,
                                   9007199254740992.0,
                                   1e300,
                                   -5.0,
                                   0.0005,
                                   1672531200.0004,
                                   123456789.9999};
    char want[64]; /* absurd times are cut, as the stream always did */

    (void)state;
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        es_comment c = base();
        c.created_utc = times[i];
        assert_null(es_entry_build(&e, &c));
        snprintf(want, sizeof(want), "%.3f", times[i]);
        FIELD(4, "created_utc", want);
    }
}

static void test_scores_at_the_extremes(void **state)
{
    static const long long scores[] = {0, 1, -1, 9223372036854775807LL,
                                       -9223372036854775807LL - 1};
    char want[32];

    (void)state;
    for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
        es_comment c = base();
        c.score = scores[i];
        assert_null(es_entry_build(&e, &c));
        snprintf(want, sizeof(want), "%lld", scores[i]);
        FIELD(8, "score", want);
    }
}

static void test_text_is_capped_at_a_character_boundary(void **state)
{
    size_t n = ES_ENTRY_BODY_MAX + 10;
    char *body = malloc(n);
    char author[100];
    es_comment c = base();

    (void)state;
    assert_non_null(body);
    /* "é" (2 bytes) repeated: the cap falls inside a character */
    for (size_t i = 0; i + 1 < n; i += 2) {
        body[i] = (char)0xc3;
        body[i + 1] = (char)0xa9;
    }
    c.body.s = body;
    c.body.n = n;
    memset(author, 'a', sizeof(author));
    author[64] = (char)0xe2; /* a 3-byte character across the 64-byte cap */
    author[65] = (char)0x82;
    author[66] = (char)0xac;
    c.author.s = author;
    c.author.n = sizeof(author);
    assert_null(es_entry_build(&e, &c));
    assert_int_equal(e.f[3].len, ES_ENTRY_BODY_MAX);
    assert_int_equal(e.f[2].len, 64);
    free(body);
}

static void
test_invalid_utf8_is_repaired_without_moving_other_fields(void **state)
{
    es_comment c = base();
    const char bad_body[] = "ok \xff\xfe end";
    const char bad_title[] = "t\xc3";

    (void)state;
    c.body.s = bad_body;
    c.body.n = sizeof(bad_body) - 1;
    c.link_title.s = bad_title;
    c.link_title.n = sizeof(bad_title) - 1;
    assert_null(es_entry_build(&e, &c));
    FIELD(3, "body", "ok \xef\xbf\xbd\xef\xbf\xbd end");
    FIELD(7, "link_title", "t\xef\xbf\xbd");
    FIELD(2, "author", "alice");
    /* a NUL byte is not valid text either */
    c = base();
    c.author.s = "a\0b";
    c.author.n = 3;
    assert_null(es_entry_build(&e, &c));
    FIELD(2, "author",
          "a\xef\xbf\xbd"
          "b");
}

static void test_missing_text_is_empty(void **state)
{
    es_comment c = base();

    (void)state;
    c.author.s = NULL;
    c.link_title = SV("");
    assert_null(es_entry_build(&e, &c));
    assert_field(2, "author", "", 0);
    assert_field(7, "link_title", "", 0);
}

static void test_bad_ids_and_names_are_refused(void **state)
{
    es_comment c = base();

    (void)state;
    c.id = SV("K2X9Q1!");
    assert_string_equal(es_entry_build(&e, &c), "invalid comment id");
    c.id.s = NULL;
    assert_string_equal(es_entry_build(&e, &c), "invalid comment id");
    c = base();
    c.subreddit = SV("no spaces");
    assert_string_equal(es_entry_build(&e, &c), "invalid subreddit name");
    c.subreddit = SV("{ingest}");
    assert_string_equal(es_entry_build(&e, &c), "invalid subreddit name");
}

static int teardown(void **state)
{
    (void)state;
    es_entry_cleanup(&e);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_comment_has_every_field_in_order),
        cmocka_unit_test(test_a_deleted_comment_is_a_deletion_event),
        cmocka_unit_test(test_a_deletion_keeps_its_creation_time_when_known),
        cmocka_unit_test(test_whole_and_fractional_times_print_as_printf),
        cmocka_unit_test(test_scores_at_the_extremes),
        cmocka_unit_test(test_text_is_capped_at_a_character_boundary),
        cmocka_unit_test(
            test_invalid_utf8_is_repaired_without_moving_other_fields),
        cmocka_unit_test(test_missing_text_is_empty),
        cmocka_unit_test(test_bad_ids_and_names_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
