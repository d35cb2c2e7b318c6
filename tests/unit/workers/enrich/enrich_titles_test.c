/*
 * enrich_titles_test.c - unit tests for the post titles of a batch's
 * public call (titles.c): each distinct hour and title is sent once, with
 * the latest expiry any of its comments needs, and its text JSON-escaped
 * (without quotes, as the hour's table holds it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "titles.h"

static void setup_entry(es_enrich_entry *en, const char *title)
{
    memset(en, 0, sizeof(*en));
    en->link_title = (es_strv){title, strlen(title)};
}

/* The arguments of b as strings (b finished). */
static void arg(const es_argbuf *b, size_t i, char *out, size_t size)
{
    size_t n = b->lens[i] < size - 1 ? b->lens[i] : size - 1;
    memcpy(out, b->argv[i], n);
    out[n] = '\0';
}

static void test_each_title_once_with_the_latest_expiry(void **state)
{
    es_enrich_entry en[5];
    es_titles t = {0};
    es_argbuf b;
    es_jsonw json = {0};
    char ref[ES_RECORD_TITLE_REF_MAX], buf[256];
    int seen_a = 0, seen_b = 0, seen_a_later = 0;

    (void)state;
    setup_entry(&en[0], "A \"quoted\" thread");
    setup_entry(&en[1], "Another thread");
    setup_entry(&en[2], "A \"quoted\" thread");
    setup_entry(&en[3], "A \"quoted\" thread");
    setup_entry(&en[4], "A \"quoted\" thread");
    es_argbuf_init(&b);
    assert_int_equal(es_titles_add(&t, "2026120514", en, 0, 100), 0);
    assert_int_equal(es_titles_add(&t, "2026120514", en, 1, 100), 0);
    assert_int_equal(es_titles_add(&t, "2026120514", en, 2, 300), 0);
    assert_int_equal(es_titles_add(&t, "2026120514", en, 3, 200), 0);
    /* the same title in another hour is another operation */
    assert_int_equal(es_titles_add(&t, "2026120515", en, 4, 50), 0);
    es_titles_emit(&t, &b, en, &json);
    assert_int_equal(t.n, 0);
    assert_int_equal(es_argbuf_finish(&b), 0);
    assert_int_equal((int)b.n, 3 * 5);
    for (size_t i = 0; i < b.n; i += 5) {
        arg(&b, i, buf, sizeof(buf));
        assert_string_equal(buf, "T");
        arg(&b, i + 3, buf, sizeof(buf));
        if (strcmp(buf, (es_record_title_ref(&en[1], ref), ref)) == 0) {
            seen_b++;
            arg(&b, i + 2, buf, sizeof(buf));
            assert_string_equal(buf, "100");
            arg(&b, i + 4, buf, sizeof(buf));
            assert_string_equal(buf, "Another thread");
            continue;
        }
        assert_string_equal(buf, (es_record_title_ref(&en[0], ref), ref));
        arg(&b, i + 4, buf, sizeof(buf));
        assert_string_equal(buf, "A \\\"quoted\\\" thread");
        arg(&b, i + 1, buf, sizeof(buf));
        if (strcmp(buf, "2026120514") == 0) {
            seen_a++;
            arg(&b, i + 2, buf, sizeof(buf));
            assert_string_equal(buf, "300");
        } else {
            assert_string_equal(buf, "2026120515");
            seen_a_later++;
            arg(&b, i + 2, buf, sizeof(buf));
            assert_string_equal(buf, "50");
        }
    }
    assert_int_equal(seen_a, 1);
    assert_int_equal(seen_b, 1);
    assert_int_equal(seen_a_later, 1);
    /* nothing collected: nothing sent */
    es_argbuf_reset(&b);
    es_titles_emit(&t, &b, en, &json);
    assert_int_equal((int)b.n, 0);
    es_titles_free(&t);
    es_argbuf_free(&b);
    es_jsonw_free(&json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_title_once_with_the_latest_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
