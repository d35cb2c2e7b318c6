/*
 * es_worker_test.c - unit tests for workers/common/es_worker.c.
 *
 * es_worker_init is driven with real argument vectors, config files and
 * environment variables, the way a worker's main() calls it. What it prints
 * for --help goes to stdout, which the help tests redirect into a temporary
 * file to read back. The stop-signal test runs last: the stop flag is
 * process-wide and cannot be cleared. ECHOSTREAM_CONFIG is "" unless a test
 * sets it, so a configuration file installed on the machine is never read.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "es_build_info.h"
#include "es_worker.h"

static const char *const test_prefixes[] = {"reddit.", "log.", NULL};

static const es_worker_info test_info = {
    "unittest",
    " [--once]",
    "A worker used by the unit tests.",
    test_prefixes,
};

/* A writable copy of an argument list, as getopt may permute it. */
typedef struct {
    int argc;
    char *argv[16];
    char store[16][128];
} args;

static void args_make(args *a, const char *const *list)
{
    memset(a, 0, sizeof(*a));
    for (a->argc = 0; list[a->argc]; a->argc++) {
        assert_true(a->argc < 15);
        snprintf(a->store[a->argc], sizeof(a->store[0]), "%s", list[a->argc]);
        a->argv[a->argc] = a->store[a->argc];
    }
    a->argv[a->argc] = NULL;
}

/* Runs es_worker_init with no extra options; always cleans up after. */
static int init_plain(const char *const *list)
{
    es_worker w;
    args a;
    int rc;

    args_make(&a, list);
    rc = es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL);
    es_worker_cleanup(&w);
    return rc;
}

/* Writes text to a new temporary file; path must hold 64 bytes. */
static void write_temp(char *path, const char *text)
{
    int fd;
    size_t n = strlen(text);

    snprintf(path, 64, "/tmp/es_worker_test.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

/*
 * Points stdout at a temporary file; stdout_end() restores it and returns
 * what was written (malloc'd, caller frees).
 */
static int saved_stdout = -1;
static char stdout_path[64];

static void stdout_begin(void)
{
    int fd;

    fflush(stdout);
    snprintf(stdout_path, sizeof(stdout_path), "/tmp/es_worker_out.XXXXXX");
    fd = mkstemp(stdout_path);
    assert_true(fd >= 0);
    saved_stdout = dup(STDOUT_FILENO);
    assert_true(saved_stdout >= 0);
    assert_true(dup2(fd, STDOUT_FILENO) >= 0);
    close(fd);
}

static char *stdout_end(void)
{
    FILE *f;
    char *text = calloc(1, 65536);
    size_t n;

    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    saved_stdout = -1;
    assert_non_null(text);
    f = fopen(stdout_path, "r");
    assert_non_null(f);
    n = fread(text, 1, 65535, f);
    text[n] = '\0';
    fclose(f);
    unlink(stdout_path);
    return text;
}

static int teardown_env(void **state)
{
    (void)state;
    unsetenv("ECHOSTREAM_REDDIT_QPM");
    unsetenv("ECHOSTREAM_REDDIT_CLIENT_SECRET");
    unsetenv("ECHOSTREAM_LOG_FORMAT");
    unsetenv("ECHOSTREAM_LOG_LEVEL");
    unsetenv("ECHOSTREAM_LOG_FILE");
    setenv("ECHOSTREAM_CONFIG", "", 1);
    return 0;
}

static void test_help_returns_1_and_prints_usage(void **state)
{
    static const char *const argv[] = {"echostream-unittest", "--help", NULL};
    char *out;
    int rc;

    (void)state;
    stdout_begin();
    rc = init_plain(argv);
    out = stdout_end();
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "Usage: echostream-unittest [options]"));
    assert_non_null(strstr(out, "A worker used by the unit tests."));
    assert_non_null(strstr(out, "--config FILE"));
    assert_non_null(strstr(out, "reddit.qpm"));
    assert_non_null(strstr(out, "ECHOSTREAM_REDDIT_QPM"));
    /* only the keys of the worker's prefixes */
    assert_null(strstr(out, "mirror.queue_url"));
    free(out);
}

