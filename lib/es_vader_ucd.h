/*
 * es_vader_ucd.h - the Unicode case tables of the VADER port (generated
 * into es_vader_ucd.c by tests/vader/gen_ucd.py from the unicodedata of the
 * Python that runs NLTK, so lower-casing and the ALL CAPS test agree with
 * str.lower() and str.isupper() on every code point).
 *
 * ASCII is never looked up here: callers handle it inline. Tables are
 * sorted by code point for binary search.
 */
#ifndef ES_VADER_UCD_H
#define ES_VADER_UCD_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t a, b;
} es_vader_ucd_pair;

/* {code point, lower-case code point}; U+0130 (lower "i\u0307") is not in. */
extern const es_vader_ucd_pair es_vader_ucd_lower[];
extern const size_t es_vader_ucd_nlower;

/* Inclusive ranges {first, last} of upper-case code points. */
extern const es_vader_ucd_pair es_vader_ucd_upper[];
extern const size_t es_vader_ucd_nupper;

/* Inclusive ranges of lower-case and title-case code points. */
extern const es_vader_ucd_pair es_vader_ucd_notupper[];
extern const size_t es_vader_ucd_nnotupper;

#endif
