/*
 * batch_test.c - unit tests for workers/mirror/batch.c and the request and
 * answer handling of workers/mirror/sqs.c: message shape, the 256 KB
 * limits, the UTF-8 cut, and how SendMessageBatch answers map to entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "batch.h"
#include "es_utf8.h"
#include "sqs.h"

static char *body_of(const char *const *fv, size_t nfv, size_t max, size_t *len,
                     int *truncated)
{
    size_t lens[32];

    for (size_t i = 0; i < nfv; i++) {
        lens[i] = strlen(fv[i]);
    }
    return es_mirror_body("1732540000000-7", fv, lens, nfv, max, len,
                          truncated);
}

static void test_body_is_object_of_string_fields_plus_stream_id(void **state)
{
    const char *fv[] = {"type", "comment", "id",
                        "k2x9", "body",    "caf\xc3\xa9 \"q\"\n\x01"};
    size_t len;
    int truncated;
    char *b = body_of(fv, 6, ES_SQS_MAX_BYTES, &len, &truncated);
    json_t *o;

    (void)state;
    assert_non_null(b);
    assert_int_equal(truncated, 0);
    assert_int_equal(len, strlen(b));
    o = json_loads(b, 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 4);
    assert_string_equal(json_string_value(json_object_get(o, "type")),
                        "comment");
    assert_string_equal(json_string_value(json_object_get(o, "body")),
                        "caf\xc3\xa9 \"q\"\n\x01");
    assert_string_equal(json_string_value(json_object_get(o, "stream_id")),
                        "1732540000000-7");
    assert_null(json_object_get(o, "truncated"));
    /* control characters are escaped, never raw in the SQS body */
    assert_null(strchr(b, '\n'));
    assert_null(strchr(b, '\x01'));
    json_decref(o);
    free(b);
}

static void test_body_repairs_invalid_utf8_and_sqs_forbidden(void **state)
{
    /* a stray continuation byte, a NUL inside, U+FFFF */
    const char raw[] = "a\x80"
                       "b\0c\xef\xbf\xbf";
    const char *fv[] = {"body", raw};
    size_t lens[] = {4, sizeof(raw) - 1};
    size_t len;
    int truncated;
    char *b;
    json_t *o;

    (void)state;
    b = es_mirror_body("1-0", fv, lens, 2, ES_SQS_MAX_BYTES, &len, &truncated);
    assert_non_null(b);
    assert_true(es_utf8_valid(b, len));
    assert_null(strstr(b, "\xef\xbf\xbf"));
    o = json_loads(b, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "body")),
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd"
                        "c\xef\xbf\xbd");
    json_decref(o);
    free(b);
}

static void test_oversize_entry_is_cut_at_char_boundary_and_marked(void **s)
{
    size_t n = 300000; /* 100000 three-byte characters */
    char *big = malloc(n + 1);
    const char *fv[] = {"id", "abc", "body", big};
    size_t len;
    int truncated;
    char *b;
    json_t *o;
    const char *body;

    (void)s;
    assert_non_null(big);
    for (size_t i = 0; i < n; i += 3) {
        memcpy(big + i, "\xe2\x9c\x93", 3); /* U+2713 */
    }
    big[n] = '\0';
    b = body_of(fv, 4, ES_SQS_MAX_BYTES, &len, &truncated);
    assert_non_null(b);
    assert_int_equal(truncated, 1);
    assert_true(len <= ES_SQS_MAX_BYTES);
    assert_true(len > ES_SQS_MAX_BYTES - 64); /* cut no more than needed */
    o = json_loads(b, 0, NULL);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(o, "truncated")));
    assert_string_equal(json_string_value(json_object_get(o, "id")), "abc");
    body = json_string_value(json_object_get(o, "body"));
    assert_int_equal(strlen(body) % 3, 0);
    assert_true(es_utf8_valid(body, strlen(body)));
    json_decref(o);
    free(b);
    free(big);
}

static void test_escape_heavy_entry_still_fits(void **state)
{
    /* each control byte becomes six bytes of JSON */
    size_t n = 100000;
    char *ctl = malloc(n + 1);
    const char *fv[] = {"body", ctl};
    size_t len;
    int truncated;
    char *b;

    (void)state;
    memset(ctl, '\x02', n);
    ctl[n] = '\0';
    b = body_of(fv, 2, ES_SQS_MAX_BYTES, &len, &truncated);
    assert_non_null(b);
    assert_int_equal(truncated, 1);
    assert_true(len <= ES_SQS_MAX_BYTES);
    free(b);
    free(ctl);
}

static void test_too_small_limit_fails_cleanly(void **state)
{
    const char *fv[] = {"id", "abc"};
    size_t len;
    int truncated;

    (void)state;
    assert_null(body_of(fv, 2, 10, &len, &truncated));
}

