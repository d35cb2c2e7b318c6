/*
 * es_text.c - UTF-8 words, folded (see es_text.h).
 *
 * One pass over the bytes. ASCII, most of any comment, goes through a
 * 128-entry table giving the folded byte or 0 for a separator; everything
 * else is decoded and classified by code point range (fold_cp), which is a
 * handful of compares for the common scripts. The Latin tables below were
 * derived from the Unicode character data: each letter's base letter after
 * canonical decomposition, lower-cased, or, for letters that do not
 * decompose (stroked, ligatures, ß, þ), the letters people type instead.
 * An empty entry is a symbol (× ÷). Entries are never longer than the
 * character they replace, which is what keeps folded text within n bytes.
 */
#include <string.h>

#include "es_text.h"
#include "es_utf8.h"

enum { CLS_SEP, CLS_IGNORE, CLS_WORD, CLS_SOLO };

/* U+00C0 .. U+024F: Latin-1 letters, Latin Extended-A and B */
/* clang-format off */
static const char fold_latin[400][3] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i",
    "i", "i", "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u",
    "y", "th", "ss", "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e",
    "e", "i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "", "o", "u",
    "u", "u", "u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c",
    "c", "c", "c", "c", "c", "c", "d", "d", "d", "d", "e", "e", "e", "e", "e",
    "e", "e", "e", "e", "e", "g", "g", "g", "g", "g", "g", "g", "g", "h", "h",
    "h", "h", "i", "i", "i", "i", "i", "i", "i", "i", "i", "i", "ij", "ij",
    "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l", "l", "l", "l",
    "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o", "o", "o",
    "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
    "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u",
    "u", "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z",
    "z", "s", "b", "b", "b", "b", "\xc6\x85", "\xc6\x85", "\xc9\x94", "c",
    "c", "\xc9\x96", "d", "d", "d", "\xc6\x8d", "\xc7\x9d", "\xc9\x99",
    "\xc9\x9b", "f", "f", "g", "\xc9\xa3", "hv", "\xc9\xa9", "i", "k", "k",
    "l", "\xc6\x9b", "\xc9\xaf", "n", "n", "o", "o", "o", "oi", "oi", "p",
    "p", "\xca\x80", "\xc6\xa8", "\xc6\xa8", "\xca\x83", "\xc6\xaa", "t", "t",
    "t", "t", "u", "u", "\xca\x8a", "v", "y", "y", "z", "z", "\xca\x92",
    "\xc6\xb9", "\xc6\xb9", "\xc6\xba", "\xc6\xbb", "\xc6\xbd", "\xc6\xbd",
    "\xc6\xbe", "\xc6\xbf", "\xc7\x80", "\xc7\x81", "\xc7\x82", "\xc7\x83",
    "dz", "dz", "dz", "lj", "lj", "lj", "nj", "nj", "nj", "a", "a", "i", "i",
    "o", "o", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "\xc7\x9d",
    "a", "a", "a", "a", "ae", "ae", "g", "g", "g", "g", "k", "k", "o", "o",
    "o", "o", "\xc7\xaf", "\xc7\xaf", "j", "dz", "dz", "dz", "g", "g", "hv",
    "\xc6\xbf", "n", "n", "a", "a", "ae", "ae", "o", "o", "a", "a", "a", "a",
    "e", "e", "e", "e", "i", "i", "i", "i", "o", "o", "o", "o", "r", "r", "r",
    "r", "u", "u", "u", "u", "s", "s", "t", "t", "\xc8\x9d", "\xc8\x9d", "h",
    "h", "n", "d", "\xc8\xa3", "\xc8\xa3", "z", "z", "a", "a", "e", "e", "o",
    "o", "o", "o", "o", "o", "o", "o", "y", "y", "l", "n", "t", "\xc8\xb7",
    "\xc8\xb8", "\xc8\xb9", "a", "c", "c", "l", "t", "s", "z", "\xc9\x82",
    "\xc9\x82", "b", "\xca\x89", "\xca\x8c", "e", "e", "j", "j", "\xc9\x8b",
    "q", "r", "r", "y", "y",
};
/* clang-format on */

