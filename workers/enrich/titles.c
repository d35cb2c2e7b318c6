/*
 * titles.c - the post titles of a batch's public call (see titles.h).
 *
 * Collected into an array and sorted once: a batch has a few thousand
 * comments, and sorting them is cheaper than a hash table's upkeep.
 */
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "titles.h"

void es_titles_clear(es_titles *t)
{
    t->n = 0;
}

int es_titles_add(es_titles *t, const char *hour,
                  const es_enrich_entry *entries, size_t entry, long long exp)
{
    es_title_op *op;

    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        es_title_op *p = realloc(t->ops, nc * sizeof(*p));
        if (p == NULL) {
            return -1;
        }
        t->ops = p;
        t->cap = nc;
    }
    op = &t->ops[t->n++];
    memcpy(op->key, hour, 10);
    es_record_title_ref(&entries[entry], op->key + 10);
    op->exp = exp;
    op->entry = entry;
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const es_title_op *)a)->key, ((const es_title_op *)b)->key);
}

void es_titles_emit(es_titles *t, es_argbuf *b, const es_enrich_entry *entries,
                    es_jsonw *json)
{
    if (t->n == 0) {
        return;
    }
    qsort(t->ops, t->n, sizeof(*t->ops), cmp_key);
    for (size_t i = 0; i < t->n && !b->oom;) {
        const es_title_op *first = &t->ops[i];
        const es_enrich_entry *en = &entries[first->entry];
        long long exp = first->exp;
        char hour[11];

        while (++i < t->n && strcmp(t->ops[i].key, first->key) == 0) {
            exp = t->ops[i].exp > exp ? t->ops[i].exp : exp;
        }
        memcpy(hour, first->key, 10);
        hour[10] = '\0';
        es_argbuf_ref(b, "T", 1);
        es_argbuf_str(b, hour);
        es_argbuf_int(b, exp);
        es_argbuf_copy(b, first->key + 10, 12);
        json->len = 0;
        json->oom = 0;
        es_jsonw_esc(json, en->link_title.s, en->link_title.n);
        if (json->oom) {
            b->oom = 1;
            break;
        }
        es_argbuf_copy(b, json->buf, json->len);
    }
    t->n = 0;
}

void es_titles_free(es_titles *t)
{
    free(t->ops);
    memset(t, 0, sizeof(*t));
}
