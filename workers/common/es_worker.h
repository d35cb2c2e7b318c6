/*
 * es_worker.h - what every EchoStream worker daemon shares: the command line
 * (--help, --version, --check-config, --config FILE, --log-format,
 * --log-level), configuration from file and environment, signal handling and
 * liveness reports.
 *
 * The configuration file is the one named by --config (it must exist), else
 * ECHOSTREAM_CONFIG's path (empty: none), else /etc/echostream/echostream.conf;
 * a missing default file is no error, so a worker runs from the environment
 * alone. docs/workers.md is the operator's account.
 *
 * Signals only set a flag. Workers poll es_stopping() between units of work,
 * so SIGTERM finishes and acknowledges the batch in hand before exit; every
 * blocking wait in the workers is bounded so the flag is seen promptly.
 * SIGHUP is polled the same way, with es_worker_poll_reload() at the top of
 * each main loop: the unit of work in hand is finished under the old
 * settings, then the file and environment are read again and the keys that
 * can change at run time (log.level, log.format, log.file) are applied; the
 * log file is reopened. Every other key keeps its start-up value until a
 * restart, and a change to one is logged as a warning naming it.
 */
#ifndef ES_WORKER_H
#define ES_WORKER_H

#include <getopt.h>
#include <signal.h>

#include "es_config.h"

/* Read when neither --config nor ECHOSTREAM_CONFIG names another file. */
#define ES_WORKER_DEFAULT_CONFIG "/etc/echostream/echostream.conf"

typedef struct {
    const char *name;    /* "ingest": logs, heartbeats, binary suffix */
    const char *usage;   /* extra usage text after the common options */
    const char *summary; /* one paragraph for --help */
    const char *const *config_prefixes; /* keys shown in --help */
} es_worker_info;

typedef struct {
    const es_worker_info *info;
    es_config *cfg;
    char instance[96]; /* "<host>-<pid>" */
    long long started_ms;
    int check_only; /* --check-config: validate, print, exit */
    /* how the configuration was found, kept for a reload */
    char config_path[4096]; /* "" when no file is read */
    int config_required;    /* named by --config: missing is an error */
    const char *flag_format, *flag_level; /* argv; NULL when not given */
} es_worker;

/*
 * Called for each option not common to all workers; returns 0 when handled,
 * -1 for a usage error (after printing why).
 */
typedef int (*es_worker_opt_fn)(int opt, const char *arg, void *ud);

/*
 * Parses the command line, loads configuration, sets up logging and signal
 * handlers. extra may be NULL. Returns 0 to run, 1 when the caller should
 * exit 0 (help or the version was printed), 2 on a usage or configuration
 * error (printed); on a non-zero return the configuration is already
 * released. On return 0 optind indexes the first non-option argument.
 *
 * With --check-config it returns 0 with w->check_only set: the worker then
 * runs the same configure step it runs at start (which parses and builds but
 * connects to nothing) and exits with es_worker_check_done().
 */
int es_worker_init(es_worker *w, const es_worker_info *info, int argc,
                   char **argv, const char *extra_short,
                   const struct option *extra, es_worker_opt_fn fn, void *ud);

void es_worker_cleanup(es_worker *w);

/*
 * Ends a --check-config run: rc is the worker's configure result (0 or
 * -1, its errors already printed to stderr). Prints "configuration ok" to
 * stdout on success; returns the exit status, 0 or 2.
 */
int es_worker_check_done(es_worker *w, int rc);

/*
 * The version line --version prints, "echostream-<name> <version>
 * (revision <rev>, built <date>)" without a newline, into buf.
 */
void es_worker_version_line(const char *name, char *buf, size_t size);

/*
 * Applies a pending SIGHUP, if any (see the header comment). Call from the
 * main thread between units of work. A configuration that fails to load or
 * names a bad log setting is logged as an error and the running one kept.
 */
void es_worker_poll_reload(es_worker *w);

/* Asks for a reload, as SIGHUP does (for tests). */
void es_request_reload(void);

/* Nonzero once SIGTERM or SIGINT arrived. */
int es_stopping(void);

/*
 * Milliseconds since the first stop request (second resolution), or -1 while
 * running. Long operations give the work in hand a grace period with it.
 */
long long es_stop_age_ms(void);

/* Asks the worker to stop, as SIGTERM does (for tests and fatal paths). */
void es_request_stop(void);

/* Sleeps up to ms milliseconds, returning early when a stop is requested. */
void es_sleep_ms(long long ms);

/* Wall-clock and monotonic time in milliseconds. */
long long es_now_ms(void);
long long es_mono_ms(void);

/* Reads a configuration value into a typed variable or fails start-up. */
int es_worker_cfg_int(es_worker *w, const char *key, long long lo, long long hi,
                      long long *dst);
int es_worker_cfg_double(es_worker *w, const char *key, double lo, double hi,
                         double *dst);
int es_worker_cfg_bool(es_worker *w, const char *key, int *dst);

#endif
