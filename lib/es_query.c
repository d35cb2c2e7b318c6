/*
 * es_query.c - the topic query parser (see es_query.h, docs/queries.md).
 *
 * A recursive-descent parser over a hand-written lexer:
 *
 *   query   := or EOF
 *   or      := and ("OR" and)*
 *   and     := unary (["AND"] unary)*
 *   unary   := ("NOT" | "-")* primary
 *   primary := "(" or ")" | "\"" words "\"" | word | prefix* | author:name
 *
 * Everything is bounded before any work is done: the length is checked
 * first (so a megabyte of input costs nothing), the bytes are validated as
 * UTF-8 in one pass, and recursion happens only at '(', which is limited to
 * ES_QUERY_MAX_DEPTH levels. Each byte is lexed once, so parsing is O(n).
 * Nodes are built in scratch arrays sized from the length bound, then
 * copied into one exact-size allocation, so a kept query costs little.
 *
 * After parsing, a query is rejected when it would match a comment that
 * contains none of its terms (evaluated against the empty comment): "-java"
 * alone, or "rust OR -java". Such a query could only be answered by looking
 * at every comment, and is almost always a mistake.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "es_query.h"
#include "es_text.h"
#include "es_utf8.h"

#define AUTHOR_MAX 20 /* Reddit user names: 3-20 of [A-Za-z0-9_-] */

enum {
    T_EOF,
    T_LPAREN,
    T_RPAREN,
    T_OR,
    T_AND,
    T_NOT,
    T_MINUS,
    T_QUOTE,
    T_WORD
};

typedef struct {
    es_qnode_kind kind;
    uint32_t nkids, kid0; /* kids are kid[kid0 .. kid0 + nkids) */
    uint32_t text, len, nwords;
    uint32_t offset;
} bnode;

struct es_query {
    es_qnode *nodes;
    const es_qnode **kids;
    char *text;
    const es_qnode *root;
};

typedef struct {
    const char *q;
    size_t n, pos;
    /* the current token */
    int tok;
    size_t tstart, tlen; /* T_WORD: the word; T_QUOTE: the inside */
    /* scratch */
    bnode *nodes;
    uint32_t nnodes;
    uint32_t *kid; /* finished child lists */
    uint32_t nkid;
    uint32_t *stack; /* children being collected, one region per level */
    uint32_t nstack;
    char *text;
    uint32_t ntext;
    char *fold;
    es_token *toks;
    size_t ntoks_max;
    unsigned terms;
    es_query_error *err;
} parser;

