/*
 * dump_reader_test.c - reading dump lines from plain and zstd files and
 * stdin: long lines, long-window frames, several frames, corrupt and
 * truncated input (lines before the damage are still delivered).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "dump_reader.h"

static char tmpdir[] = "/tmp/es_dump_reader_XXXXXX";

static void path_of(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/*
 * Compresses with the streaming API and no pledged size, so the frame
 * header keeps the whole window (as dump files made by `zstd --long=31`
 * from a pipe do). Returns a new buffer; *out_n is its size.
 */
static char *compress(const char *data, size_t n, int window_log, size_t *out_n)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(n) + 1024, half = n / 2;
    char *out = malloc(cap);
    ZSTD_outBuffer ob = {out, cap, 0};
    ZSTD_inBuffer ib = {data, half, 0};
    size_t rem;

    assert_non_null(cc);
    assert_non_null(out);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
    if (window_log) {
        ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, window_log);
    }
    while (ib.pos < ib.size) {
        assert_false(
            ZSTD_isError(ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_continue)));
    }
    ib.src = data + half;
    ib.size = n - half;
    ib.pos = 0;
    do {
        rem = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
        assert_false(ZSTD_isError(rem));
    } while (rem != 0);
    ZSTD_freeCCtx(cc);
    *out_n = ob.pos;
    return out;
}

/* "line <i> ...padding" lines, each newline-terminated */
static char *make_lines(int count, size_t *n)
{
    size_t cap = (size_t)count * 64 + 1;
    char *s = malloc(cap);
    size_t k = 0;

    assert_non_null(s);
    for (int i = 0; i < count; i++) {
        k += (size_t)snprintf(s + k, cap - k,
                              "{\"line\":%d,\"pad\":\"xxxxxxxxxxxx\"}\n", i);
    }
    *n = k;
    return s;
}

/* Reads every line, checking "line":i order; returns count (or -1-count). */
static int read_all(es_dump_reader *r, int expect_from)
{
    const char *line;
    size_t len;
    int count = 0, rc;
    char want[32];

    for (;;) {
        rc = es_dump_reader_next(r, &line, &len);
        if (rc != 1) {
            break;
        }
        snprintf(want, sizeof(want), "{\"line\":%d,", expect_from + count);
        assert_int_equal(strlen(line), len);
        if (strncmp(line, want, strlen(want)) != 0) {
            fail_msg("line %d is \"%.40s\"", count, line);
        }
        count++;
    }
    return rc == 0 ? count : -1 - count;
}

static es_dump_reader *open_ok(const char *path, size_t max_line)
{
    char err[256];
    es_dump_reader *r = es_dump_reader_open(path, max_line, err, sizeof(err));

    if (r == NULL) {
        fail_msg("open %s: %s", path, err);
    }
    return r;
}

static void test_plain_file_lines_are_read_in_order(void **state)
{
    char path[256];
    size_t n;
    char *data = make_lines(100000, &n);
    es_dump_reader *r;

    (void)state;
    path_of(path, sizeof(path), "plain.ndjson");
    write_file(path, data, n);
    r = open_ok(path, 0);
    assert_int_equal(read_all(r, 0), 100000);
    assert_false(es_dump_reader_is_zstd(r));
    assert_int_equal(es_dump_reader_size(r), (long long)n);
    assert_int_equal(es_dump_reader_offset(r), (long long)n);
    es_dump_reader_close(r);
    free(data);
}

