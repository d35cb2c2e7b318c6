/*
 * enrich_units_test.c - unit tests for the pure parts of the enrich worker:
 * entry parsing and time buckets (entry.c), trending terms (terms.c), the
 * Comprehend cost split (score.c), argument vectors (argbuf.c), the raw
 * archive writer (archive.c) and the summed write plan (wplan.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "archive.h"
#include "argbuf.h"
#include "entry.h"
#include "score.h"
#include "es_terms.h"
#include "wplan.h"

/* A fake XREADGROUP entry [id, [f, v, …]] built on the stack. */
typedef struct {
    redisReply top, id, fields;
    redisReply *top_el[2];
    redisReply fv[32];
    redisReply *fv_el[32];
} fake_entry;

static void str_reply(redisReply *r, const char *s)
{
    memset(r, 0, sizeof(*r));
    r->type = REDIS_REPLY_STRING;
    r->str = (char *)s;
    r->len = strlen(s);
}

static const redisReply *fake(fake_entry *f, const char *id,
                              const char *const *kv, size_t n)
{
    memset(f, 0, sizeof(*f));
    str_reply(&f->id, id);
    for (size_t i = 0; i < n; i++) {
        str_reply(&f->fv[i], kv[i]);
        f->fv_el[i] = &f->fv[i];
    }
    f->fields.type = REDIS_REPLY_ARRAY;
    f->fields.elements = n;
    f->fields.element = f->fv_el;
    f->top_el[0] = &f->id;
    f->top_el[1] = &f->fields;
    f->top.type = REDIS_REPLY_ARRAY;
    f->top.elements = 2;
    f->top.element = f->top_el;
    return &f->top;
}

static void test_entry_parse_derives_utc_buckets(void **state)
{
    const char *kv[] = {"type",      "comment", "id",          "t1_abc9",
                        "subreddit", "Rust",    "author",      "alice",
                        "body",      "hello",   "created_utc", "1732543261.5",
                        "score",     "7"};
    fake_entry f;
    es_enrich_entry e;
    char err[200];

    (void)state;
    assert_int_equal(
        es_enrich_entry_parse(fake(&f, "5-0", kv, 14), &e, err, sizeof(err)),
        0);
    assert_string_equal(e.id, "abc9");
    assert_string_equal(e.subreddit, "rust");
    assert_int_equal(e.created_ms, 1732543261500LL);
    /* 2024-11-25 14:01:01 UTC */
    assert_string_equal(e.t, "202411251401");
    assert_string_equal(e.day, "2024-11-25");
    assert_string_equal(e.hour, "14");
    assert_int_equal(e.month_start, 1730419200LL); /* 2024-11-01 */
    assert_int_equal((int)e.body.n, 5);
    assert_false(e.is_delete);
}

static void test_entry_parse_rejects_bad_entries_with_a_reason(void **state)
{
    const char *noid[] = {"type", "comment",     "subreddit",
                          "rust", "created_utc", "1"};
    const char *badid[] = {"type",      "comment", "id",          "x!y",
                           "subreddit", "rust",    "created_utc", "1"};
    const char *nocreated[] = {"type", "comment",   "id",
                               "abc",  "subreddit", "rust"};
    const char *badtype[] = {"type", "edit", "id", "abc", "subreddit", "rust"};
    const char *del[] = {"type", "delete", "id", "abc", "subreddit", "rust"};
    fake_entry f;
    es_enrich_entry e;
    char err[200];

    (void)state;
    assert_int_equal(
        es_enrich_entry_parse(fake(&f, "1-0", noid, 6), &e, err, 200), -1);
    assert_non_null(strstr(err, "comment id"));
    assert_int_equal(
        es_enrich_entry_parse(fake(&f, "1-0", badid, 8), &e, err, 200), -1);
    assert_int_equal(
        es_enrich_entry_parse(fake(&f, "1-0", nocreated, 6), &e, err, 200), -1);
    assert_non_null(strstr(err, "created_utc"));
    assert_int_equal(
        es_enrich_entry_parse(fake(&f, "1-0", badtype, 6), &e, err, 200), -1);
    assert_non_null(strstr(err, "type"));
    /* a deletion needs no created_utc: its stream id dates it */
    assert_int_equal(es_enrich_entry_parse(fake(&f, "1732543261000-0", del, 6),
                                           &e, err, 200),
                     0);
    assert_true(e.is_delete);
    assert_string_equal(e.hour, "14");
}

