/*
 * es_terms.c - tokenizer and stop words for trending terms (see es_terms.h).
 *
 * The stop list is the common English function words (articles, pronouns,
 * auxiliaries, prepositions, conjunctions; the tokenizer splits "don't"
 * into "don" and "t", so the stems of contractions are listed), plus web
 * and Reddit filler. It is small and sorted so a binary search decides.
 * Words under 3 characters never reach it.
 */
#include <stdlib.h>
#include <string.h>

#include "es_text.h"
#include "es_terms.h"

static const char *const stop_words[] = {
    "about",  "above",  "after",   "again",  "against", "all",    "also",
    "and",    "any",    "are",     "aren",   "because", "been",   "before",
    "being",  "below",  "between", "both",   "but",     "can",    "cannot",
    "com",    "could",  "couldn",  "did",    "didn",    "does",   "doesn",
    "doing",  "don",    "down",    "during", "each",    "even",   "few",
    "for",    "from",   "further", "get",    "gonna",   "got",    "had",
    "hadn",   "has",    "hasn",    "have",   "haven",   "having", "her",
    "here",   "hers",   "herself", "him",    "himself", "his",    "how",
    "http",   "https",  "into",    "isn",    "its",     "itself", "just",
    "know",   "like",   "lol",     "make",   "more",    "most",   "much",
    "must",   "myself", "nor",     "not",    "now",     "off",    "once",
    "one",    "only",   "other",   "our",    "ours",    "out",    "over",
    "own",    "people", "really",  "same",   "she",     "should", "shouldn",
    "some",   "still",  "such",    "than",   "that",    "the",    "their",
    "theirs", "them",   "then",    "there",  "these",   "they",   "thing",
    "things", "think",  "this",    "those",  "through", "too",    "under",
    "until",  "very",   "was",     "wasn",   "way",     "were",   "weren",
    "what",   "when",   "where",   "which",  "while",   "who",    "whom",
    "why",    "will",   "with",    "won",    "would",   "wouldn", "www",
    "yeah",   "yes",    "yet",     "you",    "your",    "yours",
};

static int cmp_word(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

int es_terms_is_stop(const char *w, size_t n)
{
    char buf[ES_TERM_MAX_BYTES + 1];

    if (n > ES_TERM_MAX_BYTES) {
        return 0;
    }
    memcpy(buf, w, n);
    buf[n] = '\0';
    return bsearch(buf, stop_words, sizeof(stop_words) / sizeof(*stop_words),
                   sizeof(*stop_words), cmp_word) != NULL;
}

/* Characters (not bytes) of a UTF-8 word: continuation bytes don't count. */
static size_t chars(const char *w, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++) {
        c += ((unsigned char)w[i] & 0xC0) != 0x80;
    }
    return c;
}

static void consider(es_terms *out, size_t *used, const char *w, size_t n)
{
    int digits = 1;

    if (n == 0 || n > ES_TERM_MAX_BYTES || chars(w, n) < 3 ||
        out->n == ES_TERMS_MAX) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        digits &= w[i] >= '0' && w[i] <= '9';
    }
    if (digits || es_terms_is_stop(w, n)) {
        return;
    }
    for (size_t k = 0; k < out->n; k++) {
        if (out->len[k] == n && memcmp(out->term[k], w, n) == 0) {
            return;
        }
    }
    memcpy(out->buf + *used, w, n);
    out->buf[*used + n] = '\0';
    out->term[out->n] = out->buf + *used;
    out->len[out->n++] = n;
    *used += n + 1;
}

void es_terms_scratch_free(es_terms_scratch *s)
{
    free(s->fold);
    free(s->tok);
    memset(s, 0, sizeof(*s));
}

void es_terms_extract(const char *text, size_t n, es_terms_scratch *sc,
                      es_terms *out)
{
    size_t used = 0, ntok;
    es_token *tok;

    out->n = 0;
    if (n > sc->cap) {
        size_t cap = n < 4096 ? 4096 : n;
        char *fold = realloc(sc->fold, cap);
        void *t;
        if (fold == NULL) {
            return;
        }
        sc->fold = fold;
        t = realloc(sc->tok, es_text_max_tokens(cap) * sizeof(es_token));
        if (t == NULL) {
            return;
        }
        sc->tok = t;
        sc->cap = cap;
    }
    tok = sc->tok;
    ntok = es_text_tokenize(text, n, sc->fold, tok, es_text_max_tokens(n));
    for (size_t i = 0; i < ntok && out->n < ES_TERMS_MAX; i++) {
        consider(out, &used, sc->fold + tok[i].off, tok[i].len);
    }
}
