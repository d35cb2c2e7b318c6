/*
 * es_heap.c - the allocator settings of the batch workers (see es_heap.h).
 */
#include <malloc.h>

#include "es_heap.h"

void es_heap_keep(void)
{
    /* 64 MiB: well above a batch's working set (a few MiB at the default
       batch size), so neither threshold is met in steady state; a fixed
       mmap threshold also stops glibc from adjusting either on its own */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
}
