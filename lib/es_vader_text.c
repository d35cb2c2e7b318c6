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
 * Speed: most tokens are plain ASCII words, so a token is first scanned
 * eight bytes at a time (alnum8), stopping at white space, punctuation or a
 * non-ASCII byte. A token that ends at white space is then done: it has no
 * punctuation to strip and no "n't", and its case is what the scan saw.
 * Only the other tokens go on character by character with the general
 * rules, from where the fast scan stopped. An ASCII key of up to 16 bytes
 * is lower-cased in two registers (lower8) and looked up after the whole
 * text is scanned: its table lines are prefetched at once, so the lookups
 * of a text overlap instead of each waiting on memory in turn.
 */
#include <string.h>

#include "es_utf8.h"
#include "es_vader_int.h"
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
    int upper, notupper;        /* has upper / lower or title case */
    int ascii;                  /* every byte is ASCII */
} token_scan;

/*
 * Decodes the character at s (n >= 1 bytes available) into *cp and returns
 * its length. An invalid sequence gives U+FFFD and the length of its maximal
 * subpart, exactly as Python's UTF-8 decoder with errors="replace" would.
 */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
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

/* Python's str.isspace() for non-ASCII code points. */
static int uspace(uint32_t cp)
{
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

static int in_ranges(const es_vader_ucd_pair *r, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;

    if (n == 0 || cp > r[n - 1].b) {
        return 0; /* emoji and the like: past every cased letter */
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cp < r[mid].a) {
            hi = mid;
        } else if (cp > r[mid].b) {
            lo = mid + 1;
        } else {
            return 1;
        }
    }
    return 0;
}

static uint32_t ulower(uint32_t cp)
{
    size_t lo = 0, hi = es_vader_ucd_nlower;

    if (hi == 0 || cp > es_vader_ucd_lower[hi - 1].a) {
        return cp;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cp < es_vader_ucd_lower[mid].a) {
            hi = mid;
        } else if (cp > es_vader_ucd_lower[mid].a) {
            lo = mid + 1;
        } else {
            return es_vader_ucd_lower[mid].b;
        }
    }
    return cp;
}

/*
 * str.lower() of s[0..n) into out (room for cap bytes). Returns the length,
 * or cap + 1 when it does not fit (then no key can match). Invalid bytes are
 * copied: they can never equal a (valid UTF-8) key, as Python's U+FFFD
 * could not either. *same is set when the lower case equals the input.
 */
static size_t lower(const char *s, size_t n, char *out, size_t cap, int *same)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;

    *same = 1;
    while (i < n) {
        uint32_t cp, lc;
        size_t k;

        if (u[i] < 0x80) {
            if (o >= cap) {
                return cap + 1;
            }
            if (cls[u[i]] & C_UPPER) {
                out[o++] = (char)(u[i] + 32);
                *same = 0;
            } else {
                out[o++] = (char)u[i];
            }
            i++;
            continue;
        }
        k = decode(u + i, n - i, &cp);
        if (o + 4 > cap) {
            return cap + 1;
        }
        if (cp == 0xfffd) {
            memcpy(out + o, s + i, k);
            o += k;
        } else if (cp == 0x130) {
            /* the one code point whose lower case is two: "i\u0307" */
            memcpy(out + o, "i\xcc\x87", 3);
            o += 3;
            *same = 0;
        } else {
            lc = ulower(cp);
            if (lc != cp) {
                *same = 0;
            }
            o += es_utf8_encode(lc, out + o);
        }
        i += k;
    }
    return o;
}

