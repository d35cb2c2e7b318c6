/*
 * es_vader_win.h - the 16 bytes at a token's start, classified at once: the
 * VADER tokenizer's (es_vader_text.c) view of the text. Not a public
 * interface.
 *
 * Most tokens are ASCII letters and digits, shorter than 16 bytes, followed
 * by white space. One window (es_vader_win16) says where such a token ends,
 * that it is one, its case, where the next token starts, and holds its key
 * lower-cased: the tokenizer handles it with a few bit operations instead of
 * a loop over its bytes with a branch per byte that depends on the text.
 * The few masks only punctuated tokens need are a second step
 * (es_vader_win16_punct), so plain tokens do not pay for them. With SSE2
 * (every x86-64) a window is a handful of compares and one movemask per
 * class; elsewhere a loop over the 16 bytes gives the same bits.
 *
 * Bit i of each mask is byte i of the window. Bytes past the end of the
 * text count as white space (and nothing else), so a token at the end of
 * the text ends there as it would at a space; the caller passes a window
 * whose bytes past the end are readable zeros (es_vader_text.c's text_view).
 */
#ifndef ES_VADER_WIN_H
#define ES_VADER_WIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct {
    unsigned space;  /* str.isspace() ASCII, and every byte past the text */
    unsigned high;   /* bytes >= 0x80 (decoded as UTF-8 by the caller) */
    unsigned alnum;  /* 0-9, A-Z, a-z */
    unsigned up, lo; /* A-Z, a-z */
    uint64_t k0, k1; /* the 16 bytes, A-Z lower-cased */
} es_vader_win;

/* What a token with punctuation needs besides (es_vader_win16_punct). */
typedef struct {
    unsigned punct;        /* Python's string.punctuation */
    unsigned apos, nn, tt; /* '\'', 'n' or 'N', 't' or 'T' */
    unsigned excl, quest;  /* '!', '?' */
} es_vader_win_punct;

/* Classifies the 16 bytes at p, of which avail are in the text. */
static inline void es_vader_win16(const char *p, size_t avail, es_vader_win *w)
{
    /* past the text (avail < 16) or nothing: without a branch, since where
       the text ends is no pattern; a shift by 16 leaves no bit in 16 */
    size_t over = (size_t)0 - (size_t)(avail >= 16);
    unsigned beyond = (0xffffu << ((avail & ~over) | (16 & over))) & 0xffffu;
#if defined(__SSE2__)
    const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* letters fold onto a-z with 0x20 set: '@', '[' and '`' do not */
    const __m128i f = _mm_or_si128(x, _mm_set1_epi8(0x20));
#define ES_VW_IN(v, lo, hi)                                                    \
    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(lo)),                        \
                  _mm_cmplt_epi8(v, _mm_set1_epi8(hi)))
    /* as signed bytes: non-ASCII is below every range */
    __m128i alpha = ES_VW_IN(f, 0x60, 0x7b);
    __m128i up = _mm_and_si128(alpha, _mm_cmplt_epi8(x, _mm_set1_epi8(0x60)));
    __m128i alnum = _mm_or_si128(alpha, ES_VW_IN(x, 0x2f, 0x3a));
    /* white space: 0x09-0x0d, 0x1c-0x20 */
    __m128i space =
        _mm_or_si128(ES_VW_IN(x, 0x08, 0x0e), ES_VW_IN(x, 0x1b, 0x21));
    __m128i key = _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20)));
#undef ES_VW_IN
    unsigned a = (unsigned)_mm_movemask_epi8(alpha);

    w->space = (unsigned)_mm_movemask_epi8(space) | beyond;
    w->high = (unsigned)_mm_movemask_epi8(x);
    w->alnum = (unsigned)_mm_movemask_epi8(alnum);
    w->up = (unsigned)_mm_movemask_epi8(up);
    w->lo = a & ~w->up;
    w->k0 = (uint64_t)_mm_cvtsi128_si64(key);
    w->k1 = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(key, key));
#else
    const unsigned char *u = (const unsigned char *)p;
    unsigned char key[16];
    unsigned i;

    memset(w, 0, sizeof(*w));
    for (i = 0; i < 16; i++) {
        unsigned c = u[i], b = 1u << i;
        int up = c >= 'A' && c <= 'Z', lo = c >= 'a' && c <= 'z';

        key[i] = (unsigned char)(up ? c + 32 : c);
        w->space |=
            ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20)) ? b : 0;
        w->high |= c >= 0x80 ? b : 0;
        w->alnum |= (up || lo || (c >= '0' && c <= '9')) ? b : 0;
        w->up |= up ? b : 0;
        w->lo |= lo ? b : 0;
    }
    w->space |= beyond;
    memcpy(&w->k0, key, 8);
    memcpy(&w->k1, key + 8, 8);
#endif
}