static int fail(parser *p, size_t off, const char *reason)
{
    size_t col = 1;

    for (size_t i = 0; i < off && i < p->n; i++) {
        col += ((unsigned char)p->q[i] & 0xc0) != 0x80;
    }
    p->err->offset = off;
    p->err->column = col;
    snprintf(p->err->reason, sizeof(p->err->reason), "%s", reason);
    return -1;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static int ends_word(unsigned char c)
{
    return is_space(c) || c == '(' || c == ')' || c == '"';
}

/* Reads the next token into p->tok; -1 on a lexical error. */
static int next(parser *p)
{
    const char *q = p->q;
    size_t i = p->pos;

    while (i < p->n && is_space((unsigned char)q[i])) {
        i++;
    }
    p->tstart = i;
    p->tlen = 0;
    if (i >= p->n) {
        p->tok = T_EOF;
        p->pos = i;
        return 0;
    }
    if (q[i] == '(' || q[i] == ')') {
        p->tok = q[i] == '(' ? T_LPAREN : T_RPAREN;
        p->pos = i + 1;
        return 0;
    }
    if (q[i] == '"') {
        const char *end = memchr(q + i + 1, '"', p->n - i - 1);
        if (end == NULL) {
            return fail(p, i, "unterminated quote");
        }
        p->tok = T_QUOTE;
        p->tstart = i + 1;
        p->tlen = (size_t)(end - (q + i + 1));
        p->pos = (size_t)(end - q) + 1;
        return 0;
    }
    if (q[i] == '-') {
        if (i + 1 >= p->n || is_space((unsigned char)q[i + 1]) ||
            q[i + 1] == ')') {
            return fail(p, i, "'-' must be followed directly by a term");
        }
        p->tok = T_MINUS;
        p->pos = i + 1;
        return 0;
    }
    while (i < p->n && !ends_word((unsigned char)q[i])) {
        i++;
    }
    p->tlen = i - p->tstart;
    p->pos = i;
    p->tok = T_WORD;
    if (p->tlen == 2 && memcmp(q + p->tstart, "OR", 2) == 0) {
        p->tok = T_OR;
    } else if (p->tlen == 3 && memcmp(q + p->tstart, "AND", 3) == 0) {
        p->tok = T_AND;
    } else if (p->tlen == 3 && memcmp(q + p->tstart, "NOT", 3) == 0) {
        p->tok = T_NOT;
    }
    return 0;
}

static uint32_t new_node(parser *p, es_qnode_kind kind, size_t offset)
{
    bnode *b = &p->nodes[p->nnodes];

    memset(b, 0, sizeof(*b));
    b->kind = kind;
    b->offset = (uint32_t)offset;
    return p->nnodes++;
}

static int count_term(parser *p, size_t offset)
{
    if (++p->terms > ES_QUERY_MAX_TERMS) {
        return fail(p, offset, "too many terms (max 64)");
    }
    return 0;
}

/*
 * Folds s[0..n) and appends a word or phrase leaf for it; *id gets the
 * node, or stays UINT32_MAX when the text has no word in it.
 */
static void words_leaf(parser *p, const char *s, size_t n, size_t offset,
                       uint32_t *id)
{
    size_t nt = es_text_tokenize(s, n, p->fold, p->toks, p->ntoks_max);
    uint32_t start = p->ntext;

    *id = UINT32_MAX;
    if (nt == 0) {
        return;
    }
    for (size_t i = 0; i < nt; i++) {
        if (i > 0) {
            p->text[p->ntext++] = ' ';
        }
        memcpy(p->text + p->ntext, p->fold + p->toks[i].off, p->toks[i].len);
        p->ntext += p->toks[i].len;
    }
    *id = new_node(p, nt == 1 ? ES_QN_WORD : ES_QN_PHRASE, offset);
    p->nodes[*id].text = start;
    p->nodes[*id].len = p->ntext - start;
    p->nodes[*id].nwords = (uint32_t)nt;
}

static int author_leaf(parser *p, const char *s, size_t n, size_t offset,
                       uint32_t *id)
{
    if (n == 0) {
        return fail(p, offset, "author: needs a name");
    }
    if (n > AUTHOR_MAX) {
        return fail(p, offset, "author name longer than 20 characters");
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) {
            return fail(p, offset + 7 + i,
                        "author names are letters, digits, '_' and '-'");
        }
    }
    *id = new_node(p, ES_QN_AUTHOR, offset);
    p->nodes[*id].text = p->ntext;
    p->nodes[*id].len = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        p->text[p->ntext++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    return 0;
}

/* A T_WORD token: a word (or phrase), a prefix or an author term. */
static int word_term(parser *p, uint32_t *id)
{
    const char *s = p->q + p->tstart;
    size_t n = p->tlen, off = p->tstart;
    const char *star = memchr(s, '*', n);

    if (count_term(p, off) < 0) {
        return -1;
    }
    if (n >= 7 && strncasecmp(s, "author:", 7) == 0) {
        return author_leaf(p, s + 7, n - 7, off, id);
    }
    if (star != NULL && star != s + n - 1) {
        return fail(p, off + (size_t)(star - s),
                    "'*' is only allowed at the end of a word");
    }
    if (star != NULL) {
        size_t nt = es_text_tokenize(s, n - 1, p->fold, p->toks, p->ntoks_max);
        size_t chars = 0;
        if (nt > 1) {
            return fail(p, off, "a prefix must be a single word");
        }
        for (size_t i = 0; nt == 1 && i < p->toks[0].len; i++) {
            chars +=
                ((unsigned char)p->fold[p->toks[0].off + i] & 0xc0) != 0x80;
        }
        if (chars < 2) {
            return fail(p, off, "prefix needs at least 2 characters");
        }
        *id = new_node(p, ES_QN_PREFIX, off);
        p->nodes[*id].text = p->ntext;
        p->nodes[*id].len = p->toks[0].len;
        memcpy(p->text + p->ntext, p->fold + p->toks[0].off, p->toks[0].len);
        p->ntext += p->toks[0].len;
        return 0;
    }
    words_leaf(p, s, n, off, id);
    if (*id == UINT32_MAX) {
        return fail(p, off, "term has no letters or digits");
    }
    return 0;
}

/*
 * Closes a list of children collected on the stack from base: one child is
 * returned as is, several become an AND or OR node whose children of the
 * same kind are merged into it.
 */
static uint32_t close_list(parser *p, es_qnode_kind kind, uint32_t base,
                           size_t offset)
{
    uint32_t n = p->nstack - base, id, kid0 = p->nkid;

    if (n == 1) {
        p->nstack = base;
        return p->stack[base];
    }
    for (uint32_t i = base; i < p->nstack; i++) {
        bnode *c = &p->nodes[p->stack[i]];
        if (c->kind == kind) {
            memmove(p->kid + p->nkid, p->kid + c->kid0,
                    c->nkids * sizeof(uint32_t));
            p->nkid += c->nkids;
        } else {
            p->kid[p->nkid++] = p->stack[i];
        }
    }
    p->nstack = base;
    id = new_node(p, kind, offset);
    p->nodes[id].kid0 = kid0;
    p->nodes[id].nkids = p->nkid - kid0;
    return id;
}

static int parse_or(parser *p, unsigned depth, uint32_t *id);

static int starts_term(int tok)
{
    return tok != T_EOF && tok != T_RPAREN && tok != T_OR && tok != T_AND;
}

static int parse_primary(parser *p, unsigned depth, uint32_t *id)
{
    size_t at = p->tstart;

    if (p->tok == T_LPAREN) {
        if (depth + 1 > ES_QUERY_MAX_DEPTH) {
            return fail(p, at, "nesting deeper than 8");
        }
        if (next(p) < 0) {
            return -1;
        }
        if (p->tok == T_RPAREN) {
            return fail(p, at, "empty group");
        }
        if (parse_or(p, depth + 1, id) < 0) {
            return -1;
        }
        if (p->tok != T_RPAREN) {
            return fail(p, at, "unbalanced parenthesis");
        }
        return next(p);
    }
    if (p->tok == T_QUOTE) {
        if (count_term(p, at - 1) < 0) {
            return -1;
        }
        words_leaf(p, p->q + p->tstart, p->tlen, at - 1, id);
        if (*id == UINT32_MAX) {
            return fail(p, at - 1, "empty phrase");
        }
        return next(p);
    }
    if (p->tok == T_RPAREN) {
        return fail(p, at, "unbalanced parenthesis");
    }
    if (word_term(p, id) < 0) {
        return -1;
    }
    return next(p);
}

static int parse_unary(parser *p, unsigned depth, uint32_t *id)
{
    int neg = 0, tok = 0;
    size_t at = p->tstart;

    while (p->tok == T_NOT || p->tok == T_MINUS) {
        neg ^= 1;
        tok = p->tok;
        at = p->tstart;
        if (next(p) < 0) {
            return -1;
        }
    }
    if (tok != 0 && !starts_term(p->tok)) {
        return fail(p, at,
                    tok == T_NOT ? "NOT needs a term after it"
                                 : "'-' must be followed by a term");
    }
    if (parse_primary(p, depth, id) < 0) {
        return -1;
    }
    if (neg) {
        uint32_t kid = *id;
        *id = new_node(p, ES_QN_NOT, at);
        p->nodes[*id].kid0 = p->nkid;
        p->nodes[*id].nkids = 1;
        p->kid[p->nkid++] = kid;
        if (p->nodes[kid].kind == ES_QN_NOT) {
            *id = p->kid[p->nodes[kid].kid0]; /* NOT NOT x is x */
        }
    }
    return 0;
}

/* and := unary (["AND"] unary)*; *id stays UINT32_MAX when empty. */
static int parse_and(parser *p, unsigned depth, uint32_t *id)
{
    uint32_t base = p->nstack, kid;
    size_t at = p->tstart;

    *id = UINT32_MAX;
    for (;;) {
        if (p->tok == T_AND) {
            size_t and_at = p->tstart;
            if (p->nstack == base) {
                return fail(p, and_at, "AND needs a term on both sides");
            }
            if (next(p) < 0) {
                return -1;
            }
            if (!starts_term(p->tok)) {
                return fail(p, and_at, "AND needs a term on both sides");
            }
        }
        if (!starts_term(p->tok)) {
            break;
        }
        if (parse_unary(p, depth, &kid) < 0) {
            return -1;
        }
        p->stack[p->nstack++] = kid;
    }
    if (p->nstack > base) {
        *id = close_list(p, ES_QN_AND, base, at);
    }
    return 0;
}

static int parse_or(parser *p, unsigned depth, uint32_t *id)
{
    uint32_t base = p->nstack, kid;
    size_t at = p->tstart;

    if (parse_and(p, depth, &kid) < 0) {
        return -1;
    }
    while (p->tok == T_OR) {
        size_t or_at = p->tstart;
        if (kid == UINT32_MAX) {
            return fail(p, or_at, "OR needs a term on both sides");
        }
        p->stack[p->nstack++] = kid;
        if (next(p) < 0 || parse_and(p, depth, &kid) < 0) {
            return -1;
        }
        if (kid == UINT32_MAX) {
            return fail(p, or_at, "OR needs a term on both sides");
        }
    }
    if (kid == UINT32_MAX) {
        *id = UINT32_MAX;
        return 0;
    }
    p->stack[p->nstack++] = kid;
    *id = close_list(p, ES_QN_OR, base, at);
    return 0;
}

/* Truth on a comment with no words and no author; sets *pos if a positive
 * term exists under an even number of NOTs. */
static int empty_truth(const parser *p, uint32_t id, int neg, int *pos)
{
    const bnode *b = &p->nodes[id];
    int v;

    switch (b->kind) {
    case ES_QN_NOT:
        return !empty_truth(p, p->kid[b->kid0], !neg, pos);
    case ES_QN_AND:
    case ES_QN_OR:
        v = b->kind == ES_QN_AND;
        for (uint32_t i = 0; i < b->nkids; i++) {
            int k = empty_truth(p, p->kid[b->kid0 + i], neg, pos);
            v = b->kind == ES_QN_AND ? (v && k) : (v || k);
        }
        return v;
    default:
        if (!neg) {
            *pos = 1;
        }
        return 0;
    }
}

/* Copies the scratch tree into one exact-size allocation. */
static es_query *finish(parser *p, uint32_t root)
{
    size_t nn = p->nnodes, nk = p->nkid, nt = p->ntext;
    size_t size = sizeof(es_query) + nn * sizeof(es_qnode) +
                  nk * sizeof(es_qnode *) + nt + 1;
    es_query *query = calloc(1, size);

    if (query == NULL) {
        return NULL;
    }
    query->nodes = (es_qnode *)(query + 1);
    query->kids = (const es_qnode **)(query->nodes + nn);
    query->text = (char *)(query->kids + nk);
    memcpy(query->text, p->text, nt);
    for (size_t i = 0; i < nk; i++) {
        query->kids[i] = &query->nodes[p->kid[i]];
    }
    for (size_t i = 0; i < nn; i++) {
        const bnode *b = &p->nodes[i];
        es_qnode *q = &query->nodes[i];
        q->kind = b->kind;
        q->nkids = b->nkids;
        q->kids = b->nkids ? query->kids + b->kid0 : NULL;
        q->text = query->text + b->text;
        q->len = b->len;
        q->nwords = b->nwords;
        q->offset = b->offset;
    }
    query->root = root == UINT32_MAX ? NULL : &query->nodes[root];
    return query;
}

static size_t first_bad_byte(const char *q, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t len =
            (unsigned char)q[i] < 0x80
                ? (q[i] != 0)
                : es_utf8_char_len((const unsigned char *)q + i, n - i);
        if (len == 0) {
            return i;
        }
        i += len;
    }
    return n;
}

