/*
 * es_matcher.c - every topic against one comment (see es_matcher.h).
 *
 * Topics are compiled into three things:
 *
 * - a term dictionary: every distinct word, prefix and author of every
 *   query gets a term id (one hash map keyed by the 64-bit hash of the
 *   folded text mixed with the kind, the text kept to confirm hits);
 * - a program per topic: its query in postfix form over term ids, phrase
 *   ids and AND/OR/NOT, evaluated on a small stack;
 * - an anchor index: for each topic, a set of terms at least one of which
 *   must be present for the query to be true (AND takes the cheapest child
 *   set, OR the union of its children's, NOT flips AND and OR by De
 *   Morgan). Postings are keyed by (subreddit, term), so the subreddit
 *   filter costs nothing: a comment only ever reaches topics of its own
 *   subreddit and of "all". A topic without a query is posted under a
 *   pseudo-term every comment has.
 *
 * Per comment: the body is tokenized and folded once into scratch; each
 * token is looked up as a word and, for each prefix length in use, as a
 * prefix (a small bit filter in front of the map keeps misses in L1). Each
 * term found is stamped present with the comment's generation number, so
 * nothing is cleared between comments. The postings of the present terms
 * give the candidates, de-duplicated with a generation stamp per topic, and
 * only candidates run their program. The work therefore depends on the
 * comment and the topics it can match, not on how many topics exist.
 */
#include <stdlib.h>
#include <string.h>

#include "es_matcher.h"
#include "es_text.h"

#include "es_matcher_int.h"

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t c = *cap ? *cap : 16;
    void *t;

    if (need <= *cap) {
        return 0;
    }
    while (c < need) {
        c *= 2;
    }
    t = realloc(*p, c * elem);
    if (t == NULL) {
        return -1;
    }
    *p = t;
    *cap = c;
    return 0;
}

#define GROW(arr, cap, need)                                                   \
    grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

uint64_t es_mx_mix(uint64_t h, unsigned kind)
{
    h ^= (uint64_t)kind * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    return h ? h : 1;
}

int es_mx_map_init(map *m, size_t want)
{
    size_t cap = 16;

    while (cap < want * 2) {
        cap *= 2;
    }
    m->keys = calloc(cap, sizeof(uint64_t));
    m->vals = malloc(cap * sizeof(uint32_t));
    m->cap = cap;
    m->n = 0;
    return m->keys && m->vals ? 0 : -1;
}

static void map_free(map *m)
{
    free(m->keys);
    free(m->vals);
}

static int map_rehash(map *m)
{
    map big;

    if (es_mx_map_init(&big, m->cap) < 0) {
        map_free(&big);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i]) {
            es_mx_map_put(&big, m->keys[i], m->vals[i]);
        }
    }
    map_free(m);
    *m = big;
    return 0;
}

