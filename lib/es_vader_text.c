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
 * Speed: most tokens are ASCII words shorter than 16 bytes followed by
 * white space. The 16 bytes at a token's start are classified at once
 * (es_vader_win.h): where the token ends, whether it is all letters and
 * digits, its case, where the next token starts, and its lookup key,
 * lower-cased in the same register. Such a token is handled with a few bit
 * operations and no loop over its bytes; one with punctuation takes a
 * second look at the same window for _words_plus_punc's stripping and
 * "n't", decided from bits without branches (the forms of punctuated tokens
 * are as good as random, and a mispredicted branch costs as much as dozens
 * of instructions). Only the others (non-ASCII bytes, 16 bytes or more) go
 * character by character from where the plain run stopped, lower-cased as
 * they are scanned so that no character is decoded twice. '!' and '?' are
 * counted over the whole text in one pass, since NLTK counts them in the
 * text, not in tokens. Near the end of the text the 16 bytes come from a
 * zero-padded copy of its last bytes (text_view), so nothing past the text
 * is ever read. The lookups of keys of 16 bytes or less wait for the last
 * pass over the tokens (finish): their slots are prefetched as the tokens
 * are split, so the lookups of a text wait on memory together instead of
 * one after another; that pass also gathers what the rules ask of the text
 * as a whole (es_vader_counts).
 */
#include <string.h>

#include "es_utf8.h"
#include "es_vader_int.h"

#include "es_vader_ucd.h"
#include "es_vader_win.h"

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

/*
 * What scanning one token character by character found, the token
 * lower-cased on the way (str.lower(), so that no character is decoded
 * twice): up to lim bytes of it, the key's longest plus the longest
 * PUNC_LIST item stripping may remove, beyond which no key can match.
 */
typedef struct {
    size_t end;                 /* the byte after the token */
    size_t nchar;               /* characters (Python's, after decoding) */
    size_t lead, trail, npunct; /* leading, trailing, all punctuation */
    size_t napos;               /* apostrophes (for "n't") */
    int upper, notupper;        /* has upper / lower or title case */
    int ascii;                  /* every byte is ASCII */
    int same;                   /* the lower case is the token as is */
    int over;                   /* the lower case is longer than lim */
    size_t olen, lim;           /* bytes of low */
    char low[ES_VADER_KEY_MAX + 24];
} token_scan;

/* Appends the k bytes at s to ts->low, or marks it too long. */
static void put_low(token_scan *ts, const void *s, size_t k)
{
    if (ts->olen + k > ts->lim) {
        ts->over = 1;
        return;
    }
    memcpy(ts->low + ts->olen, s, k);
    ts->olen += k;
}

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
 * so that 16 bytes can be read from any position in it (at16, es_vader_win16).
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
    /* a select rather than a branch: where a text ends is no pattern */
    const char *tail = tv->tail + (p - tv->tail_at);
    uintptr_t near = (uintptr_t)0 - (uintptr_t)(tv->text + tv->n - p < 16);

    return (const char *)(((uintptr_t)p & ~near) | ((uintptr_t)tail & near));
}

/*
 * Classifies t (its flags of case and "n't" set) by e, the entry of its
 * lower-case key (es_vader_none: none); same: the key is the token as
 * written (the words NLTK compares case-sensitively). ES_VT_MOD marks the
 * words the rules act on before a lexicon word.
 */
static void set_entry(es_vader_tok *t, const es_vader_entry *e, int same)
{
    /* & rather than ?: no branch on the word */
    unsigned flags = t->flags | e->flags, cs = e->cs & (0u - (same != 0));
    /* | rather than ||: no branch on the word */
    unsigned mod =
        ((flags & (ES_VT_NEGATED | ES_VW_BOOST | ES_VW_DAMPEN)) != 0) |
        ((unsigned)(cs - ES_VC_NEVER) <= ES_VC_THIS - ES_VC_NEVER);

    t->e = e;
    t->flags = (uint8_t)(flags | mod * ES_VT_MOD);
    t->lw = e->lw;
    t->cs = (uint8_t)cs;
}

