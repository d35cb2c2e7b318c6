/*
 * archive.h - the raw archive ("lake"): every stream entry the enrich
 * worker reads, as JSON lines in zstd files, before the batch is
 * acknowledged.
 *
 * Layout under lake.dir, partitioned by the comment's creation time (UTC;
 * a deletion by its stream id's time):
 *
 *   source=reddit/dt=YYYY-MM-DD/hour=HH/<first id>_<last id>.jsonl.zst
 *
 * where the ids are the first and last stream ids of the batch. One line per
 * entry: its stream fields as JSON strings plus "stream_id". A file is
 * written under a temporary name, fsync'd, renamed into place and its
 * directory fsync'd, so it is either whole or absent; the name depends only
 * on the batch, so a batch read again after a crash overwrites its own file
 * instead of adding a second copy.
 *
 * With S3 configured, each new file is also recorded by an empty marker in
 * lake.dir/.s3-pending/ (created durably before the file is renamed into
 * place) and uploaded as s3.prefix + the same relative path; the marker is
 * removed only after S3 accepted the object. Failed uploads are retried on
 * later ticks, and after a crash the markers still name every file not yet
 * uploaded: nothing is lost, at worst an object is uploaded twice.
 */
#ifndef ES_ENRICH_ARCHIVE_H
#define ES_ENRICH_ARCHIVE_H

#include <pthread.h>
#include <stddef.h>

#include "entry.h"
#include "es_s3.h"
#include "jsonw.h"

/*
 * Batches are archived on a thread of their own (batch.c), one at a time,
 * while the main thread may sweep the uploads and read the counters for the
 * heartbeat: a mutex keeps a sweep from running during a write (it would
 * take a marker whose file is not renamed yet for a crash's leftover), and
 * the counters are atomic.
 */
typedef struct {
    char *dir;                /* owned */
    es_s3 *s3;                /* borrowed; NULL: no upload */
    long long retry_ms;       /* wait after a failed upload */
    long long next_upload_ms; /* monotonic */
    _Atomic long long files;  /* files written */
    _Atomic long long lines;
    _Atomic long long uploaded;
    _Atomic long long upload_failures;
    _Atomic long long pending; /* markers left after the last sweep */
    pthread_mutex_t lock;      /* held by a write and by a sweep */
} es_archive;

/* 0, or -1 when out of memory. s3 may be NULL. */
int es_archive_init(es_archive *a, const char *dir, es_s3 *s3);
void es_archive_cleanup(es_archive *a);

/*
 * Writes entries[0..n) (each with its partition set by the parser) into
 * their hour files, named after first_id and last_id. 0 when every file is
 * durable, -1 (logged) otherwise.
 */
int es_archive_write(es_archive *a, const es_enrich_entry *entries, size_t n,
                     const char *first_id, const char *last_id);

/*
 * Uploads files whose marker is pending, if S3 is configured and no recent
 * failure asks to wait (force: ignore the wait); skipped while a batch is
 * being written (force: wait for it). Returns the number of files still
 * pending.
 */
long long es_archive_upload(es_archive *a, int force);

/* Appends one entry as a JSON line (exposed for the tests). 0 or -1. */
int es_archive_line(const es_enrich_entry *e, es_jsonw *w);

#endif