/* The punctuation masks of the 16 bytes at p (as es_vader_win16). */
static inline void es_vader_win16_punct(const char *p, es_vader_win_punct *w)
{
#if defined(__SSE2__)
    const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i f = _mm_or_si128(x, _mm_set1_epi8(0x20));
#define ES_VW_IN(v, lo, hi)                                                    \
    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(lo)),                        \
                  _mm_cmplt_epi8(v, _mm_set1_epi8(hi)))
#define ES_VW_EQ(v, c)                                                         \
    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)))
    __m128i alnum =
        _mm_or_si128(ES_VW_IN(f, 0x60, 0x7b), ES_VW_IN(x, 0x2f, 0x3a));

    /* punctuation: 0x21-0x7e but letters and digits */
    w->punct = (unsigned)_mm_movemask_epi8(
        _mm_andnot_si128(alnum, ES_VW_IN(x, 0x20, 0x7f)));
    w->apos = ES_VW_EQ(x, '\'');
    w->nn = ES_VW_EQ(f, 'n');
    w->tt = ES_VW_EQ(f, 't');
    w->excl = ES_VW_EQ(x, '!');
    w->quest = ES_VW_EQ(x, '?');
#undef ES_VW_IN
#undef ES_VW_EQ
#else
    const unsigned char *u = (const unsigned char *)p;
    unsigned i;

    memset(w, 0, sizeof(*w));
    for (i = 0; i < 16; i++) {
        unsigned c = u[i], b = 1u << i, l = c | 0x20;
        int alnum = (l >= 'a' && l <= 'z') || (c >= '0' && c <= '9');

        w->punct |= (c > 0x20 && c < 0x7f && !alnum) ? b : 0;
        w->apos |= c == '\'' ? b : 0;
        w->nn |= l == 'n' ? b : 0;
        w->tt |= l == 't' ? b : 0;
        w->excl |= c == '!' ? b : 0;
        w->quest |= c == '?' ? b : 0;
    }
#endif
}

/*
 * The key of the len bytes from byte off of the 16 in k0, k1 (off + len <=
 * 16), zero-padded as es_vader_key_hash wants it.
 */
static inline void es_vader_win_key(uint64_t *k0, uint64_t *k1, unsigned off,
                                    unsigned len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* per length: the two words' masks of the bytes kept */
    static const uint64_t m[17][2] = {
#define ES_VW_M(n)   ((n) >= 8 ? ~(uint64_t)0 : (((uint64_t)1 << (8 * (n))) - 1))
#define ES_VW_ROW(n) {ES_VW_M(n), (n) > 8 ? ES_VW_M((n)-8) : 0}
        ES_VW_ROW(0),  ES_VW_ROW(1),  ES_VW_ROW(2),  ES_VW_ROW(3),
        ES_VW_ROW(4),  ES_VW_ROW(5),  ES_VW_ROW(6),  ES_VW_ROW(7),
        ES_VW_ROW(8),  ES_VW_ROW(9),  ES_VW_ROW(10), ES_VW_ROW(11),
        ES_VW_ROW(12), ES_VW_ROW(13), ES_VW_ROW(14), ES_VW_ROW(15),
        ES_VW_ROW(16),
#undef ES_VW_ROW
#undef ES_VW_M
    };

    /* byte i of the 16 is bits 8i.. of the two words, low word first */
    if (off > 0) {
        *k0 = (*k0 >> (8 * off)) | (*k1 << (64 - 8 * off));
        *k1 >>= 8 * off;
    }
    *k0 &= m[len][0];
    *k1 &= m[len][1];
#else
    unsigned char b[32];

    memset(b, 0, sizeof(b));
    memcpy(b, k0, 8);
    memcpy(b + 8, k1, 8);
    memset(b + off + len, 0, 16);
    memcpy(k0, b + off, 8);
    memcpy(k1, b + off + 8, 8);
#endif
}

/* The index of the lowest set bit of m (m != 0). */
static inline unsigned es_vader_ctz(unsigned m)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctz(m);
#else
    unsigned i = 0;

    while (!(m & 1u)) {
        m >>= 1;
        i++;
    }
    return i;
#endif
}

/* The index of the highest set bit of m (m != 0). */
static inline unsigned es_vader_top(unsigned m)
{
#if defined(__GNUC__)
    return 31u - (unsigned)__builtin_clz(m);
#else
    unsigned i = 0;

    while (m >>= 1) {
        i++;
    }
    return i;
#endif
}

/* The bits of a 16-bit mask: popcount without depending on -mpopcnt. */
static inline unsigned es_vader_bits16(unsigned m)
{
    m = m - ((m >> 1) & 0x5555u);
    m = (m & 0x3333u) + ((m >> 2) & 0x3333u);
    m = (m + (m >> 4)) & 0x0f0fu;
    return (m + (m >> 8)) & 0x1fu;
}

#endif
