/*
 * xadd_batch.h - a batch of comments as ready-to-send XADD commands.
 *
 * The backfill's reader thread turns each kept comment into the exact
 * "XADD es:{ingest}:comments * type comment|delete <fields>" command its
 * entry needs (stream_entry.h), in wire format, back to back in one buffer; the
 * writer thread (stream_writer.h) then decides which of them to send and
 * sends those bytes untouched: a batch of new comments goes out as one
 * write of the whole buffer.
 */
#ifndef ES_INGEST_XADD_BATCH_H
#define ES_INGEST_XADD_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "resp.h"
#include "stream_entry.h"

typedef struct {
    uint64_t id_num;
    size_t off, len; /* its XADD command in the batch's buffer */
    int deleted;     /* the command appends a deletion event */
} es_xitem;

typedef struct {
    es_resp cmds;
    es_xitem *items;
    int n, cap;
} es_xbatch;

/* Appends the XADD of e. 0, or -1 when memory runs out (nothing added). */
int es_xbatch_add(es_xbatch *b, const es_entry *e);

/* Bytes of commands held. */
size_t es_xbatch_bytes(const es_xbatch *b);

void es_xbatch_clear(es_xbatch *b);
void es_xbatch_free(es_xbatch *b);

#endif
