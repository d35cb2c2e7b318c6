/*
 * spike_test.c - unit tests for workers/alert/spike.c: the window and
 * baseline a rule reads, the metrics, the sigma floor, learning, and the
 * firing rule with its cool-down and hysteresis, driven minute by minute
 * over synthetic series with an injected clock.
 *
 * The series are chosen so that the expected firing minute can be worked
 * out by hand: every normal minute holds 50 comments of which 9 are
 * negative (a share of exactly 0.18, so the baseline's sigma is 0 and the
 * floor of 0.05 applies: threshold 0.18 + 3 * 0.05 = 0.33, re-arm level
 * 0.255), every spike minute 50 comments of which 30 are negative.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spike.h"

#define MIN_MS  60000LL
#define HOUR_MS 3600000LL
#define DAYS    9
#define NMIN    (DAYS * 1440)

/* minute 0 of the simulation: 2026-11-16T00:00:00Z */
#define T0_MIN (1794787200LL / 60)

typedef struct {
    es_bucket m[NMIN]; /* per minute since T0_MIN */
} sim;

static sim *sim_new(long long n, long long neg, long long cs)
{
    sim *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    for (int i = 0; i < NMIN; i++) {
        s->m[i].n = n;
        s->m[i].neg = neg;
        s->m[i].cs = cs;
    }
    return s;
}

static void sim_set(sim *s, int from, int to, long long n, long long neg,
                    long long cs)
{
    for (int i = from; i < to && i < NMIN; i++) {
        if (i >= 0) {
            s->m[i].n = n;
            s->m[i].neg = neg;
            s->m[i].cs = cs;
        }
    }
}

static long long at_minute(int i)
{
    /* a tick 30 s into minute i */
    return (T0_MIN + i) * MIN_MS + 30000;
}

static es_bucket minute_of(const sim *s, long long abs_min)
{
    es_bucket zero = {0, 0, 0};
    long long i = abs_min - T0_MIN;

    return i >= 0 && i < NMIN ? s->m[i] : zero;
}

/* Evaluates rule at now_ms over the simulation, as the worker reads it. */
static void eval_at(const sim *s, const es_spike_rule *rule, long long now_ms,
                    es_spike_eval *e)
{
    es_bucket win[ES_SPIKE_WINDOW_MAX];
    es_bucket hours[ES_SPIKE_BASELINE_HOURS];
    es_spike_span sp;

    es_spike_span_at(now_ms, rule->window_minutes, &sp);
    for (int i = 0; i < sp.nminutes; i++) {
        win[i] = minute_of(s, sp.first_minute + i);
    }
    for (int h = 0; h < sp.nhours; h++) {
        es_bucket sum = {0, 0, 0};
        for (int j = 0; j < 60; j++) {
            es_bucket b = minute_of(s, (sp.first_hour + h) * 60 + j);
            sum.n += b.n;
            sum.neg += b.neg;
            sum.cs += b.cs;
        }
        hours[h] = sum;
    }
    es_spike_evaluate(rule, win, (size_t)sp.nminutes, hours, (size_t)sp.nhours,
                      e);
}

/*
 * Runs one tick a minute over minutes [from, to) and records the minutes
 * the rule fired at in fired[] (count returned) and re-armed at in
 * rearmed[] (*nrearmed), applying the state changes as the worker does.
 */
static int run(const sim *s, const es_spike_rule *rule, long long cooldown_ms,
               int from, int to, int *fired, int *rearmed, int *nrearmed)
{
    es_spike_state st = {1, 0, 0};
    int nfired = 0;

    if (nrearmed) {
        *nrearmed = 0;
    }
    for (int i = from; i < to; i++) {
        es_spike_eval e;
        long long now = at_minute(i);

        eval_at(s, rule, now, &e);
        switch (es_spike_decide(&e, &st, now)) {
        case ES_SPIKE_FIRE:
            es_spike_fired(&st, now, cooldown_ms);
            fired[nfired++] = i;
            break;
        case ES_SPIKE_REARM:
            st.armed = 1;
            if (rearmed) {
                rearmed[(*nrearmed)++] = i;
            }
            break;
        case ES_SPIKE_STAY:
            break;
        }
    }
    return nfired;
}

static const es_spike_rule share60 = {ES_METRIC_NEGATIVE_SHARE, 60, 20, 3.0};

/* day 8, 00:00: the last day of the simulation is the one watched */
#define DAY8 (8 * 1440)

