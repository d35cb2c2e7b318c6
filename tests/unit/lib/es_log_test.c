/*
 * es_log_test.c - unit tests for lib/es_log.c.
 *
 * The JSON form is checked by parsing it with jansson: a log shipper sees
 * one line and must get exactly one object with every field, whatever the
 * values held (quotes, control characters, invalid UTF-8, megabytes). The
 * text form is checked on its exact logfmt syntax (bare and quoted values,
 * escapes, the journald priority prefix). Timestamps vary, so the tests
 * look at everything after them.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "es_log.h"
#include "es_utf8.h"

#define LINE_MAX_TEST 4096

/*
 * Formats one JSON line into buf, checks it is newline-terminated, fits,
 * is valid UTF-8 and parses as one object. Returns a new reference the
 * caller must json_decref.
 */
static json_t *format_json(char *buf, size_t size, const char *event,
                           const es_kv *kv, int nkv)
{
    json_error_t jerr;
    json_t *obj;
    size_t len;

    len = es_log_format_line(buf, size, ES_LOG_JSON, "test", ES_WARN, event, kv,
                             nkv);
    assert_true(len > 0);
    assert_true(len < size);
    assert_int_equal(strlen(buf), len);
    assert_int_equal(buf[len - 1], '\n');
    /* exactly one line */
    assert_null(memchr(buf, '\n', len - 1));
    assert_true(es_utf8_valid(buf, len));
    obj = json_loadb(buf, len, 0, &jerr);
    if (obj == NULL) {
        fail_msg("not JSON (%s): %s", jerr.text, buf);
    }
    assert_true(json_is_object(obj));
    return obj;
}

/* The text line without its "ts=..." field (everything after the first
   space). */
static const char *after_ts(const char *line)
{
    const char *sp = strchr(line, ' ');
    assert_non_null(sp);
    return sp + 1;
}

static void test_json_line_is_one_object_with_every_field(void **state)
{
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_STR("sub", "askreddit"), ES_INT("new", -42),
                  ES_DBL("ratio", 0.5)};
    json_t *obj;

    (void)state;
    obj = format_json(buf, sizeof(buf), "poll done", kv, 3);
    assert_string_equal(json_string_value(json_object_get(obj, "level")),
                        "warn");
    assert_string_equal(json_string_value(json_object_get(obj, "component")),
                        "test");
    assert_string_equal(json_string_value(json_object_get(obj, "msg")),
                        "poll done");
    assert_true(json_is_string(json_object_get(obj, "ts")));
    assert_string_equal(json_string_value(json_object_get(obj, "sub")),
                        "askreddit");
    assert_int_equal(json_integer_value(json_object_get(obj, "new")), -42);
    assert_true(json_number_value(json_object_get(obj, "ratio")) == 0.5);
    assert_int_equal(json_object_size(obj), 7);
    json_decref(obj);
}

static void test_json_timestamp_is_utc_iso8601_with_millis(void **state)
{
    char buf[LINE_MAX_TEST];
    json_t *obj;
    const char *ts;

    (void)state;
    obj = format_json(buf, sizeof(buf), "x", NULL, 0);
    ts = json_string_value(json_object_get(obj, "ts"));
    assert_non_null(ts);
    /* 2026-01-02T03:04:05.678Z */
    assert_int_equal(strlen(ts), 24);
    assert_int_equal(ts[4], '-');
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[23], 'Z');
    json_decref(obj);
}

static void test_json_escapes_quotes_newlines_and_controls(void **state)
{
    static const char hostile[] = "say \"hi\"\\\n\r\t\x01\x1f\x7f end";
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_STR("body", hostile), ES_STR("k\"ey\n", "v")};
    json_t *obj;

    (void)state;
    obj = format_json(buf, sizeof(buf), "ev\"ent\n", kv, 2);
    assert_string_equal(json_string_value(json_object_get(obj, "body")),
                        hostile);
    assert_string_equal(json_string_value(json_object_get(obj, "k\"ey\n")),
                        "v");
    assert_string_equal(json_string_value(json_object_get(obj, "msg")),
                        "ev\"ent\n");
    /* no raw control byte reaches the line */
    for (const char *p = buf; *p != '\n'; p++) {
        assert_true((unsigned char)*p >= 0x20);
    }
    json_decref(obj);
}