/*
 * Leaves the lookup of t's key of klen <= 16 bytes k0, k1 (zero-padded) for
 * es_vader_tokenize's last pass, its slot computed and prefetched now: the
 * lookups of a text then wait on memory together, not one after another.
 * same: as for set_entry (kept in t->lw meanwhile).
 */
static inline void defer(const es_vader *v, es_vader_tok *t, uint64_t k0,
                         uint64_t k1, unsigned klen, int same)
{
    t->k0 = k0;
    t->k1 = k1;
    t->klen = (uint8_t)klen;
    t->flags |= ES_VT_LATER;
    t->lw = (uint8_t)same;
    t->e = es_vader_slot(v, es_vader_key_hash(v->hseed, k0, k1, NULL, klen));
    ES_VADER_PREFETCH(t->e);
}

/*
 * Classifies the final token t of the general path (its case flags already
 * set) by its key: the lower case ts->low less the off bytes stripped
 * before it and cut bytes in all (ASCII punctuation: a byte each in the
 * lower case too). A key of 16 bytes or less is left for es_vader_tokenize's
 * lookup pass (defer); a longer one is looked up here.
 */
static void classify(const es_vader *v, es_vader_tok *t, token_scan *ts,
                     size_t off, size_t cut)
{
    char *key = ts->low + off;
    size_t klen = ts->olen - cut;
    int same = ts->ascii ? !ts->upper : ts->same;
    uint64_t k0, k1;

    if (ts->napos > 0 && has_nt(t->p, t->len)) {
        t->flags |= ES_VT_NT;
    }
    if (ts->over || klen > v->key_cap) {
        set_entry(t, &es_vader_none, 0);
        return;
    }
    /* zeros after the key, for the hash and the compare */
    memset(key + klen, 0, 16);
    memcpy(&k0, key, 8);
    memcpy(&k1, key + 8, 8);
    if (klen <= 16) {
        defer(v, t, k0, k1, klen, same);
        return;
    }
    set_entry(t, es_vader_find(v, k0, k1, key, klen), same);
}

/*
 * Scans the token at start character by character from pos on, where the
 * fast scan stopped: any bytes, punctuation runs, Unicode case.
 */