static void test_short_h_is_help(void **state)
{
    static const char *const argv[] = {"w", "-h", NULL};
    char *out;
    int rc;

    (void)state;
    stdout_begin();
    rc = init_plain(argv);
    out = stdout_end();
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "Usage: w"));
    free(out);
}

static void test_help_never_prints_secret_value(void **state)
{
    static const char *const argv[] = {"w", "--help", NULL};
    char *out;
    int rc;

    (void)state;
    setenv("ECHOSTREAM_REDDIT_CLIENT_SECRET", "hunter2-secret", 1);
    stdout_begin();
    rc = init_plain(argv);
    out = stdout_end();
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "reddit.client_secret"));
    assert_null(strstr(out, "hunter2"));
    free(out);
}

static void test_unknown_option_returns_2(void **state)
{
    static const char *const long_opt[] = {"w", "--no-such-option", NULL};
    static const char *const short_opt[] = {"w", "-x", NULL};
    static const char *const missing_arg[] = {"w", "--config", NULL};

    (void)state;
    assert_int_equal(init_plain(long_opt), 2);
    assert_int_equal(init_plain(short_opt), 2);
    assert_int_equal(init_plain(missing_arg), 2);
}

static void test_config_with_unknown_key_returns_2(void **state)
{
    char path[64];
    const char *argv[] = {"w", "--config", path, NULL};

    (void)state;
    write_temp(path, "reddit.qpm = 10\nno.such.key = 1\n");
    assert_int_equal(init_plain(argv), 2);
    unlink(path);
}

static void test_config_missing_file_returns_2(void **state)
{
    static const char *const argv[] = {"w", "--config",
                                       "/nonexistent/echostream.conf", NULL};

    (void)state;
    assert_int_equal(init_plain(argv), 2);
}

static void test_bad_log_format_returns_2(void **state)
{
    static const char *const bad_flag[] = {"w", "--log-format", "xml", NULL};
    static const char *const bad_level[] = {"w", "--log-level", "loud", NULL};

    (void)state;
    assert_int_equal(init_plain(bad_flag), 2);
    assert_int_equal(init_plain(bad_level), 2);
}

static void test_bad_log_format_in_env_returns_2(void **state)
{
    static const char *const argv[] = {"w", NULL};

    (void)state;
    setenv("ECHOSTREAM_LOG_FORMAT", "yaml", 1);
    assert_int_equal(init_plain(argv), 2);
}

static void test_log_flags_beat_environment(void **state)
{
    static const char *const argv[] = {"w", "--log-format", "json",
                                       "--log-level=warn", NULL};
    es_worker w;
    args a;

    (void)state;
    setenv("ECHOSTREAM_LOG_FORMAT", "yaml", 1);
    setenv("ECHOSTREAM_LOG_LEVEL", "debug", 1);
    args_make(&a, argv);
    assert_int_equal(
        es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL),
        0);
    assert_string_equal(es_config_str(w.cfg, "log.format"), "json");
    assert_string_equal(es_config_str(w.cfg, "log.level"), "warn");
    assert_string_equal(es_config_source(w.cfg, "log.level"), "flag");
    es_worker_cleanup(&w);
}

static void test_env_override_beats_config_file(void **state)
{
    char path[64];
    const char *argv[] = {"w", "--config", path, NULL};
    es_worker w;
    args a;
    long long qpm = 0;

    (void)state;
    write_temp(path, "reddit.qpm = 10\nreddit.timeout = 7\n");
    setenv("ECHOSTREAM_REDDIT_QPM", "77", 1);
    args_make(&a, argv);
    assert_int_equal(
        es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL),
        0);
    unlink(path);
    assert_string_equal(es_config_str(w.cfg, "reddit.qpm"), "77");
    assert_string_equal(es_config_source(w.cfg, "reddit.qpm"), "env");
    assert_string_equal(es_config_str(w.cfg, "reddit.timeout"), "7");
    assert_int_equal(es_worker_cfg_int(&w, "reddit.qpm", 1, 1000, &qpm), 0);
    assert_int_equal(qpm, 77);
    es_worker_cleanup(&w);
}

