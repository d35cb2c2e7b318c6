/*
 * es_worker.c - command line, configuration and signals shared by every
 * worker (see es_worker.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "es_log.h"
#include "es_worker.h"

extern char **environ;

static volatile sig_atomic_t es_stop_flag;
/* monotonic seconds at the first stop request (clock_gettime is
 * async-signal-safe) */
static volatile sig_atomic_t es_stop_since;
/* set by SIGHUP: the stop is a restart (es_worker_exit_status) */
static volatile sig_atomic_t es_reload_flag;

static void mark_stop(void)
{
    struct timespec ts;

    if (!es_stop_flag) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        es_stop_since = (sig_atomic_t)ts.tv_sec;
    }
    es_stop_flag = 1;
}

static void on_stop_signal(int sig)
{
    if (sig == SIGHUP) {
        es_reload_flag = 1;
    }
    mark_stop();
}

int es_worker_exit_status(int rc)
{
    if (rc == 0 && es_reload_flag) {
        es_log(ES_INFO, "restarting to reload the configuration",
               ES_INT("status", ES_EXIT_RELOAD), ES_END);
        return ES_EXIT_RELOAD;
    }
    return rc;
}

long long es_stop_age_ms(void)
{
    if (!es_stop_flag) {
        return -1;
    }
    return es_mono_ms() - (long long)es_stop_since * 1000;
}

int es_stopping(void)
{
    return es_stop_flag != 0;
}

void es_request_stop(void)
{
    mark_stop();
}