/* Adds key (duplicates allowed: several texts may share a key). */
int es_mx_map_put(map *m, uint64_t key, uint32_t val)
{
    size_t i;

    if ((m->n + 1) * 2 > m->cap && map_rehash(m) < 0) {
        return -1;
    }
    i = key & (m->cap - 1);
    while (m->keys[i]) {
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return 0;
}

/* The term id of (kind, s[0..n)) with hash h, or NONE. */
uint32_t es_mx_term_find(const es_matcher *m, unsigned kind, uint64_t h,
                         const char *s, size_t n)
{
    uint64_t key = es_mx_mix(h, kind);
    size_t i = key & (m->term_map.cap - 1);

    while (m->term_map.keys[i]) {
        if (m->term_map.keys[i] == key) {
            const term *t = &m->terms[m->term_map.vals[i]];
            if (t->kind == kind && t->len == n &&
                memcmp(m->pool + t->text, s, n) == 0) {
                return m->term_map.vals[i];
            }
        }
        i = (i + 1) & (m->term_map.cap - 1);
    }
    return NONE;
}

static int pool_add(es_matcher *m, const char *s, size_t n, uint32_t *off)
{
    if (GROW(m->pool, m->cpool, m->npool + n + 1) < 0) {
        return -1;
    }
    memcpy(m->pool + m->npool, s, n);
    m->pool[m->npool + n] = '\0';
    *off = (uint32_t)m->npool;
    m->npool += n + 1;
    return 0;
}

/* The id of the term, added when new; NONE when out of memory. */
static uint32_t term_intern(es_matcher *m, unsigned kind, const char *s,
                            size_t n)
{
    uint64_t h = es_text_hash(s, n);
    uint32_t tid = es_mx_term_find(m, kind, h, s, n);
    term *t;

    if (tid != NONE) {
        return tid;
    }
    if (m->nterms >= ALWAYS || GROW(m->terms, m->cterms, m->nterms + 1) < 0) {
        return NONE;
    }
    t = &m->terms[m->nterms];
    t->kind = (uint8_t)kind;
    t->len = (uint32_t)n;
    if (pool_add(m, s, n, &t->text) < 0 ||
        es_mx_map_put(&m->term_map, es_mx_mix(h, kind), (uint32_t)m->nterms) <
            0) {
        return NONE;
    }
    if (kind == K_PREFIX && n <= ES_QUERY_MAX_BYTES) {
        m->plen_used[n] = 1;
    }
    return (uint32_t)m->nterms++;
}

uint32_t es_mx_sub_find(const es_matcher *m, const char *s, size_t n)
{
    uint64_t key = es_mx_mix(es_text_hash(s, n), 7);
    size_t i = key & (m->sub_map.cap - 1);

    while (m->sub_map.keys[i]) {
        uint32_t id = m->sub_map.vals[i];
        if (m->sub_map.keys[i] == key &&
            strncmp(m->pool + m->subs[id], s, n) == 0 &&
            m->pool[m->subs[id] + n] == '\0') {
            return id;
        }
        i = (i + 1) & (m->sub_map.cap - 1);
    }
    return NONE;
}

static uint32_t sub_intern(es_matcher *m, const char *s)
{
    size_t n = strlen(s);
    uint32_t id = es_mx_sub_find(m, s, n);

    if (id != NONE) {
        return id;
    }
    if (GROW(m->subs, m->csubs, m->nsubs + 1) < 0 ||
        pool_add(m, s, n, &m->subs[m->nsubs]) < 0 ||
        es_mx_map_put(&m->sub_map, es_mx_mix(es_text_hash(s, n), 7),
                      (uint32_t)m->nsubs) < 0) {
        return NONE;
    }
    return (uint32_t)m->nsubs++;
}

es_matcher *es_matcher_new(void)
{
    es_matcher *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        return NULL;
    }
    if (es_mx_map_init(&m->term_map, 64) < 0 ||
        es_mx_map_init(&m->sub_map, 64) < 0 || sub_intern(m, "all") != 0) {
        es_matcher_free(m);
        return NULL;
    }
    return m;
}

void es_matcher_free(es_matcher *m)
{
    if (m == NULL) {
        return;
    }
    map_free(&m->term_map);
    map_free(&m->sub_map);
    map_free(&m->pair_map);
    free(m->pool);
    free(m->terms);
    free(m->subs);
    free(m->topics);
    free(m->code);
    free(m->phr);
    free(m->post);
    free(m->ranges);
    free(m->post_topics);
    free(m->filter);
    free(m->term_stamp);
    free(m->topic_stamp);
    free(m->fold);
    free(m->toks);
    free(m->tok_tid);
    free(m->present);
    free(m->stack);
    free(m);
}

/* Words so common that anchoring on them would make a topic a candidate
 * for most comments; anchors avoid them when the query allows. */