/* U+1E00 .. U+1EFF: Latin Extended Additional (Vietnamese, Welsh, …) */
/* clang-format off */
static const char fold_latin_ext[256][4] = {
    "a", "a", "b", "b", "b", "b", "b", "b", "c", "c", "d", "d", "d", "d", "d",
    "d", "d", "d", "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e",
    "f", "f", "g", "g", "h", "h", "h", "h", "h", "h", "h", "h", "h", "h", "i",
    "i", "i", "i", "k", "k", "k", "k", "k", "k", "l", "l", "l", "l", "l", "l",
    "l", "l", "m", "m", "m", "m", "m", "m", "n", "n", "n", "n", "n", "n", "n",
    "n", "o", "o", "o", "o", "o", "o", "o", "o", "p", "p", "p", "p", "r", "r",
    "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s", "s", "s", "s",
    "s", "t", "t", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u",
    "u", "u", "u", "u", "v", "v", "v", "v", "w", "w", "w", "w", "w", "w", "w",
    "w", "w", "w", "x", "x", "x", "x", "y", "y", "z", "z", "z", "z", "z", "z",
    "h", "t", "w", "y", "a", "s", "s", "s", "ss", "\xe1\xba\x9f", "a", "a",
    "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a",
    "a", "a", "a", "a", "a", "a", "a", "e", "e", "e", "e", "e", "e", "e", "e",
    "e", "e", "e", "e", "e", "e", "e", "e", "i", "i", "i", "i", "o", "o", "o",
    "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o", "o",
    "o", "o", "o", "o", "o", "o", "u", "u", "u", "u", "u", "u", "u", "u", "u",
    "u", "u", "u", "u", "u", "y", "y", "y", "y", "y", "y", "y", "y", "ll",
    "ll", "\xe1\xbb\xbd", "\xe1\xbb\xbd", "y", "y",
};
/* clang-format on */

/* Latin ligatures U+FB00 .. U+FB06 */
static const char fold_ligature[7][4] = {"ff",  "fi", "fl", "ffi",
                                         "ffl", "st", "st"};

/* Greek tonos and dialytika removed: U+03AC .. U+03CE, lower case */
static const uint16_t greek_plain[35] = {
    0x3b1, 0x3b5, 0x3b7, 0x3b9, 0x3c5, 0x3b1, 0x3b2, 0x3b3, 0x3b4,
    0x3b5, 0x3b6, 0x3b7, 0x3b8, 0x3b9, 0x3ba, 0x3bb, 0x3bc, 0x3bd,
    0x3be, 0x3bf, 0x3c0, 0x3c1, 0x3c3, 0x3c3, 0x3c4, 0x3c5, 0x3c6,
    0x3c7, 0x3c8, 0x3c9, 0x3b9, 0x3c5, 0x3bf, 0x3c5, 0x3c9};

/*
 * ASCII: the folded byte of a word character, 0 for a separator. Only
 * letters and digits are word characters; '_' and '\'' separate.
 */
static const unsigned char ascii_fold[128] = {
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0,   0,
    0,   0,   0,   0,   0,   'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j',
    'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y',
    'z', 0,   0,   0,   0,   0,   0,   'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
    'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
    'x', 'y', 'z', 0,   0,   0,   0,   0,
};

static size_t put_str(const char *s, char *out, size_t max)
{
    size_t k = strnlen(s, max);

    memcpy(out, s, k);
    return k;
}

static uint32_t greek_lower(uint32_t cp)
{
    if (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2) {
        cp += 0x20;
    } else if (cp == 0x386) {
        cp = 0x3ac;
    } else if (cp >= 0x388 && cp <= 0x38a) {
        cp += 37;
    } else if (cp == 0x38c) {
        cp = 0x3cc;
    } else if (cp == 0x38e || cp == 0x38f) {
        cp += 63;
    } else if (cp == 0x390) {
        return 0x3b9;
    }
    if (cp >= 0x3ac && cp <= 0x3ce) {
        cp = greek_plain[cp - 0x3ac];
    }
    return cp == 0x3c2 ? 0x3c3 : cp; /* final sigma */
}