static void test_init_fills_instance_and_start_time(void **state)
{
    static const char *const argv[] = {"w", NULL};
    es_worker w;
    args a;
    char pid[32];

    (void)state;
    args_make(&a, argv);
    assert_int_equal(
        es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL),
        0);
    snprintf(pid, sizeof(pid), "-%ld", (long)getpid());
    assert_true(strlen(w.instance) > strlen(pid));
    assert_string_equal(w.instance + strlen(w.instance) - strlen(pid), pid);
    assert_true(w.started_ms > 0);
    assert_ptr_equal(w.info, &test_info);
    es_worker_cleanup(&w);
}

/* Records what the extra option callback saw. */
typedef struct {
    int once;
    char shard[32];
    int calls;
    int refuse; /* return -1 for every option */
} opt_seen;

static int on_opt(int opt, const char *arg, void *ud)
{
    opt_seen *s = ud;

    s->calls++;
    if (s->refuse) {
        return -1;
    }
    switch (opt) {
    case 'o':
        s->once = 1;
        return 0;
    case 's':
        snprintf(s->shard, sizeof(s->shard), "%s", arg);
        return 0;
    default:
        return -1;
    }
}

static const struct option extra_opts[] = {
    {"once", no_argument, NULL, 'o'},
    {"shard", required_argument, NULL, 's'},
    {NULL, 0, NULL, 0},
};

static void test_extra_options_reach_callback(void **state)
{
    static const char *const argv[] = {
        "w", "--once", "--shard", "s3", "--log-level", "error", "pos1", NULL};
    opt_seen seen = {0};
    es_worker w;
    args a;

    (void)state;
    args_make(&a, argv);
    assert_int_equal(es_worker_init(&w, &test_info, a.argc, a.argv,
                                    "os:", extra_opts, on_opt, &seen),
                     0);
    assert_int_equal(seen.once, 1);
    assert_string_equal(seen.shard, "s3");
    assert_int_equal(seen.calls, 2);
    assert_int_equal(optind, 6);
    assert_string_equal(a.argv[optind], "pos1");
    es_worker_cleanup(&w);
}

static void test_extra_short_options_reach_callback(void **state)
{
    static const char *const argv[] = {"w", "pos", "-o", "-s", "s9", NULL};
    opt_seen seen = {0};
    es_worker w;
    args a;

    (void)state;
    args_make(&a, argv);
    assert_int_equal(es_worker_init(&w, &test_info, a.argc, a.argv,
                                    "os:", extra_opts, on_opt, &seen),
                     0);
    assert_int_equal(seen.once, 1);
    assert_string_equal(seen.shard, "s9");
    /* options are moved before the operands */
    assert_int_equal(optind, 4);
    assert_string_equal(a.argv[optind], "pos");
    es_worker_cleanup(&w);
}

static void test_callback_refusal_returns_2(void **state)
{
    static const char *const argv[] = {"w", "--shard", "bad", NULL};
    opt_seen seen = {0};
    es_worker w;
    args a;

    (void)state;
    seen.refuse = 1;
    args_make(&a, argv);
    assert_int_equal(es_worker_init(&w, &test_info, a.argc, a.argv,
                                    "os:", extra_opts, on_opt, &seen),
                     2);
    assert_int_equal(seen.calls, 1);
    es_worker_cleanup(&w);
}

static void test_extra_option_without_callback_returns_2(void **state)
{
    static const char *const argv[] = {"w", "--once", NULL};
    es_worker w;
    args a;

    (void)state;
    args_make(&a, argv);
    assert_int_equal(es_worker_init(&w, &test_info, a.argc, a.argv, "o",
                                    extra_opts, NULL, NULL),
                     2);
    es_worker_cleanup(&w);
}

static void
test_init_after_interrupted_option_cluster_starts_fresh(void **state)
{
    static const char *const first[] = {"w", "-ho", NULL};
    static const char *const second[] = {"w", "--log-level", "warn", NULL};
    opt_seen seen = {0};
    es_worker w;
    args a;
    int rc;

    (void)state;
    /* help returns in the middle of "-ho", leaving "o" unparsed */
    args_make(&a, first);
    stdout_begin();
    rc = es_worker_init(&w, &test_info, a.argc, a.argv, "o", extra_opts, on_opt,
                        &seen);
    free(stdout_end());
    es_worker_cleanup(&w);
    assert_int_equal(rc, 1);
    /* a second parse must not resume inside the first argument list */
    args_make(&a, second);
    assert_int_equal(es_worker_init(&w, &test_info, a.argc, a.argv, "o",
                                    extra_opts, on_opt, &seen),
                     0);
    assert_int_equal(seen.calls, 0);
    es_worker_cleanup(&w);
}