static void test_json_replaces_invalid_utf8_with_replacement_char(void **state)
{
    char buf[LINE_MAX_TEST];
    /* stray continuation, overlong '/', surrogate, truncated 3-byte char */
    es_kv kv[] = {ES_STR("body", "a\x80"
                                 "b\xc0\xaf"
                                 "c\xed\xa0\x80"
                                 "d\xe2\x82")};
    json_t *obj;
    const char *body;

    (void)state;
    obj = format_json(buf, sizeof(buf), "x", kv, 1);
    body = json_string_value(json_object_get(obj, "body"));
    assert_non_null(body);
    assert_string_equal(body, "a\xef\xbf\xbd"
                              "b\xef\xbf\xbd\xef\xbf\xbd"
                              "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                              "d\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(obj);
}

static void test_json_keeps_valid_multibyte_text(void **state)
{
    static const char text[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_STR("body", text)};
    json_t *obj;

    (void)state;
    obj = format_json(buf, sizeof(buf), "x", kv, 1);
    assert_string_equal(json_string_value(json_object_get(obj, "body")), text);
    json_decref(obj);
}

static void test_json_huge_value_still_yields_valid_line(void **state)
{
    size_t n = 1 << 20;
    char *huge = malloc(n + 1);
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_STR("before", "kept"), ES_STR("body", huge),
                  ES_INT("after", 7)};
    json_t *obj;
    const char *body;

    (void)state;
    assert_non_null(huge);
    /* quotes and control bytes expand six-fold when escaped */
    for (size_t i = 0; i < n; i++) {
        huge[i] = "a\"\x01\n"[i % 4];
    }
    huge[n] = '\0';
    kv[1] = ES_STR("body", huge);
    obj = format_json(buf, sizeof(buf), "huge", kv, 3);
    body = json_string_value(json_object_get(obj, "body"));
    assert_non_null(body);
    assert_true(strlen(body) > 16);
    assert_true(strlen(body) < sizeof(buf));
    assert_memory_equal(body, huge, strlen(body));
    assert_string_equal(json_string_value(json_object_get(obj, "before")),
                        "kept");
    assert_int_equal(json_integer_value(json_object_get(obj, "after")), 7);
    json_decref(obj);
    free(huge);
}

static void test_json_huge_multibyte_value_cut_on_char_boundary(void **state)
{
    size_t n = 4 * 10000;
    char *huge = malloc(n + 4);
    char buf[LINE_MAX_TEST];
    es_kv kv[1];
    json_t *obj;
    const char *body;

    (void)state;
    assert_non_null(huge);
    /* shift the characters by 0-3 bytes so some cut falls inside one */
    for (size_t shift = 0; shift < 4; shift++) {
        memset(huge, 'a', shift);
        for (size_t i = shift; i + 4 <= n + shift; i += 4) {
            memcpy(huge + i, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
        }
        huge[n + shift] = '\0';
        kv[0] = ES_STR("body", huge);
        obj = format_json(buf, sizeof(buf), "x", kv, 1);
        body = json_string_value(json_object_get(obj, "body"));
        assert_non_null(body);
        assert_true(strlen(body) >= shift + 4);
        /* a cut value is a prefix of the original: no U+FFFD made up */
        assert_int_equal((strlen(body) - shift) % 4, 0);
        assert_memory_equal(body, huge, strlen(body));
        json_decref(obj);
    }
    free(huge);
}

static void test_json_many_huge_fields_still_yield_valid_line(void **state)
{
    char big[8192];
    char buf[LINE_MAX_TEST];
    es_kv kv[32];
    json_t *obj;

    (void)state;
    memset(big, '"', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (int i = 0; i < 32; i++) {
        kv[i] = i % 2 ? ES_STR(big, big) : ES_INT(big, -9223372036854775807LL);
    }
    obj = format_json(buf, sizeof(buf), big, kv, 32);
    json_decref(obj);
}

static void test_json_small_buffer_stays_terminated(void **state)
{
    char buf[300];
    char big[2000];
    es_kv kv[1];
    size_t len;

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    kv[0] = ES_STR("body", big);
    for (size_t size = 0; size <= sizeof(buf); size++) {
        memset(buf, 'Z', sizeof(buf));
        len = es_log_format_line(buf, size, ES_LOG_JSON, "c", ES_INFO, "e", kv,
                                 1);
        if (size == 0) {
            assert_int_equal(len, 0);
            continue;
        }
        assert_true(len < size);
        assert_int_equal(strlen(buf), len);
    }
}

static void test_json_short_buffer_still_yields_valid_line(void **state)
{
    char buf[240];
    char big[2000];
    es_kv kv[3];
    json_t *obj;

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    /* short keys: in a buffer this small every string is cut, keys too */
    kv[0] = ES_STR("body", big);
    kv[1] = ES_INT("n", 7);
    kv[2] = ES_STR("tail", "t");
    obj = format_json(buf, sizeof(buf), "e", kv, 3);
    assert_true(json_is_string(json_object_get(obj, "body")));
    /* the fields after the long one are kept, not cut off */
    assert_int_equal(json_integer_value(json_object_get(obj, "n")), 7);
    assert_string_equal(json_string_value(json_object_get(obj, "tail")), "t");
    json_decref(obj);
}

static void test_json_non_finite_double_is_null(void **state)
{
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_DBL("nan", NAN), ES_DBL("inf", INFINITY),
                  ES_DBL("ninf", -INFINITY)};
    json_t *obj;

    (void)state;
    obj = format_json(buf, sizeof(buf), "x", kv, 3);
    assert_true(json_is_null(json_object_get(obj, "nan")));
    assert_true(json_is_null(json_object_get(obj, "inf")));
    assert_true(json_is_null(json_object_get(obj, "ninf")));
    json_decref(obj);
}

static void test_json_null_string_value_is_empty_string(void **state)
{
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_STR("s", NULL)};
    json_t *obj;

    (void)state;
    obj = format_json(buf, sizeof(buf), "x", kv, 1);
    assert_string_equal(json_string_value(json_object_get(obj, "s")), "");
    json_decref(obj);
}