static uint32_t cyrillic_lower(uint32_t cp)
{
    if (cp >= 0x410 && cp <= 0x42f) {
        cp += 0x20;
    } else if (cp >= 0x400 && cp <= 0x40f) {
        cp += 0x50;
    } else if (cp == 0x4c0) {
        cp = 0x4cf;
    } else if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48a && cp <= 0x4bf) ||
               (cp >= 0x4d0 && cp <= 0x52f)) {
        cp |= 1;
    } else if (cp >= 0x4c1 && cp <= 0x4ce && (cp & 1)) {
        cp += 1;
    }
    return cp == 0x451 ? 0x435 : cp; /* ё е */
}

/* Punctuation inside the alphabetic block U+0530 .. U+1DFF. */
static int mid_punct(uint32_t cp)
{
    return (cp >= 0x55a && cp <= 0x55f) || cp == 0x589 || cp == 0x5be ||
           cp == 0x5c0 || cp == 0x5c3 || cp == 0x5c6 || cp == 0x5f3 ||
           cp == 0x5f4 || cp == 0x60c || cp == 0x60d || cp == 0x61b ||
           cp == 0x61f || (cp >= 0x66a && cp <= 0x66d) || cp == 0x6d4 ||
           cp == 0x964 || cp == 0x965 || cp == 0x970 || cp == 0xe4f ||
           cp == 0xe5a || cp == 0xe5b || cp == 0x10fb ||
           (cp >= 0x1360 && cp <= 0x1368) || cp == 0x166d || cp == 0x166e ||
           cp == 0x1680 || (cp >= 0x16eb && cp <= 0x16ed) ||
           (cp >= 0x17d4 && cp <= 0x17da) || (cp >= 0x1800 && cp <= 0x180a) ||
           cp == 0x180e;
}

/* Fullwidth ASCII U+FF01 .. U+FF5E, folded as the ASCII it stands for. */
static int fold_fullwidth(uint32_t cp, char *out, size_t *len)
{
    unsigned char v = ascii_fold[cp - 0xfee0];

    if (v == 0) {
        return CLS_SEP;
    }
    out[0] = (char)v;
    *len = 1;
    return CLS_WORD;
}

/*
 * Classifies the non-ASCII code point cp and, for word and single-character
 * tokens, writes its folded bytes (never more than the UTF-8 length of cp)
 * into out and their count into *len.
 */