es_query *es_query_parse(const char *q, size_t n, es_query_error *err)
{
    parser p;
    es_query_error dummy;
    es_query *query = NULL;
    uint32_t root = UINT32_MAX;
    size_t bad, cap = 3 * n + 8;
    char reason[64];
    int pos = 0;

    memset(&p, 0, sizeof(p));
    p.q = q;
    p.n = n;
    p.err = err != NULL ? err : &dummy;
    if (n > ES_QUERY_MAX_BYTES) {
        p.n = ES_QUERY_MAX_BYTES;
        fail(&p, ES_QUERY_MAX_BYTES, "query too long (max 1024 bytes)");
        return NULL;
    }
    bad = first_bad_byte(q, n);
    if (bad < n) {
        snprintf(reason, sizeof(reason), "%s at byte %zu",
                 q[bad] == 0 ? "NUL character" : "invalid UTF-8", bad);
        fail(&p, bad, reason);
        return NULL;
    }
    p.ntoks_max = es_text_max_tokens(n);
    p.nodes = malloc(cap * sizeof(bnode));
    /* merging nested lists copies a child list once per enclosing level */
    p.kid = malloc((ES_QUERY_MAX_DEPTH + 2) * cap * sizeof(uint32_t));
    p.stack = malloc(cap * sizeof(uint32_t));
    p.text = malloc(cap);
    p.fold = malloc(n + 1);
    p.toks = malloc(p.ntoks_max * sizeof(es_token));
    if (!p.nodes || !p.kid || !p.stack || !p.text || !p.fold || !p.toks) {
        fail(&p, 0, "out of memory");
        goto cleanup;
    }
    if (next(&p) < 0 || parse_or(&p, 0, &root) < 0) {
        goto cleanup;
    }
    if (p.tok != T_EOF) {
        fail(&p, p.tstart, "unbalanced parenthesis");
        goto cleanup;
    }
    if (root != UINT32_MAX && empty_truth(&p, root, 0, &pos)) {
        fail(&p, 0,
             pos ? "query can match without any positive term (a negated "
                   "term alone in an OR)"
                 : "query cannot match: only negated terms");
        goto cleanup;
    }
    query = finish(&p, root);
    if (query == NULL) {
        fail(&p, 0, "out of memory");
    }
cleanup:
    free(p.nodes);
    free(p.kid);
    free(p.stack);
    free(p.text);
    free(p.fold);
    free(p.toks);
    return query;
}

void es_query_free(es_query *query)
{
    free(query);
}

const es_qnode *es_query_root(const es_query *query)
{
    return query->root;
}
