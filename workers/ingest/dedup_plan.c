/*
 * dedup_plan.c - es_ingest_add's rules over a whole batch (see
 * dedup_plan.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dedup_plan.h"
#include "es_keys.h"

#define OFFSET_MASK ((1ULL << ES_DEDUP_CHUNK_BITS) - 1)

typedef struct {
    uint64_t id;
    int idx;
} keyed;

static int by_id(const void *a, const void *b)
{
    const keyed *x = a, *y = b;

    if (x->id != y->id) {
        return x->id < y->id ? -1 : 1;
    }
    return x->idx - y->idx;
}

static int grow(es_dplan *p, int n)
{
    int *ns, *ng;
    unsigned char *no;
    keyed *nk;

    if (n <= p->icap) {
        return 0;
    }
    ns = realloc(p->seen_at, (size_t)n * sizeof(*ns));
    if (ns == NULL) {
        return -1;
    }
    p->seen_at = ns;
    ng = realloc(p->gone_at, (size_t)n * sizeof(*ng));
    if (ng == NULL) {
        return -1;
    }
    p->gone_at = ng;
    no = realloc(p->outcome, (size_t)n);
    if (no == NULL) {
        return -1;
    }
    p->outcome = no;
    nk = realloc(p->sorted, (size_t)n * sizeof(*nk));
    if (nk == NULL) {
        return -1;
    }
    p->sorted = nk;
    p->icap = n;
    return 0;
}

static es_drange *new_range(es_dplan *p)
{
    if (p->nranges == p->rcap) {
        int ncap = p->rcap ? p->rcap * 2 : 16;
        es_drange *nr = realloc(p->ranges, (size_t)ncap * sizeof(*nr));
        if (nr == NULL) {
            return NULL;
        }
        p->ranges = nr;
        p->rcap = ncap;
    }
    return &p->ranges[p->nranges++];
}

/* Ranges of one bitmap (seen or gone) over the k sorted ids. */
static int add_ranges(es_dplan *p, const keyed *ids, int k, int gone, int *at)
{
    es_drange *r = NULL;

    for (int i = 0; i < k; i++) {
        uint64_t chunk = ids[i].id >> ES_DEDUP_CHUNK_BITS;
        uint32_t byte = (uint32_t)((ids[i].id & OFFSET_MASK) >> 3);

        if (r == NULL || r->chunk != chunk ||
            byte > r->first + r->count - 1 + ES_DPLAN_GAP) {
            r = new_range(p);
            if (r == NULL) {
                return -1;
            }
            r->chunk = chunk;
            r->gone = gone;
            r->first = byte;
        }
        r->count = byte - r->first + 1;
        at[ids[i].idx] = p->nranges - 1;
    }
    return 0;
}

int es_dplan_ranges(es_dplan *p, const es_xitem *items, int n)
{
    keyed *ids;
    int k = 0;
    size_t bytes = 0;

    p->nranges = 0;
    if (grow(p, n) != 0) {
        return -1;
    }
    ids = p->sorted;
    for (int i = 0; i < n; i++) {
        ids[i].id = items[i].id_num;
        ids[i].idx = i;
        p->gone_at[i] = -1;
    }
    /* dumps are in id order, mostly: sort only when needed */
    for (int i = 1; i < n; i++) {
        if (ids[i].id < ids[i - 1].id) {
            qsort(ids, (size_t)n, sizeof(*ids), by_id);
            break;
        }
    }
    if (add_ranges(p, ids, n, 0, p->seen_at) != 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (items[ids[i].idx].deleted) {
            ids[k++] = ids[i];
        }
    }
    if (add_ranges(p, ids, k, 1, p->gone_at) != 0) {
        return -1;
    }
    for (int i = 0; i < p->nranges; i++) {
        p->ranges[i].at = bytes;
        bytes += p->ranges[i].count;
    }
    if (bytes > p->bcap) {
        unsigned char *no = realloc(p->old, bytes);
        unsigned char *nn;
        if (no == NULL) {
            return -1;
        }
        p->old = no;
        nn = realloc(p->now, bytes);
        if (nn == NULL) {
            return -1;
        }
        p->now = nn;
        p->bcap = bytes;
    }
    p->bytes = bytes;
    if (bytes > 0) {
        memset(p->old, 0, bytes);
    }
    return 0;
}

