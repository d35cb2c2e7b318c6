/*
 * reddit_pacing_test.c - unit tests for workers/ingest/reddit_pacing.c and
 * the token answer parser of reddit_auth.c: the rules that decide how fast
 * the worker talks to Reddit, checked without a clock or a network.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reddit_auth.h"
#include "reddit_pacing.h"

static void test_bucket_allows_burst_then_steady_rate(void **state)
{
    es_bucket b;

    (void)state;
    es_bucket_init(&b, 60, 3, 1000); /* one per second, burst of 3 */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(es_bucket_wait_ms(&b, 1000), 0);
        es_bucket_take(&b, 1000);
    }
    assert_int_equal(es_bucket_wait_ms(&b, 1000), 1000);
    assert_int_equal(es_bucket_wait_ms(&b, 1600), 400);
    assert_int_equal(es_bucket_wait_ms(&b, 2000), 0);
    es_bucket_take(&b, 2000);
    assert_int_equal(es_bucket_wait_ms(&b, 2000), 1000);
}

static void test_bucket_never_exceeds_qpm_over_a_minute(void **state)
{
    es_bucket b;
    long long now = 0;
    int sent = 0;

    (void)state;
    es_bucket_init(&b, 100, 10, 0);
    while (now < 60000) {
        long long w = es_bucket_wait_ms(&b, now);
        if (w > 0) {
            now += w;
            continue;
        }
        es_bucket_take(&b, now);
        sent++;
    }
    /* the burst plus one minute's refill, never more */
    assert_true(sent <= 110);
    assert_true(sent >= 100);
}

static void test_bucket_is_capped_after_idle(void **state)
{
    es_bucket b;

    (void)state;
    es_bucket_init(&b, 60, 2, 0);
    es_bucket_take(&b, 0);
    es_bucket_take(&b, 0);
    /* an hour idle refills only to the capacity */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(es_bucket_wait_ms(&b, 3600000), 0);
        es_bucket_take(&b, 3600000);
    }
    assert_true(es_bucket_wait_ms(&b, 3600000) > 0);
}

static void test_window_holds_at_most_qpm_in_any_span(void **state)
{
    es_window w;
    es_bucket b;
    long long now = 0, sends[600];
    int sent = 0;

    (void)state;
    assert_int_equal(es_window_init(&w, 100, 60000), 0);
    /* with the bucket's burst on top, over five minutes of pressure */
    es_bucket_init(&b, 100, 10, 0);
    while (now < 300000 && sent < 600) {
        long long wait = es_bucket_wait_ms(&b, now);
        long long ww = es_window_wait_ms(&w, now);
        if (ww > wait) {
            wait = ww;
        }
        if (wait > 0) {
            now += wait;
            continue;
        }
        es_bucket_take(&b, now);
        es_window_take(&w, now);
        sends[sent++] = now;
    }
    /* no span of a minute holds more than 100: the bucket alone lets 110
       into the first one */
    for (int i = 0; i + 100 < sent; i++) {
        assert_true(sends[i + 100] - sends[i] >= 60000);
    }
    /* and the budget is spent: about 100 a minute */
    assert_true(sent >= 480 && sent <= 500);
    es_window_free(&w);
}

static void test_window_edges(void **state)
{
    es_window w;

    (void)state;
    /* below one a minute: still one */
    assert_int_equal(es_window_init(&w, 0.5, 60000), 0);
    assert_int_equal(es_window_wait_ms(&w, 0), 0);
    es_window_take(&w, 5);
    assert_int_equal(es_window_wait_ms(&w, 5), 60000);
    assert_int_equal(es_window_wait_ms(&w, 60005), 0);
    es_window_take(&w, 60005);
    assert_int_equal(es_window_wait_ms(&w, 60005), 60000);
    es_window_free(&w);
    /* a budget too large to track is left to the bucket */
    assert_int_equal(es_window_init(&w, 1e6, 60000), 0);
    for (int i = 0; i < 100; i++) {
        es_window_take(&w, 0);
    }
    assert_int_equal(es_window_wait_ms(&w, 0), 0);
    es_window_free(&w);
}

static void test_cycle_spends_the_budget(void **state)
{
    (void)state;
    /* 60 units, nothing to page: each once every 36 s at 100 a minute */
    assert_true(fabs(es_cycle_s(60, 0, 100, 2) - 36) < 1e-9);
    /* 5 units: 3 s; 2 units: the floor of 2 s */
    assert_true(fabs(es_cycle_s(5, 0, 100, 2) - 3) < 1e-9);
    assert_true(es_cycle_s(2, 0, 100, 2) == 2);
    /* comments take pages: 50/s need half the budget, the cycle doubles */
    assert_true(fabs(es_cycle_s(5, 50 * 100.0 / 60.0, 100, 0) - 6) < 1e-9);
    /* more pages than the budget holds: no cycle keeps up */
    assert_true(es_cycle_s(1, 200, 100, 2) == HUGE_VAL);
    assert_true(es_cycle_s(1, 0, 0, 2) == HUGE_VAL);
    assert_true(es_cycle_s(0, 0, 100, 2) == 2);
}

static void test_urgency_weighs_the_wait_by_the_fill(void **state)
{
    (void)state;
    /* quiet: the wait over the cycle */
    assert_true(fabs(es_poll_urgency(3, 0.01, 6) - 0.5) < 1e-9);
    assert_true(fabs(es_poll_urgency(12, 0, 6) - 2) < 1e-9);
    /* 30/s gathers three pages in 10 s: overdue after 10 s, whatever
       the cycle */
    assert_true(fabs(es_poll_urgency(5, 30, 36) - 0.5) < 1e-9);
    assert_true(es_poll_urgency(11, 30, 36) > es_poll_urgency(30, 0.01, 36));
    /* within the cycle, busy and quiet are equals (round robin) */
    assert_true(fabs(es_poll_urgency(2, 30, 3) - es_poll_urgency(2, 0.1, 3)) <
                1e-9);
    /* no cycle keeps up: a minute */
    assert_true(fabs(es_poll_urgency(30, 0, HUGE_VAL) - 0.5) < 1e-9);
}

