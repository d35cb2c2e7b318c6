/*
 * http_response_test.c - the JWKS fetcher's HTTP/1.x response parser
 * (ngx_echostream_module/auth/ngx_http_echostream_http_response.c) on its
 * own: what the identity provider's server sends is outside input.
 *
 * Every response is fed whole, one byte a read, and in reads of a few
 * awkward sizes, since a parser of a stream must give the same answer
 * however the connection cuts it.
 */

// links: ngx_echostream_module/auth/ngx_http_echostream_http_response.c

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ngx_stub.h"

#include "auth/ngx_http_echostream_http_response.h"

#define MAX_BODY 64

typedef struct {
    ngx_int_t rc; /* of the last feed or eof */
    ngx_uint_t status;
    char body[MAX_BODY + 1];
    size_t body_len;
    char error[128];
} outcome;

/*
 * Parses text[0..n) delivered in reads of step bytes (0: all at once),
 * then a close of the connection when eof and the response is not done.
 */
static outcome parse(const char *text, size_t n, size_t step, int eof)
{
    ngx_http_echostream_http_response_t rp;
    outcome o;
    size_t off, room, take;
    u_char *space;

    memset(&o, 0, sizeof(o));
    assert_int_equal(
        ngx_http_echostream_http_response_init(
            &rp, &ngx_stub_pool, MAX_BODY, (u_char *)o.error, sizeof(o.error)),
        NGX_OK);

    o.rc = NGX_AGAIN;
    for (off = 0; off < n && o.rc == NGX_AGAIN;) {
        space = ngx_http_echostream_http_response_space(&rp, &room);
        if (space == NULL) {
            o.rc = NGX_ERROR;
            break;
        }
        take = step ? step : n;
        take = take < n - off ? take : n - off;
        take = take < room ? take : room;
        memcpy(space, text + off, take);
        off += take;
        o.rc = ngx_http_echostream_http_response_feed(&rp, take);
    }

    if (o.rc == NGX_AGAIN && eof) {
        o.rc = ngx_http_echostream_http_response_eof(&rp);
    }

    o.status = rp.status;
    if (o.rc == NGX_OK && rp.body != NULL) {
        memcpy(o.body, rp.body, rp.body_len);
        o.body_len = rp.body_len;
    }

    ngx_stub_pool_free();
    return o;
}

/* The same outcome whatever the reads: returns the whole-read one. */
static outcome parse_all_ways(const char *text, int eof)
{
    static const size_t steps[] = {1, 2, 3, 7, 64};
    outcome whole, o;
    size_t i, n = strlen(text);

    whole = parse(text, n, 0, eof);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        o = parse(text, n, steps[i], eof);
        assert_int_equal(o.rc, whole.rc);
        assert_int_equal(o.status, whole.status);
        assert_int_equal(o.body_len, whole.body_len);
        assert_memory_equal(o.body, whole.body, whole.body_len);
        assert_string_equal(o.error, whole.error);
    }
    return whole;
}

static void assert_ok(outcome o, ngx_uint_t status, const char *body)
{
    assert_int_equal(o.rc, NGX_OK);
    assert_int_equal(o.status, status);
    assert_int_equal(o.body_len, strlen(body));
    assert_memory_equal(o.body, body, o.body_len);
}

static void assert_refused(outcome o, const char *why)
{
    assert_int_equal(o.rc, NGX_ERROR);
    assert_non_null(strstr(o.error, why));
}

static void test_content_length_body(void **state)
{
    (void)state;
    assert_ok(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
                             "Content-Type: application/json\r\n\r\n"
                             "{\"k\":1}",
                             0),
              200, "{\"k\":1}");
    /* bytes past the length are not the body */
    assert_ok(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
                             "{}garbage",
                             0),
              200, "{}");
    /* bare LF line ends, the status line without a reason */
    assert_ok(parse_all_ways("HTTP/1.0 200\ncontent-length: 2\n\n[]", 0), 200,
              "[]");
    /* a repeated, equal length is one length */
    assert_ok(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             "Content-Length: 2\r\n\r\n{}",
                             0),
              200, "{}");
}

static void test_chunked_body(void **state)
{
    (void)state;
    assert_ok(parse_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                             "\r\n4;ext=1\r\n{\"a\"\r\nB\r\n:[1,2,3,4]}\r\n"
                             "0\r\nX-Trailer: y\r\n\r\n",
                             0),
              200, "{\"a\":[1,2,3,4]}");
    /* chunked wins over a Content-Length (RFC 9112 6.3) */
    assert_ok(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n"
                             "Transfer-Encoding: Chunked\r\n\r\n"
                             "2\r\n{}\r\n0\r\n\r\n",
                             0),
              200, "{}");
}

static void test_body_to_the_end_of_the_connection(void **state)
{
    (void)state;
    assert_ok(parse_all_ways("HTTP/1.0 200 OK\r\n\r\n{\"keys\":[]}", 1), 200,
              "{\"keys\":[]}");
}

static void test_interim_responses_are_skipped(void **state)
{
    (void)state;
    assert_ok(parse_all_ways("HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
                             0),
              200, "{}");
}