static int has_term(const es_terms *t, const char *w)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->term[i], w) == 0) {
            return 1;
        }
    }
    return 0;
}

static void test_terms_drop_stop_words_short_words_and_repeats(void **state)
{
    const char *text = "The Borrow checker is GREAT, the borrow checker! "
                       "I don't like 2024 at all; Café rocks.";
    es_terms_scratch sc = {0};
    es_terms t;

    (void)state;
    es_terms_extract(text, strlen(text), &sc, &t);
    assert_true(has_term(&t, "borrow"));
    assert_true(has_term(&t, "checker"));
    assert_true(has_term(&t, "great"));
    assert_true(has_term(&t, "cafe"));
    assert_true(has_term(&t, "rocks"));
    assert_false(has_term(&t, "the"));
    assert_false(has_term(&t, "don"));
    assert_false(has_term(&t, "like"));
    assert_false(has_term(&t, "2024"));
    assert_false(has_term(&t, "is"));
    assert_int_equal((int)t.n, 5); /* each once */
    es_terms_scratch_free(&sc);
}

static void test_terms_are_bounded_per_comment(void **state)
{
    char text[8000];
    size_t n = 0;
    es_terms_scratch sc = {0};
    es_terms t;

    (void)state;
    for (int i = 0; i < 500; i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "word%c%c ",
                              'a' + i % 26, 'a' + i / 26);
    }
    es_terms_extract(text, n, &sc, &t);
    assert_int_equal((int)t.n, ES_TERMS_MAX);
    es_terms_scratch_free(&sc);
}

static void test_cost_split_adds_up_to_the_bill(void **state)
{
    (void)state;
    for (long long total = 0; total < 50; total++) {
        for (size_t k = 1; k < 7; k++) {
            long long sum = 0, lo = total, hi = 0;
            for (size_t i = 0; i < k; i++) {
                long long s;
                es_split_cost(total, k, i, &s);
                sum += s;
                lo = s < lo ? s : lo;
                hi = s > hi ? s : hi;
            }
            assert_int_equal(sum, total);
            assert_true(hi - lo <= 1);
        }
    }
}

static void test_argbuf_resolves_copies_after_growth(void **state)
{
    es_argbuf b;
    const char *keep = "borrowed";

    (void)state;
    es_argbuf_init(&b);
    es_argbuf_ref(&b, keep, strlen(keep));
    for (int i = 0; i < 5000; i++) {
        es_argbuf_int(&b, i);
    }
    es_argbuf_str(&b, "tail");
    es_argbuf_set_int(&b, 1, -42);
    assert_int_equal(es_argbuf_finish(&b), 0);
    assert_ptr_equal(b.argv[0], keep);
    assert_memory_equal(b.argv[1], "-42", 3);
    assert_int_equal((int)b.lens[1], 3);
    assert_memory_equal(b.argv[4000], "3999", 4);
    assert_memory_equal(b.argv[5001], "tail", 4);
    es_argbuf_free(&b);
}

static char *slurp_zst(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char zbuf[65536];
    size_t zn;
    unsigned long long size;
    char *out;

    if (f == NULL) {
        return NULL;
    }
    zn = fread(zbuf, 1, sizeof(zbuf), f);
    fclose(f);
    size = ZSTD_getFrameContentSize(zbuf, zn);
    out = malloc(size + 1);
    *n = ZSTD_decompress(out, size, zbuf, zn);
    out[*n] = '\0';
    return out;
}

