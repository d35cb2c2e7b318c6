/*
 * es_vader.c - VADER's scoring rules, as NLTK 3.8's SentimentIntensityAnalyzer
 * applies them (nltk/sentiment/vader.py), down to the order of every
 * floating-point operation so that scores agree bit for bit.
 *
 * NLTK quirks kept on purpose, because parity is the contract:
 *  - each token is scored at the index of its FIRST occurrence
 *    (words_and_emoticons.index(item)), so a repeated word reuses the
 *    context of its first appearance; only lexicon words can score non-zero,
 *    so only they are searched for an earlier occurrence (a short list for
 *    the usual few, a per-text hash table beyond DUP_SCAN_MAX);
 *  - the negation, "never so/this" and "least" rules look only at words that
 *    are not in the lexicon, and the third-word "never" rule multiplies by
 *    1.25 whenever the preceding word is "so" or "this" (operator precedence
 *    in NLTK's condition);
 *  - "never", "so", "this", the idioms and the "kind of" bigrams are
 *    compared case-sensitively, everything else after lower-casing;
 *  - '!' and '?' are counted over the whole text, tokens or not.
 *
 * Memory: the tokens of a text live in a stack array when the text is short
 * (ES_VADER_STACK_TOKENS), otherwise in one heap block freed before return;
 * work is linear in the text (fixed windows of three words around each token,
 * a hash for duplicates).
 *
 * Speed: the rules run for the lexicon words only, whose indices the
 * tokenizer lists, with the first "but" and whether any idiom can match.
 * Most lexicon words have no negation, booster, dampener, "never", "so" or
 * "this" among the three words before (ES_VT_MOD): their steps change
 * nothing and are skipped. Otherwise the steps pick between outcomes
 * instead of branching on words whose kind is as good as random.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "es_vader_int.h"

#define B_INCR   0.293
#define B_DECR   -0.293
#define C_INCR   0.733
#define N_SCALAR -0.74

#define ES_VADER_STACK_TOKENS 512

/*
 * Up to this many lexicon tokens in a text, an earlier occurrence is found
 * by scanning the first occurrences so far (equal tokens have the same
 * entry, so it is mostly a pointer compare); beyond, through a hash table,
 * which keeps long texts linear.
 */
#define DUP_SCAN_MAX 32

typedef struct {
    const es_vader_tok *t;
    size_t n;
    int cap_diff;
    int idioms; /* see es_vader_counts */
} text_ctx;

/*
 * c ? b : a without a branch (picked from a pair in memory): for the rules'
 * choices that depend on words whose kind is as good as random.
 */
static double pick(double a, double b, int c)
{
    double v[2];

    v[0] = a;
    v[1] = b;
    return v[c != 0];
}

static int negated(const es_vader_tok *t)
{
    return (t->flags & ES_VT_NEGATED) != 0;
}

static int so_or_this(const es_vader_tok *t)
{
    return (t->cs == ES_VC_SO) | (t->cs == ES_VC_THIS);
}

/*
 * VaderConstants.scalar_inc_dec. The sign of the valence picks the entry of
 * a table instead of a branch (it is as good as random); -B_INCR is exactly
 * what NLTK's `scalar *= -1` makes of B_INCR.
 */
static double scalar_inc_dec(const es_vader_tok *w, double valence,
                             int cap_diff)
{
    static const double base[4][2] = {
        {0.0, 0.0}, {B_INCR, -B_INCR}, {B_DECR, -B_DECR}, {B_INCR, -B_INCR}};
    static const double caps[2] = {-C_INCR, C_INCR}; /* "scalar -= C_INCR" */
    unsigned kind = (w->flags / ES_VW_BOOST) & 3;    /* none, boost, dampen */
    double scalar = base[kind][valence < 0];

    return pick(scalar, scalar + caps[valence > 0],
                (kind != 0) & ((w->flags & ES_VT_UPPER) != 0) &
                    (cap_diff != 0));
}

/*
 * _never_check, as the factor it multiplies the valence by (1.0 when no
 * rule applies: multiplying by 1.0 changes no double, and a table load
 * costs less than the unpredictable branches of the rules).
 */
