/*
 * es_vader_text.c - NLTK VADER's tokenizer (SentiText) for raw bytes.
 *
 * NLTK splits the text with str.split() (any Unicode white space), keeps
 * tokens of two or more characters and, through its _words_plus_punc table,
 * replaces a token by its word when the token is that word with one item of
 * PUNC_LIST directly before or after it, the word being punctuation-free and
 * at least two characters long. The table is built from the whole text, but
 * a token is only ever looked up with its own word, so the rule is local:
 * that is what makes one linear pass enough here.
 *
 * "Characters" are Python's: the bytes are decoded as UTF-8 and each invalid
 * sequence counts as the one U+FFFD Python's "replace" handler makes of it
 * (the maximal subpart rule), which matters only for the two-character
 * minimum. Lower-casing and the ALL CAPS test use the Unicode tables in
 * es_vader_ucd.c, taken from the Python that runs NLTK.
 *
 * Speed: most tokens are plain ASCII words followed by white space. The
 * 16 bytes at a token's start are classified at once (scan16: SSE2 where
 * there is SSE2, a short loop elsewhere): where the plain run ends, its
 * upper- and lower-case letters, and the run lower-cased and cut in the
 * same register, which is the token's lookup key. A token that ends there
 * at white space is done (emit_plain) without a loop over its bytes; only
 * the others (punctuation to strip, "n't", non-ASCII, 16 bytes or more)
 * go on with the general rules, from where the fast scan stopped. Near the
 * end of the text the 16 bytes come from a zero-padded copy of its last
 * bytes (text_view), so nothing past the text is ever read. The lookups of
 * the ASCII keys of 16 bytes or less wait until the whole text is split:
 * their slots are prefetched at once, so the lookups of a text overlap
 * instead of each waiting on memory in turn.
 */
#include <string.h>

#include "es_vader_int.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "es_vader_ucd.h"

/*
 * Byte classes. C_UPPER is 0x20 on purpose: c | (cls[c] & C_UPPER) is the
 * lower case of any ASCII byte c.
 */
#define C_SPACE 0x01 /* str.isspace() */
#define C_PUNCT 0x02 /* Python's string.punctuation */
#define C_LOWER 0x04
#define C_HIGH  0x08 /* not ASCII: decoded as UTF-8 */
#define C_UPPER 0x20

#define S_ C_SPACE
#define P_ C_PUNCT
#define L_ C_LOWER
#define H_ C_HIGH
#define U_ C_UPPER

/* clang-format off */
static const unsigned char cls[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  S_, S_, S_, S_, S_, 0,  0,  /* 0x00 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  S_, S_, S_, S_, /* 0x10 */
    S_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, P_, /* 0x20 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  P_, P_, P_, P_, P_, P_, /* 0x30 */
    P_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, /* 0x40 */
    U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, P_, P_, P_, P_, P_, /* 0x50 */
    P_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, /* 0x60 */
    L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, P_, P_, P_, P_, 0,  /* 0x70 */
    H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, /* 0x80 */
    H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_,
    H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_,
    H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_,
    H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_,
    H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_,
    H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_,
    H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_, H_,
};
/* clang-format on */

#undef S_
#undef P_
#undef L_
#undef H_
#undef U_

/* What scanning one token found. */
typedef struct {
    size_t end;                 /* the byte after the token */
    size_t nchar;               /* characters (Python's, after decoding) */
    size_t lead, trail, npunct; /* leading, trailing, all punctuation */
    size_t napos;               /* apostrophes (for "n't") */
    int upper, notupper;        /* has upper / lower or title case */
    int ascii;                  /* every byte is ASCII */
} token_scan;

/* PUNC_LIST: one of .!?,;:-'" or one of the runs of ! and ? below. */
static int punc_list(const char *p, size_t n)
{
    unsigned c = (unsigned char)p[0];

    if (n == 1) {
        return c == '.' || c == '!' || c == '?' || c == ',' || c == ';' ||
               c == ':' || c == '-' || c == '\'' || c == '"';
    }
    switch (n) {
    case 2:
        return memcmp(p, "!!", 2) == 0 || memcmp(p, "??", 2) == 0;
    case 3:
        return memcmp(p, "!!!", 3) == 0 || memcmp(p, "???", 3) == 0 ||
               memcmp(p, "?!?", 3) == 0 || memcmp(p, "!?!", 3) == 0;
    case 4:
        return memcmp(p, "?!?!", 4) == 0 || memcmp(p, "!?!?", 4) == 0;
    default:
        return 0;
    }
}

