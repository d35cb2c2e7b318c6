/*
 * es_text.h - the text model shared by topic queries and the matcher.
 *
 * A query word and a comment word are equal when their folded forms are
 * equal, so both sides go through the one tokenizer here:
 *
 * - Words are runs of letters and digits. ASCII letters and digits, the
 *   Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic, Hangul and other
 *   alphabetic scripts are word characters; spaces, punctuation and symbols
 *   separate words. Combining marks, variation selectors, emoji skin-tone
 *   modifiers, soft hyphens and zero-width joiners are dropped without
 *   breaking the word they sit in.
 * - Scripts written without spaces (Han, Hiragana, Katakana, Yi) and emoji
 *   or pictographic symbols are one token per character, so a query word in
 *   those scripts matches as a run of consecutive characters.
 * - Folding: lower case (ASCII, Latin-1, Latin Extended-A/B and Additional,
 *   Greek, Cyrillic), accents of Latin letters removed (é e, ñ n), and the
 *   letters without a decomposition spelled out (ß ss, æ ae, œ oe, ø o,
 *   ł l, đ d, þ th, ı i). Greek loses its tonos and final sigma becomes
 *   sigma; Cyrillic ё becomes е. Fullwidth ASCII folds to ASCII and the
 *   Latin ligatures ﬁ ﬂ ﬀ to their letters.
 * - Apostrophes (' ’ ʼ) separate words like any punctuation: "don't" is
 *   the two words "don" "t" and "l'été" is "l" "ete", so a search for
 *   "été" or "rust" also finds "l'été" and "Rust's".
 * - Bytes that are not valid UTF-8, and NUL, separate words.
 *
 * Folding never makes text longer, so a fold buffer the size of the input
 * always suffices, and there are at most n / 2 + 1 tokens in n bytes. The
 * caller owns both buffers, so tokenizing allocates nothing.
 */
#ifndef ES_TEXT_H
#define ES_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits: the hash every folded word is known by. */
#define ES_TEXT_HASH_INIT  0xcbf29ce484222325ULL
#define ES_TEXT_HASH_PRIME 0x100000001b3ULL

typedef struct {
    uint32_t off;  /* the folded word is fold[off .. off + len) */
    uint32_t len;  /* in bytes */
    uint32_t src;  /* byte offset of the word in the source text */
    uint64_t hash; /* es_text_hash of the folded word */
} es_token;

/*
 * Splits s[0..n) into folded words. The folded bytes go into fold (room for
 * n bytes; words are not NUL-terminated) and one es_token per word into tok
 * (room for max_tok). Returns the number of tokens; words past max_tok are
 * dropped, which never happens when max_tok >= n / 2 + 1.
 */
size_t es_text_tokenize(const char *s, size_t n, char *fold, es_token *tok,
                        size_t max_tok);

/* The hash of s[0..n), as es_token.hash holds it. */
uint64_t es_text_hash(const char *s, size_t n);

/* The upper bound on the tokens of n bytes of text. */
static inline size_t es_text_max_tokens(size_t n)
{
    return n / 2 + 1;
}

#endif
