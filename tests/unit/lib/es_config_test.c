/*
 * es_config_test.c - unit tests for lib/es_config.c.
 *
 * Config files are written to fresh temporary files; the environment is
 * passed as an explicit "K=V" list, so no test touches the process
 * environment. Each test builds its own es_config from the real key table.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "es_config.h"

typedef struct {
    es_config *cfg;
    char path[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    f->cfg = es_config_new();
    if (f->cfg == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    if (f->path[0]) {
        unlink(f->path);
    }
    es_config_free(f->cfg);
    free(f);
    return 0;
}

/* Writes text to a new temporary file whose name is kept in f->path. */
static const char *write_file(fixture *f, const char *text)
{
    int fd;
    size_t n = strlen(text);

    snprintf(f->path, sizeof(f->path), "/tmp/es_config_test.XXXXXX");
    fd = mkstemp(f->path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return f->path;
}

/* The default declared in the table for key. */
static const char *table_default(const char *key)
{
    for (size_t i = 0; es_config_keys[i].key; i++) {
        if (strcmp(es_config_keys[i].key, key) == 0) {
            return es_config_keys[i].def;
        }
    }
    fail_msg("key %s not in the table", key);
    return NULL;
}

static void test_new_config_holds_every_default(void **state)
{
    fixture *f = *state;

    for (size_t i = 0; es_config_keys[i].key; i++) {
        const char *k = es_config_keys[i].key;
        assert_string_equal(es_config_str(f->cfg, k), es_config_keys[i].def);
        assert_string_equal(es_config_source(f->cfg, k), "default");
    }
    assert_string_equal(es_config_str(f->cfg, "redis"),
                        "redis://127.0.0.1:6379/0");
}

static void test_key_table_has_unique_lowercase_keys(void **state)
{
    (void)state;
    for (size_t i = 0; es_config_keys[i].key; i++) {
        const char *k = es_config_keys[i].key;
        assert_non_null(es_config_keys[i].def);
        assert_non_null(es_config_keys[i].help);
        for (const char *p = k; *p; p++) {
            assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                        *p == '.' || *p == '_');
        }
        for (size_t j = i + 1; es_config_keys[j].key; j++) {
            assert_string_not_equal(k, es_config_keys[j].key);
        }
    }
}

static void test_file_sets_values_ignoring_comments_and_blanks(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    const char *path = write_file(f, "# a comment\n"
                                     "\n"
                                     "   \t\n"
                                     "   # indented comment\n"
                                     "reddit.qpm = 60\n"
                                     "  mirror.group\t=\tmirror-b  \n"
                                     "aws.region=eu-west-1\n"
                                     "mirror.timeout = 7 # seconds\n"
                                     "aws.profile = a#b\n");

    assert_int_equal(es_config_load_file(f->cfg, path, err, sizeof(err)), 0);
    assert_string_equal(es_config_str(f->cfg, "reddit.qpm"), "60");
    /* a trailing " #" comment ends an unquoted value; a bare '#' does not */
    assert_string_equal(es_config_str(f->cfg, "mirror.timeout"), "7");
    assert_string_equal(es_config_str(f->cfg, "aws.profile"), "a#b");
    assert_string_equal(es_config_source(f->cfg, "reddit.qpm"), "file");
    assert_string_equal(es_config_str(f->cfg, "mirror.group"), "mirror-b");
    assert_string_equal(es_config_str(f->cfg, "aws.region"), "eu-west-1");
    /* keys the file does not name keep their default */
    assert_string_equal(es_config_str(f->cfg, "log.level"),
                        table_default("log.level"));
    assert_string_equal(es_config_source(f->cfg, "log.level"), "default");
}

static void test_file_quotes_keep_edge_spaces_and_hash(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    const char *path = write_file(f, "reddit.user_agent = \"  ua # 1 \"\n"
                                     "mirror.group = \"\"\n"
                                     "aws.profile = \"half\n"
                                     "stream.groups = a=b,c\n");

    assert_int_equal(es_config_load_file(f->cfg, path, err, sizeof(err)), 0);
    assert_string_equal(es_config_str(f->cfg, "reddit.user_agent"),
                        "  ua # 1 ");
    assert_string_equal(es_config_str(f->cfg, "mirror.group"), "");
    /* an unbalanced quote is kept as it is */
    assert_string_equal(es_config_str(f->cfg, "aws.profile"), "\"half");
    /* only the first '=' separates key and value */
    assert_string_equal(es_config_str(f->cfg, "stream.groups"), "a=b,c");
}

static void test_file_without_final_newline_is_read(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    const char *path = write_file(f, "reddit.qpm = 30");

    assert_int_equal(es_config_load_file(f->cfg, path, err, sizeof(err)), 0);
    assert_string_equal(es_config_str(f->cfg, "reddit.qpm"), "30");
}

