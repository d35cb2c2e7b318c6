/*
 * es_vader_table_test.c - the machinery under the VADER rules: the perfect
 * hash of the word table, the two-level Unicode case table, and the
 * tokenizer's reads of 16 bytes at a time near the end of a text. The
 * rules themselves are in es_vader_test.c; these tests hold the fast
 * structures to the simple ones they replace (a bisection of the generated
 * case lists, a lexicon line by line, a text copied with room after it),
 * so they can fail only where the fast path goes wrong.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "es_vader_int.h"
#include "es_vader_ucd.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* A fresh temporary file name (the file exists, empty). */
static void temp_path(char *path)
{
    int fd;

    strcpy(path, "/tmp/es_vader_table_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
}

/* NLTK's compound of one lexicon word of valence v alone in a text. */
static double compound_of(double v)
{
    es_sentiment s = {0, 0, 0, v / sqrt(v * v + 15), ES_LABEL_NEUTRAL};

    return es_sentiment_nltk_round(&s).compound;
}

/* The i-th generated key: lengths 2 to 41, some over 16 bytes, letters. */
static void key_of(unsigned i, char *out)
{
    unsigned len = 2 + (i * 7) % 40, x = i * 2654435761u;

    for (unsigned j = 0; j < len; j++) {
        out[j] = (char)('a' + (x >> (j % 24)) % 26);
        x = x * 1103515245u + 12345u + j;
    }
    snprintf(out + len, 16, "%u", i); /* makes every key distinct */
}

static void test_perfect_hash_finds_every_key_and_nothing_else(void **state)
{
    char path[64], err[256], key[64];
    unsigned nkeys[] = {1, 100, 20000};
    es_vader *v;

    (void)state;
    temp_path(path);
    for (size_t r = 0; r < sizeof(nkeys) / sizeof(nkeys[0]); r++) {
        size_t cap = (size_t)nkeys[r] * 80 + 64, len = 0;
        char *text = malloc(cap);

        assert_non_null(text);
        for (unsigned i = 0; i < nkeys[r]; i++) {
            key_of(i, key);
            len += (size_t)snprintf(text + len, cap - len, "%s\t%.1f\t0\t[]\n",
                                    key, (double)(i % 7) - 3.0 + 0.5);
        }
        write_file(path, text);
        v = es_vader_load(path, err, sizeof(err));
        assert_non_null(v);
        for (unsigned i = 0; i < nkeys[r]; i++) {
            double val = (double)(i % 7) - 3.0 + 0.5;
            es_sentiment s;
            size_t n;

            key_of(i, key);
            n = strlen(key);
            s = es_vader_score(v, key, n);
            if (s.compound != compound_of(val)) {
                fail_msg("key %u %s: compound %.4f, want %.4f", i, key,
                         s.compound, compound_of(val));
            }
            /* the same key with its last byte changed is no word */
            key[n - 1] = key[n - 1] == 'z' ? 'y' : 'z';
            s = es_vader_score(v, key, n);
            assert_true(s.compound == 0.0 && s.neu == 1.0);
            /* upper case finds the lower-case key */
            key_of(i, key);
            for (size_t j = 0; j < n; j++) {
                key[j] = (char)(key[j] >= 'a' && key[j] <= 'z' ? key[j] - 32
                                                               : key[j]);
            }
            s = es_vader_score(v, key, n);
            assert_true(s.compound == compound_of(val));
        }
        es_vader_free(v);
        free(text);
    }
    unlink(path);
}

static void test_non_ascii_and_repeated_keys(void **state)
{
    char path[64], err[256];
    es_vader *v;

    (void)state;
    temp_path(path);
    /* a later line replaces an earlier one; keys may be any UTF-8 */
    write_file(path, "caf\xc3\xa9\t2.0\n"
                     "\xce\xb1\xce\xb2\t-2.0\n"
                     "caf\xc3\xa9\t1.0\n"
                     ":\xc3\x9e\t1.1\n");
    v = es_vader_load(path, err, sizeof(err));
    assert_non_null(v);
    assert_true(es_vader_score(v, "caf\xc3\xa9", 5).compound ==
                compound_of(1.0));
    /* CAFÉ lower-cases to the key: ALL CAPS alone adds nothing */
    assert_true(es_vader_score(v, "CAF\xc3\x89", 5).compound ==
                compound_of(1.0));
    /* ΑΒ -> αβ */
    assert_true(es_vader_score(v, "\xce\x91\xce\x92", 4).compound ==
                compound_of(-2.0));
    /* ":Þ" is a key as written, but the token lower-cases to ":þ" */
    assert_true(es_vader_score(v, ":\xc3\x9e", 3).compound == 0.0);
    es_vader_free(v);
    unlink(path);
}

/*
 * A key as long as the longest, whose last character is not ASCII: the
 * token is lower-cased whole before it is cut to the longest key, so the
 * key is found (NLTK finds it; lower-casing that reserved 4 bytes for each
 * character gave up before the last one). With punctuation to strip too.
 */
static void test_longest_key_ending_in_non_ascii(void **state)
{
    char path[64], err[256];
    es_vader *v;

    (void)state;
    temp_path(path);
    /* 18 letters and an e-acute: 20 bytes, the longest key */
    write_file(path, "aaaaaaaaaaaaaaaaaa\xc3\xa9\t2.5\n"
                     "bbbbbbbbbbbbbbbbbbbb\t-1.0\n");
    v = es_vader_load(path, err, sizeof(err));
    assert_non_null(v);
    assert_true(es_vader_score(v, "aaaaaaaaaaaaaaaaaa\xc3\xa9", 20).compound ==
                compound_of(2.5));
    /* ALL CAPS alone adds nothing; "!" is stripped (and adds 0.292) */
    assert_true(es_vader_score(v, "AAAAAAAAAAAAAAAAAA\xc3\x89!", 21).compound ==
                compound_of(2.5 + 0.292));
    /* one byte longer than any key */
    assert_true(es_vader_score(v, "aaaaaaaaaaaaaaaaaaa\xc3\xa9", 21).compound ==
                0.0);
    es_vader_free(v);
    unlink(path);
}

/* Whether cp is in the sorted inclusive ranges r[0..n): bisection. */
static int in_ranges(const es_vader_ucd_pair *r, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cp < r[mid].a) {
            hi = mid;
        } else if (cp > r[mid].b) {
            lo = mid + 1;
        } else {
            return 1;
        }
    }
    return 0;
}