static void test_text_line_has_level_component_and_fields(void **state)
{
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_STR("sub", "askreddit"), ES_INT("new", 3),
                  ES_DBL("ratio", 0.25)};
    size_t len;

    (void)state;
    len = es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "ingest", ES_INFO,
                             "poll done", kv, 3);
    assert_int_equal(strlen(buf), len);
    assert_true(strncmp(buf, "ts=", 3) == 0);
    assert_string_equal(after_ts(buf),
                        "level=info component=ingest msg=\"poll done\" "
                        "sub=askreddit new=3 ratio=0.25\n");
}

static void test_text_quotes_values_that_need_it(void **state)
{
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_STR("a", "two words"), ES_STR("b", ""), ES_STR("c", "x=y"),
                  ES_STR("d", "say \"hi\"\n")};

    (void)state;
    es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "c", ES_ERROR, "e", kv,
                       4);
    assert_string_equal(after_ts(buf), "level=error component=c msg=e "
                                       "a=\"two words\" b=\"\" c=\"x=y\" "
                                       "d=\"say \\\"hi\\\"\\n\"\n");
}

static void test_text_line_never_holds_raw_newline(void **state)
{
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_STR("body", "line1\nline2\r\x1b[31m")};
    size_t len;

    (void)state;
    len = es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "c", ES_DEBUG,
                             "multi\nline", kv, 1);
    assert_null(memchr(buf, '\n', len - 1));
    assert_null(memchr(buf, '\x1b', len));
    assert_non_null(strstr(buf, "body=\"line1\\nline2\\r\\u001b[31m\""));
}

static void test_text_huge_value_is_cut_to_fit(void **state)
{
    size_t n = 100000;
    char *huge = malloc(n + 1);
    char buf[LINE_MAX_TEST];
    es_kv kv[1];
    size_t len;

    (void)state;
    assert_non_null(huge);
    memset(huge, 'q', n);
    huge[n] = '\0';
    kv[0] = ES_STR("body", huge);
    len = es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "c", ES_INFO, "e",
                             kv, 1);
    assert_true(len < sizeof(buf));
    assert_int_equal(strlen(buf), len);
    assert_int_equal(buf[len - 1], '\n');
    assert_non_null(strstr(buf, "body=qqqq"));
    assert_true(es_utf8_valid(buf, len));
    free(huge);
}

static void test_text_timestamp_is_a_ts_field_in_utc_millis(void **state)
{
    char buf[LINE_MAX_TEST];
    int y, mo, d, h, mi, sec, ms;
    char z;

    (void)state;
    es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "c", ES_INFO, "e", NULL,
                       0);
    assert_int_equal(sscanf(buf, "ts=%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo,
                            &d, &h, &mi, &sec, &ms, &z),
                     8);
    assert_int_equal(z, 'Z');
    assert_int_equal(buf[strlen("ts=2026-12-06T13:05:20.851Z")], ' ');
}