static double never_factor(const text_ctx *c, int start_i, size_t i)
{
    static const double f0[2] = {1.0, N_SCALAR};
    static const double f1[3] = {1.0, N_SCALAR, 1.5};
    static const double f2[3] = {1.0, N_SCALAR, 1.25};
    const es_vader_tok *w = c->t;

    /* & and | rather than && and ||: no branch on the words */
    if (start_i == 0) {
        return f0[negated(&w[i - 1])];
    }
    if (start_i == 1) {
        return f1[((w[i - 2].cs == ES_VC_NEVER) & so_or_this(&w[i - 1]))
                      ? 2
                      : negated(&w[i - 2])];
    }
    return f2[(((w[i - 3].cs == ES_VC_NEVER) & so_or_this(&w[i - 2])) |
               so_or_this(&w[i - 1]))
                  ? 2
                  : negated(&w[i - 3])];
}

/* SPECIAL_CASE_IDIOMS: the value of words a b (c), or 0 with *hit unset */
static double idiom2(int a, int b, int *hit)
{
    *hit = 1;
    if (a == ES_VC_THE && b == ES_VC_SHIT) {
        return 3;
    }
    if (a == ES_VC_THE && b == ES_VC_BOMB) {
        return 3;
    }
    if (a == ES_VC_BAD && b == ES_VC_ASS) {
        return 1.5;
    }
    if (a == ES_VC_YEAH && b == ES_VC_RIGHT) {
        return -2;
    }
    *hit = 0;
    return 0;
}

static double idiom3(int a, int b, int c, int *hit)
{
    *hit = 1;
    if (a == ES_VC_CUT && b == ES_VC_THE && c == ES_VC_MUSTARD) {
        return 2;
    }
    if (a == ES_VC_KISS && b == ES_VC_OF && c == ES_VC_DEATH) {
        return -1.5;
    }
    if (a == ES_VC_HAND && b == ES_VC_TO && c == ES_VC_MOUTH) {
        return -2;
    }
    *hit = 0;
    return 0;
}

/* the two-word BOOSTER_DICT keys: "just enough", "kind of", "sort of" */
static int booster2(int a, int b)
{
    return (a == ES_VC_JUST && b == ES_VC_ENOUGH) ||
           ((a == ES_VC_KIND || a == ES_VC_SORT) && b == ES_VC_OF);
}

/* see es_vader_int.h: the first two words of idiom2, idiom3, booster2 */
#define NEXT(b) (1u << (b))
const uint32_t es_vader_idiom_next[32] = {
    [ES_VC_THE] = NEXT(ES_VC_SHIT) | NEXT(ES_VC_BOMB),
    [ES_VC_BAD] = NEXT(ES_VC_ASS),
    [ES_VC_YEAH] = NEXT(ES_VC_RIGHT),
    [ES_VC_CUT] = NEXT(ES_VC_THE),
    [ES_VC_KISS] = NEXT(ES_VC_OF),
    [ES_VC_HAND] = NEXT(ES_VC_TO),
    [ES_VC_JUST] = NEXT(ES_VC_ENOUGH),
    [ES_VC_KIND] = NEXT(ES_VC_OF),
    [ES_VC_SORT] = NEXT(ES_VC_OF),
};
#undef NEXT

/* _idioms_check; only called with i >= 3 */
static double idioms_check(const text_ctx *c, double valence, size_t i)
{
    const es_vader_tok *w = c->t;
    int hit = 0, any = w[i - 3].cs | w[i - 2].cs | w[i - 1].cs | w[i].cs;
    double val;

    /* every word of an idiom or bigram has a cs code: usually none here */
    if (c->n - 1 > i) {
        any |= w[i + 1].cs;
    }
    if (c->n - 1 > i + 1) {
        any |= w[i + 2].cs;
    }
    if (any == ES_VC_NONE) {
        return valence;
    }
    /* onezero, twoonezero, twoone, threetwoone, threetwo: first match */
    val = idiom2(w[i - 1].cs, w[i].cs, &hit);
    if (!hit) {
        val = idiom3(w[i - 2].cs, w[i - 1].cs, w[i].cs, &hit);
    }
    if (!hit) {
        val = idiom2(w[i - 2].cs, w[i - 1].cs, &hit);
    }
    if (!hit) {
        val = idiom3(w[i - 3].cs, w[i - 2].cs, w[i - 1].cs, &hit);
    }
    if (!hit) {
        val = idiom2(w[i - 3].cs, w[i - 2].cs, &hit);
    }
    if (hit) {
        valence = val;
    }
    if (c->n - 1 > i) {
        val = idiom2(w[i].cs, w[i + 1].cs, &hit);
        if (hit) {
            valence = val;
        }
    }
    if (c->n - 1 > i + 1) {
        val = idiom3(w[i].cs, w[i + 1].cs, w[i + 2].cs, &hit);
        if (hit) {
            valence = val;
        }
    }
    if (booster2(w[i - 3].cs, w[i - 2].cs) ||
        booster2(w[i - 2].cs, w[i - 1].cs)) {
        valence = valence + B_DECR;
    }
    return valence;
}

