/*
 * es_log_out.h - where es_log's lines go: stderr, or the file named by the
 * log.file key, reopened on SIGHUP so logrotate can rename it away.
 *
 * The public calls (es_log_open_file, es_log_stderr_is_journal) are declared
 * in es_log.h; this header is the one call es_log.c makes.
 */
#ifndef ES_LOG_OUT_H
#define ES_LOG_OUT_H

#include <stddef.h>

/* Writes one formatted line with a single write(2); errors are dropped. */
void es_log_out_write(const char *line, size_t len);

#endif