static int fold_cp(uint32_t cp, char *out, size_t *len)
{
    *len = 0;
    if (cp < 0xc0) {
        if (cp == 0xaa || cp == 0xba) {
            *len = put_str(cp == 0xaa ? "a" : "o", out, 1);
            return CLS_WORD;
        }
        if (cp == 0xb5) {
            *len = es_utf8_encode(0x3bc, out); /* micro sign: mu */
            return CLS_WORD;
        }
        return cp == 0xad ? CLS_IGNORE : CLS_SEP;
    }
    if (cp < 0x250) {
        *len = put_str(fold_latin[cp - 0xc0], out, 2);
        return *len ? CLS_WORD : CLS_SEP;
    }
    if (cp < 0x2b0) {
        *len = es_utf8_encode(cp, out);
        return CLS_WORD;
    }
    if (cp < 0x370) {
        return cp == 0x2bc ? CLS_SEP : CLS_IGNORE;
    }
    if (cp < 0x400) {
        if (cp == 0x37e || cp == 0x387 || cp == 0x375 || cp == 0x384 ||
            cp == 0x385) {
            return CLS_SEP;
        }
        *len = es_utf8_encode(greek_lower(cp), out);
        return CLS_WORD;
    }
    if (cp < 0x530) {
        if (cp == 0x482) {
            return CLS_SEP;
        }
        if (cp >= 0x483 && cp <= 0x489) {
            return CLS_IGNORE;
        }
        *len = es_utf8_encode(cyrillic_lower(cp), out);
        return CLS_WORD;
    }
    if (cp < 0x1e00) {
        if (mid_punct(cp)) {
            return CLS_SEP;
        }
        if ((cp >= 0x1ab0 && cp <= 0x1aff) || cp >= 0x1dc0) {
            return CLS_IGNORE;
        }
        *len = es_utf8_encode(cp, out);
        return CLS_WORD;
    }
    if (cp < 0x1f00) {
        *len = put_str(fold_latin_ext[cp - 0x1e00], out, 3);
        return CLS_WORD;
    }
    if (cp < 0x2000) {
        *len = es_utf8_encode(cp, out); /* Greek Extended, kept as written */
        return CLS_WORD;
    }
    if (cp < 0x2c00) {
        if (cp == 0x200c || cp == 0x200d || (cp >= 0x2060 && cp <= 0x2064)) {
            return CLS_IGNORE;
        }
        if ((cp >= 0x2600 && cp <= 0x27bf) || cp >= 0x2b00) {
            *len = es_utf8_encode(cp, out); /* symbols and dingbats: emoji */
            return CLS_SOLO;
        }
        return CLS_SEP;
    }
    if (cp < 0x2e00) {
        if (cp >= 0x2de0) {
            return CLS_IGNORE;
        }
        *len = es_utf8_encode(cp, out);
        return CLS_WORD;
    }
    if (cp < 0x3000) {
        if (cp < 0x2e80 || cp >= 0x2ff0) {
            return CLS_SEP;
        }
        *len = es_utf8_encode(cp, out);
        return CLS_SOLO;
    }
    if (cp < 0x3040) {
        if (cp >= 0x302a && cp <= 0x302f) {
            return CLS_IGNORE;
        }
        if (cp < 0x3005 || cp > 0x3007) {
            return CLS_SEP;
        }
        *len = es_utf8_encode(cp, out);
        return CLS_SOLO;
    }
    if (cp < 0x3200) {
        if (cp == 0x3099 || cp == 0x309a) {
            return CLS_IGNORE;
        }
        if (cp == 0x309b || cp == 0x309c || cp == 0x30a0 || cp == 0x30fb) {
            return CLS_SEP;
        }
        *len = es_utf8_encode(cp, out);
        return (cp >= 0x3130 && cp < 0x3190) ? CLS_WORD : CLS_SOLO;
    }
    if (cp < 0xa000) {
        if (cp < 0x3400 || (cp >= 0x4dc0 && cp < 0x4e00)) {
            return CLS_SEP;
        }
        *len = es_utf8_encode(cp, out);
        return CLS_SOLO;
    }
    if (cp < 0xe000) {
        *len = es_utf8_encode(cp, out);
        return cp < 0xa4d0 ? CLS_SOLO : CLS_WORD; /* Yi; Hangul, … */
    }
    if (cp < 0xf900) {
        return CLS_SEP; /* private use */
    }
    if (cp < 0xfb00) {
        *len = es_utf8_encode(cp, out);
        return CLS_SOLO;
    }
    if (cp < 0xfb07) {
        *len = put_str(fold_ligature[cp - 0xfb00], out, 3);
        return CLS_WORD;
    }
    if (cp < 0xfe00) {
        if (cp == 0xfd3e || cp == 0xfd3f) {
            return CLS_SEP;
        }
        *len = es_utf8_encode(cp, out);
        return CLS_WORD;
    }
    if (cp < 0xff00) {
        if (cp < 0xfe10 || (cp >= 0xfe20 && cp < 0xfe30) || cp == 0xfeff) {
            return CLS_IGNORE;
        }
        if (cp < 0xfe70) {
            return CLS_SEP;
        }
        *len = es_utf8_encode(cp, out);
        return CLS_WORD;
    }
    if (cp < 0x10000) {
        if (cp >= 0xff01 && cp <= 0xff5e) {
            return fold_fullwidth(cp, out, len);
        }
        if (cp == 0xff9e || cp == 0xff9f) {
            return CLS_IGNORE;
        }
        if (cp < 0xff66 || cp > 0xffdc) {
            return CLS_SEP;
        }
        *len = es_utf8_encode(cp, out);
        return cp < 0xffa0 ? CLS_SOLO : CLS_WORD;
    }
    if (cp < 0x1f000) {
        *len = es_utf8_encode(cp, out); /* other alphabets, historic scripts */
        return CLS_WORD;
    }
    if (cp < 0x1fb00) {
        if (cp >= 0x1f3fb && cp <= 0x1f3ff) {
            return CLS_IGNORE; /* skin tone */
        }
        *len = es_utf8_encode(cp, out);
        return CLS_SOLO;
    }
    if (cp >= 0x20000 && cp < 0x40000) {
        *len = es_utf8_encode(cp, out);
        return CLS_SOLO;
    }
    return (cp >= 0xe0000 && cp < 0xe1000) ? CLS_IGNORE : CLS_SEP;
}