static void test_span_excludes_the_window_from_the_baseline(void **state)
{
    es_spike_span sp;
    /* 2026-11-24T14:35:20Z */
    long long now = 1795530920000LL;

    (void)state;
    es_spike_span_at(now, 60, &sp);
    assert_int_equal(sp.nminutes, 60);
    assert_int_equal(sp.first_minute, now / MIN_MS - 59);
    assert_int_equal(sp.from_ms, (now / MIN_MS - 59) * MIN_MS);
    assert_int_equal(sp.to_ms, now);
    assert_int_equal(sp.nhours, 168);
    /* the window starts 13:36: the baseline ends at 13:00 */
    assert_int_equal((sp.first_hour + sp.nhours) * HOUR_MS,
                     sp.from_ms / HOUR_MS * HOUR_MS);
    assert_true((sp.first_hour + sp.nhours) * HOUR_MS <= sp.from_ms);

    es_spike_span_at(now, 5, &sp);
    assert_int_equal(sp.first_minute, now / MIN_MS - 4);
    assert_int_equal((sp.first_hour + 168) * HOUR_MS, now / HOUR_MS * HOUR_MS);
}

static void test_metric_names_round_trip(void **state)
{
    es_metric m;

    (void)state;
    assert_int_equal(es_metric_parse("volume", &m), 0);
    assert_int_equal(m, ES_METRIC_VOLUME);
    assert_string_equal(es_metric_name(ES_METRIC_MEAN_COMPOUND),
                        "mean_compound");
    assert_int_equal(es_metric_parse("negative_share", &m), 0);
    assert_int_equal(m, ES_METRIC_NEGATIVE_SHARE);
    assert_int_equal(es_metric_parse("Volume", &m), -1);
    assert_int_equal(es_metric_parse("", &m), -1);
}

static void test_steady_topic_stays_silent(void **state)
{
    sim *s = sim_new(50, 9, 0);
    int fired[64];

    (void)state;
    /* some noise: every 7th minute a little more negative */
    for (int i = 0; i < NMIN; i += 7) {
        sim_set(s, i, i + 1, 50, 14, 0);
    }
    assert_int_equal(
        run(s, &share60, 60 * MIN_MS, DAY8, NMIN, fired, NULL, NULL), 0);
    free(s);
}

static void test_spike_fires_once_at_the_expected_minute(void **state)
{
    sim *s = sim_new(50, 9, 0);
    int fired[64], rearmed[64], nre;
    int start = DAY8 + 14 * 60, end = start + 180;
    es_spike_eval e;

    (void)state;
    sim_set(s, start, end, 50, 30, 0);
    assert_int_equal(
        run(s, &share60, 60 * MIN_MS, DAY8, NMIN, fired, rearmed, &nre), 1);
    /* (540 + 21 m) / 3000 >= 0.33 first with m = 22 spike minutes */
    assert_int_equal(fired[0], start + 21);
    /* re-armed once the window is back below the half band: by then the
       baseline holds two spike hours (mean 0.185, re-arm level 0.26),
       which the window's 11 spike minutes no longer reach */
    assert_int_equal(nre, 1);
    assert_int_equal(rearmed[0], end + 48);

    eval_at(s, &share60, at_minute(start + 21), &e);
    assert_int_equal(e.status, ES_SPIKE_BEYOND);
    assert_int_equal(e.volume, 3000);
    assert_true(fabs(e.observed - (540.0 + 21 * 22) / 3000) < 1e-12);
    assert_true(fabs(e.mean - 0.18) < 1e-12);
    assert_true(e.stddev < 1e-12);
    assert_true(fabs(e.sigma - 0.05) < 1e-12);
    assert_true(fabs(e.threshold - 0.33) < 1e-12);
    assert_true(fabs(e.rearm - 0.255) < 1e-12);
    assert_int_equal(e.hours, 168);

    /* one minute earlier it was not yet beyond */
    eval_at(s, &share60, at_minute(start + 20), &e);
    assert_int_equal(e.status, ES_SPIKE_NORMAL);
    free(s);
}

static void test_two_spikes_fire_twice_when_rearmed_between(void **state)
{
    sim *s = sim_new(50, 9, 0);
    int fired[64];
    int a = DAY8 + 2 * 60, b = DAY8 + 12 * 60;

    (void)state;
    sim_set(s, a, a + 60, 50, 30, 0);
    sim_set(s, b, b + 60, 50, 30, 0);
    assert_int_equal(
        run(s, &share60, 60 * MIN_MS, DAY8, NMIN, fired, NULL, NULL), 2);
    assert_int_equal(fired[0], a + 21);
    assert_int_equal(fired[1], b + 21);
    free(s);
}

