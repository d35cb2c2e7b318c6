/*
 * es_log.h - structured log lines on stderr for the EchoStream workers.
 *
 * Every line is one event with typed key/value fields, written either as
 * logfmt text (for people and logfmt parsers) or as one JSON object (for log
 * shippers). A text line is
 *
 *     ts=2026-12-06T13:05:20.851Z level=info component=mirror msg="idle" n=3
 *
 * with a value bare when it holds no space, '=', '"', control or non-ASCII
 * byte and is not empty, else quoted with \" \\ \n \r \t \u00XX escapes.
 * Under systemd (ES_LOG_JOURNAL) each text line starts with the syslog
 * priority "<N>" so journald keeps the level.
 * Fields are passed as a NULL-terminated list of es_kv values built with the
 * ES_STR/ES_INT/ES_DBL macros so a call site reads like the line it prints:
 *
 *     es_log(ES_INFO, "poll done", ES_STR("sub", sub), ES_INT("new", n),
 *            ES_END);
 *
 * Lines are written with one write(2) so concurrent writers never interleave.
 * Nothing here allocates on the heap; long values are cut, never dropped.
 */
#ifndef ES_LOG_H
#define ES_LOG_H

#include <stddef.h>

typedef enum { ES_DEBUG = 0, ES_INFO, ES_WARN, ES_ERROR } es_level;

/* ES_LOG_JOURNAL is text with a "<N>" syslog priority in front */
typedef enum { ES_LOG_TEXT = 0, ES_LOG_JSON, ES_LOG_JOURNAL } es_log_format;

typedef enum { ES_KV_END = 0, ES_KV_STR, ES_KV_INT, ES_KV_DBL } es_kv_type;

typedef struct {
    const char *key;
    es_kv_type type;
    const char *s;
    long long i;
    double d;
} es_kv;

#define ES_STR(k, v) ((es_kv){(k), ES_KV_STR, (v), 0, 0.0})
#define ES_INT(k, v) ((es_kv){(k), ES_KV_INT, NULL, (long long)(v), 0.0})
#define ES_DBL(k, v) ((es_kv){(k), ES_KV_DBL, NULL, 0, (double)(v)})
#define ES_END       ((es_kv){NULL, ES_KV_END, NULL, 0, 0.0})

/*
 * Sets the component name printed in every line ("ingest", "mirror"), the
 * format and the lowest level written. Called again on a reload: the new
 * values apply from the next line on.
 */
void es_log_init(const char *component, es_log_format format, es_level min);

/* Parses "text"/"json"/"journal"; returns 0 on success, -1 otherwise. */
int es_log_parse_format(const char *s, es_log_format *out);

/*
 * Nonzero when stderr is connected to the systemd journal: JOURNAL_STREAM
 * (as systemd sets it, "<device>:<inode>") names the file stderr is, so a
 * worker whose stderr was redirected elsewhere keeps plain lines.
 */
int es_log_stderr_is_journal(void);

/*
 * Sends the lines to the file at path (opened O_WRONLY|O_APPEND|O_CREAT|
 * O_CLOEXEC, mode 0640), or back to stderr when path is NULL or empty.
 * Called again with the same path it reopens the file, so a log rotated by
 * renaming continues in a new file. The descriptor lines are written to
 * keeps its number (the new file is dup3()ed over it), so a line written
 * by another thread meanwhile goes to the old or the new file, never to a
 * closed descriptor. Returns 0, or -1 with err set, logging still going
 * where it went before.
 */
int es_log_open_file(const char *path, char *err, size_t errlen);

/* Parses "debug"/"info"/"warn"/"error"; returns 0 on success, -1 if not. */
int es_log_parse_level(const char *s, es_level *out);

/* Writes one event; the variadic list holds es_kv values ending in ES_END. */
void es_log(es_level level, const char *event, ...);

/*
 * Formats one event into buf (always NUL-terminated, cut at a UTF-8 boundary
 * when too long) and returns its length. Exposed for the unit tests.
 */
size_t es_log_format_line(char *buf, size_t size, es_log_format format,
                          const char *component, es_level level,
                          const char *event, const es_kv *kv, int nkv);

#endif
