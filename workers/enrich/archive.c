/*
 * archive.c - the raw archive writer and its S3 upload queue (see
 * archive.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "archive.h"
#include "es_log.h"
#include "es_worker.h"

#define PENDING_DIR ".s3-pending"
#define ZSTD_LEVEL  3

int es_archive_init(es_archive *a, const char *dir, es_s3 *s3)
{
    memset(a, 0, sizeof(*a));
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        return -1;
    }
    a->dir = strdup(dir);
    a->s3 = s3;
    a->retry_ms = 30000;
    return a->dir ? 0 : -1;
}

void es_archive_cleanup(es_archive *a)
{
    free(a->dir);
    a->dir = NULL;
    pthread_mutex_destroy(&a->lock);
}

int es_archive_line(const es_enrich_entry *e, es_jsonw *w)
{
    const redisReply *f = e->fields;

    es_jsonw_raw(w, "{\"stream_id\":", 13);
    es_jsonw_str(w, e->stream_id, strlen(e->stream_id));
    for (size_t i = 0; f && i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
            strcmp(k->str, "stream_id") == 0) {
            continue;
        }
        es_jsonw_raw(w, ",", 1);
        es_jsonw_str(w, k->str, k->len);
        es_jsonw_raw(w, ":", 1);
        es_jsonw_str(w, v->str, v->len);
    }
    es_jsonw_raw(w, "}\n", 2);
    return w->oom ? -1 : 0;
}

/* mkdir -p of path (modified in place and restored). */
static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    int rc;

    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes data to path durably: temp file, fsync, rename, fsync dir. */
static int write_durable(const char *dir, const char *name, const void *data,
                         size_t n)
{
    char tmp[4096], path[4096];
    const char *p = data;
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s/.tmp-%d-%s", dir, (int)getpid(), name) >=
            (int)sizeof(tmp) ||
        snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -1;
    }
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            goto error;
        }
        p += w;
        n -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        goto error;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return fsync_dir(dir);

error:
    close(fd);
    unlink(tmp);
    return -1;
}

/* The marker name of a relative path: '/' becomes '+'. */
static void marker_name(const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s", rel);
    for (char *p = out; *p; p++) {
        if (*p == '/') {
            *p = '+';
        }
    }
}

static int add_marker(es_archive *a, const char *rel)
{
    char dir[4096], name[1024], path[4096 + 1024];
    int fd;

    snprintf(dir, sizeof(dir), "%s/%s", a->dir, PENDING_DIR);
    if (mkdirs(dir) != 0) {
        return -1;
    }
    marker_name(rel, name, sizeof(name));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -1;
    }
    close(fd);
    return fsync_dir(dir);
}

/* Compresses and writes one hour's lines. */
static int write_file(es_archive *a, const char *day, const char *hour,
                      const char *name, const char *lines, size_t len)
{
    char dir[4096], rel[1024];
    size_t bound = ZSTD_compressBound(len), zn;
    void *z = malloc(bound ? bound : 1);
    int rc = -1;

    if (z == NULL) {
        return -1;
    }
    zn = ZSTD_compress(z, bound, lines, len, ZSTD_LEVEL);
    if (ZSTD_isError(zn)) {
        es_log(ES_ERROR, "zstd compression failed",
               ES_STR("error", ZSTD_getErrorName(zn)), ES_END);
        goto cleanup;
    }
    snprintf(rel, sizeof(rel), "source=reddit/dt=%s/hour=%s/%s", day, hour,
             name);
    snprintf(dir, sizeof(dir), "%s/source=reddit/dt=%s/hour=%s", a->dir, day,
             hour);
    if (mkdirs(dir) != 0 || (a->s3 != NULL && add_marker(a, rel) != 0) ||
        write_durable(dir, name, z, zn) != 0) {
        es_log(ES_ERROR, "archive write failed", ES_STR("dir", dir),
               ES_STR("file", name), ES_STR("error", strerror(errno)), ES_END);
        goto cleanup;
    }
    a->files++;
    rc = 0;

cleanup:
    free(z);
    return rc;
}

int es_archive_write(es_archive *a, const es_enrich_entry *entries, size_t n,
                     const char *first_id, const char *last_id)
{
    char name[160];
    es_jsonw w = {0};
    unsigned char *done = calloc(n + 1, 1);
    int rc = 0;

    if (done == NULL) {
        return -1;
    }
    pthread_mutex_lock(&a->lock);
    snprintf(name, sizeof(name), "%s_%s.jsonl.zst", first_id, last_id);
    /* one pass per distinct hour; a batch rarely spans more than two */
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i]) {
            continue;
        }
        w.len = 0;
        for (size_t j = i; j < n; j++) {
            if (done[j] || strcmp(entries[j].day, entries[i].day) != 0 ||
                strcmp(entries[j].hour, entries[i].hour) != 0) {
                continue;
            }
            done[j] = 1;
            if (es_archive_line(&entries[j], &w) != 0) {
                rc = -1;
                break;
            }
            a->lines++;
        }
        if (rc == 0) {
            rc = write_file(a, entries[i].day, entries[i].hour, name, w.buf,
                            w.len);
        }
    }
    pthread_mutex_unlock(&a->lock);
    es_jsonw_free(&w);
    free(done);
    return rc;
}

long long es_archive_upload(es_archive *a, int force)
{
    char dir[4096];
    DIR *d;
    struct dirent *de;
    long long left = 0;
    int failed = 0;

    if (a->s3 == NULL || (!force && es_mono_ms() < a->next_upload_ms)) {
        return a->pending;
    }
    if (force) {
        pthread_mutex_lock(&a->lock);
    } else if (pthread_mutex_trylock(&a->lock) != 0) {
        return a->pending; /* a batch is being written: next time */
    }
    snprintf(dir, sizeof(dir), "%s/%s", a->dir, PENDING_DIR);
    d = opendir(dir);
    if (d == NULL) {
        a->pending = 0;
        pthread_mutex_unlock(&a->lock);
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        char rel[1024], path[4096 + 1024], marker[4096 + 1024], err[300];
        struct stat st;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(marker, sizeof(marker), "%s/%s", dir, de->d_name);
        if (failed || es_stopping()) {
            left++;
            continue;
        }
        snprintf(rel, sizeof(rel), "%s", de->d_name);
        for (char *p = rel; *p; p++) {
            if (*p == '+') {
                *p = '/';
            }
        }
        snprintf(path, sizeof(path), "%s/%s", a->dir, rel);
        if (stat(path, &st) != 0) {
            /* crashed between marker and rename: the batch was not
               acknowledged and will be written (and marked) again */
            unlink(marker);
            continue;
        }
        if (es_s3_put_file(a->s3, rel, path, "application/zstd", 0, err,
                           sizeof(err)) != 0) {
            es_log(ES_WARN, "archive upload failed; will retry",
                   ES_STR("key", rel), ES_STR("error", err), ES_END);
            a->upload_failures++;
            failed = 1;
            left++;
            continue;
        }
        unlink(marker);
        a->uploaded++;
    }
    closedir(d);
    if (failed) {
        a->next_upload_ms = es_mono_ms() + a->retry_ms;
    }
    a->pending = left;
    pthread_mutex_unlock(&a->lock);
    return left;
}