static void test_last_line_without_newline_and_crlf(void **state)
{
    const char *data = "{\"line\":0,}\r\n\n{\"line\":1,}";
    char path[256];
    const char *line;
    size_t len;
    es_dump_reader *r;

    (void)state;
    path_of(path, sizeof(path), "crlf.ndjson");
    write_file(path, data, strlen(data));
    r = open_ok(path, 0);
    assert_int_equal(es_dump_reader_next(r, &line, &len), 1);
    assert_string_equal(line, "{\"line\":0,}");
    assert_int_equal(es_dump_reader_next(r, &line, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(es_dump_reader_next(r, &line, &len), 1);
    assert_string_equal(line, "{\"line\":1,}");
    assert_int_equal(es_dump_reader_next(r, &line, &len), 0);
    assert_int_equal(es_dump_reader_next(r, &line, &len), 0);
    es_dump_reader_close(r);
}

static void test_empty_and_tiny_files(void **state)
{
    char path[256];
    const char *line;
    size_t len;
    es_dump_reader *r;

    (void)state;
    path_of(path, sizeof(path), "empty");
    write_file(path, "", 0);
    r = open_ok(path, 0);
    assert_int_equal(es_dump_reader_next(r, &line, &len), 0);
    es_dump_reader_close(r);

    path_of(path, sizeof(path), "tiny");
    write_file(path, "ab", 2);
    r = open_ok(path, 0);
    assert_int_equal(es_dump_reader_next(r, &line, &len), 1);
    assert_string_equal(line, "ab");
    assert_int_equal(es_dump_reader_next(r, &line, &len), 0);
    es_dump_reader_close(r);
}

static void test_zstd_is_detected_by_magic_not_name(void **state)
{
    char path[256];
    size_t n, zn;
    char *data = make_lines(200000, &n);
    char *z = compress(data, n, 0, &zn);
    es_dump_reader *r;

    (void)state;
    path_of(path, sizeof(path), "dump.ndjson"); /* no .zst suffix */
    write_file(path, z, zn);
    r = open_ok(path, 0);
    assert_int_equal(read_all(r, 0), 200000);
    assert_true(es_dump_reader_is_zstd(r));
    assert_int_equal(es_dump_reader_offset(r), (long long)zn);
    es_dump_reader_close(r);
    free(z);
    free(data);
}

static void test_long_window_frames_are_decoded(void **state)
{
    char path[256];
    size_t n, zn;
    char *data = make_lines(50000, &n);
    char *z = compress(data, n, 28, &zn);
    ZSTD_DCtx *plain = ZSTD_createDCtx();
    char *out = malloc(n);
    ZSTD_inBuffer ib = {z, zn, 0};
    ZSTD_outBuffer ob = {out, n, 0};
    es_dump_reader *r;

    (void)state;
    /* the frame really needs more than the default window limit */
    assert_true(ZSTD_isError(ZSTD_decompressStream(plain, &ob, &ib)));
    ZSTD_freeDCtx(plain);
    free(out);

    path_of(path, sizeof(path), "long.zst");
    write_file(path, z, zn);
    r = open_ok(path, 0);
    assert_int_equal(read_all(r, 0), 50000);
    es_dump_reader_close(r);
    free(z);
    free(data);
}

static void test_concatenated_frames_are_all_read(void **state)
{
    char path[256];
    size_t n1, n2, z1n, z2n;
    char *a = make_lines(1000, &n1);
    char *b = make_lines(1000, &n2);
    char *z1 = compress(a, n1, 0, &z1n);
    char *z2 = compress(b, n2, 0, &z2n);
    char *both = malloc(z1n + z2n);
    const char *line;
    size_t len;
    int count = 0;
    es_dump_reader *r;

    (void)state;
    memcpy(both, z1, z1n);
    memcpy(both + z1n, z2, z2n);
    path_of(path, sizeof(path), "two.zst");
    write_file(path, both, z1n + z2n);
    r = open_ok(path, 0);
    while (es_dump_reader_next(r, &line, &len) == 1) {
        count++;
    }
    assert_int_equal(count, 2000);
    assert_null(es_dump_reader_error(r));
    es_dump_reader_close(r);
    free(a);
    free(b);
    free(z1);
    free(z2);
    free(both);
}

static void test_stdin_pipe_is_read(void **state)
{
    const char *data = "{\"line\":0,}\n{\"line\":1,}\n";
    int fds[2], saved = dup(STDIN_FILENO);
    es_dump_reader *r;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], data, strlen(data)), (ssize_t)strlen(data));
    close(fds[1]);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    r = open_ok("-", 0);
    assert_int_equal(es_dump_reader_size(r), -1);
    assert_int_equal(read_all(r, 0), 2);
    es_dump_reader_close(r);
    dup2(saved, STDIN_FILENO);
    close(saved);
}

static char *long_line_file(size_t body, size_t *n)
{
    char *s = malloc(body + 128);
    size_t k;

    assert_non_null(s);
    k = (size_t)sprintf(s, "{\"line\":0,\"body\":\"");
    memset(s + k, 'a', body);
    k += body;
    k += (size_t)sprintf(s + k, "\"}\n{\"line\":1,\"x\":1}\n");
    *n = k;
    return s;
}