/* _least_check */
static double least_check(const text_ctx *c, double valence, size_t i)
{
    const es_vader_tok *w = c->t;

    static const double f[2] = {1.0, N_SCALAR};
    int least, blocked = 0;

    if (i == 0) {
        return valence;
    }
    /* "least" before, not a lexicon word, and not "at least" or "very
       least" (multiplying by 1.0 changes nothing) */
    least = !(w[i - 1].flags & ES_VW_LEX) & (w[i - 1].lw == ES_VL_LEAST);
    if (i > 1) {
        blocked = (w[i - 2].lw == ES_VL_AT) | (w[i - 2].lw == ES_VL_VERY);
    }
    return valence * f[least & !blocked];
}

/*
 * One of the three words before a lexicon word: the valence after
 * sentiment_valence's step for it (start_i, damp: 1.0, 0.95 or 0.9; NLTK
 * multiplies only a non-zero scalar, but a zero times damp is the same
 * zero). A word of the lexicon is skipped. Whether it is one is as good as
 * random, so both outcomes are computed and one is picked, without a
 * branch.
 */
static inline double step(const text_ctx *c, double valence, size_t i,
                          int start_i, double damp)
{
    const es_vader_tok *w = &c->t[i - (size_t)start_i - 1];
    double s = scalar_inc_dec(w, valence, c->cap_diff) * damp;
    double after = (valence + s) * never_factor(c, start_i, i);

    return pick(after, valence, w->flags & ES_VW_LEX);
}

/*
 * The sentiment polarity_scores appends for the token at index i, i being
 * the first occurrence of that token (the booster and "kind of" skip, then
 * sentiment_valence).
 */
static double token_valence(const text_ctx *c, size_t i)
{
    const es_vader_tok *w = c->t;
    double valence;

    if ((i < c->n - 1 && w[i].lw == ES_VL_KIND && w[i + 1].lw == ES_VL_OF) ||
        (w[i].flags & (ES_VW_BOOST | ES_VW_DAMPEN))) {
        return 0;
    }
    if (!(w[i].flags & ES_VW_LEX)) {
        return 0;
    }
    valence = w[i].e->val;
    {
        static const double caps[2] = {-C_INCR, C_INCR};

        valence = pick(valence, valence + caps[valence > 0],
                       ((w[i].flags & ES_VT_UPPER) != 0) & (c->cap_diff != 0));
    }
    /*
     * the three words before, nearest first (NLTK multiplies a non-zero
     * scalar by 0.95 or 0.9; a zero stays zero either way). Without a
     * negation, booster, dampener, never, so or this among them (most
     * often), each step adds a scalar of zero and multiplies by 1.0, which
     * give a non-zero valence back exactly: they are skipped.
     */
    if (i < 3 || valence == 0 ||
        ((w[i - 1].flags | w[i - 2].flags | w[i - 3].flags) & ES_VT_MOD)) {
        /* one call each, so that each is inlined with its start_i */
        if (i >= 1) {
            valence = step(c, valence, i, 0, 1.0);
        }
        if (i >= 2) {
            valence = step(c, valence, i, 1, 0.95);
        }
        if (i >= 3) {
            valence = step(c, valence, i, 2, 0.9);
        }
    }
    if (i >= 3 && c->idioms && !(w[i - 3].flags & ES_VW_LEX)) {
        valence = idioms_check(c, valence, i);
    }
    return least_check(c, valence, i);
}

