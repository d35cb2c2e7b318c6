/*
 * dump_reader.c - streaming line reader for plain and zstd dumps (see
 * dump_reader.h).
 *
 * Decompressed (or read) bytes are appended to one line buffer; lines are
 * handed out in place from it and the unfinished tail is moved to the front
 * only when the free space runs low, so the common case copies nothing. The
 * buffer grows for long lines up to the cap; beyond it the reader switches
 * to skipping until the next newline. The search for a newline resumes where
 * the last one stopped, so a long line costs linear time, not quadratic.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "dump_reader.h"
#include "es_log.h"

#define IN_CHUNK  (1u << 20) /* compressed bytes per read(2) */
#define BUF_START (4u << 20) /* first size of the line buffer */
#define MIN_FREE  (1u << 20) /* decompress into at least this much */

enum { MODE_UNKNOWN = 0, MODE_PLAIN, MODE_ZSTD };

struct es_dump_reader {
    int fd;
    int own_fd;
    int mode;
    ZSTD_DCtx *dctx;
    int in_frame; /* input consumed since the last frame ended */
    char *in;     /* compressed input */
    size_t in_len, in_pos;
    int in_eof;
    char *buf; /* decompressed bytes: lines */
    size_t cap, start, len, scan;
    size_t max_line;
    int skipping; /* inside a line over the cap */
    int done;     /* input fully read */
    int failed;   /* sticky error, reported after the last full line */
    int interrupted;
    long long skipped;
    long long read_total;
    long long size;
    const char *err;
    char errbuf[200];
};

es_dump_reader *es_dump_reader_open(const char *path, size_t max_line,
                                    char *err, size_t errlen)
{
    es_dump_reader *r = calloc(1, sizeof(*r));
    struct stat st;

    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->fd = -1;
    r->size = -1;
    r->max_line = max_line ? max_line : ES_DUMP_MAX_LINE;
    r->cap = BUF_START;
    r->in = malloc(IN_CHUNK);
    r->buf = malloc(r->cap);
    if (r->in == NULL || r->buf == NULL) {
        snprintf(err, errlen, "out of memory");
        goto error;
    }
    if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            goto error;
        }
        r->own_fd = 1;
    }
    if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        r->size = (long long)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    return r;

error:
    es_dump_reader_close(r);
    return NULL;
}

void es_dump_reader_close(es_dump_reader *r)
{
    if (r == NULL) {
        return;
    }
    if (r->own_fd && r->fd >= 0) {
        close(r->fd);
    }
    ZSTD_freeDCtx(r->dctx);
    free(r->in);
    free(r->buf);
    free(r);
}

/* read(2) into dst; -1 sets the error (EINTR is reported as interrupted). */
static ssize_t read_some(es_dump_reader *r, char *dst, size_t n)
{
    ssize_t got = read(r->fd, dst, n);

    if (got < 0) {
        if (errno == EINTR) {
            r->interrupted = 1;
            r->err = "interrupted";
            return -1;
        }
        snprintf(r->errbuf, sizeof(r->errbuf), "read failed: %s",
                 strerror(errno));
        r->err = r->errbuf;
        r->failed = 1;
        return -1;
    }
    r->read_total += got;
    return got;
}

/*
 * A zstd frame (magic 0xFD2FB528) or a skippable frame (0x184D2A50 to
 * 0x184D2A5F), both little-endian, as the format specification defines.
 */
static int is_zstd_magic(const unsigned char *b)
{
    if (b[0] == 0x28 && b[1] == 0xB5 && b[2] == 0x2F && b[3] == 0xFD) {
        return 1;
    }
    return (b[0] & 0xF0) == 0x50 && b[1] == 0x2A && b[2] == 0x4D &&
           b[3] == 0x18;
}

/* Reads the first bytes and decides between plain and zstd input. */
static int detect(es_dump_reader *r)
{
    while (r->in_len < 4 && !r->in_eof) {
        ssize_t got = read_some(r, r->in + r->in_len, IN_CHUNK - r->in_len);
        if (got < 0) {
            return -1;
        }
        if (got == 0) {
            r->in_eof = 1;
        }
        r->in_len += (size_t)got;
    }
    if (r->in_len >= 4 && is_zstd_magic((const unsigned char *)r->in)) {
        r->dctx = ZSTD_createDCtx();
        if (r->dctx == NULL) {
            r->err = "out of memory";
            r->failed = 1;
            return -1;
        }
        ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, 31);
        r->mode = MODE_ZSTD;
        return 0;
    }
    /* plain: the bytes read so far are the start of the text */
    memcpy(r->buf + r->len, r->in, r->in_len);
    r->len += r->in_len;
    r->in_len = 0;
    r->mode = MODE_PLAIN;
    return 0;
}

/*
 * Appends more text to buf (room for at least one byte is guaranteed by the
 * caller, plus one for a NUL). Returns bytes added, 0 at the end, -1.
 */