static int has_nt(const char *s, size_t n)
{
    const char *p = s, *end = s + n;

    while (p < end) {
        p = memchr(p, '\'', (size_t)(end - p));
        if (p == NULL) {
            return 0;
        }
        if (p > s && p + 1 < end && (p[-1] | 0x20) == 'n' &&
            (p[1] | 0x20) == 't') {
            return 1;
        }
        p++;
    }
    return 0;
}

size_t es_vader_max_tokens(size_t n)
{
    /* a kept token has two bytes or more and a separator after it */
    return n / 3 + 1;
}

/* A mask of the first n bytes (n <= 8) of a 64-bit word loaded by memcpy. */
static uint64_t head_mask(size_t n)
{
    if (n >= 8) {
        return ~(uint64_t)0;
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return n == 0 ? 0 : ~(uint64_t)0 << (64 - 8 * n);
#else
    return ((uint64_t)1 << (8 * n)) - 1;
#endif
}

/*
 * Eight ASCII bytes lower-cased at once: bit 7 of w + 0x3f is set in the
 * bytes >= 'A', that of w + 0x25 in those >= '[' (no byte carries, all
 * being below 0x80); their difference marks A-Z, shifted to 0x20.
 */
static uint64_t lower8(uint64_t w)
{
    uint64_t ge_a = w + 0x3f3f3f3f3f3f3f3full;
    uint64_t ge_z1 = w + 0x2525252525252525ull;

    return w | (((ge_a ^ ge_z1) & 0x8080808080808080ull) >> 2);
}

#define HI8 0x8080808080808080ull

/*
 * Bit 7 set in each byte of w that is an ASCII letter or digit, as in
 * lower8 (on the low 7 bits, so no byte carries; bytes >= 0x80 are then
 * dropped); *upper and *lower get the bits of the upper- and lower-case
 * letters.
 */
static uint64_t alnum8(uint64_t w, uint64_t *upper, uint64_t *lower)
{
    uint64_t x = w & ~HI8;
    uint64_t digit = (x + 0x5050505050505050ull) ^ (x + 0x4646464646464646ull);
    uint64_t up = (x + 0x3f3f3f3f3f3f3f3full) ^ (x + 0x2525252525252525ull);
    uint64_t lo = (x + 0x1f1f1f1f1f1f1f1full) ^ (x + 0x0505050505050505ull);

    *upper = up & ~w & HI8;
    *lower = lo & ~w & HI8;
    return (digit | up | lo) & ~w & HI8;
}

/*
 * The fast scan of a token at pos: as far as it has letters and digits
 * (and, in the last bytes of the text, other ASCII that is neither space
 * nor punctuation). Returns where it stopped; *acc gets C_UPPER and
 * C_LOWER as seen.
 */
static size_t scan_plain(const unsigned char *u, size_t n, size_t pos,
                         unsigned *acc)
{
    unsigned a = 0;

#if ES_VADER_SWAR
    uint64_t ups = 0, los = 0;

    while (n - pos >= 8) {
        uint64_t w, up, lo, stop;

        memcpy(&w, u + pos, 8);
        stop = ~alnum8(w, &up, &lo) & HI8;
        if (stop != 0) {
            uint64_t keep = head_mask((size_t)__builtin_ctzll(stop) >> 3);

            ups |= up & keep;
            los |= lo & keep;
            pos += (size_t)__builtin_ctzll(stop) >> 3;
            *acc = (ups ? C_UPPER : 0) | (los ? C_LOWER : 0);
            return pos;
        }
        ups |= up;
        los |= lo;
        pos += 8;
    }
    a = (ups ? C_UPPER : 0) | (los ? C_LOWER : 0);
#endif
    while (pos < n && !(cls[u[pos]] & (C_SPACE | C_PUNCT | C_HIGH))) {
        a |= cls[u[pos]];
        pos++;
    }
    *acc = a;
    return pos;
}

/*
 * The text being split, with a copy of its last bytes followed by zeros,
 * so that 16 bytes can be read from any position in it (load16, scan16).
 */
typedef struct {
    const char *text;
    size_t n;
    const char *tail_at; /* tail[0] is the byte at tail_at */
    char tail[48];
} text_view;

static void view_init(text_view *tv, const char *text, size_t n)
{
    tv->text = text;
    tv->n = n;
    tv->tail_at = text + (n > 16 ? n - 16 : 0);
    memset(tv->tail, 0, sizeof(tv->tail));
    if (n > 0) {
        memcpy(tv->tail, tv->tail_at, (size_t)(text + n - tv->tail_at));
    }
}

/* The 16 bytes at p (a position in the text); zeros past its end. */
static const char *at16(const text_view *tv, const char *p)
{
    return tv->text + tv->n - p >= 16 ? p : tv->tail + (p - tv->tail_at);
}

/* What scan16 found at the start of a token. */
typedef struct {
    unsigned len;    /* bytes before the first that is no plain byte */
    unsigned up, lo; /* bit i: byte i (< len) is an upper / lower letter */
    uint64_t k0, k1; /* those len bytes lower-cased, then zeros */
} plain16;

/*
 * Scans the 16 bytes at p, of which avail are in the text, for plain bytes:
 * ASCII that is neither white space nor punctuation (letters, digits,
 * control characters). len is 16 when all of them are.
 */
static void scan16(const char *p, size_t avail, plain16 *o)
{
#if defined(__SSE2__)
    const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    const __m128i iota =
        _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#define BETWEEN(lo, hi)                                                        \
    _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(lo)),                        \
                  _mm_cmplt_epi8(x, _mm_set1_epi8(hi)))
    /* as signed bytes: non-ASCII is below every range */
    __m128i up = BETWEEN(0x40, 0x5b), lo = BETWEEN(0x60, 0x7b);
    __m128i alnum = _mm_or_si128(_mm_or_si128(up, lo), BETWEEN(0x2f, 0x3a));
    /* white space 0x09-0x0d, 0x1c-0x20; punctuation: the rest to 0x7e */
    __m128i stop = _mm_or_si128(BETWEEN(0x08, 0x0e),
                                _mm_andnot_si128(alnum, BETWEEN(0x1b, 0x7f)));
