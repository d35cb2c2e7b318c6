/*
 * es_vader_token_test.c - the VADER tokenizer (es_vader_text.c) against a
 * plain reference written here character by character: decode the text,
 * split it on Python's white space, drop tokens of one character, strip
 * _words_plus_punc's PUNC_LIST item, lower-case the key and look it up.
 *
 * The tokenizer takes its decisions from bits of 16 bytes at a time (where
 * a token ends, its punctuation, its case, "n't", the next token), defers
 * its lookups to a last pass and computes what the rules ask of the whole
 * text on the way; every one of those shortcuts can only be wrong where it
 * disagrees with the plain form, token for token. Random texts are built
 * from pieces aimed at each shortcut (punctuation runs at either end,
 * tokens across the 16-byte window, Unicode white space, invalid UTF-8, the
 * end of the text); each is scored from a buffer of exactly its size, so
 * AddressSanitizer sees any read past it.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "es_utf8.h"
#include "es_vader_int.h"

/* One token as the reference finds it. */
typedef struct {
    size_t off, len; /* bytes in the text, after stripping */
    unsigned flags;  /* ES_VT_UPPER, ES_VT_NT */
    char key[ES_VADER_KEY_MAX + 32];
    size_t klen; /* > key_cap: too long to be a key */
    int same;    /* the key is the token as written */
} ref_tok;

static int py_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) ||
           es_vader_uspace(cp);
}

static int py_punct(uint32_t cp)
{
    return cp < 0x80 &&
           strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", (int)cp) != NULL &&
           cp != 0;
}