static void test_text_bare_values_are_plain_ascii_only(void **state)
{
    char buf[LINE_MAX_TEST];
    /* backslash, tab, non-ASCII and a lone '"' all force quotes; a value
       with '/', ':', '.', '-' stays bare */
    es_kv kv[] = {ES_STR("path", "/var/log/x-1.log:2"), ES_STR("b", "a\\b"),
                  ES_STR("t", "a\tb"), ES_STR("u", "caf\xc3\xa9"),
                  ES_STR("q", "\"")};

    (void)state;
    es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "c", ES_WARN, "e", kv, 5);
    assert_string_equal(after_ts(buf),
                        "level=warn component=c msg=e "
                        "path=/var/log/x-1.log:2 b=\"a\\\\b\" t=\"a\\tb\" "
                        "u=\"caf\xc3\xa9\" q=\"\\\"\"\n");
}

static void test_text_msg_and_component_quoted_when_needed(void **state)
{
    char buf[LINE_MAX_TEST];

    (void)state;
    es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "my comp", ES_INFO,
                       "mirror idle", NULL, 0);
    assert_string_equal(after_ts(buf), "level=info component=\"my comp\" "
                                       "msg=\"mirror idle\"\n");
    es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "c", ES_INFO, "", NULL,
                       0);
    assert_string_equal(after_ts(buf), "level=info component=c msg=\"\"\n");
}

static void test_text_key_with_separator_bytes_stays_one_key(void **state)
{
    char buf[LINE_MAX_TEST];
    es_kv kv[] = {ES_STR("a b=\"c", "v")};

    (void)state;
    es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "c", ES_INFO, "e", kv, 1);
    assert_non_null(strstr(buf, " a_b__c=v\n"));
}

static void test_journal_prefixes_syslog_priority(void **state)
{
    static const struct {
        es_level level;
        const char *prefix;
    } cases[] = {{ES_DEBUG, "<7>ts="},
                 {ES_INFO, "<6>ts="},
                 {ES_WARN, "<4>ts="},
                 {ES_ERROR, "<3>ts="}};
    char buf[LINE_MAX_TEST];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        es_log_format_line(buf, sizeof(buf), ES_LOG_JOURNAL, "c",
                           cases[i].level, "e", NULL, 0);
        assert_true(strncmp(buf, cases[i].prefix, 6) == 0);
        assert_non_null(strstr(buf, " component=c msg=e\n"));
    }
    /* plain text and JSON never carry the prefix */
    es_log_format_line(buf, sizeof(buf), ES_LOG_TEXT, "c", ES_ERROR, "e", NULL,
                       0);
    assert_int_equal(buf[0], 't');
    es_log_format_line(buf, sizeof(buf), ES_LOG_JSON, "c", ES_ERROR, "e", NULL,
                       0);
    assert_int_equal(buf[0], '{');
}

static void test_journal_detected_only_when_stderr_matches(void **state)
{
    struct stat st;
    char v[64];

    (void)state;
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    unsetenv("JOURNAL_STREAM");
    assert_int_equal(es_log_stderr_is_journal(), 0);
    snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", v, 1);
    assert_int_equal(es_log_stderr_is_journal(), 1);
    /* another file's inode: stderr was redirected away from the journal */
    snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino + 1);
    setenv("JOURNAL_STREAM", v, 1);
    assert_int_equal(es_log_stderr_is_journal(), 0);
    setenv("JOURNAL_STREAM", "garbage", 1);
    assert_int_equal(es_log_stderr_is_journal(), 0);
    unsetenv("JOURNAL_STREAM");
}