/* PUNC_LIST: one of .!?,;:-'" or one of the runs of ! and ? below. */
static int punc_list(const char *p, size_t n)
{
    static const struct {
        char s[4];
        size_t n;
    } multi[] = {{"!!", 2},  {"!!!", 3}, {"??", 2},   {"???", 3},
                 {"?!?", 3}, {"!?!", 3}, {"?!?!", 4}, {"!?!?", 4}};
    size_t i;

    if (n == 1) {
        return memchr(".!?,;:-'\"", p[0], 9) != NULL;
    }
    for (i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
        if (multi[i].n == n && memcmp(multi[i].s, p, n) == 0) {
            return 1;
        }
    }
    return 0;
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
 * Classifies the final token t (its case flags already set), which ends at
 * or before end, the end of the text. An ASCII key of 16 bytes or less, when
 * 16 bytes can be read at t->p, is lower-cased in two registers and left
 * for es_vader_tokenize's lookup pass (ES_VT_LATER), its table lines
 * prefetched; any other key is looked up here.
 */
static void classify(const es_vader *v, es_vader_tok *t, const token_scan *ts,
                     const char *end)
{
    /* the key, then zeros for es_vader_find */
    char buf[ES_VADER_KEY_MAX + 16];
    size_t cap = v->key_cap, ln, i;
    int same;

    t->lw = ES_VL_NONE;
    t->cs = ES_VC_NONE;
    t->e = &es_vader_none;
    if (ts->npunct > 0 && has_nt(t->p, t->len)) {
        t->flags |= ES_VT_NT;
    }
    if (ts->ascii) {
        const unsigned char *u = (const unsigned char *)t->p;

        if (t->len > cap) {
            return;
        }
        if (t->len <= 16 && end - t->p >= 16) {
            uint64_t k0, k1;

            memcpy(&k0, t->p, 8);
            memcpy(&k1, t->p + 8, 8);
            t->k0 = lower8(k0 & head_mask(t->len));
            t->k1 = lower8(k1 & head_mask(t->len > 8 ? t->len - 8 : 0));
            t->flags |= ts->upper ? ES_VT_LATER : ES_VT_LATER | ES_VT_SAME;
#if ES_VADER_SWAR
            {
                size_t home =
                    es_vader_key_hash(t->k0, t->k1, NULL, t->len) & v->mask;

                __builtin_prefetch(v->tags + home);
                __builtin_prefetch(v->slots + home);
            }
#endif
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
    ln = lower(t->p, t->len, buf, cap, &same);
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
static void scan_token(const unsigned char *u, size_t n, size_t start,
                       size_t pos, unsigned acc, token_scan *ts,
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
            size_t k = decode(u + pos, n - pos, &cp);

            if (uspace(cp)) {
                break;
            }
            ts->ascii = 0;
            in_lead = 0;
            ts->trail = 0;
            if (cp != 0xfffd && !ts->notupper) {
                if (in_ranges(es_vader_ucd_notupper, es_vader_ucd_nnotupper,
                              cp)) {
                    ts->notupper = 1;
                } else if (!ts->upper && in_ranges(es_vader_ucd_upper,
                                                   es_vader_ucd_nupper, cp)) {
                    ts->upper = 1;
                }
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
        k = decode(u + pos, n - pos, &cp);
        if (!uspace(cp)) {
            break;
        }
        pos += k;
    }
    return pos;
}

size_t es_vader_tokenize(const es_vader *v, const char *text, size_t n,
                         es_vader_tok *toks, size_t cap,
                         es_vader_counts *counts)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t pos = 0, nt = 0, i;

    memset(counts, 0, sizeof(*counts));
    for (;;) {
        token_scan ts;
        size_t start;
        unsigned acc;
        es_vader_tok *t;

        pos = skip_space(u, n, pos);
        if (pos >= n) {
            break;
        }
        /* a token of letters and digits ends at white space: done */
        start = pos;
        pos = scan_plain(u, n, pos, &acc);
        if (pos < n && !(cls[u[pos]] & C_SPACE)) {
            scan_token(u, n, start, pos, acc, &ts, counts);
            pos = ts.end;
        } else {
            ts.end = pos;
            ts.nchar = pos - start;
            ts.lead = ts.trail = ts.npunct = 0;
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
        classify(v, t, &ts, text + n);
    }
    /* the lookups left for now, their table lines on their way meanwhile */
    for (i = 0; i < nt; i++) {
        es_vader_tok *t = &toks[i];

        if (t->flags & ES_VT_LATER) {
            int same = (t->flags & ES_VT_SAME) != 0;

            t->flags &= (uint8_t) ~(ES_VT_LATER | ES_VT_SAME);
            set_entry(t, es_vader_find(v, t->k0, t->k1, NULL, t->len), same);
        }
    }
    return nt;
}