static void test_cfg_getters_fail_on_bad_values(void **state)
{
    static const char *const argv[] = {"w", NULL};
    es_worker w;
    args a;
    long long i = 5;
    double d = 5;
    int b = 5;

    (void)state;
    args_make(&a, argv);
    assert_int_equal(
        es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL),
        0);
    es_config_set(w.cfg, "reddit.qpm", "many", "test");
    assert_int_equal(es_worker_cfg_int(&w, "reddit.qpm", 1, 10, &i), -1);
    assert_int_equal(i, 5);
    es_config_set(w.cfg, "ingest.min_interval", "-1", "test");
    assert_int_equal(es_worker_cfg_double(&w, "ingest.min_interval", 0, 10, &d),
                     -1);
    assert_true(d == 5);
    es_config_set(w.cfg, "aws.imds", "perhaps", "test");
    assert_int_equal(es_worker_cfg_bool(&w, "aws.imds", &b), -1);
    assert_int_equal(b, 5);
    es_config_set(w.cfg, "aws.imds", "off", "test");
    assert_int_equal(es_worker_cfg_bool(&w, "aws.imds", &b), 0);
    assert_int_equal(b, 0);
    es_worker_cleanup(&w);
}

static void test_version_line_names_version_revision_and_date(void **state)
{
    static const char *const argv[] = {"w", "--version", NULL};
    char line[256], want[256];
    char *out;

    (void)state;
    es_worker_version_line("mirror", line, sizeof(line));
    snprintf(want, sizeof(want), "echostream-mirror %s (revision %s, built %s)",
             ES_VERSION, ES_GIT_REV, ES_BUILD_DATE);
    assert_string_equal(line, want);
    assert_non_null(strstr(line, "(revision "));
    /* --version prints the line alone and exits 0, even with a broken
       configuration */
    setenv("ECHOSTREAM_LOG_FORMAT", "yaml", 1);
    stdout_begin();
    assert_int_equal(init_plain(argv), 1);
    out = stdout_end();
    es_worker_version_line("unittest", line, sizeof(line));
    strcat(line, "\n");
    assert_string_equal(out, line);
    free(out);
}

static void test_missing_default_file_is_no_error(void **state)
{
    static const char *const argv[] = {"w", NULL};
    es_worker w;
    args a;

    (void)state;
    setenv("ECHOSTREAM_CONFIG", "/nonexistent/echostream.conf", 1);
    args_make(&a, argv);
    assert_int_equal(
        es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL),
        0);
    assert_string_equal(w.config_path, "/nonexistent/echostream.conf");
    assert_int_equal(w.config_required, 0);
    es_worker_cleanup(&w);
}

static void test_echostream_config_names_the_default_file(void **state)
{
    static const char *const argv[] = {"w", NULL};
    char path[64];
    es_worker w;
    args a;

    (void)state;
    write_temp(path, "reddit.qpm = 12\n");
    setenv("ECHOSTREAM_CONFIG", path, 1);
    args_make(&a, argv);
    assert_int_equal(
        es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL),
        0);
    assert_string_equal(es_config_str(w.cfg, "reddit.qpm"), "12");
    assert_string_equal(es_config_source(w.cfg, "reddit.qpm"), "file");
    es_worker_cleanup(&w);
    /* a broken default file fails the start like a named one */
    write_temp(path, "reddit.qpm 12\n");
    setenv("ECHOSTREAM_CONFIG", path, 1);
    assert_int_equal(init_plain(argv), 2);
    unlink(path);
}

static void test_check_config_runs_nothing_and_reports(void **state)
{
    static const char *const argv[] = {"w", "--check-config", NULL};
    es_worker w;
    args a;
    char *out;

    (void)state;
    args_make(&a, argv);
    assert_int_equal(
        es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL),
        0);
    assert_int_equal(w.check_only, 1);
    stdout_begin();
    assert_int_equal(es_worker_check_done(&w, 0), 0);
    assert_int_equal(es_worker_check_done(&w, -1), 2);
    out = stdout_end();
    assert_string_equal(out, "configuration ok\n");
    free(out);
    es_worker_cleanup(&w);
}