static void test_line_longer_than_the_buffer_is_read_whole(void **state)
{
    char path[256];
    size_t n, zn, body = 9u << 20;
    char *data = long_line_file(body, &n);
    char *z = compress(data, n, 0, &zn);
    const char *line;
    size_t len;
    es_dump_reader *r;

    (void)state;
    path_of(path, sizeof(path), "long_line.zst");
    write_file(path, z, zn);
    r = open_ok(path, 0);
    assert_int_equal(es_dump_reader_next(r, &line, &len), 1);
    assert_int_equal(len, body + 20);
    assert_int_equal(line[len - 1], '}');
    assert_int_equal(es_dump_reader_next(r, &line, &len), 1);
    assert_string_equal(line, "{\"line\":1,\"x\":1}");
    assert_int_equal(es_dump_reader_next(r, &line, &len), 0);
    es_dump_reader_close(r);
    free(z);
    free(data);
}

static void test_line_over_the_cap_is_skipped_and_counted(void **state)
{
    char path[256];
    size_t n, body = 3u << 20;
    char *data = long_line_file(body, &n);
    const char *line;
    size_t len;
    es_dump_reader *r;

    (void)state;
    path_of(path, sizeof(path), "capped.ndjson");
    write_file(path, data, n);
    r = open_ok(path, 1000);
    assert_int_equal(es_dump_reader_next(r, &line, &len), 1);
    assert_string_equal(line, "{\"line\":1,\"x\":1}");
    assert_int_equal(es_dump_reader_next(r, &line, &len), 0);
    assert_int_equal(es_dump_reader_skipped(r), 1);
    es_dump_reader_close(r);
    free(data);
}

static void test_truncated_zstd_delivers_lines_then_fails(void **state)
{
    char path[256];
    size_t n, zn;
    char *data = make_lines(200000, &n);
    char *z = compress(data, n, 0, &zn);
    es_dump_reader *r;
    int got;

    (void)state;
    path_of(path, sizeof(path), "trunc.zst");
    write_file(path, z, zn / 2);
    r = open_ok(path, 0);
    got = read_all(r, 0);
    assert_true(got < -1000); /* lines before the cut, then an error */
    assert_non_null(strstr(es_dump_reader_error(r), "truncated"));
    /* the error is sticky */
    {
        const char *line;
        size_t len;
        assert_int_equal(es_dump_reader_next(r, &line, &len), -1);
    }
    es_dump_reader_close(r);
    free(z);
    free(data);
}

static void test_garbage_after_a_frame_is_reported_corrupt(void **state)
{
    char path[256];
    size_t n, zn;
    char *data = make_lines(1000, &n);
    char *z = compress(data, n, 0, &zn);
    char *bad = malloc(zn + 16);
    es_dump_reader *r;

    (void)state;
    memcpy(bad, z, zn);
    memcpy(bad + zn, "this is not zstd", 16);
    path_of(path, sizeof(path), "garbage.zst");
    write_file(path, bad, zn + 16);
    r = open_ok(path, 0);
    assert_int_equal(read_all(r, 0), -1 - 1000);
    assert_non_null(strstr(es_dump_reader_error(r), "corrupt"));
    es_dump_reader_close(r);
    free(bad);
    free(z);
    free(data);
}

static void test_missing_file_is_an_open_error(void **state)
{
    char err[256] = "";

    (void)state;
    assert_null(es_dump_reader_open("/nonexistent/x.zst", 0, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/x.zst"));
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_file_lines_are_read_in_order),
        cmocka_unit_test(test_last_line_without_newline_and_crlf),
        cmocka_unit_test(test_empty_and_tiny_files),
        cmocka_unit_test(test_zstd_is_detected_by_magic_not_name),
        cmocka_unit_test(test_long_window_frames_are_decoded),
        cmocka_unit_test(test_concatenated_frames_are_all_read),
        cmocka_unit_test(test_stdin_pipe_is_read),
        cmocka_unit_test(test_line_longer_than_the_buffer_is_read_whole),
        cmocka_unit_test(test_line_over_the_cap_is_skipped_and_counted),
        cmocka_unit_test(test_truncated_zstd_delivers_lines_then_fails),
        cmocka_unit_test(test_garbage_after_a_frame_is_reported_corrupt),
        cmocka_unit_test(test_missing_file_is_an_open_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