static int in_punc_list(const char *p, size_t n)
{
    static const char *const items[] = {
        ".",  "!",   "?",  ",",   ";",   ":",   "-",    "'",   "\"",
        "!!", "!!!", "??", "???", "?!?", "!?!", "?!?!", "!?!?"};

    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        if (strlen(items[i]) == n && memcmp(items[i], p, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The lower-case key of the bytes [p, p + n), as Python's str.lower(). */
static void ref_key(const es_vader *v, const unsigned char *p, size_t n,
                    ref_tok *t)
{
    size_t i = 0;

    t->klen = 0;
    t->same = 1;
    while (i < n) {
        uint32_t cp, lc;
        size_t k = es_vader_decode(p + i, n - i, &cp);
        char enc[8];
        size_t m;

        if (t->klen > v->key_cap) {
            return; /* too long already */
        }
        if (cp < 0x80) {
            /* the case tables hold the non-ASCII letters only */
            enc[0] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
            t->same &= enc[0] == (char)cp;
            m = 1;
        } else if (cp == 0xfffd) {
            memcpy(enc, p + i, k); /* invalid bytes stay as they are */
            m = k;
        } else if (cp == 0x130) {
            memcpy(enc, "i\xcc\x87", 3);
            m = 3;
            t->same = 0;
        } else {
            lc = es_vader_case_lower(v, cp);
            t->same &= lc == cp;
            m = es_utf8_encode(lc, enc);
        }
        memcpy(t->key + t->klen, enc, m);
        t->klen += m;
        i += k;
    }
}

/* The reference tokens of text; returns their number. */
static size_t ref_tokenize(const es_vader *v, const char *text, size_t n,
                           ref_tok *out)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t pos = 0, nt = 0;

    for (;;) {
        uint32_t cp;
        size_t start, nchar = 0, lead = 0, trail = 0, np = 0, k;
        int upper = 0, notupper = 0, in_lead = 1;
        ref_tok *t = &out[nt];

        /* white space, then one token: characters up to white space */
        while (pos < n &&
               (k = es_vader_decode(u + pos, n - pos, &cp), py_space(cp))) {
            pos += k;
        }
        if (pos >= n) {
            return nt;
        }
        start = pos;
        while (pos < n) {
            k = es_vader_decode(u + pos, n - pos, &cp);
            if (py_space(cp)) {
                break;
            }
            if (py_punct(cp)) {
                np++;
                trail++;
                lead += (size_t)in_lead;
            } else {
                int cls = cp >= 'A' && cp <= 'Z'   ? ES_VADER_CASE_UPPER
                          : cp >= 'a' && cp <= 'z' ? ES_VADER_CASE_NOTUPPER
                          : cp < 0x80              ? 0
                                                   : es_vader_case_class(v, cp);

                in_lead = 0;
                trail = 0;
                upper |= cls == ES_VADER_CASE_UPPER;
                notupper |= cls == ES_VADER_CASE_NOTUPPER;
            }
            nchar++;
            pos += k;
        }
        if (nchar < 2) {
            continue;
        }
        t->off = start;
        t->len = pos - start;
        if (lead > 0 && lead < nchar && np == lead && nchar - lead >= 2 &&
            in_punc_list(text + start, lead)) {
            t->off += lead;
            t->len -= lead;
        } else if (lead == 0 && trail > 0 && np == trail &&
                   nchar - trail >= 2 &&
                   in_punc_list(text + pos - trail, trail)) {
            t->len -= trail;
        }
        t->flags = upper && !notupper ? ES_VT_UPPER : 0;
        for (size_t i = 1; i + 1 < t->len; i++) {
            const char *q = text + t->off + i;

            if (q[0] == '\'' && (q[-1] | 0x20) == 'n' && (q[1] | 0x20) == 't') {
                t->flags |= ES_VT_NT;
            }
        }
        ref_key(v, u + t->off, t->len, t);
        nt++;
    }
}

/* The entry of a reference key (es_vader_none when none can be). */
static const es_vader_entry *ref_entry(const es_vader *v, ref_tok *t)
{
    uint64_t k0, k1;

    if (t->klen > v->key_cap) {
        return &es_vader_none;
    }
    memset(t->key + t->klen, 0, 24);
    memcpy(&k0, t->key, 8);
    memcpy(&k1, t->key + 8, 8);
    return es_vader_find(v, k0, k1, t->key, t->klen);
}

/* Tokenizes text (n bytes, copied to a buffer of exactly n) both ways and
   compares every token and every count. */
static void check(const es_vader *v, const char *text, size_t n)
{
    char *exact = malloc(n ? n : 1);
    size_t cap = es_vader_max_tokens(n), nt, rn, nupper = 0, but, nlex = 0;
    es_vader_tok *toks = malloc(cap * sizeof(*toks));
    ref_tok *ref = malloc(cap * sizeof(*ref));
    uint32_t *lex = malloc(cap * sizeof(*lex));
    es_vader_counts c;
    unsigned prev = ES_VC_NONE, idioms = 0;

    assert_non_null(exact);
    assert_non_null(toks);
    assert_non_null(ref);
    assert_non_null(lex);
    memcpy(exact, text, n);
    nt = es_vader_tokenize(v, exact, n, toks, cap, lex, &c);
    rn = ref_tokenize(v, exact, n, ref);
    if (nt != rn) {
        fail_msg("\"%.*s\": %zu tokens, reference %zu", (int)n, text, nt, rn);
    }
    but = nt;
    for (size_t i = 0; i < nt; i++) {
        const es_vader_tok *t = &toks[i];
        const es_vader_entry *e = ref_entry(v, &ref[i]);
        unsigned flags = ref[i].flags | e->flags, cs = ref[i].same ? e->cs : 0;
        int mod = (flags & (ES_VT_NEGATED | ES_VW_BOOST | ES_VW_DAMPEN)) ||
                  cs == ES_VC_NEVER || cs == ES_VC_SO || cs == ES_VC_THIS;

        if ((size_t)(t->p - exact) != ref[i].off || t->len != ref[i].len ||
            t->e != e || t->flags != (flags | (mod ? ES_VT_MOD : 0)) ||
            t->lw != e->lw || t->cs != cs) {
            fail_msg("\"%.*s\" token %zu: [%.*s] flags %x lw %d cs %d, "
                     "reference [%.*s] flags %x lw %d cs %d",
                     (int)n, text, i, (int)t->len, t->p, t->flags, t->lw, t->cs,
                     (int)ref[i].len, exact + ref[i].off, flags, e->lw, cs);
        }
        nupper += (flags & ES_VT_UPPER) != 0;
        but = but == nt && e->lw == ES_VL_BUT ? i : but;
        if (flags & ES_VW_LEX) {
            assert_int_equal(lex[nlex++], i);
        }
        idioms |= (es_vader_idiom_next[prev] >> cs) & 1;
        prev = cs;
    }
    assert_int_equal(c.nupper, nupper);
    assert_int_equal(c.but, but);
    assert_int_equal(c.nlex, nlex);
    assert_int_equal(c.idioms, (int)idioms);
    {
        size_t ne = 0, nq = 0;

        for (size_t i = 0; i < n; i++) {
            ne += text[i] == '!';
            nq += text[i] == '?';
        }
        assert_int_equal(c.nexcl, ne);
        assert_int_equal(c.nquest, nq);
    }
    free(exact);
    free(toks);
    free(ref);
    free(lex);
}

/* The repository's lexicon, found from the test binary's place. */
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

/* Pieces of text, each aimed at a shortcut of the tokenizer. */
static const char *const pieces[] = {" ",
                                     " ",
                                     " ",
                                     "  ",
                                     "\t",
                                     "\n",
                                     "\r",
                                     "\x0b",
                                     "\x0c",
                                     "\x1c",
                                     "\x1f",
                                     "\xc2\xa0",
                                     "\xe2\x80\x83",
                                     "\xe3\x80\x80",
                                     "\xc2\x85",
                                     "\xe2\x80\xa8",
                                     "\xe1\x9a\x80",
                                     "\xe2\x81\x9f",
                                     "good",
                                     "GOOD",
                                     "Good",
                                     "gOOd",
                                     "bad",
                                     "HAPPY",
                                     "love",
                                     "hate",
                                     "not",
                                     "isn't",
                                     "ISN'T",
                                     "don't",
                                     "n't",
                                     "N'T",
                                     "can't've",
                                     "never",
                                     "Never",
                                     "so",
                                     "SO",
                                     "this",
                                     "the",
                                     "The",
                                     "shit",
                                     "bomb",
                                     "kind",
                                     "of",
                                     "sort",
                                     "just",
                                     "enough",
                                     "least",
                                     "at",
                                     "very",
                                     "but",
                                     "BUT",
                                     "cut",
                                     "mustard",
                                     "yeah",
                                     "right",
                                     "bad",
                                     "ass",
                                     "kiss",
                                     "death",
                                     "hand",
                                     "to",
                                     "mouth",
                                     "extremely",
                                     "hardly",
                                     "kinda",
                                     ":)",
                                     ":-(",
                                     ":D",
                                     "<3",
                                     ";)",
                                     "a",
                                     "I",
                                     "x",
                                     "0",
                                     "42",
                                     "2b",
                                     "!",
                                     "?",
                                     ".",
                                     ",",
                                     ";",
                                     ":",
                                     "-",
                                     "'",
                                     "\"",
                                     "(",
                                     ")",
                                     "*",
                                     "#",
                                     "@",
                                     "...",
                                     "!!",
                                     "??",
                                     "!!!",
                                     "???",
                                     "?!?",
                                     "!?!",
                                     "?!?!",
                                     "!?!?",
                                     "!!!!",
                                     "?!",
                                     "--",
                                     "''",
                                     "abcdefghijklmno",
                                     "abcdefghijklmnop",
                                     "abcdefghijklmnopq",
                                     "disadvantageousness",
                                     "Uncharacteristically",
                                     "caf\xc3\xa9",
                                     "CAF\xc3\x89",
                                     "\xce\xa3\xce\x9f\xce\xa6",
                                     "\xe2\x84\xaaind",
                                     "\xc4\xb0",
                                     "\xc7\x85",
                                     "\xf0\x9f\x98\x80",
                                     "\xe2\x9d\xa4\xef\xb8\x8f",
                                     "\xff",
                                     "\xc3",
                                     "\xe2\x82",
                                     "\xed\xa0\x80",
                                     "\x80",
                                     "\xf4\x90\x80\x80",
                                     "\x01",
                                     "\x7f",
                                     "\x1b"};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static unsigned next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

static void test_random_texts_split_as_the_reference(void **state)
{
    es_vader *v = repo_vader();
    char buf[2048];

    (void)state;
    for (int it = 0; it < 40000; it++) {
        size_t n = 0, k = next_rand() % 24;

        for (size_t j = 0; j < k; j++) {
            const char *p =
                pieces[next_rand() % (sizeof(pieces) / sizeof(pieces[0]))];
            size_t m = strlen(p);

            if (n + m + 1 > sizeof(buf)) {
                break;
            }
            memcpy(buf + n, p, m);
            n += m;
            /* glued to the next piece, or not */
            if (next_rand() % 3 != 0) {
                buf[n++] = ' ';
            }
        }
        check(v, buf, n);
        /* every prefix ends a token somewhere else */
        if (it % 50 == 0) {
            for (size_t m = 0; m < n; m++) {
                check(v, buf, m);
            }
        }
    }
    es_vader_free(v);
}

static void test_long_and_edge_texts(void **state)
{
    es_vader *v = repo_vader();
    static const char *const texts[] = {"",
                                        " ",
                                        "a",
                                        "ab",
                                        "!!",
                                        "good!",
                                        "!good",
                                        "(good)",
                                        "'good'",
                                        "good!!!!",
                                        "!!!good",
                                        "?!?good",
                                        "good?!?!",
                                        "good.\xc2\xa0"
                                        "bad",
                                        "GOOD BAD",
                                        "GOOD bad",
                                        "isn't!",
                                        "'isn't",
                                        "abcdefghijklmno!",
                                        "abcdefghijklmn!!",
                                        "                good",
                                        "good                ",
                                        "\xc2\xa0\xc2\xa0"
                                        "good\xc2\xa0",
                                        "g\xc3\xb6\xc3\xb6"
                                        "d"};
    char big[5000];

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        check(v, texts[i], strlen(texts[i]));
    }
    /* long texts: more tokens than the stack holds, long runs */
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = "good! not BAD ?!? isn't"[i % 23];
    }
    check(v, big, sizeof(big));
    memset(big, 'a', sizeof(big));
    check(v, big, sizeof(big));
    memset(big, ' ', sizeof(big));
    check(v, big, sizeof(big));
    es_vader_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_texts_split_as_the_reference),
        cmocka_unit_test(test_long_and_edge_texts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
