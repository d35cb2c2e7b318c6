/*
 * text_fuzz.c - UTF-8 checking, repair and cutting, and the text folding
 * and tokenizing every comment and query goes through (es_utf8,
 * es_text).
 *
 * Invariants: repaired text is valid UTF-8 and fits its room; a cut is
 * within bounds and never splits a character; every token lies inside
 * the folded text, which never grows past the input.
 */
#include "es_text.h"
#include "es_utf8.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n, room, i, ntok, max;
    char *s, *out, *fold;
    es_token *tok;
    int valid;

    s = es_fuzz_copy(data, size, 0);

    valid = es_utf8_valid(s, size);

    /* a replacement character is 3 bytes for each bad byte */
    room = size * 3 + 1;
    out = malloc(room);
    if (out == NULL) {
        abort();
    }
    n = es_utf8_repair(s, size, out, room);
    ES_FUZZ_CHECK(n < room);
    ES_FUZZ_CHECK(es_utf8_valid(out, n));
    if (valid) {
        ES_FUZZ_CHECK(n == size && memcmp(out, s, size) == 0);
    }

    for (max = 0; max <= size && max < 64; max += 7) {
        n = es_utf8_cut(out, strnlen(out, room), max);
        ES_FUZZ_CHECK(n <= max);
        ES_FUZZ_CHECK(es_utf8_valid(out, n));
    }

    fold = malloc(size + 1);
    max = es_text_max_tokens(size);
    tok = malloc((max + 1) * sizeof(es_token));
    if (fold == NULL || tok == NULL) {
        abort();
    }
    ntok = es_text_tokenize(s, size, fold, tok, max);
    ES_FUZZ_CHECK(ntok <= max);
    for (i = 0; i < ntok; i++) {
        ES_FUZZ_CHECK((size_t)tok[i].off + tok[i].len <= size);
        ES_FUZZ_CHECK(tok[i].src < size);
        ES_FUZZ_CHECK(tok[i].hash ==
                      es_text_hash(fold + tok[i].off, tok[i].len));
    }

    free(tok);
    free(fold);
    free(out);
    free(s);
    return 0;
}
