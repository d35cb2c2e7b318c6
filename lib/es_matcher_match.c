/*
 * es_matcher_match.c - building the matcher's index and matching comments
 * (see es_matcher.h; the design is described in es_matcher.c).
 */
#include <stdlib.h>
#include <string.h>

#include "es_matcher_int.h"
#include "es_text.h"

/* splitmix64's finalizer: a bijection, so keys built with it are exact. */
static uint64_t fmix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t pair_key(uint32_t sub, uint32_t tid)
{
    return fmix((((uint64_t)sub << 32) | tid) + 1);
}

static int cmp_posting(const void *a, const void *b)
{
    const posting *x = a, *y = b;

    if (x->sub != y->sub) {
        return x->sub < y->sub ? -1 : 1;
    }
    if (x->tid != y->tid) {
        return x->tid < y->tid ? -1 : 1;
    }
    return (x->topic > y->topic) - (x->topic < y->topic);
}

static uint64_t filter_bit(uint64_t key)
{
    return key ^ (key >> 32);
}

int es_matcher_build(es_matcher *m)
{
    size_t nbits = 4096, nranges = 0;

    if (m->built) {
        return 0;
    }
    qsort(m->post, m->npost, sizeof(posting), cmp_posting);
    m->post_topics = malloc((m->npost + 1) * sizeof(uint32_t));
    m->ranges = malloc((2 * m->npost + 2) * sizeof(uint32_t));
    if (m->post_topics == NULL || m->ranges == NULL ||
        es_mx_map_init(&m->pair_map, m->npost + 1) < 0) {
        return -1;
    }
    for (size_t i = 0, np = 0; i < m->npost; i++) {
        const posting *p = &m->post[i];
        if (i == 0 || p->sub != p[-1].sub || p->tid != p[-1].tid) {
            if (es_mx_map_put(&m->pair_map, pair_key(p->sub, p->tid),
                              (uint32_t)nranges) < 0) {
                return -1;
            }
            m->ranges[2 * nranges] = (uint32_t)np;
            m->ranges[2 * nranges + 1] = 0;
            nranges++;
        } else if (p->topic == p[-1].topic) {
            continue;
        }
        m->post_topics[np++] = p->topic;
        m->ranges[2 * nranges - 1]++;
    }
    for (size_t l = 0; l <= ES_QUERY_MAX_BYTES; l++) {
        if (m->plen_used[l]) {
            m->plens[m->nplens++] = (uint32_t)l;
        }
    }
    while (nbits < 16 * m->nterms) {
        nbits *= 2;
    }
    m->filter = calloc(nbits / 64, sizeof(uint64_t));
    m->filter_mask = nbits - 1;
    m->term_stamp = calloc(m->nterms + 1, sizeof(uint32_t));
    m->topic_stamp = calloc(m->ntopics + 1, sizeof(uint32_t));
    m->present = malloc((m->nterms + 2) * sizeof(uint32_t));
    m->stack = malloc(m->max_code + 1);
    if (!m->filter || !m->term_stamp || !m->topic_stamp || !m->present ||
        !m->stack) {
        return -1;
    }
    for (size_t i = 0; i < m->nterms; i++) {
        const term *t = &m->terms[i];
        uint64_t b = filter_bit(es_mx_mix(
                         es_text_hash(m->pool + t->text, t->len), t->kind)) &
                     m->filter_mask;
        m->filter[b >> 6] |= 1ULL << (b & 63);
    }
    free(m->post);
    m->post = NULL;
    m->npost = m->cpost = 0;
    m->built = 1;
    return 0;
}

/* Makes room for a body of n bytes; returns how many bytes fit. */
static size_t scratch(es_matcher *m, size_t n)
{
    size_t want = m->scratch_bytes ? m->scratch_bytes : 1024;
    char *fold;
    es_token *toks;
    uint32_t *tids;

    if (n <= m->scratch_bytes) {
        return n;
    }
    while (want < n) {
        want *= 2;
    }
    fold = realloc(m->fold, want);
    if (fold != NULL) {
        m->fold = fold;
    }
    toks = realloc(m->toks, es_text_max_tokens(want) * sizeof(es_token));
    if (toks != NULL) {
        m->toks = toks;
    }
    tids = realloc(m->tok_tid, es_text_max_tokens(want) * sizeof(uint32_t));
    if (tids != NULL) {
        m->tok_tid = tids;
    }
    if (fold != NULL && toks != NULL && tids != NULL) {
        m->scratch_bytes = want;
    }
    return n < m->scratch_bytes ? n : m->scratch_bytes;
}

static uint32_t lookup(const es_matcher *m, unsigned kind, uint64_t h,
                       const char *s, size_t n)
{
    uint64_t b = filter_bit(es_mx_mix(h, kind)) & m->filter_mask;

    if (!(m->filter[b >> 6] & (1ULL << (b & 63)))) {
        return NONE;
    }
    return es_mx_term_find(m, kind, h, s, n);
}

