/*
 * event_test.c - unit tests for workers/alert/event.c and message.c: the
 * 280-character cut on a character boundary, the choice of samples, the
 * event's members and figures, and the mail and webhook bodies written
 * from it (figures, samples, links, HTML escaping, a subject on one line).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "es_utf8.h"
#include "event.h"
#include "message.h"

/* characters (code points) of valid UTF-8 s */
static size_t chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        n += ((unsigned char)*s & 0xc0) != 0x80;
    }
    return n;
}

static void test_cut_keeps_short_text_and_cuts_on_a_character(void **state)
{
    char buf[1200];
    char *c;

    (void)state;
    c = es_alert_cut_chars("short", 5, 280);
    assert_string_equal(c, "short");
    free(c);

    /* exactly 280 characters of two bytes each: kept whole */
    buf[0] = '\0';
    for (int i = 0; i < 280; i++) {
        strcat(buf, "\xc3\xa9");
    }
    c = es_alert_cut_chars(buf, strlen(buf), 280);
    assert_string_equal(c, buf);
    free(c);

    /* 281: 279 of them and an ellipsis, 280 characters, valid UTF-8 */
    strcat(buf, "\xc3\xa9");
    c = es_alert_cut_chars(buf, strlen(buf), 280);
    assert_int_equal(chars(c), 280);
    assert_true(es_utf8_valid(c, strlen(c)));
    assert_int_equal(strlen(c), 279 * 2 + 3);
    assert_memory_equal(c + 279 * 2, "\xe2\x80\xa6", 3);
    free(c);

    /* four-byte characters around the cut */
    buf[0] = '\0';
    for (int i = 0; i < 300; i++) {
        strcat(buf, i % 2 ? "a" : "\xf0\x9f\x98\x80");
    }
    c = es_alert_cut_chars(buf, strlen(buf), 280);
    assert_int_equal(chars(c), 280);
    assert_true(es_utf8_valid(c, strlen(c)));
    free(c);
}

static const char *rec(char *buf, const char *id, double compound,
                       const char *body)
{
    sprintf(buf,
            "{\"id\":\"%s\",\"label\":\"negative\",\"compound\":%g,"
            "\"author\":\"al\",\"subreddit\":\"rust\",\"body\":\"%s\","
            "\"permalink\":\"/r/rust/comments/p/x/%s/\"}",
            id, compound, body, id);
    return buf;
}

static void test_samples_pick_the_most_negative_or_the_newest(void **state)
{
    char b[8][256];
    const char *recs[9];
    size_t lens[9];
    json_t *s;

    (void)state;
    recs[0] = rec(b[0], "a1", -0.1, "one");
    recs[1] = "{\"deleted\":true}";
    recs[2] = rec(b[1], "a2", -0.9, "two");
    recs[3] = NULL;
    recs[4] = rec(b[2], "a3", -0.5, "three");
    recs[5] = rec(b[3], "a4", -0.9, "four");
    recs[6] = rec(b[4], "a5", 0.2, "five");
    recs[7] = rec(b[5], "a6", -0.3, "six");
    recs[8] = "not json";
    for (int i = 0; i < 9; i++) {
        lens[i] = recs[i] ? strlen(recs[i]) : 0;
    }
    s = es_alert_samples(ES_METRIC_NEGATIVE_SHARE, recs, lens, 9);
    assert_int_equal(json_array_size(s), 5);
    /* lowest compound first; the newer of two equals first */
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(s, 0), "id")), "a2");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(s, 1), "id")), "a4");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(s, 2), "id")), "a3");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(s, 0), "link")),
        "https://www.reddit.com/r/rust/comments/p/x/a2/");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(s, 0), "body")),
        "two");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(s, 0), "author")),
        "al");
    json_decref(s);

    s = es_alert_samples(ES_METRIC_VOLUME, recs, lens, 9);
    assert_int_equal(json_array_size(s), 5);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(s, 0), "id")), "a1");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(s, 4), "id")), "a5");
    json_decref(s);

    s = es_alert_samples(ES_METRIC_VOLUME, recs, lens, 0);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
}