static void test_other_statuses_end_with_the_header(void **state)
{
    outcome o;

    (void)state;
    o = parse_all_ways("HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\n",
                       0);
    assert_ok(o, 404, "");
    /* a length larger than the cap does not matter for a 503 */
    o = parse_all_ways("HTTP/1.1 503 Busy\r\nContent-Length: 999999\r\n\r\n",
                       0);
    assert_ok(o, 503, "");
}

static void test_malformed_headers_are_refused(void **state)
{
    (void)state;
    assert_refused(parse_all_ways("HTTP/2 200 OK\r\n\r\n", 0),
                   "malformed status line");
    assert_refused(parse_all_ways("HTTP/1.1 20 OK\r\n\r\n", 0),
                   "malformed status line");
    assert_refused(parse_all_ways("HTTP/1.1 200OK\r\n\r\n", 0),
                   "malformed status line");
    assert_refused(parse_all_ways("HTTP/1.1 600 Odd\r\n\r\n", 0),
                   "malformed status line");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n", 0),
                   "malformed header line");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\n: v\r\n\r\n", 0),
                   "malformed header line");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", 0),
                   "folded header line");
}

static void test_lengths_and_codings_are_checked(void **state)
{
    (void)state;
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n"
                                  "\r\n",
                                  0),
                   "invalid Content-Length");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n"
                                  "\r\n",
                                  0),
                   "invalid Content-Length");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                  "Content-Length: 3\r\n\r\n",
                                  0),
                   "invalid Content-Length");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: "
                                  "1234567890123456789\r\n\r\n",
                                  0),
                   "invalid Content-Length");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 65\r\n"
                                  "\r\n",
                                  0),
                   "larger than 64 bytes");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                  "gzip\r\n\r\n",
                                  0),
                   "unsupported transfer coding \"gzip\"");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n"
                                  "\r\n",
                                  0),
                   "unsupported content coding \"br\"");
    assert_ok(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\n"
                             "Content-Length: 0\r\n\r\n",
                             0),
              200, "");
}

static void test_bodies_over_the_cap_are_refused(void **state)
{
    char text[512];
    size_t n;

    (void)state;
    n = (size_t)snprintf(text, sizeof(text), "HTTP/1.0 200 OK\r\n\r\n");
    memset(text + n, 'x', MAX_BODY + 1);
    text[n + MAX_BODY + 1] = '\0';
    assert_refused(parse_all_ways(text, 1), "larger than");

    n = (size_t)snprintf(text, sizeof(text),
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "41\r\n");
    memset(text + n, 'x', 0x41);
    strcpy(text + n + 0x41, "\r\n0\r\n\r\n");
    assert_refused(parse_all_ways(text, 0), "larger than");
}

static void test_malformed_chunks_are_refused(void **state)
{
    (void)state;
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                  "chunked\r\n\r\nzz\r\n",
                                  0),
                   "malformed chunked body");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                  "chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
                                  0),
                   "malformed chunked body");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                  "chunked\r\n\r\n"
                                  "FFFFFFFFFFFFFFFFFFFFFFFF\r\n",
                                  0),
                   "");
}

static void test_early_close_is_an_error(void **state)
{
    (void)state;
    assert_refused(parse_all_ways("", 1), "without a response");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nContent-", 1),
                   "inside the response header");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n"
                                  "\r\n{}",
                                  1),
                   "after 2 bytes of the body");
    assert_refused(parse_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                  "chunked\r\n\r\n2\r\n{}\r\n",
                                  1),
                   "connection closed");
}

static void test_header_larger_than_its_buffer(void **state)
{
    static char text[NGX_HTTP_ECHOSTREAM_HTTP_HEADER_MAX + 64];
    size_t n;
    outcome o;

    (void)state;
    n = (size_t)snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\nX: ");
    memset(text + n, 'a', sizeof(text) - n - 1);
    text[sizeof(text) - 1] = '\0';
    o = parse(text, strlen(text), 4096, 0);
    assert_refused(o, "response header larger than 16384 bytes");
}

static void test_no_memory_is_an_error(void **state)
{
    ngx_http_echostream_http_response_t rp;
    char error[64];

    (void)state;
    ngx_stub_fail_after(0);
    assert_int_equal(
        ngx_http_echostream_http_response_init(&rp, &ngx_stub_pool, MAX_BODY,
                                               (u_char *)error, sizeof(error)),
        NGX_ERROR);
    ngx_stub_pool_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length_body),
        cmocka_unit_test(test_chunked_body),
        cmocka_unit_test(test_body_to_the_end_of_the_connection),
        cmocka_unit_test(test_interim_responses_are_skipped),
        cmocka_unit_test(test_other_statuses_end_with_the_header),
        cmocka_unit_test(test_malformed_headers_are_refused),
        cmocka_unit_test(test_lengths_and_codings_are_checked),
        cmocka_unit_test(test_bodies_over_the_cap_are_refused),
        cmocka_unit_test(test_malformed_chunks_are_refused),
        cmocka_unit_test(test_early_close_is_an_error),
        cmocka_unit_test(test_header_larger_than_its_buffer),
        cmocka_unit_test(test_no_memory_is_an_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