static es_mirror_msg msg_of(const char *id, size_t len)
{
    es_mirror_msg m;

    memset(&m, 0, sizeof(m));
    strcpy(m.id, id);
    m.body_len = len;
    return m;
}

static void test_batch_take_limits_count_and_bytes(void **state)
{
    es_mirror_msg msgs[12];

    (void)state;
    for (int i = 0; i < 12; i++) {
        msgs[i] = msg_of("1-0", 100);
    }
    assert_int_equal(es_mirror_batch_take(msgs, 12, ES_SQS_MAX_BYTES), 10);
    assert_int_equal(es_mirror_batch_take(msgs, 3, ES_SQS_MAX_BYTES), 3);
    assert_int_equal(es_mirror_batch_take(msgs, 0, ES_SQS_MAX_BYTES), 0);
    msgs[0].body_len = 200000;
    msgs[1].body_len = 62144; /* exactly 256 KB together */
    msgs[2].body_len = 1;
    assert_int_equal(es_mirror_batch_take(msgs, 12, ES_SQS_MAX_BYTES), 2);
    msgs[0].body_len = ES_SQS_MAX_BYTES;
    assert_int_equal(es_mirror_batch_take(msgs, 12, ES_SQS_MAX_BYTES), 1);
}

static void test_request_body_shape(void **state)
{
    es_mirror_msg msgs[2] = {msg_of("1-0", 0), msg_of("2-5", 0)};
    size_t len;
    char *req;
    json_t *o, *e;

    (void)state;
    msgs[0].body = "{\"id\":\"a\"}";
    msgs[0].body_len = strlen(msgs[0].body);
    msgs[1].body = "{\"id\":\"b\"}";
    msgs[1].body_len = strlen(msgs[1].body);
    req = es_sqs_batch_request("http://h/0/q", msgs, 2, &len);
    assert_non_null(req);
    o = json_loads(req, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "QueueUrl")),
                        "http://h/0/q");
    e = json_object_get(o, "Entries");
    assert_int_equal(json_array_size(e), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(e, 1), "Id")), "2-5");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(e, 0), "MessageBody")),
        "{\"id\":\"a\"}");
    json_decref(o);
    free(req);
}

static void test_answer_maps_success_failure_and_md5(void **state)
{
    es_mirror_msg msgs[4] = {msg_of("1-0", 0), msg_of("1-1", 0),
                             msg_of("1-2", 0), msg_of("1-3", 0)};
    es_sqs_entry_result r[4];
    char md5[33], answer[1024];

    (void)state;
    for (int i = 0; i < 4; i++) {
        msgs[i].body = "hello";
        msgs[i].body_len = 5;
    }
    es_sqs_md5_hex("hello", 5, md5);
    assert_string_equal(md5, "5d41402abc4b2a76b9719d911017c592");
    snprintf(answer, sizeof(answer),
             "{\"Successful\":[{\"Id\":\"1-0\",\"MessageId\":\"m0\","
             "\"MD5OfMessageBody\":\"%s\"},{\"Id\":\"1-2\",\"MessageId\":"
             "\"m2\",\"MD5OfMessageBody\":\"00000000000000000000000000000000\""
             "}],\"Failed\":[{\"Id\":\"1-1\",\"SenderFault\":true,\"Code\":"
             "\"InvalidMessageContents\",\"Message\":\"bad chars\"}]}",
             md5);
    assert_int_equal(es_sqs_batch_parse(answer, strlen(answer), msgs, 4, r), 0);
    assert_int_equal(r[0].ok, 1);
    assert_int_equal(r[1].ok, 0);
    assert_int_equal(r[1].sender_fault, 1);
    assert_string_equal(r[1].code, "InvalidMessageContents");
    assert_int_equal(r[2].ok, 0); /* MD5 mismatch is a failure */
    assert_string_equal(r[2].code, "MD5Mismatch");
    assert_int_equal(r[3].ok, 0); /* absent from the answer */
    assert_string_equal(r[3].code, "Missing");
    assert_int_equal(es_sqs_batch_parse("{}", 2, msgs, 4, r), -1);
    assert_int_equal(es_sqs_batch_parse("<xml/>", 6, msgs, 4, r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_is_object_of_string_fields_plus_stream_id),
        cmocka_unit_test(test_body_repairs_invalid_utf8_and_sqs_forbidden),
        cmocka_unit_test(
            test_oversize_entry_is_cut_at_char_boundary_and_marked),
        cmocka_unit_test(test_escape_heavy_entry_still_fits),
        cmocka_unit_test(test_too_small_limit_fails_cleanly),
        cmocka_unit_test(test_batch_take_limits_count_and_bytes),
        cmocka_unit_test(test_request_body_shape),
        cmocka_unit_test(test_answer_maps_success_failure_and_md5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
