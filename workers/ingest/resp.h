/*
 * resp.h - Redis commands written straight into a growing buffer in the
 * wire format (RESP), ready to be sent as they are.
 *
 * The backfill sends about a gigabyte of comment text per million lines.
 * hiredis would copy each argument into a command string and that string
 * into its output buffer (moving the unsent rest to the front after every
 * partial write); building the wire bytes once, where they are sent from,
 * costs one copy of the text. A command is reserved whole before it is
 * written, so the writing itself cannot fail.
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

#endif