static void test_cooldown_holds_a_rearmed_rule(void **state)
{
    sim *s = sim_new(50, 9, 0);
    int fired[64], rearmed[64], nre;
    int a = DAY8 + 60, b;

    (void)state;
    /* a short sharp spike: 25 minutes of only negative comments;
       (540 + 41 m) / 3000 >= 0.33 first with m = 11 */
    sim_set(s, a, a + 25, 50, 50, 0);
    b = a + 10 + 90; /* the next spike starts within a 3-hour cool-down */
    sim_set(s, b, b + 120, 50, 50, 0);
    assert_int_equal(
        run(s, &share60, 180 * MIN_MS, DAY8, NMIN, fired, rearmed, &nre), 2);
    assert_int_equal(fired[0], a + 10);
    /* re-armed (window down to 5 spike minutes) before the second spike */
    assert_true(nre >= 1);
    assert_int_equal(rearmed[0], a + 79);
    assert_true(rearmed[0] < b);
    /* ... but quiet until the cool-down ended, then at once */
    assert_int_equal(fired[1], a + 10 + 180);
    free(s);
}

static void test_hysteresis_needs_the_half_band(void **state)
{
    sim *s = sim_new(50, 9, 0);
    int fired[64], rearmed[64], nre;
    int a = DAY8 + 60, c;

    (void)state;
    sim_set(s, a, a + 60, 50, 30, 0);
    /* then 4 hours hovering at 0.28: below the threshold 0.33, above the
       re-arm level 0.255 */
    sim_set(s, a + 60, a + 300, 50, 14, 0);
    /* back to normal for an hour, then a new spike */
    c = a + 360;
    sim_set(s, c, c + 60, 50, 30, 0);
    assert_int_equal(
        run(s, &share60, 30 * MIN_MS, DAY8, DAY8 + 1000, fired, rearmed, &nre),
        2);
    assert_int_equal(fired[0], a + 21);
    /* once after each spike: the window sinks below the re-arm level
       only in the normal hour, never while it hovers */
    assert_int_equal(nre, 2);
    assert_true(rearmed[0] > a + 300 && rearmed[0] < c);
    assert_true(rearmed[1] > c + 60);
    /* the baseline now holds the spike hour and four hours at 0.28
       (mean 0.1849, threshold 0.3349): 23 spike minutes are needed */
    assert_int_equal(fired[1], c + 22);
    free(s);
}

static void test_hovering_without_rearm_never_fires_again(void **state)
{
    sim *s = sim_new(50, 9, 0);
    int fired[64];
    int a = DAY8 + 60;

    (void)state;
    /* after the spike, 0.34: beyond the threshold forever */
    sim_set(s, a, a + 60, 50, 30, 0);
    sim_set(s, a + 60, NMIN, 50, 17, 0);
    assert_int_equal(
        run(s, &share60, 10 * MIN_MS, DAY8, NMIN, fired, NULL, NULL), 1);
    free(s);
}

static void test_nothing_below_min_volume(void **state)
{
    sim *s = sim_new(1, 0, 0);
    es_spike_rule r = share60;
    int fired[64];
    int a = DAY8 + 60;
    es_spike_eval e;

    (void)state;
    /* baseline: one comment a minute, a fifth of them negative */
    for (int i = 0; i < NMIN; i += 5) {
        sim_set(s, i, i + 1, 1, 1, 0);
    }
    /* an hour of only negative comments, 1 a minute: 60 in the window */
    sim_set(s, a, a + 120, 1, 1, 0);
    r.min_volume = 61;
    assert_int_equal(run(s, &r, 60 * MIN_MS, DAY8, NMIN, fired, NULL, NULL), 0);
    eval_at(s, &r, at_minute(a + 90), &e);
    assert_int_equal(e.status, ES_SPIKE_UNJUDGED);
    assert_int_equal(e.volume, 60);
    assert_true(e.observed > e.threshold);

    r.min_volume = 60;
    assert_int_equal(run(s, &r, 60 * MIN_MS, DAY8, NMIN, fired, NULL, NULL), 1);
    free(s);
}