static const char *const common[] = {
    "a",    "about", "all", "an",   "and",  "are",   "as",   "at",
    "be",   "but",   "by",  "can",  "do",   "for",   "from", "get",
    "have", "he",    "i",   "if",   "in",   "is",    "it",   "just",
    "like", "me",    "my",  "no",   "not",  "of",    "on",   "one",
    "or",   "so",    "t",   "that", "the",  "there", "they", "this",
    "to",   "was",   "we",  "what", "with", "would", "you"};

static int is_common(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        if (strlen(common[i]) == n && memcmp(common[i], s, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Estimated cost of a word as an anchor: how often it will fire. */
static double word_cost(const char *s, size_t n)
{
    if (is_common(s, n)) {
        return 50;
    }
    return n <= 2 ? 5 : n == 3 ? 2 : 1;
}

/* The cheapest word of a phrase: its offset and length in *w, *wl. */
static double phrase_word(const es_qnode *q, const char **w, size_t *wl)
{
    const char *s = q->text, *end = q->text + q->len;
    double best = 1e300;

    while (s < end) {
        const char *sp = memchr(s, ' ', (size_t)(end - s));
        size_t l = sp ? (size_t)(sp - s) : (size_t)(end - s);
        double c = word_cost(s, l);
        if (c < best) {
            best = c;
            *w = s;
            *wl = l;
        }
        s += l + 1;
    }
    return best;
}

#define NO_ANCHOR 1e300

/*
 * The cost of the cheapest anchor set of q under neg NOTs, NO_ANCHOR when
 * the node can be true without any of its positive terms.
 */
static double anchor_cost(const es_qnode *q, int neg)
{
    const char *w;
    size_t wl;
    double c, sum = 0, best = NO_ANCHOR;
    int conj;

    switch (q->kind) {
    case ES_QN_WORD:
        return neg ? NO_ANCHOR : word_cost(q->text, q->len);
    case ES_QN_PHRASE:
        return neg ? NO_ANCHOR : phrase_word(q, &w, &wl);
    case ES_QN_PREFIX:
        return neg ? NO_ANCHOR : 3.0 + (q->len < 6 ? 6.0 - q->len : 0);
    case ES_QN_AUTHOR:
        return neg ? NO_ANCHOR : 0.5;
    case ES_QN_NOT:
        return anchor_cost(q->kids[0], !neg);
    default:
        break;
    }
    conj = (q->kind == ES_QN_AND) != neg;
    for (unsigned i = 0; i < q->nkids; i++) {
        c = anchor_cost(q->kids[i], neg);
        if (conj && c < best) {
            best = c;
        }
        if (!conj) {
            if (c >= NO_ANCHOR) {
                return NO_ANCHOR;
            }
            sum += c;
        }
    }
    return conj ? best : sum;
}

/* Term id of a leaf (a phrase stands for its cheapest word). */
static uint32_t leaf_term(es_matcher *m, const es_qnode *q)
{
    const char *w = q->text;
    size_t wl = q->len;

    switch (q->kind) {
    case ES_QN_WORD:
        return term_intern(m, K_WORD, q->text, q->len);
    case ES_QN_PHRASE:
        phrase_word(q, &w, &wl);
        return term_intern(m, K_WORD, w, wl);
    case ES_QN_PREFIX:
        return term_intern(m, K_PREFIX, q->text, q->len);
    default:
        return term_intern(m, K_AUTHOR, q->text, q->len);
    }
}

/* Appends the terms of the cheapest anchor set of q to out (room for 64). */
static int anchor_collect(es_matcher *m, const es_qnode *q, int neg,
                          uint32_t *out, size_t *n)
{
    int conj;
    unsigned pick = 0;
    double best = NO_ANCHOR;

    if (q->kind == ES_QN_NOT) {
        return anchor_collect(m, q->kids[0], !neg, out, n);
    }
    if (q->kind != ES_QN_AND && q->kind != ES_QN_OR) {
        uint32_t tid = leaf_term(m, q);
        if (tid == NONE) {
            return -1;
        }
        out[(*n)++] = tid;
        return 0;
    }
    conj = (q->kind == ES_QN_AND) != neg;
    if (!conj) {
        for (unsigned i = 0; i < q->nkids; i++) {
            if (anchor_collect(m, q->kids[i], neg, out, n) < 0) {
                return -1;
            }
        }
        return 0;
    }
    for (unsigned i = 0; i < q->nkids; i++) {
        double c = anchor_cost(q->kids[i], neg);
        if (c < best) {
            best = c;
            pick = i;
        }
    }
    return anchor_collect(m, q->kids[pick], neg, out, n);
}

static int emit(es_matcher *m, uint32_t op)
{
    if (GROW(m->code, m->ccode, m->ncode + 1) < 0) {
        return -1;
    }
    m->code[m->ncode++] = op;
    return 0;
}

/* Appends the postfix program of q. */
static int compile(es_matcher *m, const es_qnode *q)
{
    const char *s, *end;
    size_t base;
    uint32_t tid;

    switch (q->kind) {
    case ES_QN_WORD:
    case ES_QN_PREFIX:
    case ES_QN_AUTHOR:
        tid = leaf_term(m, q);
        return tid == NONE ? -1 : emit(m, OP(OP_TERM, tid));
    case ES_QN_PHRASE:
        base = m->nphr;
        if (GROW(m->phr, m->cphr, m->nphr + q->nwords + 1) < 0) {
            return -1;
        }
        m->phr[m->nphr++] = q->nwords;
        s = q->text;
        end = q->text + q->len;
        while (s < end) {
            const char *sp = memchr(s, ' ', (size_t)(end - s));
            size_t l = sp ? (size_t)(sp - s) : (size_t)(end - s);
            tid = term_intern(m, K_WORD, s, l);
            if (tid == NONE) {
                return -1;
            }
            m->phr[m->nphr++] = tid;
            s += l + 1;
        }
        return emit(m, OP(OP_PHRASE, base));
    case ES_QN_NOT:
        if (compile(m, q->kids[0]) < 0) {
            return -1;
        }
        return emit(m, OP(OP_NOT, 0));
    case ES_QN_AND:
    case ES_QN_OR:
        for (unsigned i = 0; i < q->nkids; i++) {
            if (compile(m, q->kids[i]) < 0) {
                return -1;
            }
        }
        return emit(m, OP(q->kind == ES_QN_AND ? OP_AND : OP_OR, q->nkids));
    }
    return -1;
}

int es_matcher_add(es_matcher *m, uint32_t handle,
                   const char *const *subreddits, size_t nsubs,
                   const es_query *query)
{
    const es_qnode *root = query ? es_query_root(query) : NULL;
    uint32_t anchors[ES_QUERY_MAX_TERMS + 1];
    size_t nanchors = 0, code0 = m->ncode;
    uint32_t idx = (uint32_t)m->ntopics;
    topic *t;

    if (m->built || GROW(m->topics, m->ctopics, m->ntopics + 1) < 0) {
        return -1;
    }
    if (root != NULL && compile(m, root) < 0) {
        return -1;
    }
    if (root == NULL || anchor_cost(root, 0) >= NO_ANCHOR) {
        anchors[nanchors++] = ALWAYS;
    } else if (anchor_collect(m, root, 0, anchors, &nanchors) < 0) {
        return -1;
    }
    for (size_t i = 0; i < nsubs; i++) {
        uint32_t sub = sub_intern(m, subreddits[i]);
        if (sub == NONE || GROW(m->post, m->cpost, m->npost + nanchors) < 0) {
            return -1;
        }
        for (size_t k = 0; k < nanchors; k++) {
            posting *p = &m->post[m->npost++];
            p->sub = sub;
            p->tid = anchors[k];
            p->topic = idx;
        }
    }
    t = &m->topics[m->ntopics++];
    t->handle = handle;
    t->code = (uint32_t)code0;
    t->ncode = (uint32_t)(m->ncode - code0);
    if (t->ncode > m->max_code) {
        m->max_code = t->ncode;
    }
    return 0;
}
