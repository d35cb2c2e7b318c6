/*
 * es_worker_conf.c - finding, loading and reloading a worker's
 * configuration (see es_worker_conf.h and es_worker.h).
 *
 * A reload builds a whole new es_config before touching anything, so a
 * file that fails to parse, or a bad log setting, leaves the worker exactly
 * as it was. Only the log keys are copied into the running configuration:
 * the workers hold borrowed pointers into it (group names, URLs) and typed
 * values read from it at start, so the rest of it must stay as it is until
 * the process ends.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es_log.h"
#include "es_worker_conf.h"

extern char **environ;

static volatile sig_atomic_t es_reload_flag;

/* the keys a reload applies; every other one needs a restart */
static const char *const es_runtime_keys[] = {"log.level", "log.format",
                                              "log.file", NULL};

void es_worker_conf_mark_reload(void)
{
    es_reload_flag = 1;
}

void es_request_reload(void)
{
    es_reload_flag = 1;
}

void es_worker_conf_locate(es_worker *w, const char *path_flag)
{
    const char *env = getenv("ECHOSTREAM_CONFIG");
    const char *path = ES_WORKER_DEFAULT_CONFIG;

    w->config_required = 0;
    if (path_flag != NULL) {
        path = path_flag;
        w->config_required = 1;
    } else if (env != NULL) {
        path = env;
    }
    snprintf(w->config_path, sizeof(w->config_path), "%s", path);
}

es_config *es_worker_conf_load(const es_worker *w, char *err, size_t errlen)
{
    es_config *cfg = es_config_new();
    const char *path = w->config_path;

    if (cfg == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* a default file that is not there is no file; any other failure
       (unreadable, a directory) is reported by the load */
    if (path[0] != '\0' &&
        (w->config_required || access(path, F_OK) == 0 || errno != ENOENT) &&
        es_config_load_file(cfg, path, err, errlen) != 0) {
        es_config_free(cfg);
        return NULL;
    }
    es_config_apply_env(cfg, environ);
    if ((w->flag_format &&
         es_config_set(cfg, "log.format", w->flag_format, "flag") != 0) ||
        (w->flag_level &&
         es_config_set(cfg, "log.level", w->flag_level, "flag") != 0)) {
        snprintf(err, errlen, "out of memory");
        es_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* --check-config opens nothing: it checks the file could be opened. */
static int log_file_writable(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    char *slash;

    if (access(path, W_OK) == 0) {
        return 0;
    }
    if (errno == ENOENT) {
        snprintf(dir, sizeof(dir), "%s", path);
        slash = strrchr(dir, '/');
        if (slash == NULL) {
            snprintf(dir, sizeof(dir), ".");
        } else if (slash == dir) {
            dir[1] = '\0';
        } else {
            *slash = '\0';
        }
        if (access(dir, W_OK) == 0) {
            return 0;
        }
    }
    snprintf(err, errlen, "log.file: cannot write %s: %s", path,
             strerror(errno));
    return -1;
}

int es_worker_conf_logging(const es_worker *w, const es_config *cfg,
                           int check_only, char *err, size_t errlen)
{
    const char *file = es_config_str(cfg, "log.file");
    es_log_format fmt;
    es_level lvl;

    if (es_log_parse_format(es_config_str(cfg, "log.format"), &fmt) != 0) {
        snprintf(err, errlen,
                 "invalid value \"%.64s\" for log.format "
                 "(ECHOSTREAM_LOG_FORMAT): expected text, json or journal",
                 es_config_str(cfg, "log.format"));
        return -1;
    }
    if (es_log_parse_level(es_config_str(cfg, "log.level"), &lvl) != 0) {
        snprintf(err, errlen,
                 "invalid value \"%.64s\" for log.level "
                 "(ECHOSTREAM_LOG_LEVEL): expected debug, info, warn or "
                 "error",
                 es_config_str(cfg, "log.level"));
        return -1;
    }
    if (file[0] != '\0' && file[0] != '/') {
        /* a daemon's working directory is no place to look for its log */
        snprintf(err, errlen,
                 "invalid value \"%.64s\" for log.file (ECHOSTREAM_LOG_FILE): "
                 "expected an absolute path",
                 file);
        return -1;
    }
    if (check_only) {
        return file[0] ? log_file_writable(file, err, errlen) : 0;
    }
    if (es_log_open_file(file, err, errlen) != 0) {
        return -1;
    }
    /* journald keeps levels from a "<N>" prefix, so plain text going to
       the journal gets one */
    if (fmt == ES_LOG_TEXT && file[0] == '\0' && es_log_stderr_is_journal()) {
        fmt = ES_LOG_JOURNAL;
    }
    es_log_init(w->info->name, fmt, lvl);
    return 0;
}

static int runtime_key(const char *key)
{
    for (const char *const *k = es_runtime_keys; *k; k++) {
        if (strcmp(*k, key) == 0) {
            return 1;
        }
    }
    return 0;
}

void es_worker_poll_reload(es_worker *w)
{
    es_config *next;
    char err[512];

    if (!es_reload_flag) {
        return;
    }
    es_reload_flag = 0;
    next = es_worker_conf_load(w, err, sizeof(err));
    if (next == NULL ||
        es_worker_conf_logging(w, next, 0, err, sizeof(err)) != 0) {
        es_log(ES_ERROR, "configuration reload failed; keeping the running one",
               ES_STR("error", err), ES_END);
        es_config_free(next);
        return;
    }
    for (size_t i = 0; es_config_keys[i].key; i++) {
        const char *key = es_config_keys[i].key;
        const char *now = es_config_str(next, key);

        if (strcmp(es_config_str(w->cfg, key), now) == 0) {
            continue;
        }
        if (!runtime_key(key)) {
            /* the key only: a value may be a secret */
            es_log(ES_WARN, "configuration key changed; restart to apply it",
                   ES_STR("key", key), ES_END);
            continue;
        }
        if (es_config_set(w->cfg, key, now, es_config_source(next, key)) != 0) {
            es_log(ES_ERROR, "out of memory", ES_END);
        }
    }
    es_log(ES_INFO, "configuration reloaded",
           ES_STR("file", w->config_path[0] ? w->config_path : "(none)"),
           ES_STR("log_level", es_config_str(w->cfg, "log.level")),
           ES_STR("log_format", es_config_str(w->cfg, "log.format")), ES_END);
    es_config_free(next);
}