static void test_learning_with_short_history(void **state)
{
    sim *s = sim_new(0, 0, 0);
    int fired[64];
    int spike = DAY8 + 600;
    es_spike_eval e;

    (void)state;
    /* data from 10:10 the day before: 23 baseline hours (10:00 to 09:00)
       at every tick up to spike + 40 */
    sim_set(s, spike - 24 * 60 + 10, spike, 50, 9, 0);
    sim_set(s, spike, spike + 60, 50, 30, 0);
    assert_int_equal(
        run(s, &share60, 60 * MIN_MS, DAY8, spike + 40, fired, NULL, NULL), 0);
    eval_at(s, &share60, at_minute(spike + 21), &e);
    assert_int_equal(e.status, ES_SPIKE_LEARNING);
    assert_true(e.hours < 24);
    free(s);

    /* with 30 hours (more than a day, less than a week) it fires */
    s = sim_new(0, 0, 0);
    sim_set(s, spike - 30 * 60, spike, 50, 9, 0);
    sim_set(s, spike, spike + 60, 50, 30, 0);
    assert_int_equal(
        run(s, &share60, 60 * MIN_MS, DAY8, spike + 60, fired, NULL, NULL), 1);
    assert_int_equal(fired[0], spike + 21);
    eval_at(s, &share60, at_minute(spike + 21), &e);
    assert_true(e.hours >= 24 && e.hours < 168);
    free(s);
}

static void test_volume_counts_zero_hours_from_the_first_data(void **state)
{
    es_bucket hours[168];
    es_bucket win[60];
    es_spike_rule r = {ES_METRIC_VOLUME, 60, 20, 3.0};
    es_spike_eval e;

    (void)state;
    memset(hours, 0, sizeof(hours));
    memset(win, 0, sizeof(win));
    /* data only from hour 140 on, every other hour 100 comments */
    for (int h = 140; h < 168; h += 2) {
        hours[h].n = 100;
    }
    es_spike_evaluate(&r, win, 60, hours, 168, &e);
    assert_int_equal(e.hours, 28);
    assert_true(fabs(e.mean - 50.0) < 1e-12);
    assert_true(fabs(e.stddev - 50.0) < 1e-12);
    /* volume 0 is a measurement: judged, and back in the band */
    assert_int_equal(e.status, ES_SPIKE_NORMAL);
    assert_int_equal(e.back, 1);

    /* 23 hours from the first data: learning */
    memset(hours, 0, sizeof(hours));
    for (int h = 145; h < 168; h++) {
        hours[h].n = 10;
    }
    es_spike_evaluate(&r, win, 60, hours, 168, &e);
    assert_int_equal(e.status, ES_SPIKE_LEARNING);
    assert_int_equal(e.hours, 23);
}

static void test_volume_spike_and_its_sigma_floor(void **state)
{
    sim *s = sim_new(2, 0, 0); /* 120 comments an hour, steady */
    es_spike_rule r = {ES_METRIC_VOLUME, 30, 20, 3.0};
    int fired[64];
    int a = DAY8 + 300;
    es_spike_eval e;

    (void)state;
    /* sigma 0 -> floor sqrt(120): threshold 120 + 3 * 10.954 = 152.86/h,
       i.e. 76.43 comments in 30 minutes; 6 a minute from a: fires when
       2 (30 - m) + 6 m >= 76.43, m = 5 */
    sim_set(s, a, a + 60, 6, 0, 0);
    assert_int_equal(run(s, &r, 60 * MIN_MS, DAY8, NMIN, fired, NULL, NULL), 1);
    assert_int_equal(fired[0], a + 4);
    eval_at(s, &r, at_minute(a + 4), &e);
    assert_true(fabs(e.sigma - sqrt(120.0)) < 1e-9);
    assert_true(fabs(e.observed - (2.0 * 25 + 6 * 5) * 2) < 1e-9);
    assert_int_equal(e.volume, 80);
    free(s);

    /* a quiet topic: mean under 1 an hour, the floor is 1 */
    {
        es_bucket hours[168], win[60];
        memset(hours, 0, sizeof(hours));
        memset(win, 0, sizeof(win));
        for (int h = 0; h < 168; h += 4) {
            hours[h].n = 1;
        }
        es_spike_evaluate(&r, win, 30, hours, 168, &e);
        assert_true(fabs(e.mean - 0.25) < 1e-12);
        assert_true(e.stddev < 1.0);
        assert_true(fabs(e.sigma - 1.0) < 1e-12);
    }
}

