/*
 * es_backoff_test.c - unit tests for workers/common/es_backoff.c.
 *
 * Jitter is random, so the tests check its bounds over many draws and that
 * the draws spread over the range (the chance of a correct implementation
 * failing those spread checks is below 2^-100). The retry budget is exact
 * arithmetic and is checked step by step.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "es_backoff.h"

#define DRAWS 2000

static long long min_ll(long long a, long long b)
{
    return a < b ? a : b;
}

static void test_jitter_stays_within_exponential_ceiling(void **state)
{
    es_backoff b;

    (void)state;
    es_backoff_init(&b, 100, 30000);
    for (int n = 0; n < 20; n++) {
        long long ceiling = min_ll(30000, 100LL << n);
        long long lo = LLONG_MAX, hi = -1;

        /* draw many times at the same attempt count */
        for (int i = 0; i < DRAWS; i++) {
            es_backoff probe = b;
            long long d = es_backoff_next(&probe);
            assert_true(d >= 0);
            assert_true(d <= ceiling);
            lo = min_ll(lo, d);
            hi = d > hi ? d : hi;
        }
        /* full jitter: the draws cover the whole range, not just the top */
        assert_true(lo <= ceiling / 4);
        assert_true(hi >= ceiling / 2);
        es_backoff_next(&b);
        assert_int_equal(b.attempt, n + 1);
    }
}

static void test_jitter_is_capped_after_many_failures(void **state)
{
    es_backoff b;

    (void)state;
    es_backoff_init(&b, 250, 5000);
    for (int i = 0; i < 1000; i++) {
        long long d = es_backoff_next(&b);
        assert_true(d >= 0 && d <= 5000);
    }
}

static void test_reset_starts_again_from_base(void **state)
{
    es_backoff b;

    (void)state;
    es_backoff_init(&b, 10, 100000);
    for (int i = 0; i < 12; i++) {
        es_backoff_next(&b);
    }
    es_backoff_reset(&b);
    assert_int_equal(b.attempt, 0);
    for (int i = 0; i < DRAWS; i++) {
        es_backoff probe = b;
        long long d = es_backoff_next(&probe);
        assert_true(d >= 0 && d <= 10);
    }
}

static void test_huge_cap_does_not_overflow(void **state)
{
    es_backoff b;

    (void)state;
    es_backoff_init(&b, 3, LLONG_MAX);
    for (int i = 0; i < 200; i++) {
        long long d = es_backoff_next(&b);
        assert_true(d >= 0);
    }
    es_backoff_init(&b, LLONG_MAX / 2 + 1, LLONG_MAX);
    for (int i = 0; i < 10; i++) {
        assert_true(es_backoff_next(&b) >= 0);
    }
}

static void test_zero_base_never_waits(void **state)
{
    es_backoff b;

    (void)state;
    es_backoff_init(&b, 0, 1000);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(es_backoff_next(&b), 0);
    }
}

static void test_rand_ms_bounds(void **state)
{
    int seen[4] = {0};

    (void)state;
    assert_int_equal(es_rand_ms(0), 0);
    assert_int_equal(es_rand_ms(-5), 0);
    assert_int_equal(es_rand_ms(LLONG_MIN), 0);
    for (int i = 0; i < DRAWS; i++) {
        long long d = es_rand_ms(3);
        assert_true(d >= 0 && d <= 3);
        seen[d]++;
    }
    /* both ends of the closed range are reachable */
    for (int i = 0; i < 4; i++) {
        assert_true(seen[i] > 0);
    }
    for (int i = 0; i < 100; i++) {
        assert_true(es_rand_ms(LLONG_MAX) >= 0);
    }
}

static void test_budget_allows_retries_until_spent(void **state)
{
    es_retry_budget rb;

    (void)state;
    es_retry_budget_init(&rb, 20, 5, 1);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(es_retry_budget_take(&rb), 1);
    }
    assert_true(rb.tokens == 0);
    assert_int_equal(es_retry_budget_take(&rb), 0);
    /* a refused retry costs nothing */
    assert_true(rb.tokens == 0);
}

static void test_budget_success_refunds_tokens(void **state)
{
    es_retry_budget rb;

    (void)state;
    es_retry_budget_init(&rb, 20, 5, 1);
    for (int i = 0; i < 4; i++) {
        es_retry_budget_take(&rb);
    }
    for (int i = 0; i < 4; i++) {
        es_retry_budget_success(&rb);
        assert_int_equal(es_retry_budget_take(&rb), 0);
    }
    es_retry_budget_success(&rb);
    assert_true(rb.tokens == 5);
    assert_int_equal(es_retry_budget_take(&rb), 1);
    assert_int_equal(es_retry_budget_take(&rb), 0);
}

static void test_budget_refund_is_capped_at_max(void **state)
{
    es_retry_budget rb;

    (void)state;
    es_retry_budget_init(&rb, 20, 5, 1);
    for (int i = 0; i < 100; i++) {
        es_retry_budget_success(&rb);
    }
    assert_true(rb.tokens == 20);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(es_retry_budget_take(&rb), 1);
    }
    assert_int_equal(es_retry_budget_take(&rb), 0);
}

static void test_budget_with_fractional_costs(void **state)
{
    es_retry_budget rb;
    int taken = 0;

    (void)state;
    es_retry_budget_init(&rb, 1, 0.25, 0.5);
    while (es_retry_budget_take(&rb)) {
        taken++;
        assert_true(taken <= 4);
    }
    assert_int_equal(taken, 4);
    es_retry_budget_success(&rb);
    assert_true(rb.tokens == 0.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jitter_stays_within_exponential_ceiling),
        cmocka_unit_test(test_jitter_is_capped_after_many_failures),
        cmocka_unit_test(test_reset_starts_again_from_base),
        cmocka_unit_test(test_huge_cap_does_not_overflow),
        cmocka_unit_test(test_zero_base_never_waits),
        cmocka_unit_test(test_rand_ms_bounds),
        cmocka_unit_test(test_budget_allows_retries_until_spent),
        cmocka_unit_test(test_budget_success_refunds_tokens),
        cmocka_unit_test(test_budget_refund_is_capped_at_max),
        cmocka_unit_test(test_budget_with_fractional_costs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
