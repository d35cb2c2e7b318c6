/*
 * batch_lake.c - the raw archive of a batch, written on a thread of its
 * own (see batch.h): the fsyncs of a batch take as long as all the rest of
 * its preparation on a busy disk; on their own thread they overlap it, the
 * writes and the next batch, and only the acknowledgement waits for them.
 */
#include <stdlib.h>

#include "batch.h"

/* The archive thread: a batch's files, retried until durable or stopping. */
static void *archive_main(void *arg)
{
    es_batch *b = arg;

    b->arch_rc = b->arch_k == 0 ? 0 : -1;
    while (b->arch_k > 0) {
        if (es_archive_write(b->lake, b->arch_v, b->arch_k, b->arch_first,
                             b->arch_last) == 0) {
            b->arch_rc = 0;
            break;
        }
        if (es_stopping()) {
            break;
        }
        es_sleep_ms(1000);
    }
    return NULL;
}

int es_batch_archive_join(es_batch *b)
{
    if (b->arch_running) {
        pthread_join(b->arch_thread, NULL);
        b->arch_running = 0;
    }
    return b->arch_rc;
}

int es_batch_archive_start(es_enrich *x, size_t n, const char *first,
                           const char *last)
{
    es_batch *b = x->b;
    size_t k = 0;

    if (n > b->arch_cap) {
        es_enrich_entry *v = realloc(b->arch_v, n * sizeof(*v));
        if (v == NULL) {
            return -1;
        }
        b->arch_v = v;
        b->arch_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        if (b->state[i] == ST_OK) {
            b->arch_v[k++] = b->entries[i];
        }
    }
    b->lake = &x->lake;
    b->arch_k = k;
    b->arch_first = first;
    b->arch_last = last;
    if (k == 0) {
        b->arch_rc = 0;
        return 0;
    }
    b->arch_running =
        pthread_create(&b->arch_thread, NULL, archive_main, b) == 0;
    if (!b->arch_running) {
        archive_main(b);
    }
    return 0;
}
