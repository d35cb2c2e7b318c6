/*
 * es_worker.h - what every EchoStream worker daemon shares: the command line
 * (--help, --config FILE, --log-format, --log-level), configuration from file
 * and environment, signal handling and liveness reports.
 *
 * Signals only set a flag. Workers poll es_stopping() between units of work,
 * so SIGTERM finishes and acknowledges the batch in hand before exit; every
 * blocking wait in the workers is bounded so the flag is seen promptly.
 * SIGHUP (systemd's ExecReload) stops the same way, and the worker then
 * exits ES_EXIT_RELOAD, which the units restart at once: a new process
 * reads the configuration afresh, with nothing half-done carried over.
 */
#ifndef ES_WORKER_H
#define ES_WORKER_H

#include <getopt.h>
#include <signal.h>

#include "es_config.h"

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
} es_worker;

/*
 * Called for each option not common to all workers; returns 0 when handled,
 * -1 for a usage error (after printing why).
 */
typedef int (*es_worker_opt_fn)(int opt, const char *arg, void *ud);

/*
 * Parses the command line, loads configuration, sets up logging and signal
 * handlers. extra may be NULL. Returns 0 to run, 1 when the caller should
 * exit 0 (help was printed), 2 on a usage or configuration error (printed);
 * on a non-zero return the configuration is already released.
 * On return 0 optind indexes the first non-option argument.
 */
int es_worker_init(es_worker *w, const es_worker_info *info, int argc,
                   char **argv, const char *extra_short,
                   const struct option *extra, es_worker_opt_fn fn, void *ud);

void es_worker_cleanup(es_worker *w);

/* Exit status of a worker stopped by SIGHUP to be restarted (EX_TEMPFAIL). */
#define ES_EXIT_RELOAD 75

/*
 * The status main returns for a run that ended with rc: ES_EXIT_RELOAD
 * instead of 0 when SIGHUP asked for the stop, else rc unchanged.
 */
int es_worker_exit_status(int rc);

/* Nonzero once SIGTERM, SIGINT or SIGHUP arrived. */
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
