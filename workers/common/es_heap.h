/*
 * es_heap.h - the allocator settings of the batch workers.
 *
 * A batch worker allocates and frees the same few megabytes every batch:
 * a stream read of a few thousand entries is a hundred thousand reply
 * objects (hiredis), parsed on a reader thread and freed on the main one,
 * and the call arguments are arrays of a megabyte or more. With glibc's
 * defaults the heap is given back to the kernel after each batch (the
 * trim threshold) and large arrays are mmapped and unmapped every time
 * (the mmap threshold), so the next batch pays page faults and heap
 * growth again: a fifth of enrich's CPU time on a 200,000-comment run.
 * Keeping the memory costs what one batch needs, which the worker needs
 * again a moment later anyway.
 */
#ifndef ES_HEAP_H
#define ES_HEAP_H

/* Keeps freed memory for reuse instead of returning it after each batch. */
void es_heap_keep(void);

#endif
