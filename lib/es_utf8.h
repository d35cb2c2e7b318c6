/*
 * es_utf8.h - UTF-8 validation and repair.
 *
 * Comment text comes from the network and from dump files of unknown
 * quality. Everything stored in Redis and sent downstream is valid UTF-8:
 * invalid sequences (overlongs, surrogates, stray continuation bytes,
 * truncated characters) are replaced by U+FFFD, never passed on, and text is
 * only ever cut at a character boundary.
 */
#ifndef ES_UTF8_H
#define ES_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length in bytes of the well-formed UTF-8 character at s (at most n bytes
 * available), or 0 when the bytes there are not a valid character.
 */
size_t es_utf8_char_len(const unsigned char *s, size_t n);

/* Returns 1 when s[0..n) is entirely valid UTF-8 with no NUL byte. */
int es_utf8_valid(const char *s, size_t n);

/*
 * Copies s[0..n) into out (room for out_size bytes, NUL-terminated) with each
 * invalid sequence and each NUL replaced by U+FFFD. Returns the length
 * written, or (size_t)-1 when out is too small; 3 * n + 1 bytes always fit.
 */
size_t es_utf8_repair(const char *s, size_t n, char *out, size_t out_size);

/*
 * Writes the UTF-8 form of code point cp (at most U+10FFFF, not a
 * surrogate) into out, which has room for 4 bytes; returns its length.
 * Inline: the tokenizers call it on their non-ASCII paths.
 */
static inline size_t es_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The largest k <= max such that s[0..k) ends on a character boundary. */
size_t es_utf8_cut(const char *s, size_t n, size_t max);

#endif
