/*
 * poll_plan_test.c - unit tests for workers/ingest/poll_plan.c: which
 * subreddits share a listing and what cycle the plan gives, from rates
 * alone.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "poll_plan.h"
#include "reddit_pacing.h"

#define N 60

/* Members of each group, and checks every group has 2..ES_GROUP_MAX. */
static void group_sizes(const int *group_of, size_t n, size_t ng, size_t *sizes)
{
    memset(sizes, 0, ng * sizeof(*sizes));
    for (size_t i = 0; i < n; i++) {
        if (group_of[i] >= 0) {
            assert_true((size_t)group_of[i] < ng);
            sizes[group_of[i]]++;
        }
    }
    for (size_t g = 0; g < ng; g++) {
        assert_true(sizes[g] >= 2);
        assert_true(sizes[g] <= ES_GROUP_MAX);
    }
}

static void test_sixty_subs_few_busy(void **state)
{
    double rate[N];
    int can[N], group_of[N];
    size_t ng, sizes[N], alone = 0;
    double t;

    (void)state;
    for (int i = 0; i < N; i++) {
        rate[i] = i < 4 ? 30.0 : 0.02; /* 4 busy, 56 quiet */
        can[i] = 1;
    }
    t = es_poll_plan(rate, NULL, can, N, 100, 2, group_of, &ng);
    group_sizes(group_of, N, ng, sizes);
    for (int i = 0; i < N; i++) {
        alone += group_of[i] < 0;
        /* the busy ones alone, every quiet one in a group */
        assert_true((group_of[i] < 0) == (i < 4));
    }
    assert_int_equal(alone, 4);
    assert_int_equal(ng, 3); /* 56 quiet in groups of at most 25 */
    /* 7 units and 121 comments/s of pages, against 60 units when each
       subreddit is polled alone */
    assert_true(fabs(t - es_cycle_s(7, 4 * 30.0 + 56 * 0.02, 100, 2)) < 1e-9);
    assert_true(t < es_cycle_s(N, 4 * 30.0 + 56 * 0.02, 100, 2) / 5);
    /* each busy one gathers more than a page per cycle: alone */
    assert_true(30.0 * t > ES_PAGE_SIZE);
}

static void test_lively_subs_share_within_three_pages(void **state)
{
    double rate[N];
    int can[N], group_of[N];
    size_t ng, sizes[N], units;
    double t, gr[N], total = 0;
    int grouped = 0;

    (void)state;
    for (int i = 0; i < N; i++) {
        rate[i] = 0.5 + (i % 7) * 0.3; /* about 84 comments/s in all */
        can[i] = 1;
        total += rate[i];
    }
    t = es_poll_plan(rate, NULL, can, N, 100, 2, group_of, &ng);
    group_sizes(group_of, N, ng, sizes);
    memset(gr, 0, sizeof(gr));
    units = ng;
    for (int i = 0; i < N; i++) {
        if (group_of[i] >= 0) {
            gr[group_of[i]] += rate[i];
            grouped++;
        } else {
            units++;
        }
    }
    assert_int_equal(grouped, N);
    assert_true(fabs(t - es_cycle_s(units, total, 100, 2)) < 1e-9);
    /* alone, the pages would leave each subreddit a 72 s wait */
    assert_true(es_cycle_s(N, total, 100, 2) > 70);
    assert_true(t < 5);
    /* each group's comments of a cycle fit three pages */
    for (size_t g = 0; g < ng; g++) {
        assert_true(gr[g] * t <= 3 * ES_PAGE_SIZE + 1e-9);
    }
}

static void test_only_groupable_subs_share(void **state)
{
    double rate[4] = {0.01, 0.01, 0.01, 0.01};
    int can[4] = {1, 0, 1, 0}, group_of[4];
    size_t ng;

    (void)state;
    es_poll_plan(rate, NULL, can, 4, 100, 2, group_of, &ng);
    assert_int_equal(ng, 1);
    assert_int_equal(group_of[0], 0);
    assert_int_equal(group_of[1], -1);
    assert_int_equal(group_of[2], 0);
    assert_int_equal(group_of[3], -1);
    /* one groupable subreddit is no group */
    can[2] = 0;
    es_poll_plan(rate, NULL, can, 4, 100, 2, group_of, &ng);
    assert_int_equal(ng, 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(group_of[i], -1);
    }
}

static void test_busy_subs_stay_alone(void **state)
{
    double rate[3] = {500, 400, 300};
    int can[3] = {1, 1, 1}, group_of[3];
    size_t ng;
    double t;

    (void)state;
    t = es_poll_plan(rate, NULL, can, 3, 100, 2, group_of, &ng);
    assert_int_equal(ng, 0);
    /* 1,200 comments/s need 720 pages a minute: no cycle keeps up */
    assert_true(t == HUGE_VAL);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(group_of[i], -1);
    }
}

static void test_many_quiet_subs(void **state)
{
    static double rate[1000];
    static int can[1000], group_of[1000];
    size_t ng, sizes[1000];
    double t;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        rate[i] = 0.001;
        can[i] = 1;
    }
    t = es_poll_plan(rate, NULL, can, 1000, 100, 2, group_of, &ng);
    group_sizes(group_of, 1000, ng, sizes);
    assert_int_equal(ng, 40);
    assert_true(fabs(t - es_cycle_s(40, 1.0, 100, 2)) < 1e-9);
    assert_true(es_poll_plan(rate, NULL, can, 0, 100, 2, group_of, &ng) == 2);
    assert_int_equal(ng, 0);
}

static void test_a_backlog_is_read_alone(void **state)
{
    double rate[4] = {5, 5, 0.01, 0.01};
    double pending[4] = {0, 0, 0, 0};
    int can[4] = {1, 1, 1, 1}, group_of[4];
    size_t ng;

    (void)state;
    /* caught up: all four share */
    es_poll_plan(rate, pending, can, 4, 100, 2, group_of, &ng);
    assert_int_equal(ng, 1);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(group_of[i], 0);
    }
    /* two lively ones that waited 30 s (150 comments each) could not
       share one listing with the backlog of the other: alone until read */
    pending[0] = pending[1] = 150;
    es_poll_plan(rate, pending, can, 4, 100, 2, group_of, &ng);
    assert_int_equal(ng, 1);
    assert_int_equal(group_of[0], -1);
    assert_int_equal(group_of[1], -1);
    assert_int_equal(group_of[2], 0);
    assert_int_equal(group_of[3], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sixty_subs_few_busy),
        cmocka_unit_test(test_lively_subs_share_within_three_pages),
        cmocka_unit_test(test_only_groupable_subs_share),
        cmocka_unit_test(test_busy_subs_stay_alone),
        cmocka_unit_test(test_many_quiet_subs),
        cmocka_unit_test(test_a_backlog_is_read_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