static size_t mark(es_matcher *m, uint32_t tid, size_t np)
{
    if (tid != NONE && m->term_stamp[tid] != m->gen) {
        m->term_stamp[tid] = m->gen;
        m->present[np++] = tid;
    }
    return np;
}

static int phrase_ok(const es_matcher *m, uint32_t at, size_t ntok)
{
    const uint32_t *w = m->phr + at + 1;
    uint32_t n = m->phr[at];

    for (uint32_t k = 0; k < n; k++) {
        if (m->term_stamp[w[k]] != m->gen) {
            return 0;
        }
    }
    for (size_t i = 0; i + n <= ntok; i++) {
        uint32_t k = 0;
        while (k < n && m->tok_tid[i + k] == w[k]) {
            k++;
        }
        if (k == n) {
            return 1;
        }
    }
    return 0;
}

static int run(const es_matcher *m, const topic *t, size_t ntok)
{
    uint8_t *st = m->stack;
    size_t sp = 0;

    if (t->ncode == 0) {
        return 1;
    }
    for (uint32_t i = 0; i < t->ncode; i++) {
        uint32_t c = m->code[t->code + i], arg = c & 0x0fffffffu, v;
        switch (c >> 28) {
        case OP_TERM:
            st[sp++] = m->term_stamp[arg] == m->gen;
            break;
        case OP_PHRASE:
            st[sp++] = (uint8_t)phrase_ok(m, arg, ntok);
            break;
        case OP_NOT:
            st[sp - 1] ^= 1;
            break;
        case OP_AND:
        case OP_OR:
            v = (c >> 28) == OP_AND;
            for (uint32_t k = 0; k < arg; k++) {
                v = (c >> 28) == OP_AND ? (v & st[sp - 1 - k])
                                        : (v | st[sp - 1 - k]);
            }
            sp -= arg;
            st[sp++] = (uint8_t)v;
            break;
        }
    }
    return st[0];
}

/* Evaluates the topics posted under (sub, tid) not yet seen. */
static size_t visit(es_matcher *m, uint32_t sub, uint32_t tid, size_t ntok,
                    uint32_t *out, size_t max, size_t nout)
{
    uint64_t key = pair_key(sub, tid);
    size_t i = key & (m->pair_map.cap - 1);
    const uint32_t *r;

    while (m->pair_map.keys[i] != key) {
        if (m->pair_map.keys[i] == 0) {
            return nout;
        }
        i = (i + 1) & (m->pair_map.cap - 1);
    }
    r = m->ranges + 2 * m->pair_map.vals[i];
    for (uint32_t k = 0; k < r[1]; k++) {
        uint32_t ti = m->post_topics[r[0] + k];
        if (m->topic_stamp[ti] == m->gen) {
            continue;
        }
        m->topic_stamp[ti] = m->gen;
        if (run(m, &m->topics[ti], ntok)) {
            if (nout < max) {
                out[nout] = m->topics[ti].handle;
            }
            nout++;
        }
    }
    return nout;
}

size_t es_matcher_match(es_matcher *m, const char *subreddit,
                        const char *author, const char *body, size_t body_len,
                        uint32_t *out, size_t max)
{
    uint32_t sub =
        subreddit ? es_mx_sub_find(m, subreddit, strlen(subreddit)) : NONE;
    size_t n = scratch(m, body_len), ntok, np = 0, nout = 0;

    if (!m->built) {
        return 0;
    }
    if (++m->gen == 0) {
        memset(m->term_stamp, 0, (m->nterms + 1) * sizeof(uint32_t));
        memset(m->topic_stamp, 0, (m->ntopics + 1) * sizeof(uint32_t));
        m->gen = 1;
    }
    ntok = es_text_tokenize(body, n, m->fold, m->toks, es_text_max_tokens(n));
    for (size_t i = 0; i < ntok; i++) {
        const es_token *t = &m->toks[i];
        const char *w = m->fold + t->off;
        uint32_t tid = lookup(m, K_WORD, t->hash, w, t->len);
        uint64_t h = ES_TEXT_HASH_INIT;
        size_t done = 0;

        m->tok_tid[i] = tid;
        np = mark(m, tid, np);
        for (size_t k = 0; k < m->nplens && m->plens[k] <= t->len; k++) {
            for (; done < m->plens[k]; done++) {
                h = (h ^ (unsigned char)w[done]) * ES_TEXT_HASH_PRIME;
            }
            np = mark(m, lookup(m, K_PREFIX, h, w, done), np);
        }
    }
    if (author != NULL && strlen(author) <= AUTHOR_MAX) {
        char a[AUTHOR_MAX];
        size_t al = strlen(author);
        for (size_t i = 0; i < al; i++) {
            char c = author[i];
            a[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        np = mark(m, es_mx_term_find(m, K_AUTHOR, es_text_hash(a, al), a, al),
                  np);
    }
    m->present[np++] = ALWAYS;
    for (size_t i = 0; i < np; i++) {
        if (sub != NONE && sub != 0) {
            nout = visit(m, sub, m->present[i], ntok, out, max, nout);
        }
        nout = visit(m, 0, m->present[i], ntok, out, max, nout);
    }
    return nout;
}