void es_dplan_set_old(es_dplan *p, int i, const char *bytes, size_t len)
{
    const es_drange *r = &p->ranges[i];

    if (len > r->count) {
        len = r->count;
    }
    memcpy(p->old + r->at, bytes, len);
    memset(p->old + r->at + len, 0, r->count - len);
}

int es_dplan_old_is(const es_dplan *p, int i, const char *bytes, size_t len)
{
    const es_drange *r = &p->ranges[i];
    const unsigned char *o = p->old + r->at;

    if (len > r->count) {
        len = r->count;
    }
    if (memcmp(o, bytes, len) != 0) {
        return 0;
    }
    for (size_t j = len; j < r->count; j++) {
        if (o[j] != 0) {
            return 0;
        }
    }
    return 1;
}

/* ranges in the order both lists keep them: seen before gone, by chunk,
   then by first byte */
static int range_cmp(const es_drange *a, const es_drange *b)
{
    if (a->gone != b->gone) {
        return a->gone - b->gone;
    }
    if (a->chunk != b->chunk) {
        return a->chunk < b->chunk ? -1 : 1;
    }
    return 0; /* same bitmap: the caller looks at the bytes */
}

void es_dplan_guess(es_dplan *p, const es_dplan *prev)
{
    int j = 0;

    if (p->bytes > 0) {
        memset(p->old, 0, p->bytes);
    }
    if (prev == NULL) {
        return;
    }
    /* both lists are sorted and each one's ranges of a bitmap are
       disjoint: one merge pass finds every overlap */
    for (int i = 0; i < p->nranges; i++) {
        const es_drange *r = &p->ranges[i];
        uint32_t r_end = r->first + r->count;

        while (j < prev->nranges) {
            const es_drange *q = &prev->ranges[j];
            int c = range_cmp(q, r);
            if (c < 0 || (c == 0 && q->first + q->count <= r->first)) {
                j++; /* wholly before r */
                continue;
            }
            if (c > 0 || q->first >= r_end) {
                break; /* wholly after r: perhaps a later range's */
            }
            {
                uint32_t lo = q->first > r->first ? q->first : r->first;
                uint32_t qe = q->first + q->count;
                uint32_t hi = qe < r_end ? qe : r_end;
                memcpy(p->old + r->at + (lo - r->first),
                       prev->now + q->at + (lo - q->first), hi - lo);
                if (qe > r_end) {
                    break; /* q reaches into the next range of p too */
                }
            }
            j++;
        }
    }
}

/* the byte of id's bit in range r of now, and the bit's mask */
static unsigned char *bit_of(es_dplan *p, int r, uint64_t id,
                             unsigned char *mask)
{
    uint64_t off = id & OFFSET_MASK;
    const es_drange *g = &p->ranges[r];

    *mask = (unsigned char)(0x80u >> (off & 7));
    return p->now + g->at + ((uint32_t)(off >> 3) - g->first);
}

int es_dplan_decide(es_dplan *p, const es_xitem *items, int n)
{
    int appended = 0;

    if (p->bytes > 0) {
        memcpy(p->now, p->old, p->bytes);
    }
    for (int i = 0; i < n; i++) {
        unsigned char sm, gm;
        unsigned char *s = bit_of(p, p->seen_at[i], items[i].id_num, &sm);
        int outcome = ES_DPLAN_DUPLICATE;

        if (items[i].deleted) {
            unsigned char *g = bit_of(p, p->gone_at[i], items[i].id_num, &gm);
            if ((*s & sm) && !(*g & gm)) {
                outcome = ES_DPLAN_DELETE;
            }
            *g |= gm;
        } else if (!(*s & sm)) {
            outcome = ES_DPLAN_ADD;
        }
        *s |= sm;
        p->outcome[i] = (unsigned char)outcome;
        appended += outcome != ES_DPLAN_DUPLICATE;
    }
    return appended;
}

void es_dplan_free(es_dplan *p)
{
    free(p->ranges);
    free(p->old);
    free(p->now);
    free(p->outcome);
    free(p->seen_at);
    free(p->gone_at);
    free(p->sorted);
    memset(p, 0, sizeof(*p));
}