/* str.isupper()'s class and str.lower() of cp from the generated lists. */
static int ref_class(uint32_t cp)
{
    if (in_ranges(es_vader_ucd_notupper, es_vader_ucd_nnotupper, cp)) {
        return ES_VADER_CASE_NOTUPPER;
    }
    return in_ranges(es_vader_ucd_upper, es_vader_ucd_nupper, cp)
               ? ES_VADER_CASE_UPPER
               : 0;
}

static uint32_t ref_lower(uint32_t cp)
{
    size_t lo = 0, hi = es_vader_ucd_nlower;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cp < es_vader_ucd_lower[mid].a) {
            hi = mid;
        } else if (cp > es_vader_ucd_lower[mid].a) {
            lo = mid + 1;
        } else {
            return es_vader_ucd_lower[mid].b;
        }
    }
    return cp;
}

static void test_case_table_agrees_with_the_generated_lists(void **state)
{
    char path[64], err[256];
    es_vader *v;
    uint32_t cp;

    (void)state;
    temp_path(path);
    write_file(path, "good\t1.9\n");
    v = es_vader_load(path, err, sizeof(err));
    assert_non_null(v);
    /* every code point */
    for (cp = 0x80; cp <= 0x10ffff; cp++) {
        int want = ref_class(cp);
        uint32_t lower = ref_lower(cp);

        if (es_vader_case_class(v, cp) != want ||
            es_vader_case_lower(v, cp) != lower) {
            fail_msg("U+%04X: class %d lower U+%04X, want %d U+%04X",
                     (unsigned)cp, es_vader_case_class(v, cp),
                     (unsigned)es_vader_case_lower(v, cp), want,
                     (unsigned)lower);
        }
    }
    es_vader_free(v);
    unlink(path);
}

