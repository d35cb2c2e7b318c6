/*
 * resp.h - Redis commands written straight into a growing buffer in the
 * wire format (RESP), ready to be sent as they are; and their replies read
 * straight from the socket.
 *
 * The backfill sends about a gigabyte of comment text per million lines.
 * hiredis would copy each argument into a command string and that string
 * into its output buffer (moving the unsent rest to the front after every
 * partial write); building the wire bytes once, where they are sent from,
 * costs one copy of the text. A command is reserved whole before it is
 * written, so the writing itself cannot fail. On the reading side a batch
 * of n comments answers n + 2 replies (QUEUED, then an array of n stream
 * ids); es_resp_in hands out each reply's line in place instead of
 * building an object per reply.
 */
#ifndef ES_INGEST_RESP_H
#define ES_INGEST_RESP_H

#include <stddef.h>

typedef struct {
    char *p;
    size_t len, cap;
} es_resp;

/*
 * Room for a command of argc arguments holding arg_bytes bytes in all.
 * 0, or -1 when memory runs out (nothing changed).
 */
int es_resp_reserve(es_resp *b, int argc, size_t arg_bytes);

/* The command header and its arguments; room reserved beforehand. */
void es_resp_argc(es_resp *b, int argc);
void es_resp_arg(es_resp *b, const char *s, size_t n);
void es_resp_arg_str(es_resp *b, const char *s);
void es_resp_arg_ull(es_resp *b, unsigned long long v);

/* A whole command of C strings (small commands); 0 or -1. */
int es_resp_cmd(es_resp *b, int argc, const char *const *argv);

void es_resp_clear(es_resp *b);
void es_resp_free(es_resp *b);

/* Replies as they arrive on a blocking socket (its timeouts apply). */
typedef struct {
    char *buf;
    size_t len, pos, cap;
} es_resp_in;

/*
 * The next reply's first line: *type is '+', '-', ':', '$' or '*', *s and
 * *n its text after the type (borrowed until the next call). 0, or -1 when
 * the connection failed, closed or spoke something else than RESP.
 */
int es_resp_in_line(es_resp_in *r, int fd, char *type, const char **s,
                    size_t *n);

/* The value of a number line ('$', '*', ':'): 0, or -1 when not one. */
int es_resp_in_num(const char *s, size_t n, long long *v);

/* The len bytes of a bulk string after its '$' line (borrowed). 0 or -1. */
int es_resp_in_bulk(es_resp_in *r, int fd, size_t len, const char **s);

/*
 * Waits until n unread bytes are buffered, in one blocking read where the
 * socket allows (MSG_WAITALL): a caller that knows how much is coming (a
 * QUEUED per command) is woken once, not for every piece Redis sends.
 * 0, or -1 when the connection failed or its timeout passed first.
 */
int es_resp_in_wait(es_resp_in *r, int fd, size_t n);

/* 1 while bytes of an unread reply are buffered. */
int es_resp_in_pending(const es_resp_in *r);

void es_resp_in_reset(es_resp_in *r);
void es_resp_in_free(es_resp_in *r);

#endif