static json_t *an_event(void)
{
    es_alert_rule r;
    es_spike_eval e;
    es_spike_span sp;
    char err[256], b[256];
    const char *recs[1];
    size_t lens[1];
    json_t *ev;
    const char *text = "{\"topic\":\"rust\",\"sensitivity\":3}";

    assert_int_equal(
        es_alert_rule_parse("r1", text, strlen(text), &r, err, sizeof(err)), 0);
    memset(&e, 0, sizeof(e));
    e.observed = 0.623456;
    e.volume = 143;
    e.mean = 0.18;
    e.sigma = 0.05;
    e.stddev = 0.01;
    e.hours = 168;
    e.threshold = 0.33;
    es_spike_span_at(1795530920000LL, 60, &sp);
    recs[0] = rec(b, "k1", -0.62, "It <b>broke</b> & \\\"died\\\"");
    lens[0] = strlen(recs[0]);
    ev = es_alert_event(
        &r, &e, &sp, 1795530920000LL,
        es_alert_samples(ES_METRIC_NEGATIVE_SHARE, recs, lens, 1));
    es_alert_rule_free(&r);
    return ev;
}

static void test_event_has_the_contract_members(void **state)
{
    json_t *ev = an_event();
    json_t *base;
    char *text;

    (void)state;
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "rule")), "r1");
    assert_string_equal(json_string_value(json_object_get(ev, "topic")),
                        "rust");
    assert_string_equal(json_string_value(json_object_get(ev, "metric")),
                        "negative_share");
    assert_string_equal(json_string_value(json_object_get(ev, "fired")),
                        "2026-11-24T14:35:20Z");
    assert_int_equal(json_integer_value(json_object_get(ev, "window_minutes")),
                     60);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ev, "window"), "from")),
                        "2026-11-24T13:36:00Z");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ev, "window"), "to")),
        "2026-11-24T14:35:20Z");
    assert_true(json_real_value(json_object_get(ev, "observed")) == 0.6235);
    base = json_object_get(ev, "baseline");
    assert_true(json_real_value(json_object_get(base, "mean")) == 0.18);
    /* the sigma used, after the floor */
    assert_true(json_real_value(json_object_get(base, "stddev")) == 0.05);
    assert_int_equal(json_integer_value(json_object_get(base, "hours")), 168);
    assert_true(json_real_value(json_object_get(ev, "threshold")) == 0.33);
    assert_int_equal(json_integer_value(json_object_get(ev, "volume")), 143);
    assert_int_equal(json_array_size(json_object_get(ev, "samples")), 1);
    assert_null(json_object_get(ev, "id"));
    text = json_dumps(ev, ES_ALERT_JSON_FLAGS);
    assert_non_null(strstr(text, "\"observed\":0.6235,"));
    assert_non_null(strstr(text, "\"mean\":0.18,"));
    free(text);
    json_decref(ev);
}

