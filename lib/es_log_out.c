/*
 * es_log_out.c - the descriptor log lines are written to (see es_log.h's
 * es_log_open_file and es_log_stderr_is_journal).
 *
 * Lines go to stderr until a log file is opened. The file gets a descriptor
 * of its own once and keeps that number for the life of the process: a
 * reopen (SIGHUP after logrotate renamed the file) opens the path again and
 * dup3()s the new file over the old number, and going back to stderr dup3()s
 * stderr over it. dup3 swaps atomically, so the enrich worker's threads,
 * which log while the main thread reloads, write every line to one of the
 * two files and never to a closed or reused descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "es_log.h"
#include "es_log_out.h"

/* -1 until a log file is first opened; then the file's descriptor */
static int es_log_file_fd = -1;
/* what es_log writes to: STDERR_FILENO or es_log_file_fd */
static volatile int es_log_fd = STDERR_FILENO;

void es_log_out_write(const char *line, size_t len)
{
    ssize_t w = write(es_log_fd, line, len);
    (void)w;
}

int es_log_open_file(const char *path, char *err, size_t errlen)
{
    int fd;

    if (path == NULL || path[0] == '\0') {
        if (es_log_file_fd >= 0 &&
            dup3(STDERR_FILENO, es_log_file_fd, O_CLOEXEC) < 0) {
            snprintf(err, errlen, "log.file: cannot return to stderr: %s",
                     strerror(errno));
            return -1;
        }
        return 0;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "log.file: cannot open %s: %s", path,
                 strerror(errno));
        return -1;
    }
    if (es_log_file_fd < 0) {
        es_log_file_fd = fd;
        es_log_fd = fd;
        return 0;
    }
    if (dup3(fd, es_log_file_fd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "log.file: cannot reopen %s: %s", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int es_log_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char tail;

    if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2 ||
        fstat(STDERR_FILENO, &st) != 0) {
        return 0;
    }
    return (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}
