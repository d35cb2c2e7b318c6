/*
 * digest_text_test.c - unit tests for workers/summarize/digest_text.c:
 * the digest's subject names the day, volume, negative share and alerts;
 * the text and HTML carry every summary, the day's alerts, the dashboard
 * and unsubscribe links; the HTML escapes what tenants and commenters
 * wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "digest_text.h"

static const es_digest_summary summaries[] = {
    {"All topics", "412 comments, mostly positive.", "local", 412, 349, 78, 190,
     0.21},
    {"Rust <async> & co", "Quote: \"</p><script>x()</script>\"", "bedrock", 100,
     0, 40, 30, -0.1},
};

static const es_digest_alert alerts[] = {
    {"2026-11-24T14:02:11Z", "rust", "negative_share", 0.62, 0.18, 0.05, 41},
    {"2026-11-24T18:30:00Z", "go", "volume", 140, 20, 4.5, 140},
};

static void test_compose(void **state)
{
    es_digest_input in = {"Tuesday 24 November 2026 (UTC)",
                          "https://echo.example/",
                          "https://echo.example/api/v1/unsubscribe?t=a&s=b"
                          "&l=digest&sig=00",
                          summaries,
                          2,
                          alerts,
                          2};
    es_digest_mail m;

    (void)state;
    assert_int_equal(es_digest_compose(&in, &m), 0);
    assert_string_equal(m.subject, "EchoStream digest, Tuesday 24 November "
                                   "2026 (UTC): 412 comments, 19% "
                                   "negative, 2 alerts");
    assert_non_null(strstr(m.text, "== All topics ==\n412 comments (+18% on "
                                   "the day before), 46% positive, 19% "
                                   "negative, mean +0.21."));
    assert_non_null(strstr(m.text, "== Rust <async> & co ==\n100 comments, "
                                   "30% positive"));
    assert_non_null(strstr(m.text, "- 14:02 UTC, rust: negative share 62% "
                                   "(usual 18%), 41 comments"));
    assert_non_null(strstr(m.text, "- 18:30 UTC, go: volume (comments/hour) "
                                   "140/h (usual 20/h), 140 comments"));
    assert_non_null(strstr(m.text, "Open the dashboard: https://echo."
                                   "example/"));
    assert_non_null(strstr(m.text, "Unsubscribe with one click: https://"));
    /* nothing written by a tenant or a commenter is markup in the HTML */
    assert_null(strstr(m.html, "<script>"));
    assert_non_null(strstr(m.html, "Rust &lt;async&gt; &amp; co"));
    assert_non_null(strstr(m.html, "&lt;/p&gt;&lt;script&gt;x()"));
    assert_non_null(strstr(m.html, "<a href=\"https://echo.example/api/v1/"
                                   "unsubscribe?t=a&amp;s=b&amp;l=digest"));
    es_digest_mail_free(&m);
}

static void test_quiet_day(void **state)
{
    es_digest_input in = {"Monday 1 June 2026 (Asia/Tokyo)",
                          "https://echo.example/",
                          NULL,
                          NULL,
                          0,
                          NULL,
                          0};
    es_digest_mail m;

    (void)state;
    assert_int_equal(es_digest_compose(&in, &m), 0);
    assert_string_equal(m.subject,
                        "EchoStream digest, Monday 1 June 2026 (Asia/Tokyo)");
    assert_non_null(strstr(m.text, "No summaries were written"));
    assert_non_null(strstr(m.text, "No alert fired."));
    assert_null(strstr(m.text, "Unsubscribe"));
    es_digest_mail_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compose),
        cmocka_unit_test(test_quiet_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