static void scan_token(const es_vader *v, const unsigned char *u, size_t n,
                       size_t start, size_t pos, unsigned acc, token_scan *ts)
{
    int in_lead = pos == start;

    /* [start, pos) held only letters and digits (acc: their case), and is
       in ts->low already */
    ts->ascii = 1;
    ts->nchar = pos - start;
    ts->lead = ts->trail = ts->npunct = ts->napos = 0;
    ts->upper = (acc & C_UPPER) != 0;
    ts->notupper = (acc & C_LOWER) != 0;
    while (pos < n) {
        unsigned c = u[pos];

        if (c < 0x80) {
            unsigned k = cls[c];
            char lc = (char)(c | (k & C_UPPER));

            if (k & C_SPACE) {
                break;
            }
            if (k & C_PUNCT) {
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
            put_low(ts, &lc, 1);
            pos++;
        } else {
            uint32_t cp;
            size_t k = es_vader_decode(u + pos, n - pos, &cp);
            int32_t info;
            uint32_t lc;
            char enc[4];

            if (es_vader_uspace(cp)) {
                break;
            }
            ts->ascii = 0;
            in_lead = 0;
            ts->trail = 0;
            info = es_vader_case_info(v, cp);
            ts->notupper |= (info & 3) == ES_VADER_CASE_NOTUPPER;
            ts->upper |= (info & 3) == ES_VADER_CASE_UPPER;
            /* str.lower(): U+0130 is the one code point whose lower case
               is two; an invalid sequence (U+FFFD here) stays as its bytes,
               which no valid UTF-8 key can equal, as Python's U+FFFD could
               not either */
            lc = (uint32_t)((int32_t)cp + (info - (info & 3)) / 4);
            if (cp == 0x130) {
                put_low(ts, "i\xcc\x87", 3);
                ts->same = 0;
            } else if (lc == cp || cp == 0xfffd) {
                put_low(ts, u + pos, k);
            } else {
                put_low(ts, enc, es_utf8_encode(lc, enc));
                ts->same = 0;
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
 * punc_list for the run of n punctuation bytes from byte at of the window w
 * (c: its first byte), from the window's bits and without a branch: one of
 * .!?,;:-'" alone, or a run of '!' and '?' in one of PUNC_LIST's patterns.
 */
static unsigned punc_run(const es_vader_win_punct *w, unsigned at, unsigned n,
                         unsigned c)
{
    /* the single items, as bits of the byte (c < 0x80: c is punctuation) */
    static const uint64_t single[2] = {
        (1ull << '!') | (1ull << '"') | (1ull << '\'') | (1ull << ',') |
            (1ull << '-') | (1ull << '.') | (1ull << ':') | (1ull << ';') |
            (1ull << '?'),
        0};
    /* per run length: the patterns of '!' (bit i: byte i is '!') allowed
       when every byte is '!' or '?': "!!" "??"; "!!!" "???" "?!?" "!?!";
       "?!?!" "!?!?" */
    static const uint16_t runs[5] = {
        0, 0, (1u << 0) | (1u << 3),
        (1u << 0) | (1u << 2) | (1u << 5) | (1u << 7), (1u << 5) | (1u << 10)};
    unsigned m = (1u << n) - 1, e = (w->excl >> at) & m,
             q = (w->quest >> at) & m, k = n < 5 ? n : 0;
    unsigned one = (unsigned)(single[(c >> 6) & 1] >> (c & 63)) & 1;
    /* runs[0] is 0: e & 15 keeps the shift defined for longer runs */
    unsigned more = ((e | q) == m) & ((unsigned)runs[k] >> (e & 15)) & 1;

    return (one & (n == 1)) | (more & (n != 1));
}

/*
 * The ASCII token t of len bytes (2 <= len < 16) at p that has punctuation
 * or control characters, p16 being the window taken there:
 * _words_plus_punc's stripping and "n't", from the window's bits (the same
 * decisions scan_token and classify make byte by byte), computed rather
 * than branched on (the forms of punctuated tokens are as good as random).
 * Sets t->p, t->len and ES_VT_NT; returns the key's first byte in the
 * window.
 */
static unsigned punct_token(es_vader_tok *t, const char *p, unsigned len,
                            const char *p16)
{
    unsigned mask = (1u << len) - 1, word, lead, trail, np, strip_lead;
    unsigned strip_trail, nt, cut;
    es_vader_win_punct w;

    es_vader_win16_punct(p16, &w);
    /* leading and trailing punctuation; the word is what is between */
    word = ~w.punct & mask;
    lead = es_vader_ctz(word | (1u << len));
    trail = len - 1 - es_vader_top((word << 1) | 1) + 1;
    np = es_vader_bits16(w.punct & mask);
    /* PUNC_LIST item + punctuation-free word of 2 or more, or the word +
       the item (a token all punctuation has lead == trail == len) */
    strip_lead = (lead - 1 < len - 1) & (np == lead) & (len - lead >= 2) &
                 punc_run(&w, 0, lead, (unsigned char)p16[0]);
    /* (from p16, where 16 bytes are readable: trail may be 0) */
    strip_trail =
        (strip_lead ^ 1) & (lead == 0) & (trail > 0) & (np == trail) &
        (len - trail >= 2) &
        punc_run(&w, len - trail, trail, (unsigned char)p16[len - trail]);
    /* kept whole: "n't" inside (a stripped word has no "'") */
    nt = ((strip_lead | strip_trail) ^ 1) &
         ((w.apos & (w.nn << 1) & ((w.tt & mask) >> 1)) != 0);
    cut = (lead & (0u - strip_lead)) | (trail & (0u - strip_trail));
    t->p = p + (lead & (0u - strip_lead));
    t->len = len - cut;
    t->flags |= (uint8_t)(nt * ES_VT_NT);
    return lead & (0u - strip_lead);
}

/*
 * Any other token, at start (w: the window there): non-ASCII bytes, or 16
 * bytes or more. Scans it character by character
 * where the window's run of letters and digits stops; returns the byte
 * after it.
 */
static size_t general_token(const es_vader *v, const text_view *tv,
                            size_t start, const es_vader_win *w,
                            es_vader_tok *toks, size_t *nt, size_t cap,
                            es_vader_counts *counts)
{
    const unsigned char *u = (const unsigned char *)tv->text;
    size_t n = tv->n, run, pos;
    unsigned stop = ~w->alnum & 0xffffu, acc, more;
    token_scan ts;
    es_vader_tok *t;
    size_t i;

    run = stop != 0 ? es_vader_ctz(stop) : 16;
    acc = ((w->up & ((1u << run) - 1)) ? C_UPPER : 0) |
          ((w->lo & ((1u << run) - 1)) ? C_LOWER : 0);
    pos = start + run;
    if (run == 16) {
        pos = scan_plain(u, n, pos, &more);
        acc |= more;
    }
    /* the run lower-cased: its first 16 bytes are the window's key */
    ts.lim = v->key_cap + 4;
    ts.same = 1;
    ts.over = pos - start > ts.lim;
    ts.olen = ts.over ? 0 : pos - start;
    if (!ts.over) {
        memcpy(ts.low, &w->k0, 8);
        memcpy(ts.low + 8, &w->k1, 8);
        for (i = 16; i < ts.olen; i++) {
            ts.low[i] = (char)(u[start + i] | (cls[u[start + i]] & C_UPPER));
        }
    }
    if (pos < n && !(cls[u[pos]] & C_SPACE)) {
        scan_token(v, u, n, start, pos, acc, &ts);
    } else {
        ts.end = pos;
        ts.nchar = pos - start;
        ts.lead = ts.trail = ts.npunct = ts.napos = 0;
        ts.upper = (acc & C_UPPER) != 0;
        ts.notupper = (acc & C_LOWER) != 0;
        ts.ascii = 1;
    }
    if (ts.nchar < 2 || *nt >= cap) {
        return ts.end;
    }
    t = &toks[(*nt)++];
    t->p = tv->text + start;
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
    classify(v, t, &ts, (size_t)(t->p - (tv->text + start)),
             ts.end - start - t->len);
    return ts.end;
}

/* The '!' and '?' of the whole text (NLTK counts them in the text). */
static void count_marks(const text_view *tv, es_vader_counts *counts)
{
    size_t i = 0, n = tv->n, ne = 0, nq = 0;

#if defined(__SSE2__)
    while (i < n) {
        /* byte counters, added up before any can overflow */
        __m128i ae = _mm_setzero_si128(), aq = _mm_setzero_si128();
        size_t stop = i + 255 * 16 < n ? i + 255 * 16 : n;

        for (; i < stop; i += 16) {
            __m128i x = _mm_loadu_si128(
                (const __m128i *)(const void *)at16(tv, tv->text + i));

            /* past the text: zeros, neither '!' nor '?' */
            ae = _mm_sub_epi8(ae, _mm_cmpeq_epi8(x, _mm_set1_epi8('!')));
            aq = _mm_sub_epi8(aq, _mm_cmpeq_epi8(x, _mm_set1_epi8('?')));
        }
        ae = _mm_sad_epu8(ae, _mm_setzero_si128());
        aq = _mm_sad_epu8(aq, _mm_setzero_si128());
        ne += (size_t)_mm_cvtsi128_si64(ae) +
              (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(ae, ae));
        nq += (size_t)_mm_cvtsi128_si64(aq) +
              (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(aq, aq));
    }
#endif
    for (; i < n; i++) {
        ne += tv->text[i] == '!';
        nq += tv->text[i] == '?';
    }
    counts->nexcl = ne;
    counts->nquest = nq;
}

/*
 * The last pass over the tokens: the lookups left for now (their slots on
 * their way meanwhile), and what the rules ask of the text as a whole.
 */
static void finish(es_vader_tok *toks, size_t nt, uint32_t *lex,
                   es_vader_counts *counts)
{
    size_t i, but = nt, nlex = 0;
    uint32_t idioms = 0;
    unsigned prev = ES_VC_NONE;

    for (i = 0; i < nt; i++) {
        es_vader_tok *t = &toks[i];

        if (t->flags & ES_VT_LATER) {
            t->flags &= (uint8_t)~ES_VT_LATER;
            set_entry(t, es_vader_confirm16(t->e, t->k0, t->k1, t->klen),
                      t->lw);
        }
        idioms |= es_vader_idiom_next[prev] >> t->cs;
        prev = t->cs;
        but = t->lw == ES_VL_BUT && but == nt ? i : but;
        lex[nlex] = (uint32_t)i; /* kept only if it is a lexicon token */
        nlex += (t->flags & ES_VW_LEX) != 0;
    }
    counts->but = but;
    counts->nlex = nlex;
    counts->idioms = (int)(idioms & 1);
}

size_t es_vader_tokenize(const es_vader *v, const char *text, size_t n,
                         es_vader_tok *toks, size_t cap, uint32_t *lex,
                         es_vader_counts *counts)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t pos, nt = 0, nupper = 0;
    text_view tv;

    view_init(&tv, text, n);
    count_marks(&tv, counts);
    pos = skip_space(u, n, 0);
    while (pos < n) {
        size_t start = pos;
        const char *p16 = at16(&tv, text + start);
        unsigned len, mask, next, off = 0;
        es_vader_win w;
        es_vader_tok *t;

        es_vader_win16(p16, n - start, &w);
        /* the token ends at the first white space (or the text's end) */
        len = es_vader_ctz(w.space | 0x10000u);
        mask = (1u << len) - 1;
        if (len == 16 || (w.high & mask) || (len >= 2 && nt >= cap)) {
            counts->nupper = nupper;
            pos = skip_space(
                u, n, general_token(v, &tv, start, &w, toks, &nt, cap, counts));
            nupper = counts->nupper;
            continue;
        }
        /* an ASCII token shorter than the window: the common case */
        if (len >= 2) {
            int upper = (w.up & mask) != 0, isupper = upper & !(w.lo & mask);

            t = &toks[nt++];
            t->flags = isupper ? ES_VT_UPPER : 0;
            nupper += (size_t)isupper;
            t->p = text + start;
            t->len = len;
            if ((w.alnum & mask) != mask) {
                off = punct_token(t, text + start, len, p16);
            }
            if (t->len <= v->key_cap) {
                uint64_t k0 = w.k0, k1 = w.k1;

                es_vader_win_key(&k0, &k1, off, t->len);
                defer(v, t, k0, k1, t->len, !upper);
            } else {
                set_entry(t, &es_vader_none, 0);
            }
        }
        /* the next token, when the window shows it and it is ASCII */
        next = ~w.space & ~((2u << len) - 1) & 0xffffu;
        if (next != 0 && !(w.high & next & (0u - next))) {
            pos = start + es_vader_ctz(next);
        } else {
            pos = skip_space(u, n, start + (next ? es_vader_ctz(next) : 16));
        }
    }
    counts->nupper = nupper;
    finish(toks, nt, lex, counts);
    return nt;
}
