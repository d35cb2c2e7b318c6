/*
 * wplan.c - summing a tenant's increments of a batch (see wplan.h).
 *
 * Two open-addressing tables (keys by name, slots by key and name) over
 * arrays that keep insertion order; names are copied into one arena and
 * referred to by offset, so growing the arena moves nothing that is held.
 */
#include <stdlib.h>
#include <string.h>

#include "wplan.h"

static uint32_t fnv(uint32_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

void es_wplan_init(es_wplan *p)
{
    memset(p, 0, sizeof(*p));
}

void es_wplan_free(es_wplan *p)
{
    free(p->arena);
    free(p->keys);
    free(p->slots);
    free(p->ktab);
    free(p->stab);
    memset(p, 0, sizeof(*p));
}

void es_wplan_reset(es_wplan *p)
{
    if (p->nkeys > 0 && p->ktab != NULL) {
        memset(p->ktab, 0, p->ktcap * sizeof(*p->ktab));
    }
    if (p->nslots > 0 && p->stab != NULL) {
        memset(p->stab, 0, p->stcap * sizeof(*p->stab));
    }
    p->alen = 0;
    p->nkeys = 0;
    p->nslots = 0;
    p->oom = 0;
}

/* Copies s[0..n) into the arena; its offset, or (size_t)-1. */
static size_t intern(es_wplan *p, const char *s, size_t n)
{
    size_t off = p->alen;

    if (p->alen + n > p->acap) {
        size_t nc = p->acap ? p->acap * 2 : 65536;
        char *a;
        while (nc < p->alen + n) {
            nc *= 2;
        }
        a = realloc(p->arena, nc);
        if (a == NULL) {
            return (size_t)-1;
        }
        p->arena = a;
        p->acap = nc;
    }
    memcpy(p->arena + off, s, n);
    p->alen += n;
    return off;
}

/* Grows table *tab (power of two) to fit 2 * need, rehashing. 0 or -1. */
static int grow_tab(uint32_t **tab, size_t *cap, size_t need,
                    const uint32_t *hashes, size_t stride, size_t count)
{
    size_t nc = *cap ? *cap : 1024;
    uint32_t *t;

    if (need * 2 <= *cap) {
        return 0;
    }
    while (nc < need * 2) {
        nc *= 2;
    }
    t = calloc(nc, sizeof(*t));
    if (t == NULL) {
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        uint32_t h = *(const uint32_t *)((const char *)hashes + i * stride);
        size_t j = h & (nc - 1);
        while (t[j] != 0) {
            j = (j + 1) & (nc - 1);
        }
        t[j] = (uint32_t)i + 1;
    }
    free(*tab);
    *tab = t;
    *cap = nc;
    return 0;
}

long es_wplan_key(es_wplan *p, char kind, const char *name, size_t n,
                  long long exp, int *fresh)
{
    uint32_t h = fnv(2166136261u, name, n);
    es_wkey *k;
    size_t j;

    *fresh = 0;
    if (p->nkeys == p->kcap) {
        size_t nc = p->kcap ? p->kcap * 2 : 256;
        es_wkey *nk = realloc(p->keys, nc * sizeof(*nk));
        if (nk == NULL) {
            goto oom;
        }
        p->keys = nk;
        p->kcap = nc;
    }
    if (grow_tab(&p->ktab, &p->ktcap, p->nkeys + 1, &p->keys[0].hash,
                 sizeof(es_wkey), p->nkeys) != 0) {
        goto oom;
    }
    for (j = h & (p->ktcap - 1); p->ktab[j] != 0;
         j = (j + 1) & (p->ktcap - 1)) {
        k = &p->keys[p->ktab[j] - 1];
        if (k->hash == h && k->len == n &&
            memcmp(p->arena + k->off, name, n) == 0) {
            return (long)(p->ktab[j] - 1);
        }
    }
    k = &p->keys[p->nkeys];
    k->off = intern(p, name, n);
    if (k->off == (size_t)-1) {
        goto oom;
    }
    k->len = (uint32_t)n;
    k->hash = h;
    k->first = k->last = 0;
    k->n = 0;
    k->kind = kind;
    k->exp = exp;
    p->ktab[j] = (uint32_t)++p->nkeys;
    *fresh = 1;
    return (long)(p->nkeys - 1);

oom:
    p->oom = 1;
    return -1;
}

long es_wplan_add(es_wplan *p, long k, const char *f, size_t n, long long v)
{
    uint32_t h = fnv(2166136261u ^ (uint32_t)k * 2654435761u, f, n);
    es_wkey *key = &p->keys[k];
    es_wslot *s;
    size_t j;

    if (p->nslots == p->scap) {
        size_t nc = p->scap ? p->scap * 2 : 1024;
        es_wslot *ns = realloc(p->slots, nc * sizeof(*ns));
        if (ns == NULL) {
            goto oom;
        }
        p->slots = ns;
        p->scap = nc;
    }
    if (grow_tab(&p->stab, &p->stcap, p->nslots + 1, &p->slots[0].hash,
                 sizeof(es_wslot), p->nslots) != 0) {
        goto oom;
    }
    for (j = h & (p->stcap - 1); p->stab[j] != 0;
         j = (j + 1) & (p->stcap - 1)) {
        s = &p->slots[p->stab[j] - 1];
        if (s->hash == h && s->key == (uint32_t)k && s->len == n &&
            memcmp(p->arena + s->off, f, n) == 0) {
            s->v += v;
            return (long)(p->stab[j] - 1);
        }
    }
    s = &p->slots[p->nslots];
    s->off = intern(p, f, n);
    if (s->off == (size_t)-1) {
        goto oom;
    }
    s->len = (uint32_t)n;
    s->hash = h;
    s->key = (uint32_t)k;
    s->next = 0;
    s->pos = 0;
    s->v = v;
    p->stab[j] = (uint32_t)++p->nslots;
    if (key->last != 0) {
        p->slots[key->last - 1].next = (uint32_t)p->nslots;
    } else {
        key->first = (uint32_t)p->nslots;
    }
    key->last = (uint32_t)p->nslots;
    key->n++;
    return (long)(p->nslots - 1);

oom:
    p->oom = 1;
    return -1;
}

long es_wplan_find(const es_wplan *p, const char *name, size_t n)
{
    uint32_t h = fnv(2166136261u, name, n);

    if (p->nkeys == 0) {
        return -1;
    }
    for (size_t j = h & (p->ktcap - 1); p->ktab[j] != 0;
         j = (j + 1) & (p->ktcap - 1)) {
        const es_wkey *k = &p->keys[p->ktab[j] - 1];
        if (k->hash == h && k->len == n &&
            memcmp(p->arena + k->off, name, n) == 0) {
            return (long)(p->ktab[j] - 1);
        }
    }
    return -1;
}

uint32_t es_wplan_number(es_wplan *p, uint32_t last)
{
    uint32_t pos = last;

    for (size_t k = 0; k < p->nkeys; k++) {
        if (p->keys[k].kind == 'x') {
            continue;
        }
        for (uint32_t s = p->keys[k].first; s != 0; s = p->slots[s - 1].next) {
            p->slots[s - 1].pos = ++pos;
        }
    }
    return pos;
}

const char *es_wplan_key_name(const es_wplan *p, size_t k)
{
    return p->arena + p->keys[k].off;
}

const char *es_wplan_slot_name(const es_wplan *p, size_t s)
{
    return p->arena + p->slots[s].off;
}
