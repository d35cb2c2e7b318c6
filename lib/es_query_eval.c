/*
 * es_query_eval.c - what can be done with a parsed query besides matching
 * it at speed: its canonical text and its reference evaluation.
 *
 * The canonical form spells every operator (AND, OR, NOT), writes terms
 * folded, sorts and de-duplicates the children of AND and OR, and puts
 * parentheses around every AND or OR inside another operator; it parses
 * back to the same tree, so equal forms match the same comments.
 *
 * The reference evaluation scans the words of the comment for every term.
 * It is quadratic in the worst case and exists to check the matcher
 * against something obviously right.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "es_query.h"
#include "es_text.h"

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *t;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        t = realloc(b->s, cap);
        if (t == NULL) {
            b->oom = 1;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void render(const es_qnode *n, sbuf *b, int nested);

/* The children of an AND or OR, each rendered, sorted, joined. */
static void render_list(const es_qnode *n, sbuf *b, int nested)
{
    char **parts = calloc(n->nkids, sizeof(char *));
    const char *op = n->kind == ES_QN_AND ? " AND " : " OR ";
    const char *prev = NULL;

    if (parts == NULL) {
        b->oom = 1;
        return;
    }
    for (unsigned i = 0; i < n->nkids; i++) {
        sbuf kb = {0};
        render(n->kids[i], &kb, 1);
        if (kb.oom || kb.s == NULL) {
            b->oom = 1;
        }
        parts[i] = kb.s;
    }
    if (!b->oom) {
        qsort(parts, n->nkids, sizeof(char *), cmp_str);
        if (nested) {
            put(b, "(", 1);
        }
        for (unsigned i = 0; i < n->nkids; i++) {
            if (prev != NULL && strcmp(prev, parts[i]) == 0) {
                continue;
            }
            if (prev != NULL) {
                puts_(b, op);
            }
            puts_(b, parts[i]);
            prev = parts[i];
        }
        if (nested) {
            put(b, ")", 1);
        }
    }
    for (unsigned i = 0; i < n->nkids; i++) {
        free(parts[i]);
    }
    free(parts);
}

static void render(const es_qnode *n, sbuf *b, int nested)
{
    switch (n->kind) {
    case ES_QN_WORD:
        put(b, n->text, n->len);
        break;
    case ES_QN_PHRASE:
        put(b, "\"", 1);
        put(b, n->text, n->len);
        put(b, "\"", 1);
        break;
    case ES_QN_PREFIX:
        put(b, n->text, n->len);
        put(b, "*", 1);
        break;
    case ES_QN_AUTHOR:
        puts_(b, "author:");
        put(b, n->text, n->len);
        break;
    case ES_QN_NOT:
        puts_(b, "NOT ");
        render(n->kids[0], b, 1);
        break;
    case ES_QN_AND:
    case ES_QN_OR:
        render_list(n, b, nested);
        break;
    }
}

int es_query_canonical(const es_query *query, char *buf, size_t size)
{
    sbuf b = {0};
    const es_qnode *root = es_query_root(query);
    int len;

    if (root == NULL) {
        if (size == 0) {
            return -1;
        }
        buf[0] = '\0';
        return 0;
    }
    render(root, &b, 0);
    if (b.oom || b.s == NULL || b.len + 1 > size) {
        free(b.s);
        return -1;
    }
    memcpy(buf, b.s, b.len + 1);
    len = (int)b.len;
    free(b.s);
    return len;
}

typedef struct {
    const char *fold;
    const es_token *tok;
    size_t ntok;
    const char *author;
} comment;

static int word_at(const comment *c, size_t i, const char *w, size_t n)
{
    return c->tok[i].len == n && memcmp(c->fold + c->tok[i].off, w, n) == 0;
}

static int has_phrase(const comment *c, const es_qnode *n)
{
    for (size_t i = 0; i + n->nwords <= c->ntok; i++) {
        const char *w = n->text, *end = n->text + n->len;
        size_t k = i;
        int ok = 1;
        while (ok && w < end) {
            const char *sp = memchr(w, ' ', (size_t)(end - w));
            size_t wl = sp ? (size_t)(sp - w) : (size_t)(end - w);
            ok = word_at(c, k++, w, wl);
            w += wl + 1;
        }
        if (ok) {
            return 1;
        }
    }
    return 0;
}

static int eval(const comment *c, const es_qnode *n)
{
    switch (n->kind) {
    case ES_QN_WORD:
        for (size_t i = 0; i < c->ntok; i++) {
            if (word_at(c, i, n->text, n->len)) {
                return 1;
            }
        }
        return 0;
    case ES_QN_PREFIX:
        for (size_t i = 0; i < c->ntok; i++) {
            if (c->tok[i].len >= n->len &&
                memcmp(c->fold + c->tok[i].off, n->text, n->len) == 0) {
                return 1;
            }
        }
        return 0;
    case ES_QN_PHRASE:
        return has_phrase(c, n);
    case ES_QN_AUTHOR:
        return c->author != NULL && strlen(c->author) == n->len &&
               strncasecmp(c->author, n->text, n->len) == 0;
    case ES_QN_NOT:
        return !eval(c, n->kids[0]);
    case ES_QN_AND:
        for (unsigned i = 0; i < n->nkids; i++) {
            if (!eval(c, n->kids[i])) {
                return 0;
            }
        }
        return 1;
    case ES_QN_OR:
        for (unsigned i = 0; i < n->nkids; i++) {
            if (eval(c, n->kids[i])) {
                return 1;
            }
        }
        return 0;
    }
    return 0;
}

int es_query_match(const es_query *query, const char *author, const char *body,
                   size_t body_len)
{
    comment c;
    char *fold;
    es_token *tok;
    size_t max = es_text_max_tokens(body_len);
    int r;

    if (es_query_root(query) == NULL) {
        return 1;
    }
    fold = malloc(body_len + 1);
    tok = malloc(max * sizeof(es_token));
    if (fold == NULL || tok == NULL) {
        free(fold);
        free(tok);
        return -1;
    }
    c.fold = fold;
    c.tok = tok;
    c.ntok = es_text_tokenize(body, body_len, fold, tok, max);
    c.author = author;
    r = eval(&c, es_query_root(query));
    free(fold);
    free(tok);
    return r;
}
