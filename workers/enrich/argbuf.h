/*
 * argbuf.h - argument vectors for large Redis calls, built without one
 * allocation per argument.
 *
 * An argument is either borrowed (a pointer to bytes that outlive the call:
 * a field of the stream reply) or copied into one growing arena (numbers,
 * derived strings). Arena offsets stay valid while it grows; es_argbuf_finish
 * turns them into pointers once, just before the call. Several commands can
 * share one buffer: each takes a slice starting at es_argbuf_count().
 */
#ifndef ES_ENRICH_ARGBUF_H
#define ES_ENRICH_ARGBUF_H

#include <stddef.h>

typedef struct {
    char *arena;
    size_t alen, acap;
    const char **argv; /* valid after es_argbuf_finish */
    size_t *lens;
    size_t *off; /* arena offset, or (size_t)-1 when borrowed */
    size_t n, cap;
    int oom; /* an add failed: the vector is incomplete */
} es_argbuf;

void es_argbuf_init(es_argbuf *b);
void es_argbuf_free(es_argbuf *b);

/* Forgets every argument, keeping the memory. */
void es_argbuf_reset(es_argbuf *b);

/* Borrows p[0..n): it must stay valid until the call is done. */
void es_argbuf_ref(es_argbuf *b, const char *p, size_t n);

/* Copies p[0..n) / a NUL-terminated string / a formatted integer. */
void es_argbuf_copy(es_argbuf *b, const char *p, size_t n);
void es_argbuf_str(es_argbuf *b, const char *s);
void es_argbuf_int(es_argbuf *b, long long v);

/* Index the next argument will take. */
size_t es_argbuf_count(const es_argbuf *b);

/* Overwrites argument i (added with es_argbuf_int) with an integer. */
void es_argbuf_set_int(es_argbuf *b, size_t i, long long v);

/* Resolves pointers; 0, or -1 when an earlier add ran out of memory. */
int es_argbuf_finish(es_argbuf *b);

#endif
