/*
 * es_smtp_test.c - unit tests for workers/common/es_smtp.c: the TLS
 * policy (which hosts count as loopback, read as libcurl reads the URL),
 * the sorting of failures into retry and give-up, and the refusals that
 * happen before any connection. Sessions with a real SMTP server are in
 * tests/integration/alert/mail_smtp.test.mjs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "es_smtp.h"

static void test_loopback_hosts(void **state)
{
    static const struct {
        const char *url;
        int loopback;
    } cases[] = {
        {"smtp://localhost", 1},
        {"smtp://LocalHost:2525", 1},
        {"smtp://127.0.0.1:1025", 1},
        {"smtps://127.1.2.3:465", 1},
        {"smtp://127.1", 1},      /* libcurl reads it as 127.0.0.1 */
        {"smtp://2130706433", 1}, /* and this */
        {"smtp://[::1]:25", 1},
        {"smtp://mail.example.com:587", 0},
        {"smtp://email-smtp.us-east-1.amazonaws.com:587", 0},
        {"smtp://192.0.2.2:25", 0},
        {"smtp://10.0.0.5", 0},
        {"smtp://[::ffff:127.0.0.1]", 0}, /* not said plainly: TLS applies */
        {"smtp://localhost.example.com", 0},
        {"smtp://127.0.0.1.example.com", 0},
        {"smtp://128.0.0.1", 0},
        {"not a url", 0},
        {NULL, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (es_smtp_url_is_loopback(cases[i].url) != cases[i].loopback) {
            fail_msg("%s: want %d", cases[i].url ? cases[i].url : "NULL",
                     cases[i].loopback);
        }
    }
}

static void test_tls_mandatory_only_off_loopback_and_when_required(void **state)
{
    (void)state;
    assert_int_equal(es_smtp_tls_mandatory("smtp://mail.example.com:587", 1),
                     1);
    assert_int_equal(es_smtp_tls_mandatory("smtp://192.0.2.2:25", 1), 1);
    assert_int_equal(es_smtp_tls_mandatory("smtp://127.0.0.1:1025", 1), 0);
    assert_int_equal(es_smtp_tls_mandatory("smtp://localhost:1025", 1), 0);
    assert_int_equal(es_smtp_tls_mandatory("smtp://[::1]:1025", 1), 0);
    assert_int_equal(es_smtp_tls_mandatory("smtp://mail.example.com:587", 0),
                     0);
}

static void test_outcomes(void **state)
{
    static const struct {
        int code;
        long reply;
        int outcome;
    } cases[] = {
        {CURLE_OK, 250, 0},
        {CURLE_SEND_ERROR, 550, -1},        /* RCPT refused */
        {CURLE_RECV_ERROR, 554, -1},        /* transaction failed */
        {CURLE_LOGIN_DENIED, 535, -1},      /* bad credentials */
        {CURLE_SEND_ERROR, 451, 1},         /* try again later */
        {CURLE_LOGIN_DENIED, 454, 1},       /* temporary auth failure */
        {CURLE_WEIRD_SERVER_REPLY, 421, 1}, /* service closing */
        {CURLE_COULDNT_CONNECT, 0, 1},
        {CURLE_COULDNT_RESOLVE_HOST, 0, 1},
        {CURLE_OPERATION_TIMEDOUT, 220, 1},
        {CURLE_GOT_NOTHING, 0, 1},
        {CURLE_RECV_ERROR, 250, 1}, /* dropped after a good reply */
        {CURLE_USE_SSL_FAILED, 250, -1},
        {CURLE_PEER_FAILED_VERIFICATION, 0, -1},
        {CURLE_SSL_CACERT_BADFILE, 0, -1},
        {CURLE_URL_MALFORMAT, 0, -1},
        {CURLE_UNSUPPORTED_PROTOCOL, 0, -1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (es_smtp_outcome(cases[i].code, cases[i].reply) !=
            cases[i].outcome) {
            fail_msg("curl %d reply %ld: want %d", cases[i].code,
                     cases[i].reply, cases[i].outcome);
        }
    }
}

static void test_bad_input_is_permanent_without_connecting(void **state)
{
    const char *to[] = {"ops@example.com"};
    const char *bad_to[] = {"ops@example.com", "x@y.z\r\nRCPT TO:<v@w.x>"};
    es_smtp_config cfg = {"smtp://127.0.0.1:1", NULL, NULL, 1, NULL, 2000};
    es_smtp_config http = {"http://127.0.0.1:1", NULL, NULL, 1, NULL, 2000};
    char err[200];

    (void)state;
    assert_int_equal(
        es_smtp_send(NULL, "a@b.c", to, 1, "x", 1, err, sizeof(err)), -1);
    assert_int_equal(
        es_smtp_send(&http, "a@b.c", to, 1, "x", 1, err, sizeof(err)), -1);
    assert_int_equal(
        es_smtp_send(&cfg, "a@b.c", to, 0, "x", 1, err, sizeof(err)), -1);
    assert_int_equal(
        es_smtp_send(&cfg, "a@b.c", bad_to, 2, "x", 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "recipient 1"));
    assert_int_equal(
        es_smtp_send(&cfg, "Evil\r\n <a@b.c>", to, 1, "x", 1, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "sender"));
}

static void test_refused_connection_is_retryable(void **state)
{
    const char *to[] = {"Ops <ops@example.com>"};
    es_smtp_config cfg = {
        "smtp://127.0.0.1:1", "user", "hunter2-secret", 1, NULL, 2000};
    char err[200];

    (void)state;
    assert_int_equal(es_smtp_send(&cfg, "EchoStream <es@localhost>", to, 1,
                                  "x\r\n", 3, err, sizeof(err)),
                     1);
    assert_true(strncmp(err, "smtp: ", 6) == 0);
    assert_null(strstr(err, "hunter2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_hosts),
        cmocka_unit_test(
            test_tls_mandatory_only_off_loopback_and_when_required),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_bad_input_is_permanent_without_connecting),
        cmocka_unit_test(test_refused_connection_is_retryable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
