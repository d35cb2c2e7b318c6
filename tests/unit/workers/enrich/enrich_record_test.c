/*
 * enrich_record_test.c - unit tests for the per-comment record the enrich
 * worker writes (record.c): its exact bytes, member by member in the order
 * of the record table (lib/es_record.h).
 *
 * Records stay in Redis for a tenant's retention, and the module, the
 * worker's deletions and the Redis functions read the ones earlier
 * versions wrote, so the text is pinned here byte for byte, not only
 * parsed back.
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

static void test_record_json_is_the_documented_text(void **state)
{
    es_enrich_topic topics[3];
    es_topic_set ts;
    es_enrich_pair pairs[2] = {{0, 0, 2, 0}, {0, 0, 0, 0}};
    es_enrich_entry en;
    es_sentiment st = {0.0, 0.192, 0.808, 0.6369, ES_LABEL_POSITIVE};
    es_terms tm;
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
    memset(&tm, 0, sizeof(tm));
    tm.term[0] = "borrow";
    tm.len[0] = 6;
    tm.term[1] = "checker";
    tm.len[1] = 7;
    tm.n = 2;

    es_record_json(&w, &ts, &en, &st, "vader", 6369, &tm, pairs, 0, 2);
    assert_false(w.oom);
    assert_string_equal(
        w.buf,
        "{\"id\":\"k2x9q1\",\"topics\":[\"rust\",\"perf\"],"
        "\"label\":\"positive\",\"compound\":0.6369,\"neg\":0.0000,"
        "\"neu\":0.1920,\"pos\":0.8080,\"cs\":6369,\"engine\":\"vader\","
        "\"created\":1732543261000,\"t\":\"202411251401\","
        "\"month\":1730419200,\"terms\":[\"borrow\",\"checker\"],"
        "\"subreddit\":\"rust\",\"author\":\"alice\","
        "\"body\":\"say \\\"hi\\\"\\n\","
        "\"permalink\":\"/r/rust/comments/p1/x/k2x9q1/\",\"link_title\":\"\","
        "\"score\":\"7\"}");
    assert_int_equal((int)w.len, (int)strlen(w.buf));

    /* no terms, a missing text: empty array, empty string */
    tm.n = 0;
    en.author = (es_strv){NULL, 0};
    es_record_json(&w, &ts, &en, &st, "comprehend", -1, &tm, pairs, 1, 2);
    assert_non_null(strstr(w.buf, "\"topics\":[\"perf\"],"));
    assert_non_null(strstr(w.buf, "\"cs\":-1,\"engine\":\"comprehend\","));
    assert_non_null(strstr(w.buf, "\"terms\":[],"));
    assert_non_null(strstr(w.buf, "\"author\":\"\","));
    es_jsonw_free(&w);
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
        cmocka_unit_test(test_record_json_is_the_documented_text),
        cmocka_unit_test(test_record_table_names_members_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