/*
 * Decodes the well-formed UTF-8 character at p (n bytes available) into
 * *cp; returns its length, or 0 when the bytes are not valid UTF-8.
 */
static size_t decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];

    if (c >= 0xc2 && c <= 0xdf) {
        if (n < 2 || (p[1] & 0xc0) != 0x80) {
            return 0;
        }
        *cp = ((uint32_t)(c & 0x1f) << 6) | (p[1] & 0x3f);
        return 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
        unsigned char hi = c == 0xed ? 0x9f : 0xbf;
        if (n < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80) {
            return 0;
        }
        *cp = ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) |
              (p[2] & 0x3f);
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
        if (n < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 ||
            (p[3] & 0xc0) != 0x80) {
            return 0;
        }
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
              ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
        return 4;
    }
    return 0;
}

uint64_t es_text_hash(const char *s, size_t n)
{
    uint64_t h = ES_TEXT_HASH_INIT;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * ES_TEXT_HASH_PRIME;
    }
    return h;
}

size_t es_text_tokenize(const char *s, size_t n, char *fold, es_token *tok,
                        size_t max_tok)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0, nt = 0;
    size_t start = 0, src = 0; /* current word: fold offset, source offset */
    int in_word = 0;
    uint64_t h = ES_TEXT_HASH_INIT;

/* closes the word being built, if any */
#define END_WORD()                                                             \
    do {                                                                       \
        if (in_word) {                                                         \
            if (nt < max_tok) {                                                \
                tok[nt].off = (uint32_t)start;                                 \
                tok[nt].len = (uint32_t)(o - start);                           \
                tok[nt].src = (uint32_t)src;                                   \
                tok[nt].hash = h;                                              \
                nt++;                                                          \
            } else {                                                           \
                o = start;                                                     \
            }                                                                  \
            in_word = 0;                                                       \
        }                                                                      \
    } while (0)

    while (i < n) {
        unsigned char c = p[i];
        char buf[4];
        size_t len, k;
        uint32_t cp;
        int cls;

        if (c < 0x80) {
            unsigned char v = ascii_fold[c];
            if (v == 0) {
                END_WORD();
            } else {
                if (!in_word) {
                    in_word = 1;
                    start = o;
                    src = i;
                    h = ES_TEXT_HASH_INIT;
                }
                fold[o++] = (char)v;
                h = (h ^ v) * ES_TEXT_HASH_PRIME;
            }
            i++;
            continue;
        }
        len = decode(p + i, n - i, &cp);
        if (len == 0) {
            END_WORD(); /* invalid UTF-8 separates */
            i++;
            continue;
        }
        cls = fold_cp(cp, buf, &k);
        if (cls == CLS_IGNORE) {
            i += len;
            continue;
        }
        if (cls == CLS_SEP) {
            END_WORD();
            i += len;
            continue;
        }
        if (cls == CLS_SOLO) {
            END_WORD();
        }
        if (!in_word) {
            in_word = 1;
            start = o;
            src = i;
            h = ES_TEXT_HASH_INIT;
        }
        for (size_t j = 0; j < k; j++) {
            fold[o++] = buf[j];
            h = (h ^ (unsigned char)buf[j]) * ES_TEXT_HASH_PRIME;
        }
        if (cls == CLS_SOLO) {
            END_WORD();
        }
        i += len;
    }
    END_WORD();
#undef END_WORD
    return nt;
}