static void test_mail_says_what_happened(void **state)
{
    json_t *ev = an_event();
    es_alert_message m;

    (void)state;
    json_object_set_new(ev, "id", json_string("1795530920000-0"));
    assert_int_equal(es_alert_message_build(ev, "Rust\r\nBcc: x@evil",
                                            "http://dash.example/",
                                            "http://dash.example/api/v1/"
                                            "unsubscribe?t=a&s=u&l=alerts&"
                                            "sig=00",
                                            &m),
                     0);
    assert_string_equal(m.subject,
                        "[EchoStream] Negative spike on Rust  Bcc: x@evil: "
                        "62% negative (usual 18%)");
    assert_null(strchr(m.subject, '\n'));
    assert_non_null(strstr(m.text, "Observed: 62% over the last 60 minutes "
                                   "(143 comments)"));
    assert_non_null(strstr(m.text, "Usual: 18%"));
    assert_non_null(strstr(m.text, "Alert threshold: 33%"));
    assert_non_null(strstr(m.text, "2026-11-24T13:36:00Z to "
                                   "2026-11-24T14:35:20Z"));
    assert_non_null(
        strstr(m.text, "https://www.reddit.com/r/rust/comments/p/x/k1/"));
    assert_non_null(strstr(m.text, "Open the dashboard: http://dash.example/"));
    assert_non_null(strstr(m.text, "Stop alert e-mails: "));
    assert_non_null(strstr(m.text, "It <b>broke</b>"));
    /* comment text is escaped in HTML, the link kept */
    assert_null(strstr(m.html, "<b>broke"));
    assert_non_null(strstr(m.html, "It &lt;b&gt;broke&lt;/b&gt; &amp; "
                                   "&quot;died&quot;"));
    assert_non_null(strstr(m.html, "href=\"https://www.reddit.com/r/rust/"));
    assert_non_null(strstr(m.html, "&amp;l=alerts&amp;sig=00"));
    es_alert_message_free(&m);

    /* volume and mean compound headlines */
    json_object_set_new(ev, "metric", json_string("volume"));
    json_object_set_new(ev, "observed", json_real(240.4));
    json_object_set_new(json_object_get(ev, "baseline"), "mean",
                        json_real(35.2));
    assert_int_equal(es_alert_message_build(ev, "Rust", "http://d/", NULL, &m),
                     0);
    assert_string_equal(m.subject, "[EchoStream] Volume spike on Rust: 240 "
                                   "comments/hour (usual 35)");
    assert_null(strstr(m.text, "Stop alert e-mails"));
    es_alert_message_free(&m);
    json_object_set_new(ev, "metric", json_string("mean_compound"));
    json_object_set_new(ev, "observed", json_real(-0.4213));
    json_object_set_new(json_object_get(ev, "baseline"), "mean",
                        json_real(0.12));
    assert_int_equal(es_alert_message_build(ev, "Rust", "http://d/", NULL, &m),
                     0);
    assert_string_equal(m.subject, "[EchoStream] Sentiment drop on Rust: mean "
                                   "compound -0.42 (usual 0.12)");
    es_alert_message_free(&m);
    json_decref(ev);
}

static void test_webhook_body_is_a_slack_card_with_the_event(void **state)
{
    json_t *ev = an_event(), *o, *data;
    size_t len;
    char *body;

    (void)state;
    json_object_set_new(ev, "id", json_string("1795530920000-0"));
    body = es_alert_webhook_body(ev, "Rust async", "https://dash.example/",
                                 "1795530920000-0:webhook", &len);
    assert_non_null(body);
    assert_int_equal(len, strlen(body));
    o = json_loads(body, 0, NULL);
    assert_non_null(o);
    assert_non_null(strstr(json_string_value(json_object_get(o, "text")),
                           "Negative spike on Rust async: 62% negative "
                           "(usual 18%)"));
    assert_true(json_is_array(json_object_get(o, "blocks")));
    data = json_object_get(o, "echostream");
    assert_string_equal(json_string_value(json_object_get(data, "delivery")),
                        "1795530920000-0:webhook");
    assert_string_equal(json_string_value(json_object_get(data, "id")),
                        "1795530920000-0");
    assert_string_equal(json_string_value(json_object_get(data, "rule")), "r1");
    json_decref(o);
    free(body);
    json_decref(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_keeps_short_text_and_cuts_on_a_character),
        cmocka_unit_test(test_samples_pick_the_most_negative_or_the_newest),
        cmocka_unit_test(test_event_has_the_contract_members),
        cmocka_unit_test(test_mail_says_what_happened),
        cmocka_unit_test(test_webhook_body_is_a_slack_card_with_the_event),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