static void test_log_file_must_be_absolute(void **state)
{
    static const char *const argv[] = {"w", NULL};

    (void)state;
    setenv("ECHOSTREAM_LOG_FILE", "relative.log", 1);
    assert_int_equal(init_plain(argv), 2);
}

/* Rewrites the file at path (made by write_temp) with text. */
static void rewrite(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_reload_applies_log_keys_and_keeps_the_rest(void **state)
{
    static const char *const argv[] = {"w", NULL};
    char path[64];
    es_worker w;
    args a;

    (void)state;
    write_temp(path, "log.level = info\nreddit.qpm = 10\n");
    setenv("ECHOSTREAM_CONFIG", path, 1);
    args_make(&a, argv);
    assert_int_equal(
        es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL),
        0);
    /* nothing asked: nothing read */
    rewrite(path, "log.level = warn\n");
    es_worker_poll_reload(&w);
    assert_string_equal(es_config_str(w.cfg, "log.level"), "info");

    rewrite(path, "log.level = debug\nreddit.qpm = 20\n");
    es_request_reload();
    es_worker_poll_reload(&w);
    assert_string_equal(es_config_str(w.cfg, "log.level"), "debug");
    /* a restart key keeps its start-up value (a warning names it) */
    assert_string_equal(es_config_str(w.cfg, "reddit.qpm"), "10");

    /* a bad value, then a file that does not parse: both kept */
    rewrite(path, "log.level = loud\n");
    es_request_reload();
    es_worker_poll_reload(&w);
    assert_string_equal(es_config_str(w.cfg, "log.level"), "debug");
    rewrite(path, "log.level warn\n");
    es_request_reload();
    es_worker_poll_reload(&w);
    assert_string_equal(es_config_str(w.cfg, "log.level"), "debug");
    es_worker_cleanup(&w);
    unlink(path);
}

static void test_sigterm_sets_stopping(void **state)
{
    static const char *const argv[] = {"w", NULL};
    es_worker w;
    args a;

    (void)state;
    args_make(&a, argv);
    assert_int_equal(
        es_worker_init(&w, &test_info, a.argc, a.argv, NULL, NULL, NULL, NULL),
        0);
    assert_int_equal(es_stopping(), 0);
    /* the handler only sets the flag: the process keeps running */
    raise(SIGTERM);
    assert_int_equal(es_stopping(), 1);
    /* a stopping worker's sleep returns at once instead of waiting */
    es_sleep_ms(3600 * 1000);
    es_worker_cleanup(&w);
}

int main(void)
{
#define T(name) cmocka_unit_test_teardown(name, teardown_env)
    const struct CMUnitTest tests[] = {
        T(test_help_returns_1_and_prints_usage),
        T(test_short_h_is_help),
        T(test_help_never_prints_secret_value),
        T(test_unknown_option_returns_2),
        T(test_config_with_unknown_key_returns_2),
        T(test_config_missing_file_returns_2),
        T(test_bad_log_format_returns_2),
        T(test_bad_log_format_in_env_returns_2),
        T(test_log_flags_beat_environment),
        T(test_env_override_beats_config_file),
        T(test_init_fills_instance_and_start_time),
        T(test_extra_options_reach_callback),
        T(test_extra_short_options_reach_callback),
        T(test_callback_refusal_returns_2),
        T(test_extra_option_without_callback_returns_2),
        T(test_init_after_interrupted_option_cluster_starts_fresh),
        T(test_cfg_getters_fail_on_bad_values),
        T(test_version_line_names_version_revision_and_date),
        T(test_missing_default_file_is_no_error),
        T(test_echostream_config_names_the_default_file),
        T(test_check_config_runs_nothing_and_reports),
        T(test_log_file_must_be_absolute),
        T(test_reload_applies_log_keys_and_keeps_the_rest),
        T(test_sigterm_sets_stopping),
    };
#undef T

    setenv("ECHOSTREAM_CONFIG", "", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
