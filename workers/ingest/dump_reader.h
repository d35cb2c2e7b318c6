/*
 * dump_reader.h - lines of a Reddit dump file, plain or zstd-compressed.
 *
 * Pushshift and Arctic Shift dumps (RC_YYYY-MM.zst) are NDJSON compressed
 * with zstd windows of up to 2 GiB, so the reader streams through one
 * ZSTD_DCtx with ZSTD_d_windowLogMax = 31 instead of decompressing whole
 * files. Compression is recognised by the zstd frame magic number, not by
 * the file name, so stdin and renamed files work too. Lines live in one
 * growing buffer: a line may be any length up to a cap (longer lines are
 * skipped and counted, the rest of the file still read). Every complete line
 * decoded before a corruption or a truncation is delivered before the error
 * is reported, so nothing already readable is lost.
 */
#ifndef ES_DUMP_READER_H
#define ES_DUMP_READER_H

#include <stddef.h>

typedef struct es_dump_reader es_dump_reader;

/* Longest line accepted by default (bytes, without the newline). */
#define ES_DUMP_MAX_LINE (16u << 20)

/*
 * Opens path ("-" reads stdin). max_line 0 means ES_DUMP_MAX_LINE. Returns
 * NULL with a message in err when the file cannot be opened or memory runs
 * out. The reader owns the descriptor (except stdin's) and closes it.
 */
es_dump_reader *es_dump_reader_open(const char *path, size_t max_line,
                                    char *err, size_t errlen);

void es_dump_reader_close(es_dump_reader *r);

/*
 * Points *line at the next line (borrowed until the next call; the newline
 * and a trailing '\r' are removed, the text is NUL-terminated and may be
 * modified by the caller in place) and its length in *len. Returns 1 for a
 * line, 0 at the end of the input, -1 on a read or decompression error
 * (es_dump_reader_error says which). A read interrupted by a signal
 * returns -1 with errno EINTR semantics: es_dump_reader_error then reports
 * "interrupted", and the caller may call again.
 */
int es_dump_reader_next(es_dump_reader *r, const char **line, size_t *len);

/* The last error message (static or internal storage), or NULL. */
const char *es_dump_reader_error(const es_dump_reader *r);

/* 1 when the last error was an interrupted read (the call may be retried). */
int es_dump_reader_interrupted(const es_dump_reader *r);

/* Input bytes consumed so far (compressed bytes for zstd input). */
long long es_dump_reader_offset(const es_dump_reader *r);

/* Size of the input in bytes when it is a regular file, else -1. */
long long es_dump_reader_size(const es_dump_reader *r);

/* 1 when the input is zstd-compressed (known after the first read). */
int es_dump_reader_is_zstd(const es_dump_reader *r);

/* Lines skipped because they exceeded the length cap. */
long long es_dump_reader_skipped(const es_dump_reader *r);

#endif