/* Texts whose last bytes end in every way the tokenizer reads them. */
static const char *const edge_texts[] = {
    "good",
    "so good",
    "not good",
    "GOOD",
    "It is GOOD",
    "good!",
    "good!!!!",
    "(good)",
    "!!good",
    "don't",
    "The food is NOT good, but the staff is GREAT!!",
    "abcdefghijklmnopq good",
    "good abcdefghijklmnopqrstuvwxyz",
    "terribly good exceptionally",
    "caf\xc3\xa9 good",
    "good caf\xc3\xa9",
    "good \xc3",
    "good\xc2\xa0great",
    "kind of good",
    "the shit",
    ":) :( :-D",
    "a",
    "",
    "  good  ",
    "\xe2\x80\x83good\xe2\x80\x83",
};

/* The repository's lexicon, found upwards from the test binary. */
static es_vader *repo_vader(void)
{
    char exe[PATH_MAX], lex[PATH_MAX + 64], err[256];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    es_vader *v = NULL;

    assert_true(n > 0);
    exe[n] = '\0';
    for (int up = 0; up < 8 && v == NULL; up++) {
        char *slash = strrchr(exe, '/');

        assert_non_null(slash);
        *slash = '\0';
        snprintf(lex, sizeof(lex), "%s/lib/data/vader_lexicon.txt", exe);
        if (access(lex, R_OK) == 0) {
            v = es_vader_load(lex, err, sizeof(err));
        }
    }
    assert_non_null(v);
    return v;
}

static void test_scores_do_not_read_past_the_text(void **state)
{
    es_vader *v = repo_vader();

    (void)state;
    for (size_t i = 0; i < sizeof(edge_texts) / sizeof(edge_texts[0]); i++) {
        const char *t = edge_texts[i];
        size_t n = strlen(t);
        /* exactly n bytes (AddressSanitizer catches a read past them)... */
        char *exact = malloc(n ? n : 1);
        /* ...and the same bytes with other text after them */
        char *roomy = malloc(n + 64);
        es_sentiment a, b;

        assert_non_null(exact);
        assert_non_null(roomy);
        memcpy(exact, t, n);
        memcpy(roomy, t, n);
        memset(roomy + n, 'x', 64);
        a = es_vader_score(v, exact, n);
        b = es_vader_score(v, roomy, n);
        if (a.neg != b.neg || a.neu != b.neu || a.pos != b.pos ||
            a.compound != b.compound) {
            fail_msg("\"%s\": %.4f at the end of a buffer, %.4f inside", t,
                     a.compound, b.compound);
        }
        /* every prefix too: each ends a token somewhere else */
        for (size_t k = 0; k < n; k++) {
            char *p = malloc(k ? k : 1);

            assert_non_null(p);
            memcpy(p, t, k);
            a = es_vader_score(v, p, k);
            b = es_vader_score(v, roomy, k);
            assert_true(a.compound == b.compound && a.neu == b.neu);
            free(p);
        }
        free(exact);
        free(roomy);
    }
    es_vader_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perfect_hash_finds_every_key_and_nothing_else),
        cmocka_unit_test(test_non_ascii_and_repeated_keys),
        cmocka_unit_test(test_longest_key_ending_in_non_ascii),
        cmocka_unit_test(test_case_table_agrees_with_the_generated_lists),
        cmocka_unit_test(test_scores_do_not_read_past_the_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