static void test_file_later_line_wins(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    const char *path = write_file(f, "reddit.qpm = 30\nreddit.qpm = 40\n");

    assert_int_equal(es_config_load_file(f->cfg, path, err, sizeof(err)), 0);
    assert_string_equal(es_config_str(f->cfg, "reddit.qpm"), "40");
}

static void test_unknown_key_error_names_file_and_line(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    char want[128];
    const char *path = write_file(f, "reddit.qpm = 30\n"
                                     "# comment\n"
                                     "reddit.qmp = 40\n"
                                     "aws.region = eu-west-1\n");

    assert_int_equal(es_config_load_file(f->cfg, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3:", path);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "reddit.qmp"));
    /* values before the error stay set, the rest is not read */
    assert_string_equal(es_config_str(f->cfg, "reddit.qpm"), "30");
    assert_string_equal(es_config_str(f->cfg, "aws.region"),
                        table_default("aws.region"));
}

static void test_line_without_equals_is_an_error(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    char want[128];
    const char *path = write_file(f, "\nreddit.qpm 30\n");

    assert_int_equal(es_config_load_file(f->cfg, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2:", path);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "key = value"));
    assert_string_equal(es_config_str(f->cfg, "reddit.qpm"),
                        table_default("reddit.qpm"));
}

static void test_too_long_line_is_an_error(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    size_t n = 10000;
    char *text = malloc(n + 32);
    char want[128];

    assert_non_null(text);
    strcpy(text, "stream.groups = ");
    memset(text + 16, 'g', n);
    strcpy(text + 16 + n, "\n");
    write_file(f, text);
    free(text);
    assert_int_equal(es_config_load_file(f->cfg, f->path, err, sizeof(err)),
                     -1);
    snprintf(want, sizeof(want), "%s:1:", f->path);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "too long"));
}

static void test_missing_file_is_an_error_naming_it(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    const char *path = "/nonexistent-dir/echostream.conf";

    assert_int_equal(es_config_load_file(f->cfg, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));
}

static void test_env_overrides_file_value(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    char *env[] = {"PATH=/usr/bin", "ECHOSTREAM_REDDIT_QPM=90",
                   "ECHOSTREAM_REDDIT_CLIENT_ID=abc=def", NULL};
    const char *path = write_file(f, "reddit.qpm = 30\naws.region = x\n");

    assert_int_equal(es_config_load_file(f->cfg, path, err, sizeof(err)), 0);
    es_config_apply_env(f->cfg, env);
    assert_string_equal(es_config_str(f->cfg, "reddit.qpm"), "90");
    assert_string_equal(es_config_source(f->cfg, "reddit.qpm"), "env");
    assert_string_equal(es_config_str(f->cfg, "reddit.client_id"), "abc=def");
    assert_string_equal(es_config_str(f->cfg, "aws.region"), "x");
    assert_string_equal(es_config_source(f->cfg, "aws.region"), "file");
}

static void test_env_needs_exact_variable_name(void **state)
{
    fixture *f = *state;
    char *env[] = {"ECHOSTREAM_REDDIT_QPMX=1", "ECHOSTREAM_REDDIT_QP=2",
                   "echostream_reddit_qpm=3", "ECHOSTREAM_REDDIT_QPM", NULL};

    es_config_apply_env(f->cfg, env);
    assert_string_equal(es_config_str(f->cfg, "reddit.qpm"),
                        table_default("reddit.qpm"));
    assert_string_equal(es_config_source(f->cfg, "reddit.qpm"), "default");
}

static void test_env_empty_value_sets_empty_string(void **state)
{
    fixture *f = *state;
    char *env[] = {"ECHOSTREAM_MIRROR_GROUP=", NULL};

    es_config_apply_env(f->cfg, env);
    assert_string_equal(es_config_str(f->cfg, "mirror.group"), "");
    assert_string_equal(es_config_source(f->cfg, "mirror.group"), "env");
}

static void test_env_name_uppercases_and_maps_dots(void **state)
{
    char buf[128];
    char small[16];

    (void)state;
    es_config_env_name("reddit.client_id", buf, sizeof(buf));
    assert_string_equal(buf, "ECHOSTREAM_REDDIT_CLIENT_ID");
    es_config_env_name("redis", buf, sizeof(buf));
    assert_string_equal(buf, "ECHOSTREAM_REDIS");
    es_config_env_name("mirror.batch_wait_ms", buf, sizeof(buf));
    assert_string_equal(buf, "ECHOSTREAM_MIRROR_BATCH_WAIT_MS");
    /* a short buffer is cut and still terminated */
    es_config_env_name("reddit.client_id", small, sizeof(small));
    assert_string_equal(small, "ECHOSTREAM_REDD");
}

static void test_set_unknown_key_fails(void **state)
{
    fixture *f = *state;

    assert_int_equal(es_config_set(f->cfg, "no.such.key", "1", "test"), -1);
    assert_int_equal(es_config_set(f->cfg, "reddit.qpm", "5", "test"), 0);
    assert_string_equal(es_config_str(f->cfg, "reddit.qpm"), "5");
    assert_string_equal(es_config_source(f->cfg, "reddit.qpm"), "test");
}

static void test_int_parses_value_in_range(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    long long v = 0;

    es_config_set(f->cfg, "reddit.qpm", "600", "test");
    assert_int_equal(
        es_config_int(f->cfg, "reddit.qpm", 1, 600, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 600);
    es_config_set(f->cfg, "reddit.qpm", "-5", "test");
    assert_int_equal(
        es_config_int(f->cfg, "reddit.qpm", -5, 5, &v, err, sizeof(err)), 0);
    assert_int_equal(v, -5);
}

static void test_int_out_of_range_names_key_and_env(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    long long v = 77;

    es_config_set(f->cfg, "reddit.qpm", "601", "test");
    assert_int_equal(
        es_config_int(f->cfg, "reddit.qpm", 1, 600, &v, err, sizeof(err)), -1);
    assert_int_equal(v, 77);
    assert_non_null(strstr(err, "reddit.qpm"));
    assert_non_null(strstr(err, "ECHOSTREAM_REDDIT_QPM"));
    assert_non_null(strstr(err, "601"));
    assert_non_null(strstr(err, "[1, 600]"));
}

static void test_int_rejects_garbage_and_overflow(void **state)
{
    static const char *const bad[] = {
        "", "abc", "12abc", "1.5", "0x10", "99999999999999999999", "5 ",
    };
    fixture *f = *state;
    char err[256];
    long long v = 77;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        es_config_set(f->cfg, "ingest.batch", bad[i], "test");
        err[0] = '\0';
        assert_int_equal(es_config_int(f->cfg, "ingest.batch", LLONG_MIN,
                                       LLONG_MAX, &v, err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "ingest.batch"));
        assert_non_null(strstr(err, "ECHOSTREAM_INGEST_BATCH"));
    }
    assert_int_equal(v, 77);
}

static void test_double_parses_and_checks_range(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    double d = 0;

    es_config_set(f->cfg, "ingest.min_interval", "0.25", "test");
    assert_int_equal(es_config_double(f->cfg, "ingest.min_interval", 0, 1, &d,
                                      err, sizeof(err)),
                     0);
    assert_true(d == 0.25);
    es_config_set(f->cfg, "ingest.min_interval", "1.5", "test");
    assert_int_equal(es_config_double(f->cfg, "ingest.min_interval", 0, 1, &d,
                                      err, sizeof(err)),
                     -1);
    assert_true(d == 0.25);
    assert_non_null(strstr(err, "ingest.min_interval"));
    assert_non_null(strstr(err, "ECHOSTREAM_INGEST_MIN_INTERVAL"));
}

static void test_double_rejects_nan_and_garbage(void **state)
{
    static const char *const bad[] = {"nan", "", "1.0s", "1e999", "x"};
    fixture *f = *state;
    char err[256];
    double d = 7;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        es_config_set(f->cfg, "ingest.min_interval", bad[i], "test");
        err[0] = '\0';
        assert_int_equal(es_config_double(f->cfg, "ingest.min_interval", -1e300,
                                          1e300, &d, err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "ingest.min_interval"));
    }
    assert_true(d == 7);
}

static void test_bool_accepts_common_spellings(void **state)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    fixture *f = *state;
    char err[256] = "";
    int b;

    for (size_t i = 0; i < 4; i++) {
        es_config_set(f->cfg, "aws.imds", yes[i], "test");
        b = 0;
        assert_int_equal(
            es_config_bool(f->cfg, "aws.imds", &b, err, sizeof(err)), 0);
        assert_int_equal(b, 1);
        es_config_set(f->cfg, "aws.imds", no[i], "test");
        b = 1;
        assert_int_equal(
            es_config_bool(f->cfg, "aws.imds", &b, err, sizeof(err)), 0);
        assert_int_equal(b, 0);
    }
}