static ssize_t fill(es_dump_reader *r)
{
    size_t room = r->cap - r->len - 1;

    if (r->mode == MODE_PLAIN) {
        ssize_t got = read_some(r, r->buf + r->len, room);
        if (got > 0) {
            r->len += (size_t)got;
        }
        return got;
    }
    for (;;) {
        ZSTD_inBuffer ib;
        ZSTD_outBuffer ob = {r->buf + r->len, room, 0};
        size_t ret;

        if (r->in_pos == r->in_len && !r->in_eof) {
            ssize_t got = read_some(r, r->in, IN_CHUNK);
            if (got < 0) {
                return -1;
            }
            r->in_len = (size_t)got;
            r->in_pos = 0;
            if (got == 0) {
                r->in_eof = 1;
            }
        }
        ib.src = r->in;
        ib.size = r->in_len;
        ib.pos = r->in_pos;
        ret = ZSTD_decompressStream(r->dctx, &ob, &ib);
        if (ib.pos > r->in_pos) {
            r->in_frame = 1;
        }
        r->in_pos = ib.pos;
        if (ZSTD_isError(ret)) {
            snprintf(r->errbuf, sizeof(r->errbuf),
                     "corrupt zstd data near compressed byte %lld: %s",
                     es_dump_reader_offset(r), ZSTD_getErrorName(ret));
            r->err = r->errbuf;
            r->failed = 1;
            return -1;
        }
        if (ret == 0) {
            r->in_frame = 0;
        }
        if (ob.pos > 0) {
            r->len += ob.pos;
            return (ssize_t)ob.pos;
        }
        if (r->in_pos == r->in_len && r->in_eof) {
            if (r->in_frame) {
                snprintf(r->errbuf, sizeof(r->errbuf),
                         "truncated zstd data: input ends inside a frame "
                         "after %lld bytes",
                         r->read_total);
                r->err = r->errbuf;
                r->failed = 1;
                return -1;
            }
            return 0;
        }
    }
}

/* Makes room for MIN_FREE more bytes: compacts, then grows up to the cap. */
static int make_room(es_dump_reader *r)
{
    size_t limit = r->max_line + MIN_FREE + 2;
    size_t ncap;
    char *nbuf;

    if (r->cap - r->len >= MIN_FREE) {
        return 0;
    }
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->len - r->start);
        r->len -= r->start;
        r->scan -= r->start;
        r->start = 0;
        if (r->cap - r->len >= MIN_FREE) {
            return 0;
        }
    }
    ncap = r->cap * 2;
    if (ncap > limit) {
        ncap = limit;
    }
    if (ncap <= r->cap) {
        return 0; /* the line cap check runs before the buffer fills */
    }
    nbuf = realloc(r->buf, ncap);
    if (nbuf == NULL) {
        r->err = "out of memory for a long line";
        r->failed = 1;
        return -1;
    }
    r->buf = nbuf;
    r->cap = ncap;
    return 0;
}

static void cut_line(es_dump_reader *r, char *nl, const char **line,
                     size_t *len)
{
    char *s = r->buf + r->start;
    size_t n = (size_t)(nl - s);

    if (n > 0 && s[n - 1] == '\r') {
        n--;
    }
    s[n] = '\0';
    *line = s;
    *len = n;
}

int es_dump_reader_next(es_dump_reader *r, const char **line, size_t *len)
{
    r->interrupted = 0;
    for (;;) {
        char *nl = memchr(r->buf + r->scan, '\n', r->len - r->scan);
        ssize_t got;

        if (nl != NULL) {
            int was_skipping = r->skipping;
            cut_line(r, nl, line, len);
            r->start = r->scan = (size_t)(nl - r->buf) + 1;
            if (was_skipping) {
                r->skipping = 0;
                continue;
            }
            if (*len > r->max_line) {
                r->skipped++;
                es_log(ES_WARN, "dump line too long, skipped",
                       ES_INT("bytes", *len), ES_INT("max", r->max_line),
                       ES_END);
                continue;
            }
            return 1;
        }
        r->scan = r->len;
        if (r->done || r->failed) {
            if (r->start < r->len && !r->skipping && r->done) {
                /* the last line has no newline: room for the NUL is kept */
                cut_line(r, r->buf + r->len, line, len);
                r->start = r->scan = r->len;
                return 1;
            }
            return r->failed ? -1 : 0;
        }
        if (r->len - r->start > r->max_line) {
            if (!r->skipping) {
                r->skipped++;
                es_log(ES_WARN, "dump line too long, skipped",
                       ES_INT("bytes_over", r->len - r->start),
                       ES_INT("max", r->max_line), ES_END);
            }
            r->skipping = 1;
            r->start = r->scan = r->len = 0;
        }
        if (r->mode == MODE_UNKNOWN && detect(r) != 0) {
            return -1;
        }
        if (make_room(r) != 0) {
            return -1;
        }
        if (r->mode == MODE_PLAIN && r->len > r->scan) {
            continue; /* detect() put the first bytes in place */
        }
        got = fill(r);
        if (got < 0) {
            if (r->interrupted) {
                return -1;
            }
            r->failed = 1;
            continue; /* deliver nothing partial; report the error */
        }
        if (got == 0) {
            r->done = 1;
        }
    }
}

const char *es_dump_reader_error(const es_dump_reader *r)
{
    return r->err;
}

int es_dump_reader_interrupted(const es_dump_reader *r)
{
    return r->interrupted;
}

long long es_dump_reader_offset(const es_dump_reader *r)
{
    if (r->mode == MODE_ZSTD) {
        return r->read_total - (long long)(r->in_len - r->in_pos);
    }
    return r->read_total;
}

long long es_dump_reader_size(const es_dump_reader *r)
{
    return r->size;
}

int es_dump_reader_is_zstd(const es_dump_reader *r)
{
    return r->mode == MODE_ZSTD;
}

long long es_dump_reader_skipped(const es_dump_reader *r)
{
    return r->skipped;
}
