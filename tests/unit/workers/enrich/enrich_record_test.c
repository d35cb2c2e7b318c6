/*
 * enrich_record_test.c - unit tests for the stored per-comment record the
 * enrich worker writes (record.c): the exact bytes of its tenant part and
 * public part, field by field in the order of the record's tables
 * (lib/es_record.h), and of a recent entry.
 *
 * Records stay in Redis for a tenant's retention, and the Redis function
 * that assembles the JSON (lib/redis/read.lua) and the worker's deletions
 * read the ones earlier versions wrote, so the text is pinned here byte
 * for byte, not only parsed back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_record.h"
#include "record.h"

#define S(lit)                                                                 \
    {                                                                          \
        lit, sizeof(lit) - 1                                                   \
    }

static void test_record_parts_are_the_documented_text(void **state)
{
    es_enrich_topic topics[3];
    es_topic_set ts;
    es_enrich_pair pairs[2] = {{0, 0, 2, 0}, {0, 0, 0, 0}};
    es_enrich_entry en;
    es_sentiment st = {0.0, 0.192, 0.808, 0.6369, ES_LABEL_POSITIVE};
    es_jsonw w = {0};

    (void)state;
    memset(topics, 0, sizeof(topics));
    memset(&ts, 0, sizeof(ts));
    strcpy(topics[0].id, "perf");
    strcpy(topics[2].id, "rust");
    ts.topics = topics;
    ts.ntopics = 3;
    memset(&en, 0, sizeof(en));
    strcpy(en.id, "k2x9q1");
    strcpy(en.subreddit, "rust");
    en.author = (es_strv)S("alice");
    en.body = (es_strv)S("say \"hi\"\n");
    en.permalink = (es_strv)S("/r/rust/comments/p1/x/k2x9q1/");
    en.link_title = (es_strv)S("");
    en.score = (es_strv)S("7");
    en.created_ms = 1732543261000LL;
    es_enrich_entry_set_time(&en, en.created_ms);

    es_record_tenant(&w, &ts, &en, &st, "vader", 6369, pairs, 0, 2);
    assert_false(w.oom);
    /* topics, engine, 61,000 ms into 14:00 in base 36: VADER's sentiment
       is the public part's */
    assert_string_equal(w.buf, "rust,perf\x1fv\x1f"
                               "1b2g");
    assert_int_equal((int)w.len, (int)strlen(w.buf));

    es_record_public(&w, &en, &st);
    assert_false(w.oom);
    /* the link of the comment's own post and slug is kept as "~p1/x"; no
       title, an empty field; compound equal to cs, an empty field */
    assert_string_equal(w.buf, "rust\x1f"
                               "alice\x1f"
                               "7\x1f\x1f~p1/x\x1fp\x1f"
                               "6369\x1f\x1f"
                               "0\x1f"
                               "1920\x1f"
                               "8080\x1f"
                               "say \\\"hi\\\"\\n");

    /* Comprehend's sentiment is the tenant's own, compound shown apart */
    en.author = (es_strv){NULL, 0};
    en.link_title = (es_strv)S("A post");
    en.permalink = (es_strv)S("/r/Rust/comments/p1/x/k2x9q1/");
    es_record_tenant(&w, &ts, &en, &st, "comprehend", -1, pairs, 1, 2);
    assert_string_equal(w.buf, "perf\x1f"
                               "c\x1f"
                               "1b2g\x1fp\x1f-1\x1f"
                               "6369\x1f"
                               "0\x1f"
                               "1920\x1f"
                               "8080");
    es_record_public(&w, &en, &st);
    assert_string_equal(w.buf, "rust\x1f\x1f"
                               "7\x1f#80c3aa614c8e\x1f"
                               "/r/Rust/comments/p1/x/k2x9q1/\x1fp\x1f"
                               "6369\x1f\x1f"
                               "0\x1f"
                               "1920\x1f"
                               "8080\x1f"
                               "say \\\"hi\\\"\\n");
    es_jsonw_free(&w);
}

/* A recent entry: id, label letter, ms into the hour in base 36. */
static void test_recent_entry(void **state)
{
    char buf[ES_RECORD_ENTRY_MAX];

    (void)state;
    /* 1732543261000 is 14:01:01.000, 61,000 ms into its hour: "1b2g" */
    assert_int_equal((int)es_record_recent_entry(
                         buf, "k2x9q1", ES_LABEL_NEGATIVE, 1732543261000LL),
                     (int)strlen("k2x9q1:n1b2g;"));
    assert_string_equal(buf, "k2x9q1:n1b2g;");
    es_record_recent_entry(buf, "a", ES_LABEL_MIXED, 1732543200000LL);
    assert_string_equal(buf, "a:m0;");
    es_record_recent_entry(buf, "a", ES_LABEL_NEUTRAL, 1732546799999LL);
    assert_string_equal(buf, "a:u255rz;");
}

/* The table is the record's member order, and every name is distinct. */
static void test_record_table_names_members_once(void **state)
{
    (void)state;
    assert_string_equal(ES_REC(ID), "id");
    assert_string_equal(ES_REC(SCORE), "score");
    assert_string_equal(ES_REC(DELETED), "deleted");
    for (int i = 0; i < ES_REC_COUNT; i++) {
        for (int j = i + 1; j < ES_REC_COUNT; j++) {
            assert_string_not_equal(es_record_member((es_rec_member)i),
                                    es_record_member((es_rec_member)j));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_parts_are_the_documented_text),
        cmocka_unit_test(test_recent_entry),
        cmocka_unit_test(test_record_table_names_members_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