static void test_bool_rejects_other_words_naming_key_and_env(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    int b = 5;

    es_config_set(f->cfg, "aws.imds", "maybe", "test");
    assert_int_equal(es_config_bool(f->cfg, "aws.imds", &b, err, sizeof(err)),
                     -1);
    assert_int_equal(b, 5);
    assert_non_null(strstr(err, "aws.imds"));
    assert_non_null(strstr(err, "ECHOSTREAM_AWS_IMDS"));
    assert_non_null(strstr(err, "maybe"));
}

/* Runs es_config_print into a memory buffer; the caller frees the text. */
static char *print_to_string(const es_config *cfg, const char *const *prefixes)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    assert_non_null(mem);
    es_config_print(cfg, prefixes, mem);
    fclose(mem);
    assert_non_null(text);
    return text;
}

static void test_print_hides_secret_values(void **state)
{
    fixture *f = *state;
    static const char secret[] = "s3cr3t-VALUE-xyz";
    char *text;

    text = print_to_string(f->cfg, NULL);
    assert_non_null(strstr(text, "ECHOSTREAM_REDDIT_CLIENT_SECRET"));
    assert_non_null(strstr(text, "(unset)"));
    free(text);

    es_config_set(f->cfg, "reddit.client_secret", secret, "env");
    es_config_set(f->cfg, "reddit.client_id", "visible-id", "env");
    text = print_to_string(f->cfg, NULL);
    assert_null(strstr(text, secret));
    assert_null(strstr(text, "s3cr3t"));
    assert_non_null(strstr(text, "(set)"));
    assert_non_null(strstr(text, "visible-id"));
    free(text);
}