static void test_archive_writes_hour_files_named_by_batch(void **state)
{
    char dir[] = "/tmp/es-archive-test-XXXXXX", path[512], cmd[600];
    const char *a[] = {
        "type",        "comment",   "id",   "a1",
        "subreddit",   "rust",      "body", "say \"hi\"\n\x01 caf\xc3\xa9 \xff",
        "created_utc", "1732543261"};
    const char *b[] = {"type", "comment", "id", "a2",          "subreddit",
                       "rust", "body",    "x",  "created_utc", "1732546861"};
    fake_entry fa, fb;
    es_enrich_entry e[2];
    es_archive ar;
    char err[100], *text;
    size_t n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(es_enrich_entry_parse(fake(&fa, "10-0", a, 10), &e[0], err,
                                           sizeof(err)),
                     0);
    assert_int_equal(es_enrich_entry_parse(fake(&fb, "11-0", b, 10), &e[1], err,
                                           sizeof(err)),
                     0);
    assert_int_equal(es_archive_init(&ar, dir, NULL), 0);
    assert_int_equal(es_archive_write(&ar, e, 2, "10-0", "11-0"), 0);
    /* the same batch again overwrites rather than adding a copy */
    assert_int_equal(es_archive_write(&ar, e, 2, "10-0", "11-0"), 0);
    snprintf(path, sizeof(path),
             "%s/source=reddit/dt=2024-11-25/hour=14/10-0_11-0.jsonl.zst", dir);
    text = slurp_zst(path, &n);
    assert_non_null(text);
    assert_string_equal(text,
                        "{\"stream_id\":\"10-0\",\"type\":\"comment\","
                        "\"id\":\"a1\",\"subreddit\":\"rust\",\"body\":"
                        "\"say \\\"hi\\\"\\n\\u0001 caf\xc3\xa9 \xef\xbf\xbd\","
                        "\"created_utc\":\"1732543261\"}\n");
    free(text);
    snprintf(path, sizeof(path),
             "%s/source=reddit/dt=2024-11-25/hour=15/10-0_11-0.jsonl.zst", dir);
    assert_int_equal(access(path, R_OK), 0);
    assert_int_equal((int)ar.files, 4);
    es_archive_cleanup(&ar);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_wplan_sums_per_field_and_numbers_in_send_order(void **state)
{
    es_wplan p;
    char f[32];
    int fresh;
    long a, b, r, s1, s2;

    (void)state;
    es_wplan_init(&p);
    a = es_wplan_key(&p, 'h', "ts:a:m:2024112514", 18, 100, &fresh);
    assert_int_equal(fresh, 1);
    b = es_wplan_key(&p, 'z', "terms:a:2024112514", 18, 200, &fresh);
    r = es_wplan_key(&p, 'a', "rc:a:2024112514", 15, 300, &fresh);
    assert_int_equal(
        es_wplan_key(&p, 'h', "ts:a:m:2024112514", 18, 100, &fresh), a);
    assert_int_equal(fresh, 0);
    /* enough distinct fields to grow both tables and the arena */
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(f, sizeof(f), "term%d", i % 2500);
        assert_true(es_wplan_add(&p, b, f, (size_t)n, 1) >= 0);
    }
    s1 = es_wplan_add(&p, a, "01:cs", 5, 5000);
    s2 = es_wplan_add(&p, a, "01:cs", 5, -1200);
    assert_int_equal(s1, s2);
    assert_int_equal(p.slots[s1].v, 3800);
    /* a recent entry is a slot like any other */
    s1 = es_wplan_add(&p, r, "k2x9q1:p1b2g;", 13, 1);
    s2 = es_wplan_add(&p, r, "k2x9q1:p1b2g;", 13, 1);
    assert_int_equal(s1, s2);
    assert_int_equal(p.slots[s1].v, 2);
    assert_int_equal((int)p.keys[b].n, 2500);
    assert_int_equal(p.slots[es_wplan_add(&p, b, "term7", 5, 0)].v, 2);
    /* markers ('x') are never sent; positions follow keys, then slots */
    es_wplan_key(&p, 'x', "x:k2x9q1", 8, 0, &fresh);
    es_wplan_number(&p, 0);
    assert_int_equal((int)p.slots[es_wplan_add(&p, a, "01:cs", 5, 0)].pos, 1);
    assert_int_equal((int)p.slots[es_wplan_add(&p, b, "term0", 5, 0)].pos, 2);
    assert_int_equal((int)p.slots[s1].pos, 2502);
    es_wplan_reset(&p);
    assert_int_equal(es_wplan_key(&p, 'h', "sov:20241125", 12, 1, &fresh), 0);
    assert_int_equal(fresh, 1);
    es_wplan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_parse_derives_utc_buckets),
        cmocka_unit_test(test_entry_parse_rejects_bad_entries_with_a_reason),
        cmocka_unit_test(test_terms_drop_stop_words_short_words_and_repeats),
        cmocka_unit_test(test_terms_are_bounded_per_comment),
        cmocka_unit_test(test_cost_split_adds_up_to_the_bill),
        cmocka_unit_test(test_argbuf_resolves_copies_after_growth),
        cmocka_unit_test(test_archive_writes_hour_files_named_by_batch),
        cmocka_unit_test(test_wplan_sums_per_field_and_numbers_in_send_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