static void test_mean_compound_fires_downwards(void **state)
{
    /* compound 0.2 per comment (cs 2000), then -0.5 */
    sim *s = sim_new(10, 0, 10 * 2000);
    es_spike_rule r = {ES_METRIC_MEAN_COMPOUND, 60, 20, 3.0};
    int fired[64];
    int a = DAY8 + 200;
    es_spike_eval e;

    (void)state;
    sim_set(s, a, a + 90, 10, 10, 10 * -5000);
    /* threshold 0.2 - 0.15 = 0.05: (0.2 (60 - m) - 0.5 m) / 60 <= 0.05,
       m >= 12.86 -> m = 13 */
    assert_int_equal(run(s, &r, 60 * MIN_MS, DAY8, NMIN, fired, NULL, NULL), 1);
    assert_int_equal(fired[0], a + 12);
    eval_at(s, &r, at_minute(a + 12), &e);
    assert_true(fabs(e.threshold - 0.05) < 1e-12);
    assert_true(fabs(e.rearm - 0.125) < 1e-12);
    assert_true(e.observed <= e.threshold);

    /* a rise of sentiment never fires a mean_compound rule */
    free(s);
    s = sim_new(10, 0, 10 * 2000);
    sim_set(s, a, a + 90, 10, 0, 10 * 9000);
    assert_int_equal(run(s, &r, 60 * MIN_MS, DAY8, NMIN, fired, NULL, NULL), 0);
    free(s);
}

static void test_share_sigma_above_floor_is_kept(void **state)
{
    es_bucket hours[168], win[60];
    es_spike_eval e;

    (void)state;
    memset(win, 0, sizeof(win));
    /* shares alternating 0.1 and 0.5: mean 0.3, sigma 0.2 */
    for (int h = 0; h < 168; h++) {
        hours[h].n = 100;
        hours[h].neg = h % 2 ? 50 : 10;
        hours[h].cs = 0;
    }
    /* an hour with no comments is skipped, not a share of 0 */
    hours[3].n = 0;
    hours[3].neg = 0;
    hours[4].n = 0;
    hours[4].neg = 0;
    es_spike_evaluate(&share60, win, 60, hours, 168, &e);
    assert_int_equal(e.hours, 166);
    assert_true(fabs(e.mean - 0.3) < 1e-12);
    assert_true(fabs(e.stddev - 0.2) < 1e-12);
    assert_true(fabs(e.sigma - 0.2) < 1e-12);
    assert_true(fabs(e.threshold - 0.9) < 1e-12);
    /* an empty window has no share: not judged, not back */
    assert_int_equal(e.status, ES_SPIKE_UNJUDGED);
    assert_int_equal(e.defined, 0);
    assert_int_equal(e.back, 0);
}

static void test_decide_follows_the_state(void **state)
{
    es_spike_eval e;
    es_spike_state st = {1, 0, 0};

    (void)state;
    memset(&e, 0, sizeof(e));
    e.status = ES_SPIKE_BEYOND;
    assert_int_equal(es_spike_decide(&e, &st, 1000), ES_SPIKE_FIRE);
    es_spike_fired(&st, 1000, 5000);
    assert_int_equal(st.armed, 0);
    assert_int_equal(st.quiet_until_ms, 6000);
    assert_int_equal(st.fired_ms, 1000);
    assert_int_equal(es_spike_decide(&e, &st, 7000), ES_SPIKE_STAY);
    e.status = ES_SPIKE_NORMAL;
    e.back = 1;
    assert_int_equal(es_spike_decide(&e, &st, 2000), ES_SPIKE_REARM);
    st.armed = 1;
    e.status = ES_SPIKE_BEYOND;
    e.back = 0;
    assert_int_equal(es_spike_decide(&e, &st, 5999), ES_SPIKE_STAY);
    assert_int_equal(es_spike_decide(&e, &st, 6000), ES_SPIKE_FIRE);
    e.status = ES_SPIKE_LEARNING;
    assert_int_equal(es_spike_decide(&e, &st, 9000), ES_SPIKE_STAY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_span_excludes_the_window_from_the_baseline),
        cmocka_unit_test(test_metric_names_round_trip),
        cmocka_unit_test(test_steady_topic_stays_silent),
        cmocka_unit_test(test_spike_fires_once_at_the_expected_minute),
        cmocka_unit_test(test_two_spikes_fire_twice_when_rearmed_between),
        cmocka_unit_test(test_cooldown_holds_a_rearmed_rule),
        cmocka_unit_test(test_hysteresis_needs_the_half_band),
        cmocka_unit_test(test_hovering_without_rearm_never_fires_again),
        cmocka_unit_test(test_nothing_below_min_volume),
        cmocka_unit_test(test_learning_with_short_history),
        cmocka_unit_test(test_volume_counts_zero_hours_from_the_first_data),
        cmocka_unit_test(test_volume_spike_and_its_sigma_floor),
        cmocka_unit_test(test_mean_compound_fires_downwards),
        cmocka_unit_test(test_share_sigma_above_floor_is_kept),
        cmocka_unit_test(test_decide_follows_the_state),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