static void test_print_shows_only_matching_prefixes(void **state)
{
    static const char *const prefixes[] = {"mirror.", "redis", NULL};
    fixture *f = *state;
    char *text = print_to_string(f->cfg, prefixes);

    assert_non_null(strstr(text, "mirror.group"));
    assert_non_null(strstr(text, "ECHOSTREAM_REDIS"));
    assert_null(strstr(text, "reddit.qpm"));
    assert_null(strstr(text, "aws.region"));
    free(text);
}

static void test_redact_hides_url_passwords(void **state)
{
    static const char *const cases[][2] = {
        {"redis://es-enrich:s3cr@t@db.example:6379/0",
         "redis://es-enrich:***@db.example:6379/0"},
        {"redis://:pw@127.0.0.1:6379", "redis://:***@127.0.0.1:6379"},
        {"unix://:pw@/run/redis.sock?db=2", "unix://:***@/run/redis.sock?db=2"},
        {"unix://u:pw@/run/redis.sock", "unix://u:***@/run/redis.sock"},
        {"redis://onlyuser@host/0", "redis://***@host/0"},
        {"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
        {"unix:///run/redis.sock", "unix:///run/redis.sock"},
        {"redis://u:p?w#x@host:6379/0", "redis://u:***@host:6379/0"},
        {"redis://host:6379/0?x=a@b", "redis://host:6379/0?x=a@b"},
        {"unix://:p@ss@/run/redis.sock", "unix://:***@/run/redis.sock"},
        {"redis+sentinel://es-ingest:p@ss,w:rd@s1:26379,s2/m/0",
         "redis+sentinel://es-ingest:***@s1:26379,s2/m/0"},
        {"redis+sentinel://s1,s2/m", "redis+sentinel://s1,s2/m"},
        {"plain value with @ sign", "plain value with @ sign"},
        {"", ""},
    };
    char out[128];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        es_config_redact(cases[i][0], out, sizeof(out));
        assert_string_equal(out, cases[i][1]);
    }
    /* cut to the size given, still without the password */
    es_config_redact("redis://u:password@host", out, 12);
    assert_null(strstr(out, "pass"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_new_config_holds_every_default),
        T(test_key_table_has_unique_lowercase_keys),
        T(test_file_sets_values_ignoring_comments_and_blanks),
        T(test_file_quotes_keep_edge_spaces_and_hash),
        T(test_file_without_final_newline_is_read),
        T(test_file_later_line_wins),
        T(test_unknown_key_error_names_file_and_line),
        T(test_line_without_equals_is_an_error),
        T(test_too_long_line_is_an_error),
        T(test_missing_file_is_an_error_naming_it),
        T(test_env_overrides_file_value),
        T(test_env_needs_exact_variable_name),
        T(test_env_empty_value_sets_empty_string),
        T(test_env_name_uppercases_and_maps_dots),
        T(test_set_unknown_key_fails),
        T(test_int_parses_value_in_range),
        T(test_int_out_of_range_names_key_and_env),
        T(test_int_rejects_garbage_and_overflow),
        T(test_double_parses_and_checks_range),
        T(test_double_rejects_nan_and_garbage),
        T(test_bool_accepts_common_spellings),
        T(test_bool_rejects_other_words_naming_key_and_env),
        T(test_print_hides_secret_values),
        T(test_print_shows_only_matching_prefixes),
        T(test_redact_hides_url_passwords),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