/*
 * The lexicon tokens of a text: lex[k] is the index of the k-th one in the
 * token array, sent[k] its sentiment (every other token scores 0).
 */
typedef struct {
    uint32_t *lex;
    double *sent;
    size_t n;
} lex_tokens;

/* ordinal of the first lexicon token equal to lexicon token k */
typedef struct {
    uint32_t *slot; /* ordinal + 1; 0 empty */
    size_t mask;
    uint64_t seed;
} dup_table;

static size_t first_index(dup_table *d, const es_vader_tok *t,
                          const lex_tokens *l, size_t k)
{
    const es_vader_tok *tk = &t[l->lex[k]];
    size_t h = es_vader_hash(tk->p, tk->len, d->seed) & d->mask;

    for (;;) {
        uint32_t s = d->slot[h];
        const es_vader_tok *ts;

        if (s == 0) {
            d->slot[h] = (uint32_t)(k + 1);
            return k;
        }
        ts = &t[l->lex[s - 1]];
        if (ts->len == tk->len && memcmp(ts->p, tk->p, tk->len) == 0) {
            return s - 1;
        }
        h = (h + 1) & d->mask;
    }
}

/*
 * l->sent of a text with at most DUP_SCAN_MAX lexicon tokens: each is
 * scored at its first occurrence, found among the first occurrences so far
 * (searched only when one of them may have the same entry).
 */
static void score_short(const text_ctx *c, lex_tokens *l)
{
    const es_vader_tok *t = c->t;
    const es_vader_entry *fe[DUP_SCAN_MAX]; /* entries of the firsts */
    size_t first[DUP_SCAN_MAX], nfirst = 0, k, f;
    uint64_t seen = 0; /* bits of the entries of the firsts so far */

    for (k = 0; k < l->n; k++) {
        const es_vader_tok *tk = &t[l->lex[k]];
        /* equal tokens have the same entry: one whose bit is not set yet
           is a first occurrence, without a search (most of them) */
        uint64_t bit = (uint64_t)1
                       << (((uintptr_t)tk->e / sizeof(es_vader_entry)) & 63);

        f = nfirst;
        if (seen & bit) {
            for (f = 0; f < nfirst; f++) {
                const es_vader_tok *tf = &t[l->lex[first[f]]];

                if (fe[f] == tk->e && tf->len == tk->len &&
                    memcmp(tf->p, tk->p, tk->len) == 0) {
                    break;
                }
            }
        }
        if (f < nfirst) {
            l->sent[k] = l->sent[first[f]];
        } else {
            seen |= bit;
            fe[nfirst] = tk->e;
            first[nfirst++] = k;
            l->sent[k] = token_valence(c, l->lex[k]);
        }
    }
}

/*
 * Python's round(x, 3/4) semantics are applied by the caller. The sums run
 * over the lexicon tokens only: the other tokens score +0.0, and adding
 * +0.0 changes none of the sums (none is ever -0.0), so the result is that
 * of NLTK's loop over every token.
 */