#undef BETWEEN
    unsigned bits = (unsigned)_mm_movemask_epi8(_mm_or_si128(stop, x));
    __m128i key;

    bits |= ~0u << (avail < 16 ? avail : 16);
    o->len = (unsigned)__builtin_ctz(bits);
    o->up = (unsigned)_mm_movemask_epi8(up) & ((1u << o->len) - 1);
    o->lo = (unsigned)_mm_movemask_epi8(lo) & ((1u << o->len) - 1);
    key = _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20)));
    key = _mm_and_si128(key, _mm_cmplt_epi8(iota, _mm_set1_epi8((char)o->len)));
    o->k0 = (uint64_t)_mm_cvtsi128_si64(key);
    o->k1 = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(key, key));
#else
    const unsigned char *u = (const unsigned char *)p;
    unsigned char key[16];
    unsigned i;

    memset(key, 0, sizeof(key));
    o->up = o->lo = 0;
    for (i = 0; i < 16 && i < avail; i++) {
        unsigned k = cls[u[i]];

        if (k & (C_SPACE | C_PUNCT | C_HIGH)) {
            break;
        }
        o->up |= (k & C_UPPER) ? 1u << i : 0;
        o->lo |= (k & C_LOWER) ? 1u << i : 0;
        key[i] = (unsigned char)(u[i] | (k & C_UPPER));
    }
    o->len = i;
    memcpy(&o->k0, key, 8);
    memcpy(&o->k1, key + 8, 8);
#endif
}

/* Classifies t by the entry of its lower-case key (es_vader_none: none). */
static void set_entry(es_vader_tok *t, const es_vader_entry *e, int same)
{
    t->e = e;
    t->flags |= e->flags;
    t->lw = e->lw;
    t->cs = same ? e->cs : ES_VC_NONE;
}

/* Looks up the key in buf, zero-padded by 16 bytes after its n. */
static const es_vader_entry *find_buf(const es_vader *v, const char *buf,
                                      size_t n)
{
    uint64_t k0, k1;

    memcpy(&k0, buf, 8);
    memcpy(&k1, buf + 8, 8);
    return es_vader_find(v, k0, k1, buf, n);
}

/*
 * Classifies the final token t (its case flags already set), a part of the
 * text tv. An ASCII key of 16 bytes or less is lower-cased in two
 * registers and left
 * for es_vader_tokenize's lookup pass (ES_VT_LATER), its table lines
 * prefetched; any other key is looked up here.
 */
