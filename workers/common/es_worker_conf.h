/*
 * es_worker_conf.h - the configuration half of es_worker: which file is
 * read, loading it with the environment and the command-line flags, and
 * applying the log settings, at start and again on SIGHUP.
 *
 * Internal to workers/common (es_worker.c is the one caller); the workers
 * use es_worker.h.
 */
#ifndef ES_WORKER_CONF_H
#define ES_WORKER_CONF_H

#include <stddef.h>

#include "es_worker.h"

/*
 * Records in w which file is read: path_flag (--config, may be NULL) must
 * exist; else ECHOSTREAM_CONFIG (empty: none), else the default, which may
 * be missing.
 */
void es_worker_conf_locate(es_worker *w, const char *path_flag);

/*
 * A new configuration from the defaults, the file, the environment and the
 * flags, in that rising order; NULL with err set when the file is missing
 * (and required), unreadable or malformed, or memory runs out.
 */
es_config *es_worker_conf_load(const es_worker *w, char *err, size_t errlen);

/*
 * Checks log.format, log.level and log.file of cfg, and unless check_only,
 * sends the log there (opening or reopening log.file) and sets the level
 * and format. -1 with err naming the key and the problem, nothing changed.
 */
int es_worker_conf_logging(const es_worker *w, const es_config *cfg,
                           int check_only, char *err, size_t errlen);

/* Sets the reload flag; async-signal-safe (the SIGHUP handler). */
void es_worker_conf_mark_reload(void);

#endif