static es_sentiment score_valence(const lex_tokens *l, size_t n, size_t but,
                                  const es_vader_counts *cnt)
{
    es_sentiment r = {0, 0, 0, 0, ES_LABEL_NEUTRAL};
    /* _amplify_ep: 0.292 per '!', up to 4; _amplify_qm: 0.18 per '?' for
       2 or 3, 0.96 for more */
    static const double ep_amp[5] = {0.0, 1 * 0.292, 2 * 0.292, 3 * 0.292,
                                     4 * 0.292};
    static const double qm_amp[5] = {0.0, 0.0, 2 * 0.18, 3 * 0.18, 0.96};
    double sum_s = 0.0, ep, qm, amp, pos_sum = 0.0, neg_sum = 0.0, total, an;
    size_t k, ep_count = cnt->nexcl, qm_count = cnt->nquest;
    int more, less;
    size_t neu_count = n - l->n;

    if (n == 0) {
        return r;
    }
    for (k = 0; k < l->n; k++) {
        double s = l->sent[k];
        size_t j = l->lex[k];

        if (but < n) {
            if (j < but) {
                s = s * 0.5;
            } else if (j > but) {
                s = s * 1.5;
            }
        }
        /*
         * without branches (signs are unpredictable): the product is s + 1
         * (or s - 1) or a zero, and adding a zero leaves the sum as it is
         */
        sum_s += s;
        pos_sum += (double)(s > 0) * (s + 1);
        neg_sum += (double)(s < 0) * (s - 1);
        neu_count += s == 0;
    }
    /*
     * from here on without branches (what a text holds is as good as
     * random): the amounts from tables of the same products NLTK computes,
     * and the choices as products by 1.0 or 0.0 (adding a zero leaves a
     * sum as it is: none is -0.0)
     */
    ep = ep_amp[ep_count < 4 ? ep_count : 4];
    qm = qm_amp[qm_count < 4 ? qm_count : 4];
    amp = ep + qm;
    /* sum_s -= amp is sum_s + amp * -1.0 */
    sum_s += amp * (double)((sum_s > 0) - (sum_s < 0));
    r.compound = sum_s / sqrt((sum_s * sum_s) + 15);
    an = fabs(neg_sum);
    more = pos_sum > an;
    less = pos_sum < an;
    pos_sum += amp * (double)more;
    neg_sum -= amp * (double)less;
    total = pos_sum + fabs(neg_sum) + (double)neu_count;
    r.pos = fabs(pos_sum / total);
    r.neg = fabs(neg_sum / total);
    r.neu = fabs((double)neu_count / total);
    return r;
}

es_sentiment es_vader_score(const es_vader *v, const char *text, size_t n)
{
    es_vader_tok stack_tok[ES_VADER_STACK_TOKENS];
    double stack_sent[ES_VADER_STACK_TOKENS];
    uint32_t stack_lex[ES_VADER_STACK_TOKENS];
    uint32_t stack_dup[2 * ES_VADER_STACK_TOKENS];
    es_vader_tok *tok = stack_tok;
    uint32_t *dup_slots = stack_dup;
    void *heap = NULL;
    size_t cap = es_vader_max_tokens(n), nt, k;
    es_vader_counts cnt;
    size_t dcap = 2 * ES_VADER_STACK_TOKENS;
    es_sentiment r = {0, 0, 0, 0, ES_LABEL_NEUTRAL};
    text_ctx c;
    lex_tokens l = {stack_lex, stack_sent, 0};
    dup_table d;

    if (v == NULL || (text == NULL && n > 0) || n > UINT32_MAX) {
        return r;
    }
    if (cap > ES_VADER_STACK_TOKENS) {
        /* one block: tokens, sentiments, lexicon token indices, duplicate
           slots (2 per token) */
        size_t dsz = 16;

        while (dsz < 2 * cap) {
            dsz *= 2;
        }
        heap = malloc(cap * (sizeof(*tok) + sizeof(*l.sent) + sizeof(*l.lex)) +
                      dsz * sizeof(*dup_slots));
        if (heap == NULL) {
            return r;
        }
        tok = heap;
        l.sent = (double *)(tok + cap);
        l.lex = (uint32_t *)(l.sent + cap);
        dup_slots = l.lex + cap;
        dcap = dsz;
    }
    nt = es_vader_tokenize(v, text, n, tok, cap, l.lex, &cnt);
    c.t = tok;
    c.n = nt;
    c.cap_diff = (cnt.nupper > 0) & (cnt.nupper < nt);
    c.idioms = cnt.idioms;
    l.n = cnt.nlex;
    if (l.n <= DUP_SCAN_MAX) {
        score_short(&c, &l);
    } else {
        /* size the duplicate table to twice the lexicon tokens */
        d.mask = 15;
        while (d.mask + 1 < 2 * l.n && d.mask + 1 < dcap) {
            d.mask = d.mask * 2 + 1;
        }
        d.slot = dup_slots;
        d.seed = v->seed;
        memset(d.slot, 0, (d.mask + 1) * sizeof(*d.slot));
        for (k = 0; k < l.n; k++) {
            size_t i = first_index(&d, tok, &l, k);

            l.sent[k] = i == k ? token_valence(&c, l.lex[k]) : l.sent[i];
        }
    }
    r = score_valence(&l, nt, cnt.but, &cnt);
    free(heap);
    r = es_sentiment_nltk_round(&r);
    r.label = es_label_from_compound(r.compound);
    return r;
}
