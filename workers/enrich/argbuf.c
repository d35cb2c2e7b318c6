/*
 * argbuf.c - argument vectors for large Redis calls (see argbuf.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argbuf.h"
#include "fmt.h"

#define BORROWED ((size_t)-1)
#define INT_SLOT 24 /* bytes reserved for an integer, so it can be reset */

void es_argbuf_init(es_argbuf *b)
{
    memset(b, 0, sizeof(*b));
}

void es_argbuf_free(es_argbuf *b)
{
    free(b->arena);
    free(b->argv);
    free(b->lens);
    free(b->off);
    memset(b, 0, sizeof(*b));
}

void es_argbuf_reset(es_argbuf *b)
{
    b->alen = 0;
    b->n = 0;
    b->oom = 0;
}

static int grow_slots(es_argbuf *b)
{
    size_t cap = b->cap ? b->cap * 2 : 1024;
    const char **nv;
    size_t *nl, *no;

    if (b->n < b->cap) {
        return 0;
    }
    nv = realloc(b->argv, cap * sizeof(*nv));
    if (nv == NULL) {
        return -1;
    }
    b->argv = nv;
    nl = realloc(b->lens, cap * sizeof(*nl));
    if (nl == NULL) {
        return -1;
    }
    b->lens = nl;
    no = realloc(b->off, cap * sizeof(*no));
    if (no == NULL) {
        return -1;
    }
    b->off = no;
    b->cap = cap;
    return 0;
}

static int grow_arena(es_argbuf *b, size_t n)
{
    size_t cap = b->acap ? b->acap : 1 << 16;
    char *na;

    if (b->alen + n <= b->acap) {
        return 0;
    }
    while (cap < b->alen + n) {
        cap *= 2;
    }
    na = realloc(b->arena, cap);
    if (na == NULL) {
        return -1;
    }
    b->arena = na;
    b->acap = cap;
    return 0;
}

void es_argbuf_ref(es_argbuf *b, const char *p, size_t n)
{
    if (grow_slots(b) != 0) {
        b->oom = 1;
        return;
    }
    b->argv[b->n] = p;
    b->lens[b->n] = n;
    b->off[b->n++] = BORROWED;
}

/* Reserves an arena argument of n bytes; returns its bytes or NULL. */
static char *reserve(es_argbuf *b, size_t n, size_t len)
{
    if (grow_slots(b) != 0 || grow_arena(b, n) != 0) {
        b->oom = 1;
        return NULL;
    }
    b->off[b->n] = b->alen;
    b->lens[b->n++] = len;
    b->alen += n;
    return b->arena + b->alen - n;
}

void es_argbuf_copy(es_argbuf *b, const char *p, size_t n)
{
    char *d = reserve(b, n, n);

    if (d != NULL && n > 0) {
        memcpy(d, p, n);
    }
}

void es_argbuf_str(es_argbuf *b, const char *s)
{
    es_argbuf_copy(b, s, strlen(s));
}

void es_argbuf_int(es_argbuf *b, long long v)
{
    char *d = reserve(b, INT_SLOT, 0);

    if (d != NULL) {
        b->lens[b->n - 1] = es_fmt_ll(d, v);
    }
}

size_t es_argbuf_count(const es_argbuf *b)
{
    return b->n;
}

void es_argbuf_set_int(es_argbuf *b, size_t i, long long v)
{
    if (i < b->n && b->off[i] != BORROWED) {
        b->lens[i] = es_fmt_ll(b->arena + b->off[i], v);
    }
}

int es_argbuf_finish(es_argbuf *b)
{
    if (b->oom) {
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (b->off[i] != BORROWED) {
            b->argv[i] = b->arena + b->off[i];
        }
    }
    return 0;
}