static void classify(const es_vader *v, es_vader_tok *t, const token_scan *ts,
                     const text_view *tv)
{
    /* the key, then zeros for es_vader_find */
    char buf[ES_VADER_KEY_MAX + 16];
    size_t cap = v->key_cap, ln, i;
    int same;

    t->lw = ES_VL_NONE;
    t->cs = ES_VC_NONE;
    t->e = &es_vader_none;
    if (ts->napos > 0 && has_nt(t->p, t->len)) {
        t->flags |= ES_VT_NT;
    }
    if (ts->ascii) {
        const unsigned char *u = (const unsigned char *)t->p;

        if (t->len > cap) {
            return;
        }
        if (t->len <= 16) {
            const char *p = at16(tv, t->p);
            uint64_t k0, k1;

            memcpy(&k0, p, 8);
            memcpy(&k1, p + 8, 8);
            t->k0 = lower8(k0 & head_mask(t->len));
            t->k1 = lower8(k1 & head_mask(t->len > 8 ? t->len - 8 : 0));
            t->flags |= ts->upper ? ES_VT_LATER : ES_VT_LATER | ES_VT_SAME;
            /* the one slot the key can be in, confirmed later */
            t->e = es_vader_slot(
                v, es_vader_key_hash(v->hseed, t->k0, t->k1, NULL, t->len));
            ES_VADER_PREFETCH(t->e);
            return;
        }
        for (i = 0; i < t->len; i++) {
            buf[i] = (char)(u[i] | (cls[u[i]] & C_UPPER));
        }
        memset(buf + t->len, 0, 16);
        set_entry(t, find_buf(v, buf, t->len), !ts->upper);
        return;
    }
    /* lower-casing shrinks a character to a third at most (U+212A) */
    if (t->len > 3 * cap + 3) {
        return;
    }
    ln = es_vader_lower(v, t->p, t->len, buf, cap, &same);
    if (ln > cap) {
        return;
    }
    memset(buf + ln, 0, 16);
    set_entry(t, find_buf(v, buf, ln), same);
}

/*
 * Scans the token at start character by character from pos on, where the
 * fast scan stopped: any bytes, punctuation runs, Unicode case. Counts '!'
 * and '?' into counts.
 */
static void scan_token(const es_vader *v, const unsigned char *u, size_t n,
                       size_t start, size_t pos, unsigned acc, token_scan *ts,
                       es_vader_counts *counts)
{
    int in_lead = pos == start;

    /* [start, pos) held only letters and digits (acc: their case) */
    memset(ts, 0, sizeof(*ts));
    ts->ascii = 1;
    ts->nchar = pos - start;
    ts->upper = (acc & C_UPPER) != 0;
    ts->notupper = (acc & C_LOWER) != 0;
    while (pos < n) {
        unsigned c = u[pos];

        if (c < 0x80) {
            unsigned k = cls[c];

            if (k & C_SPACE) {
                break;
            }
            if (k & C_PUNCT) {
                counts->nexcl += c == '!';
                counts->nquest += c == '?';
                ts->napos += c == '\'';
                ts->npunct++;
                ts->trail++;
                ts->lead += in_lead;
            } else {
                in_lead = 0;
                ts->trail = 0;
                ts->upper |= (k & C_UPPER) != 0;
                ts->notupper |= (k & C_LOWER) != 0;
            }
            pos++;
        } else {
            uint32_t cp;
            size_t k = es_vader_decode(u + pos, n - pos, &cp);

            if (es_vader_uspace(cp)) {
                break;
            }
            ts->ascii = 0;
            in_lead = 0;
            ts->trail = 0;
            if (!ts->notupper) {
                int cc = es_vader_case_class(v, cp);

                ts->notupper = cc == ES_VADER_CASE_NOTUPPER;
                ts->upper |= cc == ES_VADER_CASE_UPPER;
            }
            pos += k;
        }
        ts->nchar++;
    }
    ts->end = pos;
}

/* Skips white space from pos; returns the first position that is not. */
static size_t skip_space(const unsigned char *u, size_t n, size_t pos)
{
    while (pos < n) {
        uint32_t cp;
        size_t k;

        if (u[pos] < 0x80) {
            if (!(cls[u[pos]] & C_SPACE)) {
                break;
            }
            pos++;
            continue;
        }
        k = es_vader_decode(u + pos, n - pos, &cp);
        if (!es_vader_uspace(cp)) {
            break;
        }
        pos += k;
    }
    return pos;
}