static void test_log_file_is_reopened_after_rename(void **state)
{
    char dir[] = "/tmp/es_log_test.XXXXXX";
    char path[128], moved[128], err[256], text[512];
    FILE *f;
    size_t n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/w.log", dir);
    snprintf(moved, sizeof(moved), "%s/w.log.1", dir);
    es_log_init("c", ES_LOG_TEXT, ES_INFO);
    assert_int_equal(es_log_open_file(path, err, sizeof(err)), 0);
    es_log(ES_INFO, "first", ES_END);
    assert_int_equal(rename(path, moved), 0);
    es_log(ES_INFO, "second", ES_END); /* still the renamed file */
    assert_int_equal(es_log_open_file(path, err, sizeof(err)), 0);
    es_log(ES_INFO, "third", ES_END);
    /* a path that cannot be opened keeps the file in use */
    assert_int_equal(
        es_log_open_file("/nonexistent/dir/x.log", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/dir/x.log"));
    es_log(ES_INFO, "fourth", ES_END);
    assert_int_equal(es_log_open_file(NULL, err, sizeof(err)), 0);

    f = fopen(moved, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "msg=first"));
    assert_non_null(strstr(text, "msg=second"));
    assert_null(strstr(text, "msg=third"));
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_null(strstr(text, "msg=second"));
    assert_non_null(strstr(text, "msg=third"));
    assert_non_null(strstr(text, "msg=fourth"));
    unlink(path);
    unlink(moved);
    rmdir(dir);
}

static void test_parse_format_accepts_text_json_and_journal_only(void **state)
{
    es_log_format f = ES_LOG_TEXT;

    (void)state;
    assert_int_equal(es_log_parse_format("json", &f), 0);
    assert_int_equal(f, ES_LOG_JSON);
    assert_int_equal(es_log_parse_format("journal", &f), 0);
    assert_int_equal(f, ES_LOG_JOURNAL);
    assert_int_equal(es_log_parse_format("text", &f), 0);
    assert_int_equal(f, ES_LOG_TEXT);
    assert_int_equal(es_log_parse_format("JSON", &f), -1);
    assert_int_equal(es_log_parse_format("", &f), -1);
    assert_int_equal(es_log_parse_format("json ", &f), -1);
    assert_int_equal(es_log_parse_format("logfmt", &f), -1);
    assert_int_equal(f, ES_LOG_TEXT);
}

static void test_parse_level_accepts_the_four_names(void **state)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    es_level l = ES_INFO;

    (void)state;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(es_log_parse_level(names[i], &l), 0);
        assert_int_equal(l, (es_level)i);
    }
    l = ES_WARN;
    assert_int_equal(es_log_parse_level("warning", &l), -1);
    assert_int_equal(es_log_parse_level("INFO", &l), -1);
    assert_int_equal(es_log_parse_level("", &l), -1);
    assert_int_equal(es_log_parse_level("3", &l), -1);
    assert_int_equal(l, ES_WARN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_line_is_one_object_with_every_field),
        cmocka_unit_test(test_json_timestamp_is_utc_iso8601_with_millis),
        cmocka_unit_test(test_json_escapes_quotes_newlines_and_controls),
        cmocka_unit_test(test_json_replaces_invalid_utf8_with_replacement_char),
        cmocka_unit_test(test_json_keeps_valid_multibyte_text),
        cmocka_unit_test(test_json_huge_value_still_yields_valid_line),
        cmocka_unit_test(test_json_huge_multibyte_value_cut_on_char_boundary),
        cmocka_unit_test(test_json_many_huge_fields_still_yield_valid_line),
        cmocka_unit_test(test_json_small_buffer_stays_terminated),
        cmocka_unit_test(test_json_short_buffer_still_yields_valid_line),
        cmocka_unit_test(test_json_non_finite_double_is_null),
        cmocka_unit_test(test_json_null_string_value_is_empty_string),
        cmocka_unit_test(test_text_line_has_level_component_and_fields),
        cmocka_unit_test(test_text_quotes_values_that_need_it),
        cmocka_unit_test(test_text_line_never_holds_raw_newline),
        cmocka_unit_test(test_text_huge_value_is_cut_to_fit),
        cmocka_unit_test(test_text_timestamp_is_a_ts_field_in_utc_millis),
        cmocka_unit_test(test_text_bare_values_are_plain_ascii_only),
        cmocka_unit_test(test_text_msg_and_component_quoted_when_needed),
        cmocka_unit_test(test_text_key_with_separator_bytes_stays_one_key),
        cmocka_unit_test(test_journal_prefixes_syslog_priority),
        cmocka_unit_test(test_journal_detected_only_when_stderr_matches),
        cmocka_unit_test(test_log_file_is_reopened_after_rename),
        cmocka_unit_test(test_parse_format_accepts_text_json_and_journal_only),
        cmocka_unit_test(test_parse_level_accepts_the_four_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
