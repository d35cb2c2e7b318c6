/*
 * es_vader_case.c - what the VADER tokenizer needs of Unicode: decoding
 * UTF-8 as Python does, white space, and the table of str.lower() and of
 * the case classes of str.isupper() (es_vader_case_info: the tokenizer
 * lower-cases a token as it scans it), from the lists es_vader_ucd.c holds
 * (generated from the unicodedata of the Python that runs NLTK).
 *
 * Only tokens with non-ASCII bytes get here: the tokenizer handles ASCII
 * inline. The generated tables are sorted lists, compact but slow to
 * search; at load they become a two-level table (es_vader_case_info): the
 * code point's block of 128 points the index of its block of infos, and
 * every block without a cased letter shares one block of zeros, so a
 * character costs two loads, and the table a few tens of KiB.
 */
#include <stdlib.h>
#include <string.h>

#include "es_vader_int.h"
#include "es_vader_ucd.h"

size_t es_vader_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0], lo = 0x80, hi = 0xbf;

    *cp = 0xfffd;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xc2 || c > 0xf4) {
        return 1;
    }
    if (c < 0xe0) {
        if (n < 2 || (s[1] & 0xc0) != 0x80) {
            return 1;
        }
        *cp = ((c & 0x1f) << 6) | (s[1] & 0x3f);
        return 2;
    }
    if (c == 0xe0) {
        lo = 0xa0;
    } else if (c == 0xed) {
        hi = 0x9f;
    } else if (c == 0xf0) {
        lo = 0x90;
    } else if (c == 0xf4) {
        hi = 0x8f;
    }
    if (n < 2 || s[1] < lo || s[1] > hi) {
        return 1;
    }
    if (c < 0xf0) {
        if (n < 3 || (s[2] & 0xc0) != 0x80) {
            return 2;
        }
        *cp = ((c & 0x0f) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3f);
        return 3;
    }
    if (n < 3 || (s[2] & 0xc0) != 0x80) {
        return 2;
    }
    if (n < 4 || (s[3] & 0xc0) != 0x80) {
        return 3;
    }
    *cp = ((c & 0x07) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) |
          (s[3] & 0x3f);
    return 4;
}

int es_vader_uspace(uint32_t cp)
{
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* The largest code point any case table mentions. */
static uint32_t last_cased(void)
{
    uint32_t m = 0;

    if (es_vader_ucd_nlower > 0) {
        m = es_vader_ucd_lower[es_vader_ucd_nlower - 1].a;
    }
    if (es_vader_ucd_nupper > 0 &&
        es_vader_ucd_upper[es_vader_ucd_nupper - 1].b > m) {
        m = es_vader_ucd_upper[es_vader_ucd_nupper - 1].b;
    }
    if (es_vader_ucd_nnotupper > 0 &&
        es_vader_ucd_notupper[es_vader_ucd_nnotupper - 1].b > m) {
        m = es_vader_ucd_notupper[es_vader_ucd_nnotupper - 1].b;
    }
    return m;
}

/* Marks the blocks of the ranges r (n of them) in used. */
static void mark_ranges(const es_vader_ucd_pair *r, size_t n, uint8_t *used)
{
    size_t i;
    uint32_t b;

    for (i = 0; i < n; i++) {
        for (b = r[i].a >> ES_VADER_CASE_SHIFT;
             b <= r[i].b >> ES_VADER_CASE_SHIFT; b++) {
            used[b] = 1;
        }
    }
}

/* Sets the case class of every code point of the ranges r to cls. */
static void set_class(es_vader *v, const es_vader_ucd_pair *r, size_t n,
                      int32_t cls)
{
    size_t i;
    uint32_t cp;

    for (i = 0; i < n; i++) {
        for (cp = r[i].a; cp <= r[i].b; cp++) {
            int32_t *info = &v->case2[es_vader_case_slot(v, cp)];

            *info = (*info & ~3) | cls;
        }
    }
}

int es_vader_case_build(es_vader *v)
{
    uint32_t limit = (last_cased() >> ES_VADER_CASE_SHIFT) + 1, b, k = 1;
    uint8_t *used = calloc(limit, 1);
    size_t i;

    v->case1 = calloc(limit, sizeof(*v->case1));
    if (used == NULL || v->case1 == NULL) {
        free(used);
        return -1;
    }
    for (i = 0; i < es_vader_ucd_nlower; i++) {
        used[es_vader_ucd_lower[i].a >> ES_VADER_CASE_SHIFT] = 1;
    }
    mark_ranges(es_vader_ucd_upper, es_vader_ucd_nupper, used);
    mark_ranges(es_vader_ucd_notupper, es_vader_ucd_nnotupper, used);
    /* block 0 of case2 is the one of all uncased blocks: all zero */
    for (b = 0; b < limit; b++) {
        if (used[b]) {
            v->case1[b] = (uint16_t)k++;
        }
    }
    free(used);
    v->case2 = calloc((size_t)k << ES_VADER_CASE_SHIFT, sizeof(*v->case2));
    if (v->case2 == NULL) {
        return -1;
    }
    v->case_limit = limit << ES_VADER_CASE_SHIFT;
    for (i = 0; i < es_vader_ucd_nlower; i++) {
        const es_vader_ucd_pair *p = &es_vader_ucd_lower[i];

        v->case2[es_vader_case_slot(v, p->a)] =
            ((int32_t)p->b - (int32_t)p->a) * 4;
    }
    /* lower or title case wins where a code point were in both */
    set_class(v, es_vader_ucd_upper, es_vader_ucd_nupper, ES_VADER_CASE_UPPER);
    set_class(v, es_vader_ucd_notupper, es_vader_ucd_nnotupper,
              ES_VADER_CASE_NOTUPPER);
    return 0;
}