static void test_ratelimit_spreads_remaining_over_reset(void **state)
{
    (void)state;
    assert_int_equal(es_ratelimit_delay_ms(600, 300), 500);
    assert_int_equal(es_ratelimit_delay_ms(100, 100), 1000);
    /* one left or none: wait for the window to reset */
    assert_int_equal(es_ratelimit_delay_ms(1, 42), 42000);
    assert_int_equal(es_ratelimit_delay_ms(0, 7), 7000);
    assert_int_equal(es_ratelimit_delay_ms(0, 0), 0);
    assert_int_equal(es_ratelimit_delay_ms(-3, 0.5), 500);
    /* a nonsense reset is capped */
    assert_int_equal(es_ratelimit_delay_ms(0, 1e9), 3600000);
}

static void test_interval_targets_fifty_comments_per_poll(void **state)
{
    (void)state;
    assert_true(es_poll_interval(10, 1, 2, 120) == 5);
    assert_true(es_poll_interval(1, 1, 2, 120) == 50);
    /* clamped */
    assert_true(es_poll_interval(1000, 1, 2, 120) == 2);
    assert_true(es_poll_interval(0.001, 1, 2, 120) == 120);
    assert_true(es_poll_interval(0, 1, 2, 120) == 120);
    /* several pages: the estimate lags, poll sooner */
    assert_true(es_poll_interval(1, 2, 2, 120) == 25);
}

static void test_rate_is_an_ewma_of_observations(void **state)
{
    double r;

    (void)state;
    assert_true(es_rate_update(0, 0, 50, 10) == 5);
    r = es_rate_update(5, 1, 0, 10);
    assert_true(r > 3.49 && r < 3.51);
    /* no time elapsed: nothing learned */
    assert_true(es_rate_update(4, 1, 9, 0) == 4);
    assert_true(es_rate_from_span(11, 100, 110) == 1);
    assert_true(es_rate_from_span(1, 100, 110) < 0);
    assert_true(es_rate_from_span(5, 100, 100) < 0);
}

static void test_sub_qpm_counts_pages(void **state)
{
    (void)state;
    assert_true(es_sub_qpm(0.1, 120) == 0.5);
    assert_true(es_sub_qpm(40, 2) == 30);  /* one poll = 1 page of 80 */
    assert_true(es_sub_qpm(100, 2) == 60); /* two pages per poll */
    assert_true(es_sub_qpm(5, 0) == 0);
}

static void test_user_agent_form_is_checked(void **state)
{
    (void)state;
    assert_true(es_user_agent_valid("linux:echostream:0.1.0 (by /u/someone)"));
    assert_true(es_user_agent_valid("web:com.example.app:v2.3 (by /u/a_b-c)"));
    assert_false(es_user_agent_valid("curl/8.0"));
    assert_false(es_user_agent_valid("linux:echostream:0.1.0"));
    assert_false(es_user_agent_valid("linux:echostream:0.1.0 (by /u/)"));
    assert_false(es_user_agent_valid("linux::0.1 (by /u/x)"));
    assert_false(es_user_agent_valid("linux:a:b (by /u/x) extra"));
    assert_false(es_user_agent_valid(""));
}

static int tparse(const char *body, char *tok, long long *exp)
{
    char err[200];
    return es_reddit_token_parse(body, strlen(body), tok, 64, exp, err,
                                 sizeof(err));
}

static void test_token_answer_is_parsed_strictly(void **state)
{
    char tok[64];
    long long exp = 0;

    (void)state;
    assert_int_equal(tparse("{\"access_token\": \"abc-123\", \"token_type\": "
                            "\"bearer\", \"expires_in\": 86400, "
                            "\"scope\": \"*\"}",
                            tok, &exp),
                     0);
    assert_string_equal(tok, "abc-123");
    assert_int_equal(exp, 86400);
    assert_int_equal(tparse("{\"error\": \"invalid_grant\"}", tok, &exp), -1);
    assert_int_equal(tparse("{\"access_token\": \"x\", \"token_type\": "
                            "\"mac\", \"expires_in\": 10}",
                            tok, &exp),
                     -1);
    assert_int_equal(tparse("{\"access_token\": \"x\"}", tok, &exp), -1);
    assert_int_equal(
        tparse("{\"access_token\": \"\", \"expires_in\": 5}", tok, &exp), -1);
    assert_int_equal(tparse("<html>", tok, &exp), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_allows_burst_then_steady_rate),
        cmocka_unit_test(test_bucket_never_exceeds_qpm_over_a_minute),
        cmocka_unit_test(test_bucket_is_capped_after_idle),
        cmocka_unit_test(test_window_holds_at_most_qpm_in_any_span),
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_cycle_spends_the_budget),
        cmocka_unit_test(test_urgency_weighs_the_wait_by_the_fill),
        cmocka_unit_test(test_ratelimit_spreads_remaining_over_reset),
        cmocka_unit_test(test_interval_targets_fifty_comments_per_poll),
        cmocka_unit_test(test_rate_is_an_ewma_of_observations),
        cmocka_unit_test(test_sub_qpm_counts_pages),
        cmocka_unit_test(test_user_agent_form_is_checked),
        cmocka_unit_test(test_token_answer_is_parsed_strictly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