/*
 * Emits the plain token of len bytes at p (ASCII, no white space or
 * punctuation, 2 <= len <= 16) that scan16 described in o: the common
 * token, classified without going through token_scan and classify.
 */
static void emit_plain(const es_vader *v, es_vader_tok *t, const char *p,
                       const plain16 *o, es_vader_counts *counts)
{
    int upper = o->up != 0 && o->lo == 0;

    t->p = p;
    t->len = o->len;
    t->flags = upper ? ES_VT_UPPER : 0;
    counts->nupper += (size_t)upper;
    t->lw = ES_VL_NONE;
    t->cs = ES_VC_NONE;
    t->e = &es_vader_none;
    if (o->len > v->key_cap) {
        return;
    }
    t->k0 = o->k0;
    t->k1 = o->k1;
    t->flags |= o->up != 0 ? ES_VT_LATER : ES_VT_LATER | ES_VT_SAME;
    /* the one slot the key can be in, confirmed later */
    t->e = es_vader_slot(
        v, es_vader_key_hash(v->hseed, t->k0, t->k1, NULL, t->len));
    ES_VADER_PREFETCH(t->e);
}

size_t es_vader_tokenize(const es_vader *v, const char *text, size_t n,
                         es_vader_tok *toks, size_t cap,
                         es_vader_counts *counts)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t pos = 0, nt = 0, i;
    text_view tv;

    view_init(&tv, text, n);
    memset(counts, 0, sizeof(*counts));
    for (;;) {
        token_scan ts;
        size_t start;
        unsigned acc;
        plain16 o;
        es_vader_tok *t;

        pos = skip_space(u, n, pos);
        if (pos >= n) {
            break;
        }
        /* a token of letters and digits ends at white space: done */
        start = pos;
        scan16(at16(&tv, text + start), n - start, &o);
        pos = start + o.len;
        if (pos >= n || (cls[u[pos]] & C_SPACE)) {
            if (o.len >= 2 && nt < cap) {
                emit_plain(v, &toks[nt++], text + start, &o, counts);
            }
            continue;
        }
        acc = (o.up != 0 ? C_UPPER : 0) | (o.lo != 0 ? C_LOWER : 0);
        if (o.len == 16) {
            unsigned more;

            pos = scan_plain(u, n, pos, &more);
            acc |= more;
        }
        if (pos < n && !(cls[u[pos]] & C_SPACE)) {
            scan_token(v, u, n, start, pos, acc, &ts, counts);
            pos = ts.end;
        } else {
            ts.end = pos;
            ts.nchar = pos - start;
            ts.lead = ts.trail = ts.npunct = ts.napos = 0;
            ts.upper = (acc & C_UPPER) != 0;
            ts.notupper = (acc & C_LOWER) != 0;
            ts.ascii = 1;
        }
        if (ts.nchar < 2 || nt >= cap) {
            continue;
        }
        t = &toks[nt++];
        t->p = text + start;
        t->len = (uint32_t)(ts.end - start);
        /*
         * _words_plus_punc: PUNC_LIST item + punctuation-free word of two
         * characters or more (or the word + the item) becomes the word
         */
        if (ts.lead > 0 && ts.lead < t->len && ts.npunct == ts.lead &&
            ts.nchar - ts.lead >= 2 && punc_list(t->p, ts.lead)) {
            t->p += ts.lead;
            t->len -= (uint32_t)ts.lead;
        } else if (ts.lead == 0 && ts.trail > 0 && ts.npunct == ts.trail &&
                   ts.nchar - ts.trail >= 2 &&
                   punc_list(t->p + t->len - ts.trail, ts.trail)) {
            t->len -= (uint32_t)ts.trail;
        }
        t->flags = 0;
        if (ts.upper && !ts.notupper) {
            t->flags |= ES_VT_UPPER;
            counts->nupper++;
        }
        classify(v, t, &ts, &tv);
    }
    /* the lookups left for now, their slots on their way meanwhile */
    for (i = 0; i < nt; i++) {
        es_vader_tok *t = &toks[i];

        if (t->flags & ES_VT_LATER) {
            int same = (t->flags & ES_VT_SAME) != 0;

            t->flags &= (uint8_t) ~(ES_VT_LATER | ES_VT_SAME);
            set_entry(t, es_vader_confirm16(t->e, t->k0, t->k1, t->len), same);
        }
    }
    return nt;
}
