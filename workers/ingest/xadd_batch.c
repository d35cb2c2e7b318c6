/*
 * xadd_batch.c - comments as ready-to-send XADD commands (see
 * xadd_batch.h).
 */
#include <stdlib.h>
#include <string.h>

#include "es_comment.h"
#include "es_keys.h"
#include "xadd_batch.h"

int es_xbatch_add(es_xbatch *b, const es_entry *e)
{
    const char *type = e->deleted ? ES_TYPE_DELETE : ES_TYPE_COMMENT;
    int argc = 5 + 2 * e->nfields;
    size_t bytes =
        4 + strlen(ES_KEY_STREAM) + 1 + strlen(ES_F_TYPE) + strlen(type);
    es_xitem *it;

    for (int i = 0; i < e->nfields; i++) {
        bytes += e->f[i].name_len + e->f[i].len;
    }
    if (b->n == b->cap) {
        int ncap = b->cap ? b->cap * 2 : 512;
        es_xitem *ni = realloc(b->items, (size_t)ncap * sizeof(*ni));
        if (ni == NULL) {
            return -1;
        }
        b->items = ni;
        b->cap = ncap;
    }
    if (es_resp_reserve(&b->cmds, argc, bytes) != 0) {
        return -1;
    }
    it = &b->items[b->n++];
    it->id_num = e->id_num;
    it->deleted = e->deleted;
    it->off = b->cmds.len;
    es_resp_argc(&b->cmds, argc);
    es_resp_arg(&b->cmds, "XADD", 4);
    es_resp_arg_str(&b->cmds, ES_KEY_STREAM);
    es_resp_arg(&b->cmds, "*", 1);
    es_resp_arg_str(&b->cmds, ES_F_TYPE);
    es_resp_arg_str(&b->cmds, type);
    for (int i = 0; i < e->nfields; i++) {
        es_resp_arg(&b->cmds, e->f[i].name, e->f[i].name_len);
        es_resp_arg(&b->cmds, e->f[i].value, e->f[i].len);
    }
    it->len = b->cmds.len - it->off;
    return 0;
}

size_t es_xbatch_bytes(const es_xbatch *b)
{
    return b->cmds.len;
}

void es_xbatch_clear(es_xbatch *b)
{
    es_resp_clear(&b->cmds);
    b->n = 0;
}

void es_xbatch_free(es_xbatch *b)
{
    es_resp_free(&b->cmds);
    free(b->items);
    b->items = NULL;
    b->n = b->cap = 0;
}