long long es_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long es_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void es_sleep_ms(long long ms)
{
    long long end = es_mono_ms() + ms;

    while (!es_stopping()) {
        long long left = end - es_mono_ms();
        struct timespec ts;

        if (left <= 0) {
            return;
        }
        /* wake at least every 100 ms so a stop is seen quickly */
        if (left > 100) {
            left = 100;
        }
        ts.tv_sec = left / 1000;
        ts.tv_nsec = (left % 1000) * 1000000;
        nanosleep(&ts, NULL);
    }
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static void print_help(const es_worker *w, const char *argv0)
{
    const es_worker_info *info = w->info;

    printf("Usage: %s [options]%s\n\n%s\n\n", argv0,
           info->usage ? info->usage : "", info->summary);
    printf("Common options:\n"
           "  --config FILE        read configuration keys from FILE\n"
           "  --log-format FORMAT  text (default) or json\n"
           "  --log-level LEVEL    debug, info (default), warn, error\n"
           "  -h, --help           show this help and exit\n\n");
    printf("Configuration keys (file \"key = value\", or the environment "
           "variable shown;\nthe environment wins):\n");
    es_config_print(w->cfg, info->config_prefixes, stdout);
    printf("\nRedis is taken from ECHOSTREAM_REDIS "
           "(redis://host:port/db or unix:///path).\n");
}

static int init_inner(es_worker *w, const es_worker_info *info, int argc,
                      char **argv, const char *extra_short,
                      const struct option *extra, es_worker_opt_fn fn,
                      void *ud);

/*
 * Whatever the outcome, a worker that is not going to run owns nothing:
 * the configuration is released here, so `--help` and usage errors leak
 * nothing whether or not the caller cleans up.
 */
int es_worker_init(es_worker *w, const es_worker_info *info, int argc,
                   char **argv, const char *extra_short,
                   const struct option *extra, es_worker_opt_fn fn, void *ud)
{
    int rc = init_inner(w, info, argc, argv, extra_short, extra, fn, ud);

    if (rc != 0) {
        es_worker_cleanup(w);
    }
    return rc;
}

static int init_inner(es_worker *w, const es_worker_info *info, int argc,
                      char **argv, const char *extra_short,
                      const struct option *extra, es_worker_opt_fn fn, void *ud)
{
    static const struct option common[] = {
        {"config", required_argument, NULL, 0x1001},
        {"log-format", required_argument, NULL, 0x1002},
        {"log-level", required_argument, NULL, 0x1003},
        {"help", no_argument, NULL, 'h'},
    };
    struct option opts[64];
    char shortopts[64];
    const char *config_path = NULL, *log_format = NULL, *log_level = NULL;
    size_t n = 0;
    char err[512];
    es_log_format fmt;
    es_level lvl;
    int c;

    memset(w, 0, sizeof(*w));
    w->info = info;
    w->started_ms = es_now_ms();
    w->cfg = es_config_new();
    if (w->cfg == NULL) {
        fprintf(stderr, "%s: out of memory\n", info->name);
        return 2;
    }
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        opts[n++] = common[i];
    }
    for (const struct option *o = extra; o && o->name && n < 63; o++) {
        opts[n++] = *o;
    }
    memset(&opts[n], 0, sizeof(opts[n]));
    snprintf(shortopts, sizeof(shortopts), "h%s",
             extra_short ? extra_short : "");
    /*
     * 0, not 1: glibc then also drops the state of an earlier scan (a
     * half-read "-abc" cluster), so a second call parses its argv afresh
     */
    optind = 0;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 0x1001:
            config_path = optarg;
            break;
        case 0x1002:
            log_format = optarg;
            break;
        case 0x1003:
            log_level = optarg;
            break;
        case 'h':
            print_help(w, argv[0]);
            return 1;
        case '?':
            fprintf(stderr, "Try '%s --help'.\n", argv[0]);
            return 2;
        default:
            if (fn == NULL || fn(c, optarg, ud) != 0) {
                fprintf(stderr, "Try '%s --help'.\n", argv[0]);
                return 2;
            }
        }
    }
    if (config_path &&
        es_config_load_file(w->cfg, config_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", info->name, err);
        return 2;
    }
    es_config_apply_env(w->cfg, environ);
    if (log_format) {
        es_config_set(w->cfg, "log.format", log_format, "flag");
    }
    if (log_level) {
        es_config_set(w->cfg, "log.level", log_level, "flag");
    }
    if (es_log_parse_format(es_config_str(w->cfg, "log.format"), &fmt) != 0) {
        fprintf(stderr, "%s: log format must be text or json\n", info->name);
        return 2;
    }
    if (es_log_parse_level(es_config_str(w->cfg, "log.level"), &lvl) != 0) {
        fprintf(stderr, "%s: log level must be debug, info, warn or error\n",
                info->name);
        return 2;
    }
    es_log_init(info->name, fmt, lvl);
    {
        char host[64] = "localhost";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        snprintf(w->instance, sizeof(w->instance), "%s-%ld", host,
                 (long)getpid());
    }
    install_signals();
    return 0;
}

void es_worker_cleanup(es_worker *w)
{
    es_config_free(w->cfg);
    w->cfg = NULL;
}

static int cfg_fail(es_worker *w, const char *err)
{
    fprintf(stderr, "%s: %s\n", w->info->name, err);
    es_log(ES_ERROR, "bad configuration", ES_STR("error", err), ES_END);
    return -1;
}

int es_worker_cfg_int(es_worker *w, const char *key, long long lo, long long hi,
                      long long *dst)
{
    char err[256];
    if (es_config_int(w->cfg, key, lo, hi, dst, err, sizeof(err)) != 0) {
        return cfg_fail(w, err);
    }
    return 0;
}

int es_worker_cfg_double(es_worker *w, const char *key, double lo, double hi,
                         double *dst)
{
    char err[256];
    if (es_config_double(w->cfg, key, lo, hi, dst, err, sizeof(err)) != 0) {
        return cfg_fail(w, err);
    }
    return 0;
}

int es_worker_cfg_bool(es_worker *w, const char *key, int *dst)
{
    char err[256];
    if (es_config_bool(w->cfg, key, dst, err, sizeof(err)) != 0) {
        return cfg_fail(w, err);
    }
    return 0;
}
