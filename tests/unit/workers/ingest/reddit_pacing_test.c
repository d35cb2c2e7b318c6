/*
 * reddit_pacing_test.c - unit tests for workers/ingest/reddit_pacing.c and
 * the token answer parser of reddit_auth.c: the rules that decide how fast
 * the worker talks to Reddit, checked without a clock or a network.
 */
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

static void test_budget_flags_subs_that_overflow_the_listing(void **state)
{
    double rate[3] = {0.1, 1, 40};
    double iv[3] = {120, 50, 2};
    int behind[3];
    double req;
    size_t n;

    (void)state;
    assert_true(es_sub_qpm(0.1, 120) == 0.5);
    assert_true(es_sub_qpm(40, 2) == 30);  /* one poll = 1 page of 80 */
    assert_true(es_sub_qpm(100, 2) == 60); /* two pages per poll */
    n = es_budget_eval(rate, iv, 3, 100, &req, behind);
    assert_int_equal(n, 0);
    assert_true(req > 31.6 && req < 31.8);
    /* with a budget of 2 qpm every interval stretches ~15.9x */
    n = es_budget_eval(rate, iv, 3, 2, &req, behind);
    assert_int_equal(n, 1);
    assert_int_equal(behind[0], 0);
    assert_int_equal(behind[1], 0);
    assert_int_equal(behind[2], 1);
    /* a sub beyond the listing cap even at its shortest interval */
    rate[0] = 600;
    iv[0] = 2;
    n = es_budget_eval(rate, iv, 1, 1e6, &req, behind);
    assert_int_equal(n, 1);
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
        cmocka_unit_test(test_ratelimit_spreads_remaining_over_reset),
        cmocka_unit_test(test_interval_targets_fifty_comments_per_poll),
        cmocka_unit_test(test_rate_is_an_ewma_of_observations),
        cmocka_unit_test(test_budget_flags_subs_that_overflow_the_listing),
        cmocka_unit_test(test_user_agent_form_is_checked),
        cmocka_unit_test(test_token_answer_is_parsed_strictly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
