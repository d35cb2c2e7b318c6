/*
 * es_mime_test.c - unit tests for workers/common/es_mime.c: the message as
 * a whole (header block, single part or multipart/alternative,
 * List-Unsubscribe, Message-ID, Date) and the quoted-printable bodies,
 * decoded back and compared with the input. Header encoding is in
 * es_mime_hdr_test.c; the integration suite
 * tests/integration/alert/mail_smtp.test.mjs parses real messages with
 * mailparser.
 */
#include "mime_testkit.h"

/* in quoted-printable, checked for line limits, and decoded back */
static char *qp_of(const char *in)
{
    es_mbuf b = {0};
    char *out;

    assert_int_equal(es_mime_qp(&b, in, strlen(in)), 0);
    assert_false(b.oom);
    es_mbuf_put(&b, "\r\n", 2);
    assert_lines_ok(b.p, b.len, 76);
    out = qp_decode(b.p, b.len - 2);
    free(b.p);
    return out;
}

static void test_plain_message_has_exact_headers(void **state)
{
    es_mime_message m = base_message();
    size_t len = 0;
    char *msg;

    (void)state;
    msg = es_mime_build(&m, &len);
    assert_non_null(msg);
    assert_int_equal(len, strlen(msg));
    assert_lines_ok(msg, len, 78);
    assert_non_null(strstr(msg, "Date: Tue, 05 Mar 2024 14:03:00 +0000\r\n"));
    assert_true(strncmp(msg, "Date: ", 6) == 0);
    assert_non_null(
        strstr(msg, "\r\nFrom: EchoStream <alerts@echostream.example>\r\n"));
    assert_non_null(strstr(msg, "\r\nTo: ops@example.com\r\n"));
    assert_non_null(strstr(msg, "\r\nSubject: Alert: volume up\r\n"));
    assert_non_null(
        strstr(msg, "\r\nMessage-ID: <fixed.1@echostream.example>\r\n"));
    assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
    assert_non_null(strstr(msg,
                           "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                           "Hello\r\nworld\r\n"));
    assert_null(strstr(msg, "List-Unsubscribe"));
    assert_null(strstr(msg, "multipart"));
    free(msg);
}

static void test_multipart_alternative_holds_both_parts(void **state)
{
    es_mime_message m = base_message();
    char *msg, *ct, *b, *boundary, *p;
    size_t len;

    (void)state;
    m.html = "<p>Hello <b>world</b></p>";
    msg = es_mime_build(&m, &len);
    assert_non_null(msg);
    assert_lines_ok(msg, len, 78);
    ct = header(msg, "Content-Type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "multipart/alternative;", 22) == 0);
    b = strstr(ct, "boundary=\"");
    assert_non_null(b);
    boundary = strdup(b + 10);
    *strchr(boundary, '"') = '\0';
    assert_true(strncmp(boundary, "=_", 2) == 0);

    p = strstr(msg, "\r\n\r\n");
    assert_non_null(p);
    /* the parts in order: plain first (least preferred), then html */
    p = strstr(p, boundary);
    assert_non_null(p);
    p = strstr(p, "Content-Type: text/plain; charset=utf-8\r\n");
    assert_non_null(p);
    p = strstr(p, "Hello\r\nworld\r\n\r\n--");
    assert_non_null(p);
    p = strstr(p, "Content-Type: text/html; charset=utf-8\r\n");
    assert_non_null(p);
    p = strstr(p, "<p>Hello <b>world</b></p>\r\n--");
    assert_non_null(p);
    p += strlen("<p>Hello <b>world</b></p>\r\n--");
    assert_int_equal(strncmp(p, boundary, strlen(boundary)), 0);
    assert_string_equal(p + strlen(boundary), "--\r\n");
    free(boundary);
    free(ct);
    free(msg);
}

static void test_list_unsubscribe_headers_for_one_click(void **state)
{
    es_mime_message m = base_message();
    char *msg, *v;

    (void)state;
    m.list_unsubscribe_url = "https://es.example/api/v1/unsubscribe?t=acme&"
                             "s=u1&l=alerts&sig=00ff";
    msg = es_mime_build(&m, NULL);
    assert_non_null(msg);
    v = header(msg, "List-Unsubscribe");
    assert_string_equal(v, "<https://es.example/api/v1/unsubscribe?t=acme&"
                           "s=u1&l=alerts&sig=00ff>");
    free(v);
    v = header(msg, "List-Unsubscribe-Post");
    assert_string_equal(v, "List-Unsubscribe=One-Click");
    free(v);
    free(msg);
}

static void test_bare_message_id_gets_the_sender_domain(void **state)
{
    es_mime_message m = base_message();
    size_t len = 0;
    char *msg;

    (void)state;
    m.message_id = "digest-20261124-ab.0.acme";
    msg = es_mime_build(&m, &len);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "\r\nMessage-ID: <digest-20261124-ab.0.acme"
                                "@echostream.example>\r\n"));
    free(msg);
    m.message_id = "two..dots";
    assert_null(es_mime_build(&m, &len));
    m.message_id = "space here";
    assert_null(es_mime_build(&m, &len));
}

static void test_generated_message_id_is_unique_at_sender_domain(void **state)
{
    es_mime_message m = base_message();
    char *a, *b, *ida, *idb;

    (void)state;
    m.message_id = NULL;
    a = es_mime_build(&m, NULL);
    b = es_mime_build(&m, NULL);
    assert_non_null(a);
    assert_non_null(b);
    ida = header(a, "Message-ID");
    idb = header(b, "Message-ID");
    assert_string_not_equal(ida, idb);
    assert_true(ida[0] == '<');
    assert_non_null(strstr(ida, "@echostream.example>"));
    assert_non_null(strstr(ida, "1709647380."));
    free(ida);
    free(idb);
    free(a);
    free(b);
}

static void test_quoted_printable_round_trips(void **state)
{
    static const char *const texts[] = {
        "plain text",
        "a=b == c",
        "trailing space \nand tab\t\nend ",
        ".leading dot\n.\nFrom the start\nFrom here",
        "line one\r\nline two\rline three\n",
        "négatif ↑ 東京 🚨 and a long line that goes on and on and on past "
        "the seventy-six character limit of quoted-printable, twice over, "
        "with 🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨 in it",
        "\x01\x7f control",
        "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char *d = qp_of(texts[i]);
        char want[1024];
        size_t o = 0;
        const char *s = texts[i];

        /* the input with every line break as CRLF */
        for (size_t j = 0; s[j]; j++) {
            if (s[j] == '\r' || s[j] == '\n') {
                want[o++] = '\r';
                want[o++] = '\n';
                if (s[j] == '\r' && s[j + 1] == '\n') {
                    j++;
                }
            } else {
                want[o++] = s[j];
            }
        }
        want[o] = '\0';
        assert_string_equal(d, want);
        free(d);
    }
}

static void test_quoted_printable_escapes_what_transport_breaks(void **state)
{
    es_mbuf b = {0};
    const char *in = "end \n.dot\nFrom x\na=b";

    (void)state;
    assert_int_equal(es_mime_qp(&b, in, strlen(in)), 0);
    assert_string_equal(b.p, "end=20\r\n=2Edot\r\n=46rom x\r\na=3Db");
    free(b.p);
}

static void test_missing_parts_are_refused(void **state)
{
    es_mime_message m;
    char long_subject[ES_MIME_SUBJECT_MAX + 2];
    char long_name[ES_MIME_NAME_MAX + 32];
    char *big, *msg;

    (void)state;
    assert_null(es_mime_build(NULL, NULL));
    m = base_message();
    m.nto = 0;
    assert_null(es_mime_build(&m, NULL));
    m = base_message();
    m.from = NULL;
    assert_null(es_mime_build(&m, NULL));
    m = base_message();
    m.text = NULL;
    assert_null(es_mime_build(&m, NULL));
    m = base_message();
    m.subject = NULL;
    assert_null(es_mime_build(&m, NULL));

    m = base_message();
    memset(long_subject, 'a', sizeof(long_subject) - 1);
    long_subject[sizeof(long_subject) - 1] = '\0';
    m.subject = long_subject;
    assert_null(es_mime_build(&m, NULL));

    m = base_message();
    big = malloc(8 * 1024 * 1024 + 2);
    assert_non_null(big);
    memset(big, 'a', 8 * 1024 * 1024 + 1);
    big[8 * 1024 * 1024 + 1] = '\0';
    m.text = big;
    assert_null(es_mime_build(&m, NULL));
    m.text = "ok";
    m.html = big;
    assert_null(es_mime_build(&m, NULL));
    big[8 * 1024 * 1024] = '\0'; /* exactly at the limit is fine */
    msg = es_mime_build(&m, NULL);
    assert_non_null(msg);
    free(msg);
    free(big);

    m = base_message();
    memset(long_name, 'n', sizeof(long_name));
    strcpy(long_name + ES_MIME_NAME_MAX + 1, " <a@example.com>");
    m.from = long_name;
    assert_null(es_mime_build(&m, NULL));
}

static void test_date_zero_means_now(void **state)
{
    es_mime_message m = base_message();
    char *msg, *v;

    (void)state;
    m.date_s = 0;
    msg = es_mime_build(&m, NULL);
    assert_non_null(msg);
    v = header(msg, "Date");
    assert_null(strstr(v, "1970"));
    assert_true(strlen(v) == strlen("Tue, 05 Mar 2024 14:03:00 +0000"));
    free(v);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_message_has_exact_headers),
        cmocka_unit_test(test_multipart_alternative_holds_both_parts),
        cmocka_unit_test(test_list_unsubscribe_headers_for_one_click),
        cmocka_unit_test(test_generated_message_id_is_unique_at_sender_domain),
        cmocka_unit_test(test_bare_message_id_gets_the_sender_domain),
        cmocka_unit_test(test_quoted_printable_round_trips),
        cmocka_unit_test(test_quoted_printable_escapes_what_transport_breaks),
        cmocka_unit_test(test_missing_parts_are_refused),
        cmocka_unit_test(test_date_zero_means_now),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
